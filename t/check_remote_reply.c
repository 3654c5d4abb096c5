/*
 * check_remote_reply - unit tests for remote-delivery/remote_reply.c,
 * the strict SMTP reply reader of postern-remote.
 *
 * Every input is fed three ways (whole, one byte at a time, and in
 * pieces of 7 bytes) and must give the same replies and the same end
 * (need more, or a protocol error). Covers: single and multi-line
 * replies, bare codes and empty text, enhanced status codes present,
 * absent, malformed or of the wrong class, codes that differ across
 * lines, non-digits, short lines, bare LF, control bytes in text,
 * pipelined replies in one feed, garbage after a reply, the line, line
 * count and text limits at and past their bounds, endless lines and
 * endless multi-line replies (bounded memory), the feed bound,
 * unread-byte accounting for STARTTLS, and the sticky error.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "remote_reply.h"

#define S(x)	x, sizeof(x) - 1
#define MAXR	4
/* REQUIRE - an assertion for hot loops: Check writes a record for every
   ck_assert that passes, which is slow by the million */
#define REQUIRE(c) \
	do { if (!(c)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c); \
	} while (0)

struct want {
	int code;
	const char *enh;
	const char *text;
	size_t nlines;
};

struct reply_case {
	const char *name;
	const char *in;
	size_t len;
	int nw;			/* replies expected */
	int end;		/* then: 0 need more, -1 protocol error */
	struct want w[MAXR];
};

static const struct reply_case cases[] = {
	{ "single", S("250 ok\r\n"), 1, 0, { { 250, "", "ok", 1 } } },
	{ "empty text", S("250 \r\n"), 1, 0, { { 250, "", "", 1 } } },
	{ "bare code", S("250\r\n"), 1, 0, { { 250, "", "", 1 } } },
	{ "greeting", S("220 mx.example ESMTP\r\n"), 1, 0,
	  { { 220, "", "mx.example ESMTP", 1 } } },
	{ "multi-line", S("250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n"),
	  1, 0, { { 250, "", "mx.example\nPIPELINING\nSIZE 100", 3 } } },
	{ "3-byte last line (CVE-2020-8794 shape)", S("250-a\r\n250\r\n"), 1, 0,
	  { { 250, "", "a\n", 2 } } },
	{ "empty continuation", S("250-\r\n250 x\r\n"), 1, 0,
	  { { 250, "", "\nx", 2 } } },
	{ "tab kept", S("250 a\tb\r\n"), 1, 0, { { 250, "", "a\tb", 1 } } },
	{ "controls replaced", S("250 a\0b\x1b[1m\x7f\rc\r\n"), 1, 0,
	  { { 250, "", "a?b?[1m??c", 1 } } },
	{ "8-bit kept", S("250 caf\xc3\xa9\r\n"), 1, 0,
	  { { 250, "", "caf\xc3\xa9", 1 } } },
	{ "CR before CRLF", S("250 ok\r\r\n"), 1, 0, { { 250, "", "ok?", 1 } } },
	{ "lowest code", S("200 x\r\n"), 1, 0, { { 200, "", "x", 1 } } },
	{ "highest code", S("559 x\r\n"), 1, 0, { { 559, "", "x", 1 } } },

	/* enhanced status codes */
	{ "enhanced", S("550 5.1.1 <a@b>: no such user\r\n"), 1, 0,
	  { { 550, "5.1.1", "5.1.1 <a@b>: no such user", 1 } } },
	{ "enhanced alone", S("250 2.0.0\r\n"), 1, 0,
	  { { 250, "2.0.0", "2.0.0", 1 } } },
	{ "enhanced 3 digits", S("450 4.999.999 x\r\n"), 1, 0,
	  { { 450, "4.999.999", "4.999.999 x", 1 } } },
	{ "enhanced every line", S("550-5.7.1 a\r\n550 5.7.1 b\r\n"), 1, 0,
	  { { 550, "5.7.1", "5.7.1 a\n5.7.1 b", 2 } } },
	{ "enhanced first line kept", S("550-5.7.1 a\r\n550 5.7.2 b\r\n"), 1, 0,
	  { { 550, "5.7.1", "5.7.1 a\n5.7.2 b", 2 } } },
	{ "enhanced missing on one line", S("550-5.1.1 a\r\n550 b\r\n"), 1, 0,
	  { { 550, "", "5.1.1 a\nb", 2 } } },
	{ "enhanced absent", S("550 no such user\r\n"), 1, 0,
	  { { 550, "", "no such user", 1 } } },
	{ "enhanced class mismatch", S("550 4.1.1 x\r\n"), 1, 0,
	  { { 550, "", "4.1.1 x", 1 } } },
	{ "enhanced class mismatch line 2", S("550-5.1.1 a\r\n550 2.1.1 b\r\n"),
	  1, 0, { { 550, "", "5.1.1 a\n2.1.1 b", 2 } } },
	{ "enhanced bad class", S("550 3.1.1 x\r\n"), 1, 0,
	  { { 550, "", "3.1.1 x", 1 } } },
	{ "enhanced leading zero", S("550 5.01.1 x\r\n"), 1, 0,
	  { { 550, "", "5.01.1 x", 1 } } },
	{ "enhanced 4 digits", S("550 5.1.1000 x\r\n"), 1, 0,
	  { { 550, "", "5.1.1000 x", 1 } } },
	{ "enhanced no space", S("550 5.1.1x\r\n"), 1, 0,
	  { { 550, "", "5.1.1x", 1 } } },
	{ "enhanced short", S("550 5.1\r\n"), 1, 0, { { 550, "", "5.1", 1 } } },
	{ "enhanced tab", S("550 5.1.1\tx\r\n"), 1, 0,
	  { { 550, "", "5.1.1\tx", 1 } } },

	/* several replies in one feed (pipelining) */
	{ "pipelined", S("250 2.1.0 ok\r\n550 5.1.1 no\r\n250-a\r\n250 b\r\n"
	    "354 go\r\n"), 4, 0,
	  { { 250, "2.1.0", "2.1.0 ok", 1 }, { 550, "5.1.1", "5.1.1 no", 1 },
	    { 250, "", "a\nb", 2 }, { 354, "", "go", 1 } } },
	{ "reply then partial", S("250 ok\r\n250-a\r\n25"), 1, 0,
	  { { 250, "", "ok", 1 } } },

	/* need more */
	{ "nothing", S(""), 0, 0, { { 0, NULL, NULL, 0 } } },
	{ "no line end yet", S("250 ok"), 0, 0, { { 0, NULL, NULL, 0 } } },
	{ "CR only yet", S("250 ok\r"), 0, 0, { { 0, NULL, NULL, 0 } } },
	{ "unfinished multi-line", S("250-a\r\n"), 0, 0,
	  { { 0, NULL, NULL, 0 } } },
	{ "partial bare code", S("250\r"), 0, 0, { { 0, NULL, NULL, 0 } } },

	/* protocol errors */
	{ "codes differ", S("250-a\r\n550 b\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "codes differ last digit", S("250-a\r\n251 b\r\n"), 0, -1,
	  { { 0, NULL, NULL, 0 } } },
	{ "codes differ, line unfinished", S("250-a\r\n251"), 0, -1,
	  { { 0, NULL, NULL, 0 } } },
	{ "two digits", S("25\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "four digits", S("2500 ok\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "letters", S("abc\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "empty line", S("\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "letter after code", S("250x ok\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "tab after code", S("250\tok\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "1yz code", S("150 x\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "6yz code", S("650 x\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "x6z code", S("260 x\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "letter third", S("25a x\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "leading space", S(" 250 x\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "bare LF", S("250 ok\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "bare LF in multi-line", S("250-a\r\n250-b\n250 c\r\n"), 0, -1,
	  { { 0, NULL, NULL, 0 } } },
	{ "lone LF", S("\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "CR in bare code", S("250\rx\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "CR in bare code, unfinished", S("250\rx"), 0, -1,
	  { { 0, NULL, NULL, 0 } } },
	{ "garbage, unfinished", S("xyz"), 0, -1, { { 0, NULL, NULL, 0 } } },
	{ "garbage after a reply", S("250 ok\r\ngarbage\r\n"), 1, -1,
	  { { 250, "", "ok", 1 } } },
	{ "garbage after a reply, unfinished", S("250 ok\r\nxyz"), 1, -1,
	  { { 250, "", "ok", 1 } } },
	{ "empty line after a reply", S("250 ok\r\n\r\n"), 1, -1,
	  { { 250, "", "ok", 1 } } },
	{ "NUL in code", S("2\0000 x\r\n"), 0, -1, { { 0, NULL, NULL, 0 } } },
};

/* what a run collected */
struct got {
	int n;
	struct smtp_reply r[MAXR];
	int end;
	const char *why;
	size_t max_unread;
};

/* drain - take every complete reply; the last reply_next result */
static int drain(struct reply_reader *rr, struct got *g)
{
	struct smtp_reply r;
	int rc;

	reply_init(&r);
	while ((rc = reply_next(rr, &r, &g->why)) == 1) {
		REQUIRE(g->n < MAXR);
		g->r[g->n] = r;
		g->n++;
		reply_init(&r);
	}
	reply_release(&r);
	return rc;
}

/* run - feed len bytes in pieces of piece bytes, draining after each */
static void run(const char *in, size_t len, size_t piece, struct got *g)
{
	struct reply_reader rr;
	size_t off = 0, k;
	int rc;

	memset(g, 0, sizeof(*g));
	reply_reader_init(&rr);
	for (;;) {
		if ((rc = drain(&rr, g)) < 0 || off == len)
			break;
		k = len - off < piece ? len - off : piece;
		REQUIRE(k <= reply_room(&rr));
		REQUIRE(reply_feed(&rr, in + off, k) == 0);
		off += k;
		if (reply_unread(&rr) > g->max_unread)
			g->max_unread = reply_unread(&rr);
	}
	g->end = rc;
	if (rc < 0)
		ck_assert_ptr_nonnull(g->why);
	reply_reader_release(&rr);
}

/* got_free - release the collected replies */
static void got_free(struct got *g)
{
	int i;

	for (i = 0; i < g->n; i++)
		reply_release(&g->r[i]);
}

/* check_got - the collected replies are the wanted ones */
static void check_got(const struct reply_case *c, const struct got *g)
{
	int i;

	ck_assert_msg(g->n == c->nw, "%s: %d replies, want %d", c->name,
	    g->n, c->nw);
	ck_assert_msg(g->end == c->end, "%s: end %d, want %d (%s)", c->name,
	    g->end, c->end, g->why ? g->why : "");
	for (i = 0; i < c->nw; i++) {
		ck_assert_msg(g->r[i].code == c->w[i].code, "%s", c->name);
		ck_assert_msg(strcmp(g->r[i].enhanced, c->w[i].enh) == 0,
		    "%s: enhanced '%s'", c->name, g->r[i].enhanced);
		ck_assert_msg(g->r[i].text.len == strlen(c->w[i].text) &&
		    strcmp(strbuf_str(&g->r[i].text), c->w[i].text) == 0,
		    "%s: text '%s'", c->name, strbuf_str(&g->r[i].text));
		ck_assert_msg(g->r[i].nlines == c->w[i].nlines, "%s", c->name);
	}
}

START_TEST(test_cases)
{
	static const size_t pieces[] = { (size_t)-1, 1, 7 };
	const struct reply_case *c = &cases[_i];
	struct got g;
	size_t p;

	for (p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		run(c->in, c->len, pieces[p], &g);
		check_got(c, &g);
		got_free(&g);
	}
}
END_TEST

/* Generated replies at and past the limits. */
struct big_case {
	const char *name;
	size_t nlines;		/* lines of "250-" and a last "250 " */
	size_t textlen;		/* bytes of text on each line */
	size_t lasttext;	/* bytes of text on the last line */
	int crlf;		/* lines end with CRLF (else: no line end) */
	int end;		/* 1 one reply, -1 protocol error */
};

static const struct big_case big_cases[] = {
	{ "4096-byte line", 1, 4092, 4092, 1, 1 },
	{ "4097-byte line", 1, 4093, 4093, 1, -1 },
	{ "4096-byte continuation", 3, 4092, 1, 1, 1 },
	{ "4097-byte continuation", 3, 4093, 1, 1, -1 },
	{ "256 lines", 256, 10, 10, 1, 1 },
	{ "257 lines", 257, 10, 10, 1, -1 },
	{ "100000 lines (endless reply)", 100000, 3, 3, 1, -1 },
	{ "text of exactly 64 KiB", 17, 4092, 48, 1, 1 },
	{ "text of 64 KiB + 1", 17, 4092, 49, 1, -1 },
	{ "1 MB line without line end", 1, 1000000, 1000000, 0, -1 },
	{ "4096 bytes without line end", 1, 4092, 4092, 0, 0 },
	{ "4097 bytes without line end (may be 4096 + CR)", 1, 4093, 4093, 0,
	  0 },
	{ "4098 bytes without line end", 1, 4094, 4094, 0, -1 },
};

/* build_big - the bytes of a generated reply */
static void build_big(const struct big_case *b, struct strbuf *sb)
{
	size_t i, t;

	strbuf_init(sb, (size_t)64 << 20);
	for (i = 0; i < b->nlines; i++) {
		t = i + 1 == b->nlines ? b->lasttext : b->textlen;
		REQUIRE(strbuf_appends(sb,
		    i + 1 == b->nlines ? "250 " : "250-") == 0);
		REQUIRE(strbuf_reserve(sb, t) == 0);
		memset(sb->s + sb->len, 'x', t);
		sb->len += t;
		if (b->crlf)
			REQUIRE(strbuf_append(sb, "\r\n", 2) == 0);
	}
}

START_TEST(test_big)
{
	const struct big_case *b = &big_cases[_i];
	static const size_t pieces[] = { 4096, 1 };
	struct strbuf sb;
	struct got g;
	size_t p;

	build_big(b, &sb);
	for (p = 0; p < 2; p++) {
		if (pieces[p] == 1 && sb.len > 200000)
			continue;
		run(sb.s, sb.len, pieces[p], &g);
		ck_assert_msg(g.end == (b->end == 1 ? 0 : b->end),
		    "%s: end %d (%s)", b->name, g.end, g.why ? g.why : "");
		ck_assert_int_eq(g.n, b->end == 1);
		if (g.n == 1) {
			ck_assert_uint_eq(g.r[0].nlines, b->nlines);
			ck_assert_uint_eq(g.r[0].text.len, (b->nlines - 1) *
			    (b->textlen + 1) + b->lasttext);
		}
		/* Memory stays bounded whatever the server sends. */
		ck_assert_uint_le(g.max_unread, REPLY_BUF_MAX +
		    REPLY_TEXT_MAX + 5 * REPLY_LINES_MAX + 2 * REPLY_LINES_MAX);
		got_free(&g);
	}
	strbuf_release(&sb);
}
END_TEST

/* The line parser on its own. */
static const struct {
	const char *line;
	int rc, code, last;
	const char *text;
} line_cases[] = {
	{ "250 ok", 0, 250, 1, "ok" },
	{ "250-ok", 0, 250, 0, "ok" },
	{ "250", 0, 250, 1, "" },
	{ "250 ", 0, 250, 1, "" },
	{ "250-", 0, 250, 0, "" },
	{ "421 4.4.2 bye", 0, 421, 1, "4.4.2 bye" },
	{ "25", -1, 0, 0, NULL },
	{ "", -1, 0, 0, NULL },
	{ "2500", -1, 0, 0, NULL },
	{ "199 x", -1, 0, 0, NULL },
	{ "560 x", -1, 0, 0, NULL },
	{ "5x0 x", -1, 0, 0, NULL },
	{ "250_x", -1, 0, 0, NULL },
};

START_TEST(test_line_parse)
{
	const char *text, *why = NULL;
	size_t tlen;
	int code, last, rc;

	rc = reply_line_parse(line_cases[_i].line, strlen(line_cases[_i].line),
	    &code, &last, &text, &tlen, &why);
	ck_assert_int_eq(rc, line_cases[_i].rc);
	if (rc < 0) {
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_int_eq(code, line_cases[_i].code);
	ck_assert_int_eq(last, line_cases[_i].last);
	ck_assert_uint_eq(tlen, strlen(line_cases[_i].text));
	ck_assert(memcmp(text, line_cases[_i].text, tlen) == 0);
}
END_TEST

static const struct {
	const char *text;
	size_t len;
} enh_cases[] = {
	{ "2.0.0", 5 }, { "5.1.1 x", 5 }, { "4.7.0 ", 5 }, { "5.10.100 x", 8 },
	{ "5.0.0", 5 }, { "5.999.999", 9 }, { "3.1.1", 0 }, { "1.0.0", 0 },
	{ "5.1", 0 }, { "5.1.", 0 }, { "5..1", 0 }, { "5.01.1", 0 },
	{ "5.1.01", 0 }, { "5.1000.1", 0 }, { "5.1.1x", 0 }, { "5.1.1.1", 0 },
	{ " 5.1.1", 0 }, { "", 0 }, { "5-1-1", 0 }, { "5.a.1", 0 },
};

START_TEST(test_enhanced_len)
{
	ck_assert_uint_eq(reply_enhanced_len(enh_cases[_i].text,
	    strlen(enh_cases[_i].text)), enh_cases[_i].len);
}
END_TEST

/* After STARTTLS: bytes beyond the 220 are counted and can be dropped. */
START_TEST(test_unread_discard)
{
	struct reply_reader rr;
	struct smtp_reply r;
	const char *why;

	reply_reader_init(&rr);
	reply_init(&r);
	ck_assert_uint_eq(reply_unread(&rr), 0);
	ck_assert_int_eq(reply_feed(&rr, S("220 go ahead\r\n250 injected\r\n")),
	    0);
	ck_assert_int_eq(reply_next(&rr, &r, &why), 1);
	ck_assert_int_eq(r.code, 220);
	ck_assert_uint_eq(reply_unread(&rr), 14);
	reply_discard(&rr);
	ck_assert_uint_eq(reply_unread(&rr), 0);
	ck_assert_int_eq(reply_next(&rr, &r, &why), 0);

	/* an unfinished reply counts too, and is dropped whole */
	ck_assert_int_eq(reply_feed(&rr, S("250-a\r\n250")), 0);
	ck_assert_int_eq(reply_next(&rr, &r, &why), 0);
	ck_assert_uint_eq(reply_unread(&rr), 10);
	reply_discard(&rr);
	ck_assert_uint_eq(reply_unread(&rr), 0);
	ck_assert_int_eq(reply_feed(&rr, S("250 b\r\n")), 0);
	ck_assert_int_eq(reply_next(&rr, &r, &why), 1);
	ck_assert_uint_eq(r.nlines, 1);
	ck_assert_str_eq(strbuf_str(&r.text), "b");
	reply_release(&r);
	reply_reader_release(&rr);
}
END_TEST

/* reply_feed keeps at most REPLY_BUF_MAX bytes, all or nothing. */
START_TEST(test_feed_bound)
{
	struct reply_reader rr;
	char *big = malloc(REPLY_BUF_MAX + 1);

	ck_assert_ptr_nonnull(big);
	memset(big, '2', REPLY_BUF_MAX + 1);
	reply_reader_init(&rr);
	ck_assert_uint_eq(reply_room(&rr), REPLY_BUF_MAX);
	ck_assert_int_eq(reply_feed(&rr, big, REPLY_BUF_MAX + 1), -1);
	ck_assert_uint_eq(reply_unread(&rr), 0);
	ck_assert_int_eq(reply_feed(&rr, big, 100), 0);
	ck_assert_uint_eq(reply_room(&rr), REPLY_BUF_MAX - 100);
	ck_assert_int_eq(reply_feed(&rr, big, REPLY_BUF_MAX - 99), -1);
	ck_assert_int_eq(reply_feed(&rr, big, REPLY_BUF_MAX - 100), 0);
	ck_assert_uint_eq(reply_room(&rr), 0);
	ck_assert_uint_eq(reply_unread(&rr), REPLY_BUF_MAX);
	reply_reader_release(&rr);
	free(big);
}
END_TEST

/* A protocol error sticks; feeding a good reply after it changes
   nothing. */
START_TEST(test_sticky_error)
{
	struct reply_reader rr;
	struct smtp_reply r;
	const char *why1 = NULL, *why2 = NULL;

	reply_reader_init(&rr);
	memset(&r, 0, sizeof(r));	/* a zeroed reply works too */
	ck_assert_int_eq(reply_feed(&rr, S("250-a\r\n550 b\r\n")), 0);
	ck_assert_int_eq(reply_next(&rr, &r, &why1), -1);
	ck_assert_int_eq(reply_feed(&rr, S("250 ok\r\n")), 0);
	ck_assert_int_eq(reply_next(&rr, &r, &why2), -1);
	ck_assert_str_eq(why1, why2);
	reply_reader_release(&rr);
	reply_release(&r);
}
END_TEST

/* Reusing one reply for many: the text buffers are swapped, not
   leaked, and a zeroed reply gets the right limit. */
START_TEST(test_reuse)
{
	struct reply_reader rr;
	struct smtp_reply r;
	const char *why;
	int i;

	reply_reader_init(&rr);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(reply_feed(&rr,
		    i % 2 ? "250-x\r\n250 y\r\n" : "451 4.3.0 later\r\n",
		    i % 2 ? 14 : 17), 0);
		ck_assert_int_eq(reply_next(&rr, &r, &why), 1);
		ck_assert_int_eq(r.code, i % 2 ? 250 : 451);
		ck_assert_str_eq(strbuf_str(&r.text),
		    i % 2 ? "x\ny" : "4.3.0 later");
		ck_assert_str_eq(r.enhanced, i % 2 ? "" : "4.3.0");
		ck_assert_uint_eq(r.text.max, REPLY_TEXT_MAX);
		ck_assert_int_eq(reply_next(&rr, &r, &why), 0);
	}
	reply_release(&r);
	reply_reader_release(&rr);
}
END_TEST

/* remote_reply_suite - all of the above */
static Suite *remote_reply_suite(void)
{
	Suite *s = suite_create("remote_reply");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cases, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_big, 0,
	    (int)(sizeof(big_cases) / sizeof(big_cases[0])));
	tcase_add_loop_test(tc, test_line_parse, 0,
	    (int)(sizeof(line_cases) / sizeof(line_cases[0])));
	tcase_add_loop_test(tc, test_enhanced_len, 0,
	    (int)(sizeof(enh_cases) / sizeof(enh_cases[0])));
	tcase_add_test(tc, test_unread_discard);
	tcase_add_test(tc, test_feed_bound);
	tcase_add_test(tc, test_sticky_error);
	tcase_add_test(tc, test_reuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(remote_reply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
