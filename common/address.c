/*
 * address - envelope address syntax (see address.h for the grammar, the
 * limits and the canonical form).
 *
 * Called by the injector for command-line recipients, -f and the
 * addresses sendmail -t finds in headers, and by every program that reads
 * an address from a queue or IPC record.
 *
 * SECURITY: the input is untrusted bytes of known length. It is never read
 * past len and never assumed to be NUL-terminated; control characters
 * (C0, DEL and the C1 range U+0080-U+009F) are refused before anything
 * else looks at the bytes. Every part is length-checked before it is
 * copied into the fixed buffers of struct address, and *a is written only
 * on success. Reasons are static strings, never built from the input.
 *
 * Design notes: helpers return a reason (NULL on success) so that the
 * first problem found is the one reported. The flags describe the
 * canonical form: "abc"@x becomes abc@x and is not ADDRESS_QUOTED.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

#define LABEL_MAX 63
#define LITERAL_MAX 64		/* longest IP text we hand to inet_pton */

static const char too_long_local[] = "local part is longer than 64 octets";

/* ascii_lower - lower-case an ASCII letter, whatever the locale */
static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ascii_alnum - ASCII letter or digit, whatever the locale */
static int ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9');
}

/* is_atext - RFC 5322 atext, ASCII part */
static int is_atext(unsigned char c)
{
	return ascii_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~",
	    c) != NULL);
}

/* utf8_seq - length of the valid, shortest-form UTF-8 sequence at s (n
   bytes available), or 0 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;	/* continuation, overlong C0/C1 lead, F5-FF */
	if (s[0] == 0xe0)
		lo = 0xa0;	/* overlong three-byte forms */
	else if (s[0] == 0xed)
		hi = 0x9f;	/* surrogates U+D800-U+DFFF */
	else if (s[0] == 0xf0)
		lo = 0x90;	/* overlong four-byte forms */
	else if (s[0] == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/* address_utf8_valid - valid, shortest-form UTF-8, no surrogates */
int address_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(u + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* control_error - a reason when any byte is a C0 control or DEL, or the
   bytes hold a UTF-8 C1 control (C2 80 to C2 9F) */
static const char *control_error(const char *in, size_t len)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i;

	for (i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return "control character in address";
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80
		    && u[i + 1] <= 0x9f)
			return "control character in address";
	}
	return NULL;
}

/* dot_string_error - NULL when len bytes at s are a Dot-string (atext
   with RFC 6531 UTF-8), else why not; UTF-8 sets ADDRESS_UTF8 in *flags */
static const char *dot_string_error(const char *s, size_t len,
    unsigned *flags)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	if (len == 0)
		return "empty local part";
	if (u[0] == '.')
		return "local part starts with a dot";
	if (u[len - 1] == '.')
		return "local part ends with a dot";
	while (i < len) {
		if (u[i] == '.' && u[i + 1] == '.')	/* u[len-1] != '.' */
			return "two dots in a row in local part";
		if (u[i] >= 0x80) {
			if ((n = utf8_seq(u + i, len - i)) == 0)
				return "invalid UTF-8 in local part";
			*flags |= ADDRESS_UTF8;
			i += n;
		} else if (u[i] == '.' || is_atext(u[i])) {
			i++;
		} else {
			return "invalid character in local part";
		}
	}
	return NULL;
}

/* quoted_char - one content unit of a Quoted-string at in[i]: qtextSMTP,
   UTF-8 or quoted-pairSMTP. Returns the bytes it takes with *src_r and
   *n_r set to its content, or 0 with *reason_r */
static size_t quoted_char(const char *in, size_t len, size_t i,
    const char **src_r, size_t *n_r, unsigned *flags, const char **reason_r)
{
	const unsigned char *u = (const unsigned char *)in;

	*src_r = in + i;
	*n_r = 1;
	if (u[i] == '\\') {
		if (i + 1 >= len) {
			*reason_r = "unbalanced quotes in local part";
			return 0;
		}
		if (u[i + 1] < 32 || u[i + 1] > 126) {
			*reason_r = "invalid quoted pair in local part";
			return 0;
		}
		*src_r = in + i + 1;
		return 2;
	}
	if (u[i] >= 0x80) {
		if ((*n_r = utf8_seq(u + i, len - i)) == 0)
			*reason_r = "invalid UTF-8 in local part";
		else
			*flags |= ADDRESS_UTF8;
		return *n_r;
	}
	if (u[i] < 32 || u[i] > 126) {	/* refused earlier; kept as a guard */
		*reason_r = "control character in address";
		return 0;
	}
	return 1;
}

/* parse_quoted - read the Quoted-string at in[0] == '"', its content
   (at most ADDRESS_LOCAL_MAX octets) into buf; the bytes consumed, or 0
   with *reason_r */
static size_t parse_quoted(const char *in, size_t len, char *buf,
    size_t *clen_r, unsigned *flags, const char **reason_r)
{
	const char *src;
	size_t i = 1, n, step, clen = 0;

	while (i < len && in[i] != '"') {
		if ((step = quoted_char(in, len, i, &src, &n, flags,
		    reason_r)) == 0)
			return 0;
		if (clen + n > ADDRESS_LOCAL_MAX) {
			*reason_r = too_long_local;
			return 0;
		}
		memcpy(buf + clen, src, n);
		clen += n;
		i += step;
	}
	if (i >= len) {
		*reason_r = "unbalanced quotes in local part";
		return 0;
	}
	*clen_r = clen;
	return i + 1;
}

/* canon_quoted - the canonical local part for the content of a
   Quoted-string: bare when it is a Dot-string, else quoted with a
   backslash before each '"' and '\' only */
static const char *canon_quoted(const char *s, size_t len,
    struct address *r)
{
	unsigned scratch = 0;
	size_t i, o = 0;

	if (len == 0)
		return "empty local part";
	if (dot_string_error(s, len, &scratch) == NULL) {
		memcpy(r->text, s, len);	/* len <= ADDRESS_LOCAL_MAX */
		r->local_len = len;
		return NULL;
	}
	r->text[o++] = '"';
	for (i = 0; i < len; i++) {
		if (o + 2 > ADDRESS_LOCAL_MAX)	/* room for this and '"' */
			return too_long_local;
		if (s[i] == '"' || s[i] == '\\')
			r->text[o++] = '\\';
		if (o + 2 > ADDRESS_LOCAL_MAX)
			return too_long_local;
		r->text[o++] = s[i];
	}
	r->text[o++] = '"';
	r->local_len = o;
	r->flags |= ADDRESS_QUOTED;
	return NULL;
}

/* parse_local - the local part at the start of in into r->text; *used_r
   is where it ends (at '@' or len) */
static const char *parse_local(const char *in, size_t len,
    struct address *r, size_t *used_r)
{
	char buf[ADDRESS_LOCAL_MAX];
	const char *why = NULL, *at;
	size_t used, clen = 0;

	if (in[0] == '"') {
		if ((used = parse_quoted(in, len, buf, &clen, &r->flags,
		    &why)) == 0)
			return why;
		if (used < len && in[used] != '@')
			return "unexpected text after quoted local part";
		*used_r = used;
		return canon_quoted(buf, clen, r);
	}
	at = memchr(in, '@', len);
	used = at ? (size_t)(at - in) : len;
	if ((why = dot_string_error(in, used, &r->flags)) != NULL)
		return why;
	if (used > ADDRESS_LOCAL_MAX)
		return too_long_local;
	memcpy(r->text, in, used);
	r->local_len = used;
	*used_r = used;
	return NULL;
}

/* parse_label - check one domain label and copy it lower-cased to out */
static const char *parse_label(const char *s, size_t len, char *out,
    unsigned *flags)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	if (len == 0)
		return "empty label in domain";
	if (len > LABEL_MAX)
		return "domain label is longer than 63 octets";
	if (u[0] == '-' || u[len - 1] == '-')
		return "domain label starts or ends with a hyphen";
	while (i < len) {
		if (u[i] >= 0x80) {
			if ((n = utf8_seq(u + i, len - i)) == 0)
				return "invalid UTF-8 in domain";
			memcpy(out + i, s + i, n);
			*flags |= ADDRESS_UTF8;
			i += n;
		} else if (ascii_alnum(u[i]) || u[i] == '-') {
			out[i] = (char)ascii_lower(u[i]);
			i++;
		} else {
			return "invalid character in domain";
		}
	}
	return NULL;
}

/* all_digits - len bytes at s are ASCII digits */
static int all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* parse_name - a domain name (one trailing dot allowed) into out */
static const char *parse_name(const char *in, size_t len, char *out,
    size_t *olen_r, unsigned *flags)
{
	const char *why, *dot;
	size_t start = 0, end;

	if (in[len - 1] == '.')
		len--;
	if (len == 0)
		return "empty domain";
	if (len > ADDRESS_DOMAIN_MAX)
		return "domain is longer than 255 octets";
	for (;;) {
		dot = memchr(in + start, '.', len - start);
		end = dot ? (size_t)(dot - in) : len;
		if ((why = parse_label(in + start, end - start, out + start,
		    flags)) != NULL)
			return why;
		if (dot == NULL)
			break;
		out[end] = '.';
		start = end + 1;
	}
	if (all_digits(in + start, len - start))
		return "top-level domain label is all digits "
		    "(use an address literal such as [192.0.2.1])";
	out[len] = '\0';
	*olen_r = len;
	return NULL;
}

/* ip_literal - convert the IP text (n bytes) with inet_pton(family) and
   write it back in inet_ntop's form at out, after prefix */
static const char *ip_literal(int family, const char *ip, size_t n,
    const char *prefix, char *out, size_t *olen_r)
{
	char tmp[LITERAL_MAX + 1], text[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *bad = family == AF_INET6 ? "invalid IPv6 address literal"
	    : "invalid IPv4 address literal";
	int w;

	if (n > LITERAL_MAX)
		return bad;
	memcpy(tmp, ip, n);
	tmp[n] = '\0';
	if (inet_pton(family, tmp, bin) != 1
	    || inet_ntop(family, bin, text, sizeof(text)) == NULL)
		return bad;
	w = snprintf(out, ADDRESS_DOMAIN_MAX + 1, "[%s%s]", prefix, text);
	if (w < 0 || w > ADDRESS_DOMAIN_MAX)
		return bad;
	*olen_r = (size_t)w;
	return NULL;
}

/* parse_literal - an address literal "[...]" (in[0] == '[') into out */
static const char *parse_literal(const char *in, size_t len, char *out,
    size_t *olen_r, unsigned *flags)
{
	const char *close = memchr(in, ']', len), *ip = in + 1;
	size_t n;
	int i;

	if (close == NULL)
		return "unbalanced brackets in domain literal";
	if (close != in + len - 1)
		return "text after domain literal";
	n = len - 2;	/* in[0] is '[', so close > in */
	*flags |= ADDRESS_LITERAL;
	if (n >= 5) {
		for (i = 0; i < 5; i++)
			if (ascii_lower((unsigned char)ip[i])
			    != (unsigned char)"ipv6:"[i])
				break;
		if (i == 5)
			return ip_literal(AF_INET6, ip + 5, n - 5, "IPv6:",
			    out, olen_r);
	}
	if (memchr(ip, ':', n) != NULL)
		return "general address literals are not accepted";
	return ip_literal(AF_INET, ip, n, "", out, olen_r);
}

/* parse_domain - a domain name or address literal into out
   (ADDRESS_DOMAIN_MAX + 1 bytes, NUL-terminated) */
static const char *parse_domain(const char *in, size_t len, char *out,
    size_t *olen_r, unsigned *flags)
{
	if (len == 0)
		return "empty domain";
	if (in[0] == '[')
		return parse_literal(in, len, out, olen_r, flags);
	return parse_name(in, len, out, olen_r, flags);
}

/* join - append "@" and the canonical domain to r's local part */
static const char *join(struct address *r, const char *dom, size_t dlen)
{
	if (r->local_len + 1 + dlen > ADDRESS_MAX)
		return "address is longer than 254 octets";
	r->text[r->local_len] = '@';
	memcpy(r->text + r->local_len + 1, dom, dlen);
	r->text[r->local_len + 1 + dlen] = '\0';
	return NULL;
}

/* unwrap - remove one pair of angle brackets from *in when allowed;
   "<>" becomes the empty string whatever the options */
static const char *unwrap(const char **in, size_t *len, unsigned options)
{
	const char *s = *in;
	size_t n = *len;

	if (n > 0 && s[0] == '<') {
		if (n < 2 || s[n - 1] != '>')
			return "unbalanced angle brackets";
		if (n > 2 && !(options & ADDRESS_ALLOW_ANGLE))
			return "angle brackets are not allowed here";
		*in = s + 1;
		*len = n - 2;
	} else if (n > 0 && s[n - 1] == '>') {
		return "unbalanced angle brackets";
	}
	return NULL;
}

/* parse_mailbox - local@domain (or a bare local part) without brackets */
static const char *parse_mailbox(const char *in, size_t len,
    unsigned options, struct address *r)
{
	char dom[ADDRESS_DOMAIN_MAX + 1];
	size_t used = 0, dlen = 0;
	const char *why;

	if (in[0] == '@')
		return memchr(in, ':', len) ? "source routes are not accepted"
		    : "empty local part";
	if ((why = parse_local(in, len, r, &used)) != NULL)
		return why;
	if (used == len) {
		if (!(options & ADDRESS_ALLOW_BARE))
			return "address has no @domain";
		r->text[r->local_len] = '\0';
		r->flags |= ADDRESS_NODOMAIN;
		return NULL;
	}
	if ((why = parse_domain(in + used + 1, len - used - 1, dom, &dlen,
	    &r->flags)) != NULL)
		return why;
	return join(r, dom, dlen);
}

/* address_parse - parse one envelope address into its canonical form */
int address_parse(const char *in, size_t len, unsigned options,
    struct address *a, const char **reason_r)
{
	struct address r;
	const char *why;

	memset(&r, 0, sizeof(r));
	if ((why = control_error(in, len)) == NULL
	    && (why = unwrap(&in, &len, options)) == NULL) {
		if (len > 0)
			why = parse_mailbox(in, len, options, &r);
		else if (options & ADDRESS_ALLOW_NULL)
			r.flags = ADDRESS_NULL;
		else
			why = "empty address (the null sender is not allowed "
			    "here)";
	}
	if (why != NULL) {
		*reason_r = why;
		return -1;
	}
	*a = r;
	return 0;
}

/* address_domain - the domain part of a parsed address ("" if none) */
const char *address_domain(const struct address *a)
{
	if (a->flags & (ADDRESS_NULL | ADDRESS_NODOMAIN))
		return "";
	return a->text + a->local_len + 1;
}

/* address_set_domain - complete an ADDRESS_NODOMAIN address with
   "@domain" (checked and canonicalised like a parsed domain) */
int address_set_domain(struct address *a, const char *domain,
    const char **reason_r)
{
	char dom[ADDRESS_DOMAIN_MAX + 1];
	struct address r = *a;
	size_t dlen = 0, len = strlen(domain);
	const char *why;

	if (a->flags & ADDRESS_NULL)
		why = "the null sender takes no domain";
	else if (!(a->flags & ADDRESS_NODOMAIN))
		why = "address already has a domain";
	else if ((why = control_error(domain, len)) == NULL
	    && (why = parse_domain(domain, len, dom, &dlen, &r.flags)) == NULL)
		why = join(&r, dom, dlen);
	if (why != NULL) {
		*reason_r = why;
		return -1;
	}
	r.flags &= ~(unsigned)ADDRESS_NODOMAIN;
	*a = r;
	return 0;
}

/* address_parse_qualified - parse, and give a bare local part a domain */
int address_parse_qualified(const char *in, size_t len, unsigned options,
    const char *domain, struct address *a, const char **reason_r)
{
	if (address_parse(in, len, options | ADDRESS_ALLOW_BARE, a,
	    reason_r) < 0)
		return -1;
	if ((a->flags & ADDRESS_NODOMAIN) &&
	    address_set_domain(a, domain, reason_r) < 0)
		return -1;
	return 0;
}

int address_nexthop_parse(const char *s, struct nexthop *nh)
{
	const char *end, *colon, *p, *allowed;
	unsigned long port;
	char *e;

	memset(nh, 0, sizeof(*nh));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end == s + 1)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
		p = s + 1;
		allowed = ".-:";
	} else {
		colon = strchr(s, ':');
		end = colon ? colon : s + strlen(s);
		p = s;
		allowed = ".-";
	}
	if (end == p || (size_t)(end - p) > NEXTHOP_MAX)
		return -1;
	for (const char *q = p; q < end; q++)
		if (!(*q >= 'a' && *q <= 'z') && !(*q >= 'A' && *q <= 'Z') &&
		    !(*q >= '0' && *q <= '9') && strchr(allowed, *q) == NULL)
			return -1;
	memcpy(nh->host, p, (size_t)(end - p));
	nh->mx = s[0] != '[';
	if (colon != NULL) {
		if (colon[1] < '0' || colon[1] > '9')
			return -1;
		port = strtoul(colon + 1, &e, 10);
		if (*e != '\0' || port == 0 || port > 65535)
			return -1;
		nh->port = (unsigned)port;
	}
	return 0;
}
