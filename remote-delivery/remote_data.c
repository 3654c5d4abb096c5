/*
 * remote_data - the DATA encoder (see remote_data.h for what goes on the
 * wire and why).
 *
 * The encoder holds the wire line being built in a fixed buffer of
 * DATA_LINE_MAX + 1 bytes: a line is sent when its end arrives, and
 * wrapped when the buffer fills, which is the first moment the line is
 * known to be too long. A CR is held as one bit until the next byte
 * says whether it ends a line or is bare, so pieces may be cut anywhere.
 *
 * SECURITY: the content is untrusted; every byte written to out comes
 * from send_line (CRLF after every line, a dot in front of a leading
 * dot) or is the final ".\r\n", so no bare CR or LF can reach the wire.
 */
#include <string.h>

#include "remote_data.h"

/* data_init - an encoder at the start of a message */
void data_init(struct data_encoder *enc)
{
	enc->len = 0;
	enc->cr = 0;
	enc->header = 1;
	enc->state = DATA_OPEN;
	enc->nbare_cr = 0;
	enc->nwrapped = 0;
}

/* is_blank - SP or HTAB, the blanks of RFC 5322 folding */
static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* send_line - one wire line: a stuffing dot if needed, the bytes, CRLF */
static int send_line(struct strbuf *out, const char *p, size_t n)
{
	if (n > 0 && p[0] == '.' && strbuf_appendc(out, '.') < 0)
		return -1;
	if (strbuf_append(out, p, n) < 0 || strbuf_append(out, "\r\n", 2) < 0)
		return -1;
	return 0;
}

/* fold_point - where to fold a header line: before the last blank that
   follows a non-blank (never at 0, which would make an empty line and
   end the header section), or 0 when there is none */
static size_t fold_point(const char *line, size_t len)
{
	size_t i;

	for (i = len - 1; i > 0; i--)
		if (is_blank(line[i]) && !is_blank(line[i - 1]))
			return i;
	return 0;
}

/* wrap - the held line has DATA_LINE_MAX + 1 bytes: send its first part
   and keep the rest, which starts with a blank, as the next wire line */
static int wrap(struct data_encoder *enc, struct strbuf *out)
{
	size_t at = enc->header ? fold_point(enc->line, enc->len) : 0;

	enc->nwrapped++;
	if (at > 0) {
		if (send_line(out, enc->line, at) < 0)
			return -1;
		memmove(enc->line, enc->line + at, enc->len - at);
		enc->len -= at;
		return 0;
	}
	if (send_line(out, enc->line, DATA_LINE_MAX) < 0)
		return -1;
	enc->line[0] = ' ';
	enc->line[1] = enc->line[DATA_LINE_MAX];
	enc->len = 2;
	return 0;
}

/* put_bytes - add n bytes that hold no CR or LF to the held line */
static int put_bytes(struct data_encoder *enc, const char *p, size_t n,
    struct strbuf *out)
{
	size_t k;

	while (n > 0) {
		k = sizeof(enc->line) - enc->len;
		if (k > n)
			k = n;
		memcpy(enc->line + enc->len, p, k);
		enc->len += k;
		p += k;
		n -= k;
		if (enc->len == sizeof(enc->line) && wrap(enc, out) < 0)
			return -1;
	}
	return 0;
}

/* end_line - a line end arrived: send the held line */
static int end_line(struct data_encoder *enc, struct strbuf *out)
{
	/* Wrapping never leaves an empty line behind, so an empty line
	   here is one of the content's: the end of the header section. */
	if (enc->len == 0)
		enc->header = 0;
	if (send_line(out, enc->line, enc->len) < 0)
		return -1;
	enc->len = 0;
	return 0;
}

/* bare_cr - the held CR was not followed by LF: it becomes a space */
static int bare_cr(struct data_encoder *enc, struct strbuf *out)
{
	enc->cr = 0;
	enc->nbare_cr++;
	return put_bytes(enc, " ", 1, out);
}

/* plain_span - how many bytes at p are neither CR nor LF */
static size_t plain_span(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != '\r' && p[i] != '\n')
		i++;
	return i;
}

/* encode_step - encode from in[0]; *used_r gets the bytes consumed (0
   when a held bare CR was sent first). Returns 0 or -1. */
static int encode_step(struct data_encoder *enc, const char *in, size_t n,
    struct strbuf *out, size_t *used_r)
{
	*used_r = 1;
	if (enc->cr) {
		if (in[0] != '\n') {
			*used_r = 0;
			return bare_cr(enc, out);
		}
		enc->cr = 0;
		return end_line(enc, out);
	}
	if (in[0] == '\r') {
		enc->cr = 1;
		return 0;
	}
	if (in[0] == '\n')
		return end_line(enc, out);
	*used_r = plain_span(in, n);
	return put_bytes(enc, in, *used_r, out);
}

/* data_encode - encode the next n bytes of the message */
int data_encode(struct data_encoder *enc, const char *in, size_t n,
    struct strbuf *out)
{
	size_t i = 0, used;

	if (enc->state != DATA_OPEN) {
		enc->state = DATA_FAILED;
		return -1;
	}
	while (i < n) {
		if (encode_step(enc, in + i, n - i, out, &used) < 0) {
			enc->state = DATA_FAILED;
			return -1;
		}
		i += used;
	}
	return 0;
}

/* data_finish - send the held line and the final dot */
int data_finish(struct data_encoder *enc, struct strbuf *out)
{
	if (enc->state != DATA_OPEN)
		goto failed;
	if (enc->cr && bare_cr(enc, out) < 0)
		goto failed;
	if (enc->len > 0 && end_line(enc, out) < 0)
		goto failed;
	if (strbuf_append(out, ".\r\n", 3) < 0)
		goto failed;
	enc->state = DATA_DONE;
	return 0;
failed:
	enc->state = DATA_FAILED;
	return -1;
}

/* data_is_8bit - any byte >= 0x80 */
int data_is_8bit(const void *p, size_t n)
{
	const unsigned char *u = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (u[i] >= 0x80)
			return 1;
	return 0;
}
