/*
 * qmgr_notice_job - what a notice job tells postern-bounce: who is owed a
 * notice and when (the rules), and the job record itself (bounce_proto.h)
 * with the original's content. Used by qmgr_notice.c (the worker and
 * storing), qmgr_result.c (marking debts) and qmgr_sched.c (delay
 * warnings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bounce_proto.h"
#include "config.h"
#include "memfd.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "queue.h"
#include "retry.h"

const char *const notice_kind_names[] = { "failure", "delay", "success" };

/* mailer_daemon - a sender that is itself a notice's */
int notice_from_daemon(const char *sender)
{
	return sender[0] == '\0' || strncasecmp(sender, "MAILER-DAEMON@",
	    14) == 0 || strcasecmp(sender, "MAILER-DAEMON") == 0;
}

/* notify_allows - the recipient's NOTIFY list includes want (no list:
   FAILURE and DELAY, RFC 3461 4.1) */
static int notify_allows(unsigned flags, unsigned want)
{
	unsigned list = flags & (QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE |
	    QUEUE_NOTIFY_DELAY);

	if (flags & QUEUE_NOTIFY_NEVER)
		return 0;
	if (list == 0)
		return want != QUEUE_NOTIFY_SUCCESS;
	return (list & want) != 0;
}

int notice_owed(const struct queue_msg *m, const struct queue_rcpt *r)
{
	if (r->state == QS_FAILED)
		return !(m->flags & QUEUE_MSG_DOUBLE) &&
		    notify_allows(r->flags, QUEUE_NOTIFY_FAILURE);
	if (r->state == QS_DELIVERED)
		return !notice_from_daemon(m->sender) &&
		    notify_allows(r->flags, QUEUE_NOTIFY_SUCCESS);
	return 0;
}

int64_t notice_warn_time(const struct config *cfg, const struct queue_msg *m,
    const struct queue_rcpt *r)
{
	int64_t after = config_duration(cfg, CK_delay_warning_after);

	if (after <= 0 || (r->flags & QUEUE_RCPT_WARNED) ||
	    (m->flags & QUEUE_MSG_NOTICE) || notice_from_daemon(m->sender) ||
	    !notify_allows(r->flags, QUEUE_NOTIFY_DELAY) ||
	    (r->state != QS_PENDING && r->state != QS_DEFERRED))
		return 0;
	return m->arrival + after * 1000000;
}

/* notice_to - who gets the notice about a message from sender: the
   sender, or the postmaster (qualified) for a notice's own failure */
void notice_to(const struct config *cfg, const char *sender,
    char *buf, size_t len)
{
	const char *pm = config_str(cfg, CK_postmaster_address);

	if (!notice_from_daemon(sender))
		snprintf(buf, len, "%s", sender);
	else if (strchr(pm, '@') != NULL)
		snprintf(buf, len, "%s", pm);
	else
		snprintf(buf, len, "%s@%s", pm, config_str(cfg, CK_myhostname));
}

/* put_times - optional times of a recipient group */
static void put_time(struct strbuf *out, const char *name, int64_t v)
{
	if (v > 0)
		attr_put_i64(out, name, v);
}

/* orig_of - the address the sender used for r: its ORCPT (up to
   QUEUE_ORCPT_MAX, never cut), else what rcpt_original says (in up); NULL
   when it is the address reported (shown) */
static const char *orig_of(struct queue_txn *t, const struct queue_rcpt *r,
    const char *shown, char up[ADDRESS_BUF])
{
	const char *o = rcpt_original(t, r, up);

	if (strncasecmp(r->orcpt, "rfc822;", 7) == 0)
		o = r->orcpt + 7;
	return o && strcmp(o, shown) != 0 ? o : NULL;
}

/* action - the DSN Action of a recipient in a notice of kind k */
static const char *action(enum notice_kind k, const struct queue_rcpt *r)
{
	if (k == NOTICE_DELAY)
		return "delayed";
	if (k == NOTICE_FAILURE)
		return "failed";
	return strcmp(r->relay, "local") == 0 || r->relay[0] == '\0' ?
	    "delivered" : "relayed";
}

/* put_rcpts - the recipient groups of message m; -1 when the queue
   failed */
static int put_rcpts(struct qmgr *q, struct queue_txn *t,
    const struct njob *j, const struct queue_msg *m, struct strbuf *out)
{
	struct strbuf xs = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX + 1);
	struct strbuf prev = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX + 1), swap;
	struct queue_rcpt r;
	char up[ADDRESS_BUF];
	struct queue_rcpt parent;
	const char *shown, *orig;
	int64_t tl[RETRY_TIMELINE_MAX];
	uint32_t prev_idx = 0;
	int have_prev = 0, st = QUEUE_OK;
	size_t i, n;

	for (i = 0; i < j->n && st == QUEUE_OK; i++) {
		if ((st = queue_get_rcpt(t, j->id, j->idx[i], &r)) != QUEUE_OK)
			break;
		attr_put_u64(out, "rcpt", r.idx);
		shown = rcpt_shown(t, &r, &parent);
		attr_put_str(out, "addr", shown);
		if ((orig = orig_of(t, &r, shown, up)) != NULL)
			attr_put_str(out, "orig", orig);
		attr_put_str(out, "action", action(j->kind, &r));
		attr_put_str(out, "status", r.status[0] ? r.status :
		    j->kind == NOTICE_DELAY ? "4.0.0" : j->kind ==
		    NOTICE_FAILURE ? "5.0.0" : "2.0.0");
		/* A local delivery's text names paths on this host: an
		   outside sender learns only that it was delivered. */
		attr_put_str(out, "diag", j->kind == NOTICE_SUCCESS &&
		    strcmp(r.relay, "local") == 0 ? "delivered to the "
		    "recipient's mailbox" : r.diag[0] ? r.diag : "(none)");
		attr_put_str(out, "relay", r.relay[0] ? r.relay : "none");
		attr_put_u64(out, "attempts", r.attempts);
		put_time(out, "first", r.first);
		put_time(out, "last", r.last);
		/* when postern gives up: as posternctl show says it */
		if (j->kind == NOTICE_DELAY && (n = retry_timeline(q->cfg, m,
		    &r, tl, RETRY_TIMELINE_MAX)) > 0)
			put_time(out, "until", tl[n - 1]);
		if (queue_get_transcript(t, j->id, r.idx, &xs) != QUEUE_OK ||
		    xs.len == 0)
			continue;
		if (have_prev && xs.len == prev.len &&
		    memcmp(xs.s, prev.s, xs.len) == 0) {
			attr_put_u64(out, "same_as", prev_idx);
			continue;
		}
		attr_put(out, "transcript", xs.s, xs.len);
		swap = prev;
		prev = xs;
		xs = swap;
		prev_idx = r.idx;
		have_prev = 1;
	}
	strbuf_release(&xs);
	strbuf_release(&prev);
	return st == QUEUE_OK ? 0 : -1;
}

int notice_build(struct qmgr *q, const struct njob *j, struct strbuf *out,
    int *memfd_r)
{
	char to[ADDRESS_BUF + 300];
	struct queue_txn *t = NULL;
	struct queue_msg m;
	int st;

	st = job_begin(q, j->id, BOUNCE_VERSION, &t, &m, out);
	if (t == NULL)
		return -1;
	if (st == QUEUE_OK) {
		int dbl = notice_from_daemon(m.sender);

		notice_to(q->cfg, m.sender, to, sizeof(to));
		attr_put_str(out, "kind", notice_kind_names[j->kind]);
		attr_put_str(out, "to", to);
		attr_put_str(out, "sender", m.sender);
		if (dbl)
			attr_put_str(out, "double", "1");
		attr_put_i64(out, "arrival", m.arrival);
		attr_put_u64(out, "size", m.size);
		job_put_dsn(out, &m);
		if (m.msgid[0])
			attr_put_str(out, "msgid", m.msgid);
		if (m.subject[0])
			attr_put_str(out, "subject", m.subject);
		if (put_rcpts(q, t, j, &m, out) < 0)
			st = QUEUE_CORRUPT;
	}
	return job_content(&t, j->id, st, out, memfd_r);
}
