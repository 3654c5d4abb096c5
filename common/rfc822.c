/*
 * rfc822 - header field names and the address-list walker (see rfc822.h).
 *
 * Called by the injector (sendmail -t collects To, Cc and Bcc through
 * rfc822_addrlist) and by the bounce composer.
 *
 * SECURITY: the input is untrusted message text. It is read only within
 * the given length and never assumed to be NUL-terminated; comments are
 * skipped with a depth counter (no recursion) capped at
 * RFC822_COMMENT_DEPTH; the address and display name handed to the
 * callback are built in strbufs capped at RFC822_TEXT_MAX octets. The
 * walker does not judge address syntax: the caller passes every address
 * it gets to address_parse(), which refuses control characters and the
 * rest.
 *
 * What the walker hands over: for a bare addr-spec, the tokens as written
 * without comments or whitespace, except that two words separated by
 * blanks keep one space (so "john doe@x" stays invalid instead of
 * becoming "johndoe@x"); name is NULL. For "phrase <addr>", the addr the
 * same way and the phrase with quoted strings unquoted, comments removed
 * and each run of blanks and comments shown as one space; name is never
 * NULL then (it may be empty). A group's name is not passed on; a group
 * left open at the end of the value is accepted. Empty elements
 * (",,") are skipped. An obsolete route "<@a,@b:user@c>" yields user@c.
 */
#include <limits.h>
#include <string.h>

#include "rfc822.h"
#include "strbuf.h"

#define RFC822_TEXT_MAX 4096		/* longest addr or display name */
#define RFC822_COMMENT_DEPTH 32		/* deepest nested comment */

/* rfc822_field_name_len - length of the name when line starts "Name:" */
size_t rfc822_field_name_len(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == ':')
			return i;	/* 0 for ":x", which is no field */
		if (c < 33 || c > 126)
			return 0;
	}
	return 0;
}

/* rfc822_is_continuation - line starts with SP or HTAB */
int rfc822_is_continuation(const char *line, size_t len)
{
	return len > 0 && (line[0] == ' ' || line[0] == '\t');
}

/* rfc822_name_is - the field name equals name, ignoring ASCII case */
int rfc822_name_is(const char *line, size_t namelen, const char *name)
{
	size_t i;

	if (strlen(name) != namelen)
		return 0;
	for (i = 0; i < namelen; i++) {
		unsigned char a = (unsigned char)line[i];
		unsigned char b = (unsigned char)name[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

enum walk_state {
	W_PLAIN,		/* no '<' yet in this element */
	W_ANGLE,		/* inside <...> */
	W_AFTER			/* after the closing '>' */
};

struct walk {
	const char *v;
	size_t len, pos;
	struct strbuf addr;	/* the addr-spec being built */
	struct strbuf name;	/* the phrase, while in W_PLAIN */
	enum walk_state state;
	int in_group;
	int space;		/* blank or comment since the last token */
	int last_word;		/* the last token was a word */
	int count;
	rfc822_addrlist_cb cb;
	void *ctx;
	const char *reason;
};

/* fail - record why the walk stops */
static int fail(struct walk *w, const char *reason)
{
	w->reason = reason;
	return -1;
}

/* linebreak_len - bytes of the CR, LF or CRLF at pos when it is folding
   (followed by a blank or by the end of the value), else 0 */
static size_t linebreak_len(const struct walk *w, size_t pos)
{
	size_t n = 1;

	if (w->v[pos] == '\r' && pos + 1 < w->len && w->v[pos + 1] == '\n')
		n = 2;
	if (pos + n == w->len || w->v[pos + n] == ' '
	    || w->v[pos + n] == '\t')
		return n;
	return 0;
}

/* reset_element - forget the element being built */
static void reset_element(struct walk *w)
{
	strbuf_reset(&w->addr);
	strbuf_reset(&w->name);
	w->state = W_PLAIN;
	w->space = 0;
	w->last_word = 0;
}

/* token_start - spacing before a token; words are atoms, quoted strings
   and domain literals, the rest is '.' and '@' */
static int token_start(struct walk *w, int word)
{
	if (w->state == W_AFTER)
		return fail(w, "unexpected text after '>'");
	if (w->space && word && w->last_word)
		strbuf_appendc(&w->addr, ' ');
	if (w->state == W_PLAIN && w->space && w->name.len > 0)
		strbuf_appendc(&w->name, ' ');
	w->space = 0;
	w->last_word = word;
	return 0;
}

/* put - n bytes to the addr and, decoded as dec, to the phrase */
static void put(struct walk *w, const char *raw, size_t n, const char *dec,
    size_t dn)
{
	strbuf_append(&w->addr, raw, n);
	if (w->state == W_PLAIN)
		strbuf_append(&w->name, dec, dn);
}

/* read_delimited - a quoted string or domain literal starting at pos and
   ending with close; quoted-pairs kept in the addr and decoded in the
   phrase; folding inside loses its line break but keeps the blank */
static int read_delimited(struct walk *w, char close, const char *unbalanced)
{
	const char *v = w->v;
	size_t n;

	if (token_start(w, 1) < 0)
		return -1;
	put(w, v + w->pos, 1, v + w->pos, close == '"' ? 0 : 1);
	for (w->pos++; w->pos < w->len; w->pos++) {
		if (v[w->pos] == close) {
			put(w, v + w->pos, 1, v + w->pos, close == '"' ? 0 : 1);
			w->pos++;
			return 0;
		}
		if (v[w->pos] == '\\' && w->pos + 1 < w->len) {
			put(w, v + w->pos, 2, v + w->pos + 1, 1);
			w->pos++;
		} else if (v[w->pos] == '\r' || v[w->pos] == '\n') {
			if ((n = linebreak_len(w, w->pos)) == 0)
				return fail(w, "line break inside a quoted "
				    "string or literal");
			w->pos += n - 1;
		} else if (close == ']' && v[w->pos] == '[') {
			break;
		} else {
			put(w, v + w->pos, 1, v + w->pos, 1);
		}
	}
	return fail(w, unbalanced);
}

/* skip_comment - a comment starting at pos, nested comments and
   quoted-pairs included, counted without recursion */
static int skip_comment(struct walk *w)
{
	int depth = 0;

	while (w->pos < w->len) {
		char c = w->v[w->pos++];

		if (c == '\\') {
			w->pos++;	/* may pass len: then unbalanced */
		} else if (c == '(') {
			if (++depth > RFC822_COMMENT_DEPTH)
				return fail(w, "comments nested too deeply");
		} else if (c == ')' && --depth == 0) {
			w->space = 1;
			return 0;
		}
	}
	return fail(w, "unbalanced parentheses");
}

/* is_atom_char - not a blank, line break or special of RFC 5322 (the
   backslash, NUL and other controls are let through: address_parse
   judges them) */
static int is_atom_char(char c)
{
	if (c == '\0')
		return 1;
	return c != ' ' && c != '\t' && c != '\r' && c != '\n'
	    && strchr("()<>[]:;@,.\"", c) == NULL;
}

/* read_atom - a run of atom characters (8-bit bytes included) */
static int read_atom(struct walk *w)
{
	size_t start = w->pos;

	if (token_start(w, 1) < 0)
		return -1;
	while (w->pos < w->len && is_atom_char(w->v[w->pos]))
		w->pos++;
	put(w, w->v + start, w->pos - start, w->v + start, w->pos - start);
	return 0;
}

/* read_dot_at - '.' or '@', which take no space before them in the
   addr */
static int read_dot_at(struct walk *w)
{
	if (token_start(w, 0) < 0)
		return -1;
	put(w, w->v + w->pos, 1, w->v + w->pos, 1);
	w->pos++;
	return 0;
}

/* end_element - hand the finished element to the callback (an empty one
   is skipped) and start the next */
static int end_element(struct walk *w)
{
	const char *name = NULL;
	size_t namelen = 0;

	if (w->state == W_ANGLE)
		return fail(w, "unbalanced angle brackets");
	if (!strbuf_ok(&w->addr)
	    || (w->state == W_AFTER && !strbuf_ok(&w->name)))
		return fail(w, "address or display name is too long");
	if (w->state == W_PLAIN && w->addr.len == 0) {
		reset_element(w);
		return 0;
	}
	if (w->state == W_AFTER) {
		name = strbuf_str(&w->name);
		namelen = w->name.len;
	}
	if (w->count == INT_MAX)
		return fail(w, "too many addresses");
	if (w->cb(w->ctx, strbuf_str(&w->addr), w->addr.len, name,
	    namelen) < 0)
		return fail(w, "stopped by the caller");
	w->count++;
	reset_element(w);
	return 0;
}

/* open_angle - '<': what came before is the display name */
static int open_angle(struct walk *w)
{
	if (w->state != W_PLAIN)
		return fail(w, w->state == W_ANGLE ? "unbalanced angle "
		    "brackets" : "unexpected text after '>'");
	strbuf_reset(&w->addr);
	w->state = W_ANGLE;
	w->space = 0;
	w->last_word = 0;
	w->pos++;
	return 0;
}

/* close_angle - '>' ends the address of a name-addr */
static int close_angle(struct walk *w)
{
	if (w->state != W_ANGLE)
		return fail(w, "unbalanced angle brackets");
	if (w->addr.len == 0)
		return fail(w, "empty address in angle brackets");
	w->state = W_AFTER;
	w->pos++;
	return 0;
}

/* in_route - inside <...> after an obsolete route's first '@' */
static int in_route(const struct walk *w)
{
	return w->state == W_ANGLE && w->addr.len > 0 && w->addr.s[0] == '@';
}

/* comma - ends an element, or separates the domains of a route */
static int comma(struct walk *w)
{
	if (w->state == W_ANGLE && !in_route(w))
		return fail(w, "',' inside angle brackets");
	if (w->state == W_ANGLE) {
		strbuf_appendc(&w->addr, ',');
		w->last_word = 0;
		w->pos++;
		return 0;
	}
	w->pos++;
	return end_element(w);
}

/* colon - starts a group, or ends a route inside <...> */
static int colon(struct walk *w)
{
	if (w->state == W_ANGLE && !in_route(w))
		return fail(w, "':' inside angle brackets");
	if (w->state == W_AFTER)
		return fail(w, "unexpected text after '>'");
	if (w->state == W_PLAIN && w->in_group)
		return fail(w, "group inside a group");
	if (w->state == W_PLAIN) {
		reset_element(w);	/* the group's name is not passed on */
		w->in_group = 1;
	} else {
		strbuf_reset(&w->addr);	/* the route is dropped */
		w->last_word = 0;
		w->space = 0;
	}
	w->pos++;
	return 0;
}

/* semicolon - ends the last element of a group and the group */
static int semicolon(struct walk *w)
{
	if (w->state != W_ANGLE && !w->in_group)
		return fail(w, "';' outside a group");
	w->pos++;
	if (end_element(w) < 0)
		return -1;
	w->in_group = 0;
	return 0;
}

/* blank - SP, HTAB or folding */
static int blank(struct walk *w)
{
	size_t n = 1;

	if (w->v[w->pos] == '\r' || w->v[w->pos] == '\n') {
		if ((n = linebreak_len(w, w->pos)) == 0)
			return fail(w, "line break not followed by a blank");
	}
	w->space = 1;
	w->pos += n;
	return 0;
}

/* step - one token of the value at pos */
static int step(struct walk *w)
{
	switch (w->v[w->pos]) {
	case ' ': case '\t': case '\r': case '\n':
		return blank(w);
	case '(':
		return skip_comment(w);
	case ')':
		return fail(w, "unbalanced parentheses");
	case '"':
		return read_delimited(w, '"', "unbalanced quotes");
	case '[':
		return read_delimited(w, ']', "unbalanced brackets");
	case ']':
		return fail(w, "unbalanced brackets");
	case '<':
		return open_angle(w);
	case '>':
		return close_angle(w);
	case ',':
		return comma(w);
	case ':':
		return colon(w);
	case ';':
		return semicolon(w);
	case '.': case '@':
		return read_dot_at(w);
	default:
		return read_atom(w);
	}
}

/* rfc822_addrlist - walk an address-list field value */
int rfc822_addrlist(const char *value, size_t len, rfc822_addrlist_cb cb,
    void *ctx, const char **reason_r)
{
	struct walk w;
	int r = 0;

	memset(&w, 0, sizeof(w));
	w.v = value;
	w.len = len;
	w.cb = cb;
	w.ctx = ctx;
	strbuf_init(&w.addr, RFC822_TEXT_MAX);
	strbuf_init(&w.name, RFC822_TEXT_MAX);
	while (r == 0 && w.pos < w.len)
		r = step(&w);
	if (r == 0)
		r = end_element(&w);
	strbuf_release(&w.addr);
	strbuf_release(&w.name);
	if (r < 0) {
		*reason_r = w.reason;
		return -1;
	}
	return w.count;
}
