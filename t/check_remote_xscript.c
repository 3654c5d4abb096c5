/*
 * check_remote_xscript - unit tests for remote-delivery/remote_xscript.c,
 * the transcript of a remote delivery attempt.
 *
 * What a notice and posternctl rely on: every line is timestamped and
 * ends in LF; bytes from a server never make a new line or a control
 * sequence; the size stays under the cap however much is written, with
 * the beginning kept whole, the end kept, and a line that says how much
 * was left out between them.
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "remote.h"

/* lines_ok - every line "HH:MM:SS.mmm " + printable text, or the cut
   line; returns the number of lines */
static size_t lines_ok(const struct strbuf *sb)
{
	regex_t re;
	const char *p = sb->s, *nl;
	char line[8192];
	size_t n = 0, len;

	ck_assert_int_eq(regcomp(&re, "^([0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
	    "|\\[\\.\\.\\. [0-9]+ bytes of transcript left out \\.\\.\\.\\]$)",
	    REG_EXTENDED | REG_NOSUB), 0);
	while (p < sb->s + sb->len) {
		nl = memchr(p, '\n', sb->s + sb->len - p);
		ck_assert_msg(nl != NULL, "a line without LF");
		len = (size_t)(nl - p);
		ck_assert_uint_lt(len, sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "bad line '%s'",
		    line);
		for (size_t i = 0; i < len; i++)
			ck_assert_msg((unsigned char)line[i] >= 0x20 &&
			    line[i] != 0x7f, "control byte in '%s'", line);
		p = nl + 1;
		n++;
	}
	regfree(&re);
	return n;
}

START_TEST(test_lines)
{
	struct xscript x;
	struct strbuf out = STRBUF_INIT(1u << 20);
	static const char evil[] = "250-ok\r\nX-Injected: yes\x1b[31m\0tail";

	xs_init(&x);
	xs_note(&x, "connecting to %s", "mx.example[192.0.2.1]:25");
	xs_lines(&x, "<<< ", evil, sizeof(evil) - 1);
	xs_lines(&x, ">>> ", "", 0);
	xs_finish(&x, &out);
	ck_assert_uint_eq(lines_ok(&out), 4);
	ck_assert_ptr_nonnull(strstr(out.s, "connecting to mx.example"));
	ck_assert_ptr_nonnull(strstr(out.s, "<<< 250-ok\\r\n"));
	ck_assert_ptr_nonnull(strstr(out.s, "<<< X-Injected: yes\\x1b[31m"
	    "\\x00tail\n"));
	ck_assert_ptr_null(strstr(out.s, "\x1b"));
	strbuf_release(&out);
	xs_release(&x);
}
END_TEST

START_TEST(test_cap)
{
	struct xscript x;
	struct strbuf out = STRBUF_INIT(1u << 20);
	char line[200];
	int i;

	xs_init(&x);
	for (i = 0; i < 20000; i++) {
		snprintf(line, sizeof(line), "line %06d %.100s", i,
		    "0123456789012345678901234567890123456789012345678901234567"
		    "890123456789012345678901234567890123456789");
		xs_lines(&x, "<<< ", line, strlen(line));
	}
	xs_finish(&x, &out);
	ck_assert_uint_le(out.len, QUEUE_XS_MAX + 200);
	ck_assert_uint_ge(out.len, QUEUE_XS_MAX - 1024);
	lines_ok(&out);
	/* The beginning is whole, the end is there, the cut is said. */
	ck_assert_ptr_nonnull(strstr(out.s, "<<< line 000000 "));
	ck_assert_ptr_nonnull(strstr(out.s, "<<< line 000001 "));
	ck_assert_ptr_nonnull(strstr(out.s, "<<< line 019999 "));
	ck_assert_ptr_nonnull(strstr(out.s, "bytes of transcript left out"));
	ck_assert_ptr_null(strstr(out.s, "<<< line 010000 "));
	/* Reset starts over. */
	xs_reset(&x);
	xs_note(&x, "again");
	xs_finish(&x, &out);
	ck_assert_uint_eq(lines_ok(&out), 1);
	strbuf_release(&out);
	xs_release(&x);
}
END_TEST

START_TEST(test_long_line)
{
	struct xscript x;
	struct strbuf out = STRBUF_INIT(1u << 20);
	static char big[100000];

	memset(big, 'a', sizeof(big));
	xs_init(&x);
	xs_lines(&x, "<<< ", big, sizeof(big));
	xs_finish(&x, &out);
	ck_assert_uint_eq(lines_ok(&out), 1);
	ck_assert_uint_lt(out.len, 4200);
	ck_assert_ptr_nonnull(strstr(out.s, "aaa...\n"));
	strbuf_release(&out);
	xs_release(&x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("remote_xscript");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
