/*
 * remote_xscript - the transcript of one delivery attempt.
 *
 * Every line is timestamped (UTC, to the millisecond) and made printable
 * (strbuf_append_printable), so what a server sends can never forge a
 * line or a terminal sequence in a notice or in posternctl's output. The
 * size is capped: the first XS_HEAD bytes are kept, then only the last
 * XS_TAIL bytes, with a line saying how much was left out between them.
 * An endless reply stream or a thousand recipients cost bounded memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "remote.h"
#include "timeutil.h"

void xs_init(struct xscript *x)
{
	memset(x, 0, sizeof(*x));
	strbuf_init(&x->head, XS_HEAD + 4096);
	strbuf_init(&x->tail, 2 * XS_TAIL + 8192);
}

void xs_release(struct xscript *x)
{
	strbuf_release(&x->head);
	strbuf_release(&x->tail);
}

void xs_reset(struct xscript *x)
{
	strbuf_reset(&x->head);
	strbuf_reset(&x->tail);
	x->cut = 0;
	x->in_tail = 0;
}

/* shed - keep the tail buffer near XS_TAIL, cutting at a line start */
static void shed(struct xscript *x)
{
	struct strbuf *t = &x->tail;
	size_t drop;
	const char *nl;

	if (t->len <= 2 * XS_TAIL)
		return;
	drop = t->len - XS_TAIL;
	nl = memchr(t->s + drop, '\n', t->len - drop);
	drop = nl ? (size_t)(nl - t->s) + 1 : drop;
	memmove(t->s, t->s + drop, t->len - drop);
	strbuf_truncate(t, t->len - drop);
	x->cut += drop;
}

/* put - one finished line (with its '\n') */
static void put(struct xscript *x, const struct strbuf *line)
{
	if (!x->in_tail && x->head.len + line->len <= XS_HEAD) {
		strbuf_append(&x->head, line->s, line->len);
		return;
	}
	x->in_tail = 1;
	strbuf_append(&x->tail, line->s, line->len);
	shed(x);
}

/* stamp - "HH:MM:SS.mmm " */
static void stamp(struct strbuf *sb)
{
	int64_t now = timeutil_now();
	time_t s = (time_t)(now / 1000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strbuf_appendf(sb, "%02d:%02d:%02d.%03d ", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(now / 1000 % 1000));
}

void xs_note(struct xscript *x, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	xs_lines(x, "", buf, (size_t)n < sizeof(buf) ? (size_t)n :
	    sizeof(buf) - 1);
}

void xs_lines(struct xscript *x, const char *prefix, const char *text,
    size_t len)
{
	struct strbuf line = STRBUF_INIT(16384);
	const char *p = text, *end = text + len, *nl;
	size_t n;

	do {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		strbuf_reset(&line);
		stamp(&line);
		strbuf_appends(&line, prefix);
		if (strbuf_append_printable(&line, p, n > 4000 ? 4000 : n, 1) <
		    0)
			strbuf_appends(&line, "(unprintable)");
		if (n > 4000)
			strbuf_appends(&line, "...");
		strbuf_appendc(&line, '\n');
		put(x, &line);
		p = nl ? nl + 1 : end;
	} while (p < end);
	strbuf_release(&line);
}

void xs_finish(const struct xscript *x, struct strbuf *out)
{
	const char *t = x->tail.s ? x->tail.s : "", *nl;
	size_t skip = 0;

	/* The tail buffer may hold up to twice XS_TAIL: keep its last
	   XS_TAIL bytes, from a line start. */
	if (x->tail.len > XS_TAIL) {
		skip = x->tail.len - XS_TAIL;
		nl = memchr(t + skip, '\n', x->tail.len - skip);
		skip = nl ? (size_t)(nl - t) + 1 : x->tail.len;
	}
	strbuf_reset(out);
	strbuf_append(out, x->head.s ? x->head.s : "", x->head.len);
	if (x->cut + skip > 0)
		strbuf_appendf(out, "[... %llu bytes of transcript left out "
		    "...]\n", (unsigned long long)(x->cut + skip));
	strbuf_append(out, t + skip, x->tail.len - skip);
}
