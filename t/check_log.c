/*
 * check_log - unit tests of common/log.c and common/die.c.
 *
 * Each test loads a small postern.conf from its own mkdtemp() directory
 * with log_file pointing into that directory, logs, and reads the file
 * back: the syslog layout, the ident, the level prefixes, escaping,
 * cutting, stderr output, concurrent writers, a log file that cannot be
 * opened, and how die_temp, die_perm and die_panic end a process.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "die.h"
#include "log.h"
#include "strbuf.h"

#define TDIR_TEMPLATE "/tmp/check_log.XXXXXX"
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char tdir[sizeof(TDIR_TEMPLATE)];
static char log_path[256], err_path[256];
static struct config *cfg;

/* A log file line taken apart. */
struct parsed {
	char stamp[16], host[256], ident[128], msg[LOG_LINE_MAX + 1];
	long pid;
};

static int rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* path_in - DIR/name into buf */
static void path_in(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", tdir, name);

	ck_assert(n > 0 && (size_t)n < size);
}

/* load_conf - write postern.conf holding text and load it into cfg */
static void load_conf(const char *text)
{
	char path[256], err[1024];
	FILE *fp;

	path_in(path, sizeof(path), "postern.conf");
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	config_free(&cfg);
	ck_assert_msg(config_load(&cfg, tdir, err, sizeof(err)) == 0, "%s",
	    err);
}

/* load_conf_log - a configuration with log_file = DIR/name, plus extra */
static void load_conf_log(const char *name, const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text), "log_file = $config_directory/%s\n%s",
	    name, extra);
	load_conf(text);
}

static void setup(void)
{
	strlcpy(tdir, TDIR_TEMPLATE, sizeof(tdir));
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	path_in(log_path, sizeof(log_path), "mail.log");
	path_in(err_path, sizeof(err_path), "stderr");
	load_conf_log("mail.log", "");
}

static void teardown(void)
{
	log_close();
	config_free(&cfg);
	nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* capture_stderr - send fd 2 to DIR/stderr from now on */
static void capture_stderr(void)
{
	FILE *fp = fopen(err_path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(dup2(fileno(fp), STDERR_FILENO), STDERR_FILENO);
	fclose(fp);
}

/* slurp - a whole file into sb (an absent file reads as empty) */
static void slurp(const char *path, struct strbuf *sb)
{
	char buf[4096];
	size_t n;
	FILE *fp;

	strbuf_reset(sb);
	if ((fp = fopen(path, "r")) == NULL) {
		ck_assert_int_eq(errno, ENOENT);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		ck_assert_int_eq(strbuf_append(sb, buf, n), 0);
	fclose(fp);
}

/* count_lines - lines of s; each must end in a newline */
static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	ck_assert(len == 0 || s[len - 1] == '\n');
	return n;
}

/* parse_line - take one log file line (up to '\n') apart; 0 if it has
   the syslog layout */
static int parse_line(const char *line, size_t len, struct parsed *p)
{
	static const char re_text[] = "^((Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
	    "Sep|Oct|Nov|Dec) [ 123][0-9] [012][0-9]:[0-5][0-9]:[0-6][0-9]) "
	    "([^ .]+) ([^ []+)\\[([0-9]+)\\]: (.*)$";
	struct strbuf sb = STRBUF_INIT(LOG_LINE_MAX * 2);
	regmatch_t m[7];
	regex_t re;
	int r;

	ck_assert_int_eq(regcomp(&re, re_text, REG_EXTENDED), 0);
	ck_assert_int_eq(strbuf_append(&sb, line, len), 0);
	r = regexec(&re, strbuf_str(&sb), ARRAY_LEN(m), m, 0);
	if (r == 0) {
		const char *s = strbuf_str(&sb);

#define FIELD(buf, i) snprintf(buf, sizeof(buf), "%.*s", \
	(int)(m[i].rm_eo - m[i].rm_so), s + m[i].rm_so)
		FIELD(p->stamp, 1);
		FIELD(p->host, 3);
		FIELD(p->ident, 4);
		FIELD(p->msg, 6);
#undef FIELD
		p->pid = strtol(s + m[5].rm_so, NULL, 10);
	}
	regfree(&re);
	strbuf_release(&sb);
	return r == 0 ? 0 : -1;
}

/* read_log - the log file's lines, parsed; *n_r lines */
static struct parsed *read_log(size_t *n_r)
{
	struct strbuf sb = STRBUF_INIT(16 << 20);
	struct parsed *p;
	const char *s, *nl;
	size_t n, i = 0;

	slurp(log_path, &sb);
	n = count_lines(strbuf_str(&sb), sb.len);
	ck_assert_ptr_nonnull(p = calloc(n + 1, sizeof(*p)));
	for (s = strbuf_str(&sb); (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		ck_assert_msg(parse_line(s, (size_t)(nl - s), &p[i]) == 0,
		    "bad log line %zu: %.*s", i + 1, (int)(nl - s), s);
		i++;
	}
	strbuf_release(&sb);
	*n_r = n;
	return p;
}

/* short_host - this host's name up to the first dot */
static void short_host(char *buf, size_t size)
{
	ck_assert_int_eq(gethostname(buf, size), 0);
	buf[size - 1] = '\0';
	buf[strcspn(buf, ".")] = '\0';
}

/* stamp_near - the stamp is local time within a few seconds of now, in
   syslog's layout (day of the month padded with a space, like %e) */
static int stamp_near(const char *stamp)
{
	time_t now = time(NULL), t;
	char want[32];
	struct tm tm;

	for (t = now - 3; t <= now + 1; t++) {
		ck_assert_ptr_nonnull(localtime_r(&t, &tm));
		strftime(want, sizeof(want), "%b %e %H:%M:%S", &tm);
		if (strcmp(want, stamp) == 0)
			return 1;
	}
	return 0;
}

START_TEST(test_layout)
{
	char host[256];
	struct parsed *p;
	size_t n;

	log_open("testprog", cfg, 0);
	ck_assert_str_eq(log_program(), "testprog");
	log_info("hello %d", 42);
	log_warn("careful");
	log_error("broken %s", "pipe");
	p = read_log(&n);
	ck_assert_uint_eq(n, 3);
	short_host(host, sizeof(host));
	ck_assert_str_eq(p[0].msg, "hello 42");
	ck_assert_str_eq(p[1].msg, "warning: careful");
	ck_assert_str_eq(p[2].msg, "error: broken pipe");
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(p[i].host, host);
		ck_assert_str_eq(p[i].ident, "postern/testprog");
		ck_assert_int_eq(p[i].pid, getpid());
		ck_assert_msg(stamp_near(p[i].stamp), "stamp '%s'",
		    p[i].stamp);
	}
	free(p);
}
END_TEST

START_TEST(test_syslog_name)
{
	struct parsed *p;
	size_t n;

	load_conf_log("mail.log", "syslog_name = mailer\n");
	log_open("pickup", cfg, 0);
	log_info("x");
	p = read_log(&n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].ident, "mailer/pickup");
	free(p);
}
END_TEST

/* Control characters are escaped: a message is always one line. */
static const struct escape_case {
	const char *in, *out;
} escape_cases[] = {
	{ "a\nb", "a\\nb" },
	{ "a\x1b[31mred\x1b[0m", "a\\x1b[31mred\\x1b[0m" },
	{ "cr\r tab\t bs\\ del\x7f", "cr\\r tab\\t bs\\\\ del\\x7f" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
	{ "\n\n", "\\n\\n" },
	{ "c1 \xc2\x85 nel", "c1 \\xc2\\x85 nel" },
	{ "", "" },
};

START_TEST(test_escape)
{
	const struct escape_case *c = &escape_cases[_i];
	struct parsed *p;
	size_t n;

	log_open("testprog", cfg, 0);
	log_info("%s", c->in);
	p = read_log(&n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].msg, c->out);
	free(p);
}
END_TEST

/* Long messages are cut at LOG_LINE_MAX bytes, at a whole escape and a
   whole UTF-8 character. */
START_TEST(test_long)
{
	static char big[3 * LOG_LINE_MAX];
	struct parsed *p;
	size_t n, i;

	log_open("testprog", cfg, 0);
	memset(big, 'x', sizeof(big) - 1);
	log_info("%s", big);
	memset(big, '\x01', 5000);
	big[5000] = '\0';
	log_info("%s", big);
	memset(big, 'x', LOG_LINE_MAX - 1);
	memcpy(big + LOG_LINE_MAX - 1, "\xc3\xa9", 3);
	log_info("%s", big);
	log_warn("%s", big);
	p = read_log(&n);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(strlen(p[0].msg), LOG_LINE_MAX);
	ck_assert_uint_eq(strspn(p[0].msg, "x"), LOG_LINE_MAX);
	ck_assert_uint_eq(strlen(p[1].msg), LOG_LINE_MAX);
	for (i = 0; i < LOG_LINE_MAX; i += 4)
		ck_assert_int_eq(memcmp(p[1].msg + i, "\\x01", 4), 0);
	ck_assert_uint_eq(strlen(p[2].msg), LOG_LINE_MAX - 1);
	ck_assert_uint_eq(strspn(p[2].msg, "x"), LOG_LINE_MAX - 1);
	ck_assert_uint_eq(strlen(p[3].msg), LOG_LINE_MAX);
	ck_assert_int_eq(strncmp(p[3].msg, "warning: xxx", 12), 0);
	free(p);
}
END_TEST

/* log_many - 500 numbered lines from this process */
static void log_many(const char *who)
{
	char pad[301];
	int i;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < 500; i++)
		log_info("%s %d %s", who, i, pad);
}

/* Two processes logging at once produce whole lines only. */
START_TEST(test_two_writers)
{
	int seen[2][500] = { { 0 } }, status, who, seq;
	struct parsed *p;
	pid_t child;
	size_t n, i;

	log_open("testprog", cfg, 0);
	fflush(NULL);
	ck_assert_int_ge(child = fork(), 0);
	if (child == 0) {
		log_many("child");
		_exit(0);
	}
	log_many("parent");
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	p = read_log(&n);
	ck_assert_uint_eq(n, 1000);
	for (i = 0; i < n; i++) {
		char name[16];

		ck_assert_int_eq(sscanf(p[i].msg, "%15s %d", name, &seq), 2);
		who = strcmp(name, "child") == 0;
		ck_assert_int_eq(p[i].pid, who ? child : getpid());
		ck_assert(seq >= 0 && seq < 500 && !seen[who][seq]);
		ck_assert_uint_eq(strlen(p[i].msg), strlen(name) + 1 +
		    (seq < 10 ? 1 : seq < 100 ? 2 : 3) + 1 + 300);
		seen[who][seq] = 1;
	}
	free(p);
}
END_TEST

/* With to_stderr every line also goes to stderr, with its prefix. */
START_TEST(test_stderr)
{
	struct strbuf sb = STRBUF_INIT(65536);
	struct parsed *p;
	size_t n;

	capture_stderr();
	log_open("testprog", cfg, 1);
	log_info("one");
	log_warn("two\nlines");
	log_error("three");
	slurp(err_path, &sb);
	ck_assert_str_eq(strbuf_str(&sb), "testprog: one\n"
	    "testprog: warning: two\\nlines\ntestprog: error: three\n");
	p = read_log(&n);
	ck_assert_uint_eq(n, 3);
	free(p);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_no_stderr)
{
	struct strbuf sb = STRBUF_INIT(65536);

	capture_stderr();
	log_open("testprog", cfg, 0);
	log_info("one");
	log_warn("two");
	slurp(err_path, &sb);
	ck_assert_uint_eq(sb.len, 0);
	strbuf_release(&sb);
}
END_TEST

/* Before log_open lines go to stderr as "postern: ...". */
START_TEST(test_before_open)
{
	struct strbuf sb = STRBUF_INIT(65536);

	capture_stderr();
	ck_assert_str_eq(log_program(), "postern");
	log_warn("early %d", 1);
	slurp(err_path, &sb);
	ck_assert_str_eq(strbuf_str(&sb), "postern: warning: early 1\n");
	strbuf_release(&sb);
}
END_TEST

/* Without a configuration: no log file, stderr when asked. */
START_TEST(test_null_config)
{
	struct strbuf sb = STRBUF_INIT(65536);
	struct stat st;

	capture_stderr();
	log_open("testprog", NULL, 1);
	log_info("x");
	slurp(err_path, &sb);
	ck_assert_str_eq(strbuf_str(&sb), "testprog: x\n");
	ck_assert_int_eq(stat(log_path, &st), -1);
	strbuf_release(&sb);
}
END_TEST

/* count_in_stderr - occurrences of needle in the stderr file */
static int count_in_stderr(const char *needle)
{
	struct strbuf sb = STRBUF_INIT(65536);
	const char *s;
	int n = 0;

	slurp(err_path, &sb);
	for (s = strbuf_str(&sb); (s = strstr(s, needle)) != NULL; s++)
		n++;
	strbuf_release(&sb);
	return n;
}

/* A log file that cannot be opened is reported once; logging goes on. */
START_TEST(test_unopenable)
{
	char want[512];

	capture_stderr();
	load_conf_log("nodir/mail.log", "");
	errno = EAGAIN;
	log_open("testprog", cfg, 0);
	ck_assert_int_eq(errno, EAGAIN);
	log_info("one");
	log_info("two");
	log_error("three");
	snprintf(want, sizeof(want), "testprog: warning: cannot open log "
	    "file %s/nodir/mail.log: No such file or directory\n", tdir);
	ck_assert_int_eq(count_in_stderr(want), 1);
	ck_assert_int_eq(count_in_stderr("\n"), 1);
}
END_TEST

/* A symbolic link at the log file's name is refused (O_NOFOLLOW). */
START_TEST(test_symlink)
{
	char real[256];
	struct stat st;

	capture_stderr();
	path_in(real, sizeof(real), "real.log");
	ck_assert_int_eq(symlink(real, log_path), 0);
	log_open("testprog", cfg, 0);
	log_info("one");
	ck_assert_int_eq(count_in_stderr("cannot open log file"), 1);
	ck_assert_int_eq(count_in_stderr("symbolic links"), 1);
	ck_assert_int_eq(lstat(real, &st), -1);
}
END_TEST

START_TEST(test_file_mode)
{
	struct stat st;

	umask(022);
	log_open("testprog", cfg, 0);
	ck_assert_int_eq(stat(log_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

/* log_open again re-reads the configuration; log_close stops the file;
   errno survives logging. */
START_TEST(test_reopen)
{
	struct parsed *p;
	size_t n;

	log_open("first", cfg, 0);
	log_info("a");
	load_conf_log("mail.log", "syslog_name = other\n");
	log_open(log_program(), cfg, 0);
	ck_assert_str_eq(log_program(), "first");
	log_open("second", cfg, 0);
	errno = ENOSPC;
	log_info("b");
	ck_assert_int_eq(errno, ENOSPC);
	log_close();
	log_info("c");
	p = read_log(&n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(p[0].ident, "postern/first");
	ck_assert_str_eq(p[1].ident, "other/second");
	ck_assert_str_eq(p[1].msg, "b");
	free(p);
}
END_TEST

/*
 * die: exit codes through Check, then the outputs of a dying child.
 */

START_TEST(test_die_perm_exit)
{
	capture_stderr();
	log_open("testprog", cfg, 0);
	die_perm(EX_DATAERR, "bad message %d", 7);
}
END_TEST

START_TEST(test_die_temp_exit)
{
	capture_stderr();
	log_open("testprog", cfg, 0);
	die_temp("disk full");
}
END_TEST

START_TEST(test_die_perm_zero_exit)
{
	capture_stderr();
	die_perm(0, "a code of 0 would read as success");
}
END_TEST

START_TEST(test_die_panic_abort)
{
	capture_stderr();
	log_open("testprog", cfg, 0);
	die_panic("invariant %s", "broken");
}
END_TEST

/* die_child - run one die function in a child; its wait status */
static int die_child(int which, int to_stderr)
{
	pid_t child;
	int status;

	fflush(NULL);
	ck_assert_int_ge(child = fork(), 0);
	if (child == 0) {
		capture_stderr();
		log_open("testprog", cfg, to_stderr);
		if (which == 0)
			die_perm(EX_NOUSER, "no such user %s", "bob");
		if (which == 1)
			die_temp("try later");
		die_panic("broken");
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	return status;
}

/* Each die function logs at error level and says so on stderr exactly
   once, whether or not log_open asked for stderr. */
static const struct die_case {
	int which, to_stderr, code;
	const char *msg;
} die_cases[] = {
	{ 0, 0, EX_NOUSER, "error: no such user bob" },
	{ 0, 1, EX_NOUSER, "error: no such user bob" },
	{ 1, 0, EX_TEMPFAIL, "error: try later" },
	{ 1, 1, EX_TEMPFAIL, "error: try later" },
	{ 2, 0, -SIGABRT, "panic: broken" },
	{ 2, 1, -SIGABRT, "panic: broken" },
};

START_TEST(test_die_outputs)
{
	const struct die_case *c = &die_cases[_i];
	struct strbuf sb = STRBUF_INIT(65536);
	int status = die_child(c->which, c->to_stderr);
	char want[256];
	struct parsed *p;
	size_t n;

	if (c->code < 0)
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == -c->code);
	else
		ck_assert(WIFEXITED(status) &&
		    WEXITSTATUS(status) == c->code);
	p = read_log(&n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].msg, c->msg);
	free(p);
	snprintf(want, sizeof(want), "testprog: %s\n", c->msg);
	slurp(err_path, &sb);
	ck_assert_str_eq(strbuf_str(&sb), want);
	strbuf_release(&sb);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_syslog_name);
	tcase_add_loop_test(tc, test_escape, 0, ARRAY_LEN(escape_cases));
	tcase_add_test(tc, test_long);
	tcase_add_test(tc, test_two_writers);
	tcase_add_test(tc, test_stderr);
	tcase_add_test(tc, test_no_stderr);
	tcase_add_test(tc, test_before_open);
	tcase_add_test(tc, test_null_config);
	tcase_add_test(tc, test_unopenable);
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_file_mode);
	tcase_add_test(tc, test_reopen);
	suite_add_tcase(s, tc);

	/* Tests that end their process skip a checked teardown, so these
	   share one directory made and removed by the runner's process. */
	tc = tcase_create("die-exit");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_exit_test(tc, test_die_perm_exit, EX_DATAERR);
	tcase_add_exit_test(tc, test_die_temp_exit, EX_TEMPFAIL);
	tcase_add_exit_test(tc, test_die_perm_zero_exit, EX_SOFTWARE);
	tcase_add_test_raise_signal(tc, test_die_panic_abort, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("die");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_die_outputs, 0, ARRAY_LEN(die_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
