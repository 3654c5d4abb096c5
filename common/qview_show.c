/*
 * qview_show - the show view (qview.h): one message's envelope, header
 * summary and every recipient with its attempts, the retries still
 * planned and when postern gives up, its last status and, on request,
 * its last transcript; as text or JSON (the JSON of the listings, with
 * more per recipient). And show --content, the message as stored. Both
 * go a bounded number of recipients (or bytes) per step.
 */
#include <stdio.h>
#include <string.h>

#include "qview.h"
#include "qview_impl.h"
#include "retry.h"
#include "strbuf.h"
#include "timeutil.h"

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
	timeutil_local(m->arrival, when);
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
	int64_t tl[RETRY_TIMELINE_MAX];
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
		timeutil_local(r->first, a);
		timeutil_local(r->last, b);
		strbuf_appendf(out, " (first %s, last %s)", a, b);
	}
	strbuf_appendc(out, '\n');
	n = retry_timeline(v->cfg, m, r, tl, RETRY_TIMELINE_MAX);
	if (n > 0) {
		timeutil_local(tl[0], a);
		strbuf_appendf(out, "    next attempt %s\n", a);
	}
	if (n > 1) {
		strbuf_appends(out, "    then about");
		for (i = 1; i < n; i++) {
			timeutil_local(tl[i], a);
			strbuf_appendf(out, "%s %s", i > 1 ? "," : "", a);
		}
		strbuf_appendc(out, '\n');
	}
	if (n > 0) {
		timeutil_local(tl[n - 1], a);
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

/* qview_step_show - the message's head once, then recipients within budget */
int qview_step_show(struct qview *v, struct queue_txn *t,
    struct strbuf *out, size_t end)
{
	struct queue_msg m;
	struct queue_rcpt r;
	int st, active = qview_active(v, v->id);

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
			qview_json_head(out, &m, active);
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
			qview_json_rcpt(v, out, &m, &r, 1, v->transcript ? t : NULL);
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

/* qview_step_content - the stored content, chunk by chunk */
int qview_step_content(struct qview *v, struct queue_txn *t,
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
