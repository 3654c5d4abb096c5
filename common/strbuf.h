/*
 * strbuf - the one growable, bounded string buffer of postern.
 *
 * Every string that is built from pieces (log lines, records, headers,
 * JSON) is built in a strbuf. A strbuf has a hard maximum length fixed at
 * init; an append that would pass it, or an allocation failure, appends
 * nothing, returns -1 and leaves the buffer marked failed, so a caller may
 * append many pieces and check once with strbuf_ok(). The contents are
 * always NUL-terminated (strbuf_str never returns NULL) but may hold NUL
 * bytes: strbuf_len is the length, not strlen.
 */
#ifndef POSTERN_STRBUF_H
#define POSTERN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *s;	/* contents, NUL-terminated once anything was added */
	size_t len;	/* bytes in use, not counting the terminator */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard limit on len */
	int failed;	/* an append was refused (limit or memory) */
};

#define STRBUF_INIT(maxlen) { NULL, 0, 0, (maxlen), 0 }

/* strbuf_init - an empty buffer that will never hold more than max bytes */
void strbuf_init(struct strbuf *sb, size_t max);
/* strbuf_release - free the contents; the buffer is empty and reusable */
void strbuf_release(struct strbuf *sb);
/* strbuf_reset - empty the buffer, keep the memory, clear the failed mark */
void strbuf_reset(struct strbuf *sb);
/* strbuf_truncate - cut the contents back to len bytes (len <= current) */
void strbuf_truncate(struct strbuf *sb, size_t len);

/* strbuf_append - append n bytes; 0, or -1 (nothing appended) */
int strbuf_append(struct strbuf *sb, const void *p, size_t n);
/* strbuf_appends - append a C string */
int strbuf_appends(struct strbuf *sb, const char *s);
/* strbuf_appendc - append one byte */
int strbuf_appendc(struct strbuf *sb, int c);
/* strbuf_appendf - append printf-formatted text */
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* strbuf_append_printable - append bytes with control characters, DEL and
   backslash escaped as \n, \r, \t, \\ or \xHH (for logs and terminals);
   bytes >= 0x80 pass unchanged when utf8 is set (except the UTF-8 forms of
   the C1 controls U+0080-U+009F) and are escaped otherwise. All or
   nothing: on failure nothing is appended. */
int strbuf_append_printable(struct strbuf *sb, const void *p, size_t n,
    int utf8);
/* strbuf_printable_cut - how many of the n bytes of s, text written by
   strbuf_append_printable, fit in max bytes without cutting an escape
   sequence in two */
size_t strbuf_printable_cut(const char *s, size_t n, size_t max);
/* strbuf_reserve - make room for n more bytes without appending */
int strbuf_reserve(struct strbuf *sb, size_t n);

/* strbuf_str - the contents as a C string ("" when empty) */
const char *strbuf_str(const struct strbuf *sb);
/* strbuf_ok - no append has failed since init or the last reset */
static inline int strbuf_ok(const struct strbuf *sb) { return !sb->failed; }
/* strbuf_steal - hand the contents to the caller (free() them); the buffer
   is left empty */
char *strbuf_steal(struct strbuf *sb, size_t *len_r);

#endif
