/*
 * qmgr_remote - the pool of postern-remote workers (remote_proto.h).
 *
 * Workers are long-lived: each takes one job at a time, answers with one
 * result, and may keep its last SMTP session open for the next job to
 * the same destination. The pool starts workers through the spawner as
 * remote_user (chrooted into remote_chroot when the queue manager was
 * started as root), at most remote_concurrency of them; the scheduler
 * keeps at most destination_concurrency jobs per destination. A job goes
 * to an idle worker whose open session has its destination, else to an
 * idle worker without one, else to a new worker, else to any idle one
 * (which closes its session first).
 *
 * Everything a worker says is untrusted: the result is decoded against
 * the schema, each index must belong to the job and appear once, and
 * statuses must be well formed and of the result's class. Anything else,
 * a worker that dies, or one that passes the job's time limit defers the
 * whole job (4.3.0) and ends that worker (its socket is closed; a worker
 * whose queue manager is gone exits). The transcript is kept once per
 * job and shared by its results.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "die.h"
#include "ipc.h"
#include "log.h"
#include "memfd.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "queue.h"
#include "remote_proto.h"
#include "timeutil.h"

#define POOL_MAX 256

struct rworker {
	int fd;
	pid_t pid;
	struct ipc_reader rd;
	int busy;			/* a job in flight */
	int session;			/* idle with an open session */
	char dest[REMOTE_DEST_MAX + 1];	/* the job's, or the session's */
	uint64_t id;			/* the job */
	uint32_t *idx;
	size_t n;
	int64_t started, limit;		/* monotonic µs */
	int64_t dispatched;		/* wall clock µs */
};

struct rpool {
	struct qmgr *q;
	struct rworker *w[POOL_MAX];
	size_t n;
};

struct xscript_ref *xscript_new(const char *p, size_t len)
{
	struct xscript_ref *x = malloc(sizeof(*x) + len + 1);

	if (x == NULL)
		return NULL;
	x->refs = 1;
	x->len = len;
	memcpy(x->data, p, len);
	x->data[len] = '\0';
	return x;
}

void xscript_put(struct xscript_ref **xp)
{
	if (*xp != NULL && --(*xp)->refs == 0)
		free(*xp);
	*xp = NULL;
}

struct rpool *rpool_new(struct qmgr *q)
{
	struct rpool *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->q = q;
	return p;
}

/* worker_free - close and forget */
static void worker_free(struct rworker **wp)
{
	struct rworker *w = *wp;

	if (w == NULL)
		return;
	ipc_reader_release(&w->rd);
	if (w->fd >= 0)
		close(w->fd);
	free(w->idx);
	free(w);
	*wp = NULL;
}

/* drop - remove worker i from the pool */
static void drop(struct rpool *p, size_t i)
{
	worker_free(&p->w[i]);
	p->w[i] = p->w[--p->n];
	p->w[p->n] = NULL;
}

void rpool_free(struct rpool **pp)
{
	struct rpool *p = *pp;

	if (p == NULL)
		return;
	while (p->n > 0)
		drop(p, p->n - 1);
	free(p);
	*pp = NULL;
}

size_t rpool_busy(const struct rpool *p, const char *dest)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->w[i]->busy && (dest == NULL ||
		    strcmp(p->w[i]->dest, dest) == 0);
	return n;
}

int rpool_covers(const struct rpool *p, uint64_t id, uint32_t idx)
{
	size_t i, k;

	for (i = 0; i < p->n; i++)
		if (p->w[i]->busy && p->w[i]->id == id)
			for (k = 0; k < p->w[i]->n; k++)
				if (p->w[i]->idx[k] == idx)
					return 1;
	return 0;
}

size_t rpool_workers(const struct rpool *p)
{
	return p->n;
}

size_t rpool_messages(const struct rpool *p, uint64_t *v, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->n && n < max; i++)
		if (p->w[i]->busy)
			v[n++] = p->w[i]->id;
	return n;
}

/* defer_job - every recipient of w's job is deferred */
static void defer_job(const struct rworker *w, const char *status,
    const char *why, struct batch *b)
{
	batch_defer(b, w->id, w->idx, w->n, w->dispatched, w->dispatched,
	    "none", status, why);
}

/* spawn - a new worker, or NULL */
static struct rworker *spawn(struct rpool *p)
{
	struct qmgr *q = p->q;
	struct rworker *w;
	char err[512];
	int st;

	if (p->n >= POOL_MAX || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	st = spawner_request(q->spawn_fd, "remote", q->remote_uid,
	    q->remote_gid, NULL, q->root ? config_str(q->cfg,
	    CK_remote_chroot) : NULL, NULL, &w->fd, &w->pid, err, sizeof(err));
	if (st == -2)
		die_temp("the spawner is gone (%s); exiting so that the service "
		    "manager starts postern again", err);
	if (st < 0) {
		log_error("cannot start postern-remote: %s", err);
		free(w);
		return NULL;
	}
	fcntl(w->fd, F_SETFL, O_NONBLOCK);
	ipc_reader_init(&w->rd, w->fd, REMOTE_FRAME_MAX);
	p->w[p->n++] = w;
	return w;
}

/* choose - the worker for a job to dest */
static struct rworker *choose(struct rpool *p, const char *dest)
{
	struct rworker *fresh = NULL, *any = NULL;
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct rworker *w = p->w[i];

		if (w->busy)
			continue;
		if (w->session && strcmp(w->dest, dest) == 0)
			return w;
		if (!w->session && fresh == NULL)
			fresh = w;
		if (any == NULL)
			any = w;
	}
	if (fresh != NULL)
		return fresh;
	if (p->n < (size_t)config_count(p->q->cfg, CK_remote_concurrency) &&
	    (fresh = spawn(p)) != NULL)
		return fresh;
	return any;
}

/* notify - the DSN NOTIFY list of a recipient's flags, or "" */
static const char *notify(unsigned f, char *buf, size_t len)
{
	if (f & QUEUE_NOTIFY_NEVER)
		return "NEVER";
	snprintf(buf, len, "%s%s%s", f & QUEUE_NOTIFY_SUCCESS ? "SUCCESS," : "",
	    f & QUEUE_NOTIFY_FAILURE ? "FAILURE," : "",
	    f & QUEUE_NOTIFY_DELAY ? "DELAY," : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

/* build - the job record and the content memfd; -1 on failure */
static int build(struct qmgr *q, const struct rworker *w,
    const struct route *rts, struct strbuf *out, int *memfd_r)
{
	char nb[40];
	struct queue_txn *t = NULL;
	struct queue_msg m;
	struct queue_rcpt rc;
	const char *nl;
	size_t i;
	int st;

	if ((st = job_begin(q, w->id, REMOTE_VERSION, &t, &m, out)) ==
	    QUEUE_OK) {
		attr_put_str(out, "sender", m.sender);
		attr_put_u64(out, "size", m.size);
		job_put_dsn(out, &m);
	}
	if (t == NULL)
		return -1;
	attr_put_str(out, "domain", rts[0].domain);
	if (rts[0].nexthop[0])
		attr_put_str(out, "nexthop", rts[0].nexthop);
	attr_put_str(out, "tls", rts[0].tls);
	attr_put_str(out, "dest", rts[0].dest);
	for (i = 0; st == QUEUE_OK && i < w->n; i++) {
		if ((st = queue_get_rcpt(t, w->id, w->idx[i], &rc)) != QUEUE_OK)
			break;
		attr_put_u64(out, "rcpt", w->idx[i]);
		attr_put_str(out, "addr", rts[i].addr);
		if (rc.orcpt[0])
			attr_put_str(out, "orcpt", rc.orcpt);
		if ((nl = notify(rc.flags, nb, sizeof(nb)))[0])
			attr_put_str(out, "notify", nl);
	}
	return job_content(&t, w->id, st, out, memfd_r);
}

/* job_limit - the most a job may take: every address tried to the end */
static int64_t job_limit(const struct config *cfg)
{
	int64_t one = config_duration(cfg, CK_smtp_connect_timeout) +
	    config_duration(cfg, CK_smtp_greeting_timeout) +
	    6 * config_duration(cfg, CK_smtp_command_timeout) +
	    2 * config_duration(cfg, CK_smtp_data_timeout);

	return (4 * one + 600) * 1000000;
}

void rpool_start(struct rpool *p, uint64_t id, const uint32_t *idx,
    const struct route *rts, size_t n, struct batch *b)
{
	struct strbuf out = STRBUF_INIT(REMOTE_FRAME_MAX);
	struct rworker *w = choose(p, rts[0].dest);
	int memfd = -1;

	if (w == NULL || (w->idx = calloc(n, sizeof(*idx))) == NULL) {
		batch_defer(b, id, idx, n, 0, 0, "none", "4.3.0", "cannot start "
		    "the remote delivery agent");
		return;
	}
	w->id = id;
	w->n = n;
	memcpy(w->idx, idx, n * sizeof(*idx));
	w->busy = 1;
	w->session = 0;
	snprintf(w->dest, sizeof(w->dest), "%s", rts[0].dest);
	w->dispatched = timeutil_now();
	w->started = timeutil_monotonic();
	w->limit = job_limit(p->q->cfg);
	if (build(p->q, w, rts, &out, &memfd) < 0 ||
	    ipc_send(w->fd, &out, memfd) < 0) {
		defer_job(w, "4.3.0", "cannot hand the message to the remote "
		    "delivery agent", b);
		for (size_t i = 0; i < p->n; i++)
			if (p->w[i] == w)
				drop(p, i);
	}
	if (memfd >= 0)
		close(memfd);
	strbuf_release(&out);
}

size_t rpool_pollfds(const struct rpool *p, struct pollfd *pfd, size_t max)
{
	size_t i;

	for (i = 0; i < p->n && i < max; i++) {
		pfd[i].fd = p->w[i]->fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return i;
}

/* take_group - one recipient group, attributes from *pos on */
static const char *take_group(const struct rworker *w,
    const struct attr_list *l, size_t *pos, unsigned char *seen,
    struct xscript_ref *xs, const char *tls, unsigned conn_use,
    struct batch *b)
{
	const char *result = NULL, *status = NULL, *text = NULL, *relay = NULL;
	struct result *res;
	uint64_t idx;
	size_t k;

	if (attr_u64(&l->v[(*pos)++], &idx) < 0)
		return "a bad index";
	for (k = 0; k < w->n && w->idx[k] != idx; k++)
		;
	if (k == w->n || seen[k])
		return "a result for a recipient not in the job";
	seen[k] = 1;
	for (; *pos < l->n && strcmp(l->v[*pos].name, "rcpt") != 0; (*pos)++) {
		const struct attr *a = &l->v[*pos];

		if (strcmp(a->name, "result") == 0)
			result = a->value;
		else if (strcmp(a->name, "status") == 0)
			status = a->value;
		else if (strcmp(a->name, "text") == 0)
			text = a->value;
		else if (strcmp(a->name, "relay") == 0)
			relay = a->value;
		else
			return "a job attribute inside a recipient group";
	}
	if (result == NULL || status == NULL || text == NULL || relay == NULL ||
	    strcmp(result, "forward") == 0 || !result_status_ok(status, result))
		return "a recipient without a valid result, status, text and "
		    "relay";
	if ((res = batch_add(b, w->id, (uint32_t)idx)) == NULL)
		return "out of memory";
	res->kind = strcmp(result, "ok") == 0 ? RES_OK :
	    strcmp(result, "defer") == 0 ? RES_DEFER : RES_FAIL;
	res->attempted = 1;
	res->dispatched = w->dispatched;
	res->connected = w->dispatched;	/* the worker does not say */
	snprintf(res->status, sizeof(res->status), "%s", status);
	snprintf(res->text, sizeof(res->text), "%s", text);
	snprintf(res->relay, sizeof(res->relay), "%s", relay);
	snprintf(res->tls, sizeof(res->tls), "%s", tls ? tls : "");
	res->conn_use = conn_use;
	if (xs != NULL) {
		xs->refs++;
		res->xs = xs;
	}
	return NULL;
}

/* take_result - a RESULT frame into the batch; NULL or why not */
static const char *take_result(struct rworker *w, const struct ipc_msg *m,
    struct batch *b)
{
	const struct attr *a;
	const char *why = NULL, *name, *tls = NULL;
	struct xscript_ref *xs = NULL;
	unsigned char *seen;
	uint64_t use = 0;
	size_t pos = 1, start = b->n, i;

	if (attr_check(&m->attrs, remote_result_spec,
	    NSPEC(remote_result_spec), 0, &why, &name) < 0)
		return why;
	if (m->fd >= 0 || strcmp(m->attrs.v[0].name, "v") != 0 ||
	    strcmp(m->attrs.v[0].value, REMOTE_VERSION) != 0)
		return "not a version 1 result";
	if ((seen = calloc(w->n, 1)) == NULL)
		return "out of memory";
	if ((a = attr_find(&m->attrs, "transcript")) != NULL)
		xs = xscript_new(a->value, a->len);
	if ((a = attr_find(&m->attrs, "tls")) != NULL)
		tls = a->value;
	if ((a = attr_find(&m->attrs, "conn_use")) != NULL)
		attr_u64(a, &use);
	a = attr_find(&m->attrs, "session");
	w->session = strcmp(a->value, "open") == 0;
	for (; pos < m->attrs.n && strcmp(m->attrs.v[pos].name, "rcpt") != 0;
	    pos++)
		if (strcmp(m->attrs.v[pos].name, "result") == 0 ||
		    strcmp(m->attrs.v[pos].name, "status") == 0 ||
		    strcmp(m->attrs.v[pos].name, "text") == 0 ||
		    strcmp(m->attrs.v[pos].name, "relay") == 0)
			why = "an attribute outside a recipient group";
	while (why == NULL && pos < m->attrs.n)
		why = take_group(w, &m->attrs, &pos, seen, xs, tls,
		    (unsigned)(use > 1000000 ? 1000000 : use), b);
	for (i = 0; why == NULL && i < w->n; i++)
		if (!seen[i])
			why = "no result for some recipients";
	free(seen);
	xscript_put(&xs);
	if (why != NULL)
		while (b->n > start)
			result_release(&b->v[--b->n]);
	return why;
}

/* closed_notice - a CLOSED record ("v", "session=closed", nothing
   else) */
static int closed_notice(const struct ipc_msg *m)
{
	return m->attrs.n == 2 && strcmp(m->attrs.v[0].name, "v") == 0 &&
	    strcmp(m->attrs.v[0].value, REMOTE_VERSION) == 0 &&
	    strcmp(m->attrs.v[1].name, "session") == 0 &&
	    strcmp(m->attrs.v[1].value, "closed") == 0 && m->fd < 0;
}

/* worker_read - one readable worker; 0 keep it, -1 drop it */
static int worker_read(struct rworker *w, struct batch *b)
{
	struct ipc_msg m;
	const char *why = NULL;
	char id[QUEUE_ID_TEXT + 1];
	long got = ipc_reader_fill(&w->rd);
	int r;

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	while ((r = ipc_reader_next(&w->rd, &m, &why)) == 1) {
		if (w->busy && closed_notice(&m)) {
			/* Sent as the job crossed it: the worker opens a new
			   session for the job; the result follows. */
		} else if (w->busy) {
			if ((why = take_result(w, &m, b)) == NULL) {
				w->busy = 0;
				free(w->idx);
				w->idx = NULL;
				w->n = 0;
			} else {
				queue_id_format(w->id, id);
				log_warn("%s: postern-remote pid %ld: %s; "
				    "deferring its recipients", id,
				    (long)w->pid, why);
			}
		} else {
			if (!closed_notice(&m))
				why = "a record outside a job";
			w->session = 0;
		}
		ipc_msg_release(&m);
		if (why != NULL)
			break;
	}
	if (why == NULL && r == 0 && got > 0)
		return 0;
	if (why == NULL && !w->busy && got == 0)
		return -1;	/* an idle worker retired */
	if (w->busy) {
		queue_id_format(w->id, id);
		if (why == NULL)
			log_warn("%s: postern-remote pid %ld ended without a "
			    "result; deferring its recipients", id,
			    (long)w->pid);
		defer_job(w, "4.3.0", "the remote delivery agent failed; will "
		    "retry", b);
	} else if (why != NULL) {
		log_warn("postern-remote pid %ld: %s", (long)w->pid, why);
	}
	return -1;
}

void rpool_ready(struct rpool *p, int fd, struct batch *b)
{
	size_t i;

	for (i = 0; i < p->n && p->w[i]->fd != fd; i++)
		;
	if (i < p->n && worker_read(p->w[i], b) < 0)
		drop(p, i);
}

void rpool_expire(struct rpool *p, int64_t now, struct batch *b)
{
	char id[QUEUE_ID_TEXT + 1];
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct rworker *w = p->w[i];

		if (!w->busy || now - w->started <= w->limit)
			continue;
		queue_id_format(w->id, id);
		log_warn("%s: postern-remote pid %ld: time limit exceeded; "
		    "deferring its recipients", id, (long)w->pid);
		defer_job(w, "4.3.0", "the remote delivery agent took too "
		    "long; will retry", b);
		drop(p, i--);
	}
}

void rpool_retire(struct rpool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!p->w[i]->busy)
			drop(p, i--);
}
