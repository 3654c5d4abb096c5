/*
 * posternctl_queue - the queue, show and mailq verbs.
 *
 * Listings go in batches: a short read transaction renders up to
 * BATCH_MESSAGES messages (or BATCH_BYTES of output) into memory, ends,
 * and only then is the output written, so that a slow reader (a pager, a
 * pipe) never holds a read transaction open. Everything a sender or a
 * remote server wrote is escaped before it reaches a terminal (control
 * characters) or JSON (json.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "exitcodes.h"
#include "json.h"
#include "posternctl.h"
#include "queue.h"
#include "strbuf.h"
#include "timeutil.h"

#define BATCH_MESSAGES 1024
#define BATCH_BYTES (4u << 20)
#define OUT_MAX (256u << 20)

/* ctl_emit - write out and empty the buffer */
void ctl_emit(struct strbuf *out)
{
	if (out->len > 0 && fwrite(out->s, 1, out->len, stdout) != out->len)
		die_perm(EX_IOERR, "write error on standard output");
	strbuf_reset(out);
}

/* ctl_local_time - "2026-11-28 23:15:01" */
void ctl_local_time(int64_t us, char buf[TIMEUTIL_BUF])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, TIMEUTIL_BUF, "%Y-%m-%d %H:%M:%S", &tm);
}

/* json_opt - "key":"value", or null when value is empty */
static void json_opt(struct strbuf *out, const char *key, const char *value)
{
	if (value[0] != '\0') {
		json_key_string(out, key, value);
		return;
	}
	json_string(out, key, strlen(key));
	strbuf_appends(out, ":null");
}

/* json_time - "key":"RFC 3339", or null for 0 */
static void json_time(struct strbuf *out, const char *key, int64_t us)
{
	char buf[TIMEUTIL_BUF] = "";

	if (us != 0)
		timeutil_rfc3339(us, buf);
	json_opt(out, key, buf);
}

/* json_rcpt - one recipient object; with t, its last transcript too */
static void json_rcpt(struct strbuf *out, const struct queue_rcpt *r,
    struct queue_txn *t)
{
	struct strbuf xs = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX + 1);

	int waiting = r->state == QS_PENDING || r->state == QS_DEFERRED;

	strbuf_appendc(out, '{');
	json_key_string(out, "address", r->addr);
	strbuf_appendc(out, ',');
	json_opt(out, "original", r->orig);
	strbuf_appendc(out, ',');
	json_key_string(out, "state", queue_state_name(r->state));
	strbuf_appendc(out, ',');
	json_key_int(out, "attempts", r->attempts);
	strbuf_appendc(out, ',');
	json_time(out, "next_attempt", waiting ? r->next : 0);
	strbuf_appendc(out, ',');
	json_time(out, "last_attempt", r->last);
	strbuf_appendc(out, ',');
	json_opt(out, "status", r->status);
	strbuf_appendc(out, ',');
	json_opt(out, "diagnostic", r->diag);
	strbuf_appendc(out, ',');
	json_opt(out, "relay", r->relay);
	if (t != NULL && queue_get_transcript(t, r->id, r->idx, &xs) ==
	    QUEUE_OK) {
		strbuf_appendc(out, ',');
		json_key_string(out, "transcript", strbuf_str(&xs));
	}
	strbuf_release(&xs);
	strbuf_appendc(out, '}');
}

/* ctl_json_msg - one message object with its recipients, one line; ctx
   not NULL: with each recipient's last transcript */
int ctl_json_msg(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, void *ctx)
{
	char id[QUEUE_ID_TEXT + 1];
	struct queue_rcpt r;
	uint32_t i;

	queue_id_format(m->id, id);
	strbuf_appendc(out, '{');
	json_key_string(out, "id", id);
	strbuf_appendc(out, ',');
	json_key_string(out, "sender", m->sender);
	strbuf_appendc(out, ',');
	json_time(out, "arrival", m->arrival);
	strbuf_appendc(out, ',');
	json_key_int(out, "size", (int64_t)m->size);
	strbuf_appends(out, m->flags & QUEUE_MSG_HELD ? ",\"held\":true," :
	    ",\"held\":false,");
	json_opt(out, "from", m->from);
	strbuf_appendc(out, ',');
	json_opt(out, "subject", m->subject);
	strbuf_appendc(out, ',');
	json_opt(out, "message_id", m->msgid);
	strbuf_appends(out, ",\"recipients\":[");
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK)
			return -1;
		if (i > 0)
			strbuf_appendc(out, ',');
		json_rcpt(out, &r, ctx != NULL ? t : NULL);
	}
	return strbuf_appends(out, "]}\n");
}

/* states - "2 pending, 1 deferred" and the earliest next attempt */
static int states(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, int64_t *next_r)
{
	uint32_t count[QS_EXPANDED + 1] = { 0 }, i;
	struct queue_rcpt r;
	int s, first = 1;

	*next_r = 0;
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK)
			return -1;
		count[r.state]++;
		if ((r.state == QS_PENDING || r.state == QS_DEFERRED) &&
		    (*next_r == 0 || r.next < *next_r))
			*next_r = r.next;
	}
	for (s = QS_PENDING; s <= QS_EXPANDED; s++) {
		if (count[s] == 0)
			continue;
		strbuf_appendf(out, "%s%u %s", first ? "" : ", ", count[s],
		    queue_state_name(s));
		first = 0;
	}
	return 0;
}

/* text_msg - one aligned line for the queue verb */
static int text_msg(struct strbuf *out, struct queue_txn *t,
    const struct queue_msg *m, void *ctx)
{
	char id[QUEUE_ID_TEXT + 1], when[TIMEUTIL_BUF], next[TIMEUTIL_BUF];
	struct strbuf st = STRBUF_INIT(4096);
	int64_t n;

	(void)ctx;
	queue_id_format(m->id, id);
	ctl_local_time(m->arrival, when);
	if (states(&st, t, m, &n) < 0) {
		strbuf_release(&st);
		return -1;
	}
	if (n == 0)
		strlcpy(next, "-", sizeof(next));
	else
		ctl_local_time(n, next);
	strbuf_appendf(out, "%-11s  %-19s  %9llu  %-19s  %-28s  <%s>%s\n", id,
	    when, (unsigned long long)m->size, next, strbuf_str(&st),
	    m->sender, m->flags & QUEUE_MSG_HELD ? " (held)" : "");
	strbuf_release(&st);
	return 0;
}

/* ctl_walk - render every message, batch by batch */
int ctl_walk(struct ctl *c, ctl_render_fn fn, void *ctx, uint64_t *count_r)
{
	struct strbuf out = STRBUF_INIT(OUT_MAX);
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t after = 0, n = 0;
	int st = QUEUE_OK, i;

	do {
		if (queue_begin(c->queue, 0, &t) != QUEUE_OK)
			die_temp("cannot read the queue: %s",
			    queue_error(c->queue));
		for (i = 0; i < BATCH_MESSAGES && out.len < BATCH_BYTES; i++) {
			if ((st = queue_next_msg(t, after, &m)) ==
			    QUEUE_NOTFOUND)
				break;
			after = m.id;
			if (st != QUEUE_OK || fn(&out, t, &m, ctx) < 0)
				fprintf(stderr, "posternctl: skipping a damaged "
				    "message: %s\n", queue_error(c->queue));
			else
				n++;
			st = QUEUE_OK;
		}
		queue_abort(&t);
		ctl_emit(&out);
	} while (st == QUEUE_OK && i > 0);
	strbuf_release(&out);
	*count_r = n;
	return 0;
}

/* ctl_queue - the queue verb */
int ctl_queue(struct ctl *c)
{
	uint64_t n;

	if (!c->json)
		printf("%-11s  %-19s  %9s  %-19s  %-28s  %s\n", "ID", "ARRIVAL",
		    "SIZE", "NEXT ATTEMPT", "RECIPIENTS", "SENDER");
	ctl_walk(c, c->json ? ctl_json_msg : text_msg, NULL, &n);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
