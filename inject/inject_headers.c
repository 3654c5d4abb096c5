/*
 * inject_headers - reading and rewriting the header section of a new
 * message.
 *
 * The section ends at the empty line, or at the first line that is
 * neither a header field nor a continuation line: that line then starts
 * the body (as Postfix treats it), and postern writes the empty line that
 * was missing. A first line "From " (a Unix mbox envelope line) is
 * dropped, as sendmail does. Bcc and Resent-Bcc are always removed.
 * Missing Date, Message-ID and From are added at the end of the section,
 * and a Received line naming the calling uid goes first. With -t the
 * recipients come from To, Cc and Bcc, or from the Resent- fields when
 * the message has any (RFC 5322 section 3.6.6).
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

/* Header fields postern looks at; RESENT_* are the -t variants. */
enum field_kind {
	F_OTHER, F_TO, F_CC, F_BCC, F_RTO, F_RCC, F_RBCC, F_DATE, F_MSGID,
	F_FROM, F_SUBJECT, F_FROMLINE
};

/* field_kind - what a header field is to postern */
static enum field_kind field_kind(const char *line, size_t namelen)
{
	static const struct { const char *name; enum field_kind kind; } t[] = {
		{ "To", F_TO }, { "Cc", F_CC }, { "Bcc", F_BCC },
		{ "Resent-To", F_RTO }, { "Resent-Cc", F_RCC },
		{ "Resent-Bcc", F_RBCC }, { "Date", F_DATE },
		{ "Message-ID", F_MSGID }, { "From", F_FROM },
		{ "Subject", F_SUBJECT },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (rfc822_name_is(line, namelen, t[i].name))
			return t[i].kind;
	return F_OTHER;
}

/* summary - an unfolded, trimmed, bounded copy of a field value */
static void summary(char *dst, size_t dstlen, const char *v, size_t len)
{
	size_t i, n = 0;

	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	for (i = 0; i < len && n + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			continue;
		if (c == ' ' && n > 0 && dst[n - 1] == ' ')
			continue;
		dst[n++] = (char)c;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}


/* One header field inside the raw section: start, length, name length. */
struct field {
	size_t start, len, namelen;
	enum field_kind kind;
};

struct section {
	struct strbuf raw;	/* the header lines as read */
	struct field *f;
	size_t n, cap;
	int resent;		/* a Resent-To/Cc/Bcc field is present */
};

/* new_field - start a field at offset start */
static int new_field(struct section *s, size_t start, size_t namelen,
    enum field_kind kind)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct field *f = reallocarray(s->f, cap, sizeof(*f));

		if (f == NULL)
			return -1;
		s->f = f;
		s->cap = cap;
	}
	s->f[s->n].start = start;
	s->f[s->n].len = 0;
	s->f[s->n].namelen = namelen;
	s->f[s->n].kind = kind;
	s->n++;
	if (kind == F_RTO || kind == F_RCC || kind == F_RBCC)
		s->resent = 1;
	return 0;
}

/* take_line - add one header line to the section; 0 taken, 1 the line is
   not part of the header section, -1 error */
static int take_line(struct section *s, const struct strbuf *line,
    struct inject_error *e)
{
	size_t namelen = rfc822_field_name_len(line->s, line->len - 1);

	if (namelen == 0 && !(rfc822_is_continuation(line->s, line->len) &&
	    s->n > 0))
		return 1;
	if (namelen > 0 && new_field(s, s->raw.len, namelen,
	    field_kind(line->s, namelen)) < 0)
		return inject_error_set(e, EX_OSERR, "out of memory"), -1;
	if (strbuf_append(&s->raw, line->s, line->len) < 0)
		return inject_error_set(e, EX_DATAERR, "message header is "
		    "larger than header_size_limit (%zu bytes)",
		    s->raw.max), -1;
	s->f[s->n - 1].len += line->len;
	return 0;
}

/* read_section - read header lines until the section ends. 0: a body
   follows (body_first may hold its first line), 1: input ended. */
static int read_section(struct section *s, struct inject_input *in,
    const struct inject_opts *o, struct strbuf *line, struct inject_error *e)
{
	int r, first = 1;

	for (;; first = 0) {
		if ((r = inject_input_line(in, line)) < 0)
			return inject_error_set(e, EX_IOERR, "cannot read the "
			    "message: %m"), -1;
		if (r == 0)
			return 1;
		if (memchr(line->s, '\0', line->len) != NULL)
			return inject_error_set(e, EX_DATAERR, "message header "
			    "contains a NUL byte"), -1;
		if (r == 2)
			return inject_error_set(e, EX_DATAERR, "header line "
			    "longer than %d bytes", INJECT_PIECE), -1;
		if (!o->ignore_dots && strcmp(line->s, ".\n") == 0) {
			strbuf_reset(line);
			return 1;
		}
		if (first && strncmp(line->s, "From ", 5) == 0)
			continue;
		if (strcmp(line->s, "\n") == 0) {
			strbuf_reset(line);
			return 0;
		}
		if ((r = take_line(s, line, e)) != 0)
			return r < 0 ? -1 : 0;
	}
}

/* field_value - the value of field f (after the colon) */
static const char *field_value(const struct section *s, const struct field *f,
    size_t *len_r)
{
	*len_r = f->len - f->namelen - 1;
	return s->raw.s + f->start + f->namelen + 1;
}

/* extract - -t: recipients from the address fields */
static int extract(struct inject_msg *m, const struct section *s,
    const char *host, struct inject_error *e)
{
	size_t i, len;
	const char *v;

	for (i = 0; i < s->n; i++) {
		enum field_kind k = s->f[i].kind;
		int wanted = s->resent ? (k == F_RTO || k == F_RCC ||
		    k == F_RBCC) : (k == F_TO || k == F_CC || k == F_BCC);

		if (!wanted)
			continue;
		v = field_value(s, &s->f[i], &len);
		if (inject_add_rcpt_text(m, v, len, host, e) < 0)
			return -1;
	}
	return 0;
}

/* quote_name - the -F full name as an RFC 5322 phrase */
static void quote_name(struct strbuf *out, const char *name)
{
	const char *p;

	if (strpbrk(name, "()<>[]:;@\\,.\"") == NULL) {
		strbuf_appends(out, name);
		return;
	}
	strbuf_appendc(out, '"');
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_appendc(out, '\\');
		strbuf_appendc(out, *p);
	}
	strbuf_appendc(out, '"');
}

/* add_from - From: the caller's login at myhostname, with -F's name or
   the passwd full name */
static void add_from(struct strbuf *out, const struct inject_opts *o,
    const char *host)
{
	struct passwd *pw = getpwuid(getuid());
	char gecos[201] = "";
	const char *name = o->fullname;

	if (name == NULL && pw != NULL && pw->pw_gecos != NULL) {
		summary(gecos, sizeof(gecos), pw->pw_gecos,
		    strcspn(pw->pw_gecos, ","));
		name = gecos;
	}
	strbuf_appends(out, "From: ");
	if (name != NULL && name[0] != '\0') {
		quote_name(out, name);
		strbuf_appends(out, " <");
	}
	strbuf_appendf(out, "%s@%s", pw != NULL ? pw->pw_name : "unknown", host);
	strbuf_appends(out, name != NULL && name[0] != '\0' ? ">\n" : "\n");
}

/* add_missing - Date, Message-ID and From when the message has none */
static void add_missing(struct inject_msg *m, const struct section *s,
    const struct inject_opts *o, const char *host)
{
	int have[F_FROMLINE + 1] = { 0 };
	char date[TIMEUTIL_BUF];
	uint64_t rnd = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		have[s->f[i].kind] = 1;
	timeutil_rfc5322(timeutil_now(), date);
	if (!have[F_DATE])
		strbuf_appendf(&m->headers, "Date: %s\n", date);
	if (!have[F_MSGID]) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)timeutil_monotonic();
		snprintf(m->msgid, sizeof(m->msgid), "<%lld.%016llx@%s>",
		    (long long)timeutil_now(), (unsigned long long)rnd, host);
		strbuf_appendf(&m->headers, "Message-ID: %s\n", m->msgid);
	}
	if (!have[F_FROM]) {
		size_t at = m->headers.len;

		add_from(&m->headers, o, host);
		summary(m->from, sizeof(m->from), m->headers.s + at + 5,
		    m->headers.len - at - 5);
	}
}

/* rewrite - the header section as it will be stored */
static int rewrite(struct inject_msg *m, const struct section *s,
    const struct inject_opts *o, const char *host, struct inject_error *e)
{
	char date[TIMEUTIL_BUF];
	size_t i, len;
	const char *v;

	timeutil_rfc5322(timeutil_now(), date);
	strbuf_appendf(&m->headers, "Received: by %s (postern, from userid "
	    "%ld);\n\t%s\n", host, (long)getuid(), date);
	for (i = 0; i < s->n; i++) {
		const struct field *f = &s->f[i];

		if (f->kind == F_BCC || f->kind == F_RBCC)
			continue;
		strbuf_append(&m->headers, s->raw.s + f->start, f->len);
		v = field_value(s, f, &len);
		if (f->kind == F_FROM && m->from[0] == '\0')
			summary(m->from, sizeof(m->from), v, len);
		else if (f->kind == F_SUBJECT && m->subject[0] == '\0')
			summary(m->subject, sizeof(m->subject), v, len);
		else if (f->kind == F_MSGID && m->msgid[0] == '\0')
			summary(m->msgid, sizeof(m->msgid), v, len);
	}
	add_missing(m, s, o, host);
	if (strbuf_appendc(&m->headers, '\n') < 0)
		return inject_error_set(e, EX_DATAERR, "message header is too "
		    "large"), -1;
	return 0;
}

/* check_fullname - -F must be one line of text */
static int check_fullname(const char *name, struct inject_error *e)
{
	const unsigned char *p;

	if (name == NULL)
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return inject_error_set(e, EX_USAGE, "-F name contains "
			    "a control character"), -1;
	if (strlen(name) > 200)
		return inject_error_set(e, EX_USAGE, "-F name is longer than "
		    "200 bytes"), -1;
	return 0;
}

/* check_envid - -V: RFC 3461 ENVID, printable ASCII without '+' and '='
   (which xtext would have to encode), at most 100 bytes */
static int check_envid(const char *envid, struct inject_error *e)
{
	const char *p;

	if (envid == NULL)
		return 0;
	for (p = envid; *p != '\0'; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '+' || *p == '=')
			return inject_error_set(e, EX_USAGE, "-V envid may hold "
			    "only printable ASCII other than '+' and '='"), -1;
	if (p == envid || p - envid > 100)
		return inject_error_set(e, EX_USAGE, "-V envid must be 1 to "
		    "100 bytes"), -1;
	return 0;
}

/* inject_headers - read, check and rewrite the header section */
int inject_headers(struct inject_msg *m, struct inject_input *in,
    const struct inject_opts *o, const struct config *cfg,
    struct strbuf *body_first, struct inject_error *e)
{
	const char *host = config_str(cfg, CK_myhostname);
	struct section s;
	int r = -1, ended;

	memset(&s, 0, sizeof(s));
	strbuf_init(&s.raw, config_size(cfg, CK_header_size_limit));
	if (check_fullname(o->fullname, e) < 0 || check_envid(o->envid, e) < 0)
		goto out;
	if ((ended = read_section(&s, in, o, body_first, e)) < 0)
		goto out;
	if (o->extract && extract(m, &s, host, e) < 0)
		goto out;
	if (rewrite(m, &s, o, host, e) < 0)
		goto out;
	r = ended;
out:
	strbuf_release(&s.raw);
	free(s.f);
	return r;
}
