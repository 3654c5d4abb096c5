/*
 * check_maps - unit tests of common/maps.c.
 *
 * Each test writes a "key  value" file into its own mkdtemp() directory
 * and loads it with map_load(), as the queue manager does. Tables cover
 * the syntax (comments, blanks, lower-casing), the errors (file, line and
 * reason), the bounds, the missing-file flag and map_changed().
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps.h"
#include "strbuf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TDIR_TEMPLATE "/tmp/check_maps.XXXXXX"

static char tdir[sizeof(TDIR_TEMPLATE)];
static char path[256];
static char err[1024];

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *p, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	strlcpy(tdir, TDIR_TEMPLATE, sizeof(tdir));
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(path, sizeof(path), "%s/virtual", tdir);
}

static void teardown(void)
{
	nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* write_file_n - the map file, n bytes of text, replaced atomically */
static void write_file_n(const char *text, size_t n)
{
	char tmp[300];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	ck_assert_ptr_nonnull(fp = fopen(tmp, "w"));
	ck_assert_uint_eq(fwrite(text, 1, n, fp), n);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static void write_file(const char *text)
{
	write_file_n(text, strlen(text));
}

/* load_ok - load text, which must be good */
static struct map *load_ok(const char *text, unsigned flags)
{
	struct map *m = NULL;

	write_file(text);
	ck_assert_msg(map_load(&m, path, flags, err, sizeof(err)) == 0,
	    "map_load: %s", err);
	ck_assert_ptr_nonnull(m);
	return m;
}

/* expect_error - the load that returned r failed at line with want in
   the message and left *mp NULL (a pointer: the call is evaluated first) */
static void expect_error(int r, struct map *const *mp, unsigned line,
    const char *want)
{
	char prefix[300];

	ck_assert_int_eq(r, -1);
	ck_assert_ptr_null(*mp);
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "error '%s' does not start with '%s'", err, prefix);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'",
	    err, want);
}

static const struct good {
	const char *text;
	unsigned flags;
	const char *key, *value;	/* value NULL: not found */
	size_t count;
} goods[] = {
	{ "a@example.org  example.org/a/\n", 0, "a@example.org",
	    "example.org/a/", 1 },
	{ "a\tb\n", 0, "a", "b", 1 },
	{ "# comment\n\n  # indented\na b\n", 0, "a", "b", 1 },
	{ "  a   b  \n", 0, "a", "b", 1 },
	{ "a b c\n", 0, "a", "b c", 1 },
	{ "a b\r\n", 0, "a", "b", 1 },
	{ "a b", 0, "a", "b", 1 },
	{ "A B\n", 0, "A", "B", 1 },
	{ "A B\n", 0, "a", NULL, 1 },
	{ "A B\n", MAP_LOWER_KEYS, "a", "B", 1 },
	{ "A B\n", MAP_LOWER_KEYS, "A", "B", 1 },
	{ "Bob@Example.ORG x\n", MAP_LOWER_KEYS, "bob@example.org", "x", 1 },
	{ "Bob@Example.ORG x\n", MAP_LOWER_KEYS, "BOB@EXAMPLE.ORG", "x", 1 },
	{ "a 1\nb 2\nc 3\n", 0, "b", "2", 3 },
	{ "a 1\nb 2\nc 3\n", 0, "d", NULL, 3 },
	{ "a 1\nb 2\nc 3\n", 0, "", NULL, 3 },
	{ "ab 1\na 2\nabc 3\n", 0, "a", "2", 3 },
	{ "ab 1\na 2\nabc 3\n", 0, "ab", "1", 3 },
	{ "a b # not a comment\n", 0, "a", "b # not a comment", 1 },
	{ "", 0, "a", NULL, 0 },
	{ "\xc3\x89t\xc3\xa9 x\n", MAP_LOWER_KEYS, "\xc3\x89t\xc3\xa9", "x",
	    1 },
};

START_TEST(test_good)
{
	const struct good *g = &goods[_i];
	struct map *m = load_ok(g->text, g->flags);
	const char *v = map_lookup(m, g->key);

	ck_assert_uint_eq(map_count(m), g->count);
	if (g->value)
		ck_assert_msg(v && strcmp(v, g->value) == 0, "'%s' -> '%s'",
		    g->key, v ? v : "(null)");
	else
		ck_assert_ptr_null(v);
	map_free(&m);
	ck_assert_ptr_null(m);
}
END_TEST

static const struct bad {
	const char *text;
	unsigned flags;
	unsigned line;
	const char *want;
} bads[] = {
	{ "a b\nc\n", 0, 2, "key 'c' has no value" },
	{ "a b\nc   \n", 0, 2, "key 'c' has no value" },
	{ "a 1\nb 2\na 3\n", 0, 3, "key 'a' repeated (first on line 1)" },
	{ "x 1\ny 2\ny 3\nx 4\n", 0, 3, "key 'y' repeated (first on line 2)" },
	{ "A 1\na 2\n", MAP_LOWER_KEYS, 2,
	    "key 'a' repeated (first on line 1)" },
	{ "a b\nc d\x01\n", 0, 2, "control character 0x01" },
	{ "# x\n\x7f y\n", 0, 2, "control character 0x7f" },
	{ "a b\rc\n", 0, 1, "control character 0x0d" },
	{ "a b\r\r\n", 0, 1, "control character 0x0d" },
};

START_TEST(test_bad)
{
	const struct bad *b = &bads[_i];
	struct map *m = (struct map *)1;

	write_file(b->text);
	expect_error(map_load(&m, path, b->flags, err, sizeof(err)), &m,
	    b->line, b->want);
}
END_TEST

START_TEST(test_case_kept)
{
	struct map *m = load_ok("A 1\na 2\n", 0);

	ck_assert_str_eq(map_lookup(m, "A"), "1");
	ck_assert_str_eq(map_lookup(m, "a"), "2");
	map_free(&m);
}
END_TEST

START_TEST(test_nul_byte)
{
	struct map *m = (struct map *)1;

	write_file_n("a b\0c\n", 6);
	expect_error(map_load(&m, path, 0, err, sizeof(err)), &m, 1,
	    "control character 0x00");
}
END_TEST

START_TEST(test_long_line)
{
	struct strbuf sb = STRBUF_INIT(3 * MAP_LINE_MAX);
	struct map *m;
	size_t i;

	/* A line of MAP_LINE_MAX bytes is fine, one more is not. */
	strbuf_appends(&sb, "k ");
	for (i = 2; i < MAP_LINE_MAX; i++)
		strbuf_appendc(&sb, 'v');
	m = load_ok(strbuf_str(&sb), 0);
	ck_assert_uint_eq(strlen(map_lookup(m, "k")), MAP_LINE_MAX - 2);
	map_free(&m);
	strbuf_appends(&sb, "\r\n");
	m = load_ok(strbuf_str(&sb), 0);
	ck_assert_uint_eq(strlen(map_lookup(m, "k")), MAP_LINE_MAX - 2);
	map_free(&m);
	strbuf_truncate(&sb, 0);
	strbuf_appends(&sb, "x y\nk ");
	for (i = 2; i <= MAP_LINE_MAX; i++)
		strbuf_appendc(&sb, 'v');
	strbuf_appendc(&sb, '\n');
	write_file(strbuf_str(&sb));
	m = (struct map *)1;
	expect_error(map_load(&m, path, 0, err, sizeof(err)), &m, 2,
	    "line longer than 4096 bytes");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_many)
{
	struct strbuf sb = STRBUF_INIT(8 << 20);
	char key[32], want[32];
	struct map *m;
	int i;

	/* Written in descending order, so the sort has work to do. */
	for (i = 100000; i-- > 0; )
		strbuf_appendf(&sb, "User%d@Example.org  dir%d/\n", i, i);
	ck_assert(strbuf_ok(&sb));
	m = load_ok(strbuf_str(&sb), MAP_LOWER_KEYS);
	ck_assert_uint_eq(map_count(m), 100000);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "user%d@example.org", i);
		snprintf(want, sizeof(want), "dir%d/", i);
		ck_assert_str_eq(map_lookup(m, key), want);
	}
	ck_assert_ptr_null(map_lookup(m, "user100000@example.org"));
	map_free(&m);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_too_many)
{
	struct strbuf sb = STRBUF_INIT(32 << 20);
	struct map *m = (struct map *)1;
	int i;

	for (i = 0; i <= MAP_ENTRIES_MAX; i++)
		strbuf_appendf(&sb, "%x b\n", i);
	ck_assert(strbuf_ok(&sb));
	write_file_n(strbuf_str(&sb), sb.len);
	expect_error(map_load(&m, path, 0, err, sizeof(err)), &m,
	    MAP_ENTRIES_MAX + 1, "more than 1000000 entries");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_missing)
{
	struct map *m = (struct map *)1;

	expect_error(map_load(&m, path, 0, err, sizeof(err)), &m, 0,
	    "No such file");
	ck_assert_int_eq(map_load(&m, path, MAP_MISSING_OK, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(map_count(m), 0);
	ck_assert_ptr_null(map_lookup(m, "a"));
	ck_assert_int_eq(map_changed(m), 0);
	/* The file appears: changed. */
	write_file("a b\n");
	ck_assert_int_eq(map_changed(m), 1);
	map_free(&m);
}
END_TEST

START_TEST(test_no_path)
{
	struct map *m;

	ck_assert_int_eq(map_load(&m, "", 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(map_count(m), 0);
	ck_assert_ptr_null(map_lookup(m, "a"));
	ck_assert_int_eq(map_changed(m), 0);
	map_free(&m);
	ck_assert_int_eq(map_load(&m, NULL, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(map_changed(m), 0);
	map_free(&m);
	map_free(&m);
}
END_TEST

START_TEST(test_unreadable)
{
	struct map *m = (struct map *)1;

	/* A directory opens but cannot be read. */
	snprintf(path, sizeof(path), "%s", tdir);
	expect_error(map_load(&m, path, MAP_MISSING_OK, err, sizeof(err)), &m,
	    0, "read error");
}
END_TEST

START_TEST(test_changed)
{
	struct map *m = load_ok("a 1\n", 0);
	struct map *m2;

	ck_assert_int_eq(map_changed(m), 0);
	/* Replaced by rename: another inode. */
	write_file("a 2\n");
	ck_assert_int_eq(map_changed(m), 1);
	ck_assert_int_eq(map_load(&m2, path, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(map_changed(m2), 0);
	ck_assert_str_eq(map_lookup(m2, "a"), "2");
	/* Removed: changed too. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(map_changed(m2), 1);
	map_free(&m);
	map_free(&m2);
}
END_TEST

START_TEST(test_changed_in_place)
{
	struct map *m = load_ok("a 1\n", 0);
	FILE *fp;

	/* Appended to in place: same inode, another size and mtime. */
	ck_assert_ptr_nonnull(fp = fopen(path, "a"));
	fputs("b 2\n", fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(map_changed(m), 1);
	map_free(&m);
}
END_TEST

static Suite *maps_suite(void)
{
	Suite *s = suite_create("maps");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_good, 0, ARRAY_LEN(goods));
	tcase_add_loop_test(tc, test_bad, 0, ARRAY_LEN(bads));
	tcase_add_test(tc, test_case_kept);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_too_many);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_no_path);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_changed);
	tcase_add_test(tc, test_changed_in_place);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(maps_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
