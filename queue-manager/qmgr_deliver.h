/*
 * qmgr_deliver.h - what the scheduler, the resolver, the local jobs and
 * the result recorder of postern-qmgr share. Private to queue-manager/.
 *
 * A recipient that is due is resolved to a route; local routes become
 * jobs for postern-local (one job per message and target user); the
 * others (expansion, immediate failure or deferral) become results at
 * once. Results are recorded in one write transaction per batch.
 */
#ifndef POSTERN_QMGR_DELIVER_H
#define POSTERN_QMGR_DELIVER_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "address.h"
#include "bounce_proto.h"
#include "local_proto.h"
#include "remote_proto.h"
#include "queue.h"
#include "strbuf.h"

struct qmgr;
struct pollfd;
struct config;

/* Where a recipient goes. */
enum route_kind {
	ROUTE_LOCAL,		/* a postern-local job */
	ROUTE_REMOTE,		/* a postern-remote job */
	ROUTE_EXPAND,		/* alias: replaced by children */
	ROUTE_DEFER,		/* not now: status and text say why */
	ROUTE_FAIL,		/* never: status and text say why */
};

#define ROUTE_TEXT_MAX 512
#define ROUTE_CHILDREN_MAX 1000
#define ROUTE_DEPTH_MAX 20

struct route {
	enum route_kind kind;
	/* ROUTE_LOCAL: who runs the job and what it does */
	uid_t uid;
	gid_t gid;
	char user[64];
	char home[PATH_MAX];
	char action[8];			/* local_proto.h actions */
	char target[LOCAL_TARGET_MAX + 1];
	char ext[LOCAL_EXT_MAX + 1];
	int noforward;
	char addr[ADDRESS_BUF];		/* becomes Delivered-To */
	/* ROUTE_REMOTE: where, and with which TLS level (addr above) */
	char domain[256];
	char nexthop[304];
	char tls[12];
	char dest[REMOTE_DEST_MAX + 1];
	/* ROUTE_EXPAND: NUL-separated child addresses */
	struct strbuf children;
	size_t nchildren;
	/* ROUTE_DEFER, ROUTE_FAIL */
	char status[QUEUE_STATUS_MAX];
	char text[ROUTE_TEXT_MAX];
};

/* qmgr_resolve.c */
struct resolver;
struct resolver *resolver_new(struct qmgr *q);
void resolver_free(struct resolver **r);
/* resolver_reload - reopen maps that changed on disk (cheap when none) */
void resolver_reload(struct resolver *r);
/* resolve - route one recipient; rt->children must be initialised */
void resolve(struct resolver *r, struct queue_txn *t,
    const struct queue_rcpt *rc, struct route *rt);
void route_init(struct route *rt);
/* route_set - a deferral or failure with its status and text */
void route_set(struct route *rt, enum route_kind kind, const char *status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void route_release(struct route *rt);

/* A result to record: what happened to one recipient. */
enum result_kind { RES_OK, RES_DEFER, RES_FAIL, RES_EXPAND };
struct result {
	uint64_t id;
	uint32_t idx;
	enum result_kind kind;
	char status[QUEUE_STATUS_MAX];
	char text[QUEUE_DIAG_MAX + 1];	/* whatever the queue can keep */
	char relay[QUEUE_RELAY_MAX + 1];
	char tls[128];			/* remote: "VERSION CIPHER" or "" */
	unsigned conn_use;		/* remote: transactions on the connection */
	struct xscript_ref *xs;		/* remote: the shared transcript */
	int attempted;			/* a delivery was tried (counts) */
	int64_t dispatched, connected;	/* wall clock µs, for delays= */
	struct strbuf children;		/* RES_EXPAND: NUL-separated */
	size_t nchildren;
};

/* A transcript shared by every result of one remote job. */
struct xscript_ref {
	unsigned refs;
	size_t len;
	char data[];
};
struct xscript_ref *xscript_new(const char *p, size_t len);
void xscript_put(struct xscript_ref **x);

/* qmgr_result.c */
void result_init(struct result *res, uint64_t id, uint32_t idx);
void result_release(struct result *res);
/* results_record - apply n results in one transaction, log one line per
   attempt, remove messages whose recipients are all final; a failed
   commit loses nothing but the results (the recipients stay due). */
void results_record(struct qmgr *q, struct result *v, size_t n);

/* stats_window - attempts sent, bounced and deferred in the last minutes
   (at most 60) */
void stats_window(int64_t now, int minutes, unsigned out[3]);

/* rcpt_shown - the address to name for r: an alias's "|command" or
   "/file" target is named as the alias (parent holds it) */
const char *rcpt_shown(struct queue_txn *t, const struct queue_rcpt *r,
    struct queue_rcpt *parent);
/* result_status_ok - a worker's result ("ok" or "forward", "defer",
   "fail") and its enhanced status code agree (class 2, 4, 5) */
int result_status_ok(const char *status, const char *result);

/* rcpt_original - the address the sender used for r (its own original,
   or its topmost ancestor's); NULL when that is r's own address */
const char *rcpt_original(struct queue_txn *t, const struct queue_rcpt *r,
    char buf[ADDRESS_BUF]);

/* message_done - nothing left to do for message id: every recipient
   final and none owed a notice (it may be removed) */
int message_done(struct queue_txn *t, uint64_t id);

/* A batch of results gathered from every job that finished in one turn
   of the event loop, recorded in one transaction (group commit). */
struct batch {
	struct result *v;
	size_t n, cap;
};
/* batch_add - a new result in the batch (NULL when out of memory) */
struct result *batch_add(struct batch *b, uint64_t id, uint32_t idx);
/* batch_defer - n recipients of message id deferred with status, why
   (relay "" is shown as local) */
void batch_defer(struct batch *b, uint64_t id, const uint32_t *idx,
    size_t n, int64_t dispatched, int64_t connected, const char *relay,
    const char *status, const char *why);
/* batch_flush - record everything in the batch and empty it */
void batch_flush(struct qmgr *q, struct batch *b);

/* qmgr_local.c: postern-local jobs */
struct job;
/* job_start - spawn a worker and send it the job; NULL when that failed
   (the results are then deferrals, already recorded) */
struct job *job_start(struct qmgr *q, uint64_t id, const uint32_t *idx,
    const struct route *routes, size_t n, struct batch *b);
int job_fd(const struct job *j);
/* job_read - the worker's socket is readable: 1 when the job is over
   (its results recorded), 0 to keep waiting */
int job_read(struct qmgr *q, struct job *j, struct batch *b);
/* job_begin - begin a job record for message id: a read transaction in
   *t_r (NULL when none could begin), "v" and "id" put, the message in
   *m; the queue status of reading it */
int job_begin(struct qmgr *q, uint64_t id, const char *version,
    struct queue_txn **t_r, struct queue_msg *m, struct strbuf *out);
/* job_put_dsn - the message's flags (8bit, smtputf8), DSN RET and ENVID
   as remote and notice jobs carry them */
void job_put_dsn(struct strbuf *out, const struct queue_msg *m);
/* job_content - end the read transaction *t a job record was built in
   (st: how the building went), with message id's content as a new
   sealed memfd in *memfd_r; 0, or -1 (nothing to close) */
int job_content(struct queue_txn **t, uint64_t id, int st,
    const struct strbuf *rec, int *memfd_r);
/* job_expired - over its time limit (monotonic now): defer it */
int job_expired(const struct job *j, int64_t now);
void job_abort(struct job *j, const char *why, struct batch *b);
void job_free(struct job **j);
/* job_covers - the job carries recipient (id, idx) */
int job_covers(const struct job *j, uint64_t id, uint32_t idx);
/* job_message - the id of the message the job carries */
uint64_t job_message(const struct job *j);

/* qmgr_route.c: remote destinations (routes_file, relayhost,
   tls_policy_file) */
struct routes;
struct routes *routes_new(struct qmgr *q);
void routes_free(struct routes **r);
/* routes_reload - reread the files that changed */
void routes_reload(struct routes *r);
/* route_remote - rt becomes ROUTE_REMOTE for domain (or a deferral) */
void route_remote(struct routes *r, const char *addr, const char *domain,
    struct route *rt);

/* sched_route - the route of addr now (qmgr_sched.c) */
struct sched;
void sched_route(struct sched *s, const char *addr, struct route *rt);

/* qmgr_notice.c: delivery status notices (bounce_proto.h) */
enum notice_kind { NOTICE_FAILURE, NOTICE_DELAY, NOTICE_SUCCESS };
/* notice_owed - a final recipient (failed, delivered) is owed a notice */
int notice_owed(const struct queue_msg *m, const struct queue_rcpt *r);
/* notice_warn_time - when a delay warning is due for a waiting recipient
   (µs), or 0 when none is owed */
int64_t notice_warn_time(const struct config *cfg, const struct queue_msg *m,
    const struct queue_rcpt *r);
/* notice_from_daemon - sender is a notice's own (<>, MAILER-DAEMON@) */
int notice_from_daemon(const char *sender);
/* notice_to - who gets a notice about a message from sender: the
   sender, or the postmaster for a notice's own failure */
void notice_to(const struct config *cfg, const char *sender, char *buf,
    size_t len);
extern const char *const notice_kind_names[];
/* A notice job: one message, one kind, its recipients. */
struct njob {
	uint64_t id;
	enum notice_kind kind;
	uint32_t idx[BOUNCE_RCPT_MAX];
	size_t n;
};
/* notice_build - the job record and a sealed memfd of the original; 0,
   or -1 when the queue could not be read */
int notice_build(struct qmgr *q, const struct njob *j, struct strbuf *out,
    int *memfd_r);
struct bpool;
/* A notice that could not be made is tried again this much later. */
#define NOTICE_RETRY (5 * 60 * 1000000LL)
struct bpool *bpool_new(struct qmgr *q);
void bpool_free(struct bpool **p);
/* bpool_add - queue a notice job (a copy of j) */
void bpool_add(struct bpool *p, const struct njob *j);
/* bpool_covers - a waiting or running notice job reports (id, idx) */
int bpool_covers(const struct bpool *p, uint64_t id, uint32_t idx);
size_t bpool_busy(const struct bpool *p);
/* bpool_fd - the worker's socket to poll, or -1 */
int bpool_fd(const struct bpool *p);
/* bpool_ready - the socket is readable; 1 when something changed */
int bpool_ready(struct bpool *p);
void bpool_expire(struct bpool *p, int64_t now);

/* qmgr_remote.c: the pool of postern-remote workers */
struct rpool;
struct rpool *rpool_new(struct qmgr *q);
void rpool_free(struct rpool **p);
/* rpool_busy - jobs in flight; with dest, to that destination only */
size_t rpool_busy(const struct rpool *p, const char *dest);
/* rpool_workers - worker processes running (busy or idle) */
size_t rpool_workers(const struct rpool *p);
int rpool_covers(const struct rpool *p, uint64_t id, uint32_t idx);
/* rpool_messages - the ids of the messages its jobs carry (at most max,
   maybe repeated); how many */
size_t rpool_messages(const struct rpool *p, uint64_t *v, size_t max);
/* rpool_start - hand a job to a worker (preferring one whose open
   session goes to the destination), starting one when needed; on
   failure the recipients are deferred into b */
void rpool_start(struct rpool *p, uint64_t id, const uint32_t *idx,
    const struct route *routes, size_t n, struct batch *b);
/* rpool_pollfds - every worker's socket; how many */
size_t rpool_pollfds(const struct rpool *p, struct pollfd *pfd, size_t max);
/* rpool_ready - a worker's socket is readable */
void rpool_ready(struct rpool *p, int fd, struct batch *b);
/* rpool_expire - jobs past their time limit are deferred */
void rpool_expire(struct rpool *p, int64_t now, struct batch *b);
/* rpool_retire - close idle workers (after a reload) */
void rpool_retire(struct rpool *p);

#endif
