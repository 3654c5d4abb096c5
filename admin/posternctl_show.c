/*
 * posternctl_show - the show and mailq verbs.
 *
 * show prints one message: envelope, header summary and every recipient;
 * with --content, the stored message itself. mailq prints the listing in
 * the layout of Postfix's mailq with long queue ids (the ids are
 * postern's), so that scripts that parse it keep working: '!' marks a
 * held message, and a deferred recipient's last error stands above it in
 * parentheses. ('*', a message being delivered, needs the queue
 * manager's view and comes with the control socket.)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "exitcodes.h"
#include "posternctl.h"
#include "queue.h"
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

/* text_rcpt - one recipient of show */
static void text_rcpt(struct strbuf *out, const struct queue_rcpt *r)
{
	char when[TIMEUTIL_BUF];

	strbuf_appendf(out, "  <%s>", r->addr);
	if (r->orig[0] != '\0') {
		strbuf_appends(out, " (given as ");
		strbuf_append_printable(out, r->orig, strlen(r->orig), 1);
		strbuf_appendc(out, ')');
	}
	strbuf_appendf(out, "\n    state %s, %u attempt%s", queue_state_name(
	    r->state), r->attempts, r->attempts == 1 ? "" : "s");
	if (r->state == QS_PENDING || r->state == QS_DEFERRED) {
		ctl_local_time(r->next, when);
		strbuf_appendf(out, ", next attempt %s", when);
	}
	strbuf_appendc(out, '\n');
	if (r->status[0] != '\0' || r->diag[0] != '\0') {
		strbuf_appendf(out, "    last status %s", r->status[0] ?
		    r->status : "-");
		if (r->relay[0])
			strbuf_appendf(out, " from %s", r->relay);
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

/* text_show - the whole human view of one message */
static int text_show(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, int transcript)
{
	char id[QUEUE_ID_TEXT + 1], when[TIMEUTIL_BUF];
	struct queue_rcpt r;
	uint32_t i;

	queue_id_format(m->id, id);
	ctl_local_time(m->arrival, when);
	strbuf_appendf(out, "%-12s %s\n%-12s %s\n%-12s %llu bytes\n"
	    "%-12s <%s>\n", "Queue ID:", id, "Arrival:", when, "Size:",
	    (unsigned long long)m->size, "Sender:", m->sender);
	text_field(out, "From:", m->from);
	text_field(out, "Subject:", m->subject);
	text_field(out, "Message-ID:", m->msgid);
	text_field(out, "ENVID:", m->envid);
	strbuf_appendf(out, "%-12s %s\nRecipients:\n", "Held:",
	    m->flags & QUEUE_MSG_HELD ? "yes" : "no");
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK)
			return -1;
		text_rcpt(out, &r);
		if (transcript)
			text_transcript(out, t, &r);
	}
	return 0;
}

/* ctl_show - the show verb */
int ctl_show(struct ctl *c, const char *text)
{
	struct strbuf out = STRBUF_INIT(64u << 20);
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t id;
	int st;

	if (queue_id_parse(text, &id) < 0)
		die_perm(EX_USAGE, "'%s' is not a queue id", text);
	if (queue_begin(c->queue, 0, &t) != QUEUE_OK)
		die_temp("cannot read the queue: %s", queue_error(c->queue));
	if ((st = queue_get_msg(t, id, &m)) == QUEUE_NOTFOUND)
		die_perm(EX_NOUSER, "no message %s in the queue", text);
	if (st == QUEUE_OK && c->content)
		st = queue_content_write(t, id, STDOUT_FILENO);
	else if (st == QUEUE_OK)
		st = (c->json ? ctl_json_msg(&out, t, &m, c->transcript ? c :
		    NULL) : text_show(&out, t, &m, c->transcript)) < 0 ?
		    QUEUE_CORRUPT : QUEUE_OK;
	queue_abort(&t);
	if (st != QUEUE_OK)
		die_perm(EX_SOFTWARE, "cannot read message %s: %s", text,
		    queue_error(c->queue));
	ctl_emit(&out);
	strbuf_release(&out);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

struct mailq_ctx {
	uint64_t bytes;
	uint64_t count;
	char saved[QUEUE_DIAG_MAX + 1];	/* the last reason shown */
};

/* mailq_reason - Postfix shows a reason line only when it changes from
   one recipient to the next, right-aligned to column 76 */
static void mailq_reason(struct strbuf *out, struct mailq_ctx *mc,
    const char *why)
{
	const char *show = why[0] ? why : "reason unavailable";
	int pad = 76 - (int)strlen(show);

	if (strcmp(mc->saved, why) == 0)
		return;
	strlcpy(mc->saved, why, sizeof(mc->saved));
	strbuf_appendf(out, "%*s(", pad < 0 ? 0 : pad, "");
	strbuf_append_printable(out, show, strlen(show), 1);
	strbuf_appends(out, ")\n");
}

/* mailq_msg - one message in Postfix's mailq layout */
static int mailq_msg(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, void *ctx)
{
	struct mailq_ctx *mc = ctx;
	char id[QUEUE_ID_TEXT + 2], when[TIMEUTIL_BUF];
	struct queue_rcpt r;
	uint32_t i;

	queue_id_format(m->id, id);
	if (m->flags & QUEUE_MSG_HELD)
		strlcat(id, "!", sizeof(id));
	timeutil_listing(m->arrival, when);
	if (mc->count++ == 0)
		strbuf_appendf(out, "%-17s %8s %-19s %s\n", "----Queue ID-----",
		    "--Size--", "---Arrival Time----",
		    "--Sender/Recipient------");
	else
		strbuf_appendc(out, '\n');
	strbuf_appendf(out, "%-17s %8llu %19.19s %s\n", id,
	    (unsigned long long)m->size, when, m->sender[0] ? m->sender :
	    "MAILER-DAEMON");
	mc->saved[0] = '\0';
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK)
			return -1;
		if (r.state != QS_PENDING && r.state != QS_DEFERRED &&
		    r.state != QS_HELD)
			continue;
		mailq_reason(out, mc, r.state == QS_DEFERRED ? r.diag : "");
		strbuf_appendf(out, "%-17s %8s %-19s %s\n", "", "", "", r.addr);
	}
	mc->bytes += m->size;
	return 0;
}

/* ctl_mailq - the mailq verb */
int ctl_mailq(struct ctl *c)
{
	struct mailq_ctx mc;
	uint64_t n;

	memset(&mc, 0, sizeof(mc));
	ctl_walk(c, mailq_msg, &mc, &n);
	if (n == 0)
		printf("Mail queue is empty\n");
	else
		printf("\n-- %llu Kbytes in %llu Request%s.\n",
		    (unsigned long long)(mc.bytes / 1024),
		    (unsigned long long)n, n == 1 ? "" : "s");
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
