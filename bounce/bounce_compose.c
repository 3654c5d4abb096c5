/*
 * bounce_compose - a delivery status notice (RFC 3464, RFC 6522) as one
 * message: the header, then multipart/report with three parts: the text
 * for people (bounce_text.c), the delivery-status fields for programs,
 * and the original message or its header section.
 *
 * Called by bounce_main.c for each job, and by t/check_bounce_compose.
 *
 * What the output always is, whatever the job holds: LF line ends; no
 * line over 998 octets (prose is wrapped at 78 columns, header and
 * delivery-status fields are folded at spaces, transcripts and reply
 * lines are cut with a continuation indent, long header lines of the
 * original are folded); a MIME boundary made of random bytes and checked
 * against every part; at most bounce_size_limit bytes of the original (a
 * larger one, or one with a line too long to return as it is, is
 * represented by its header section, itself cut at a line end within the
 * limit). The delivery-status part is message/global-delivery-status
 * (RFC 6533) when an address in it is UTF-8, and then writes those
 * addresses as "utf-8; address".
 *
 * Trust: the original and every diagnostic are data. They are copied,
 * cleaned or cut, never interpreted, except that a diagnostic written by
 * postern-remote is searched for the server's reply.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "bounce.h"
#include "config.h"
#include "strbuf.h"
#include "timeutil.h"

#define TEXT_MAX (40u << 20)		/* the text part: transcripts of a
					   whole frame, each byte escaped */
#define DSN_MAX (2u << 20)		/* the delivery-status part */
#define BOUNDARY_TRIES 8

/* ---- reading what the workers wrote ---- */

/* is_reply - s starts with an SMTP reply code ("550 ", "250") */
static int is_reply(const char *s)
{
	return s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
	    s[2] >= '0' && s[2] <= '9' && (s[3] == ' ' || s[3] == '\0');
}

/* bounce_smtp_reply - the server's reply inside a diagnostic */
int bounce_smtp_reply(const char *diag, const char **p_r, size_t *n_r)
{
	const char *p = NULL, *q, *tail = NULL;

	if (is_reply(diag)) {
		*p_r = diag;
		*n_r = strlen(diag);
		return 1;
	}
	if (strncmp(diag, "host ", 5) != 0)
		return 0;
	for (q = strstr(diag, ": "); q != NULL && p == NULL;
	    q = strstr(q + 1, ": "))
		if (is_reply(q + 2))
			p = q + 2;
	if (p == NULL)
		return 0;
	for (q = strstr(p, " (in reply to "); q; q = strstr(q + 1,
	    " (in reply to "))
		tail = q;
	*p_r = p;
	*n_r = tail ? (size_t)(tail - p) : strlen(p);
	return 1;
}

/* bounce_remote_host - HOST of "HOST[ADDRESS]:PORT" */
int bounce_remote_host(const char *relay, char *buf, size_t len)
{
	const char *lb = strchr(relay, '['), *rb, *p;
	size_t digits = 0;

	if (lb == NULL || lb == relay || (size_t)(lb - relay) >= len ||
	    (rb = strchr(lb, ']')) == NULL || rb == lb + 1 || rb[1] != ':')
		return 0;
	for (p = relay; p < lb; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == ']' || *p == ';')
			return 0;
	for (p = lb + 1; p < rb; p++)
		if (strchr("0123456789abcdefABCDEF.:", *p) == NULL)
			return 0;
	for (p = rb + 2; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p != '\0' || digits == 0 || digits > 5)
		return 0;
	memcpy(buf, relay, (size_t)(lb - relay));
	buf[lb - relay] = '\0';
	return 1;
}

/* bounce_is_command - the texts of local-delivery/local_pipe.c */
int bounce_is_command(const struct brcpt *r)
{
	return strcmp(r->relay, "local") == 0 &&
	    (strncmp(r->diag, "command ", 8) == 0 ||
	    strncmp(r->diag, "cannot run command", 18) == 0 ||
	    strncmp(r->diag, "error writing to command", 24) == 0);
}

/* bounce_xs_owner - whose transcript recipient i shares */
size_t bounce_xs_owner(const struct bjob *j, size_t i)
{
	size_t k;

	if (j->rcpts[i].xs != NULL)
		return i;
	if (!j->rcpts[i].has_same_as)
		return j->n;
	for (k = 0; k < i; k++)
		if (j->rcpts[k].index == j->rcpts[i].same_as &&
		    j->rcpts[k].xs != NULL)
			return k;
	return j->n;
}

/* ---- the original ---- */

/* longest_line - the longest line of n bytes, in octets */
static size_t longest_line(const char *s, size_t n)
{
	const char *e;
	size_t max = 0, len;

	while (n > 0) {
		e = memchr(s, '\n', n);
		len = e ? (size_t)(e - s) : n;
		if (len > max)
			max = len;
		if (e == NULL)
			break;
		n -= len + 1;
		s = e + 1;
	}
	return max;
}

/* bounce_attach - what part three holds */
enum battach bounce_attach(const struct bjob *j, const struct config *cfg)
{
	uint64_t limit = config_size(cfg, CK_bounce_size_limit);

	if (j->kind != BK_FAILURE)
		return BATT_HDRS_KIND;
	if (j->ret_hdrs)
		return BATT_HDRS_RET;
	if (j->size > limit)
		return BATT_HDRS_SIZE;
	if (longest_line(j->content, (size_t)j->size) > BOUNCE_LINE_MAX)
		return BATT_HDRS_LINES;
	return BATT_FULL;
}

/* header_section - the original's header section, at most limit bytes
   cut at a line end, long lines folded, into out */
static int header_section(const struct bjob *j, uint64_t limit,
    struct strbuf *out)
{
	size_t scan = j->size < limit + 2 ? (size_t)j->size : (size_t)limit + 2;
	const char *s = j->content, *blank, *nl;
	size_t len;

	if (scan > 0 && s[0] == '\n')
		return 0;
	blank = memmem(s, scan, "\n\n", 2);
	len = blank ? (size_t)(blank - s) + 1 : scan;
	if (len > limit) {
		nl = memrchr(s, '\n', (size_t)limit);
		len = nl ? (size_t)(nl - s) + 1 : 0;
	}
	return btext_lines(out, s, len, "", " ") < 0 ? -1 : 0;
}

/* ---- the delivery-status part ---- */

/* field - "Name: value", the value cleaned and folded */
static void field(struct strbuf *out, struct strbuf *tmp, const char *name,
    const char *type, const char *v, size_t n, int utf8)
{
	char first[64];

	snprintf(first, sizeof(first), "%s: %s%s", name, type ? type : "",
	    type ? "; " : "");
	strbuf_reset(tmp);
	btext_clean(tmp, v, n, utf8);
	btext_wrap(out, first, " ", strbuf_str(tmp), tmp->len, BOUNCE_WIDTH);
}

/* date_field - "Name: RFC 5322 date" */
static void date_field(struct strbuf *out, const char *name, int64_t us)
{
	char date[TIMEUTIL_BUF];

	timeutil_rfc5322(us, date);
	strbuf_appendf(out, "%s: %s\n", name, date);
}

/* addr_field - "Name: rfc822; addr" or "utf-8; addr"; an original
   recipient that already names its type ("rfc822;x@y") is kept */
static void addr_field(struct strbuf *out, struct strbuf *tmp,
    const char *name, const char *addr, int global)
{
	size_t t = strspn(addr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	    "QRSTUVWXYZ0123456789-");

	if (t > 0 && addr[t] == ';')
		field(out, tmp, name, NULL, addr, strlen(addr), global);
	else
		field(out, tmp, name, btext_has8(addr, strlen(addr)) ?
		    "utf-8" : "rfc822", addr, strlen(addr), global);
}

/* diag_field - Diagnostic-Code: smtp, x-unix or x-postern */
static void diag_field(struct strbuf *out, struct strbuf *tmp,
    const struct brcpt *r, int global)
{
	char host[256];
	const char *p;
	size_t n;

	if (*r->diag == '\0')
		return;
	if (bounce_remote_host(r->relay, host, sizeof(host)) &&
	    bounce_smtp_reply(r->diag, &p, &n))
		field(out, tmp, "Diagnostic-Code", "smtp", p, n, global);
	else
		field(out, tmp, "Diagnostic-Code", bounce_is_command(r) ?
		    "x-unix" : "x-postern", r->diag, strlen(r->diag), global);
}

/* rcpt_fields - one recipient's block */
static void rcpt_fields(struct strbuf *out, struct strbuf *tmp,
    const struct brcpt *r, int global)
{
	static const char *const actions[] = {
		"failed", "delayed", "delivered", "relayed" };
	char host[256];

	strbuf_appendc(out, '\n');
	if (r->orig)
		addr_field(out, tmp, "Original-Recipient", r->orig, global);
	addr_field(out, tmp, "Final-Recipient", r->addr, global);
	strbuf_appendf(out, "Action: %s\nStatus: %s\n", actions[r->action],
	    r->status);
	if (bounce_remote_host(r->relay, host, sizeof(host)))
		field(out, tmp, "Remote-MTA", "dns", host, strlen(host), 0);
	diag_field(out, tmp, r, global);
	if (r->last)
		date_field(out, "Last-Attempt-Date", r->last);
	if (r->action == BA_DELAYED && r->until)
		date_field(out, "Will-Retry-Until", r->until);
}

/* dsn_global - an address in the report is UTF-8 */
static int dsn_global(const struct bjob *j)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (btext_has8(j->rcpts[i].addr, strlen(j->rcpts[i].addr)) ||
		    (j->rcpts[i].orig && btext_has8(j->rcpts[i].orig,
		    strlen(j->rcpts[i].orig))))
			return 1;
	return 0;
}

/* dsn_part - the per-message fields, then a block per recipient */
static int dsn_part(const struct bjob *j, const char *me, int global,
    struct strbuf *out)
{
	struct strbuf tmp = STRBUF_INIT(64 * 1024);
	size_t i;
	int ok;

	if (j->envid)
		field(out, &tmp, "Original-Envelope-Id", NULL, j->envid,
		    strlen(j->envid), 0);
	strbuf_appendf(out, "Reporting-MTA: dns; %s\n", me);
	strbuf_appendf(out, "X-Postern-Queue-ID: %s\n", j->id);
	date_field(out, "Arrival-Date", j->arrival);
	for (i = 0; i < j->n; i++)
		rcpt_fields(out, &tmp, &j->rcpts[i], global);
	ok = strbuf_ok(out) && strbuf_ok(&tmp);
	strbuf_release(&tmp);
	return ok ? 0 : -1;
}

/* ---- the message ---- */

/* random_hex - 2n hex digits of getrandom bytes into buf; 0 or -1 */
static int random_hex(char *buf, size_t n)
{
	unsigned char r[32];
	size_t i, got = 0;
	ssize_t k;

	if (n > sizeof(r))
		return -1;
	while (got < n) {
		if ((k = getrandom(r + got, n - got, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)k;
	}
	for (i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* The three parts' contents. */
struct parts {
	const char *p[3];
	size_t n[3];
};

/* boundary - a random boundary that occurs in no part; 0 or -1 */
static int boundary(char buf[64], const struct parts *pt)
{
	int t, i, clash;

	for (t = 0; t < BOUNDARY_TRIES; t++) {
		memcpy(buf, "postern=_", 9);
		if (random_hex(buf + 9, 16) < 0)
			return -1;
		for (i = 0, clash = 0; i < 3; i++)
			clash |= memmem(pt->p[i], pt->n[i], buf, 41) != NULL;
		if (!clash)
			return 0;
	}
	return -1;
}

/* msgid_ok - a Message-ID we may repeat in In-Reply-To: "<...>" of
   printable ASCII without blanks or other angle brackets */
static int msgid_ok(const char *m)
{
	size_t i, n = m ? strlen(m) : 0;

	if (n < 3 || n > 900 || m[0] != '<' || m[n - 1] != '>')
		return 0;
	for (i = 1; i < n - 1; i++)
		if (m[i] <= ' ' || m[i] >= 0x7f || m[i] == '<' || m[i] == '>')
			return 0;
	return 1;
}

/* header - the notice's own header section */
static int header(const struct bjob *j, const char *me, const char *bnd,
    struct strbuf *out)
{
	static const char *const subjects[] = {
		[BK_FAILURE] = "Undelivered Mail Returned to Sender",
		[BK_DELAY] = "Delayed Mail (still being retried)",
		[BK_SUCCESS] = "Successful Mail Delivery Report",
	};
	char date[TIMEUTIL_BUF], rnd[17];

	if (random_hex(rnd, 8) < 0)
		return -1;
	timeutil_rfc5322(timeutil_now(), date);
	strbuf_appendf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
	    "To: <%s%s%s>\nSubject: %s\nAuto-Submitted: auto-replied\n"
	    "Date: %s\nMessage-ID: <%" PRId64 ".%s@%s>\n", me, j->to,
	    strchr(j->to, '@') ? "" : "@", strchr(j->to, '@') ? "" : me,
	    subjects[j->kind], date, timeutil_now(), rnd, me);
	if (msgid_ok(j->msgid))
		strbuf_appendf(out, "In-Reply-To: %s\nReferences: %s\n",
		    j->msgid, j->msgid);
	strbuf_appendf(out, "MIME-Version: 1.0\nContent-Type: multipart/report;"
	    " report-type=delivery-status;\n\tboundary=\"%s\"\n\n"
	    "This is a delivery status notification in MIME format.\n", bnd);
	return 0;
}

/* part - a delimiter, the part's header fields, its content */
static void part(struct strbuf *out, const char *bnd, const char *desc,
    const char *type, const char *cte, const char *p, size_t n)
{
	strbuf_appendf(out, "\n--%s\nContent-Description: %s\n"
	    "Content-Type: %s\n", bnd, desc, type);
	if (cte)
		strbuf_appendf(out, "Content-Transfer-Encoding: %s\n", cte);
	strbuf_appendc(out, '\n');
	strbuf_append(out, p, n);
}

/* lines_ok - no line over the limit (what the parts promise, checked
   once more on the whole: a notice that breaks it is never sent) */
static int lines_ok(const struct strbuf *sb)
{
	return longest_line(sb->s, sb->len) <= BOUNCE_LINE_MAX;
}

/* assemble - header and parts into out */
static int assemble(const struct bjob *j, const char *me, enum battach att,
    int global, const struct parts *pt, struct strbuf *out)
{
	static const char *const desc[] = {
		[BK_FAILURE] = "Undelivered message header",
		[BK_DELAY] = "Delayed message header",
		[BK_SUCCESS] = "Delivered message header",
	};
	char bnd[64];
	int t8 = btext_has8(pt->p[0], pt->n[0]);
	int o8 = btext_has8(pt->p[2], pt->n[2]) || (att == BATT_FULL &&
	    j->f8bit);

	if (boundary(bnd, pt) < 0 || header(j, me, bnd, out) < 0)
		return -1;
	part(out, bnd, "Notification", t8 ? "text/plain; charset=utf-8" :
	    "text/plain; charset=us-ascii", t8 ? "8bit" : "7bit", pt->p[0],
	    pt->n[0]);
	part(out, bnd, "Delivery report", global ?
	    "message/global-delivery-status" : "message/delivery-status",
	    btext_has8(pt->p[1], pt->n[1]) ? "8bit" : NULL, pt->p[1],
	    pt->n[1]);
	if (att == BATT_FULL)
		part(out, bnd, "Undelivered message", "message/rfc822",
		    o8 ? "8bit" : "7bit", pt->p[2], pt->n[2]);
	else
		part(out, bnd, desc[j->kind], o8 ? "text/rfc822-headers; "
		    "charset=utf-8" : "text/rfc822-headers", o8 ? "8bit" :
		    "7bit", pt->p[2], pt->n[2]);
	strbuf_appendf(out, "\n--%s--\n", bnd);
	return 0;
}

/* bounce_compose - the whole notice */
int bounce_compose(const struct bjob *j, const struct config *cfg,
    struct strbuf *out, const char **why_r)
{
	struct strbuf text = STRBUF_INIT(TEXT_MAX), dsn = STRBUF_INIT(DSN_MAX);
	struct strbuf hdrs;
	const char *me = config_str(cfg, CK_myhostname);
	uint64_t limit = config_size(cfg, CK_bounce_size_limit);
	enum battach att = bounce_attach(j, cfg);
	int global = dsn_global(j), rc = -1;
	struct parts pt;

	strbuf_init(&hdrs, limit < SIZE_MAX / 2 ? (size_t)limit * 2 + 1024 :
	    SIZE_MAX / 2);
	*why_r = "the notice is too large";
	if (bounce_text(j, cfg, att, &text) < 0 ||
	    dsn_part(j, me, global, &dsn) < 0 ||
	    (att != BATT_FULL && header_section(j, limit, &hdrs) < 0))
		goto out;
	pt.p[0] = strbuf_str(&text), pt.n[0] = text.len;
	pt.p[1] = strbuf_str(&dsn), pt.n[1] = dsn.len;
	pt.p[2] = att == BATT_FULL ? j->content : strbuf_str(&hdrs);
	pt.n[2] = att == BATT_FULL ? (size_t)j->size : hdrs.len;
	if (assemble(j, me, att, global, &pt, out) < 0) {
		*why_r = "no random bytes for the MIME boundary";
		goto out;
	}
	if (!strbuf_ok(out))
		goto out;
	*why_r = "a line of the notice is too long (a bug)";
	if (lines_ok(out))
		rc = 0;
out:
	strbuf_release(&text);
	strbuf_release(&dsn);
	strbuf_release(&hdrs);
	return rc;
}
