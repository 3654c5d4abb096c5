/*
 * remote_session - setting up an SMTP session for postern-remote:
 * connect, greeting, EHLO (HELO when EHLO is refused), STARTTLS per the
 * job's TLS level, AUTH with the next hop's credentials; and the helpers
 * that the session and the transactions (remote_smtp.c) share.
 *
 * A failure here never decides a recipient's fate: it is remembered in
 * the lastfail record, and the caller goes on to the next address. A
 * TLS handshake that fails at level "may" is reported as
 * S_TLS_FALLBACK: the caller connects again without TLS, never retrying
 * inside the session (a server that breaks the handshake is not trusted
 * to carry on in plaintext on the same connection).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "maps.h"
#include "remote.h"

int64_t tmo(const struct remote *r, enum config_key k)
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
void words(const struct smtp_reply *rp, char *out, size_t len)
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

/* fail_last - remember why this address did not work */
void fail_last(struct lastfail *lf, const char *status,
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
void defer_status(const struct smtp_reply *rp, char *st, size_t len)
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
	    "verify") == 0, literal = tg->literal || tg->host[0] == '\0';
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
int smtp_session(struct remote *r, const struct target *tg,
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
