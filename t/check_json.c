/*
 * check_json - unit tests for JSON string escaping (common/json.c), the
 * RFC 3339 time of the listings (timeutil_rfc3339), and the strbuf paths
 * the listings lean on (formatting into spare room, one-byte appends at
 * the limit).
 *
 * What readers of posternctl --json rely on: every string is valid JSON
 * and valid UTF-8 whatever a sender or a remote server wrote: quotes,
 * backslashes and control characters escaped, invalid UTF-8 (stray
 * continuation bytes, overlong forms, surrogates, truncated sequences)
 * replaced by U+FFFD one byte at a time, U+2028 and U+2029 replaced too
 * (they break JavaScript readers), and valid text passed through whole.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "strbuf.h"
#include "timeutil.h"

static const struct { const char *in; size_t n; const char *want; } cases[] = {
	{ "", 0, "\"\"" },
	{ "plain text", 10, "\"plain text\"" },
	{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
	{ "\n\r\t", 3, "\"\\n\\r\\t\"" },
	{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
	{ "nul\0x", 5, "\"nul\\u0000x\"" },
	{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
	{ "\xe2\x82\xac 5", 5, "\"\xe2\x82\xac 5\"" },
	{ "\xf0\x9f\x93\xa7", 4, "\"\xf0\x9f\x93\xa7\"" },
	{ "\x80x", 2, "\"\\ufffdx\"" },
	{ "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },
	{ "\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "ab\xc3", 3, "\"ab\\ufffd\"" },
	{ "\xe2\x80\xa8|\xe2\x80\xa9", 7,
	  "\"\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\"" },
	{ "run \"q\" run\n", 12, "\"run \\\"q\\\" run\\n\"" },
};

START_TEST(test_escape)
{
	struct strbuf out = STRBUF_INIT(1024);

	ck_assert_int_eq(json_string(&out, cases[_i].in, cases[_i].n), 0);
	ck_assert_str_eq(strbuf_str(&out), cases[_i].want);
	strbuf_release(&out);
}
END_TEST

/* A long run of plain text crosses the buffer's growth steps whole. */
START_TEST(test_long_run)
{
	struct strbuf out = STRBUF_INIT(1u << 20);
	char *in = malloc(100000);
	size_t i;

	ck_assert_ptr_nonnull(in);
	for (i = 0; i < 100000; i++)
		in[i] = (char)('a' + i % 26);
	in[50000] = '"';
	ck_assert_int_eq(json_string(&out, in, 100000), 0);
	ck_assert_uint_eq(out.len, 100000 + 2 + 1);
	ck_assert_int_eq(memcmp(out.s + 50001, "\\\"", 2), 0);
	ck_assert_int_eq(out.s[out.len - 1], '"');
	free(in);
	strbuf_release(&out);
}
END_TEST

/* At the limit, an escape is refused whole and the buffer is marked. */
START_TEST(test_limit)
{
	struct strbuf out = STRBUF_INIT(8);

	ck_assert_int_ne(json_string(&out, "abcdefghij", 10), 0);
	ck_assert(!strbuf_ok(&out));
	ck_assert_uint_le(out.len, 8);
	strbuf_release(&out);
}
END_TEST

START_TEST(test_rfc3339)
{
	char buf[TIMEUTIL_BUF];

	timeutil_rfc3339(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	timeutil_rfc3339(1795000000123456LL, buf);
	ck_assert_str_eq(buf, "2026-11-18T11:06:40Z");
	timeutil_rfc3339(951782400000000LL, buf);	/* a leap day */
	ck_assert_str_eq(buf, "2000-02-29T00:00:00Z");
	timeutil_rfc3339(253402300799000000LL, buf);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
}
END_TEST

/* The arithmetic agrees with the C library across leap years and
   centuries (every 61h7m from 1970 to past 2400). */
START_TEST(test_rfc3339_many)
{
	char got[TIMEUTIL_BUF], want[TIMEUTIL_BUF];
	int64_t t;
	struct tm tm;
	time_t tt;

	for (t = 0; t < 13700000000LL; t += 61 * 3600 + 7 * 60 + 13) {
		tt = (time_t)t;
		gmtime_r(&tt, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		timeutil_rfc3339(t * 1000000 + 999999, got);
		ck_assert_str_eq(got, want);
	}
}
END_TEST

START_TEST(test_appendf_paths)
{
	struct strbuf sb = STRBUF_INIT(40);
	int i;

	/* first into no room at all, then into spare room, then growing */
	ck_assert_int_eq(strbuf_appendf(&sb, "%d-%s", 12, "ab"), 0);
	ck_assert_int_eq(strbuf_appendf(&sb, "%c", 'x'), 0);
	ck_assert_str_eq(strbuf_str(&sb), "12-abx");
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(strbuf_appendf(&sb, "%08d", i), 0);
	ck_assert_uint_eq(sb.len, 6 + 32);
	/* past the limit: nothing appended, marked failed */
	ck_assert_int_ne(strbuf_appendf(&sb, "%s", "abc"), 0);
	ck_assert_uint_eq(sb.len, 38);
	ck_assert(!strbuf_ok(&sb));
	ck_assert_uint_eq(strlen(strbuf_str(&sb)), 38);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_appendc_limit)
{
	struct strbuf sb = STRBUF_INIT(3);

	ck_assert_int_eq(strbuf_appendc(&sb, 'a'), 0);
	ck_assert_int_eq(strbuf_appendc(&sb, 'b'), 0);
	ck_assert_int_eq(strbuf_appendc(&sb, 'c'), 0);
	ck_assert_int_ne(strbuf_appendc(&sb, 'd'), 0);
	ck_assert_str_eq(strbuf_str(&sb), "abc");
	strbuf_release(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_escape, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_long_run);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_rfc3339);
	tcase_add_test(tc, test_rfc3339_many);
	tcase_add_test(tc, test_appendf_paths);
	tcase_add_test(tc, test_appendc_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
