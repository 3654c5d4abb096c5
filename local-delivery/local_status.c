/*
 * local_status - the outcome of one delivery: a verdict (ok, defer,
 * fail), an enhanced status code (RFC 3463) and one line of text.
 *
 * Called by every delivery module of postern-local. The text goes back
 * to the queue manager and, through notices, to senders: it is always
 * one line of printable ASCII (control characters and bytes >= 0x80
 * escaped as \xHH, which a Diagnostic-Code needs anyway), whatever the
 * user's command printed or the file names held, and never longer than
 * the protocol allows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "local.h"

/* status_text - escape and bound text into st->text */
static void status_text(struct local_status *st, const char *text)
{
	struct strbuf sb = STRBUF_INIT(4 * LOCAL_TEXT_MAX + 16);
	size_t n;

	if (strbuf_append_printable(&sb, text, strlen(text), 0) < 0)
		strbuf_appends(&sb, "(text too long)");
	n = strbuf_printable_cut(strbuf_str(&sb), sb.len, LOCAL_TEXT_MAX);
	memcpy(st->text, strbuf_str(&sb), n);
	st->text[n] = '\0';
	strbuf_release(&sb);
}

/* local_status_vset - fill st from a format and its arguments */
static void local_status_vset(struct local_status *st, enum local_verdict v,
    const char *code, const char *fmt, va_list ap)
{
	char buf[4 * LOCAL_TEXT_MAX];

	st->verdict = v;
	snprintf(st->code, sizeof(st->code), "%s", code);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	status_text(st, buf);
}

/* local_status_set - fill st */
void local_status_set(struct local_status *st, enum local_verdict v,
    const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	local_status_vset(st, v, code, fmt, ap);
	va_end(ap);
}

/* errno_code - the enhanced status code of a failed system call */
static const char *errno_code(int err)
{
	switch (err) {
	case ENOSPC:
		return "4.3.1";
	case EDQUOT:
	case EFBIG:
		return "4.2.2";
	case ELOOP:
	case EACCES:
	case EPERM:
	case ENOTDIR:
		return "4.2.0";
	default:
		return "4.3.0";
	}
}

/* errno_words - what a failed call means, in the words of a notice */
static const char *errno_words(int err)
{
	switch (err) {
	case ENOSPC:
		return "insufficient disk space";
	case EDQUOT:
		return "mailbox is over quota";
	case EFBIG:
		return "mailbox file size limit exceeded";
	default:
		return strerror(err);
	}
}

/* local_status_errno - a deferral for a failed system call */
void local_status_errno(struct local_status *st, int err, const char *fmt,
    ...)
{
	char what[2 * LOCAL_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	local_status_set(st, LOCAL_DEFER, errno_code(err), "%s: %s", what,
	    errno_words(err));
}

/* local_status_merge - keep the worse outcome; join two successes */
void local_status_merge(struct local_status *acc,
    const struct local_status *one)
{
	char buf[2 * LOCAL_TEXT_MAX + 8];
	size_t n;

	if (one->verdict > acc->verdict) {
		*acc = *one;
		return;
	}
	if (one->verdict != LOCAL_OK || acc->verdict != LOCAL_OK)
		return;
	if (one->text[0] == '\0')
		return;
	if (acc->text[0] == '\0') {
		*acc = *one;
		return;
	}
	snprintf(buf, sizeof(buf), "%s; %s", acc->text, one->text);
	n = strbuf_printable_cut(buf, strlen(buf), LOCAL_TEXT_MAX);
	memcpy(acc->text, buf, n);
	acc->text[n] = '\0';
}

/* local_status_name - the protocol's word for a verdict */
const char *local_status_name(enum local_verdict v)
{
	return v == LOCAL_OK ? "ok" : v == LOCAL_DEFER ? "defer" : "fail";
}
