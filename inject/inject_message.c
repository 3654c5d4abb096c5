/*
 * inject_message - the envelope and the header section of a new message.
 *
 * The sender defaults to the caller's login at myhostname. Recipients
 * come from the arguments (each may be an address list, as in Postfix's
 * sendmail) and, with -t, from To/Cc/Bcc (or the Resent- ones when the
 * message has any). A header section ends at the empty line or at the
 * first line that is neither a header field nor a continuation, which
 * then starts the body (as Postfix treats it; postern writes the empty
 * line that was missing). The header section itself is inject_headers.c.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "config.h"
#include "exitcodes.h"
#include "inject.h"
#include "rfc822.h"
#include "timeutil.h"

struct rcpt_ctx {
	struct inject_msg *m;
	const char *myhostname;
	struct inject_error *e;
};

/* add_rcpt - parse one address and add it unless already there */
static int add_rcpt(struct inject_msg *m, const char *text, size_t len,
    const char *myhostname, struct inject_error *e)
{
	struct inject_rcpt *r;
	const char *why;
	size_t i;

	if (m->nrcpt >= m->rcpt_limit)
		return inject_error_set(e, EX_DATAERR, "more than %zu "
		    "recipients (recipient_limit)", m->rcpt_limit), -1;
	if (m->nrcpt == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		r = reallocarray(m->rcpts, cap, sizeof(*r));
		if (r == NULL)
			return inject_error_set(e, EX_OSERR, "out of memory"), -1;
		m->rcpts = r;
		m->cap = cap;
	}
	r = &m->rcpts[m->nrcpt];
	if (address_parse_qualified(text, len, ADDRESS_ALLOW_ANGLE, myhostname,
	    &r->addr, &why) < 0)
		return inject_error_set(e, EX_DATAERR, "bad recipient address "
		    "'%.*s': %s", (int)(len > 200 ? 200 : len), text, why), -1;
	for (i = 0; i < m->nrcpt; i++)
		if (strcmp(m->rcpts[i].addr.text, r->addr.text) == 0)
			return 0;
	r->orig[0] = '\0';
	if (len < sizeof(r->orig) && (len != strlen(r->addr.text) ||
	    memcmp(text, r->addr.text, len) != 0)) {
		memcpy(r->orig, text, len);
		r->orig[len] = '\0';
	}
	m->nrcpt++;
	return 0;
}

/* rcpt_cb - rfc822_addrlist callback */
static int rcpt_cb(void *ctx, const char *addr, size_t len, const char *name,
    size_t namelen)
{
	struct rcpt_ctx *c = ctx;

	(void)name;
	(void)namelen;
	return add_rcpt(c->m, addr, len, c->myhostname, c->e);
}

/* inject_add_rcpt_text - add the addresses of an address list */
int inject_add_rcpt_text(struct inject_msg *m, const char *text,
    size_t len, const char *myhostname, struct inject_error *e)
{
	struct rcpt_ctx c = { m, myhostname, e };
	const char *why = "malformed address list";

	e->code = 0;
	if (memchr(text, '\0', len) != NULL || rfc822_addrlist(text, len,
	    rcpt_cb, &c, &why) < 0) {
		if (e->code == 0)
			inject_error_set(e, EX_DATAERR, "bad recipient list "
			    "'%.*s': %s", (int)(len > 200 ? 200 : len), text,
			    why);
		return -1;
	}
	return 0;
}

/* default_sender - login@myhostname of the calling user */
static int default_sender(struct address *a, const char *myhostname,
    struct inject_error *e)
{
	struct passwd *pw = getpwuid(getuid());
	const char *why;

	if (pw == NULL)
		return inject_error_set(e, EX_NOUSER, "no login name for "
		    "user id %ld", (long)getuid()), -1;
	if (address_parse(pw->pw_name, strlen(pw->pw_name), ADDRESS_ALLOW_BARE,
	    a, &why) < 0 || address_set_domain(a, myhostname, &why) < 0)
		return inject_error_set(e, EX_DATAERR, "login name '%s' is "
		    "not a valid address: %s", pw->pw_name, why), -1;
	return 0;
}

/* inject_envelope - sender, command-line recipients, limits */
int inject_envelope(struct inject_msg *m, const struct inject_opts *o,
    const struct config *cfg, struct inject_error *e)
{
	const char *host = config_str(cfg, CK_myhostname), *why;
	int i;

	m->rcpt_limit = (size_t)config_count(cfg, CK_recipient_limit);
	m->size_limit = config_size(cfg, CK_message_size_limit);
	strbuf_init(&m->headers, config_size(cfg, CK_header_size_limit) + 4096);
	if (o->sender == NULL) {
		if (default_sender(&m->sender, host, e) < 0)
			return -1;
	} else if (address_parse_qualified(o->sender, strlen(o->sender),
	    ADDRESS_ALLOW_NULL | ADDRESS_ALLOW_ANGLE, host, &m->sender,
	    &why) < 0) {
		return inject_error_set(e, EX_DATAERR, "bad sender address "
		    "'%.200s': %s", o->sender, why), -1;
	}
	for (i = 0; i < o->nrcpts; i++)
		if (inject_add_rcpt_text(m, o->rcpts[i], strlen(o->rcpts[i]),
		    host, e) < 0)
			return -1;
	return 0;
}
