/*
 * check_aliases - unit tests of common/aliases.c.
 *
 * Each test gets its own mkdtemp() directory holding "aliases" and, once
 * compiled, "aliases.lmdb". The parser is tested through round trips, as
 * postern-newaliases and the queue manager use it: write a source,
 * aliases_compile() it, aliases_open() the map and look names up. Bad
 * sources must fail with "FILE:LINE: reason" and leave any old map alone.
 * aliases_split() and aliases_split_file() are table-driven: each target
 * is rendered as "K:text;" with K one of A(ddress), P(ipe), F(ile),
 * I(nclude). Faults in the durability calls are armed with
 * fsio_fault_set(); Check runs each test in its own process.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aliases.h"
#include "fsio.h"
#include "strbuf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TDIR_TEMPLATE "/tmp/check_aliases.XXXXXX"

static char tdir[sizeof(TDIR_TEMPLATE)];
static char src[256], map[256];
static char err[1024];

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	fsio_fault_clear();
	strlcpy(tdir, TDIR_TEMPLATE, sizeof(tdir));
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(src, sizeof(src), "%s/aliases", tdir);
	snprintf(map, sizeof(map), "%s/aliases%s", tdir, ALIASES_MAP_SUFFIX);
}

static void teardown(void)
{
	nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* write_src_n - the source file, n bytes of text */
static void write_src_n(const char *text, size_t n)
{
	FILE *fp = fopen(src, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, n, fp), n);
	ck_assert_int_eq(fclose(fp), 0);
}

static void write_src(const char *text)
{
	write_src_n(text, strlen(text));
}

/* compile_ok - compile text, which must be good; the number of aliases */
static int compile_ok(const char *text)
{
	int n;

	write_src(text);
	n = aliases_compile(src, map, err, sizeof(err));
	ck_assert_msg(n >= 0, "aliases_compile failed: %s", err);
	return n;
}

/* expect_error - r is status and err reads "SRC:LINE: ...want..." */
static void expect_error(int r, int status, unsigned line, const char *want)
{
	char prefix[300];

	ck_assert_msg(r == status, "want status %d, got %d (%s)", status, r,
	    err);
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", src, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", src);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "error '%s' does not start with '%s'", err, prefix);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'",
	    err, want);
}

/* tmp_files - how many "*.tmp.*" files the test directory holds */
static int tmp_files(void)
{
	DIR *d = opendir(tdir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp.") != NULL)
			n++;
	closedir(d);
	return n;
}

/* dir_files - how many files the test directory holds */
static int dir_files(void)
{
	DIR *d = opendir(tdir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* lookup - the value of name in the map (NULL: not found), in buf */
static const char *lookup(const char *name, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(ALIASES_VALUE_MAX);
	struct aliases *a;
	int r;

	ck_assert_msg(aliases_open(&a, map, err, sizeof(err)) == 0,
	    "aliases_open: %s", err);
	r = aliases_lookup(a, name, &sb);
	ck_assert_msg(r >= 0, "aliases_lookup: %s", aliases_error(a));
	if (r == 1)
		ck_assert_uint_lt(strlcpy(buf, strbuf_str(&sb), size), size);
	strbuf_release(&sb);
	aliases_close(&a);
	ck_assert_ptr_null(a);
	return r == 1 ? buf : NULL;
}

/*
 * Good sources: the value stored under name.
 */
static const struct good {
	const char *text, *name, *value;
	int count;
} goods[] = {
	{ "a: b\n", "a", "b", 1 },
	{ "# comment\n\nA: B\n", "a", "B", 1 },
	{ "  # indented comment\nx: y\n", "x", "y", 1 },
	{ "a: b,\n  c,\n\td\n", "a", "b, c, d", 1 },
	{ "a: b,\n# between\n\n  c\n", "a", "b, c", 1 },
	{ "a:\n  b\n", "a", "b", 1 },
	{ "\"a b\": c\n", "a b", "c", 1 },
	{ "\"A B\": c\n", "a b", "c", 1 },
	{ "\"x:y\": z\n", "x:y", "z", 1 },
	{ "\"a\\\"b\": c\n", "a\"b", "c", 1 },
	{ "a: \"|/usr/bin/foo -x\"\n", "a", "\"|/usr/bin/foo -x\"", 1 },
	{ "a: |/usr/bin/foo\n", "a", "|/usr/bin/foo", 1 },
	{ "a: :include:/etc/x\n", "a", ":include:/etc/x", 1 },
	{ "a: /var/mail/a\n", "a", "/var/mail/a", 1 },
	{ "a  : b\n", "a", "b", 1 },
	{ "a: b \r\n", "a", "b", 1 },
	{ "a: b", "a", "b", 1 },
	{ "PostMaster: root\n", "POSTMASTER", "root", 1 },
	{ "a: b\nc: d\ne: f\n", "c", "d", 3 },
	{ "a:b,c\n", "a", "b,c", 1 },
	{ "a: b,,c,\n", "a", "b,,c,", 1 },
	{ "owner-list: x@example.org\n", "owner-list", "x@example.org", 1 },
	{ "a: \"john doe\"@example.org\n", "a", "\"john doe\"@example.org",
	    1 },
	{ "\xc3\xa9t\xc3\xa9: b\n", "\xc3\xa9t\xc3\xa9", "b", 1 },
};

START_TEST(test_good)
{
	const struct good *g = &goods[_i];
	char buf[256];

	ck_assert_int_eq(compile_ok(g->text), g->count);
	ck_assert_str_eq(lookup(g->name, buf, sizeof(buf)), g->value);
	ck_assert_int_eq(tmp_files(), 0);
}
END_TEST

/*
 * Bad sources: the line and reason of the error.
 */
static const struct bad {
	const char *text;
	unsigned line;
	const char *want;
} bads[] = {
	{ "a: b\nb: c\na: d\n", 3, "alias 'a' repeated (first on line 1)" },
	{ "x: 1\ny: 2\ny: 3\nx: 4\n", 3,
	    "alias 'y' repeated (first on line 2)" },
	{ "A: 1\n\"a\": 2\n", 2, "alias 'a' repeated (first on line 1)" },
	{ ": b\n", 1, "empty name" },
	{ "\"\": b\n", 1, "empty name" },
	{ "a b\n", 1, "missing ':' after the name 'a'" },
	{ "ab\n", 1, "missing ':'" },
	{ "a: b\nc\n", 2, "missing ':'" },
	{ "  a: b\n", 1, "continuation line with nothing to continue" },
	{ "# x\n\tb\n", 2, "continuation line with nothing to continue" },
	{ "a:\n", 1, "alias 'a' has no targets" },
	{ "a: , ,\n", 1, "alias 'a' has no targets" },
	{ "a: b, \"c\n", 1, "unbalanced double quote" },
	{ "a: b,\n  \"c\n", 1, "unbalanced double quote" },
	{ "\"a: b\n", 1, "unbalanced double quote in the name" },
	{ "ab\"c: d\n", 1, "double quote inside an unquoted name" },
	{ "a: |\n", 1, "'|' without a command" },
	{ "a: :include:etc/x\n", 1, ":include: without an absolute path" },
	{ "a: b c\n", 1, "blank outside quotes" },
	{ "a: b # comment\n", 1, "blank outside quotes" },
	{ "a: b\nc: d\x01\n", 2, "control character 0x01" },
	{ "a: \"\"\n", 1, "empty quoted target" },
	{ "a: b\rc\n", 1, "control character 0x0d" },
	{ "a: \"|x\ry\"\r\n", 1, "control character 0x0d" },
};

START_TEST(test_bad)
{
	const struct bad *b = &bads[_i];

	write_src(b->text);
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, b->line, b->want);
	ck_assert_int_eq(access(map, F_OK), -1);
	ck_assert_int_eq(tmp_files(), 0);
}
END_TEST

START_TEST(test_nul_byte)
{
	write_src_n("a: b\0c\n", 7);
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, 1, "control character 0x00");
}
END_TEST

/* append_run - n bytes of c and a newline */
static void append_run(struct strbuf *sb, size_t n, int c)
{
	ck_assert_int_eq(strbuf_reserve(sb, n + 1), 0);
	memset(sb->s + sb->len, c, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	strbuf_appendc(sb, '\n');
}

/* long_text - "prefix" followed by n bytes of c and a newline */
static char *long_text(const char *prefix, size_t n, int c)
{
	size_t p = strlen(prefix);
	char *s = malloc(p + n + 2);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, p);
	memset(s + p, c, n);
	s[p + n] = '\n';
	s[p + n + 1] = '\0';
	return s;
}

START_TEST(test_long_line)
{
	char *s = long_text("a: ", ALIASES_LINE_MAX - 3, 'b');
	char *t = long_text("# ok\na: ", ALIASES_LINE_MAX - 2, 'b');
	char *u = long_text("a: ", ALIASES_LINE_MAX - 3, 'b');
	size_t n = strlen(u);

	/* A line of exactly ALIASES_LINE_MAX bytes is fine (with a CRLF end
	   too), one more not. */
	compile_ok(s);
	u[n - 1] = '\r';
	compile_ok(u);
	u[n - 1] = 'c';
	write_src(u);
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, 1, "line longer than 65536 bytes");
	u[n - 1] = '\r';
	u[n - 2] = 'c';
	compile_ok(u);
	free(u);
	write_src(t);
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, 2, "line longer than 65536 bytes");
	free(s);
	free(t);
}
END_TEST

START_TEST(test_long_value)
{
	struct strbuf sb = STRBUF_INIT(4 * ALIASES_VALUE_MAX);
	int i;

	/* Continuation lines joined past ALIASES_VALUE_MAX: named by the
	   entry's first line. */
	strbuf_appends(&sb, "x: y\nbig: a\n");
	for (i = 0; i < 3; i++) {
		strbuf_appends(&sb, "  ");
		append_run(&sb, 30000, 'c');
	}
	ck_assert(strbuf_ok(&sb));
	write_src_n(strbuf_str(&sb), sb.len);
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, 2, "value of 'big' is longer than 65536 bytes");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_long_name)
{
	char *ok = long_text("", ALIASES_NAME_MAX, 'n');
	char *bad = long_text("", ALIASES_NAME_MAX + 1, 'n');
	struct strbuf sb = STRBUF_INIT(1024);
	char buf[16];

	ok[ALIASES_NAME_MAX] = '\0';
	strbuf_appendf(&sb, "%s: v\n", ok);
	compile_ok(strbuf_str(&sb));
	ck_assert_str_eq(lookup(ok, buf, sizeof(buf)), "v");
	bad[ALIASES_NAME_MAX + 1] = '\0';
	ck_assert_ptr_null(lookup(bad, buf, sizeof(buf)));
	strbuf_reset(&sb);
	strbuf_appendf(&sb, "%s: v\n", bad);
	write_src(strbuf_str(&sb));
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, 1, "name longer than 255 bytes");
	strbuf_release(&sb);
	free(ok);
	free(bad);
}
END_TEST

START_TEST(test_missing_source)
{
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_NOINPUT, 0, "No such file");
}
END_TEST

START_TEST(test_many)
{
	struct strbuf sb = STRBUF_INIT(1 << 20);
	char name[32], want[64];
	struct aliases *a;
	int i;

	for (i = 0; i < 10000; i++)
		strbuf_appendf(&sb, "User%d: target%d@example.org\n", i, i);
	ck_assert(strbuf_ok(&sb));
	write_src_n(strbuf_str(&sb), sb.len);
	ck_assert_int_eq(aliases_compile(src, map, err, sizeof(err)), 10000);
	ck_assert_int_eq(aliases_open(&a, map, err, sizeof(err)), 0);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), i % 2 ? "user%d" : "USER%d", i);
		snprintf(want, sizeof(want), "target%d@example.org", i);
		strbuf_reset(&sb);
		ck_assert_int_eq(aliases_lookup(a, name, &sb), 1);
		ck_assert_str_eq(strbuf_str(&sb), want);
	}
	ck_assert_int_eq(aliases_lookup(a, "user10000", &sb), 0);
	ck_assert_int_eq(aliases_lookup(a, "", &sb), 0);
	aliases_close(&a);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_big_values)
{
	struct strbuf sb = STRBUF_INIT(64 << 20);
	char buf[64];
	size_t len[] = { 100, 1500, 2100, 4000, 4097, 30000, 65000 };
	size_t i, j;

	/* Values around and above LMDB's page size use overflow pages; the
	   map size must still suffice. */
	for (j = 0; j < 40; j++)
		for (i = 0; i < ARRAY_LEN(len); i++) {
			strbuf_appendf(&sb, "n%zu-%zu: ", j, i);
			append_run(&sb, len[i], 'v');
		}
	ck_assert(strbuf_ok(&sb));
	write_src_n(strbuf_str(&sb), sb.len);
	ck_assert_int_eq(aliases_compile(src, map, err, sizeof(err)),
	    (int)(40 * ARRAY_LEN(len)));
	ck_assert_ptr_null(lookup("nothing", buf, sizeof(buf)));
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_tiny_entries)
{
	struct strbuf sb = STRBUF_INIT(8 << 20);
	char buf[16];
	int i;

	for (i = 0; i < 200000; i++)
		strbuf_appendf(&sb, "%x:b\n", i);
	write_src_n(strbuf_str(&sb), sb.len);
	ck_assert_int_eq(aliases_compile(src, map, err, sizeof(err)), 200000);
	ck_assert_str_eq(lookup("1869f", buf, sizeof(buf)), "b");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_too_many)
{
	struct strbuf sb = STRBUF_INIT(64 << 20);
	int i;

	for (i = 0; i <= ALIASES_ENTRIES_MAX; i++)
		strbuf_appendf(&sb, "%x:b\n", i);
	ck_assert(strbuf_ok(&sb));
	write_src_n(strbuf_str(&sb), sb.len);
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, ALIASES_ENTRIES_MAX + 1, "more than 1000000");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_changed)
{
	struct aliases *a;
	struct stat st;

	compile_ok("a: b\n");
	ck_assert_int_eq(aliases_open(&a, map, err, sizeof(err)), 0);
	ck_assert_int_eq(aliases_changed(a), 0);
	compile_ok("a: c\n");
	ck_assert_int_eq(aliases_changed(a), 1);
	aliases_close(&a);
	ck_assert_int_eq(aliases_open(&a, map, err, sizeof(err)), 0);
	ck_assert_int_eq(aliases_changed(a), 0);
	/* A failed compile installs nothing, so nothing changed. */
	write_src("a b\n");
	ck_assert_int_eq(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX);
	ck_assert_int_eq(aliases_changed(a), 0);
	ck_assert_int_eq(stat(map, &st), 0);
	ck_assert_int_eq(unlink(map), 0);
	ck_assert_int_eq(aliases_changed(a), 1);
	aliases_close(&a);
	aliases_close(&a);
}
END_TEST

/* check_old_map - the map is still the one holding a: old */
static void check_old_map(const struct stat *old)
{
	struct stat st;
	char buf[16];

	ck_assert_int_eq(stat(map, &st), 0);
	ck_assert_uint_eq(st.st_ino, old->st_ino);
	ck_assert_str_eq(lookup("a", buf, sizeof(buf)), "old");
	ck_assert_int_eq(tmp_files(), 0);
}

START_TEST(test_failure_keeps_old)
{
	static const struct { enum fsio_op op; unsigned long n; } faults[] = {
		{ FSIO_COMMIT, 1 }, { FSIO_FSYNC, 1 }, { FSIO_RENAME, 1 },
	};
	struct stat old;
	size_t i;

	compile_ok("a: old\n");
	ck_assert_int_eq(stat(map, &old), 0);
	write_src("a: new\nb b\n");
	expect_error(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_SYNTAX, 2, "missing ':'");
	check_old_map(&old);
	write_src("a: new\n");
	for (i = 0; i < ARRAY_LEN(faults); i++) {
		fsio_fault_clear();
		fsio_fault_set(faults[i].op, faults[i].n, EIO, 0);
		ck_assert_int_eq(aliases_compile(src, map, err, sizeof(err)),
		    ALIASES_WRITE);
		ck_assert_msg(strstr(err, "Input/output error") != NULL,
		    "error '%s'", err);
		fsio_fault_clear();
		check_old_map(&old);
	}
}
END_TEST

START_TEST(test_dir_sync_failure)
{
	char buf[16];

	/* The second fsync is the directory's: the new map is in place. */
	write_src("a: new\n");
	fsio_fault_set(FSIO_FSYNC, 2, EIO, 0);
	ck_assert_int_eq(aliases_compile(src, map, err, sizeof(err)),
	    ALIASES_WRITE);
	ck_assert_ptr_nonnull(strstr(err, "is installed"));
	fsio_fault_clear();
	ck_assert_str_eq(lookup("a", buf, sizeof(buf)), "new");
	ck_assert_int_eq(tmp_files(), 0);
}
END_TEST

START_TEST(test_cannot_create)
{
	char bad[300];

	write_src("a: b\n");
	snprintf(bad, sizeof(bad), "%s/no/such/dir/aliases.lmdb", tdir);
	ck_assert_int_eq(aliases_compile(src, bad, err, sizeof(err)),
	    ALIASES_CREATE);
	ck_assert_ptr_nonnull(strstr(err, "cannot create"));
}
END_TEST

START_TEST(test_mode)
{
	struct stat st;
	char buf[16];

	write_src("a: b\n");
	ck_assert_int_eq(chmod(src, 0640), 0);
	ck_assert_int_ge(aliases_compile(src, map, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(map, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(chmod(src, 0644), 0);
	ck_assert_int_ge(aliases_compile(src, map, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(map, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	/* No lock file beside the map, ever: the directory holds the source
	   and the map, nothing else. */
	ck_assert_str_eq(lookup("a", buf, sizeof(buf)), "b");
	ck_assert_int_eq(dir_files(), 2);
}
END_TEST

START_TEST(test_open_errors)
{
	struct aliases *a = (struct aliases *)1;

	ck_assert_int_eq(aliases_open(&a, map, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err, map));
	write_src("not an lmdb file\n");
	ck_assert_int_eq(aliases_open(&a, src, err, sizeof(err)), -1);
	ck_assert_ptr_null(a);
}
END_TEST

/*
 * aliases_split: each target as "K:text;".
 */

static int render(void *ctx, enum alias_target kind, const char *text,
    size_t len)
{
	static const char kinds[] = "APFI";

	strbuf_appendf(ctx, "%c:%.*s;", kinds[kind], (int)len, text);
	return 0;
}

static const struct split {
	const char *in;
	const char *want;	/* NULL: -1 with reason */
	const char *reason;
} splits[] = {
	{ "a", "A:a;", NULL },
	{ "a,b", "A:a;A:b;", NULL },
	{ " a , b ", "A:a;A:b;", NULL },
	{ "a,,b,", "A:a;A:b;", NULL },
	{ "", "", NULL },
	{ ",,,", "", NULL },
	{ "|/bin/cat", "P:/bin/cat;", NULL },
	{ "| /bin/cat", "P:/bin/cat;", NULL },
	{ "\"|/usr/bin/foo -x\"", "P:/usr/bin/foo -x;", NULL },
	{ "\"|/a, b\"", "P:/a, b;", NULL },
	{ "/var/log/x", "F:/var/log/x;", NULL },
	{ "\t\"/path with space\"\t", "F:/path with space;", NULL },
	{ ":include:/etc/x", "I:/etc/x;", NULL },
	{ ":INCLUDE:/etc/x", "I:/etc/x;", NULL },
	{ ":include: /etc/x", "I:/etc/x;", NULL },
	{ "\":include:/etc/a b\"", "I:/etc/a b;", NULL },
	{ "\"john doe\"@example.com", "A:\"john doe\"@example.com;", NULL },
	{ "\"a\\\"b\"", "A:a\"b;", NULL },
	{ "\"a\\\\b\"", "A:a\\b;", NULL },
	{ "user@example.org, /f, |c", "A:user@example.org;F:/f;P:c;", NULL },
	{ "\"|/bin/x\", bob", "P:/bin/x;A:bob;", NULL },
	{ "\\root", "A:\\root;", NULL },
	{ "a\r", NULL, "control character" },
	{ "\"a", NULL, "unbalanced double quote" },
	{ "a\"b", NULL, "unbalanced double quote" },
	{ "a,\"b\\", NULL, "unbalanced double quote" },
	{ "|", NULL, "'|' without a command" },
	{ "\"|\"", NULL, "'|' without a command" },
	{ ":include:x", NULL, ":include: without an absolute path" },
	{ ":include:", NULL, ":include: without an absolute path" },
	{ "a b", NULL, "blank outside quotes" },
	{ "|/bin/foo -x", NULL, "blank outside quotes" },
	{ "\"\"", NULL, "empty quoted target" },
	{ "a\001b", NULL, "control character" },
	{ "a\nb", NULL, "control character" },
};

START_TEST(test_split)
{
	const struct split *s = &splits[_i];
	struct strbuf out = STRBUF_INIT(1024);
	const char *reason = NULL;
	int r;

	r = aliases_split(s->in, strlen(s->in), render, &out, &reason);
	if (s->want) {
		ck_assert_msg(r == 0, "'%s': %d %s", s->in, r, reason);
		ck_assert_str_eq(strbuf_str(&out), s->want);
	} else {
		ck_assert_msg(r == -1, "'%s' split", s->in);
		ck_assert_ptr_nonnull(reason);
		ck_assert_msg(strstr(reason, s->reason) != NULL, "'%s': %s",
		    s->in, reason);
	}
	strbuf_release(&out);
}
END_TEST

/* stop_second - a callback that stops at the second target */
static int stop_second(void *ctx, enum alias_target kind, const char *text,
    size_t len)
{
	(void)kind;
	(void)text;
	(void)len;
	return ++*(int *)ctx == 2 ? 7 : 0;
}

START_TEST(test_split_stop)
{
	const char *reason = NULL;
	int calls = 0;

	ck_assert_int_eq(aliases_split("a,b,c", 5, stop_second, &calls,
	    &reason), 7);
	ck_assert_int_eq(calls, 2);
	calls = 0;
	ck_assert_int_eq(aliases_split_file("a\nb\nc\n", 6, stop_second,
	    &calls, &reason), 7);
	ck_assert_int_eq(calls, 2);
}
END_TEST

START_TEST(test_split_length)
{
	struct strbuf out = STRBUF_INIT(1024);
	const char *reason;

	/* Only len bytes count: no terminator is needed. */
	ck_assert_int_eq(aliases_split("ab,cd,ef", 4, render, &out,
	    &reason), 0);
	ck_assert_str_eq(strbuf_str(&out), "A:ab;A:c;");
	strbuf_release(&out);
}
END_TEST

static const struct split split_files[] = {
	{ "a\nb, c\n# comment\n\n  # indented\n|cmd\n",
	    "A:a;A:b;A:c;P:cmd;", NULL },
	{ "a\r\nb\r\n", "A:a;A:b;", NULL },
	{ "a\rb\n", NULL, "control character" },
	{ "a", "A:a;", NULL },
	{ "", "", NULL },
	{ "\n\n#x\n", "", NULL },
	{ "\"|/bin/x -y\"\n/f\n:include:/i\n", "P:/bin/x -y;F:/f;I:/i;",
	    NULL },
	{ "\"a\nb\"\n", NULL, "unbalanced double quote" },
	{ "ok\nbad one\n", NULL, "blank outside quotes" },
};

START_TEST(test_split_file)
{
	const struct split *s = &split_files[_i];
	struct strbuf out = STRBUF_INIT(1024);
	const char *reason = NULL;
	int r;

	r = aliases_split_file(s->in, strlen(s->in), render, &out, &reason);
	if (s->want) {
		ck_assert_msg(r == 0, "'%s': %d %s", s->in, r, reason);
		ck_assert_str_eq(strbuf_str(&out), s->want);
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_msg(strstr(reason, s->reason) != NULL, "%s", reason);
	}
	strbuf_release(&out);
}
END_TEST

static Suite *aliases_suite(void)
{
	Suite *s = suite_create("aliases");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_good, 0, ARRAY_LEN(goods));
	tcase_add_loop_test(tc, test_bad, 0, ARRAY_LEN(bads));
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_long_value);
	tcase_add_test(tc, test_long_name);
	tcase_add_test(tc, test_missing_source);
	suite_add_tcase(s, tc);

	tc = tcase_create("map");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_big_values);
	tcase_add_test(tc, test_tiny_entries);
	tcase_add_test(tc, test_too_many);
	tcase_add_test(tc, test_changed);
	tcase_add_test(tc, test_failure_keeps_old);
	tcase_add_test(tc, test_dir_sync_failure);
	tcase_add_test(tc, test_cannot_create);
	tcase_add_test(tc, test_mode);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("split");
	tcase_add_loop_test(tc, test_split, 0, ARRAY_LEN(splits));
	tcase_add_test(tc, test_split_stop);
	tcase_add_test(tc, test_split_length);
	tcase_add_loop_test(tc, test_split_file, 0, ARRAY_LEN(split_files));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(aliases_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
