/*
 * strbuf - growable, bounded string buffer (see strbuf.h).
 *
 * Growth doubles the allocation up to the buffer's maximum. Every size
 * computation is checked against overflow before it is used.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* strbuf_init - an empty buffer limited to max bytes */
void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->max = max;
	sb->failed = 0;
}

/* strbuf_release - free the contents */
void strbuf_release(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->failed = 0;
}

/* strbuf_reset - empty, keeping the allocation */
void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

/* strbuf_truncate - shorten to len bytes */
void strbuf_truncate(struct strbuf *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->s[len] = '\0';
	}
}

/* strbuf_reserve - room for n more bytes plus the terminator */
int strbuf_reserve(struct strbuf *sb, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > sb->max || sb->len > sb->max - n) {
		sb->failed = 1;
		return -1;
	}
	need = sb->len + n + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > sb->max + 1)
		cap = sb->max + 1;
	if ((p = realloc(sb->s, cap)) == NULL) {
		sb->failed = 1;
		return -1;
	}
	sb->s = p;
	sb->cap = cap;
	return 0;
}

/* strbuf_append - append n bytes */
int strbuf_append(struct strbuf *sb, const void *p, size_t n)
{
	if (strbuf_reserve(sb, n) < 0)
		return -1;
	if (n)
		memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

/* strbuf_appends - append a C string */
int strbuf_appends(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

/* strbuf_appendc - append one byte */
int strbuf_appendc(struct strbuf *sb, int c)
{
	char ch = (char)c;

	/* cap never exceeds max + 1, so room here is within the limit */
	if (sb->len + 2 <= sb->cap) {
		sb->s[sb->len++] = ch;
		sb->s[sb->len] = '\0';
		return 0;
	}
	return strbuf_append(sb, &ch, 1);
}

/* strbuf_vappendf - append formatted text */
int strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	/* Format straight into the room there is; only when the text does
	   not fit is it measured, the buffer grown and formatted again. */
	if (sb->cap > sb->len) {
		va_copy(cp, ap);
		n = vsnprintf(sb->s + sb->len, sb->cap - sb->len, fmt, cp);
		va_end(cp);
		if (n >= 0 && (size_t)n < sb->cap - sb->len) {
			sb->len += (size_t)n;
			return 0;
		}
		sb->s[sb->len] = '\0';
	}
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || strbuf_reserve(sb, (size_t)n) < 0) {
		sb->failed = 1;
		return -1;
	}
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

/* strbuf_appendf - append formatted text */
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vappendf(sb, fmt, ap);
	va_end(ap);
	return r;
}

/* strbuf_append_printable - append with control bytes escaped; on
   failure nothing is appended */
int strbuf_append_printable(struct strbuf *sb, const void *p, size_t n,
    int utf8)
{
	const unsigned char *u = p;
	size_t i, start = sb->len;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		unsigned char c = u[i];

		if (c == '\\')
			r = strbuf_append(sb, "\\\\", 2);
		else if (c == '\n')
			r = strbuf_append(sb, "\\n", 2);
		else if (c == '\r')
			r = strbuf_append(sb, "\\r", 2);
		else if (c == '\t')
			r = strbuf_append(sb, "\\t", 2);
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8) ||
		    /* C1 controls written in UTF-8 (U+0080-U+009F) act on
		       terminals too */
		    (c == 0xc2 && i + 1 < n && u[i + 1] < 0xa0) ||
		    (i > 0 && u[i - 1] == 0xc2 && c < 0xa0 && c >= 0x80))
			r = strbuf_appendf(sb, "\\x%02x", c);
		else
			r = strbuf_appendc(sb, c);
	}
	if (r < 0) {
		strbuf_truncate(sb, start);
		sb->failed = 1;
	}
	return r;
}

/* strbuf_printable_cut - a prefix of escaped text that ends between
   whole escapes ("\\n", "\\x1b") */
size_t strbuf_printable_cut(const char *s, size_t n, size_t max)
{
	size_t i = 0, unit;

	while (i < n) {
		unit = s[i] != '\\' || i + 1 >= n ? 1 : s[i + 1] == 'x' ? 4 : 2;
		if (i + unit > max)
			break;
		i += unit;
	}
	return i;
}

/* strbuf_str - contents as a C string */
const char *strbuf_str(const struct strbuf *sb)
{
	return sb->s ? sb->s : "";
}

/* strbuf_steal - hand over the contents */
char *strbuf_steal(struct strbuf *sb, size_t *len_r)
{
	char *s = sb->s;

	if (s == NULL)
		s = calloc(1, 1);
	if (len_r)
		*len_r = sb->len;
	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}
