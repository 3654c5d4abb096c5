/*
 * check_bounce_compose - unit tests for postern-bounce's notice: the
 * composer (bounce/bounce_compose.c), the explanations
 * (bounce/bounce_text.c) and the job decoder (bounce/bounce_job.c).
 *
 * What the queue manager and the sender's mail program rely on: the
 * notice is a multipart/report with three parts and a random boundary;
 * one delivery-status block per recipient with the right fields; the
 * original returned whole only when small enough, else its header
 * section (and never more than bounce_size_limit of it); no line over
 * 998 octets and only LF line ends, whatever the diagnostics and
 * transcripts hold; UTF-8 addresses make a global delivery-status part.
 * The decoder refuses malformed jobs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "bounce.h"
#include "config.h"
#include "memfd.h"
#include "strbuf.h"

#define ARRIVAL 1795000000000000LL	/* 2026-11-17, µs */
#define HOUR 3600000000LL

static struct config *cfg;
static char confdir[64];

/* load_config - test.example, bounce_size_limit 100k */
static void load_config(void)
{
	char path[128], err[512];
	FILE *f;

	snprintf(confdir, sizeof(confdir), "/tmp/check_bounce.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(confdir));
	snprintf(path, sizeof(path), "%s/postern.conf", confdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("myhostname = test.example\nbounce_size_limit = 100k\n", f);
	fclose(f);
	ck_assert_msg(config_load(&cfg, confdir, err, sizeof(err)) == 0, "%s",
	    err);
	unlink(path);
	rmdir(confdir);
}

static void setup(void) { load_config(); }
static void teardown(void) { config_free(&cfg); }

/* A recipient refused by a remote server. */
static struct brcpt remote_rcpt(uint64_t idx, const char *addr,
    const char *diag)
{
	struct brcpt r;

	memset(&r, 0, sizeof(r));
	r.index = idx;
	r.addr = addr;
	r.action = BA_FAILED;
	r.status = "5.1.1";
	r.diag = diag;
	r.relay = "mx.example.com[192.0.2.1]:25";
	r.attempts = 1;
	r.last = ARRIVAL + 60000000;
	return r;
}

static void job_init(struct bjob *j, struct brcpt *r, size_t n,
    const char *content, size_t len)
{
	memset(j, 0, sizeof(*j));
	j->id = "0000000000A";
	j->to = "sender@example.org";
	j->sender = "sender@example.org";
	j->kind = BK_FAILURE;
	j->arrival = ARRIVAL;
	j->size = len;
	j->content = content;
	j->fd = -1;
	j->rcpts = r;
	j->n = n;
}

/* The notice taken apart. */
struct notice {
	char *all, *hdr, *part[3];
	size_t nparts;
};

/* lines_ok - every line ends in LF, none has CR or passes 998 octets */
static void lines_ok(const struct strbuf *sb)
{
	const char *p = sb->s, *e;

	ck_assert_uint_gt(sb->len, 0);
	ck_assert_int_eq(sb->s[sb->len - 1], '\n');
	ck_assert_ptr_null(memchr(sb->s, '\r', sb->len));
	for (; p < sb->s + sb->len; p = e + 1) {
		e = memchr(p, '\n', (size_t)(sb->s + sb->len - p));
		ck_assert_ptr_nonnull(e);
		ck_assert_msg(e - p <= 998, "line of %ld octets",
		    (long)(e - p));
	}
}

/* take_apart - header, boundary, exactly three parts */
static void take_apart(const struct strbuf *sb, struct notice *nt)
{
	char delim[128], close_[128], *b, *q, *p, *next;

	lines_ok(sb);
	memset(nt, 0, sizeof(*nt));
	ck_assert_ptr_nonnull(nt->all = strdup(sb->s));
	ck_assert_ptr_nonnull(p = strstr(nt->all, "\n\n"));
	*p = '\0';
	nt->hdr = nt->all;
	ck_assert_ptr_nonnull(b = strstr(nt->hdr, "boundary=\""));
	b += 10;
	ck_assert_ptr_nonnull(q = strchr(b, '"'));
	snprintf(delim, sizeof(delim), "\n--%.*s\n", (int)(q - b), b);
	snprintf(close_, sizeof(close_), "\n--%.*s--\n", (int)(q - b), b);
	p += 2;
	ck_assert_ptr_nonnull(q = strstr(p, close_));
	ck_assert_str_eq(q + strlen(close_), "");
	*q = '\0';
	ck_assert_ptr_nonnull(p = strstr(p, delim));
	while (p != NULL) {
		p += strlen(delim);
		ck_assert_uint_lt(nt->nparts, 3);
		nt->part[nt->nparts++] = p;
		if ((next = strstr(p, delim)) != NULL)
			*next = '\0';
		p = next;
	}
	ck_assert_uint_eq(nt->nparts, 3);
}

/* has - s contains what */
static void has(const char *s, const char *what)
{
	ck_assert_msg(strstr(s, what) != NULL, "'%s' not in:\n%s", what, s);
}

/* count - occurrences of what in s */
static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)) != NULL; s++)
		n++;
	return n;
}

static const char orig_msg[] = "From: Sender <sender@example.org>\n"
    "To: bob@example.com\nSubject: quarterly report\n"
    "Message-ID: <abc@example.org>\n\nThe body.\nSecond line.\n";

static const char xs1[] = "10:00:00.000 connecting to mx.example.com[192.0.2.1]:25\n"
    "10:00:00.010 <<< 220 mx.example.com ESMTP\n"
    "10:00:00.020 >>> RCPT TO:<bob@example.com>\n"
    "10:00:00.030 <<< 550 5.1.1 <bob@example.com>: no such user\n";

START_TEST(test_failure_two)
{
	struct brcpt r[2];
	struct bjob j;
	struct strbuf out = STRBUF_INIT(1u << 24);
	struct notice nt;
	const char *why;

	r[0] = remote_rcpt(0, "bob@example.com", "host mx.example.com"
	    "[192.0.2.1]:25 said: 550 5.1.1 <bob@example.com>: no such user "
	    "(in reply to RCPT TO command)");
	r[0].xs = xs1;
	r[0].xs_len = strlen(xs1);
	r[1] = remote_rcpt(3, "carol@example.com", "host mx.example.com"
	    "[192.0.2.1]:25 said: 550 5.1.1 <carol@example.com>: no such "
	    "user (in reply to RCPT TO command)");
	r[1].orig = "staff@example.com";
	r[1].has_same_as = 1;
	r[1].same_as = 0;
	job_init(&j, r, 2, orig_msg, strlen(orig_msg));
	j.msgid = "<abc@example.org>";
	j.envid = "ENV-1";
	ck_assert_int_eq(bounce_compose(&j, cfg, &out, &why), 0);
	take_apart(&out, &nt);

	has(nt.hdr, "From: Mail Delivery System <MAILER-DAEMON@test.example>\n");
	has(nt.hdr, "\nTo: <sender@example.org>\n");
	has(nt.hdr, "\nSubject: Undelivered Mail Returned to Sender\n");
	has(nt.hdr, "\nAuto-Submitted: auto-replied\n");
	has(nt.hdr, "\nDate: ");
	has(nt.hdr, "@test.example>\n");
	has(nt.hdr, "\nMessage-ID: <");
	has(nt.hdr, "\nIn-Reply-To: <abc@example.org>\n");
	has(nt.hdr, "\nReferences: <abc@example.org>\n");
	has(nt.hdr, "\nMIME-Version: 1.0\n");
	has(nt.hdr, "\nContent-Type: multipart/report; "
	    "report-type=delivery-status;\n");

	has(nt.part[0], "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n\n");
	/* Different replies: a paragraph each. */
	has(nt.part[0], "\nRecipient <bob@example.com>:\n");
	has(nt.part[0], "\nRecipient <carol@example.com> (originally "
	    "<staff@example.com>):\n");
	ck_assert_uint_eq(count(nt.part[0], "this mailbox does not exist"),
	    2);
	has(nt.part[0], "The server mx.example.com answered the RCPT TO command:\n"
	    "    550 5.1.1 <bob@example.com>: no such user\n");
	has(nt.part[0], "    550 5.1.1 <carol@example.com>: no such user\n");
	has(nt.part[0], "Transcript of the last delivery attempt for "
	    "<bob@example.com>,\n<carol@example.com>:\n\n"
	    "    10:00:00.000 connecting to");
	has(nt.part[0], "\n    10:00:00.030 <<< 550 5.1.1 <bob@example.com>: "
	    "no such user\n");
	ck_assert_uint_eq(count(nt.part[0], "Transcript of"), 1);
	has(nt.part[0], "A copy of your message is attached.");

	ck_assert_ptr_eq(strstr(nt.part[1], "Content-Type: "
	    "message/delivery-status\n"), nt.part[1] + strlen(
	    "Content-Description: Delivery report\n"));
	has(nt.part[1], "\n\nOriginal-Envelope-Id: ENV-1\n"
	    "Reporting-MTA: dns; test.example\n");
	has(nt.part[1], "\nArrival-Date: ");
	ck_assert_uint_eq(count(nt.part[1], "\nFinal-Recipient: "), 2);
	has(nt.part[1], "\n\nFinal-Recipient: rfc822; bob@example.com\n"
	    "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.com\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: no such user\n"
	    "Last-Attempt-Date: ");
	has(nt.part[1], "\n\nOriginal-Recipient: rfc822; staff@example.com\n"
	    "Final-Recipient: rfc822; carol@example.com\n");

	has(nt.part[2], "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: 7bit\n\n");
	has(nt.part[2], orig_msg);
	free(nt.all);
	strbuf_release(&out);
}
END_TEST

/* compose_one - a one-recipient failure notice for content */
static void compose_one(struct strbuf *out, struct notice *nt,
    const char *content, size_t len, int ret_hdrs)
{
	struct brcpt r = remote_rcpt(0, "bob@example.com",
	    "host mx.example.com[192.0.2.1]:25 said: 550 5.1.1 no (in reply "
	    "to RCPT TO command)");
	struct bjob j;
	const char *why;

	job_init(&j, &r, 1, content, len);
	j.ret_hdrs = ret_hdrs;
	ck_assert_int_eq(bounce_compose(&j, cfg, out, &why), 0);
	take_apart(out, nt);
}

START_TEST(test_ret_hdrs)
{
	struct strbuf out = STRBUF_INIT(1u << 24);
	struct notice nt;

	compose_one(&out, &nt, orig_msg, strlen(orig_msg), 1);
	has(nt.part[2], "Content-Type: text/rfc822-headers\n");
	has(nt.part[2], "\nSubject: quarterly report\nMessage-ID: "
	    "<abc@example.org>\n");
	ck_assert_ptr_null(strstr(nt.part[2], "The body."));
	has(nt.part[0], "Only the header of your message is attached");
	free(nt.all);
	strbuf_release(&out);
}
END_TEST

/* big_message - headers, then n bytes of body in 76-octet lines */
static char *big_message(size_t n, size_t *len_r)
{
	static const char head[] = "From: a@example.org\nSubject: big\n\n";
	char *m = malloc(sizeof(head) + n + 1);
	size_t i;

	ck_assert_ptr_nonnull(m);
	memcpy(m, head, sizeof(head) - 1);
	for (i = 0; i < n; i++)
		m[sizeof(head) - 1 + i] = i % 77 == 76 ? '\n' : 'x';
	*len_r = sizeof(head) - 1 + n;
	return m;
}

START_TEST(test_over_limit)
{
	struct strbuf out = STRBUF_INIT(1u << 24);
	struct notice nt;
	size_t len;
	char *m = big_message(200 * 1024, &len);

	compose_one(&out, &nt, m, len, 0);
	has(nt.part[2], "Content-Type: text/rfc822-headers\n");
	has(nt.part[2], "Subject: big\n");
	ck_assert_ptr_null(strstr(nt.part[2], "xxxx"));
	has(nt.part[0], "too large to be returned whole");
	free(nt.all);
	strbuf_release(&out);
	free(m);
}
END_TEST

START_TEST(test_huge)
{
	struct strbuf out = STRBUF_INIT(1u << 26);
	struct notice nt;
	size_t len;
	char *m = big_message(20u << 20, &len), *h;

	compose_one(&out, &nt, m, len, 0);
	ck_assert_uint_lt(out.len, 200 * 1024);
	has(nt.part[2], "Content-Type: text/rfc822-headers\n");
	strbuf_release(&out);
	free(nt.all);
	/* A header section larger than the limit is cut at a line end. */
	h = m;
	memset(h, 'X', len);
	for (size_t i = 0; i + 100 <= len; i += 100) {
		memcpy(h + i, "X-H: ", 5);
		h[i + 99] = '\n';
	}
	strbuf_init(&out, 1u << 26);
	compose_one(&out, &nt, h, len, 0);
	ck_assert_uint_lt(out.len, 200 * 1024);
	has(nt.part[2], "X-H: ");
	ck_assert_ptr_null(strstr(nt.part[2], "X-H: X\n"));
	free(nt.all);
	strbuf_release(&out);
	free(m);
}
END_TEST

START_TEST(test_long_lines)
{
	struct brcpt r;
	struct bjob j;
	struct strbuf out = STRBUF_INIT(1u << 24), xs = STRBUF_INIT(1u << 20);
	struct strbuf diag = STRBUF_INIT(1u << 20);
	struct notice nt;
	const char *why;
	char *m;
	size_t i;

	strbuf_appends(&xs, "10:00:00.000 <<< 550-");
	for (i = 0; i < 5000; i++)
		strbuf_appendc(&xs, 'a' + i % 26);
	strbuf_appends(&xs, "\n10:00:00.001 <<< 550 end\n");
	strbuf_appends(&diag, "host mx.example.com[192.0.2.1]:25 said: 550");
	for (i = 0; i < 700; i++)
		strbuf_appendc(&diag, i % 7 ? 'w' : ' ');
	strbuf_appendc(&diag, ' ');
	for (i = 0; i < 1200; i++)
		strbuf_appendc(&diag, 'v');
	strbuf_appends(&diag, " Z (in reply to end of data command)");
	r = remote_rcpt(0, "bob@example.com", diag.s);
	r.status = "5.7.1";
	r.xs = xs.s;
	r.xs_len = xs.len;
	/* An original with a line over 998 octets goes back as headers. */
	m = malloc(3000);
	memcpy(m, "Subject: x\n\n", 12);
	memset(m + 12, 'y', 2000);
	m[2012] = '\n';
	job_init(&j, &r, 1, m, 2013);
	ck_assert_int_eq(bounce_compose(&j, cfg, &out, &why), 0);
	take_apart(&out, &nt);
	has(nt.part[0], "\n      ");
	has(nt.part[0], "more spaces.)");
	has(nt.part[0], "    10:00:00.001 <<< 550 end\n");
	has(nt.part[1], "Diagnostic-Code: smtp; 550 ");
	has(nt.part[1], "\n vvvvvvvv");
	has(nt.part[1], "vvvv\n vvvv");
	has(nt.part[0], "    550 wwwwww wwwwww");
	has(nt.part[2], "Content-Type: text/rfc822-headers\n");
	has(nt.part[0], "lines too long to be returned whole");
	free(nt.all);
	free(m);
	strbuf_release(&out);
	strbuf_release(&xs);
	strbuf_release(&diag);
}
END_TEST

START_TEST(test_utf8)
{
	struct brcpt r = remote_rcpt(0, "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
	    "host mx.example.com[192.0.2.1]:25 said: 550 5.1.1 unknown "
	    "(in reply to RCPT TO command)");
	struct bjob j;
	struct strbuf out = STRBUF_INIT(1u << 24);
	struct notice nt;
	const char *why;

	job_init(&j, &r, 1, orig_msg, strlen(orig_msg));
	j.fsmtputf8 = 1;
	ck_assert_int_eq(bounce_compose(&j, cfg, &out, &why), 0);
	take_apart(&out, &nt);
	has(nt.part[1], "Content-Type: message/global-delivery-status\n"
	    "Content-Transfer-Encoding: 8bit\n");
	has(nt.part[1], "\nFinal-Recipient: utf-8; j\xc3\xb6rg@b\xc3\xbc"
	    "cher.example\n");
	has(nt.part[0], "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n");
	has(nt.part[0], "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>");
	free(nt.all);
	strbuf_release(&out);
}
END_TEST

/* The explanation chosen for each kind of failure. */
static const struct {
	const char *status, *relay, *diag;
	enum baction action;
	enum bclass want;
} classes[] = {
	{ "5.1.1", "none", "user unknown: there is no account \"x\"",
	  BA_FAILED, BC_LOCAL_USER },
	{ "5.1.1", "m[192.0.2.1]:25", "host m[192.0.2.1]:25 said: 550 5.1.1 "
	  "no (in reply to RCPT TO command)", BA_FAILED, BC_REMOTE_USER },
	{ "5.7.1", "m[192.0.2.1]:25", "host m[192.0.2.1]:25 said: 550 5.7.1 "
	  "go away (in reply to MAIL FROM command)", BA_FAILED, BC_SENDER },
	{ "5.1.2", "none", "Host or domain name not found", BA_FAILED,
	  BC_NO_DOMAIN },
	{ "5.1.10", "none", "the domain accepts no mail", BA_FAILED,
	  BC_NULL_MX },
	{ "4.4.1", "m[192.0.2.1]:25", "connect to m[192.0.2.1]:25: refused",
	  BA_FAILED, BC_EXPIRED },
	{ "5.3.4", "m[192.0.2.1]:25", "message too large for m", BA_FAILED,
	  BC_TOO_LARGE },
	{ "5.0.0", "m[192.0.2.1]:25", "host m[192.0.2.1]:25 said: 552 too "
	  "big (in reply to end of data command)", BA_FAILED, BC_TOO_LARGE },
	{ "4.2.2", "local", "cannot write to maildir /x: mailbox is over "
	  "quota", BA_FAILED, BC_FULL },
	{ "5.4.6", "local", "mail forwarding loop for a@b", BA_FAILED,
	  BC_LOOP },
	{ "5.4.0", "m[192.0.2.1]:25", "routing loop detected", BA_FAILED,
	  BC_LOOP },
	{ "4.7.4", "m[192.0.2.1]:25", "TLS is required", BA_FAILED, BC_TLS },
	{ "5.1.1", "local", "command exited with status 67 (user unknown)",
	  BA_FAILED, BC_PROGRAM },
	{ "5.7.1", "m[192.0.2.1]:25", "host m[192.0.2.1]:25 said: 554 5.7.1 "
	  "spam (in reply to end of data command)", BA_FAILED, BC_GENERIC },
	{ "5.3.0", "none", "something", BA_FAILED, BC_GENERIC_LOCAL },
	{ "4.4.1", "m[192.0.2.1]:25", "x", BA_DELAYED, BC_DELAYED },
	{ "2.0.0", "local", "delivered to maildir", BA_DELIVERED,
	  BC_DELIVERED },
	{ "2.0.0", "m[192.0.2.1]:25", "250 ok", BA_RELAYED, BC_RELAYED },
};

START_TEST(test_class)
{
	struct brcpt r;

	memset(&r, 0, sizeof(r));
	r.status = classes[_i].status;
	r.relay = classes[_i].relay;
	r.diag = classes[_i].diag;
	r.action = classes[_i].action;
	r.addr = "a@example.com";
	ck_assert_int_eq(bounce_class(&r), classes[_i].want);
}
END_TEST

START_TEST(test_reply)
{
	const char *p;
	size_t n;
	char host[256];

	ck_assert_int_eq(bounce_smtp_reply("host a[192.0.2.1]:25 said: 550 "
	    "5.1.1 x: y (in reply to RCPT TO command)", &p, &n), 1);
	ck_assert_int_eq(n, 14);
	ck_assert_int_eq(strncmp(p, "550 5.1.1 x: y", n), 0);
	ck_assert_int_eq(bounce_smtp_reply("250 2.0.0 ok", &p, &n), 1);
	ck_assert_int_eq(bounce_smtp_reply("host a[192.0.2.1]:25 refused to "
	    "talk to me: 554 no", &p, &n), 1);
	ck_assert_str_eq(p, "554 no");
	ck_assert_int_eq(bounce_smtp_reply("connect to a: refused", &p, &n),
	    0);
	ck_assert_int_eq(bounce_remote_host("mx.a[2001:db8::1]:25", host,
	    sizeof(host)), 1);
	ck_assert_str_eq(host, "mx.a");
	ck_assert_int_eq(bounce_remote_host("local", host, sizeof(host)), 0);
	ck_assert_int_eq(bounce_remote_host("a[x]:25", host, sizeof(host)), 0);
	ck_assert_int_eq(bounce_remote_host("a[1.2.3.4]:", host,
	    sizeof(host)), 0);
}
END_TEST

/* Jobs for the decoder: "|" separates attributes; the first is good. */
static const char *const jobs[] = {
	"v=1|id=0000000000A|kind=failure|to=s@example.org|sender=s@example.org"
	"|arrival=1|size=5|rcpt=0|addr=b@example.com|action=failed"
	"|status=5.1.1|diag=x|relay=none|attempts=1|transcript=t"
	"|rcpt=1|addr=c@example.com|action=failed|status=4.4.1|diag=x"
	"|relay=m[192.0.2.1]:25|attempts=3|same_as=0",
	/* unknown attribute */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|colour=blue|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x"
	"|relay=none|attempts=1",
	/* status class does not fit */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=2.0.0|diag=x|relay=none"
	"|attempts=1",
	/* delayed with a 5 */
	"v=1|id=0000000000A|kind=delay|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=delayed|status=5.0.0|diag=x|relay=none"
	"|attempts=1",
	/* same_as forward */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1|same_as=1|rcpt=1|addr=c@x.org|action=failed"
	"|status=5.1.1|diag=x|relay=none|attempts=1|transcript=t",
	/* same_as to a group without a transcript */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1|rcpt=1|addr=c@x.org|action=failed|same_as=0"
	"|status=5.1.1|diag=x|relay=none|attempts=1",
	/* a field twice in one group */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1|addr=c@x.org",
	/* a job field after a group */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1|sender=",
	/* bad status, bad relay, bad kind, wrong size, missing relay */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1|diag=x|relay=none"
	"|attempts=1",
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=mx:25"
	"|attempts=1",
	"v=1|id=0000000000A|kind=bounce|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1",
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=6"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1",
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|attempts=1",
	/* the same index twice; v=2 */
	"v=1|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1|rcpt=0|addr=c@x.org|action=failed|status=5.1.1|diag=x"
	"|relay=none|attempts=1",
	"v=2|id=0000000000A|kind=failure|to=s@x.org|sender=|arrival=1|size=5"
	"|rcpt=0|addr=b@x.org|action=failed|status=5.1.1|diag=x|relay=none"
	"|attempts=1",
};

START_TEST(test_decode)
{
	struct strbuf p = STRBUF_INIT(1u << 16);
	struct attr_list al = { NULL, 0, 0 };
	char *copy, *item, *save = NULL, *eq;
	const char *why;
	struct bjob j;
	int fd = memfd_from_buffer("t", "hello", 5);

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(copy = strdup(jobs[_i]));
	for (item = strtok_r(copy, "|", &save); item; item = strtok_r(NULL,
	    "|", &save)) {
		eq = strchr(item, '=');
		*eq = '\0';
		attr_put_str(&p, item, eq + 1);
	}
	ck_assert_int_eq(attr_decode(p.s, p.len, &al, 1000, &why), 0);
	why = bjob_decode(&j, &al, &fd);
	if (_i == 0) {
		ck_assert_msg(why == NULL, "%s", why);
		ck_assert_uint_eq(j.n, 2);
		ck_assert_uint_eq(bounce_xs_owner(&j, 1), 0);
		ck_assert_int_eq(memcmp(j.content, "hello", 5), 0);
	} else {
		ck_assert_msg(why != NULL, "job %d accepted", _i);
	}
	ck_assert_int_eq(fd, -1);
	bjob_release(&j);
	attr_list_release(&al);
	strbuf_release(&p);
	free(copy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bounce_compose");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_failure_two);
	tcase_add_test(tc, test_ret_hdrs);
	tcase_add_test(tc, test_over_limit);
	tcase_add_test(tc, test_huge);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_utf8);
	tcase_add_loop_test(tc, test_class, 0,
	    sizeof(classes) / sizeof(classes[0]));
	tcase_add_test(tc, test_reply);
	tcase_add_loop_test(tc, test_decode, 0,
	    sizeof(jobs) / sizeof(jobs[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
