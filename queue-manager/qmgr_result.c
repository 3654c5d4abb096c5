/*
 * qmgr_result - recording what happened to recipients.
 *
 * Results arrive from local workers and from the scheduler itself
 * (expansions, immediate failures). Each batch is one write transaction
 * (group commit). Before the commit, one log line per delivery attempt is
 * written, in the form log tools parse:
 *
 *   ID: to=<rcpt>, orig_to=<alias>, relay=local, delay=S.S,
 *       delays=a/b/c/d, dsn=X.Y.Z, status=sent|deferred|bounced (text)
 *
 * (orig_to only when it differs). Remote deliveries name the server as
 * relay=host[address]:port, and add conn_use=N when the connection
 * carried earlier messages and tls=VERSION/CIPHER when the session was
 * encrypted. The transcript of a remote attempt is stored with each of
 * its recipients, in the same transaction. The log reports attempts, which did
 * happen whatever becomes of the commit; if the commit fails, the
 * recipients stay due and are tried again (at-least-once).
 *
 * Retries: a deferred recipient's next attempt is retry_schedule[n-1]
 * after its n-th attempt, with up to 10% random jitter either way so that
 * a backlog does not retry in one burst; past the last entry, or past
 * max_queue_lifetime after arrival (bounce_queue_lifetime for notices),
 * it fails with the last attempt's status and text. A recipient that
 * becomes final and is owed a notice (qmgr_notice.c) is marked so in the
 * same transaction. A message whose recipients are all final (delivered,
 * failed, expanded) and owed nothing is removed in the same transaction,
 * and "ID: removed" is logged after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"
#include "exitcodes.h"
#include "fsio.h"
#include "log.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "queue.h"
#include "retry.h"
#include "timeutil.h"

#define TOUCHED_MAX 4096

/* result_init - an empty result for recipient (id, idx) */
void result_init(struct result *res, uint64_t id, uint32_t idx)
{
	memset(res, 0, sizeof(*res));
	res->id = id;
	res->idx = idx;
	strbuf_init(&res->children, 1u << 20);
}

/* result_release - free the children list, let go of the transcript */
void result_release(struct result *res)
{
	strbuf_release(&res->children);
	xscript_put(&res->xs);
}

/* seconds - "1.2", "0.05", "0" as Postfix writes delays */
static void seconds(char *buf, size_t len, int64_t us)
{
	double s = us > 0 ? us / 1e6 : 0;

	if (s == 0)
		snprintf(buf, len, "0");
	else if (s < 0.01)
		snprintf(buf, len, "0.01");
	else if (s < 10)
		snprintf(buf, len, "%.2g", s);
	else
		snprintf(buf, len, "%.0f", s);
}

/* rcpt_shown - the address to= (and a notice) names: an alias's "|command" or "/file"
   target is shown as the alias it came from (the text names the target) */
const char *rcpt_shown(struct queue_txn *t, const struct queue_rcpt *r,
    struct queue_rcpt *parent)
{
	if (strchr(r->addr, '@') == NULL && r->parent != QUEUE_NO_PARENT &&
	    queue_get_rcpt(t, r->id, r->parent, parent) == QUEUE_OK)
		return parent->addr;
	return r->addr;
}

/* Deliveries, failures and deferrals of the last hour, per minute, for
   posternctl stats. */
#define STAT_MINUTES 60
static struct {
	int64_t minute[STAT_MINUTES];	/* which minute a bucket holds */
	unsigned count[STAT_MINUTES][3];
} stats;

/* stats_note - one attempt's outcome (0 sent, 1 bounced, 2 deferred) */
static void stats_note(int what, int64_t now)
{
	int64_t min = now / 60000000;
	size_t b = (size_t)(min % STAT_MINUTES);

	if (stats.minute[b] != min) {
		stats.minute[b] = min;
		memset(stats.count[b], 0, sizeof(stats.count[b]));
	}
	stats.count[b][what]++;
}

void stats_window(int64_t now, int minutes, unsigned out[3])
{
	int64_t min = now / 60000000;
	size_t b;
	int k;

	out[0] = out[1] = out[2] = 0;
	for (b = 0; b < STAT_MINUTES; b++)
		if (stats.minute[b] > min - minutes && stats.minute[b] <= min)
			for (k = 0; k < 3; k++)
				out[k] += stats.count[b][k];
}

/* log_attempt - the delivery log line for one attempt */
static void log_attempt(const struct result *res, const struct queue_msg *m,
    const char *orig_to, const char *status, int64_t now, const char *to)
{
	char id[QUEUE_ID_TEXT + 1], a[16], b[16], c[16], d[16];
	char use[32] = "", tls[160] = "", *sp;
	struct strbuf text = STRBUF_INIT(2 * ROUTE_TEXT_MAX);
	int64_t disp = res->dispatched ? res->dispatched : now;
	int64_t conn = res->connected ? res->connected : disp;

	queue_id_format(res->id, id);
	strbuf_append_printable(&text, res->text, strlen(res->text), 1);
	seconds(a, sizeof(a), disp - m->arrival);
	seconds(b, sizeof(b), conn - disp);
	seconds(c, sizeof(c), 0);
	seconds(d, sizeof(d), now - conn);
	if (res->conn_use > 1)
		snprintf(use, sizeof(use), "conn_use=%u, ", res->conn_use);
	if (res->tls[0])
		snprintf(tls, sizeof(tls), "tls=%s, ", res->tls);
	if (res->tls[0] && (sp = strchr(tls + 4, ' ')) != NULL && sp[-1] != ',')
		*sp = '/';
	log_info("%s: to=<%s>, %s%s%srelay=%s, %s%sdelay=%.1f, "
	    "delays=%s/%s/%s/%s, dsn=%s, status=%s (%s)", id, to, orig_to ?
	    "orig_to=<" : "", orig_to ? orig_to : "", orig_to ? ">, " : "",
	    res->relay[0] ? res->relay : "local", use, tls,
	    (now - m->arrival) / 1e6, a, b, c, d, res->status, status,
	    strbuf_str(&text));
	strbuf_release(&text);
}

/* rcpt_original - the address the sender used: the recipient's own
   "original", or its topmost ancestor's; NULL when it is r's own */
const char *rcpt_original(struct queue_txn *t, const struct queue_rcpt *r,
    char buf[ADDRESS_BUF])
{
	struct queue_rcpt up = *r;
	int depth = 0;

	while (up.parent != QUEUE_NO_PARENT && depth++ < ROUTE_DEPTH_MAX * 4 &&
	    queue_get_rcpt(t, up.id, up.parent, &up) == QUEUE_OK)
		;
	snprintf(buf, ADDRESS_BUF, "%s", up.orig[0] ? up.orig : up.addr);
	return strcmp(buf, r->addr) != 0 ? buf : NULL;
}

/* jitter - d scaled by a random factor in [0.9, 1.1] */
static int64_t jitter(int64_t d)
{
	uint32_t rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return d;
	return d - d / 10 + (int64_t)((double)(d / 5) * (rnd / 4294967296.0));
}

int result_status_ok(const char *status, const char *result)
{
	int class, want = strcmp(result, "ok") == 0 ||
	    strcmp(result, "forward") == 0 ? 2 : strcmp(result, "defer") == 0 ?
	    4 : strcmp(result, "fail") == 0 ? 5 : 0;

	return want != 0 && status_code_ok(status, &class) && class == want;
}

/* owe - a recipient that just became final is owed a notice: it keeps a
   due entry until the notice is stored (qmgr_notice.c) */
static void owe(const struct queue_msg *m, struct queue_rcpt *r, int64_t now)
{
	char id[QUEUE_ID_TEXT + 1];

	if (!(r->flags & QUEUE_RCPT_NOTIFIED) && notice_owed(m, r)) {
		r->flags |= QUEUE_RCPT_REPORT;
		r->next = now;
	} else if (r->state == QS_FAILED && (m->flags & QUEUE_MSG_DOUBLE)) {
		queue_id_format(m->id, id);
		log_warn("%s: a notice to the postmaster about an undeliverable "
		    "notice could not be delivered to <%s>: dropped", id,
		    r->addr);
	}
}

/* apply - the new state of r after res; the log status word */
static const char *apply(const struct config *cfg, const struct queue_msg *m,
    const struct result *res, struct queue_rcpt *r, int64_t now)
{
	size_t n;
	const int64_t *sched = config_durations(cfg, CK_retry_schedule, &n);
	int64_t warn;

	if (res->attempted) {
		r->attempts++;
		r->last = now;
		if (r->first == 0)
			r->first = now;
	}
	snprintf(r->status, sizeof(r->status), "%s", res->status);
	snprintf(r->diag, sizeof(r->diag), "%s", res->text);
	snprintf(r->relay, sizeof(r->relay), "%s", res->relay[0] ?
	    res->relay : "local");
	switch (res->kind) {
	case RES_OK:
		r->state = QS_DELIVERED;
		owe(m, r, now);
		return "sent";
	case RES_FAIL:
		r->state = QS_FAILED;
		owe(m, r, now);
		return "bounced";
	case RES_EXPAND:
		r->state = QS_EXPANDED;
		return "expanded";
	default:
		if (retry_gives_up(cfg, m, r, now)) {
			r->state = QS_FAILED;
			owe(m, r, now);
			return "bounced";
		}
		r->state = QS_DEFERRED;
		r->next = now + jitter((r->attempts > 0 && r->attempts <= n ?
		    sched[r->attempts - 1] : (n ? sched[0] : 60)) * 1000000);
		/* A delay warning owed before the next attempt: come back
		   then (the attempt made with it does no harm). One already
		   owed and not yet stored (its job pending, or refused) is
		   looked at again within NOTICE_RETRY, never at once: a
		   notice worker that is down must not turn the schedule
		   into back-to-back attempts. */
		warn = notice_warn_time(cfg, m, r);
		if (warn > now && warn < r->next)
			r->next = warn;
		else if (warn > 0 && warn <= now &&
		    now + NOTICE_RETRY < r->next)
			r->next = now + NOTICE_RETRY;
		return "deferred";
	}
}

/* add_children - the addresses an expansion produced, as new recipients
   due now (loops are the resolver's business: it does not expand an
   address that is already on the path) */
static int add_children(struct queue_txn *t, const struct queue_rcpt *r,
    const struct result *res, int64_t now)
{
	struct queue_new_rcpt nr;
	const char *c = res->children.s;
	size_t i;
	uint32_t idx;

	for (i = 0; i < res->nchildren; i++, c += strlen(c) + 1) {
		memset(&nr, 0, sizeof(nr));
		nr.addr = c;
		nr.parent = r->idx;
		nr.flags = r->flags & (QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_SUCCESS |
		    QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY);
		if (queue_append_rcpt(t, r->id, &nr, now, &idx) != QUEUE_OK)
			return -1;
	}
	return 0;
}

/* message_done - every recipient of message id is delivered, failed or
   expanded, and none is owed a notice */
int message_done(struct queue_txn *t, uint64_t id)
{
	struct queue_msg m;
	struct queue_rcpt r;
	uint32_t i;

	if (queue_get_msg(t, id, &m) != QUEUE_OK)
		return 0;
	for (i = 0; i < m.nrcpt; i++)
		if (queue_get_rcpt(t, id, i, &r) != QUEUE_OK ||
		    r.state == QS_PENDING || r.state == QS_DEFERRED ||
		    r.state == QS_HELD || (r.flags & QUEUE_RCPT_REPORT))
			return 0;
	return 1;
}

/* record_one - apply one result inside the transaction; 0, or -1 when the
   transaction failed */
static int record_one(struct qmgr *q, struct queue_txn *t,
    const struct result *res, int64_t now)
{
	struct queue_msg m;
	struct queue_rcpt r, parent;
	char orig[ADDRESS_BUF];
	const char *status;
	int st;

	if ((st = queue_get_msg(t, res->id, &m)) != QUEUE_OK ||
	    (st = queue_get_rcpt(t, res->id, res->idx, &r)) != QUEUE_OK)
		return st == QUEUE_TEMP ? -1 : 0;	/* deleted meanwhile */
	/* A message held while a job had it: what the job finished counts
	   (else a release would deliver it twice); a deferral keeps it
	   held. */
	if (r.state != QS_PENDING && r.state != QS_DEFERRED &&
	    !(r.state == QS_HELD && (res->kind == RES_OK ||
	    res->kind == RES_FAIL)))
		return 0;
	status = apply(q->cfg, &m, res, &r, now);
	if (res->attempted) {
		log_attempt(res, &m, rcpt_original(t, &r, orig), status, now,
		    rcpt_shown(t, &r, &parent));
		stats_note(strcmp(status, "sent") == 0 ? 0 :
		    strcmp(status, "bounced") == 0 ? 1 : 2, now);
	}
	if (res->kind == RES_EXPAND && add_children(t, &r, res, now) < 0)
		return -1;
	if (res->xs != NULL && queue_put_transcript(t, r.id, r.idx,
	    res->xs->data, res->xs->len) == QUEUE_TEMP)
		return -1;
	return queue_put_rcpt(t, &r) == QUEUE_TEMP ? -1 : 0;
}

/* results_record - one transaction for a batch of results */
void results_record(struct qmgr *q, struct result *v, size_t n)
{
	uint64_t touched[TOUCHED_MAX], removed[TOUCHED_MAX];
	size_t nt = 0, nr = 0, i, k;
	char id[QUEUE_ID_TEXT + 1];
	struct queue_txn *t;
	int64_t now = timeutil_now();

	if (n == 0 || queue_begin(q->queue, 1, &t) != QUEUE_OK) {
		if (n)
			log_error("cannot record results: %s",
			    queue_error(q->queue));
		return;
	}
	for (i = 0; i < n; i++) {
		if (record_one(q, t, &v[i], now) < 0)
			goto failed;
		for (k = 0; k < nt && touched[k] != v[i].id; k++)
			;
		if (k == nt && nt < TOUCHED_MAX)
			touched[nt++] = v[i].id;
	}
	for (k = 0; k < nt; k++)
		if (message_done(t, touched[k]) && queue_delete(t, touched[k]) ==
		    QUEUE_OK)
			removed[nr++] = touched[k];
	fsio_crashpoint("qmgr.before_results_commit");
	if (queue_commit(&t) != QUEUE_OK) {
		log_error("cannot record results: %s; the recipients stay due",
		    queue_error(q->queue));
		return;
	}
	for (k = 0; k < nr; k++) {
		queue_id_format(removed[k], id);
		log_info("%s: removed", id);
	}
	return;
failed:
	log_error("cannot record results: %s; the recipients stay due",
	    queue_error(q->queue));
	queue_abort(&t);
}

/* batch_add - room for one more result */
struct result *batch_add(struct batch *b, uint64_t id, uint32_t idx)
{
	struct result *v;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;

		if ((v = reallocarray(b->v, cap, sizeof(*v))) == NULL)
			return NULL;
		b->v = v;
		b->cap = cap;
	}
	result_init(&b->v[b->n], id, idx);
	return &b->v[b->n++];
}

/* batch_defer - every recipient of a job that ended without a result is
   deferred with status and why (never failed: the job may have done
   nothing) */
void batch_defer(struct batch *b, uint64_t id, const uint32_t *idx,
    size_t n, int64_t dispatched, int64_t connected, const char *relay,
    const char *status, const char *why)
{
	struct result *res;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((res = batch_add(b, id, idx[i])) == NULL)
			return;
		res->kind = RES_DEFER;
		res->attempted = 1;
		res->dispatched = dispatched;
		res->connected = connected;
		snprintf(res->status, sizeof(res->status), "%s", status);
		snprintf(res->text, sizeof(res->text), "%s", why);
		snprintf(res->relay, sizeof(res->relay), "%s", relay);
	}
}

/* batch_flush - record and empty */
void batch_flush(struct qmgr *q, struct batch *b)
{
	size_t i;

	results_record(q, b->v, b->n);
	for (i = 0; i < b->n; i++)
		result_release(&b->v[i]);
	b->n = 0;
}
