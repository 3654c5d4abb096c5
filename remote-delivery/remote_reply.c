/*
 * remote_reply - strict, incremental SMTP reply reader (see
 * remote_reply.h for the grammar, the limits and what is refused).
 *
 * Bytes fed are kept in one bounded buffer. reply_next parses whole lines
 * from it into the reply being assembled and stops after the line that
 * ends a reply, so pipelined replies come out one per call. A line is
 * only looked at up to REPLY_LINE_MAX + 2 bytes, so neither the search
 * for its end nor the buffer grows with what the server sends.
 *
 * SECURITY: all input is remote and untrusted; every index is checked
 * against the bytes actually held, and every limit turns into a protocol
 * error, never a truncation that would make two replies out of one.
 */
#include <string.h>

#include "remote_reply.h"

/* reply_clear - an empty reply that keeps its text buffer */
static void reply_clear(struct smtp_reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	r->nlines = 0;
	strbuf_reset(&r->text);
	r->text.max = REPLY_TEXT_MAX;
}

/* reply_init - an empty reply */
void reply_init(struct smtp_reply *r)
{
	strbuf_init(&r->text, REPLY_TEXT_MAX);
	reply_clear(r);
}

/* reply_release - free a reply's text */
void reply_release(struct smtp_reply *r)
{
	strbuf_release(&r->text);
	reply_clear(r);
}

/* reply_reader_init - nothing fed, no reply started */
void reply_reader_init(struct reply_reader *rr)
{
	strbuf_init(&rr->in, REPLY_BUF_MAX);
	rr->pos = 0;
	rr->seen = 0;
	reply_init(&rr->cur);
	rr->cur_bytes = 0;
	rr->enh_ok = 1;
	rr->why = NULL;
}

/* reply_reader_release - free the input and the unfinished reply */
void reply_reader_release(struct reply_reader *rr)
{
	strbuf_release(&rr->in);
	reply_release(&rr->cur);
	rr->pos = 0;
	rr->seen = 0;
	rr->cur_bytes = 0;
	rr->enh_ok = 1;
	rr->why = NULL;
}

/* compact - move the unparsed bytes to the front of the buffer */
static void compact(struct reply_reader *rr)
{
	size_t left = rr->in.len - rr->pos;

	if (rr->pos == 0)
		return;
	if (left > 0)
		memmove(rr->in.s, rr->in.s + rr->pos, left);
	rr->in.len = left;
	rr->in.s[left] = '\0';
	rr->pos = 0;
}

/* reply_room - bytes reply_feed accepts now */
size_t reply_room(const struct reply_reader *rr)
{
	return REPLY_BUF_MAX - (rr->in.len - rr->pos);
}

/* reply_feed - keep n more bytes, all or nothing */
int reply_feed(struct reply_reader *rr, const void *buf, size_t n)
{
	compact(rr);
	if (n > reply_room(rr) || strbuf_append(&rr->in, buf, n) < 0) {
		rr->in.failed = 0;
		return -1;
	}
	return 0;
}

/* reply_unread - bytes not yet returned in a complete reply */
size_t reply_unread(const struct reply_reader *rr)
{
	return rr->in.len - rr->pos + rr->cur_bytes;
}

/* start_reply - forget the unfinished reply */
static void start_reply(struct reply_reader *rr)
{
	reply_clear(&rr->cur);
	rr->cur_bytes = 0;
	rr->enh_ok = 1;
}

/* reply_discard - drop everything unread; a protocol error stays */
void reply_discard(struct reply_reader *rr)
{
	rr->pos = rr->in.len;
	rr->seen = 0;
	compact(rr);
	start_reply(rr);
}

/* code_check - the first k (at most 3) bytes of p can start a code in
   200-559; NULL, or why not */
static const char *code_check(const char *p, size_t k)
{
	static const char lo[3] = { '2', '0', '0' };
	static const char hi[3] = { '5', '5', '9' };
	size_t i;

	for (i = 0; i < k && i < 3; i++)
		if (p[i] < lo[i] || p[i] > hi[i])
			return "reply code is not three digits from 200 to 559";
	return NULL;
}

/* reply_line_parse - split one line (without CRLF) into code and text */
int reply_line_parse(const char *line, size_t len, int *code_r,
    int *last_r, const char **text_r, size_t *textlen_r, const char **why)
{
	if (len < 3) {
		*why = "reply line shorter than a reply code";
		return -1;
	}
	if ((*why = code_check(line, 3)) != NULL)
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-') {
		*why = "reply code not followed by a space or a hyphen";
		return -1;
	}
	*code_r = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
	    (line[2] - '0');
	/* A bare code ("250") is a last line with no text (RFC 5321 section
	   4.2 asks clients to accept it). */
	*last_r = len == 3 || line[3] == ' ';
	*text_r = len > 3 ? line + 4 : line + len;
	*textlen_r = len > 3 ? len - 4 : 0;
	return 0;
}

/* number_len - length of 1-3 digits without a leading zero at p, else 0 */
static size_t number_len(const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && k < 4 && p[k] >= '0' && p[k] <= '9')
		k++;
	if (k == 0 || k > 3 || (k > 1 && p[0] == '0'))
		return 0;
	return k;
}

/* reply_enhanced_len - length of a well-formed enhanced code at text */
size_t reply_enhanced_len(const char *text, size_t len)
{
	size_t i = 2, k;

	if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') ||
	    text[1] != '.')
		return 0;
	if ((k = number_len(text + i, len - i)) == 0)
		return 0;
	i += k;
	if (i >= len || text[i] != '.')
		return 0;
	i++;
	if ((k = number_len(text + i, len - i)) == 0)
		return 0;
	i += k;
	if (i < len && text[i] != ' ')
		return 0;
	return i;
}

/* fail - enter the failed state; always -1 */
static int fail(struct reply_reader *rr, const char *reason,
    const char **why)
{
	rr->why = reason;
	*why = reason;
	return -1;
}

/* prefix_check - the k bytes of a line whose end has not arrived yet are
   already wrong: NULL, or why. Catches garbage and a code that differs
   from the reply's without waiting for a line end that may never come. */
static const char *prefix_check(const struct reply_reader *rr,
    const char *p, size_t k)
{
	const char *why;

	if ((why = code_check(p, k)) != NULL)
		return why;
	if (k > 3 && p[3] != ' ' && p[3] != '-' && !(p[3] == '\r' && k == 4))
		return "reply code not followed by a space or a hyphen";
	if (k >= 3 && rr->cur.nlines > 0 &&
	    (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0') !=
	    rr->cur.code)
		return "reply code differs between lines of one reply";
	return NULL;
}

/* next_line - the next whole line (*line_r, *len_r without CRLF): 1, 0
   when its end has not arrived, -1 with rr->why set. Bytes already
   searched are not searched again, so a server that sends one byte at a
   time costs linear, not quadratic, time. */
static int next_line(struct reply_reader *rr, const char **line_r,
    size_t *len_r, const char **why)
{
	const char *p = rr->in.s + rr->pos, *lf = NULL, *bad;
	size_t avail = rr->in.len - rr->pos, scan, n;

	if (avail == 0)
		return 0;
	scan = avail < REPLY_LINE_MAX + 2 ? avail : REPLY_LINE_MAX + 2;
	if (scan > rr->seen)
		lf = memchr(p + rr->seen, '\n', scan - rr->seen);
	if (lf == NULL) {
		rr->seen = scan;
		if (avail >= REPLY_LINE_MAX + 2)
			return fail(rr, "reply line longer than 4096 bytes",
			    why);
		if ((bad = prefix_check(rr, p, avail)) != NULL)
			return fail(rr, bad, why);
		return 0;
	}
	n = (size_t)(lf - p);
	if (n == 0 || p[n - 1] != '\r')
		return fail(rr, "reply line ends in a bare LF", why);
	*line_r = p;
	*len_r = n - 1;
	rr->pos += n + 1;
	rr->seen = 0;
	rr->cur_bytes += n + 1;
	return 1;
}

/* append_text - append one line's text with controls made '?' */
static int append_text(struct strbuf *sb, const char *p, size_t n)
{
	size_t i, start = sb->len;
	unsigned char c;

	if (strbuf_append(sb, p, n) < 0)
		return -1;
	for (i = start; i < sb->len; i++) {
		c = (unsigned char)sb->s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			sb->s[i] = '?';
	}
	return 0;
}

/* note_enhanced - keep the first line's enhanced code; remember whether
   every line has one of the reply's class */
static void note_enhanced(struct reply_reader *rr, const char *text,
    size_t len)
{
	size_t elen = reply_enhanced_len(text, len);

	if (elen == 0 || text[0] - '0' != rr->cur.code / 100) {
		rr->enh_ok = 0;
		return;
	}
	if (rr->cur.nlines == 1) {
		memcpy(rr->cur.enhanced, text, elen);
		rr->cur.enhanced[elen] = '\0';
	}
}

/* add_line - add one line to the reply being read: 1 when it ended the
   reply, 0 when more lines follow, -1 with rr->why set */
static int add_line(struct reply_reader *rr, const char *line, size_t len,
    const char **why)
{
	const char *text, *bad;
	size_t tlen;
	int code, last;
	struct strbuf *sb = &rr->cur.text;

	if (reply_line_parse(line, len, &code, &last, &text, &tlen, &bad) < 0)
		return fail(rr, bad, why);
	if (rr->cur.nlines > 0 && code != rr->cur.code)
		return fail(rr, "reply code differs between lines of one reply",
		    why);
	if (rr->cur.nlines == REPLY_LINES_MAX)
		return fail(rr, "reply has more than 256 lines", why);
	rr->cur.code = code;
	rr->cur.nlines++;
	note_enhanced(rr, text, tlen);
	if ((rr->cur.nlines > 1 && strbuf_appendc(sb, '\n') < 0) ||
	    append_text(sb, text, tlen) < 0)
		return fail(rr, sb->len + tlen + 1 > sb->max ?
		    "reply text longer than 64 KiB" :
		    "out of memory reading a reply", why);
	return last;
}

/* hand_over - give the finished reply to the caller, take back the
   caller's old text buffer for the next one */
static void hand_over(struct reply_reader *rr, struct smtp_reply *r)
{
	struct smtp_reply old = *r;

	if (!rr->enh_ok)
		rr->cur.enhanced[0] = '\0';
	*r = rr->cur;
	rr->cur = old;
	start_reply(rr);
}

/* reply_next - the next complete reply: 1, 0 for more bytes, -1 */
int reply_next(struct reply_reader *rr, struct smtp_reply *r,
    const char **why)
{
	const char *line;
	size_t len;
	int rc;

	if (rr->why != NULL) {
		*why = rr->why;
		return -1;
	}
	for (;;) {
		if ((rc = next_line(rr, &line, &len, why)) <= 0)
			return rc;
		if ((rc = add_line(rr, line, len, why)) < 0)
			return -1;
		if (rc == 1) {
			hand_over(rr, r);
			return 1;
		}
	}
}
