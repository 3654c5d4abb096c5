/*
 * inject_input - the caller's message as lines, with CRLF made LF.
 *
 * Input is read in 64 KiB blocks. A line longer than INJECT_PIECE comes
 * out in pieces; a CR at the end of a piece is held back until the next
 * byte shows whether it ends a CRLF, so that line-end normalisation does
 * not depend on where read(2) happened to cut the stream. A bare CR
 * anywhere else is kept as it is. A last line without a line end gets one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject.h"

struct inject_input {
	int fd;
	int eof;
	size_t start, end;
	char buf[65536];
};

/* inject_input_new - a reader for fd */
struct inject_input *inject_input_new(int fd)
{
	struct inject_input *in = calloc(1, sizeof(*in));

	if (in != NULL)
		in->fd = fd;
	return in;
}

/* inject_input_free - free and clear */
void inject_input_free(struct inject_input **in)
{
	free(*in);
	*in = NULL;
}

/* refill - read more input when the buffer is empty; -1 on error */
static int refill(struct inject_input *in)
{
	ssize_t n;

	if (in->start < in->end || in->eof)
		return 0;
	do
		n = read(in->fd, in->buf, sizeof(in->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	in->start = 0;
	in->end = (size_t)n;
	if (n == 0)
		in->eof = 1;
	return 0;
}

/* peek_lf - the next input byte is LF (consumed if so) */
static int peek_lf(struct inject_input *in)
{
	if (refill(in) < 0 || in->start == in->end)
		return 0;
	if (in->buf[in->start] != '\n')
		return 0;
	in->start++;
	return 1;
}

/* finish - end a whole line: drop the CR of a CRLF, keep the LF */
static int finish(struct strbuf *line)
{
	if (line->len >= 2 && line->s[line->len - 2] == '\r') {
		line->s[line->len - 2] = '\n';
		strbuf_truncate(line, line->len - 1);
	}
	return 1;
}

/* inject_input_line - next line or piece */
int inject_input_line(struct inject_input *in, struct strbuf *line)
{
	char *nl;
	size_t n;

	strbuf_reset(line);
	for (;;) {
		if (refill(in) < 0)
			return -1;
		if (in->start == in->end) {
			/* The last line lacked its line end: add it. */
			if (line->len == 0)
				return 0;
			return strbuf_appendc(line, '\n') < 0 ? -1 : 1;
		}
		n = in->end - in->start;
		if (n > INJECT_PIECE - line->len)
			n = INJECT_PIECE - line->len;
		nl = memchr(in->buf + in->start, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - (in->buf + in->start)) + 1;
		if (strbuf_append(line, in->buf + in->start, n) < 0)
			return errno = ENOMEM, -1;
		in->start += n;
		if (nl != NULL)
			return finish(line);
		if (line->len < INJECT_PIECE)
			continue;
		/* A full piece: a trailing CR may be half of a CRLF. */
		if (line->s[line->len - 1] == '\r' && peek_lf(in)) {
			line->s[line->len - 1] = '\n';
			return 1;
		}
		return 2;
	}
}
