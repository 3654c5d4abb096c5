/*
 * remote_smtp - the SMTP dialogue of postern-remote.
 *
 * A job goes to the cached session when it talks to the job's
 * destination (after an RSET that proves it alive), else to the
 * destination's addresses in order (remote_dest.c). On each address:
 * greeting, EHLO (HELO when EHLO is refused), STARTTLS per the job's
 * level, AUTH when the next hop has credentials, then transactions.
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

#include <openssl/evp.h>

#include "config.h"
#include "maps.h"
#include "remote.h"
#include "remote_data.h"
#include "timeutil.h"

#define CHUNK (64 * 1024)	/* content bytes encoded at a time */
#define TX_RCPT_MAX 100		/* RCPTs in one transaction (RFC 5321
				   section 4.5.3.1.8 asks servers for 100) */

enum { S_OK, S_NEXT, S_TLS_FALLBACK };	/* session set-up */
enum { TX_DONE, TX_LOST };		/* transaction */

/* The last failure, reported when no address is left. */
struct lastfail {
	char status[16];
	char text[REMOTE_TEXT_MAX];
	char relay[REMOTE_RELAY_MAX];
};

static int64_t tmo(const struct remote *r, enum config_key k)
{
	int64_t s = config_duration(r->cfg, k);

	return s > 0 ? s : 1;
}

void reply_status(const struct smtp_reply *rp, char *out, size_t len)
{
	if (rp->enhanced[0])
		snprintf(out, len, "%s", rp->enhanced);
	else
		snprintf(out, len, "%d.0.0", rp->code / 100);
}

/* words - the reply as one line: "550 5.1.1 text; more text" */
static void words(const struct smtp_reply *rp, char *out, size_t len)
{
	struct strbuf sb = STRBUF_INIT(REMOTE_TEXT_MAX);
	const char *p = rp->text.s ? rp->text.s : "";

	strbuf_appendf(&sb, "%d ", rp->code);
	for (; *p && sb.len < REMOTE_TEXT_MAX - 8; p++)
		if (*p == '\n')
			strbuf_appends(&sb, "; ");
		else
			strbuf_appendc(&sb, *p);
	snprintf(out, len, "%s", strbuf_str(&sb));
	strbuf_release(&sb);
}

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

/* fail_last - remember why this address did not work */
static void fail_last(struct lastfail *lf, const char *status,
    const struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail_last(struct lastfail *lf, const char *status,
    const struct conn *c, const char *fmt, ...)
{
	va_list ap;

	snprintf(lf->status, sizeof(lf->status), "%s", status);
	snprintf(lf->relay, sizeof(lf->relay), "%s", c->relay);
	va_start(ap, fmt);
	vsnprintf(lf->text, sizeof(lf->text), fmt, ap);
	va_end(ap);
}

/* defer_status - a reply's status as a temporary one */
static void defer_status(const struct smtp_reply *rp, char *st, size_t len)
{
	reply_status(rp, st, len);
	st[0] = '4';
}

/* parse_ehlo - the extensions a 250 reply to EHLO announces */
static unsigned parse_ehlo(const struct smtp_reply *rp, uint64_t *size)
{
	const char *p = rp->text.s ? rp->text.s : "", *nl;
	char line[256];
	unsigned ext = EXT_ESMTP;
	size_t i;

	*size = 0;
	for (i = 0; (nl = strchr(p, '\n')) != NULL || *p; i++) {
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		snprintf(line, sizeof(line), "%.*s", (int)(n < 255 ? n : 255),
		    p);
		p = nl ? nl + 1 : p + n;
		if (i == 0)
			continue;
		for (char *q = line; *q; q++)
			if (*q >= 'a' && *q <= 'z')
				*q = (char)(*q - 'a' + 'A');
		if (strcmp(line, "PIPELINING") == 0)
			ext |= EXT_PIPELINING;
		else if (strcmp(line, "8BITMIME") == 0)
			ext |= EXT_8BITMIME;
		else if (strcmp(line, "SMTPUTF8") == 0)
			ext |= EXT_SMTPUTF8;
		else if (strcmp(line, "DSN") == 0)
			ext |= EXT_DSN;
		else if (strcmp(line, "STARTTLS") == 0)
			ext |= EXT_STARTTLS;
		else if (strncmp(line, "SIZE", 4) == 0 && (line[4] == '\0' ||
		    line[4] == ' ')) {
			ext |= EXT_SIZE;
			*size = line[4] ? strtoull(line + 5, NULL, 10) : 0;
		} else if (strncmp(line, "AUTH", 4) == 0 && (line[4] == ' ' ||
		    line[4] == '=')) {
			if (strstr(line + 4, " PLAIN") || strstr(line + 4,
			    "=PLAIN"))
				ext |= EXT_AUTH_PLAIN;
			if (strstr(line + 4, " LOGIN") || strstr(line + 4,
			    "=LOGIN"))
				ext |= EXT_AUTH_LOGIN;
		}
	}
	return ext;
}

/* ehlo - EHLO, or HELO when EHLO is refused; 0 or -1 */
static int ehlo(struct remote *r, struct smtp_reply *rp, struct lastfail *lf)
{
	struct conn *c = &r->conn;
	const char *name = config_str(r->cfg, CK_smtp_helo_name);
	char line[512], w[REMOTE_TEXT_MAX], st[16];
	int64_t t = tmo(r, CK_smtp_command_timeout);

	snprintf(line, sizeof(line), "EHLO %s", name);
	if (conn_cmd(c, line, NULL, t) < 0 || conn_reply(c, rp, t) < 0)
		return fail_last(lf, "4.4.2", c, "%s", c->err), -1;
	if (rp->code / 100 == 2) {
		r->ext = parse_ehlo(rp, &r->size_limit);
		return 0;
	}
	if (rp->code / 100 == 5 && rp->code != 554) {
		snprintf(line, sizeof(line), "HELO %s", name);
		if (conn_cmd(c, line, NULL, t) < 0 || conn_reply(c, rp, t) < 0)
			return fail_last(lf, "4.4.2", c, "%s", c->err), -1;
		if (rp->code / 100 == 2) {
			r->ext = 0;
			r->size_limit = 0;
			return 0;
		}
	}
	if (rp->code == 421)
		c->broken = 1;
	words(rp, w, sizeof(w));
	defer_status(rp, st, sizeof(st));
	fail_last(lf, st, c, "host %s refused to talk to me: %s (in reply to "
	    "EHLO/HELO)", c->relay, w);
	return -1;
}

/* b64 - base64 of n bytes into out */
static void b64(const void *p, size_t n, char *out, size_t len)
{
	if (4 * ((n + 2) / 3) + 1 > len) {
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* auth - AUTH PLAIN or LOGIN with the next hop's credentials */
static int auth(struct remote *r, const char *cred, struct smtp_reply *rp,
    struct lastfail *lf)
{
	struct conn *c = &r->conn;
	char user[256], pass[256], raw[600], enc[900], line[1000];
	char w[REMOTE_TEXT_MAX];
	const char *colon = strchr(cred, ':');
	int64_t t = tmo(r, CK_smtp_command_timeout);
	size_t ul, pl;

	if (colon == NULL || (size_t)(colon - cred) >= sizeof(user) ||
	    strlen(colon + 1) >= sizeof(pass))
		return fail_last(lf, "4.7.0", c, "the credentials for %s in "
		    "smtp_auth_file are not \"user:password\"", c->relay), -1;
	ul = (size_t)(colon - cred);
	memcpy(user, cred, ul);
	user[ul] = '\0';
	snprintf(pass, sizeof(pass), "%s", colon + 1);
	pl = strlen(pass);
	if (c->ssl == NULL)
		return fail_last(lf, "4.7.0", c, "not sending the credentials "
		    "for %s over a connection without TLS", c->relay), -1;
	if (r->ext & EXT_AUTH_PLAIN) {
		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, pass, pl);
		b64(raw, ul + pl + 2, enc, sizeof(enc));
		snprintf(line, sizeof(line), "AUTH PLAIN %s", enc);
		if (conn_cmd(c, line, "AUTH PLAIN ***", t) < 0 ||
		    conn_reply(c, rp, t) < 0)
			goto lost;
	} else if (r->ext & EXT_AUTH_LOGIN) {
		if (conn_cmd(c, "AUTH LOGIN", NULL, t) < 0 ||
		    conn_reply(c, rp, t) < 0)
			goto lost;
		if (rp->code == 334) {
			b64(user, ul, enc, sizeof(enc));
			if (conn_cmd(c, enc, "***", t) < 0 ||
			    conn_reply(c, rp, t) < 0)
				goto lost;
		}
		if (rp->code == 334) {
			b64(pass, pl, enc, sizeof(enc));
			if (conn_cmd(c, enc, "***", t) < 0 ||
			    conn_reply(c, rp, t) < 0)
				goto lost;
		}
	} else {
		explicit_bzero(pass, sizeof(pass));
		return fail_last(lf, "4.7.0", c, "host %s offers no AUTH "
		    "PLAIN or LOGIN, and postern has credentials for it",
		    c->relay), -1;
	}
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(enc, sizeof(enc));
	explicit_bzero(line, sizeof(line));
	explicit_bzero(pass, sizeof(pass));
	if (rp->code / 100 == 2)
		return 0;
	words(rp, w, sizeof(w));
	return fail_last(lf, "4.7.8", c, "authentication to %s failed: %s",
	    c->relay, w), -1;
lost:
	explicit_bzero(pass, sizeof(pass));
	return fail_last(lf, "4.4.2", c, "%s", c->err), -1;
}

/* starttls - STARTTLS and the second EHLO; S_OK, S_NEXT or
   S_TLS_FALLBACK */
static int starttls(struct remote *r, const struct target *tg,
    const struct rjob *j, struct smtp_reply *rp, struct lastfail *lf)
{
	struct conn *c = &r->conn;
	int may = strcmp(j->tls, "may") == 0, verify = strcmp(j->tls,
	    "verify") == 0, literal = tg->host[0] == '\0' ||
	    strspn(tg->host, "0123456789.:abcdefABCDEF") == strlen(tg->host);
	int64_t t = tmo(r, CK_smtp_command_timeout);
	char w[REMOTE_TEXT_MAX];

	if (conn_cmd(c, "STARTTLS", NULL, t) < 0 || conn_reply(c, rp, t) < 0)
		return fail_last(lf, "4.4.2", c, "%s", c->err), S_NEXT;
	if (rp->code != 220) {
		words(rp, w, sizeof(w));
		if (may) {
			xs_note(c->xs, "STARTTLS refused; going on without "
			    "TLS (level may)");
			return S_OK;
		}
		return fail_last(lf, "4.7.4", c, "TLS is required (level %s) "
		    "but host %s refused STARTTLS: %s", j->tls, c->relay, w),
		    S_NEXT;
	}
	if (conn_starttls(c, r->tls_ctx, literal ? NULL : tg->host,
	    verify ? tg->host : NULL, t) < 0) {
		if (may && c->ssl != NULL)
			return S_TLS_FALLBACK;
		return fail_last(lf, verify ? "4.7.5" : "4.7.4", c, "%s",
		    c->err), S_NEXT;
	}
	return ehlo(r, rp, lf) < 0 ? S_NEXT : S_OK;
}

/* session - connect to tg and set the session up */
static int session(struct remote *r, const struct target *tg,
    const struct rjob *j, int plain, struct lastfail *lf)
{
	struct conn *c = &r->conn;
	struct smtp_reply rp;
	const char *cred;
	char w[REMOTE_TEXT_MAX], st[16];
	int res = S_NEXT, want_tls = strcmp(j->tls, "none") != 0 && !plain;

	reply_init(&rp);
	r->uses = 0;
	if (conn_open(c, tg, tmo(r, CK_smtp_connect_timeout)) < 0) {
		fail_last(lf, "4.4.1", c, "%s", c->err);
		goto out;
	}
	if (conn_reply(c, &rp, tmo(r, CK_smtp_greeting_timeout)) < 0) {
		fail_last(lf, "4.4.2", c, "%s", c->err);
		goto out;
	}
	if (rp.code != 220) {
		/* 421: the server closes; no QUIT to a closed door */
		if (rp.code == 421)
			c->broken = 1;
		words(&rp, w, sizeof(w));
		defer_status(&rp, st, sizeof(st));
		fail_last(lf, st, c, "host %s refused to talk to me: %s",
		    c->relay, w);
		goto out;
	}
	if (ehlo(r, &rp, lf) < 0)
		goto out;
	if (want_tls && (r->ext & EXT_STARTTLS)) {
		if ((res = starttls(r, tg, j, &rp, lf)) != S_OK)
			goto out;
		res = S_NEXT;
	} else if (want_tls && strcmp(j->tls, "may") != 0) {
		fail_last(lf, "4.7.4", c, "TLS is required (level %s) but host "
		    "%s does not offer STARTTLS", j->tls, c->relay);
		goto out;
	}
	cred = r->creds && j->nexthop[0] ? map_lookup(r->creds, j->nexthop) :
	    NULL;
	if (cred != NULL && auth(r, cred, &rp, lf) < 0)
		goto out;
	res = S_OK;
out:
	reply_release(&rp);
	return res;
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
		st = session(r, &dl->v[i], j, 0, &lf);
		if (st == S_TLS_FALLBACK) {
			xs_note(&r->xs, "TLS failed at level may: connecting "
			    "again without TLS");
			conn_close(&r->conn);
			st = session(r, &dl->v[i], j, 1, &lf);
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
