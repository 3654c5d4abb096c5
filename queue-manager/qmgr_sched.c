/*
 * qmgr_sched - from the due index to jobs in flight.
 *
 * A run reads the due index from its start up to now (never the whole
 * queue), skips recipients already in a job, resolves each one, and plans
 * one job per message and target user (local) or destination (remote),
 * within local_concurrency, remote_concurrency and
 * destination_concurrency. Final recipients owed a notice, and waiting
 * ones owed a delay warning, become notice jobs (qmgr_notice.c). Routes
 * that need no worker (alias expansion, unknown user, a deferral) become
 * results at once. The run ends its read transaction before it records
 * anything or starts a worker. Results of all jobs that finish in one
 * turn of the event loop are recorded in one transaction.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "bounce_proto.h"
#include "queue.h"
#include "timeutil.h"

#define SCAN_MAX 10000			/* due entries looked at per run */
#define IDLE_WAKE (60 * 1000000LL)	/* run at least this often */
#define JOBS_MAX 256			/* local jobs in the poll set */
#define SATURATED_WAKE (1000000LL)	/* see sched_run */

/* A job being planned: one message and one user (local), or one
   message and one destination (remote). */
struct plan {
	uint64_t id;
	int remote;
	uid_t uid;
	gid_t gid;
	size_t n, cap;
	uint32_t *idx;
	struct route *routes;
};

struct sched {
	struct qmgr *q;
	struct resolver *res;
	struct job **jobs;
	size_t njobs, cap;
	struct batch batch;
	int kicked;
	struct plan *plans;
	size_t nplans, plan_cap;
	size_t nlocal, nremote;		/* plans of each kind */
	struct rpool *pool;
	int saturated;			/* a due recipient waits for room */
	struct bpool *bounce;		/* the notice worker */
	struct njob *notes;		/* notices planned in this run */
	size_t nnotes;
	/* The message read last in this scan: a message's recipients are
	   mostly due together, so it is read once, not once each. */
	struct queue_msg msg;
	int msg_ok;
};

#define NPLANS_MAX 64			/* notices planned per run */

/* sched_new - a scheduler for q */
struct sched *sched_new(struct qmgr *q)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->q = q;
	s->kicked = 1;
	if ((s->res = resolver_new(q)) == NULL) {
		free(s);
		return NULL;
	}
	if ((s->pool = rpool_new(q)) == NULL ||
	    (s->bounce = bpool_new(q)) == NULL ||
	    (s->notes = calloc(NPLANS_MAX, sizeof(*s->notes))) == NULL) {
		rpool_free(&s->pool);
		bpool_free(&s->bounce);
		resolver_free(&s->res);
		free(s);
		return NULL;
	}
	return s;
}

/* sched_free - free; jobs still in flight are forgotten (their recipients
   stay due in the queue) */
void sched_free(struct sched **sp)
{
	struct sched *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->njobs; i++)
		job_free(&s->jobs[i]);
	free(s->jobs);
	free(s->batch.v);
	free(s->plans);
	free(s->notes);
	bpool_free(&s->bounce);
	rpool_free(&s->pool);
	resolver_free(&s->res);
	free(s);
	*sp = NULL;
}

/* in_flight - recipient (id, idx) is in a job */
static int in_flight(const struct sched *s, uint64_t id, uint32_t idx)
{
	size_t i;

	for (i = 0; i < s->njobs; i++)
		if (job_covers(s->jobs[i], id, idx))
			return 1;
	return rpool_covers(s->pool, id, idx);
}

/* remote_room - a remote job to rt's destination may be planned */
static int remote_room(const struct sched *s, const struct route *rt)
{
	const struct config *cfg = s->q->cfg;
	size_t i, dest = rpool_busy(s->pool, rt->dest);

	if (rpool_busy(s->pool, NULL) + s->nremote >=
	    (size_t)config_count(cfg, CK_remote_concurrency))
		return 0;
	for (i = 0; i < s->nplans; i++)
		dest += s->plans[i].remote &&
		    strcmp(s->plans[i].routes[0].dest, rt->dest) == 0;
	return dest < (size_t)config_count(cfg, CK_destination_concurrency);
}

/* plan_for - the plan for (id, uid, gid) or (id, destination), new if
   needed; NULL when no more jobs of that kind may start */
static struct plan *plan_for(struct sched *s, uint64_t id,
    const struct route *rt, size_t limit)
{
	int remote = rt->kind == ROUTE_REMOTE;
	struct plan *p;
	size_t i;

	for (i = 0; i < s->nplans; i++) {
		p = &s->plans[i];
		if (p->id != id || p->remote != remote)
			continue;
		if (!remote && p->uid == rt->uid && p->gid == rt->gid &&
		    p->n < LOCAL_RCPT_MAX)
			return p;
		if (remote && strcmp(p->routes[0].dest, rt->dest) == 0 &&
		    strcmp(p->routes[0].domain, rt->domain) == 0 &&
		    p->n < REMOTE_RCPT_MAX)
			return p;
	}
	if (remote ? !remote_room(s, rt) : s->njobs + s->nlocal >= limit)
		return NULL;
	if (s->nplans == s->plan_cap) {
		size_t cap = s->plan_cap ? s->plan_cap * 2 : 16;

		if ((p = reallocarray(s->plans, cap, sizeof(*p))) == NULL)
			return NULL;
		s->plans = p;
		s->plan_cap = cap;
	}
	p = &s->plans[s->nplans++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->remote = remote;
	p->uid = rt->uid;
	p->gid = rt->gid;
	if (remote)
		s->nremote++;
	else
		s->nlocal++;
	return p;
}

/* plan_add - a local route joins its plan; -1 when it must wait */
static int plan_add(struct plan *p, uint32_t idx, const struct route *rt)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		uint32_t *v = reallocarray(p->idx, cap, sizeof(*v));
		struct route *r;

		if (v == NULL)
			return -1;
		p->idx = v;
		if ((r = reallocarray(p->routes, cap, sizeof(*r))) == NULL)
			return -1;
		p->routes = r;
		p->cap = cap;
	}
	p->idx[p->n] = idx;
	p->routes[p->n] = *rt;
	/* the copy shares no memory: local routes have no children */
	memset(&p->routes[p->n].children, 0, sizeof(rt->children));
	p->n++;
	return 0;
}

/* immediate - a route that needs no worker becomes a result now */
static void immediate(struct sched *s, const struct queue_rcpt *rc,
    struct route *rt)
{
	struct result *res = batch_add(&s->batch, rc->id, rc->idx);

	if (res == NULL)
		return;
	res->kind = rt->kind == ROUTE_EXPAND ? RES_EXPAND :
	    rt->kind == ROUTE_FAIL ? RES_FAIL : RES_DEFER;
	res->attempted = rt->kind != ROUTE_EXPAND;
	snprintf(res->status, sizeof(res->status), "%s",
	    rt->kind == ROUTE_EXPAND ? "2.0.0" : rt->status);
	snprintf(res->text, sizeof(res->text), "%s", rt->kind ==
	    ROUTE_EXPAND ? "alias expanded" : rt->text);
	snprintf(res->relay, sizeof(res->relay), "none");
	if (rt->kind == ROUTE_EXPAND) {
		strbuf_append(&res->children, rt->children.s, rt->children.len);
		res->nchildren = rt->nchildren;
	}
}

/* nplan_add - recipient idx of message id owes a notice of kind k */
static void nplan_add(struct sched *s, uint64_t id, enum notice_kind k,
    uint32_t idx)
{
	struct njob *np;
	size_t i;

	if (bpool_covers(s->bounce, id, idx))
		return;
	for (i = 0; i < s->nnotes; i++) {
		np = &s->notes[i];
		if (np->id == id && np->kind == k && np->n < BOUNCE_RCPT_MAX) {
			np->idx[np->n++] = idx;
			return;
		}
	}
	if (s->nnotes == NPLANS_MAX) {
		s->saturated = 1;
		return;
	}
	np = &s->notes[s->nnotes++];
	np->id = id;
	np->kind = k;
	np->n = 1;
	np->idx[0] = idx;
}

/* notices - what recipient rc owes: 1 when it is final (nothing more to
   do with it here) */
static int notices(struct sched *s, struct queue_txn *t,
    const struct queue_rcpt *rc)
{
	int64_t warn;

	if (rc->state == QS_FAILED || rc->state == QS_DELIVERED) {
		if (rc->flags & QUEUE_RCPT_REPORT)
			nplan_add(s, rc->id, rc->state == QS_FAILED ?
			    NOTICE_FAILURE : NOTICE_SUCCESS, rc->idx);
		return 1;
	}
	if (rc->flags & QUEUE_RCPT_WARNED ||
	    config_duration(s->q->cfg, CK_delay_warning_after) <= 0)
		return 0;
	if (!s->msg_ok || s->msg.id != rc->id)
		s->msg_ok = queue_get_msg(t, rc->id, &s->msg) == QUEUE_OK;
	if (!s->msg_ok)
		return 0;
	warn = notice_warn_time(s->q->cfg, &s->msg, rc);
	if (warn > 0 && warn <= timeutil_now())
		nplan_add(s, rc->id, NOTICE_DELAY, rc->idx);
	return 0;
}

/* consider - one due recipient; 0 go on, 1 stop the scan */
static int consider(struct sched *s, struct queue_txn *t,
    const struct queue_due *d, size_t limit)
{
	struct queue_rcpt rc;
	struct route rt;
	struct plan *p;
	int stop = 0;

	if (in_flight(s, d->id, d->idx)) {
		/* due while a job has it: only the job's end changes that */
		s->saturated = 1;
		return 0;
	}
	if (queue_get_rcpt(t, d->id, d->idx, &rc) != QUEUE_OK)
		return 0;
	if (notices(s, t, &rc)) {
		s->saturated |= bpool_covers(s->bounce, d->id, d->idx);
		return 0;
	}
	route_init(&rt);
	resolve(s->res, t, &rc, &rt);
	if (rt.kind != ROUTE_LOCAL && rt.kind != ROUTE_REMOTE)
		immediate(s, &rc, &rt);
	else if ((p = plan_for(s, d->id, &rt, limit)) == NULL ||
	    plan_add(p, d->idx, &rt) < 0) {
		s->saturated = 1;
		/* Stop only when no job of either kind can start. */
		stop = s->njobs + s->nlocal >= limit &&
		    rpool_busy(s->pool, NULL) + s->nremote >=
		    (size_t)config_count(s->q->cfg, CK_remote_concurrency);
	}
	route_release(&rt);
	return stop;
}

/* scan - read the due index up to now; 1 when it stopped early */
static int scan(struct sched *s, int64_t now, size_t limit)
{
	struct queue_txn *t;
	struct queue_due d, after;
	size_t seen = 0;
	int st, more = 0;

	if (queue_begin(s->q->queue, 0, &t) != QUEUE_OK) {
		log_error("cannot read the queue: %s", queue_error(s->q->queue));
		return 1;
	}
	s->msg_ok = 0;
	st = queue_due_next(t, now, NULL, &d);
	while (st == QUEUE_OK) {
		if (++seen > SCAN_MAX || consider(s, t, &d, limit)) {
			more = 1;
			break;
		}
		after = d;
		st = queue_due_next(t, now, &after, &d);
	}
	queue_abort(&t);
	return more;
}

/* launch - start the planned jobs and notices */
static void launch(struct sched *s)
{
	struct job *j, **v;
	size_t i;

	for (i = 0; i < s->nnotes; i++)
		bpool_add(s->bounce, &s->notes[i]);
	s->nnotes = 0;

	for (i = 0; i < s->nplans; i++) {
		struct plan *p = &s->plans[i];

		if (p->remote) {
			rpool_start(s->pool, p->id, p->idx, p->routes, p->n,
			    &s->batch);
			free(p->idx);
			free(p->routes);
			continue;
		}
		j = job_start(s->q, p->id, p->idx, p->routes, p->n, &s->batch);
		if (j != NULL && s->njobs == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;

			if ((v = reallocarray(s->jobs, cap, sizeof(*v))) != NULL) {
				s->jobs = v;
				s->cap = cap;
			}
		}
		if (j != NULL && s->njobs < s->cap)
			s->jobs[s->njobs++] = j;
		else
			job_free(&j);
		free(p->idx);
		free(p->routes);
	}
	s->nplans = s->nlocal = s->nremote = 0;
}

/* next_wake - the monotonic time of the next due entry (at most a
   minute away) */
static int64_t next_wake(struct sched *s)
{
	struct queue_txn *t;
	int64_t when, mono = timeutil_monotonic(), wait = IDLE_WAKE;

	if (queue_begin(s->q->queue, 0, &t) == QUEUE_OK) {
		if (queue_due_first(t, &when) == QUEUE_OK) {
			when -= timeutil_now();
			wait = when < 0 ? 0 : when < wait ? when : wait;
		}
		queue_abort(&t);
	}
	return mono + wait;
}

/* sched_run - dispatch what is due */
void sched_run(struct sched *s, int64_t *next_r)
{
	size_t limit = (size_t)config_count(s->q->cfg, CK_local_concurrency);

	if (limit > JOBS_MAX)
		limit = JOBS_MAX;
	int more = 0;

	s->kicked = 0;
	s->saturated = 0;
	if (!s->q->stopping) {
		resolver_reload(s->res);
		more = scan(s, timeutil_now(), limit);
		batch_flush(s->q, &s->batch);
		launch(s);
		batch_flush(s->q, &s->batch);
	}
	*next_r = more && !s->saturated ? timeutil_monotonic() : next_wake(s);
	/* Recipients left due for want of a worker: a finished job kicks
	   the scheduler; the wake-up is only a safety net. */
	if (s->saturated && *next_r < timeutil_monotonic() + SATURATED_WAKE)
		*next_r = timeutil_monotonic() + SATURATED_WAKE;
	if (s->q->stopping)
		*next_r = timeutil_monotonic() + IDLE_WAKE;
}

/* sched_pollfds - the job sockets */
size_t sched_pollfds(struct sched *s, struct pollfd *pfd, size_t max)
{
	size_t i;

	for (i = 0; i < s->njobs && i < max; i++) {
		pfd[i].fd = job_fd(s->jobs[i]);
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	i += rpool_pollfds(s->pool, pfd + i, max - i);
	if (i < max && bpool_fd(s->bounce) >= 0) {
		pfd[i].fd = bpool_fd(s->bounce);
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
		i++;
	}
	return i;
}

/* drop - remove job i */
static void drop(struct sched *s, size_t i)
{
	job_free(&s->jobs[i]);
	s->jobs[i] = s->jobs[--s->njobs];
	s->kicked = 1;
}

/* sched_ready - jobs that answered or ran out of time */
void sched_ready(struct sched *s, const struct pollfd *pfd, size_t n)
{
	int64_t now = timeutil_monotonic();
	size_t i, k;

	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		for (i = 0; i < s->njobs && job_fd(s->jobs[i]) != pfd[k].fd; i++)
			;
		if (i < s->njobs) {
			if (job_read(s->q, s->jobs[i], &s->batch))
				drop(s, i);
		} else if (pfd[k].fd == bpool_fd(s->bounce)) {
			if (bpool_ready(s->bounce))
				s->kicked = 1;
		} else {
			rpool_ready(s->pool, pfd[k].fd, &s->batch);
			s->kicked = 1;
		}
	}
	rpool_expire(s->pool, now, &s->batch);
	bpool_expire(s->bounce, now);
	for (i = 0; i < s->njobs; i++)
		if (job_expired(s->jobs[i], now)) {
			job_abort(s->jobs[i], "time limit exceeded", &s->batch);
			drop(s, i--);
		}
	batch_flush(s->q, &s->batch);
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* sched_active - the messages with a job in flight, sorted, each once */
size_t sched_active(const struct sched *s, uint64_t **v_r)
{
	size_t max = s->njobs + rpool_busy(s->pool, NULL), n = 0, i, k;
	uint64_t *v = calloc(max + 1, sizeof(*v));

	*v_r = v;
	if (v == NULL)
		return 0;
	for (i = 0; i < s->njobs && n < max; i++)
		v[n++] = job_message(s->jobs[i]);
	n += rpool_messages(s->pool, v + n, max - n);
	qsort(v, n, sizeof(*v), by_id);
	for (i = k = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

void sched_workers(const struct sched *s, struct sched_workers *w)
{
	w->local = s->njobs;
	w->remote = rpool_workers(s->pool);
	w->remote_busy = rpool_busy(s->pool, NULL);
	w->bounce = bpool_fd(s->bounce) >= 0;
	w->notices = bpool_busy(s->bounce);
}

/* sched_busy - jobs in flight */
size_t sched_busy(const struct sched *s)
{
	return s->njobs + rpool_busy(s->pool, NULL) + bpool_busy(s->bounce);
}

/* sched_kick - run again soon */
void sched_kick(struct sched *s)
{
	s->kicked = 1;
}

/* sched_kicked - a run is wanted now */
int sched_kicked(const struct sched *s)
{
	return s->kicked;
}

/* sched_reload - the configuration changed: new maps and owners */
void sched_reload(struct sched *s)
{
	struct resolver *r = resolver_new(s->q);

	if (r == NULL) {
		log_error("cannot reload the maps; keeping the old ones");
		return;
	}
	resolver_free(&s->res);
	s->res = r;
	rpool_retire(s->pool);
	s->kicked = 1;
}

/* sched_route - how addr would be routed now, without sending anything
   (posternctl route): the resolver's answer for a recipient that came
   from nobody */
void sched_route(struct sched *s, const char *addr, struct route *rt)
{
	struct queue_rcpt rc;

	memset(&rc, 0, sizeof(rc));
	snprintf(rc.addr, sizeof(rc.addr), "%s", addr);
	rc.parent = QUEUE_NO_PARENT;
	resolver_reload(s->res);
	resolve(s->res, NULL, &rc, rt);
}
