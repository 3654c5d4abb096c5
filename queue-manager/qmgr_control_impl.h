/*
 * qmgr_control_impl.h - what the two halves of the control socket share
 * (private to queue-manager/): the connection with its answer buffer,
 * the verbs, a selection, and the stepped tasks.
 *
 * qmgr_control.c owns the socket: connections, requests, authorization,
 * the short verbs (status, reload) and the writing of answers;
 * qmgr_ctl_route.c answers route.
 * qmgr_ctl_steps.c has the verbs that walk the queue (the listings,
 * stats, the changing verbs). Those run as a TASK: a step function the
 * writer calls each time the client has taken most of the answer so
 * far, each step one short transaction over a bounded number of
 * messages, so that a million-message queue neither blocks the event
 * loop nor fills memory. A step returns 1 while there is more, 0 when it
 * has written the last frame (ctl_finish).
 */
#ifndef POSTERN_QMGR_CONTROL_IMPL_H
#define POSTERN_QMGR_CONTROL_IMPL_H

#include <stdint.h>
#include <sys/types.h>

#include "attr.h"
#include "ipc.h"
#include "qview.h"
#include "strbuf.h"

#define CONN_MAX 16

struct qmgr;
struct control;
struct cconn;

enum verb { V_STATUS, V_RELOAD, V_HOLD, V_RELEASE, V_DELETE, V_RETRY,
    V_BOUNCE, V_STATS, V_ROUTE, V_QUEUE, V_MAILQ, V_SHOW, V_NVERBS };
extern const char *const ctl_verbs[V_NVERBS];

typedef int (*ctl_step_fn)(struct control *ctl, struct cconn *c);

struct cconn {
	int fd;
	uid_t uid;
	gid_t gid;
	struct ipc_reader rd;
	int64_t deadline;		/* monotonic */
	struct strbuf out;		/* answer frames not yet written */
	size_t sent;
	int answered;			/* reading is over: answering */
	char login[64];			/* an ordinary caller's user name */
	ctl_step_fn step;		/* a task still producing the answer */
	void *task;			/* its state, freed with free() ... */
	void (*release)(void *task);	/* ... after this, if set */
	uint64_t *ids;			/* the ids it works on */
};

struct control {
	struct qmgr *q;
	int lfd;
	struct cconn *c[CONN_MAX];
	size_t n;
	int64_t started;		/* wall clock */
};

/* A selection of messages for a verb. */
struct sel {
	struct qsel q;
	uint64_t *ids;			/* q.ids when there are any (owned) */
	int all;
	int dry_run;
};

/* qmgr_control.c */
/* ctl_frame - one answer frame onto the connection's buffer */
void ctl_frame(struct cconn *c, const struct strbuf *payload);
/* ctl_say - output in frames of name ("out" text, "data" bytes); empties
   text */
void ctl_say(struct cconn *c, const char *name, struct strbuf *text);
/* ctl_finish - the last frame: status and maybe an error */
void ctl_finish(struct cconn *c, int status, const char *error);
/* ctl_finish_with - the same, with more attributes (encoded in extra) */
void ctl_finish_with(struct cconn *c, int status, const char *error,
    const struct strbuf *extra);
/* ctl_task - the answer is produced by step over task (taken: released
   and freed with the connection), starting now */
void ctl_task(struct control *ctl, struct cconn *c, ctl_step_fn step,
    void *task, void (*release)(void *task));

/* qmgr_ctl_route.c: how an address would be delivered now */
void ctl_route(struct control *ctl, struct cconn *c, const char *addr,
    int json);

/* qmgr_ctl_steps.c: each starts its task, or answers at once */
void ctl_view(struct control *ctl, struct cconn *c, enum verb verb,
    const struct attr_list *al, struct sel *s);
void ctl_stats(struct control *ctl, struct cconn *c, int json);
void ctl_bulk(struct control *ctl, struct cconn *c, enum verb verb,
    struct sel *s, int json);

#endif
