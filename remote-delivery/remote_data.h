/*
 * remote_data - the DATA encoder of postern-remote: turns a message as
 * postern stores it into the bytes sent after the 354 reply to DATA,
 * including the final dot.
 *
 * Who calls it: the SMTP session code of postern-remote, which reads the
 * message from the queue in pieces of any size, passes each piece to
 * data_encode, writes what was appended to the connection, and ends with
 * data_finish.
 *
 * What it trusts: nothing about the content. It was written by a local
 * user or a remote sender; it normally has LF line ends (the injector
 * turns CRLF into LF and refuses NUL), but may hold bare CRs, CRLFs,
 * lines of any length, 8-bit bytes, and may lack a final line end. What
 * goes on the wire is always valid SMTP DATA (RFC 5321 sections 2.3.8,
 * 4.5.2, 4.5.3.1.6), so that no receiver sees an end of data, a line end
 * or a line that postern did not mean (the 2023 SMTP smuggling class):
 *
 * - Line ends. An LF ends a line, and so does a CR immediately followed
 *   by LF (the injector keeps all but the last CR of a run before LF,
 *   so stored content may hold one; a CRLF is never doubled). Every
 *   line end sent is CRLF; no other CR or LF is ever sent.
 * - Bare CR: a CR not followed by LF is REPLACED BY A SPACE (counted in
 *   nbare_cr). Why a space and not a line break, as qmail does: a space
 *   keeps the message's line structure exactly as the injector and the
 *   queue manager saw it. Splitting would make new lines that postern
 *   never looked at: "X-A: b\rBcc: c" would become a Bcc field that the
 *   injector did not remove, "Subject: x\r\rbody" would end the header
 *   section early, and in the body a split can create a MIME boundary
 *   or a line starting with "." that the sender's structure did not
 *   have. A bare CR is not allowed in a message anyway (RFC 5322 section
 *   2.3), so replacing it loses nothing a receiver could have used.
 * - Dot-stuffing: a line that starts with "." is sent with one more "."
 *   (RFC 5321 section 4.5.2), including a line made by wrapping.
 * - Long lines: a line longer than DATA_LINE_MAX (998) octets without
 *   its CRLF is wrapped, never sent as is and never refused (counted in
 *   nwrapped); this CHANGES the content, like Postfix's default
 *   (smtp_line_length_limit = 998, which breaks lines with CRLF SPACE
 *   "to minimize the damage to MIME formatted mail"):
 *   - in the header section (up to the first empty line), the line is
 *     folded before the last SP or HTAB within the first 998 octets that
 *     follows a non-blank, so unfolding (RFC 5322 section 2.2.3) gives
 *     the field back unchanged; when there is no such blank, CRLF SPACE
 *     is inserted after 998 octets (unfolding then adds one space);
 *   - in the body, CRLF SPACE is inserted after 998 octets, as Postfix
 *     does. The leading space means the piece can never be read as a
 *     new header field, a MIME boundary, a "From " line or a line that
 *     starts with "." (a MIME part's long header line stays a folded
 *     field); a plain CRLF could be any of those.
 *   The dot added by stuffing does not count towards the 998 (RFC 5321
 *   section 4.5.3.1.6: "not counting the leading dot duplicated for
 *   transparency"; Postfix counts the same way), so a 998-octet line that
 *   starts with "." goes out as 999 octets plus CRLF, unchanged.
 * - A missing final line end is added (RFC 5321 section 4.1.1.4 allows
 *   adding it). Then ".\r\n" is sent once: since the DATA command itself
 *   ended with CRLF, the stream ends with CRLF "." CRLF exactly once,
 *   and empty content sends just ".\r\n" (an empty message).
 * - Every other byte (8-bit, TAB, NUL, other controls) passes unchanged;
 *   BODY=8BITMIME is the session's business (data_is_8bit).
 *
 * Memory: the encoder holds at most one wire line (999 bytes) of its
 * own; data_encode appends at most DATA_OUT_MAX(n) bytes to out.
 */
#ifndef POSTERN_REMOTE_DATA_H
#define POSTERN_REMOTE_DATA_H

#include <stddef.h>

#include "strbuf.h"

#define DATA_LINE_MAX	998	/* octets in a line sent, without CRLF */
/* the most data_encode appends for n bytes of input (data_finish
   appends at most DATA_OUT_MAX(0)) */
#define DATA_OUT_MAX(n)	(2 * (n) + 2 * DATA_LINE_MAX + 16)

struct data_encoder {
	char line[DATA_LINE_MAX + 1];	/* the wire line not yet sent */
	size_t len;			/* bytes in line */
	int cr;			/* a CR was read; the next byte says what */
	int header;		/* still in the header section */
	int state;		/* DATA_OPEN, DATA_DONE or DATA_FAILED */
	size_t nbare_cr;	/* bare CRs replaced by a space */
	size_t nwrapped;	/* line breaks inserted in long lines */
};

enum { DATA_OPEN, DATA_DONE, DATA_FAILED };

/* data_init - an encoder at the start of a message */
void data_init(struct data_encoder *enc);

/* data_encode - encode the next n bytes of the message, appending the
   wire form of every line completed so far to out (the last, unfinished
   line is held back). Returns 0, or -1 when out refused an append or the
   encoder was finished or failed: the encoder then stays failed, out may
   hold part of a line, and the transaction must be abandoned (close the
   connection without sending the final dot). */
int data_encode(struct data_encoder *enc, const char *in, size_t n,
    struct strbuf *out);
/* data_finish - end the message: the held line with its CRLF (added when
   the content lacked a final line end), then ".\r\n". Returns 0, or -1
   as data_encode. */
int data_finish(struct data_encoder *enc, struct strbuf *out);

/* data_is_8bit - any of the n bytes at p is >= 0x80 */
int data_is_8bit(const void *p, size_t n);

#endif
