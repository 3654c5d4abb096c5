/*
 * remote_smtp - the SMTP dialogue of postern-remote.
 *
 * A job goes to the cached session when it talks to the job's
 * destination (after an RSET that proves it alive), else to the
 * destination's addresses in order (remote_dest.c). On each address the
 * session is set up (remote_session.c: greeting, EHLO, STARTTLS per the
 * job's level, AUTH when the next hop has credentials), then the
 * transactions here.
 *
 * Outcomes, per recipient: a RCPT reply counts for that recipient alone
 * (2xx accepted, 4xx deferred, 5xx failed; 452 "too many recipients"
 * moves it to the next transaction on the same connection); the reply to
 * the end of data decides for every accepted one; MAIL FROM refused
 * decides for all. A connection that fails before a recipient's final
 * reply (refused, timed out, dropped, 421, TLS required but failed)
 * leaves that recipient for the next address; when none is left it is
 * deferred with the last failure. A TLS handshake that fails at level
 * "may" is not retried inside the session: the same address is tried
 * again at once on a new connection, in plaintext.
 *
 * The transcript gets every command and reply line; AUTH arguments are
 * written as "***", and the message body as one line saying its size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "maps.h"
#include "remote.h"
#include "remote_data.h"
#include "timeutil.h"

#define CHUNK (64 * 1024)	/* content bytes encoded at a time */
#define TX_RCPT_MAX 100		/* RCPTs in one transaction (RFC 5321
				   section 4.5.3.1.8 asks servers for 100) */

enum { TX_DONE, TX_LOST };		/* transaction */

/* said - a recipient's outcome from a reply to cmd: 2xx is success
   (except to DATA, whose only good reply is 354 and never reaches here),
   4xx deferred, 5xx failed; any other code is a server that does not
   follow the protocol: deferred, never taken for a delivery */
static void said(struct rrcpt *rc, const struct conn *c,
    const struct smtp_reply *rp, const char *cmd)
{
	char w[REMOTE_TEXT_MAX], st[16];
	int cls = rp->code / 100;
	int odd = cls != 4 && cls != 5 && (cls != 2 || strcmp(cmd, "DATA") == 0);

	words(rp, w, sizeof(w));
	reply_status(rp, st, sizeof(st));
	if (odd)
		rcpt_set(rc, RS_DEFER, "4.5.0", c->relay, "host %s said: %s (in "
		    "reply to %s command): not a reply SMTP allows there",
		    c->relay, w, cmd);
	else if (cls == 2)
		rcpt_set(rc, RS_OK, st, c->relay, "%s", w);
	else
		rcpt_set(rc, cls == 4 ? RS_DEFER : RS_FAIL, st, c->relay,
		    "host %s said: %s (in reply to %s command)", c->relay, w,
		    cmd);
}

/* xtext - RFC 3461 xtext of s */
static void xtext(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < '!' || ch > '~' || ch == '+' || ch == '=')
			o += (size_t)snprintf(out + o, len - o, "+%02X", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

/* mail_cmd - MAIL FROM with the parameters the server understands */
static void mail_cmd(const struct remote *r, const struct rjob *j,
    char *out, size_t len)
{
	char env[300];
	int n = snprintf(out, len, "MAIL FROM:<%s>", j->sender);

	if ((r->ext & EXT_SIZE) && n > 0 && (size_t)n < len)
		n += snprintf(out + n, len - (size_t)n, " SIZE=%llu",
		    (unsigned long long)j->wire_size);
	if ((j->flags & RJOB_8BIT) && (r->ext & EXT_8BITMIME) && n > 0 &&
	    (size_t)n < len)
		n += snprintf(out + n, len - (size_t)n, " BODY=8BITMIME");
	if ((j->flags & RJOB_SMTPUTF8) && n > 0 && (size_t)n < len)
		n += snprintf(out + n, len - (size_t)n, " SMTPUTF8");
	if ((r->ext & EXT_DSN) && j->ret[0] && n > 0 && (size_t)n < len)
		n += snprintf(out + n, len - (size_t)n, " RET=%s",
		    strcmp(j->ret, "hdrs") == 0 ? "HDRS" : "FULL");
	if ((r->ext & EXT_DSN) && j->envid[0] && n > 0 && (size_t)n < len) {
		xtext(j->envid, env, sizeof(env));
		snprintf(out + n, len - (size_t)n, " ENVID=%s", env);
	}
}

/* rcpt_cmd - RCPT TO with DSN parameters when the server has DSN */
static void rcpt_cmd(const struct remote *r, const struct rrcpt *rc,
    char *out, size_t len)
{
	char x[1200];
	int n = snprintf(out, len, "RCPT TO:<%s>", rc->addr);

	if (!(r->ext & EXT_DSN) || n < 0 || (size_t)n >= len)
		return;
	if (rc->notify[0])
		n += snprintf(out + n, len - (size_t)n, " NOTIFY=%s",
		    rc->notify);
	if (strncasecmp(rc->orcpt, "rfc822;", 7) == 0 && n > 0 &&
	    (size_t)n < len) {
		xtext(rc->orcpt + 7, x, sizeof(x));
		snprintf(out + n, len - (size_t)n, " ORCPT=rfc822;%s", x);
	}
}

/* send_body - the content through the encoder, then ".": 0 or -1 */
static int send_body(struct remote *r, const struct rjob *j)
{
	struct conn *c = &r->conn;
	struct data_encoder enc;
	struct strbuf out = STRBUF_INIT(DATA_OUT_MAX(CHUNK) + 64);
	int64_t t = tmo(r, CK_smtp_data_timeout);
	uint64_t off = 0, n;
	int rc = 0;

	data_init(&enc);
	while (rc == 0 && off < j->size) {
		n = j->size - off < CHUNK ? j->size - off :
		    CHUNK;
		strbuf_reset(&out);
		if (data_encode(&enc, j->content + off, (size_t)n, &out) < 0 ||
		    conn_send(c, out.s ? out.s : "", out.len, t) < 0)
			rc = -1;
		off += n;
	}
	strbuf_reset(&out);
	if (rc == 0 && (data_finish(&enc, &out) < 0 ||
	    conn_send(c, out.s, out.len, t) < 0))
		rc = -1;
	strbuf_release(&out);
	if (rc == 0)
		xs_note(c->xs, ">>> (the message: %llu bytes%s%s)",
		    (unsigned long long)j->size, enc.nwrapped ?
		    ", long lines wrapped" : "", enc.nbare_cr ?
		    ", bare CRs replaced by spaces" : "");
	if (rc < 0 && !c->broken)
		c->broken = 1;
	return rc;
}

/* lost - the connection failed in a transaction: recipients without a
   final reply go back to pending for the next address */
static int lost(struct rjob *j, struct lastfail *lf, const struct conn *c,
    const struct smtp_reply *rp, const char *cmd)
{
	char w[REMOTE_TEXT_MAX], st[16];
	size_t i;

	for (i = 0; i < j->n; i++)
		if (j->rcpts[i].state == RS_ACCEPTED ||
		    j->rcpts[i].state == RS_RETRY)
			j->rcpts[i].state = RS_PENDING;
	if (rp != NULL) {
		words(rp, w, sizeof(w));
		defer_status(rp, st, sizeof(st));
		fail_last(lf, st, c, "host %s said: %s (in reply to %s "
		    "command)", c->relay, w, cmd);
	} else {
		fail_last(lf, "4.4.2", c, "%s", c->err);
	}
	return TX_LOST;
}

/* prechecks - SIZE and SMTPUTF8 against the server: 1 when the job
   cannot go to it (recipients settled) */
static int prechecks(struct remote *r, struct rjob *j)
{
	struct conn *c = &r->conn;

	if ((r->ext & EXT_SIZE) && r->size_limit > 0 &&
	    j->wire_size > r->size_limit) {
		char text[REMOTE_TEXT_MAX];

		snprintf(text, sizeof(text), "message too large for %s: it is "
		    "%llu bytes, the server accepts at most %llu (SIZE)",
		    c->relay, (unsigned long long)j->wire_size,
		    (unsigned long long)r->size_limit);
		xs_note(c->xs, "%s", text);
		rjob_settle(j, RS_FAIL, "5.3.4", c->relay, text);
		return 1;
	}
	if ((j->flags & RJOB_SMTPUTF8) && !(r->ext & EXT_SMTPUTF8)) {
		char text[REMOTE_TEXT_MAX];

		snprintf(text, sizeof(text), "the message needs SMTPUTF8 "
		    "(UTF-8 addresses) and %s does not support it", c->relay);
		xs_note(c->xs, "%s", text);
		rjob_settle(j, RS_FAIL, "5.6.7", c->relay, text);
		return 1;
	}
	if ((j->flags & RJOB_8BIT) && !(r->ext & EXT_8BITMIME))
		xs_note(c->xs, "note: 8-bit content to a server that does not "
		    "announce 8BITMIME");
	return 0;
}

/* pick - the recipients of this transaction: pending or moved by 452,
   at most TX_RCPT_MAX; their positions in v */
static size_t pick(struct rjob *j, size_t *v)
{
	size_t i, n = 0;

	for (i = 0; i < j->n && n < TX_RCPT_MAX; i++)
		if (j->rcpts[i].state == RS_PENDING ||
		    j->rcpts[i].state == RS_RETRY) {
			j->rcpts[i].state = RS_PENDING;
			v[n++] = i;
		}
	return n;
}

/* transaction - one MAIL .. end of data; TX_DONE or TX_LOST */
static int transaction(struct remote *r, struct rjob *j, struct lastfail *lf)
{
	struct conn *c = &r->conn;
	struct smtp_reply rp;
	struct strbuf flight = STRBUF_INIT(TX_RCPT_MAX * 1400 + 4096);
	size_t v[TX_RCPT_MAX], n = pick(j, v), i, accepted = 0, k;
	int pipe = (r->ext & EXT_PIPELINING) != 0, res = TX_DONE, mail_ok;
	int64_t t = tmo(r, CK_smtp_command_timeout);
	char line[1600];

	reply_init(&rp);
	r->uses++;
	if (j->conn_use == 0) {
		j->conn_use = r->uses;
		snprintf(j->conn_tls, sizeof(j->conn_tls), "%s", c->tls);
	}
	mail_cmd(r, j, line, sizeof(line));
	/* Pipelined: MAIL, the RCPTs and DATA leave in one write. */
	if (pipe) {
		xs_lines(c->xs, ">>> ", line, strlen(line));
		strbuf_appendf(&flight, "%s\r\n", line);
		for (i = 0; i < n; i++) {
			rcpt_cmd(r, &j->rcpts[v[i]], line, sizeof(line));
			xs_lines(c->xs, ">>> ", line, strlen(line));
			strbuf_appendf(&flight, "%s\r\n", line);
		}
		xs_lines(c->xs, ">>> ", "DATA", 4);
		strbuf_appends(&flight, "DATA\r\n");
		if (conn_send(c, flight.s, flight.len, t) < 0) {
			res = lost(j, lf, c, NULL, NULL);
			goto out;
		}
	} else if (conn_cmd(c, line, NULL, t) < 0) {
		res = lost(j, lf, c, NULL, NULL);
		goto out;
	}
	if (conn_reply(c, &rp, t) < 0 || rp.code == 421) {
		res = lost(j, lf, c, c->broken ? NULL : &rp, "MAIL FROM");
		goto out;
	}
	mail_ok = rp.code / 100 == 2;
	if (!mail_ok)
		for (i = 0; i < n; i++)
			said(&j->rcpts[v[i]], c, &rp, "MAIL FROM");
	for (i = 0; i < n && (mail_ok || pipe); i++) {
		struct rrcpt *rc = &j->rcpts[v[i]];

		if (!pipe) {
			rcpt_cmd(r, rc, line, sizeof(line));
			if (conn_cmd(c, line, NULL, t) < 0) {
				res = lost(j, lf, c, NULL, NULL);
				goto out;
			}
		}
		if (conn_reply(c, &rp, t) < 0 || rp.code == 421) {
			res = lost(j, lf, c, c->broken ? NULL : &rp, "RCPT TO");
			goto out;
		}
		if (!mail_ok)
			continue;
		if (rp.code / 100 == 2) {
			rc->state = RS_ACCEPTED;
			accepted++;
		} else if (rp.code == 452 && i > 0 && accepted > 0) {
			rc->state = RS_RETRY;
		} else {
			said(rc, c, &rp, "RCPT TO");
		}
	}
	if (!pipe && accepted > 0 && conn_cmd(c, "DATA", NULL, t) < 0) {
		res = lost(j, lf, c, NULL, NULL);
		goto out;
	}
	if (pipe || accepted > 0) {
		if (conn_reply(c, &rp, t) < 0 || rp.code == 421) {
			res = lost(j, lf, c, c->broken ? NULL : &rp, "DATA");
			goto out;
		}
		if (rp.code == 354 && accepted == 0) {
			/* A server that says 354 with no recipient: end the
			   empty message, ignore what it says. */
			if (conn_send(c, ".\r\n", 3, t) < 0 ||
			    conn_reply(c, &rp, t) < 0) {
				res = lost(j, lf, c, NULL, NULL);
				goto out;
			}
		} else if (rp.code == 354) {
			if (send_body(r, j) < 0 || conn_reply(c, &rp,
			    tmo(r, CK_smtp_data_timeout)) < 0 ||
			    rp.code == 421) {
				res = lost(j, lf, c, c->broken ? NULL : &rp,
				    "end of DATA");
				goto out;
			}
			for (k = 0; k < n; k++)
				if (j->rcpts[v[k]].state == RS_ACCEPTED)
					said(&j->rcpts[v[k]], c, &rp,
					    "end of DATA");
		} else if (accepted > 0) {
			for (k = 0; k < n; k++)
				if (j->rcpts[v[k]].state == RS_ACCEPTED)
					said(&j->rcpts[v[k]], c, &rp, "DATA");
		}
	}
	if (!mail_ok || accepted == 0) {
		/* The server may still hold a sender: clear it. */
		if (conn_cmd(c, "RSET", NULL, t) < 0 || conn_reply(c, &rp, t) < 0)
			c->broken = 1;
	}
out:
	strbuf_release(&flight);
	reply_release(&rp);
	return res;
}

/* transactions - as many as the recipients need on this connection */
static int transactions(struct remote *r, struct rjob *j, struct lastfail *lf)
{
	size_t i;
	int more;

	if (prechecks(r, j))
		return TX_DONE;
	do {
		if (transaction(r, j, lf) == TX_LOST)
			return TX_LOST;
		for (more = 0, i = 0; i < j->n; i++)
			more |= j->rcpts[i].state == RS_RETRY ||
			    j->rcpts[i].state == RS_PENDING;
	} while (more && !r->conn.broken);
	if (more)
		return lost(j, lf, &r->conn, NULL, NULL);
	return TX_DONE;
}

/* reuse - the cached session, when it goes where j goes and is alive */
static int reuse(struct remote *r, struct rjob *j, struct lastfail *lf)
{
	struct smtp_reply rp;
	int64_t t = tmo(r, CK_smtp_command_timeout);
	int ok;

	if (!r->open)
		return 0;
	if (strcmp(r->dest, j->dest) != 0 || conn_readable(&r->conn) ||
	    r->uses >= (unsigned)config_count(r->cfg,
	    CK_connection_reuse_limit)) {
		smtp_quit(r);
		return 0;
	}
	xs_note(&r->xs, "reusing the connection to %s (transaction %u)",
	    r->conn.relay, r->uses + 1);
	reply_init(&rp);
	ok = conn_cmd(&r->conn, "RSET", NULL, t) == 0 &&
	    conn_reply(&r->conn, &rp, t) == 0 && rp.code / 100 == 2;
	reply_release(&rp);
	if (!ok) {
		smtp_quit(r);
		return 0;
	}
	r->open = 0;
	if (transactions(r, j, lf) == TX_LOST) {
		conn_close(&r->conn);
		return 0;
	}
	return 1;
}

void smtp_deliver(struct remote *r, struct rjob *j)
{
	struct destlist *dl = calloc(1, sizeof(*dl));
	struct lastfail lf;
	char when[64];
	size_t i;
	int st, done = 0;

	memset(&lf, 0, sizeof(lf));
	timeutil_rfc3339(timeutil_now(), when);
	xs_note(&r->xs, "delivery of %s to %s (%s), started %s", j->id,
	    j->domain, j->dest, when);
	if (dl == NULL) {
		rjob_settle(j, RS_DEFER, "4.3.0", NULL, "out of memory");
		return;
	}
	if (reuse(r, j, &lf))
		done = 1;
	if (!done)
		dest_build(r->dns, r->cfg, j, dl, &r->xs);
	if (!done && dl->status != DEST_OK) {
		xs_note(&r->xs, "%s", dl->text);
		rjob_settle(j, dl->status == DEST_PERM ? RS_FAIL : RS_DEFER,
		    dl->enh, NULL, dl->text);
		done = 1;
	}
	for (i = 0; !done && i < dl->n && rjob_pending(j) > 0; i++) {
		st = smtp_session(r, &dl->v[i], j, 0, &lf);
		if (st == S_TLS_FALLBACK) {
			xs_note(&r->xs, "TLS failed at level may: connecting "
			    "again without TLS");
			conn_close(&r->conn);
			st = smtp_session(r, &dl->v[i], j, 1, &lf);
		}
		if (st != S_OK) {
			if (!r->conn.broken)
				smtp_quit(r);
			conn_close(&r->conn);
			continue;
		}
		if (transactions(r, j, &lf) == TX_LOST) {
			conn_close(&r->conn);
			continue;
		}
		break;
	}
	free(dl);
	if (rjob_pending(j) > 0) {
		if (lf.text[0] == '\0')
			snprintf(lf.text, sizeof(lf.text), "no server of %s "
			    "could be reached", j->domain);
		rjob_settle(j, RS_DEFER, lf.status[0] ? lf.status : "4.4.1",
		    lf.relay, lf.text);
	}
	if (r->conn.fd >= 0 && !r->conn.broken) {
		r->open = 1;
		snprintf(r->dest, sizeof(r->dest), "%s", j->dest);
		r->idle_until = timeutil_monotonic() +
		    config_duration(r->cfg, CK_connection_cache_time) * 1000000;
	} else {
		conn_close(&r->conn);
		r->open = 0;
	}
	if (config_duration(r->cfg, CK_connection_cache_time) <= 0)
		smtp_quit(r);
}

void smtp_quit(struct remote *r)
{
	struct smtp_reply rp;

	if (r->conn.fd >= 0 && !r->conn.broken) {
		reply_init(&rp);
		if (conn_cmd(&r->conn, "QUIT", NULL, 5) == 0)
			(void)conn_reply(&r->conn, &rp, 5);
		reply_release(&rp);
	}
	conn_close(&r->conn);
	r->open = 0;
	r->dest[0] = '\0';
}
