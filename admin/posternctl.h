/*
 * posternctl.h - the parts of posternctl, the administration tool.
 *
 * Every verb but config goes to the queue manager's control socket
 * (posternctl_control.c), which decides who may do what. When the queue
 * manager is not running, the read-only verbs (queue, mailq, show, stats)
 * fall back to reading the queue directly (posternctl_queue.c), for root and
 * the queue's owner, and say so on standard error. Both render through
 * the same views (qview.h), so the output is the same either way.
 */
#ifndef POSTERN_POSTERNCTL_H
#define POSTERN_POSTERNCTL_H

#include <stdint.h>

struct config;

/* The command line after the verb. */
struct ctl_args {
	const char *verb;
	char **ids;		/* the operands (queue ids), in argv */
	int nids;
	int all, dry_run, json, count, transcript, content;
	const char *sender, *recipient, *domain, *state, *error;
	const char *address;	/* route */
	int64_t older_than;	/* seconds, or -1 */
};

struct ctl {
	struct config *cfg;
	struct ctl_args a;
};

/* posternctl_main.c: usage, and the arguments of a verb */
void ctl_usage(void) __attribute__((noreturn));

/* posternctl_control.c: a verb through the control socket; falls back
   to ctl_direct for the read-only verbs when nothing listens */
int ctl_control(struct ctl *c);
/* ctl_request - the control request for the command line (appended) */
struct strbuf;
void ctl_request(const struct ctl_args *a, struct strbuf *req);

/* posternctl_route.c: the DNS half of route, as the queue manager named
   it (lookup, and whether its MX records count), appended to out as
   text or as a JSON object */
struct strbuf;
void ctl_route_dns(const struct config *cfg, const char *lookup, int mx,
    int json, struct strbuf *out);

/* posternctl_queue.c: queue, mailq and show read from the queue itself */
int ctl_direct(struct ctl *c);

/* posternctl_config.c: the configuration, or --check of every file */
int ctl_config(struct ctl *c, int check);

#endif
