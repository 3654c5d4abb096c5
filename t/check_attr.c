/*
 * check_attr - unit tests for common/attr.c, the attribute list codec.
 *
 * Covers: exact encoding, round trips of names and binary values, every
 * malformed netstring the decoder must refuse, every truncation of a
 * valid record (decoded from an exactly sized heap copy, so a read past
 * the end shows under ASan), the attribute limit, strict numbers, and
 * attr_check against a schema table.
 */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "strbuf.h"

/* dup_exact - a heap copy of exactly n bytes (no terminator) */
static char *dup_exact(const void *p, size_t n)
{
	char *d = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

/* decode_copy - decode a heap copy of p[0..n); the copy is returned in
   *buf_r for the caller to free */
static int decode_copy(const void *p, size_t n, struct attr_list *l,
    size_t max, const char **why, char **buf_r)
{
	*buf_r = dup_exact(p, n);
	*why = NULL;
	return attr_decode(*buf_r, n, l, max, why);
}

START_TEST(test_encode_exact)
{
	struct strbuf sb = STRBUF_INIT(1024);

	ck_assert_int_eq(attr_put_str(&sb, "sender", "a@b.c"), 0);
	ck_assert_int_eq(attr_put(&sb, "e", "", 0), 0);
	ck_assert_int_eq(attr_put_u64(&sb, "n", UINT64_MAX), 0);
	ck_assert_int_eq(attr_put_i64(&sb, "i", INT64_MIN), 0);
	ck_assert_str_eq(strbuf_str(&sb), "12:sender=a@b.c,2:e=,"
	    "22:n=18446744073709551615,22:i=-9223372036854775808,");
	ck_assert(strbuf_ok(&sb));
	strbuf_release(&sb);
}
END_TEST

static const struct {
	const char *name;
	const char *value;
	size_t len;
} rt[] = {
	{ "sender", "a@b.c", 5 },
	{ "empty", "", 0 },
	{ "nul", "a\0b\0", 4 },
	{ "crlf", "line1\r\nline2\n\r", 14 },
	{ "binary", "\xff\x00\x01,=:\x80", 7 },
	{ "commas", ",,,===:::", 9 },
	{ "digits", "12:x=y,", 7 },
	{ "abcdefghijklmnopqrstuvwxyz012345", "32-byte name", 12 },
	{ "_", "x", 1 },
	{ "sender", "second", 6 },
};

START_TEST(test_round_trip)
{
	struct strbuf sb = STRBUF_INIT(4096);
	struct attr_list l = { 0 };
	const char *why;
	char *buf;
	size_t i, n = sizeof(rt) / sizeof(rt[0]);

	for (i = 0; i < n; i++)
		ck_assert_int_eq(attr_put(&sb, rt[i].name, rt[i].value,
		    rt[i].len), 0);
	ck_assert_int_eq(decode_copy(sb.s, sb.len, &l, 100, &why, &buf), 0);
	ck_assert_uint_eq(l.n, n);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(l.v[i].name, rt[i].name);
		ck_assert_uint_eq(l.v[i].len, rt[i].len);
		ck_assert(memcmp(l.v[i].value, rt[i].value, rt[i].len) == 0);
		ck_assert_int_eq(l.v[i].value[l.v[i].len], '\0');
	}
	ck_assert_str_eq(attr_find(&l, "sender")->value, "a@b.c");
	ck_assert_uint_eq(attr_count(&l, "sender"), 2);
	ck_assert_uint_eq(attr_count(&l, "nope"), 0);
	ck_assert_ptr_null(attr_find(&l, "nope"));
	attr_list_release(&l);
	ck_assert_ptr_null(l.v);
	free(buf);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_empty_input)
{
	struct attr_list l = { 0 };
	const char *why = NULL;
	char c = 'x';

	ck_assert_int_eq(attr_decode(&c, 0, &l, 0, &why), 0);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_int_eq(attr_decode(&c, 0, &l, 10, &why), 0);
	ck_assert_uint_eq(l.n, 0);
	attr_list_release(&l);
}
END_TEST

/* Names attr_put must refuse without touching the buffer. */
static const char *bad_names[] = {
	"", "A", "a-b", "a b", "a=b", "é", "abcdefghijklmnopqrstuvwxyz0123456",
	"a\n",
};

START_TEST(test_put_bad_name)
{
	struct strbuf sb = STRBUF_INIT(1024);

	strbuf_appends(&sb, "keep");
	ck_assert_int_eq(attr_put_str(&sb, bad_names[_i], "v"), -1);
	ck_assert(!strbuf_ok(&sb));
	ck_assert_str_eq(strbuf_str(&sb), "keep");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_put_limit)
{
	struct strbuf sb = STRBUF_INIT(10);

	ck_assert_int_eq(attr_put_str(&sb, "a", "12345"), 0);	/* 9 bytes */
	ck_assert_int_eq(attr_put_str(&sb, "b", ""), -1);	/* 5 more */
	ck_assert(!strbuf_ok(&sb));
	ck_assert_str_eq(strbuf_str(&sb), "7:a=12345,");
	ck_assert_uint_eq(sb.len, 10);
	strbuf_release(&sb);
}
END_TEST

/* Malformed records: each must be refused whole. */
static const struct {
	const char *in;
	size_t len;		/* 0: strlen */
} bad[] = {
	{ "03:a=b,", 0 },			/* leading zero */
	{ "00:,", 0 },
	{ "0:,", 0 },				/* empty body: no '=' */
	{ "0000000003:a=b,", 0 },		/* leading zeros, 10 digits */
	{ "1000000000:a=b,", 0 },		/* 10 digits */
	{ "999999999:a=b,", 0 },		/* length past the end */
	{ "4:a=b,", 0 },			/* length past the ',' */
	{ "9:a=b,", 0 },
	{ "2:a=b,", 0 },			/* ',' not where it should be */
	{ "3:a=b", 0 },				/* missing ',' at the end */
	{ "3:a=b;", 0 },			/* wrong terminator */
	{ "3:a=b,,", 0 },			/* trailing junk */
	{ "3:a=b,x", 0 },
	{ "3:a=b,3", 0 },			/* truncated next length */
	{ "3:a=b,3:", 0 },
	{ "3a=b,", 0 },				/* missing ':' */
	{ "3;a=b,", 0 },
	{ "3 :a=b,", 0 },
	{ ":a=b,", 0 },				/* missing length */
	{ " 3:a=b,", 0 },
	{ "+3:a=b,", 0 },
	{ "-3:a=b,", 0 },
	{ "3:abc,", 0 },			/* no '=' */
	{ "2:=b,", 0 },				/* empty name */
	{ "1:=,", 0 },
	{ "3:A=b,", 0 },			/* bad name characters */
	{ "4:a-=b,", 0 },
	{ "4:a b=,", 0 },
	{ "4:\xc3\xa9=b,", 0 },
	{ "3:\0=b,", 6 },
	{ "35:abcdefghijklmnopqrstuvwxyz0123456=b,", 0 }, /* 33-byte name */
	{ ",", 0 },
	{ ":", 0 },
	{ "3", 0 },
	{ "\0", 1 },
};

START_TEST(test_decode_bad)
{
	struct attr_list l = { 0 };
	size_t len = bad[_i].len ? bad[_i].len : strlen(bad[_i].in);
	const char *why;
	char *buf;

	ck_assert_msg(decode_copy(bad[_i].in, len, &l, 100, &why, &buf) == -1,
	    "accepted bad record #%d", _i);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(l.n, 0);
	attr_list_release(&l);
	free(buf);
}
END_TEST

/* Boundary of the name length: 32 bytes decode, 33 do not. */
START_TEST(test_decode_name_32)
{
	static const char ok[] = "34:abcdefghijklmnopqrstuvwxyz012345=b,";
	struct attr_list l = { 0 };
	const char *why;
	char *buf;

	ck_assert_int_eq(decode_copy(ok, strlen(ok), &l, 1, &why, &buf), 0);
	ck_assert_uint_eq(strlen(l.v[0].name), 32);
	attr_list_release(&l);
	free(buf);
}
END_TEST

/* expected_boundary - the number of whole attributes in a prefix of len
   bytes of the record built by rt[], or -1 if len is not a boundary */
static int expected_boundary(const struct strbuf *sb, size_t len)
{
	struct strbuf one = STRBUF_INIT(4096);
	size_t i, at = 0;
	int r = len == 0 ? 0 : -1;

	for (i = 0; i < sizeof(rt) / sizeof(rt[0]) && r < 0; i++) {
		strbuf_reset(&one);
		attr_put(&one, rt[i].name, rt[i].value, rt[i].len);
		at += one.len;
		if (at == len)
			r = (int)i + 1;
	}
	ck_assert_uint_le(at, sb->len);
	strbuf_release(&one);
	return r;
}

START_TEST(test_decode_truncated)
{
	struct strbuf sb = STRBUF_INIT(4096);
	struct attr_list l = { 0 };
	const char *why;
	char *buf;
	size_t i, len;
	int want, rc;

	for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++)
		attr_put(&sb, rt[i].name, rt[i].value, rt[i].len);
	for (len = 0; len < sb.len; len++) {
		rc = decode_copy(sb.s, len, &l, 100, &why, &buf);
		want = expected_boundary(&sb, len);
		if (want < 0) {
			ck_assert_msg(rc == -1, "prefix %zu accepted", len);
			ck_assert_uint_eq(l.n, 0);
		} else {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(l.n, (size_t)want);
		}
		free(buf);
	}
	attr_list_release(&l);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_decode_max)
{
	struct strbuf sb = STRBUF_INIT(1 << 20);
	struct attr_list l = { 0 };
	const char *why;
	char *buf;
	size_t i, n = 5000;

	for (i = 0; i < n; i++)
		attr_put_u64(&sb, "k", i);
	ck_assert_int_eq(decode_copy(sb.s, sb.len, &l, n, &why, &buf), 0);
	ck_assert_uint_eq(l.n, n);
	ck_assert_str_eq(l.v[n - 1].value, "4999");
	free(buf);
	ck_assert_int_eq(decode_copy(sb.s, sb.len, &l, n - 1, &why, &buf), -1);
	ck_assert_str_eq(why, "too many attributes");
	ck_assert_uint_eq(l.n, 0);
	free(buf);
	ck_assert_int_eq(decode_copy("3:a=b,", 6, &l, 0, &why, &buf), -1);
	free(buf);
	attr_list_release(&l);
	strbuf_release(&sb);
}
END_TEST

/* The list is reset by each decode; a list can be reused. */
START_TEST(test_decode_reuse)
{
	struct attr_list l = { 0 };
	const char *why;
	char *b1, *b2;

	ck_assert_int_eq(decode_copy("3:a=1,3:b=2,", 12, &l, 9, &why, &b1), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(decode_copy("3:c=3,", 6, &l, 9, &why, &b2), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].name, "c");
	attr_list_release(&l);
	free(b1);
	free(b2);
}
END_TEST

static const struct {
	const char *v;
	size_t len;		/* 0: strlen */
	int ok;
	uint64_t want;
} u64s[] = {
	{ "0", 0, 1, 0 },
	{ "1", 0, 1, 1 },
	{ "10", 0, 1, 10 },
	{ "18446744073709551615", 0, 1, UINT64_MAX },
	{ "18446744073709551616", 0, 0, 0 },
	{ "18446744073709551620", 0, 0, 0 },
	{ "99999999999999999999", 0, 0, 0 },
	{ "184467440737095516150", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "00", 0, 0, 0 },
	{ "01", 0, 0, 0 },
	{ "+1", 0, 0, 0 },
	{ "-1", 0, 0, 0 },
	{ " 1", 0, 0, 0 },
	{ "1 ", 0, 0, 0 },
	{ "1a", 0, 0, 0 },
	{ "0x10", 0, 0, 0 },
	{ "1\0", 2, 0, 0 },
	{ "1\n", 0, 0, 0 },
};

START_TEST(test_u64)
{
	struct attr a = { "n", u64s[_i].v, 0 };
	uint64_t v = 12345;

	a.len = u64s[_i].len ? u64s[_i].len : strlen(u64s[_i].v);
	if (u64s[_i].ok) {
		ck_assert_int_eq(attr_u64(&a, &v), 0);
		ck_assert_uint_eq(v, u64s[_i].want);
	} else {
		ck_assert_msg(attr_u64(&a, &v) == -1, "accepted \"%s\"",
		    u64s[_i].v);
		ck_assert_uint_eq(v, 12345);
	}
}
END_TEST

static const struct {
	const char *v;
	int ok;
	int64_t want;
} i64s[] = {
	{ "0", 1, 0 },
	{ "-1", 1, -1 },
	{ "42", 1, 42 },
	{ "9223372036854775807", 1, INT64_MAX },
	{ "-9223372036854775808", 1, INT64_MIN },
	{ "9223372036854775808", 0, 0 },
	{ "-9223372036854775809", 0, 0 },
	{ "18446744073709551615", 0, 0 },
	{ "-18446744073709551616", 0, 0 },
	{ "-0", 0, 0 },
	{ "-", 0, 0 },
	{ "--1", 0, 0 },
	{ "-01", 0, 0 },
	{ "01", 0, 0 },
	{ "+1", 0, 0 },
	{ "", 0, 0 },
	{ "1-", 0, 0 },
	{ "- 1", 0, 0 },
};

START_TEST(test_i64)
{
	struct attr a = { "n", i64s[_i].v, strlen(i64s[_i].v) };
	int64_t v = 12345;

	if (i64s[_i].ok) {
		ck_assert_int_eq(attr_i64(&a, &v), 0);
		ck_assert(v == i64s[_i].want);
	} else {
		ck_assert_msg(attr_i64(&a, &v) == -1, "accepted \"%s\"",
		    i64s[_i].v);
		ck_assert(v == 12345);
	}
}
END_TEST

/* Numbers written by attr_put_* read back through attr_u64/attr_i64. */
START_TEST(test_number_round_trip)
{
	static const int64_t iv[] = { 0, 1, -1, INT64_MAX, INT64_MIN, 1000 };
	struct strbuf sb = STRBUF_INIT(1024);
	struct attr_list l = { 0 };
	const char *why;
	uint64_t u;
	int64_t s;
	size_t i;

	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		attr_put_i64(&sb, "s", iv[i]);
		attr_put_u64(&sb, "u", (uint64_t)iv[i]);
	}
	ck_assert_int_eq(attr_decode(sb.s, sb.len, &l, 100, &why), 0);
	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		ck_assert_int_eq(attr_i64(&l.v[2 * i], &s), 0);
		ck_assert(s == iv[i]);
		ck_assert_int_eq(attr_u64(&l.v[2 * i + 1], &u), 0);
		ck_assert(u == (uint64_t)iv[i]);
	}
	attr_list_release(&l);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_cstr)
{
	struct attr a = { "n", "hello", 5 };
	struct attr z = { "n", "he\0lo", 5 };
	struct attr e = { "n", "", 0 };

	ck_assert_str_eq(attr_cstr(&a, 5), "hello");
	ck_assert_str_eq(attr_cstr(&a, 100), "hello");
	ck_assert_ptr_null(attr_cstr(&a, 4));
	ck_assert_ptr_null(attr_cstr(&z, 100));
	ck_assert_str_eq(attr_cstr(&e, 0), "");
}
END_TEST

static const struct attr_spec spec[] = {
	{ "id", ATTR_REQUIRED | ATTR_NUMBER, 20 },
	{ "rcpt", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 16 },
	{ "reply", ATTR_TEXT | ATTR_LINES, 64 },
	{ "note", ATTR_TEXT, 8 },
	{ "blob", 0, 4 },
};

/* Each case: "name=value" pairs (value up to the end of the string),
   whether unknown names are allowed, and the offending name (NULL when
   the record must pass). */
static const struct {
	const char *kv[6];
	int unknown_ok;
	const char *bad;
} checks[] = {
	{ { "id=1", "rcpt=a@b" }, 0, NULL },
	{ { "rcpt=a@b", "id=0", "rcpt=c@d", "note=\tok" }, 0, NULL },
	{ { "id=1", "rcpt=a@b", "reply=250 ok\r\n250 done" }, 0, NULL },
	{ { "id=1", "rcpt=a@b", "blob=\x01\x02\x7f" }, 0, NULL },
	{ { "id=1", "rcpt=a@b", "extra=1" }, 1, NULL },
	{ { "id=1", "rcpt=a@b", "note=12345678" }, 0, NULL },
	{ { "rcpt=a@b" }, 0, "id" },			/* required */
	{ { "id=1" }, 0, "rcpt" },
	{ { NULL }, 1, "id" },
	{ { "id=1", "id=2", "rcpt=a@b" }, 0, "id" },	/* repeated */
	{ { "id=1", "rcpt=a@b", "note=x", "note=y" }, 0, "note" },
	{ { "id=1", "rcpt=a@b", "extra=1" }, 0, "extra" }, /* unknown */
	{ { "id=01", "rcpt=a@b" }, 0, "id" },		/* number */
	{ { "id=-1", "rcpt=a@b" }, 0, "id" },
	{ { "id=", "rcpt=a@b" }, 0, "id" },
	{ { "id=18446744073709551616", "rcpt=a@b" }, 0, "id" },
	{ { "id=123456789012345678901", "rcpt=a@b" }, 0, "id" }, /* maxlen */
	{ { "id=1", "rcpt=a@b", "note=123456789" }, 0, "note" },
	{ { "id=1", "rcpt=aaaaaaaaaaaaaaaaa" }, 0, "rcpt" },
	{ { "id=1", "rcpt=a@b", "blob=12345" }, 0, "blob" },
	{ { "id=1", "rcpt=a@b\n" }, 0, "rcpt" },	/* text */
	{ { "id=1", "rcpt=a@b\r" }, 0, "rcpt" },
	{ { "id=1", "rcpt=a\x1b[2J" }, 0, "rcpt" },
	{ { "id=1", "rcpt=a\x7f" }, 0, "rcpt" },
	{ { "id=1", "rcpt=a@b", "reply=250\x1b" }, 0, "reply" },
	{ { "id=1", "rcpt=a@b", "reply=250\x01" }, 0, "reply" },
};

/* build_list - encode the pairs of one case into sb, decode into l */
static void build_list(const char *const kv[6], struct strbuf *sb,
    struct attr_list *l)
{
	const char *why, *eq;
	size_t i;

	for (i = 0; i < 6 && kv[i]; i++) {
		char name[64];

		eq = strchr(kv[i], '=');
		ck_assert_ptr_nonnull(eq);
		ck_assert_uint_lt((size_t)(eq - kv[i]), sizeof(name));
		memcpy(name, kv[i], (size_t)(eq - kv[i]));
		name[eq - kv[i]] = '\0';
		ck_assert_int_eq(attr_put_str(sb, name, eq + 1), 0);
	}
	ck_assert_int_eq(attr_decode(sb->s, sb->len, l, 100, &why), 0);
}

START_TEST(test_check_table)
{
	struct strbuf sb = STRBUF_INIT(4096);
	struct attr_list l = { 0 };
	const char *why = NULL, *name = NULL;
	int rc;

	build_list(checks[_i].kv, &sb, &l);
	rc = attr_check(&l, spec, sizeof(spec) / sizeof(spec[0]),
	    checks[_i].unknown_ok, &why, &name);
	if (checks[_i].bad == NULL) {
		ck_assert_msg(rc == 0, "case %d refused: %s %s", _i, why,
		    name);
	} else {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(why);
		ck_assert_str_eq(name, checks[_i].bad);
	}
	attr_list_release(&l);
	strbuf_release(&sb);
}
END_TEST

/* A NUL byte inside a text value is refused; name_r may be NULL. */
START_TEST(test_check_nul)
{
	struct strbuf sb = STRBUF_INIT(4096);
	struct attr_list l = { 0 };
	const char *why = NULL, *name = NULL;

	attr_put_str(&sb, "id", "7");
	attr_put(&sb, "rcpt", "a\0b", 3);
	ck_assert_int_eq(attr_decode(sb.s, sb.len, &l, 100, &why), 0);
	ck_assert_int_eq(attr_check(&l, spec, 5, 0, &why, &name), -1);
	ck_assert_str_eq(name, "rcpt");
	ck_assert_int_eq(attr_check(&l, spec, 5, 0, &why, NULL), -1);
	attr_list_release(&l);
	strbuf_release(&sb);
}
END_TEST

/* attr_suite - the tests, grouped */
static Suite *attr_suite(void)
{
	Suite *s = suite_create("attr");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_encode_exact);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_empty_input);
	tcase_add_loop_test(tc, test_put_bad_name, 0,
	    sizeof(bad_names) / sizeof(bad_names[0]));
	tcase_add_test(tc, test_put_limit);
	tcase_add_loop_test(tc, test_decode_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_decode_name_32);
	tcase_add_test(tc, test_decode_truncated);
	tcase_add_test(tc, test_decode_max);
	tcase_add_test(tc, test_decode_reuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_u64, 0, sizeof(u64s) / sizeof(u64s[0]));
	tcase_add_loop_test(tc, test_i64, 0, sizeof(i64s) / sizeof(i64s[0]));
	tcase_add_test(tc, test_number_round_trip);
	tcase_add_test(tc, test_cstr);
	suite_add_tcase(s, tc);
	tc = tcase_create("check");
	tcase_add_loop_test(tc, test_check_table, 0,
	    sizeof(checks) / sizeof(checks[0]));
	tcase_add_test(tc, test_check_nul);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(attr_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
