/*
 * posternctl.h - the parts of posternctl, the administration tool.
 *
 * This version reads the queue directly, in short read-only transactions
 * (copy out, end the transaction, then print). Root first becomes
 * mail_owner, so that it never leaves a root-owned LMDB lock file behind.
 * The admin issue moves the verbs behind the queue manager's control
 * socket, where ordinary users may see their own messages.
 */
#ifndef POSTERN_POSTERNCTL_H
#define POSTERN_POSTERNCTL_H

struct config;
struct queue;

struct ctl {
	struct config *cfg;
	struct queue *queue;
	int json;
	int content;
	int transcript;		/* show --transcript */
};

/* posternctl_queue.c */
#include <stdint.h>
struct strbuf;
struct queue_txn;
struct queue_msg;
/* A renderer writes one message and its recipients into out. */
typedef int (*ctl_render_fn)(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, void *ctx);
/* ctl_walk - every message, in batches of short read transactions */
int ctl_walk(struct ctl *c, ctl_render_fn fn, void *ctx, uint64_t *count_r);
int ctl_json_msg(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, void *ctx);
void ctl_local_time(int64_t us, char buf[64]);
void ctl_emit(struct strbuf *out);
int ctl_queue(struct ctl *c);

/* posternctl_control.c: verbs through the control socket */
int ctl_control(struct ctl *c, const char *verb, int argc, char **argv);

/* posternctl_config.c: the configuration, or --check of every file */
int ctl_config(struct ctl *c, int check);

/* posternctl_show.c */
int ctl_show(struct ctl *c, const char *id);
int ctl_mailq(struct ctl *c);

#endif
