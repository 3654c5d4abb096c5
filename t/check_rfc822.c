/*
 * check_rfc822 - unit tests of common/rfc822.c: header field names and
 * the address-list walker that sendmail -t uses for To, Cc and Bcc.
 *
 * Table-driven: field values with the addresses and display names the
 * walker must hand over, or the reason it must give; field lines with the
 * name length expected. Inputs are copied into buffers of exactly their
 * length so that ASan sees any read past the end, and one value rich in
 * syntax is also fed one prefix at a time, plus a seeded random stream.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc822.h"

#define MAXADDR 6
#define NONAME NULL		/* a bare addr-spec: no display name */

struct rcase {
	const char *value;
	int n;			/* addresses expected, -1: malformed */
	const char *addrs[MAXADDR];
	const char *names[MAXADDR];
	const char *reason;	/* substring, when n is -1 */
};

static const struct rcase cases[] = {
	{ "a@x", 1, { "a@x" }, { NONAME }, NULL },
	{ "a@x, b@y", 2, { "a@x", "b@y" }, { NONAME, NONAME }, NULL },
	{ "John Doe <jd@x>", 1, { "jd@x" }, { "John Doe" }, NULL },
	{ "\"Doe, John\" <jd@x>, b@y", 2, { "jd@x", "b@y" },
	  { "Doe, John", NONAME }, NULL },
	{ "<a@x>", 1, { "a@x" }, { "" }, NULL },
	{ "a@x (Comment, with comma)", 1, { "a@x" }, { NONAME }, NULL },
	{ "(c1) a(c2)@(c3)x(c4)", 1, { "a@x" }, { NONAME }, NULL },
	{ "a@x (outer (inner \\) still) end), b@y", 2, { "a@x", "b@y" },
	  { NONAME, NONAME }, NULL },
	{ "John (the man) Doe <jd@x>", 1, { "jd@x" }, { "John Doe" }, NULL },
	{ "Name <a(in angle)@x>", 1, { "a@x" }, { "Name" }, NULL },
	{ "undisclosed-recipients:;", 0, { NULL }, { NULL }, NULL },
	{ "undisclosed-recipients:", 0, { NULL }, { NULL }, NULL },
	{ "team: a@x, B <b@y>;", 2, { "a@x", "b@y" }, { NONAME, "B" }, NULL },
	{ "team: a@x, b@y;, c@z", 3, { "a@x", "b@y", "c@z" },
	  { NONAME, NONAME, NONAME }, NULL },
	{ "g1: a@x; g2: b@y;", 2, { "a@x", "b@y" }, { NONAME, NONAME },
	  NULL },
	{ "a@x,\r\n b@y,\n\tc@z\n", 3, { "a@x", "b@y", "c@z" },
	  { NONAME, NONAME, NONAME }, NULL },
	{ "John\r\n Doe <jd@x>", 1, { "jd@x" }, { "John Doe" }, NULL },
	{ "\"Folded\r\n Name\" <a@x>", 1, { "a@x" }, { "Folded Name" }, NULL },
	{ "a@x,,, ,b@y,", 2, { "a@x", "b@y" }, { NONAME, NONAME }, NULL },
	{ "", 0, { NULL }, { NULL }, NULL },
	{ " \t (only a comment) ", 0, { NULL }, { NULL }, NULL },
	{ "<@a.example,@b.example:user@c.example>", 1, { "user@c.example" },
	  { "" }, NULL },
	{ "\"john doe\"@x, \"a,b\"@y", 2, { "\"john doe\"@x", "\"a,b\"@y" },
	  { NONAME, NONAME }, NULL },
	{ "john . doe @ x", 1, { "john.doe@x" }, { NONAME }, NULL },
	{ "john doe@x", 1, { "john doe@x" }, { NONAME }, NULL },
	{ "a@[IPv6:::1], Name <b@[192.0.2.1]>", 2,
	  { "a@[IPv6:::1]", "b@[192.0.2.1]" }, { NONAME, "Name" }, NULL },
	{ "John Q. Public <jqp@x>", 1, { "jqp@x" }, { "John Q. Public" },
	  NULL },
	{ "\"a\\\"b\" <c@d>", 1, { "c@d" }, { "a\"b" }, NULL },
	{ "\"\" <c@d>", 1, { "c@d" }, { "" }, NULL },
	{ "=?UTF-8?Q?J=C3=B6ran?= <j@x>", 1, { "j@x" },
	  { "=?UTF-8?Q?J=C3=B6ran?=" }, NULL },
	{ "j\xc3\xb6ran@x", 1, { "j\xc3\xb6ran@x" }, { NONAME }, NULL },
	{ "<a@x> (trailing comment), b@y", 2, { "a@x", "b@y" },
	  { "", NONAME }, NULL },
	/* Malformed values. */
	{ "a@x>", -1, { NULL }, { NULL }, "unbalanced angle" },
	{ "<a@x", -1, { NULL }, { NULL }, "unbalanced angle" },
	{ "<<a@x>>", -1, { NULL }, { NULL }, "unbalanced angle" },
	{ "team: <a@x;", -1, { NULL }, { NULL }, "unbalanced angle" },
	{ "\"abc <a@x>", -1, { NULL }, { NULL }, "unbalanced quotes" },
	{ "\"abc\\\"", -1, { NULL }, { NULL }, "unbalanced quotes" },
	{ "a@x (comment", -1, { NULL }, { NULL }, "unbalanced parentheses" },
	{ "a@x (comment \\)", -1, { NULL }, { NULL },
	  "unbalanced parentheses" },
	{ "a@x)", -1, { NULL }, { NULL }, "unbalanced parentheses" },
	{ "a@[1.2.3.4", -1, { NULL }, { NULL }, "unbalanced brackets" },
	{ "a@x]", -1, { NULL }, { NULL }, "unbalanced brackets" },
	{ "<a@x> junk", -1, { NULL }, { NULL }, "after '>'" },
	{ "<a@x> <b@y>", -1, { NULL }, { NULL }, "after '>'" },
	{ "<a@x, b@y>", -1, { NULL }, { NULL }, "',' inside angle" },
	{ "<a:b@y>", -1, { NULL }, { NULL }, "':' inside angle" },
	{ "a@x; b@y", -1, { NULL }, { NULL }, "outside a group" },
	{ "g: h: a@x;", -1, { NULL }, { NULL }, "group inside a group" },
	{ "Nobody <>", -1, { NULL }, { NULL }, "empty address" },
	{ "a@x\nb@y", -1, { NULL }, { NULL }, "line break" },
	{ "\"a\nb\"@x", -1, { NULL }, { NULL }, "line break" },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct got {
	int n;
	char addrs[MAXADDR][128];
	char names[MAXADDR][128];
	int has_name[MAXADDR];
	int stop_after;		/* return -1 at this address; 0: never */
};

/* collect - the callback: keep what the walker hands over */
static int collect(void *ctx, const char *addr, size_t addrlen,
    const char *name, size_t namelen)
{
	struct got *g = ctx;

	ck_assert_ptr_nonnull(addr);
	ck_assert_int_eq(addr[addrlen], '\0');
	if (g->n < MAXADDR) {
		snprintf(g->addrs[g->n], sizeof(g->addrs[0]), "%.*s",
		    (int)addrlen, addr);
		g->has_name[g->n] = name != NULL;
		if (name)
			snprintf(g->names[g->n], sizeof(g->names[0]), "%.*s",
			    (int)namelen, name);
	}
	g->n++;
	return g->stop_after && g->n >= g->stop_after ? -1 : 0;
}

/* dup_exact - the bytes in a buffer of exactly their length */
static char *dup_exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, len);
	return p;
}

/* check_names - the display names of a case */
static void check_names(const struct rcase *c, const struct got *g)
{
	int i;

	for (i = 0; i < c->n; i++) {
		ck_assert_str_eq(g->addrs[i], c->addrs[i]);
		if (c->names[i] == NONAME) {
			ck_assert_msg(!g->has_name[i], "address %d: name "
			    "\"%s\" not expected", i, g->names[i]);
		} else {
			ck_assert_msg(g->has_name[i], "address %d: no name",
			    i);
			ck_assert_str_eq(g->names[i], c->names[i]);
		}
	}
}

START_TEST(test_addrlist)
{
	const struct rcase *c = &cases[_i];
	size_t len = strlen(c->value);
	char *v = dup_exact(c->value, len);
	struct got g;
	const char *why = NULL;
	int r;

	memset(&g, 0, sizeof(g));
	r = rfc822_addrlist(v, len, collect, &g, &why);
	if (c->n >= 0) {
		ck_assert_msg(r == c->n, "case %d: %d addresses (%s), want %d",
		    _i, r, why ? why : "", c->n);
		check_names(c, &g);
	} else {
		ck_assert_msg(r == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, c->reason) != NULL,
		    "case %d: reason \"%s\", want \"%s\"", _i, why, c->reason);
	}
	free(v);
}
END_TEST

/* Comments nest up to the limit, counted without recursion. */
START_TEST(test_deep_comments)
{
	char v[200];
	const char *why = NULL;
	struct got g;
	int depth = _i ? 33 : 32, i, o = 0;

	o += snprintf(v + o, sizeof(v) - (size_t)o, "a@x ");
	for (i = 0; i < depth; i++)
		v[o++] = '(';
	for (i = 0; i < depth; i++)
		v[o++] = ')';
	memset(&g, 0, sizeof(g));
	if (_i == 0) {
		ck_assert_int_eq(rfc822_addrlist(v, (size_t)o, collect, &g,
		    &why), 1);
	} else {
		ck_assert_int_eq(rfc822_addrlist(v, (size_t)o, collect, &g,
		    &why), -1);
		ck_assert_ptr_nonnull(strstr(why, "nested too deeply"));
	}
}
END_TEST

/* An address or display name past the bound is refused, not cut. */
START_TEST(test_too_long)
{
	size_t len = 5000;
	char *v = malloc(len);
	const char *why = NULL;
	struct got g;

	ck_assert_ptr_nonnull(v);
	memset(v, 'a', len);
	if (_i == 1) {
		v[len - 6] = '<';
		memcpy(v + len - 5, "a@x>", 4);
		v[len - 1] = ' ';
	}
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(rfc822_addrlist(v, len, collect, &g, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "too long"));
	ck_assert_int_eq(g.n, 0);
	free(v);
}
END_TEST

/* The callback stops the walk. */
START_TEST(test_stop)
{
	const char *v = "a@x, b@y, c@z";
	const char *why = NULL;
	struct got g;

	memset(&g, 0, sizeof(g));
	g.stop_after = 2;
	ck_assert_int_eq(rfc822_addrlist(v, strlen(v), collect, &g, &why),
	    -1);
	ck_assert_int_eq(g.n, 2);
	ck_assert_ptr_nonnull(strstr(why, "stopped"));
}
END_TEST

/* NUL bytes are passed on (address_parse refuses them), not a terminator */
START_TEST(test_nul)
{
	static const char v[] = "a\0b@x, c@y";
	const char *why = NULL;
	struct got g;

	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(rfc822_addrlist(v, sizeof(v) - 1, collect, &g, &why),
	    2);
	ck_assert_str_eq(g.addrs[0], "a");	/* "%.*s" stops at the NUL */
	ck_assert_str_eq(g.addrs[1], "c@y");
}
END_TEST

static const char prefix_value[] =
    "team: \"Doe, J.\" (x (y \\) z)) <@r.example:j@[IPv6:::1]>,\r\n"
    " b@y;, C <c@z>, (c) \"q\\\"\"@w";

/* Every prefix of a value rich in syntax: no crash, no overrun. */
START_TEST(test_prefixes)
{
	size_t n, len = strlen(prefix_value);

	for (n = 0; n <= len; n++) {
		char *v = dup_exact(prefix_value, n);
		const char *why = NULL;
		struct got g;
		int r;

		memset(&g, 0, sizeof(g));
		r = rfc822_addrlist(v, n, collect, &g, &why);
		ck_assert(r == -1 ? why != NULL : r == g.n);
		free(v);
	}
}
END_TEST

/* Seeded random values from an alphabet of the bytes that matter. */
START_TEST(test_random)
{
	static const char alphabet[] = "a@.,;:<>()\"\\[] \t\r\n";
	uint32_t seed = 4242;
	char buf[200];
	int round;

	for (round = 0; round < 20000; round++) {
		const char *why = NULL;
		struct got g;
		size_t i, n;
		char *v;
		int r;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(buf);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		v = dup_exact(buf, n);
		memset(&g, 0, sizeof(g));
		r = rfc822_addrlist(v, n, collect, &g, &why);
		ck_assert(r == -1 ? why != NULL : r == g.n);
		free(v);
	}
}
END_TEST

static const struct {
	const char *line;
	size_t len;		/* 0: strlen(line) */
	size_t namelen;
} names[] = {
	{ "To: a@x", 0, 2 },
	{ "To:", 0, 2 },
	{ "Bcc:a@x", 0, 3 },
	{ "X-Foo-Bar: y", 0, 9 },
	{ "Received:from x", 0, 8 },
	{ "From a@x Mon Jan  1 00:00:00 2024", 0, 0 },
	{ ":x", 0, 0 },
	{ "Subject : x", 0, 0 },
	{ "Subject\t: x", 0, 0 },
	{ " continued: line", 0, 0 },
	{ "\tcontinued: line", 0, 0 },
	{ "", 0, 0 },
	{ "NoColon", 0, 0 },
	{ "Na\xc3\xa9me: x", 0, 0 },
	{ "X\0Y: z", 6, 0 },
	{ "To: a@x", 2, 0 },	/* the colon is past len */
};

START_TEST(test_field_name)
{
	size_t len = names[_i].len ? names[_i].len : strlen(names[_i].line);
	char *line = dup_exact(names[_i].line, len);

	ck_assert_uint_eq(rfc822_field_name_len(line, len), names[_i].namelen);
	free(line);
}
END_TEST

static const struct {
	const char *line;
	int yes;
} continuations[] = {
	{ " x", 1 }, { "\tx", 1 }, { " ", 1 }, { "x", 0 }, { "", 0 },
	{ "To: a", 0 },
};

START_TEST(test_continuation)
{
	const char *l = continuations[_i].line;
	size_t len = strlen(l);
	char *line = dup_exact(l, len);

	ck_assert_int_eq(rfc822_is_continuation(line, len),
	    continuations[_i].yes);
	free(line);
}
END_TEST

static const struct {
	const char *line;
	size_t namelen;
	const char *name;
	int yes;
} name_is[] = {
	{ "To: a", 2, "to", 1 },
	{ "TO: a", 2, "To", 1 },
	{ "Resent-To: a", 9, "resent-to", 1 },
	{ "Bcc: a", 3, "Cc", 0 },
	{ "Cc: a", 2, "Bcc", 0 },
	{ "To: a", 2, "T", 0 },
	{ "Tp: a", 2, "To", 0 },
};

START_TEST(test_name_is)
{
	ck_assert_int_eq(rfc822_name_is(name_is[_i].line, name_is[_i].namelen,
	    name_is[_i].name), name_is[_i].yes);
}
END_TEST

#define LOOP(tc, fn, table) \
	tcase_add_loop_test(tc, fn, 0, (int)(sizeof(table) / sizeof(table[0])))

/* rfc822_suite - the rfc822 module's tests */
static Suite *rfc822_suite(void)
{
	Suite *s = suite_create("rfc822");
	TCase *walk = tcase_create("addrlist");
	TCase *fields = tcase_create("fields");

	LOOP(walk, test_addrlist, cases);
	tcase_add_loop_test(walk, test_deep_comments, 0, 2);
	tcase_add_loop_test(walk, test_too_long, 0, 2);
	tcase_add_test(walk, test_stop);
	tcase_add_test(walk, test_nul);
	tcase_add_test(walk, test_prefixes);
	tcase_add_test(walk, test_random);
	LOOP(fields, test_field_name, names);
	LOOP(fields, test_continuation, continuations);
	LOOP(fields, test_name_is, name_is);
	suite_add_tcase(s, walk);
	suite_add_tcase(s, fields);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rfc822_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
