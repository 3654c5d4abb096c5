/*
 * qmgr_ctl_steps - the control verbs that walk the queue, as stepped
 * tasks (qmgr_control_impl.h): the listings and stats (views,
 * common/qview.c, qview_stats.c), and the changing verbs hold, release,
 * delete, retry and bounce.
 *
 * Every step is one short read transaction over at most QVIEW_STEP_MSGS
 * messages (and, for a changing verb, one write transaction of at most
 * BATCH messages), run only when the client has taken most of what came
 * before. So a verb over a million messages leaves the event loop free
 * between steps (fresh mail is still dispatched), holds no transaction
 * while the client reads, and keeps a bounded amount of memory. A walk
 * stops at the last id the queue had when the verb began, so a flood of
 * new mail cannot keep it going, and "delete --all" does not take
 * messages that arrived after it was asked for.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "qmgr.h"
#include "qmgr_control_impl.h"
#include "qmgr_deliver.h"
#include "queue.h"
#include "timeutil.h"

#define BATCH 500			/* messages changed in one step */

static const char *const done_words[V_NVERBS] = { "", "", "held",
    "released", "deleted", "retried", "bounced", "", "", "", "", "" };

/* ------------------------------------------------------------ views */

/* view_step - the view's next step; at the end, the last frame */
static int view_step(struct control *ctl, struct cconn *c)
{
	struct qview *v = c->task;
	struct strbuf text = STRBUF_INIT(VIEW_TEXT_MAX);
	char idt[QUEUE_ID_TEXT + 1], err[160];
	uint64_t *active;
	int st;

	v->nactive = sched_active(ctl->q->sched, &active);
	v->active = active;
	if (v->kind == QV_STATS) {
		int64_t now = timeutil_now();

		v->recent.known = 1;
		stats_window(now, 1, v->recent.minute);
		stats_window(now, 60, v->recent.hour);
		v->recent.jobs = sched_busy(ctl->q->sched);
	}
	st = qview_step(v, ctl->q->queue, &text, QVIEW_STEP_BYTES);
	free(active);
	v->active = NULL;
	ctl_say(c, v->kind == QV_CONTENT ? "data" : "out", &text);
	strbuf_release(&text);
	if (st == QV_MORE)
		return 1;
	queue_id_format(v->id, idt);
	if (st == QV_DONE && v->damaged > 0) {
		log_warn("a listing skipped %llu damaged message record%s",
		    (unsigned long long)v->damaged, v->damaged == 1 ? "" : "s");
		snprintf(err, sizeof(err), "%llu damaged message record%s "
		    "skipped: see the log", (unsigned long long)v->damaged,
		    v->damaged == 1 ? " was" : "s were");
		ctl_finish(c, 0, err);
	} else if (st == QV_DONE) {
		ctl_finish(c, 0, NULL);
	} else if (st == QV_NOMSG) {
		snprintf(err, sizeof(err), "no message %s in the queue", idt);
		ctl_finish(c, 67, err);
	} else if (st == QV_DENIED) {
		snprintf(err, sizeof(err), "permission denied: message %s was "
		    "not sent by %s", idt, c->login);
		ctl_finish(c, 77, err);
	} else if (st == QUEUE_CORRUPT) {
		snprintf(err, sizeof(err), "message %s is damaged: %s", idt,
		    queue_error(ctl->q->queue));
		ctl_finish(c, 70, err);
	} else {
		ctl_finish(c, 75, "the queue is not available; try again");
	}
	return 0;
}

static void view_release(void *v)
{
	qview_release(v);
}

void ctl_view(struct control *ctl, struct cconn *c, enum verb verb,
    const struct attr_list *al, struct sel *s)
{
	struct qview *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return ctl_finish(c, 75, "out of memory; try again");
	if (verb == V_SHOW && (s->q.nids != 1 || qsel_filters(&s->q))) {
		free(v);
		return ctl_finish(c, 64, "show takes one id");
	}
	if (verb == V_SHOW) {
		qview_init(v, attr_find(al, "content") ? QV_CONTENT : QV_SHOW,
		    ctl->q->cfg);
		v->id = s->q.ids[0];
		v->transcript = attr_find(al, "transcript") != NULL;
	} else {
		qview_init(v, verb == V_MAILQ ? QV_MAILQ : attr_find(al,
		    "count") ? QV_COUNT : QV_QUEUE, ctl->q->cfg);
		v->sel = s->q;
		c->ids = s->ids;	/* v->sel.ids points into them */
		s->ids = NULL;
	}
	v->json = attr_find(al, "json") != NULL && verb != V_MAILQ;
	if (c->login[0] != '\0')
		v->sel.owner = c->login;
	ctl_task(ctl, c, view_step, v, view_release);
}

/* ------------------------------------------------------------ stats */

void ctl_stats(struct control *ctl, struct cconn *c, int json)
{
	struct qview *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return ctl_finish(c, 75, "out of memory; try again");
	qview_init(v, QV_STATS, ctl->q->cfg);
	v->json = json;
	ctl_task(ctl, c, view_step, v, view_release);
}

/* ----------------------------------------------------- changing verbs */

struct bulk_task {
	enum verb verb;
	struct sel s;			/* s.ids belong to the connection */
	int started;
	uint64_t after, upto;		/* the walk, when no ids were named */
	size_t next;			/* the next named id */
	size_t n;			/* messages changed (or that would be) */
	int64_t now;
	int json;			/* one JSON object per message */
	char by[128];			/* the caller, for the audit lines */
};

/* change - the verb's change to one message; the queue status */
static int change(struct queue_txn *t, enum verb v, uint64_t id,
    int64_t now)
{
	struct queue_msg m;
	struct queue_rcpt r;
	uint32_t i;
	int st;

	if (v == V_HOLD || v == V_RELEASE)
		return queue_set_held(t, id, v == V_HOLD, now);
	if (v == V_DELETE)
		return queue_delete(t, id);
	if ((st = queue_get_msg(t, id, &m)) != QUEUE_OK)
		return st;
	for (i = 0; i < m.nrcpt; i++) {
		if ((st = queue_get_rcpt(t, id, i, &r)) != QUEUE_OK)
			return st;
		if (v == V_RETRY && r.state == QS_DEFERRED) {
			r.next = now;
		} else if (v == V_BOUNCE && (r.state == QS_PENDING ||
		    r.state == QS_DEFERRED || r.state == QS_HELD)) {
			r.state = QS_FAILED;
			snprintf(r.status, sizeof(r.status), "5.0.0");
			snprintf(r.diag, sizeof(r.diag), "removed by the "
			    "administrator");
			snprintf(r.relay, sizeof(r.relay), "none");
			r.next = now;
			if (notice_owed(&m, &r))
				r.flags |= QUEUE_RCPT_REPORT;
		} else {
			continue;
		}
		if ((st = queue_put_rcpt(t, &r)) != QUEUE_OK)
			return st;
	}
	if (v == V_BOUNCE && message_done(t, id))
		return queue_delete(t, id);
	return QUEUE_OK;
}

/* pick - the next selected messages (at most BATCH) into v; *done_r
   when the selection is exhausted; a queue status */
static int pick(struct control *ctl, struct bulk_task *b, uint64_t *v,
    size_t *nv, int *done_r)
{
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t *active;
	size_t seen, nact = sched_active(ctl->q->sched, &active);
	int st;

	*nv = 0;
	*done_r = 0;
	if ((st = queue_begin(ctl->q->queue, 0, &t)) != QUEUE_OK) {
		free(active);
		return st;
	}
	if (!b->started && (st = queue_last_id(t, &b->upto)) ==
	    QUEUE_NOTFOUND)
		st = QUEUE_OK;
	b->started = 1;
	for (seen = 0; st == QUEUE_OK && seen < QVIEW_STEP_MSGS && *nv < BATCH;
	    seen++) {
		if (b->s.q.nids > 0 && b->next == b->s.q.nids) {
			st = QUEUE_NOTFOUND;
		} else if (b->s.q.nids > 0) {
			if ((st = queue_get_msg(t, b->s.q.ids[b->next++], &m)) ==
			    QUEUE_NOTFOUND)
				st = QUEUE_CORRUPT;	/* gone: the next one */
		} else if ((st = queue_next_msg(t, b->after, &m)) ==
		    QUEUE_OK || st == QUEUE_CORRUPT) {
			b->after = m.id;
			if (m.id > b->upto)
				st = QUEUE_NOTFOUND;
		}
		if (st != QUEUE_OK) {
			st = st == QUEUE_CORRUPT ? QUEUE_OK : st;
			continue;
		}
		if (qsel_match(&b->s.q, ctl->q->cfg, t, &m,
		    qsel_has_id(active, nact, m.id)))
			v[(*nv)++] = m.id;
	}
	queue_abort(&t);
	free(active);
	*done_r = st == QUEUE_NOTFOUND;
	return st == QUEUE_NOTFOUND ? QUEUE_OK : st;
}

/* bulk_step - select, change and report the next batch */
static int bulk_step(struct control *ctl, struct cconn *c)
{
	struct bulk_task *b = c->task;
	struct strbuf text = STRBUF_INIT(1u << 20);
	char idt[QUEUE_ID_TEXT + 1];
	uint64_t v[BATCH];
	struct queue_txn *t;
	size_t nv, k;
	int done, st;

	st = pick(ctl, b, v, &nv, &done);
	if (st == QUEUE_OK && nv > 0 && !b->s.dry_run &&
	    (st = queue_begin(ctl->q->queue, 1, &t)) == QUEUE_OK) {
		for (k = 0; k < nv && st != QUEUE_TEMP; k++)
			st = change(t, b->verb, v[k], b->now);
		st = st == QUEUE_TEMP ? st : queue_commit(&t);
		if (st != QUEUE_OK)
			queue_abort(&t);
	}
	if (st != QUEUE_OK) {
		log_error("cannot %s messages: %s", ctl_verbs[b->verb],
		    queue_error(ctl->q->queue));
		ctl_finish(c, 75, "the queue is not available; try again");
		return 0;
	}
	for (k = 0; k < nv; k++) {
		queue_id_format(v[k], idt);
		if (!b->s.dry_run)
			log_info("%s: %s by %s", idt, done_words[b->verb], b->by);
		if (b->json)
			strbuf_appendf(&text, "{\"id\":\"%s\",\"action\":"
			    "\"%s\",\"dry_run\":%s}\n", idt,
			    done_words[b->verb], b->s.dry_run ? "true" :
			    "false");
		else
			strbuf_appendf(&text, "%s %s%s\n", idt, b->s.dry_run ?
			    "would be " : "", done_words[b->verb]);
	}
	b->n += nv;
	if (nv > 0 && !b->s.dry_run && b->verb != V_HOLD &&
	    b->verb != V_DELETE)
		sched_kick(ctl->q->sched);
	if (done && b->n == 0 && !b->json)
		strbuf_appends(&text, "no message matches\n");
	ctl_say(c, "out", &text);
	strbuf_release(&text);
	if (!done)
		return 1;
	ctl_finish(c, b->s.q.nids > 0 && b->n == 0 ? 67 : 0, NULL);
	return 0;
}

void ctl_bulk(struct control *ctl, struct cconn *c, enum verb verb,
    struct sel *s, int json)
{
	struct bulk_task *b = calloc(1, sizeof(*b));
	struct passwd *pw = getpwuid(c->uid);

	if (b == NULL)
		return ctl_finish(c, 75, "out of memory; try again");
	b->verb = verb;
	b->s = *s;
	c->ids = s->ids;		/* b->s.q.ids points into them */
	s->ids = NULL;
	b->now = timeutil_now();
	b->json = json;
	snprintf(b->by, sizeof(b->by), "uid %lu (%s)", (unsigned long)c->uid,
	    pw ? pw->pw_name : "?");
	ctl_task(ctl, c, bulk_step, b, NULL);
}
