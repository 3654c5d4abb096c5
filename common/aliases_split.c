/*
 * aliases_split - splitting an alias value, or an :include: file, into
 * its targets (aliases.h has the syntax): aliases_split(),
 * aliases_split_file() and their helpers.
 *
 * Callers: aliases.c checks every value of a source with aliases_split()
 * while compiling; the queue manager splits the values it looks up and
 * the contents of :include: files. aliases.c also uses aliases_trim() and
 * aliases_ctl_char() (aliases_impl.h).
 *
 * Trust: the text may come from a file a user wrote (:include:). It is
 * bounded by its length, never by a terminator; quotes must balance,
 * control characters are refused, and a bad target is an error with a
 * reason, never a guess. What a target may do is the caller's business.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aliases.h"
#include "aliases_impl.h"

#define INCLUDE_PREFIX ":include:"
#define INCLUDE_LEN (sizeof(INCLUDE_PREFIX) - 1)

/*
 * Splitting values into targets.
 */

/* aliases_trim - s without blanks at either end; *n is updated */
const char *aliases_trim(const char *s, size_t *n)
{
	while (*n > 0 && is_blank((unsigned char)s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && is_blank((unsigned char)s[*n - 1]))
		(*n)--;
	return s;
}

/* aliases_ctl_char - the first control character in s (n bytes), or -1 */
int aliases_ctl_char(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)s[i]))
			return (unsigned char)s[i];
	return -1;
}

/* quote_end - index of the quote closing the one at s[0], or n */
static size_t quote_end(const char *s, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		else if (s[i] == '"')
			return i;
	}
	return n;
}

/* element_end - *end_r: the comma (or n) ending the element at s, or, with
   blank set, the first blank outside quotes (n: none); -1 when a quote is
   not closed */
static int element_end(const char *s, size_t n, int blank, size_t *end_r)
{
	size_t i = 0, q;

	while (i < n && s[i] != ',' &&
	    !(blank && is_blank((unsigned char)s[i]))) {
		if (s[i] == '"') {
			if ((q = quote_end(s + i, n - i)) == n - i)
				return -1;
			i += q;
		}
		i++;
	}
	*end_r = i;
	return 0;
}

/* emit - call cb for a target whose text is s (n bytes); an unquoted
   one (strict set) must hold no blank outside quotes */
static int emit(enum alias_target kind, const char *s, size_t n, int strict,
    aliases_target_fn cb, void *ctx, const char **reason_r)
{
	size_t end;

	/* element_end() cannot fail here: aliases_split() checked quotes. */
	if (strict && element_end(s, n, 1, &end) == 0 && end < n) {
		*reason_r = "blank outside quotes in a target "
		    "(quote the whole target)";
		return -1;
	}
	return cb(ctx, kind, s, n);
}

/* classify - call cb with the kind and text of the target s (n > 0) */
static int classify(const char *s, size_t n, int strict,
    aliases_target_fn cb, void *ctx, const char **reason_r)
{
	if (s[0] == '|') {
		n--;
		s = aliases_trim(s + 1, &n);
		if (n == 0) {
			*reason_r = "'|' without a command";
			return -1;
		}
		return emit(ALIAS_PIPE, s, n, strict, cb, ctx, reason_r);
	}
	if (s[0] == '/')
		return emit(ALIAS_FILE, s, n, strict, cb, ctx, reason_r);
	if (n >= INCLUDE_LEN && strncasecmp(s, INCLUDE_PREFIX,
	    INCLUDE_LEN) == 0) {
		n -= INCLUDE_LEN;
		s = aliases_trim(s + INCLUDE_LEN, &n);
		if (n == 0 || s[0] != '/') {
			*reason_r = ":include: without an absolute path";
			return -1;
		}
		return emit(ALIAS_INCLUDE, s, n, strict, cb, ctx, reason_r);
	}
	return emit(ALIAS_ADDRESS, s, n, strict, cb, ctx, reason_r);
}

/* unquoted - the quoted target s (n bytes, quotes included) without its
   quotes and escapes */
static int unquoted(const char *s, size_t n, aliases_target_fn cb,
    void *ctx, const char **reason_r)
{
	char *copy;
	size_t i, m = 0;
	int r;

	s++;
	n -= 2;
	if (n == 0) {
		*reason_r = "empty quoted target";
		return -1;
	}
	if (memchr(s, '\\', n) == NULL)
		return classify(s, n, 0, cb, ctx, reason_r);
	if ((copy = malloc(n)) == NULL) {
		*reason_r = "out of memory";
		return -1;
	}
	for (i = 0; i < n; i++)
		copy[m++] = s[i] == '\\' && i + 1 < n ? s[++i] : s[i];
	r = classify(copy, m, 0, cb, ctx, reason_r);
	free(copy);
	return r;
}

/* one_target - the element s (n bytes, between commas) */
static int one_target(const char *s, size_t n, aliases_target_fn cb,
    void *ctx, const char **reason_r)
{
	s = aliases_trim(s, &n);
	if (n == 0)
		return 0;
	if (aliases_ctl_char(s, n) >= 0) {
		*reason_r = "control character in a target";
		return -1;
	}
	if (s[0] == '"' && quote_end(s, n) == n - 1)
		return unquoted(s, n, cb, ctx, reason_r);
	return classify(s, n, 1, cb, ctx, reason_r);
}

/* aliases_split - the targets of a value, one cb call each */
int aliases_split(const char *value, size_t len, aliases_target_fn cb,
    void *ctx, const char **reason_r)
{
	size_t i = 0, end;
	int r;

	for (;;) {
		if (element_end(value + i, len - i, 0, &end) < 0) {
			*reason_r = "unbalanced double quote";
			return -1;
		}
		if ((r = one_target(value + i, end, cb, ctx, reason_r)) != 0)
			return r;
		i += end;
		if (i == len)
			return 0;
		i++;
	}
}

/* aliases_split_file - the targets of an :include: file, line by line */
int aliases_split_file(const char *buf, size_t len, aliases_target_fn cb,
    void *ctx, const char **reason_r)
{
	const char *line, *nl;
	size_t i = 0, n;
	int r;

	while (i < len) {
		nl = memchr(buf + i, '\n', len - i);
		n = nl ? (size_t)(nl - (buf + i)) : len - i;
		if (n > 0 && buf[i + n - 1] == '\r')
			n--;
		line = aliases_trim(buf + i, &n);
		if (n > 0 && line[0] != '#' &&
		    (r = aliases_split(line, n, cb, ctx, reason_r)) != 0)
			return r;
		i += (nl ? (size_t)(nl - (buf + i)) + 1 : len - i);
	}
	return 0;
}
