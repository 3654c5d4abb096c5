/*
 * qview - the listings and the show view of the queue, in steps
 * (qview.h). The queue manager streams them through its control socket;
 * posternctl renders them itself when it reads the queue directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "json.h"
#include "qview.h"
#include "retry.h"
#include "strbuf.h"
#include "timeutil.h"

#define TIMELINE_MAX 64		/* planned attempts shown */

void qsel_init(struct qsel *s)
{
	memset(s, 0, sizeof(*s));
	s->state = -1;
}

int qsel_state(const char *name)
{
	if (strcmp(name, "active") == 0)
		return QSEL_ACTIVE;
	return queue_state_lookup(name);
}

int qsel_filters(const struct qsel *s)
{
	return s->sender || s->recipient || s->domain || s->error ||
	    s->state >= 0 || s->older || s->owner;
}

int qsel_owned(const struct config *cfg, const char *login,
    const char *sender)
{
	const char *at = strrchr(sender, '@');
	const char *const *v;
	size_t n, i;

	if (at == NULL || (size_t)(at - sender) != strlen(login) ||
	    strncasecmp(sender, login, strlen(login)) != 0)
		return 0;
	if (strcasecmp(at + 1, config_str(cfg, CK_myhostname)) == 0)
		return 1;
	v = config_list(cfg, CK_local_domains, &n);
	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], at + 1) == 0)
			return 1;
	return 0;
}

/* contains - needle in hay, ignoring ASCII case */
static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

/* rcpt_matches - the recipient selectors hold for r */
static int rcpt_matches(const struct qsel *s, const struct queue_rcpt *r)
{
	const char *at = strrchr(r->addr, '@');

	if (s->recipient && strcasecmp(r->addr, s->recipient) != 0)
		return 0;
	if (s->domain && (at == NULL || strcasecmp(at + 1, s->domain) != 0))
		return 0;
	if (s->state >= 0 && s->state != QSEL_ACTIVE &&
	    (int)r->state != s->state)
		return 0;
	if (s->error && !contains(r->diag, s->error))
		return 0;
	return 1;
}

int qsel_match(const struct qsel *s, const struct config *cfg,
    struct queue_txn *t, const struct queue_msg *m, int active)
{
	struct queue_rcpt r;
	uint32_t i;

	if (s->owner && !qsel_owned(cfg, s->owner, m->sender))
		return 0;
	if (s->sender && (strcmp(s->sender, "<>") == 0 ? m->sender[0] !=
	    '\0' : strcasecmp(m->sender, s->sender) != 0))
		return 0;
	if (s->older && m->arrival > s->older)
		return 0;
	if (s->state == QSEL_ACTIVE && !active)
		return 0;
	if (!s->recipient && !s->domain && !s->error &&
	    (s->state < 0 || s->state == QSEL_ACTIVE))
		return 1;
	for (i = 0; i < m->nrcpt; i++)
		if (queue_get_rcpt(t, m->id, i, &r) == QUEUE_OK &&
		    rcpt_matches(s, &r))
			return 1;
	return 0;
}

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

void qview_local_time(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* is_active - a job for message id is in flight */
static int is_active(const struct qview *v, uint64_t id)
{
	size_t lo = 0, hi = v->nactive;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->active[mid] == id)
			return 1;
		if (v->active[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* waiting - the recipient has an attempt ahead */
static int waiting(const struct queue_rcpt *r)
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

/* json_rcpt - one recipient; full: with the give-up time, the planned
   retries and (t not NULL) the last transcript */
static void json_rcpt(const struct qview *v, struct strbuf *out,
    const struct queue_msg *m, const struct queue_rcpt *r, int full,
    struct queue_txn *t)
{
	int64_t tl[TIMELINE_MAX];
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
	json_time(out, waiting(r) ? r->next : 0);
	KEY(out, ",\"first_attempt\":");
	json_time(out, r->first);
	KEY(out, ",\"last_attempt\":");
	json_time(out, r->last);
	json_opts(out, last_keys, (const char *const[]){ r->status, r->diag,
	    r->relay }, 3);
	if (full) {
		n = retry_timeline(v->cfg, m, r, tl, TIMELINE_MAX);
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

/* json_head - a message object up to its recipients' array */
static void json_head(struct strbuf *out, const struct queue_msg *m,
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

	json_head(out, m, active);
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK)
			return -1;
		if (i > 0)
			strbuf_appendc(out, ',');
		json_rcpt(v, out, m, &r, 0, NULL);
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
		if (waiting(&r) && (n == 0 || r.next < n))
			n = r.next;
	}
	st[0] = '\0';
	for (s = QS_PENDING; s <= QS_EXPANDED; s++)
		if (count[s] > 0 && o < sizeof(st))
			o += (size_t)snprintf(st + o, sizeof(st) - o, "%s%u %s",
			    o ? ", " : "", count[s], queue_state_name(s));
	queue_id_format(m->id, id);
	qview_local_time(m->arrival, when, sizeof(when));
	if (n == 0)
		snprintf(next, sizeof(next), "-");
	else
		qview_local_time(n, next, sizeof(next));
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
		if (!waiting(&r) && r.state != QS_HELD)
			continue;
		mailq_reason(v, out, r.state == QS_DEFERRED ? r.diag : "");
		strbuf_appendf(out, "%-17s %8s %-19s ", "", "", "");
		strbuf_append_printable(out, r.addr, strlen(r.addr), 1);
		strbuf_appendc(out, '\n');
	}
	return 0;
}

/* --- show --- */

/* text_field - "Label: value" with control characters escaped */
static void text_field(struct strbuf *out, const char *label, const char *v)
{
	if (v[0] == '\0')
		return;
	strbuf_appendf(out, "%-12s ", label);
	strbuf_append_printable(out, v, strlen(v), 1);
	strbuf_appendc(out, '\n');
}

/* text_head - the envelope and header summary of show */
static void text_head(struct strbuf *out, const struct queue_msg *m,
    int active)
{
	char id[QUEUE_ID_TEXT + 1], when[TIMEUTIL_BUF];

	queue_id_format(m->id, id);
	qview_local_time(m->arrival, when, sizeof(when));
	strbuf_appendf(out, "%-12s %s\n%-12s %s\n%-12s %llu bytes\n"
	    "%-12s <", "Queue ID:", id, "Arrival:", when, "Size:",
	    (unsigned long long)m->size, "Sender:");
	strbuf_append_printable(out, m->sender, strlen(m->sender), 1);
	strbuf_appends(out, ">\n");
	text_field(out, "From:", m->from);
	text_field(out, "Subject:", m->subject);
	text_field(out, "Message-ID:", m->msgid);
	text_field(out, "ENVID:", m->envid);
	strbuf_appendf(out, "%-12s %s\n%-12s %s\nRecipients:\n", "Held:",
	    m->flags & QUEUE_MSG_HELD ? "yes" : "no", "In flight:",
	    active ? "yes" : "no");
}

/* text_rcpt - one recipient of show: state, attempts, the planned
   retries and when postern gives up, the last status */
static void text_rcpt(const struct qview *v, struct strbuf *out,
    const struct queue_msg *m, const struct queue_rcpt *r)
{
	char a[TIMEUTIL_BUF], b[TIMEUTIL_BUF];
	int64_t tl[TIMELINE_MAX];
	size_t n, i;

	strbuf_appends(out, "  <");
	strbuf_append_printable(out, r->addr, strlen(r->addr), 1);
	strbuf_appendc(out, '>');
	if (r->orig[0] != '\0') {
		strbuf_appends(out, " (given as ");
		strbuf_append_printable(out, r->orig, strlen(r->orig), 1);
		strbuf_appendc(out, ')');
	}
	strbuf_appendf(out, "\n    state %s, %u attempt%s", queue_state_name(
	    r->state), r->attempts, r->attempts == 1 ? "" : "s");
	if (r->first != 0) {
		qview_local_time(r->first, a, sizeof(a));
		qview_local_time(r->last, b, sizeof(b));
		strbuf_appendf(out, " (first %s, last %s)", a, b);
	}
	strbuf_appendc(out, '\n');
	n = retry_timeline(v->cfg, m, r, tl, TIMELINE_MAX);
	if (n > 0) {
		qview_local_time(tl[0], a, sizeof(a));
		strbuf_appendf(out, "    next attempt %s\n", a);
	}
	if (n > 1) {
		strbuf_appends(out, "    then about");
		for (i = 1; i < n; i++) {
			qview_local_time(tl[i], a, sizeof(a));
			strbuf_appendf(out, "%s %s", i > 1 ? "," : "", a);
		}
		strbuf_appendc(out, '\n');
	}
	if (n > 0) {
		qview_local_time(tl[n - 1], a, sizeof(a));
		strbuf_appendf(out, "    gives up if the attempt at %s "
		    "fails\n", a);
	}
	if (r->status[0] != '\0' || r->diag[0] != '\0') {
		strbuf_appendf(out, "    last status %s", r->status[0] ?
		    r->status : "-");
		if (r->relay[0]) {
			strbuf_appends(out, " from ");
			strbuf_append_printable(out, r->relay,
			    strlen(r->relay), 1);
		}
		strbuf_appends(out, ": ");
		strbuf_append_printable(out, r->diag, strlen(r->diag), 1);
		strbuf_appendc(out, '\n');
	}
}

/* text_transcript - the recipient's last transcript, indented */
static void text_transcript(struct strbuf *out, struct queue_txn *t,
    const struct queue_rcpt *r)
{
	struct strbuf xs = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX + 1);
	const char *p, *nl;

	if (queue_get_transcript(t, r->id, r->idx, &xs) == QUEUE_OK &&
	    xs.len > 0) {
		strbuf_appends(out, "    transcript of the last attempt:\n");
		for (p = xs.s; *p; p = nl ? nl + 1 : p + strlen(p)) {
			nl = strchr(p, '\n');
			strbuf_appends(out, "      ");
			strbuf_append_printable(out, p, nl ? (size_t)(nl - p) :
			    strlen(p), 1);
			strbuf_appendc(out, '\n');
		}
	}
	strbuf_release(&xs);
}

/* step_show - the message's head once, then recipients within budget */
static int step_show(struct qview *v, struct queue_txn *t,
    struct strbuf *out, size_t end)
{
	struct queue_msg m;
	struct queue_rcpt r;
	int st, active = is_active(v, v->id);

	if ((st = queue_get_msg(t, v->id, &m)) == QUEUE_NOTFOUND &&
	    !v->started)
		return QV_NOMSG;
	if (st == QUEUE_NOTFOUND) {
		/* it left the queue between steps: end what was begun */
		strbuf_appends(out, v->json ? "]}\n" :
		    "(the message left the queue meanwhile)\n");
		return QV_DONE;
	}
	if (st != QUEUE_OK)
		return st;
	if (v->sel.owner && !qsel_owned(v->cfg, v->sel.owner, m.sender))
		return QV_DENIED;
	if (!v->started) {
		if (v->json)
			json_head(out, &m, active);
		else
			text_head(out, &m, active);
		v->started = 1;
	}
	for (; v->rcpt < m.nrcpt && out->len < end; v->rcpt++) {
		if ((st = queue_get_rcpt(t, m.id, v->rcpt, &r)) != QUEUE_OK)
			return st;
		if (v->json) {
			if (v->rcpt > 0)
				strbuf_appendc(out, ',');
			json_rcpt(v, out, &m, &r, 1, v->transcript ? t : NULL);
		} else {
			text_rcpt(v, out, &m, &r);
			if (v->transcript)
				text_transcript(out, t, &r);
		}
	}
	if (v->rcpt < m.nrcpt)
		return QV_MORE;
	if (v->json)
		strbuf_appends(out, "]}\n");
	return QV_DONE;
}

/* step_content - the stored content, chunk by chunk */
static int step_content(struct qview *v, struct queue_txn *t,
    struct strbuf *out, size_t end)
{
	struct queue_msg m;
	const void *p;
	size_t len;
	int st;

	if ((st = queue_get_msg(t, v->id, &m)) == QUEUE_NOTFOUND)
		return v->started ? QUEUE_CORRUPT : QV_NOMSG;
	if (st != QUEUE_OK)
		return st;
	if (v->sel.owner && !qsel_owned(v->cfg, v->sel.owner, m.sender))
		return QV_DENIED;
	v->started = 1;
	while (out->len < end) {
		st = queue_content_chunk(t, v->id, v->chunk, &p, &len);
		if (st == QUEUE_NOTFOUND)
			return v->sent == m.size ? QV_DONE : QUEUE_CORRUPT;
		if (st != QUEUE_OK)
			return st;
		if (v->sent + len > m.size || strbuf_append(out, p, len) < 0)
			return QUEUE_CORRUPT;
		v->sent += len;
		v->chunk++;
	}
	return QV_MORE;
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
		active = is_active(v, m.id);
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
		st = step_show(v, t, out, end);
		break;
	case QV_CONTENT:
		st = step_content(v, t, out, end);
		break;
	default:
		st = step_list(v, t, out, end);
		break;
	}
	queue_abort(&t);
	return st;
}
