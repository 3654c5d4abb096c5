/*
 * qview - the views of the queue, in steps (qview.h): the listings
 * (queue, --count, mailq, and the walk behind stats) here, with the JSON
 * of messages and recipients that show shares (qview_show.c). The queue
 * manager streams them through its control socket; posternctl renders
 * them itself when it reads the queue directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "qview.h"
#include "qview_impl.h"
#include "retry.h"
#include "strbuf.h"
#include "timeutil.h"

void qview_init(struct qview *v, enum qview_kind kind,
    const struct config *cfg)
{
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->cfg = cfg;
	qsel_init(&v->sel);
}

void qview_release(struct qview *v)
{
	qstats_free(&v->stats);
}

int qview_active(const struct qview *v, uint64_t id)
{
	return qsel_has_id(v->active, v->nactive, id);
}

int qview_waiting(const struct queue_rcpt *r)
{
	return r->state == QS_PENDING || r->state == QS_DEFERRED;
}

/* --- JSON --- */

/* The member names are constants that need no escaping: each is
   appended with its comma, quotes and colon in one piece (KEY), and only
   the values go through json_string. A listing of a million messages
   spends most of its time here. */
#define KEY(out, lit) strbuf_append((out), (lit), sizeof(lit) - 1)

/* num - a decimal number, without printf (a listing prints millions) */
static void num(struct strbuf *out, uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);

	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	strbuf_append(out, buf + i, sizeof(buf) - i);
}

/* json_opt - the value after KEY, or null when it is empty */
static void json_opt(struct strbuf *out, const char *value)
{
	if (value[0] != '\0')
		json_string(out, value, strlen(value));
	else
		KEY(out, "null");
}

/* json_opts - each key (with its comma, quotes and colon) and its value,
   null when empty */
static void json_opts(struct strbuf *out, const char *const *keys,
    const char *const *values, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		strbuf_appends(out, keys[i]);
		json_opt(out, values[i]);
	}
}

/* json_time - an RFC 3339 time after KEY, or null for 0 */
static void json_time(struct strbuf *out, int64_t us)
{
	char buf[TIMEUTIL_BUF];

	if (us == 0) {
		KEY(out, "null");
		return;
	}
	timeutil_rfc3339(us, buf);
	strbuf_appendc(out, '"');
	strbuf_append(out, buf, strlen(buf));
	strbuf_appendc(out, '"');
}

static const char *const last_keys[] = { ",\"status\":",
    ",\"diagnostic\":", ",\"relay\":" };
static const char *const summary_keys[] = { ",\"from\":", ",\"subject\":",
    ",\"message_id\":", ",\"envid\":" };

void qview_json_rcpt(const struct qview *v, struct strbuf *out,
    const struct queue_msg *m, const struct queue_rcpt *r, int full,
    struct queue_txn *t)
{
	int64_t tl[RETRY_TIMELINE_MAX];
	size_t n, i;

	KEY(out, "{\"address\":");
	json_string(out, r->addr, strlen(r->addr));
	KEY(out, ",\"original\":");
	json_opt(out, r->orig);
	KEY(out, ",\"state\":\"");
	strbuf_appends(out, queue_state_name(r->state));
	KEY(out, "\",\"attempts\":");
	num(out, r->attempts);
	KEY(out, ",\"next_attempt\":");
	json_time(out, qview_waiting(r) ? r->next : 0);
	KEY(out, ",\"first_attempt\":");
	json_time(out, r->first);
	KEY(out, ",\"last_attempt\":");
	json_time(out, r->last);
	json_opts(out, last_keys, (const char *const[]){ r->status, r->diag,
	    r->relay }, 3);
	if (full) {
		n = retry_timeline(v->cfg, m, r, tl, RETRY_TIMELINE_MAX);
		KEY(out, ",\"give_up\":");
		json_time(out, n > 0 ? tl[n - 1] : 0);
		KEY(out, ",\"retries\":[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				strbuf_appendc(out, ',');
			json_time(out, tl[i]);
		}
		strbuf_appendc(out, ']');
	}
	if (t != NULL) {
		struct strbuf xs = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX + 1);

		if (queue_get_transcript(t, r->id, r->idx, &xs) == QUEUE_OK) {
			KEY(out, ",\"transcript\":");
			json_opt(out, strbuf_str(&xs));
		}
		strbuf_release(&xs);
	}
	strbuf_appendc(out, '}');
}

void qview_json_head(struct strbuf *out, const struct queue_msg *m,
    int active)
{
	char id[QUEUE_ID_TEXT + 1];

	queue_id_format(m->id, id);
	KEY(out, "{\"id\":\"");
	strbuf_append(out, id, QUEUE_ID_TEXT);
	KEY(out, "\",\"sender\":");
	json_string(out, m->sender, strlen(m->sender));
	KEY(out, ",\"arrival\":");
	json_time(out, m->arrival);
	KEY(out, ",\"size\":");
	num(out, m->size);
	if (m->flags & QUEUE_MSG_HELD)
		KEY(out, ",\"held\":true");
	else
		KEY(out, ",\"held\":false");
	if (active)
		KEY(out, ",\"active\":true");
	else
		KEY(out, ",\"active\":false");
	json_opts(out, summary_keys, (const char *const[]){ m->from,
	    m->subject, m->msgid, m->envid }, 4);
	KEY(out, ",\"recipients\":[");
}

/* --- the queue listing --- */

/* json_msg - one message on one line, recipients in brief */
static int json_msg(struct qview *v, struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, int active)
{
	struct queue_rcpt r;
	uint32_t i;

	qview_json_head(out, m, active);
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK)
			return -1;
		if (i > 0)
			strbuf_appendc(out, ',');
		qview_json_rcpt(v, out, m, &r, 0, NULL);
	}
	return strbuf_appends(out, "]}\n");
}

/* text_msg - one aligned line: id (with '*' active or '!' held),
   arrival, size, next attempt, recipients by state, sender */
static int text_msg(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, int active)
{
	char id[QUEUE_ID_TEXT + 1], when[TIMEUTIL_BUF], next[TIMEUTIL_BUF];
	uint32_t count[QS_EXPANDED + 1] = { 0 }, i;
	struct queue_rcpt r;
	int64_t n = 0;
	char st[160];
	size_t o = 0;
	int s;

	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK ||
		    (unsigned)r.state > QS_EXPANDED)
			return -1;
		count[r.state]++;
		if (qview_waiting(&r) && (n == 0 || r.next < n))
			n = r.next;
	}
	st[0] = '\0';
	for (s = QS_PENDING; s <= QS_EXPANDED; s++)
		if (count[s] > 0 && o < sizeof(st))
			o += (size_t)snprintf(st + o, sizeof(st) - o, "%s%u %s",
			    o ? ", " : "", count[s], queue_state_name(s));
	queue_id_format(m->id, id);
	timeutil_local(m->arrival, when);
	if (n == 0)
		snprintf(next, sizeof(next), "-");
	else
		timeutil_local(n, next);
	strbuf_appendf(out, "%-11s%c %-19s  %9llu  %-19s  %-28s  <", id,
	    active ? '*' : m->flags & QUEUE_MSG_HELD ? '!' : ' ', when,
	    (unsigned long long)m->size, next, st);
	strbuf_append_printable(out, m->sender, strlen(m->sender), 1);
	return strbuf_appends(out, ">\n");
}

/* --- mailq --- */

/* mailq_reason - Postfix prints a reason line only when it differs from
   the one before, right-aligned to column 76 */
static void mailq_reason(struct qview *v, struct strbuf *out,
    const char *why)
{
	const char *show = why[0] ? why : "reason unavailable";
	size_t len = strbuf_printable_cut(show, strlen(show), QUEUE_DIAG_MAX);
	int pad = 76 - (int)len;

	if (strcmp(v->reason, why) == 0)
		return;
	snprintf(v->reason, sizeof(v->reason), "%s", why);
	strbuf_appendf(out, "%*s(", pad < 0 ? 0 : pad, "");
	strbuf_append_printable(out, show, strlen(show), 1);
	strbuf_appends(out, ")\n");
}

/* mailq_msg - one message in Postfix's mailq layout (long queue ids) */
static int mailq_msg(struct qview *v, struct strbuf *out,
    struct queue_txn *t, const struct queue_msg *m, int active)
{
	char id[QUEUE_ID_TEXT + 2], when[TIMEUTIL_BUF];
	struct queue_rcpt r;
	uint32_t i;

	queue_id_format(m->id, id);
	if (active || m->flags & QUEUE_MSG_HELD) {
		id[QUEUE_ID_TEXT] = active ? '*' : '!';
		id[QUEUE_ID_TEXT + 1] = '\0';
	}
	timeutil_listing(m->arrival, when);
	if (v->count == 0)
		strbuf_appendf(out, "%-17s %8s %-19s %s\n", "----Queue ID-----",
		    "--Size--", "---Arrival Time----",
		    "--Sender/Recipient------");
	else
		strbuf_appendc(out, '\n');
	strbuf_appendf(out, "%-17s %8llu %19.19s ", id,
	    (unsigned long long)m->size, when);
	if (m->sender[0] == '\0')
		strbuf_appends(out, "MAILER-DAEMON");
	else
		strbuf_append_printable(out, m->sender, strlen(m->sender), 1);
	strbuf_appendc(out, '\n');
	v->reason[0] = '\0';
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK)
			return -1;
		if (!qview_waiting(&r) && r.state != QS_HELD)
			continue;
		mailq_reason(v, out, r.state == QS_DEFERRED ? r.diag : "");
		strbuf_appendf(out, "%-17s %8s %-19s ", "", "", "");
		strbuf_append_printable(out, r.addr, strlen(r.addr), 1);
		strbuf_appendc(out, '\n');
	}
	return 0;
}

/* --- the listings --- */

/* trailer - what ends a listing */
static void trailer(struct qview *v, struct strbuf *out)
{
	if (v->kind == QV_STATS)
		qstats_write(v->stats, &v->recent, v->json, out);
	else if (v->kind == QV_COUNT)
		strbuf_appendf(out, v->json ? "{\"messages\":%llu}\n" : "%llu\n",
		    (unsigned long long)v->count);
	else if (v->kind == QV_MAILQ && v->count == 0)
		strbuf_appends(out, "Mail queue is empty\n");
	else if (v->kind == QV_MAILQ)
		strbuf_appendf(out, "\n-- %llu Kbytes in %llu Request%s.\n",
		    (unsigned long long)(v->bytes / 1024),
		    (unsigned long long)v->count, v->count == 1 ? "" : "s");
}

/* one - list message m (selected); -1 when a recipient is damaged */
static int one(struct qview *v, struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, int active)
{
	size_t mark = out->len;
	int r = 0;

	switch (v->kind) {
	case QV_QUEUE:
		r = v->json ? json_msg(v, out, t, m, active) :
		    text_msg(out, t, m, active);
		break;
	case QV_MAILQ:
		r = mailq_msg(v, out, t, m, active);
		break;
	case QV_STATS:
		qstats_add(v->stats, t, m);
		break;
	default:
		break;
	}
	if (r < 0) {
		strbuf_truncate(out, mark);
		return -1;
	}
	v->count++;
	v->bytes += m->size;
	return 0;
}

/* count_older - queue --count --older-than: arrival never exceeds the id
   (ids are max(last_id + 1, arrival)), so every message whose id is at
   most the bound matches, and those are counted from the keys alone, a
   bounded number per step; the later ids are read as usual. QV_DONE
   when the listing goes on to read records, QV_MORE, or a status. */
static int count_older(struct qview *v, struct queue_txn *t)
{
	struct qsel only = v->sel;
	uint64_t bound, n, last;
	int st;

	only.older = 0;
	if (v->kind != QV_COUNT || v->sel.older <= 0 || v->sel.ids != NULL ||
	    qsel_filters(&only))
		return QV_DONE;
	bound = (uint64_t)v->sel.older < v->upto ? (uint64_t)v->sel.older :
	    v->upto;
	if (v->after >= bound)
		return QV_DONE;
	if ((st = queue_count_ids(t, v->after, bound, QVIEW_COUNT_KEYS, &n,
	    &last)) != QUEUE_OK)
		return st;
	v->count += n;
	v->after = n == QVIEW_COUNT_KEYS ? last : bound;
	return n == QVIEW_COUNT_KEYS ? QV_MORE : QV_DONE;
}

/* step_list - the next messages of a listing */
static int step_list(struct qview *v, struct queue_txn *t,
    struct strbuf *out, size_t end)
{
	struct queue_msg m;
	size_t i;
	int st = QUEUE_OK, active, done = 0;

	if (!v->started && v->kind == QV_QUEUE && !v->json)
		strbuf_appendf(out, "%-11s  %-19s  %9s  %-19s  %-28s  %s\n",
		    "ID", "ARRIVAL", "SIZE", "NEXT ATTEMPT", "RECIPIENTS",
		    "SENDER");
	if (!v->started && (st = queue_last_id(t, &v->upto)) != QUEUE_OK &&
	    st != QUEUE_NOTFOUND)
		return st;
	if (v->kind == QV_STATS && v->stats == NULL &&
	    (v->stats = qstats_new()) == NULL)
		return QUEUE_TEMP;
	v->started = 1;
	if (v->kind == QV_COUNT && !qsel_filters(&v->sel) && v->sel.ids ==
	    NULL) {
		if ((st = queue_count_msgs(t, &v->count)) != QUEUE_OK)
			return st;
		trailer(v, out);
		return QV_DONE;
	}
	if ((st = count_older(v, t)) != QV_DONE)
		return st;
	for (i = 0; i < QVIEW_STEP_MSGS && out->len < end && !done; i++) {
		if (v->sel.ids != NULL) {
			if (v->next == v->sel.nids) {
				done = 1;
				break;
			}
			st = queue_get_msg(t, v->sel.ids[v->next++], &m);
		} else if ((st = queue_next_msg(t, v->after, &m)) ==
		    QUEUE_NOTFOUND || m.id > v->upto) {
			done = 1;
			break;
		} else {
			v->after = m.id;
		}
		if (st == QUEUE_NOTFOUND)
			continue;
		if (st == QUEUE_CORRUPT) {
			v->damaged++;
			continue;
		}
		if (st != QUEUE_OK)
			return st;
		active = qview_active(v, m.id);
		if (qsel_match(&v->sel, v->cfg, t, &m, active) &&
		    one(v, out, t, &m, active) < 0)
			v->damaged++;
	}
	if (!done)
		return QV_MORE;
	trailer(v, out);
	return QV_DONE;
}

int qview_step(struct qview *v, struct queue *q, struct strbuf *out,
    size_t budget)
{
	struct queue_txn *t;
	size_t end = out->len + budget;
	int st;

	if ((st = queue_begin(q, 0, &t)) != QUEUE_OK)
		return st;
	switch (v->kind) {
	case QV_SHOW:
		st = qview_step_show(v, t, out, end);
		break;
	case QV_CONTENT:
		st = qview_step_content(v, t, out, end);
		break;
	default:
		st = step_list(v, t, out, end);
		break;
	}
	queue_abort(&t);
	return st;
}
