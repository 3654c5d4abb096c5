/*
 * check_strbuf - unit tests for common/strbuf.c, the bounded buffer.
 *
 * Covers: appends of every kind, the hard limit (a refused append
 * returns -1, marks the buffer failed and appends nothing), formatted
 * appends, printable escaping for logs and terminals with UTF-8 on and
 * off, truncate, reset, release, steal, embedded NUL bytes and growth
 * across many appends.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

START_TEST(test_empty)
{
	struct strbuf sb;

	strbuf_init(&sb, 100);
	ck_assert_str_eq(strbuf_str(&sb), "");
	ck_assert_uint_eq(sb.len, 0);
	ck_assert(strbuf_ok(&sb));
	ck_assert_int_eq(strbuf_append(&sb, "", 0), 0);
	ck_assert_str_eq(strbuf_str(&sb), "");
	strbuf_release(&sb);
	strbuf_release(&sb);	/* twice is harmless */
}
END_TEST

START_TEST(test_appends)
{
	struct strbuf sb = STRBUF_INIT(100);

	ck_assert_int_eq(strbuf_appends(&sb, "hello"), 0);
	ck_assert_int_eq(strbuf_appendc(&sb, ' '), 0);
	ck_assert_int_eq(strbuf_append(&sb, "world!!", 5), 0);
	ck_assert_int_eq(strbuf_appendc(&sb, 0xff), 0);
	ck_assert_uint_eq(sb.len, 12);
	ck_assert_str_eq(strbuf_str(&sb), "hello world\xff");
	ck_assert(strbuf_ok(&sb));
	strbuf_release(&sb);
	ck_assert_str_eq(strbuf_str(&sb), "");
}
END_TEST

/* The limit: a refused append of any kind leaves the contents alone. */
enum { AP_APPEND, AP_APPENDS, AP_APPENDC, AP_APPENDF, AP_RESERVE };

/* try_append - one append of the given kind of n bytes of 'y' */
static int try_append(struct strbuf *sb, int kind, size_t n)
{
	char y[64];

	memset(y, 'y', sizeof(y));
	y[n] = '\0';
	switch (kind) {
	case AP_APPEND:
		return strbuf_append(sb, y, n);
	case AP_APPENDS:
		return strbuf_appends(sb, y);
	case AP_APPENDC:
		return strbuf_appendc(sb, 'y');
	case AP_APPENDF:
		return strbuf_appendf(sb, "%s", y);
	default:
		return strbuf_reserve(sb, n);
	}
}

START_TEST(test_limit)
{
	struct strbuf sb = STRBUF_INIT(10);

	ck_assert_int_eq(strbuf_appends(&sb, "1234567890"), 0);
	ck_assert(strbuf_ok(&sb));
	ck_assert_int_eq(try_append(&sb, _i, 1), -1);
	ck_assert(!strbuf_ok(&sb));
	ck_assert_uint_eq(sb.len, 10);
	ck_assert_str_eq(strbuf_str(&sb), "1234567890");
	/* The failed mark stays until reset, even after a good append. */
	strbuf_truncate(&sb, 8);
	ck_assert_int_eq(strbuf_appendc(&sb, 'x'), 0);
	ck_assert_str_eq(strbuf_str(&sb), "12345678x");
	ck_assert(!strbuf_ok(&sb));
	ck_assert_int_eq(try_append(&sb, _i, 2), _i == AP_APPENDC ? 0 : -1);
	strbuf_reset(&sb);
	ck_assert(strbuf_ok(&sb));
	ck_assert_int_eq(try_append(&sb, _i, 10), 0);
	ck_assert(strbuf_ok(&sb));
	strbuf_release(&sb);
}
END_TEST

/* An empty buffer refuses anything larger than its limit at once. */
START_TEST(test_limit_fresh)
{
	struct strbuf sb = STRBUF_INIT(5), z = STRBUF_INIT(0);

	ck_assert_int_eq(strbuf_append(&sb, "123456", 6), -1);
	ck_assert_str_eq(strbuf_str(&sb), "");
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_int_eq(strbuf_append(&sb, (const void *)"x", SIZE_MAX), -1);
	ck_assert_int_eq(strbuf_reserve(&sb, SIZE_MAX), -1);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_int_eq(strbuf_appendc(&z, 'x'), -1);
	ck_assert_int_eq(strbuf_append(&z, "", 0), 0);
	ck_assert_str_eq(strbuf_str(&z), "");
	strbuf_release(&sb);
	strbuf_release(&z);
}
END_TEST

START_TEST(test_appendf)
{
	struct strbuf sb = STRBUF_INIT(64);

	ck_assert_int_eq(strbuf_appendf(&sb, "%d-%s-%zu", -12, "ab", (size_t)7),
	    0);
	ck_assert_int_eq(strbuf_appendf(&sb, "|%05.1f|%%|%c", 2.5, 'z'), 0);
	ck_assert_str_eq(strbuf_str(&sb), "-12-ab-7|002.5|%|z");
	ck_assert_int_eq(strbuf_appendf(&sb, "%s", ""), 0);
	ck_assert_uint_eq(sb.len, 18);
	strbuf_release(&sb);
}
END_TEST

/* A formatted append that fits exactly, then one byte too many. */
START_TEST(test_appendf_limit)
{
	struct strbuf sb = STRBUF_INIT(8);

	ck_assert_int_eq(strbuf_appendf(&sb, "%08d", 42), 0);
	ck_assert_str_eq(strbuf_str(&sb), "00000042");
	strbuf_reset(&sb);
	ck_assert_int_eq(strbuf_appendf(&sb, "%09d", 42), -1);
	ck_assert_str_eq(strbuf_str(&sb), "");
	ck_assert(!strbuf_ok(&sb));
	strbuf_release(&sb);
}
END_TEST

static const struct {
	const char *in;
	size_t len;		/* 0: strlen */
	int utf8;
	const char *out;
} printable[] = {
	{ "plain text", 0, 0, "plain text" },
	{ "a\nb", 0, 0, "a\\nb" },
	{ "a\rb", 0, 1, "a\\rb" },
	{ "\t", 0, 0, "\\t" },
	{ "back\\slash", 0, 0, "back\\\\slash" },
	{ "\x1b]0;pwned\x07\x1b[2J", 0, 1, "\\x1b]0;pwned\\x07\\x1b[2J" },
	{ "del\x7f", 0, 1, "del\\x7f" },
	{ "nul\0x", 5, 0, "nul\\x00x" },
	{ "\x01\x1f ", 0, 0, "\\x01\\x1f " },
	{ "caf\xc3\xa9", 0, 1, "caf\xc3\xa9" },
	{ "caf\xc3\xa9", 0, 0, "caf\\xc3\\xa9" },
	{ "\x80\xff", 0, 1, "\x80\xff" },
	{ "\x80\xff", 0, 0, "\\x80\\xff" },
	{ "\x9b", 0, 0, "\\x9b" },
	{ "", 0, 0, "" },
	{ "~ !\"'", 0, 0, "~ !\"'" },
};

START_TEST(test_printable)
{
	struct strbuf sb = STRBUF_INIT(256);
	size_t n = printable[_i].len ? printable[_i].len :
	    strlen(printable[_i].in);

	ck_assert_int_eq(strbuf_append_printable(&sb, printable[_i].in, n,
	    printable[_i].utf8), 0);
	ck_assert_str_eq(strbuf_str(&sb), printable[_i].out);
	ck_assert_uint_eq(sb.len, strlen(printable[_i].out));
	strbuf_release(&sb);
}
END_TEST

/* Escaping that runs into the limit fails and marks the buffer. */
START_TEST(test_printable_limit)
{
	struct strbuf sb = STRBUF_INIT(6);

	ck_assert_int_eq(strbuf_append_printable(&sb, "\x1b\x1b", 2, 1), -1);
	ck_assert(!strbuf_ok(&sb));
	ck_assert_uint_le(sb.len, 6);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_truncate_reset)
{
	struct strbuf sb = STRBUF_INIT(100);
	size_t cap;

	strbuf_appends(&sb, "hello world");
	strbuf_truncate(&sb, 5);
	ck_assert_str_eq(strbuf_str(&sb), "hello");
	ck_assert_uint_eq(sb.len, 5);
	strbuf_truncate(&sb, 50);	/* longer: no change */
	ck_assert_str_eq(strbuf_str(&sb), "hello");
	strbuf_truncate(&sb, 0);
	ck_assert_str_eq(strbuf_str(&sb), "");
	strbuf_appends(&sb, "again");
	cap = sb.cap;
	strbuf_reset(&sb);
	ck_assert_str_eq(strbuf_str(&sb), "");
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(sb.cap, cap);		/* memory kept */
	ck_assert_ptr_nonnull(sb.s);
	strbuf_appends(&sb, "x");
	ck_assert_str_eq(strbuf_str(&sb), "x");
	strbuf_release(&sb);
	ck_assert_ptr_null(sb.s);
	ck_assert_uint_eq(sb.max, 100);		/* reusable */
	ck_assert_int_eq(strbuf_appends(&sb, "y"), 0);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_steal)
{
	struct strbuf sb = STRBUF_INIT(100);
	size_t len = 99;
	char *s;

	strbuf_append(&sb, "ab\0cd", 5);
	s = strbuf_steal(&sb, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(s, "ab\0cd", 6) == 0);
	ck_assert_ptr_null(sb.s);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_str_eq(strbuf_str(&sb), "");
	free(s);
	s = strbuf_steal(&sb, &len);	/* empty: an allocated "" */
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
	s = strbuf_steal(&sb, NULL);
	free(s);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_embedded_nul)
{
	struct strbuf sb = STRBUF_INIT(100);

	ck_assert_int_eq(strbuf_append(&sb, "a\0b", 3), 0);
	ck_assert_int_eq(strbuf_appendc(&sb, '\0'), 0);
	ck_assert_int_eq(strbuf_appends(&sb, "c"), 0);
	ck_assert_uint_eq(sb.len, 5);
	ck_assert(memcmp(sb.s, "a\0b\0c", 6) == 0);
	ck_assert_uint_eq(strlen(strbuf_str(&sb)), 1);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_growth)
{
	struct strbuf sb = STRBUF_INIT(1u << 20);
	size_t i;

	for (i = 0; i < 20000; i++)
		ck_assert_int_eq(strbuf_appendf(&sb, "%05zu,", i % 100000), 0);
	ck_assert_uint_eq(sb.len, 20000 * 6);
	ck_assert_uint_ge(sb.cap, sb.len + 1);
	ck_assert_uint_le(sb.cap, sb.max + 1);
	for (i = 0; i < 20000; i++) {
		char want[8];

		snprintf(want, sizeof(want), "%05zu,", i);
		ck_assert(memcmp(sb.s + 6 * i, want, 6) == 0);
	}
	ck_assert_int_eq(sb.s[sb.len], '\0');
	strbuf_release(&sb);
}
END_TEST

/* Growth stops at the limit: the allocation never passes max + 1. */
START_TEST(test_growth_capped)
{
	struct strbuf sb = STRBUF_INIT(1000);
	size_t i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(strbuf_appendc(&sb, 'a' + (int)(i % 26)), 0);
	ck_assert_uint_eq(sb.len, 1000);
	ck_assert_uint_le(sb.cap, 1001);
	ck_assert_int_eq(strbuf_appendc(&sb, 'x'), -1);
	ck_assert_int_eq(sb.s[999], 'a' + 999 % 26);
	ck_assert_int_eq(sb.s[1000], '\0');
	strbuf_release(&sb);
}
END_TEST

/* strbuf_suite - the tests, grouped */
static Suite *strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("appends");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_appends);
	tcase_add_loop_test(tc, test_limit, AP_APPEND, AP_RESERVE + 1);
	tcase_add_test(tc, test_limit_fresh);
	tcase_add_test(tc, test_appendf);
	tcase_add_test(tc, test_appendf_limit);
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_growth_capped);
	suite_add_tcase(s, tc);
	tc = tcase_create("printable");
	tcase_add_loop_test(tc, test_printable, 0,
	    sizeof(printable) / sizeof(printable[0]));
	tcase_add_test(tc, test_printable_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("lifecycle");
	tcase_add_test(tc, test_truncate_reset);
	tcase_add_test(tc, test_steal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(strbuf_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
