/*
 * remote_reply - the strict, incremental SMTP reply reader of
 * postern-remote (RFC 5321 section 4.2).
 *
 * Who calls it: the SMTP session code of postern-remote, for every reply
 * it waits for (greeting, EHLO/HELO, STARTTLS, AUTH, each pipelined MAIL,
 * RCPT and DATA, the final reply after the dot, RSET, QUIT). The session
 * feeds bytes as they arrive (reply_feed) and takes complete replies out
 * (reply_next), one per command sent, in order.
 *
 * What it trusts: nothing. Every byte comes from a remote server, which
 * may be broken or hostile (the OpenSMTPD CVE-2020-8794 class: short
 * continuation lines, endless multi-line replies, lines without an end).
 * The reader never reads past what it was fed, never allocates more than
 * REPLY_BUF_MAX bytes of input plus REPLY_TEXT_MAX bytes of text, and
 * refuses, as a protocol error, anything that is not a well-formed reply:
 *
 *   line      = code ( " " / "-" ) text CRLF  /  code CRLF
 *   code      = %x32-35 %x30-35 DIGIT         ; 200-559, e.g. "250"
 *   - every line of one reply carries the same code; the line with " "
 *     (or a bare code) ends the reply, "-" continues it;
 *   - a line ends with CR LF. A bare LF is refused (RFC 5321 section
 *     2.3.8 forbids it, and a reader that accepts it sees lines that a
 *     stricter reader on the same stream does not, which is how replies
 *     get desynchronised); a CR not followed by LF is part of the text;
 *   - a line holds at most REPLY_LINE_MAX bytes without its CRLF (RFC
 *     5321 section 4.5.3.1.5 asks for 512; Postfix accepts 2048: postern
 *     accepts more than both, and no more than that);
 *   - a reply has at most REPLY_LINES_MAX lines and REPLY_TEXT_MAX bytes
 *     of text.
 * A line that is already wrong in its first four bytes is refused as soon
 * as they arrive, without waiting for its end. After a protocol error the
 * reader stays failed: every later reply_next returns -1 with the same
 * reason, and the session must close the connection (defer, 4.5.0).
 *
 * Reply text keeps the server's own words, but NUL, the other C0
 * controls except TAB, and DEL are replaced by '?' so the text is safe to
 * store and to put in a log line or a notice; bytes >= 0x80 are kept (the
 * printers escape them where needed, strbuf_append_printable).
 */
#ifndef POSTERN_REMOTE_REPLY_H
#define POSTERN_REMOTE_REPLY_H

#include <stddef.h>

#include "strbuf.h"

#define REPLY_LINE_MAX	4096		/* bytes in a line, without CRLF */
#define REPLY_LINES_MAX	256		/* lines in one reply */
#define REPLY_TEXT_MAX	(64 * 1024)	/* bytes of text in one reply */
#define REPLY_BUF_MAX	(64 * 1024)	/* bytes fed and not yet parsed */
#define REPLY_ENH_MAX	16		/* size of smtp_reply.enhanced */

struct smtp_reply {
	int code;		/* 200-559 */
	/* the enhanced status code (RFC 3463, "5.1.1") when every line's
	   text starts with a well-formed one of the same class as code,
	   else "". It is the first line's; the text still holds them all */
	char enhanced[REPLY_ENH_MAX];
	/* every line's text (what follows "250 " or "250-"), joined with
	   "\n", controls replaced by '?'; at most REPLY_TEXT_MAX bytes */
	struct strbuf text;
	size_t nlines;		/* 1..REPLY_LINES_MAX */
};

struct reply_reader {
	struct strbuf in;	/* bytes fed; in.s[pos..] not yet parsed */
	size_t pos;
	size_t seen;		/* in.s[pos..pos+seen) holds no LF */
	struct smtp_reply cur;	/* the reply being assembled */
	size_t cur_bytes;	/* input bytes already parsed into cur */
	int enh_ok;		/* every line of cur so far had a good one */
	const char *why;	/* the protocol error, once there was one */
};

/* reply_init - an empty reply, ready for reply_next */
void reply_init(struct smtp_reply *r);
/* reply_release - free a reply's text */
void reply_release(struct smtp_reply *r);

/* reply_reader_init - a reader with nothing fed */
void reply_reader_init(struct reply_reader *rr);
/* reply_reader_release - free what the reader holds; it may be init'ed
   again */
void reply_reader_release(struct reply_reader *rr);

/* reply_feed - add n bytes received from the server. Returns 0, or -1
   when they do not fit in the REPLY_BUF_MAX bytes the reader keeps (or
   memory ran out); then nothing was kept. A caller that reads at most
   reply_room() bytes at a time, and calls reply_next until it returns 0
   before reading again, never sees -1 for lack of room. */
int reply_feed(struct reply_reader *rr, const void *buf, size_t n);
/* reply_room - how many bytes reply_feed accepts now */
size_t reply_room(const struct reply_reader *rr);

/* reply_next - take the next complete reply out of what was fed.
   Returns 1 and fills *r (whose previous text buffer the reader keeps
   for reuse: r must be reply_init'ed or hold a reply from reply_next), 0
   when more bytes are needed, or -1 on a protocol error with *why set to
   a static, printable reason. Stops after each reply, so bytes that
   follow one stay unread (see reply_unread). */
int reply_next(struct reply_reader *rr, struct smtp_reply *r,
    const char **why);

/* reply_unread - bytes received and not yet returned in a reply,
   including lines of an unfinished reply. Not 0 after the reply to
   STARTTLS means the server sent data it could not have meant for the
   TLS session (CVE-2011-0411 class): the session must fail. */
size_t reply_unread(const struct reply_reader *rr);
/* reply_discard - forget every unread byte and any unfinished reply
   (after STARTTLS, before the handshake); a protocol error stays */
void reply_discard(struct reply_reader *rr);

/* reply_line_parse - check one reply line (len bytes, without its CRLF):
   *code_r gets the code, *last_r 1 when the line ends a reply, *text_r
   and *textlen_r the text. Returns 0, or -1 with *why set. */
int reply_line_parse(const char *line, size_t len, int *code_r,
    int *last_r, const char **text_r, size_t *textlen_r, const char **why);
/* reply_enhanced_len - the length of the well-formed enhanced status code
   (RFC 3463: class "." subject "." detail, class 2, 4 or 5, subject and
   detail 1-3 digits without leading zeros) that starts text and is
   followed by a space or the end of text; 0 when there is none */
size_t reply_enhanced_len(const char *text, size_t len);

#endif
