/*
 * check_remote_data - unit tests for remote-delivery/remote_data.c, the
 * DATA encoder of postern-remote.
 *
 * Every input is encoded whole, one byte at a time, in pieces of several
 * sizes (around the 998-octet limit too) and, when short, cut in two at
 * every point; all must give the same bytes. Every output is checked for
 * what a receiver relies on: "\r\n" + output (the DATA command's own CRLF
 * comes first) holds "\r\n.\r\n" exactly once, at its end; no CR without
 * LF, no LF without CR; every line at most 998 octets plus CRLF, not
 * counting a stuffing dot (RFC 5321 section 4.5.3.1.6); every line that
 * starts with "." is stuffed. Undoing the encoding (dot-unstuff, CRLF to
 * LF, and for wrapped lines the unfolding that matches the wrap) gives
 * the input back, or the documented rewrite of it.
 *
 * Inputs and outputs in the tables may use "{STR*N}" for N copies of STR.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote_data.h"

#define P(x)	x, sizeof(x) - 1
/* REQUIRE - an assertion for hot loops: Check writes a record for every
   ck_assert that passes, which is slow by the million */
#define REQUIRE(c) \
	do { if (!(c)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c); \
	} while (0)
#define NONE	NULL, 0

enum {
	UNDO_EXACT,	/* undo gives the input (or .undo) */
	UNFOLD_NL,	/* ... after removing LF before a blank */
	UNFOLD_NLSP,	/* ... after removing each LF SP */
	UNDO_SKIP	/* not checked (mixed folds) */
};

struct data_case {
	const char *name;
	const char *in;
	size_t inlen;
	const char *wire;	/* the exact output, or NULL */
	size_t wirelen;
	const char *undo;	/* NULL: the input, final LF added */
	int mode;
	long nbare, nwrap;	/* -1: not checked */
};

static const struct data_case cases[] = {
	{ "empty", P(""), P(".\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "one line", P("a\n"), P("a\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "no final newline", P("a"), P("a\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "empty line", P("\n"), P("\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "two empty lines", P("\n\n"), P("\r\n\r\n.\r\n"), NULL, UNDO_EXACT,
	  0, 0 },
	{ "lone dot", P("."), P("..\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "dot line", P(".\n"), P("..\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "dot text", P(".a\n"), P("..a\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "double dot", P("a\n..\nb\n"), P("a\r\n...\r\nb\r\n.\r\n"), NULL,
	  UNDO_EXACT, 0, 0 },
	{ "LF.LF", P("a\n.\nb\n"), P("a\r\n..\r\nb\r\n.\r\n"), NULL,
	  UNDO_EXACT, 0, 0 },
	{ "LF.LF at start", P("\n.\n"), P("\r\n..\r\n.\r\n"), NULL,
	  UNDO_EXACT, 0, 0 },
	{ "LF.LF at end", P("a\n.\n"), P("a\r\n..\r\n.\r\n"), NULL,
	  UNDO_EXACT, 0, 0 },
	{ "dot at end, no newline", P("a\n."), P("a\r\n..\r\n.\r\n"), NULL,
	  UNDO_EXACT, 0, 0 },
	{ "CRLF.CRLF", P("a\r\n.\r\nb\n"), P("a\r\n..\r\nb\r\n.\r\n"),
	  "a\n.\nb\n", UNDO_EXACT, 0, 0 },
	{ "CRLF.CRLF whole", P("\r\n.\r\n"), P("\r\n..\r\n.\r\n"), "\n.\n",
	  UNDO_EXACT, 0, 0 },
	{ "LF.CRLF", P("a\n.\r\nb\n"), P("a\r\n..\r\nb\r\n.\r\n"), "a\n.\nb\n",
	  UNDO_EXACT, 0, 0 },
	{ "CR.CRLF", P("a\r.\r\nb\n"), P("a .\r\nb\r\n.\r\n"), "a .\nb\n",
	  UNDO_EXACT, 1, 0 },
	{ "CR.CRLF at start", P("\r.\r\n"), P(" .\r\n.\r\n"), " .\n",
	  UNDO_EXACT, 1, 0 },
	{ "CR.CR", P("a\r.\rb\n"), P("a . b\r\n.\r\n"), "a . b\n", UNDO_EXACT,
	  2, 0 },
	{ "LF.CR", P("a\n.\rb\n"), P("a\r\n.. b\r\n.\r\n"), "a\n. b\n",
	  UNDO_EXACT, 1, 0 },
	{ "LF.CR at end", P("a\n.\r"), P("a\r\n.. \r\n.\r\n"), "a\n. \n",
	  UNDO_EXACT, 1, 0 },
	{ "CRLF CRLF dot", P("\r\n\r\n.\r\n\r\n"), P("\r\n\r\n..\r\n\r\n.\r\n"),
	  "\n\n.\n\n", UNDO_EXACT, 0, 0 },
	{ "CRLF only", P("\r\n"), P("\r\n.\r\n"), "\n", UNDO_EXACT, 0, 0 },
	{ "bare CR", P("a\rb\n"), P("a b\r\n.\r\n"), "a b\n", UNDO_EXACT, 1, 0 },
	{ "bare CR at end", P("a\r"), P("a \r\n.\r\n"), "a \n", UNDO_EXACT,
	  1, 0 },
	{ "lone CR", P("\r"), P(" \r\n.\r\n"), " \n", UNDO_EXACT, 1, 0 },
	{ "CR CR LF", P("a\r\r\nb\n"), P("a \r\nb\r\n.\r\n"), "a \nb\n",
	  UNDO_EXACT, 1, 0 },
	{ "CR CR CR", P("\r\r\r"), P("   \r\n.\r\n"), "   \n", UNDO_EXACT,
	  3, 0 },
	{ "LF CR", P("a\n\rb\n"), P("a\r\n b\r\n.\r\n"), "a\n b\n",
	  UNDO_EXACT, 1, 0 },
	{ "bare CR does not split a header",
	  P("X-A: b\rBcc: c\n\nbody\n"), P("X-A: b Bcc: c\r\n\r\nbody\r\n.\r\n"),
	  "X-A: b Bcc: c\n\nbody\n", UNDO_EXACT, 1, 0 },
	{ "8-bit untouched", P("Subject: \xc3\xa9t\xc3\xa9\n\n\x80\xff\xfe\n"),
	  P("Subject: \xc3\xa9t\xc3\xa9\r\n\r\n\x80\xff\xfe\r\n.\r\n"), NULL,
	  UNDO_EXACT, 0, 0 },
	{ "NUL and controls untouched", P("a\0b\t\x1b[0m\x7f\x0b\x0c\n"),
	  P("a\0b\t\x1b[0m\x7f\x0b\x0c\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "message", P("From: a@b\nTo: c@d\nSubject: hi\n\nline 1\n.\n"
	    "..\n.x\nend\n"),
	  P("From: a@b\r\nTo: c@d\r\nSubject: hi\r\n\r\nline 1\r\n..\r\n"
	    "...\r\n..x\r\nend\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },

	/* long lines in the body: CRLF SPACE after 998 octets */
	{ "body 998", P("X: y\n\n{a*998}\n"), P("X: y\r\n\r\n{a*998}\r\n.\r\n"),
	  NULL, UNDO_EXACT, 0, 0 },
	{ "body 999", P("X: y\n\n{a*999}\n"),
	  P("X: y\r\n\r\n{a*998}\r\n a\r\n.\r\n"), NULL, UNFOLD_NLSP, 0, 1 },
	{ "body 999, no final newline", P("X: y\n\n{a*999}"),
	  P("X: y\r\n\r\n{a*998}\r\n a\r\n.\r\n"), NULL, UNFOLD_NLSP, 0, 1 },
	{ "body 1995", P("\n{a*1995}\n"), P("\r\n{a*998}\r\n {a*997}\r\n.\r\n"),
	  NULL, UNFOLD_NLSP, 0, 1 },
	{ "body 1996", P("\n{a*1996}\n"),
	  P("\r\n{a*998}\r\n {a*997}\r\n a\r\n.\r\n"), NULL, UNFOLD_NLSP, 0, 2 },
	{ "body 10000", P("X: y\n\n{a*10000}\n"), NONE, NULL, UNFOLD_NLSP,
	  0, 10 },
	{ "body 1000000", P("\n{ab*500000}\n"), NONE, NULL, UNFOLD_NLSP, 0, -1 },
	{ "body 998 starting with a dot", P("X: y\n\n.{a*997}\n"),
	  P("X: y\r\n\r\n..{a*997}\r\n.\r\n"), NULL, UNDO_EXACT, 0, 0 },
	{ "body 999 starting with a dot", P("\n.{a*998}\n"),
	  P("\r\n..{a*997}\r\n a\r\n.\r\n"), NULL, UNFOLD_NLSP, 0, 1 },
	{ "body wrap before a dot", P("\n{a*998}.x\n"),
	  P("\r\n{a*998}\r\n .x\r\n.\r\n"), NULL, UNFOLD_NLSP, 0, 1 },
	{ "body blanks not used", P("\n{a*500} {b*600}\n"),
	  P("\r\n{a*500} {b*497}\r\n {b*103}\r\n.\r\n"), NULL, UNFOLD_NLSP,
	  0, 1 },
	{ "body 998 then bare CR", P("\n{a*998}\r"),
	  P("\r\n{a*998}\r\n  \r\n.\r\n"), "\n{a*998} \n", UNFOLD_NLSP, 1, 1 },
	{ "body 998 then CRLF", P("\n{a*998}\r\nb\n"),
	  P("\r\n{a*998}\r\nb\r\n.\r\n"), "\n{a*998}\nb\n", UNDO_EXACT, 0, 0 },

	/* long lines in the header section: fold at a blank, else CRLF SP */
	{ "header 998", P("X: {a*995}\n\nb\n"), P("X: {a*995}\r\n\r\nb\r\n.\r\n"),
	  NULL, UNDO_EXACT, 0, 0 },
	{ "header 999, fold after the colon", P("X: {a*996}\n\nb\n"),
	  P("X:\r\n {a*996}\r\n\r\nb\r\n.\r\n"), NULL, UNFOLD_NL, 0, 1 },
	{ "header fold at octet 998", P("X: {a*995} b\n\n"),
	  P("X: {a*995}\r\n b\r\n\r\n.\r\n"), NULL, UNFOLD_NL, 0, 1 },
	{ "header fold at the last blank", P("X: {a*500} {b*400} {c*200}\n\n"),
	  P("X: {a*500} {b*400}\r\n {c*200}\r\n\r\n.\r\n"), NULL, UNFOLD_NL,
	  0, 1 },
	{ "header fold before a tab", P("X: {a*990}\t{b*20}\n\n"),
	  P("X: {a*990}\r\n\t{b*20}\r\n\r\n.\r\n"), NULL, UNFOLD_NL, 0, 1 },
	{ "header fold skips a run of blanks", P("X: {a*990}    {b*20}\n\n"),
	  P("X: {a*990}\r\n    {b*20}\r\n\r\n.\r\n"), NULL, UNFOLD_NL, 0, 1 },
	{ "header 10000, words", P("Subject:{ word*2000}\n\nb\n"), NONE, NULL,
	  UNFOLD_NL, 0, -1 },
	{ "header 999, no blank", P("X:{a*997}\n\n"),
	  P("X:{a*996}\r\n a\r\n\r\n.\r\n"), NULL, UNFOLD_NLSP, 0, 1 },
	{ "header 10000, no blank", P("X:{a*9998}\n\nbody\n"), NONE, NULL,
	  UNFOLD_NLSP, 0, 10 },
	{ "header, blanks only", P("X: a\n{ *1200}\n\nb\n"), NONE, NULL,
	  UNDO_SKIP, 0, 1 },
	{ "header then body",
	  P("X: {a*600} {b*600}\n\n{c*600} {d*600}\n"),
	  P("X: {a*600}\r\n {b*600}\r\n\r\n{c*600} {d*397}\r\n {d*203}\r\n"
	    ".\r\n"), NULL, UNDO_SKIP, 0, 2 },
	{ "header section ends at CRLF CRLF",
	  P("X: y\r\n\r\n{a*500} {b*600}\n"),
	  P("X: y\r\n\r\n{a*500} {b*497}\r\n {b*103}\r\n.\r\n"),
	  "X: y\n\n{a*500} {b*600}\n", UNFOLD_NLSP, 0, 1 },
};

/* expand - the bytes a table pattern stands for ("{ab*3}": "ababab") */
static void expand(const char *p, size_t n, struct strbuf *sb)
{
	const char *end, *star;
	size_t i = 0, k;

	strbuf_init(sb, (size_t)64 << 20);
	while (i < n) {
		if (p[i] != '{') {
			REQUIRE(strbuf_appendc(sb, p[i++]) == 0);
			continue;
		}
		end = memchr(p + i, '}', n - i);
		REQUIRE(end != NULL);
		for (star = end; *star != '*'; star--)
			REQUIRE(star > p + i);
		for (k = strtoul(star + 1, NULL, 10); k > 0; k--)
			REQUIRE(strbuf_append(sb, p + i + 1,
			    (size_t)(star - p - i - 1)) == 0);
		i = (size_t)(end - p) + 1;
	}
}

/* encode - the encoder's output for in, fed in pieces of piece bytes (or
   cut once at split when piece is 0); checks the per-call bound */
static void encode(const char *in, size_t n, size_t piece, size_t split,
    struct strbuf *out, struct data_encoder *enc)
{
	size_t off = 0, k, before;

	strbuf_init(out, (size_t)256 << 20);
	data_init(enc);
	while (off < n) {
		k = piece ? piece : off < split ? split : n - off;
		if (k > n - off)
			k = n - off;
		before = out->len;
		REQUIRE(data_encode(enc, in + off, k, out) == 0);
		REQUIRE(out->len - before <= DATA_OUT_MAX(k));
		off += k;
	}
	before = out->len;
	REQUIRE(data_finish(enc, out) == 0);
	REQUIRE(out->len - before <= DATA_OUT_MAX(0));
}

/* wire_check - what a receiver relies on; NULL, or what is wrong */
static const char *wire_check(const char *w, size_t n)
{
	size_t i, start = 0, len, ends = 0;

	if (n < 3 || memcmp(w + n - 3, ".\r\n", 3) != 0 ||
	    (n > 3 && (n < 5 || memcmp(w + n - 5, "\r\n", 2) != 0)))
		return "does not end with CRLF.CRLF";
	for (i = 0; i < n; i++) {
		if (w[i] == '\r' && (i + 1 == n || w[i + 1] != '\n'))
			return "CR without LF";
		if (w[i] == '\n' && (i == 0 || w[i - 1] != '\r'))
			return "LF without CR";
		if (w[i] != '\n')
			continue;
		/* a line w[start..i-1) */
		len = i - 1 - start;
		if (len > 0 && w[start] == '.') {
			if (len == 1)
				ends++;
			else if (w[start + 1] != '.')
				return "line starts with an unstuffed dot";
			len--;
		}
		if (len > DATA_LINE_MAX)
			return "line longer than 998 octets";
		start = i + 1;
	}
	return ends == 1 ? NULL : "not exactly one end of data";
}

/* undo - what a receiver stores: lines unstuffed, CRLF made LF */
static void undo(const char *w, size_t n, struct strbuf *sb)
{
	size_t start = 0, i;

	strbuf_init(sb, (size_t)256 << 20);
	for (i = 0; i + 1 < n; i++) {
		if (w[i] != '\r')
			continue;
		if (i - start == 1 && w[start] == '.')
			return;
		if (w[start] == '.')
			start++;
		REQUIRE(strbuf_append(sb, w + start, i - start) == 0);
		REQUIRE(strbuf_appendc(sb, '\n') == 0);
		start = i + 2;
		i++;
	}
	ck_abort_msg("no end of data");
}

/* unfold - remove the line breaks a wrap of the given kind inserts */
static void unfold(struct strbuf *sb, int mode)
{
	size_t i, j = 0;

	for (i = 0; i < sb->len; i++) {
		if (sb->s[i] == '\n' && i + 1 < sb->len &&
		    (sb->s[i + 1] == ' ' ||
		    (mode == UNFOLD_NL && sb->s[i + 1] == '\t'))) {
			if (mode == UNFOLD_NLSP)
				i++;
			continue;
		}
		sb->s[j++] = sb->s[i];
	}
	strbuf_truncate(sb, j);
}

/* same - two buffers hold the same bytes */
static int same(const struct strbuf *a, const struct strbuf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->s, b->s, a->len) == 0);
}

/* check_undo - undoing the encoding gives want */
static void check_undo(const struct data_case *c, const struct strbuf *in,
    const struct strbuf *out)
{
	struct strbuf got, want;

	if (c->mode == UNDO_SKIP)
		return;
	if (c->undo) {
		expand(c->undo, strlen(c->undo), &want);
	} else {
		expand("", 0, &want);
		strbuf_append(&want, in->s, in->len);
		if (in->len > 0 && in->s[in->len - 1] != '\n')
			strbuf_appendc(&want, '\n');
	}
	undo(out->s, out->len, &got);
	if (c->mode != UNDO_EXACT)
		unfold(&got, c->mode);
	ck_assert_msg(same(&got, &want), "%s: undo differs", c->name);
	strbuf_release(&got);
	strbuf_release(&want);
}

/* check_same_pieces - every way of cutting the input gives whole's bytes */
static void check_same_pieces(const struct data_case *c,
    const struct strbuf *in, const struct strbuf *whole)
{
	static const size_t pieces[] = { 1, 2, 3, 7, 997, 998, 999, 1000, 4096 };
	struct data_encoder enc;
	struct strbuf out;
	size_t p, cut;

	for (p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		encode(in->s, in->len, pieces[p], 0, &out, &enc);
		ck_assert_msg(same(&out, whole), "%s: piece %zu differs",
		    c->name, pieces[p]);
		strbuf_release(&out);
	}
	for (cut = 1; in->len <= 64 && cut < in->len; cut++) {
		encode(in->s, in->len, 0, cut, &out, &enc);
		ck_assert_msg(same(&out, whole), "%s: cut at %zu differs",
		    c->name, cut);
		strbuf_release(&out);
	}
}

START_TEST(test_cases)
{
	const struct data_case *c = &cases[_i];
	struct data_encoder enc;
	struct strbuf in, out, wire;
	const char *bad;

	expand(c->in, c->inlen, &in);
	encode(in.s, in.len, 0, in.len, &out, &enc);
	bad = wire_check(out.s, out.len);
	ck_assert_msg(bad == NULL, "%s: %s", c->name, bad);
	if (c->wire) {
		expand(c->wire, c->wirelen, &wire);
		ck_assert_msg(same(&out, &wire), "%s: wire differs: [%s]",
		    c->name, strbuf_str(&out));
		strbuf_release(&wire);
	}
	if (c->nbare >= 0)
		ck_assert_uint_eq(enc.nbare_cr, (size_t)c->nbare);
	if (c->nwrap >= 0)
		ck_assert_msg(enc.nwrapped == (size_t)c->nwrap,
		    "%s: %zu wraps", c->name, enc.nwrapped);
	check_undo(c, &in, &out);
	check_same_pieces(c, &in, &out);
	strbuf_release(&in);
	strbuf_release(&out);
}
END_TEST

/* rnd - a small deterministic generator (xorshift) */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* random_input - bytes rich in the encoder's special cases */
static void random_input(uint32_t *seed, struct strbuf *in)
{
	static const char alphabet[] = "aaaa  ..\r\r\n\n\n\t\xff";
	size_t n = rnd(seed) % 3000, i, run;

	strbuf_init(in, 1 << 20);
	for (i = 0; i < n; i++) {
		if (rnd(seed) % 500 == 0) {
			run = 990 + rnd(seed) % 1100;
			while (run-- > 0)
				strbuf_appendc(in, rnd(seed) % 2 ? 'a' : ' ');
		}
		strbuf_appendc(in, alphabet[rnd(seed) %
		    (sizeof(alphabet) - 1)]);
	}
}

/* normalise - the input as the encoder must send it when nothing needed
   wrapping: CRLF and LF are line ends, a bare CR is a space */
static void normalise(const struct strbuf *in, struct strbuf *want)
{
	size_t i;

	strbuf_init(want, 1 << 20);
	for (i = 0; i < in->len; i++) {
		if (in->s[i] == '\r' && i + 1 < in->len && in->s[i + 1] == '\n')
			continue;
		strbuf_appendc(want, in->s[i] == '\r' ? ' ' : in->s[i]);
	}
	if (want->len > 0 && want->s[want->len - 1] != '\n')
		strbuf_appendc(want, '\n');
}

/* Random inputs: the wire is always valid, all cuttings agree, and
   when nothing was wrapped the content arrives as normalise says. */
START_TEST(test_random)
{
	uint32_t seed = 2463534242u;
	struct data_encoder enc;
	struct strbuf in, whole, out, got, want;
	size_t piece;
	int round;

	for (round = 0; round < 400; round++) {
		random_input(&seed, &in);
		encode(in.s, in.len, 0, in.len, &whole, &enc);
		ck_assert_msg(wire_check(whole.s, whole.len) == NULL,
		    "round %d: %s", round, wire_check(whole.s, whole.len));
		if (enc.nwrapped == 0) {
			undo(whole.s, whole.len, &got);
			normalise(&in, &want);
			ck_assert_msg(same(&got, &want), "round %d", round);
			strbuf_release(&got);
			strbuf_release(&want);
		}
		piece = round % 3 == 0 ? 1 : 1 + rnd(&seed) % 1200;
		encode(in.s, in.len, piece, 0, &out, &enc);
		ck_assert_msg(same(&out, &whole), "round %d, piece %zu", round,
		    piece);
		strbuf_release(&out);
		strbuf_release(&whole);
		strbuf_release(&in);
	}
}
END_TEST

/* An output buffer that refuses: -1, and the encoder stays failed. */
START_TEST(test_out_full)
{
	struct data_encoder enc;
	struct strbuf out;

	strbuf_init(&out, 10);
	data_init(&enc);
	ck_assert_int_eq(data_encode(&enc, P("aaaaaaaaaaaaaaaa\n"), &out), -1);
	ck_assert_int_eq(enc.state, DATA_FAILED);
	strbuf_reset(&out);
	ck_assert_int_eq(data_encode(&enc, P("a\n"), &out), -1);
	ck_assert_int_eq(data_finish(&enc, &out), -1);
	ck_assert_uint_eq(out.len, 0);

	/* the final dot itself refused */
	data_init(&enc);
	strbuf_init(&out, 4);
	ck_assert_int_eq(data_encode(&enc, P("ab\n"), &out), 0);
	ck_assert_int_eq(data_finish(&enc, &out), -1);
	ck_assert_int_eq(enc.state, DATA_FAILED);
	strbuf_release(&out);
}
END_TEST

/* After data_finish the encoder takes nothing more. */
START_TEST(test_after_finish)
{
	struct data_encoder enc;
	struct strbuf out;

	strbuf_init(&out, 100);
	data_init(&enc);
	ck_assert_int_eq(data_encode(&enc, P("a\n"), &out), 0);
	ck_assert_int_eq(data_finish(&enc, &out), 0);
	ck_assert_int_eq(enc.state, DATA_DONE);
	ck_assert_int_eq(data_finish(&enc, &out), -1);
	ck_assert_int_eq(data_encode(&enc, P("b\n"), &out), -1);
	ck_assert_str_eq(strbuf_str(&out), "a\r\n.\r\n");
	/* data_init starts a new message */
	data_init(&enc);
	strbuf_reset(&out);
	ck_assert_int_eq(data_encode(&enc, P(".\r"), &out), 0);
	ck_assert_int_eq(data_encode(&enc, P("\n"), &out), 0);
	ck_assert_int_eq(data_finish(&enc, &out), 0);
	ck_assert_str_eq(strbuf_str(&out), "..\r\n.\r\n");
	strbuf_release(&out);
}
END_TEST

/* A held CR at a piece boundary, either way. */
START_TEST(test_cr_boundary)
{
	struct data_encoder enc;
	struct strbuf out;

	strbuf_init(&out, 100);
	data_init(&enc);
	ck_assert_int_eq(data_encode(&enc, P("a\r"), &out), 0);
	ck_assert_uint_eq(out.len, 0);		/* nothing known yet */
	ck_assert_int_eq(data_encode(&enc, P("\n.\r"), &out), 0);
	ck_assert_str_eq(strbuf_str(&out), "a\r\n");
	ck_assert_int_eq(data_encode(&enc, P(""), &out), 0);
	ck_assert_int_eq(data_encode(&enc, P("b"), &out), 0);
	ck_assert_int_eq(data_encode(&enc, P("\r"), &out), 0);
	ck_assert_int_eq(data_encode(&enc, P("\r\n"), &out), 0);
	ck_assert_int_eq(data_finish(&enc, &out), 0);
	ck_assert_str_eq(strbuf_str(&out), "a\r\n.. b \r\n.\r\n");
	ck_assert_uint_eq(enc.nbare_cr, 2);
	strbuf_release(&out);
}
END_TEST

static const struct {
	const char *p;
	size_t n;
	int want;
} bit8_cases[] = {
	{ P(""), 0 }, { P("plain ascii\r\n"), 0 }, { P("\x7f\x01\0"), 0 },
	{ P("caf\xc3\xa9"), 1 }, { P("\x80"), 1 }, { P("abc\xff"), 1 },
};

START_TEST(test_is_8bit)
{
	ck_assert_int_eq(data_is_8bit(bit8_cases[_i].p, bit8_cases[_i].n),
	    bit8_cases[_i].want);
}
END_TEST

/* remote_data_suite - all of the above */
static Suite *remote_data_suite(void)
{
	Suite *s = suite_create("remote_data");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_cases, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_out_full);
	tcase_add_test(tc, test_after_finish);
	tcase_add_test(tc, test_cr_boundary);
	tcase_add_loop_test(tc, test_is_8bit, 0,
	    (int)(sizeof(bit8_cases) / sizeof(bit8_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(remote_data_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
