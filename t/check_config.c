/*
 * check_config - unit tests of common/config.c.
 *
 * Each test writes a postern.conf into its own mkdtemp() directory and
 * loads it with config_load(), as programs do. The tables cover every
 * value type with good and bad values, the syntax (comments, blanks,
 * continuation lines), expansion, the defaults, the error messages (file,
 * line and key), the accessors' type checks and config_dir_choose().
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "strbuf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define TDIR_TEMPLATE "/tmp/check_config.XXXXXX"

static char tdir[sizeof(TDIR_TEMPLATE)];
static char conf_path[256];
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
	int n;

	strlcpy(tdir, TDIR_TEMPLATE, sizeof(tdir));
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	n = snprintf(conf_path, sizeof(conf_path), "%s/postern.conf", tdir);
	ck_assert(n > 0 && (size_t)n < sizeof(conf_path));
}

static void teardown(void)
{
	nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* write_conf_n - postern.conf with n bytes of text */
static void write_conf_n(const char *text, size_t n)
{
	FILE *fp = fopen(conf_path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, n, fp), n);
	ck_assert_int_eq(fclose(fp), 0);
}

static void write_conf(const char *text)
{
	write_conf_n(text, strlen(text));
}

/* load_ok - load text, which must be good */
static struct config *load_ok(const char *text)
{
	struct config *cfg = NULL;

	write_conf(text);
	ck_assert_msg(config_load(&cfg, tdir, err, sizeof(err)) == 0,
	    "config_load failed: %s", err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/* expect_error - the last load failed with "FILE:LINE: ..." (no LINE when
   line is 0) holding every string of want */
static void expect_error(int r, struct config *cfg, unsigned line,
    const char *const *want, size_t nwant)
{
	char prefix[300];
	size_t i;

	ck_assert_int_eq(r, -1);
	ck_assert_ptr_null(cfg);
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", conf_path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", conf_path);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "error '%s' does not start with '%s'", err, prefix);
	for (i = 0; i < nwant; i++)
		ck_assert_msg(want[i] == NULL || strstr(err, want[i]) != NULL,
		    "error '%s' does not hold '%s'", err, want[i]);
}

/* load_bad - load text, which must fail at line with want in the message */
static void load_bad_n(const char *text, size_t n, unsigned line,
    const char *key, const char *want)
{
	struct config *cfg = (struct config *)1;
	char quoted[128];
	const char *all[2];
	int r;

	write_conf_n(text, n);
	r = config_load(&cfg, tdir, err, sizeof(err));
	snprintf(quoted, sizeof(quoted), "'%s'", key ? key : "");
	all[0] = key ? quoted : NULL;
	all[1] = want;
	expect_error(r, cfg, line, all, 2);
}

static void load_bad(const char *text, unsigned line, const char *key,
    const char *want)
{
	load_bad_n(text, strlen(text), line, key, want);
}

/* joined - a list's items, or a duration list's numbers, joined by '|' */
static const char *joined(const struct config *cfg, enum config_key k,
    char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(4096);
	const char *const *items;
	const int64_t *secs;
	size_t n, i;

	if (config_key_type(k) == CT_LIST) {
		items = config_list(cfg, k, &n);
		ck_assert_ptr_null(items[n]);
		for (i = 0; i < n; i++)
			strbuf_appendf(&sb, "%s%s", i ? "|" : "", items[i]);
	} else {
		secs = config_durations(cfg, k, &n);
		for (i = 0; i < n; i++)
			strbuf_appendf(&sb, "%s%lld", i ? "|" : "",
			    (long long)secs[i]);
	}
	ck_assert(strbuf_ok(&sb));
	ck_assert_uint_lt(strlcpy(buf, strbuf_str(&sb), size), size);
	strbuf_release(&sb);
	return buf;
}

/*
 * Good values of every type: the key's value as read back through its
 * accessor. want_str is the text for string and list types (list items
 * joined by '|'); want_num the number for the others.
 */
static const struct good_value {
	const char *key, *value, *want_str;
	long long want_num;
} good_values[] = {
	{ "message_size_limit", "50M", NULL, 52428800 },
	{ "message_size_limit", "50m", NULL, 52428800 },
	{ "message_size_limit", "10k", NULL, 10240 },
	{ "message_size_limit", "10K", NULL, 10240 },
	{ "message_size_limit", "1G", NULL, 1073741824 },
	{ "message_size_limit", "1g", NULL, 1073741824 },
	{ "message_size_limit", "123", NULL, 123 },
	{ "message_size_limit", "0", NULL, 0 },
	{ "message_size_limit", "9223372036854775807", NULL,
	    9223372036854775807LL },
	{ "queue_map_size", "8589934591G", NULL, 9223372035781033984LL },
	{ "smtp_connect_timeout", "30s", NULL, 30 },
	{ "smtp_connect_timeout", "5m", NULL, 300 },
	{ "smtp_connect_timeout", "2h", NULL, 7200 },
	{ "smtp_connect_timeout", "1d", NULL, 86400 },
	{ "smtp_connect_timeout", "1w", NULL, 604800 },
	{ "smtp_connect_timeout", "0", NULL, 0 },
	{ "smtp_connect_timeout", "17", NULL, 17 },
	{ "smtp_connect_timeout", "007s", NULL, 7 },
	{ "max_queue_lifetime", "15250284452471w", NULL,
	    9223372036854460800LL },
	{ "recipient_limit", "0", NULL, 0 },
	{ "recipient_limit", "10000", NULL, 10000 },
	{ "recipient_limit", "2147483647", NULL, 2147483647 },
	{ "smtp_port", "1", NULL, 1 },
	{ "smtp_port", "25", NULL, 25 },
	{ "smtp_port", "65535", NULL, 65535 },
	{ "smtp_tls_security_level", "none", NULL, TLS_NONE },
	{ "smtp_tls_security_level", "may", NULL, TLS_MAY },
	{ "smtp_tls_security_level", "encrypt", NULL, TLS_ENCRYPT },
	{ "smtp_tls_security_level", "verify", NULL, TLS_VERIFY },
	{ "myhostname", "mail.example.com", "mail.example.com", 0 },
	{ "myhostname", "a", "a", 0 },
	{ "myhostname", "a-b.c0", "a-b.c0", 0 },
	{ "myhostname", "x1.y2.Z3", "x1.y2.Z3", 0 },
	{ "smtp_helo_name", "Mail.Example.COM", "Mail.Example.COM", 0 },
	{ "queue_directory", "/var/spool/x", "/var/spool/x", 0 },
	{ "queue_directory", "/", "/", 0 },
	{ "log_file", "", "", 0 },
	{ "log_file", "/tmp/x.log", "/tmp/x.log", 0 },
	{ "relayhost", "[mx.example.com]:587", "[mx.example.com]:587", 0 },
	{ "relayhost", "", "", 0 },
	{ "relayhost", "a = b # c", "a = b # c", 0 },
	{ "home_mailbox", "", "", 0 },
	{ "recipient_delimiter", "+-", "+-", 0 },
	{ "recipient_delimiter", "", "", 0 },
	{ "local_domains", "a, b,,c  d", "a|b|c|d", 0 },
	{ "local_domains", "a,b", "a|b", 0 },
	{ "local_domains", "a\tb", "a|b", 0 },
	{ "local_domains", "", "", 0 },
	{ "local_domains", ", ,", "", 0 },
	{ "dns_servers", "127.0.0.1:5353", "127.0.0.1:5353", 0 },
	{ "retry_schedule", "2h 2h", "7200|7200", 0 },
	{ "retry_schedule", "1m,5m , 1h", "60|300|3600", 0 },
	{ "retry_schedule", "", "", 0 },
};

START_TEST(test_good_value)
{
	const struct good_value *g = &good_values[_i];
	char text[512], buf[512];
	struct config *cfg;
	int k = config_key_lookup(g->key);

	ck_assert_int_ge(k, 0);
	snprintf(text, sizeof(text), "# a comment\n\n%s = %s\n", g->key,
	    g->value);
	cfg = load_ok(text);
	ck_assert(config_is_set(cfg, k));
	ck_assert_uint_eq(config_line(cfg, k), 3);
	switch (config_key_type(k)) {
	case CT_STR: case CT_HOSTNAME: case CT_PATH: case CT_OPTPATH:
		ck_assert_str_eq(config_str(cfg, k), g->want_str);
		break;
	case CT_LIST: case CT_DURATIONS:
		ck_assert_str_eq(joined(cfg, k, buf, sizeof(buf)),
		    g->want_str);
		break;
	case CT_DURATION:
		ck_assert(config_duration(cfg, k) == g->want_num);
		break;
	case CT_SIZE:
		ck_assert(config_size(cfg, k) == (uint64_t)g->want_num);
		break;
	case CT_COUNT: case CT_PORT:
		ck_assert(config_count(cfg, k) == g->want_num);
		break;
	case CT_TLSLEVEL:
		ck_assert(config_tls_level(cfg, k) == g->want_num);
		break;
	}
	config_free(&cfg);
	ck_assert_ptr_null(cfg);
}
END_TEST

/* Bad values: the message names the file, line 3, the key and why. */
static const struct bad_value {
	const char *key, *value, *why;
} bad_values[] = {
	{ "message_size_limit", "50X",
	    "bad value for 'message_size_limit': '50X' is not a size" },
	{ "message_size_limit", "", "is not a size" },
	{ "message_size_limit", "k", "is not a size" },
	{ "message_size_limit", "-1", "is not a size" },
	{ "message_size_limit", "+5", "is not a size" },
	{ "message_size_limit", "1.5M", "is not a size" },
	{ "message_size_limit", "5 M", "is not a size" },
	{ "message_size_limit", "10KB", "is not a size" },
	{ "message_size_limit", "9223372036854775808", "is not a size" },
	{ "message_size_limit", "8589934592G", "is not a size" },
	{ "message_size_limit", "99999999999999999999999", "is not a size" },
	{ "smtp_connect_timeout", "", "is not a duration" },
	{ "smtp_connect_timeout", "5x", "is not a duration" },
	{ "smtp_connect_timeout", "-1", "is not a duration" },
	{ "smtp_connect_timeout", "1.5h", "is not a duration" },
	{ "smtp_connect_timeout", "h", "is not a duration" },
	{ "smtp_connect_timeout", "5 m", "is not a duration" },
	{ "smtp_connect_timeout", "5M", "is not a duration" },
	{ "smtp_connect_timeout", "5ss", "is not a duration" },
	{ "smtp_connect_timeout", "15250284452472w", "is not a duration" },
	{ "smtp_connect_timeout", "9223372036854775808",
	    "is not a duration" },
	{ "recipient_limit", "", "is not a count" },
	{ "recipient_limit", "-1", "is not a count" },
	{ "recipient_limit", "1k", "is not a count" },
	{ "recipient_limit", "abc", "is not a count" },
	{ "recipient_limit", "1 2", "is not a count" },
	{ "recipient_limit", "2147483648", "is not a count" },
	{ "smtp_port", "", "is not a port" },
	{ "smtp_port", "0", "is not a port" },
	{ "smtp_port", "65536", "is not a port" },
	{ "smtp_port", "25x", "is not a port" },
	{ "smtp_port", "-25", "is not a port" },
	{ "smtp_tls_security_level", "", "is not a TLS level" },
	{ "smtp_tls_security_level", "Verify", "is not a TLS level" },
	{ "smtp_tls_security_level", "maybe", "is not a TLS level" },
	{ "smtp_tls_security_level", "none may", "is not a TLS level" },
	{ "myhostname", "-a.com", "is not a host name" },
	{ "myhostname", "a-.com", "is not a host name" },
	{ "myhostname", "a..b", "is not a host name" },
	{ "myhostname", "a.", "is not a host name" },
	{ "myhostname", ".a", "is not a host name" },
	{ "myhostname", "a_b.com", "is not a host name" },
	{ "myhostname", "a b", "is not a host name" },
	{ "myhostname", "caf\xc3\xa9.com", "is not a host name" },
	{ "smtp_helo_name", "", "is not a host name" },
	{ "queue_directory", "", "is not an absolute path" },
	{ "queue_directory", "relative/x", "is not an absolute path" },
	{ "queue_directory", "~/x", "is not an absolute path" },
	{ "log_file", "x.log", "is not an absolute path" },
	{ "retry_schedule", "2h 0", "not a duration above 0" },
	{ "retry_schedule", "2h x", "not a duration above 0" },
	{ "retry_schedule", "-1", "not a duration above 0" },
	{ "recipient_delimiter", "+ -", "may not hold blanks" },
	{ "recipient_delimiter", "+\t-", "may not hold blanks" },
	{ "recipient_delimiter", "@", "or '@'" },
	{ "recipient_delimiter", "a@", "or '@'" },
	{ "message_size_limit", "5\x1b[0m", "'5\\x1b[0m' is not a size" },
};

START_TEST(test_bad_value)
{
	const struct bad_value *b = &bad_values[_i];
	char text[512];

	snprintf(text, sizeof(text), "# a comment\n\n%s = %s\n", b->key,
	    b->value);
	load_bad(text, 3, b->key, b->why);
	ck_assert_ptr_null(strchr(err, '\x1b'));
}
END_TEST

/* Syntax errors, each at a known line. */
static const struct bad_syntax {
	const char *text;
	unsigned line;
	const char *key, *why;
} bad_syntax[] = {
	{ "foo = bar\n", 1, "foo", "unknown key 'foo'" },
	{ "# c\n\n\n\n\n\n\n\n\n\n\nfoo = bar\n", 12, "foo",
	    "unknown key 'foo'" },
	{ "Relayhost = x\n", 1, "Relayhost", "unknown key" },
	{ "relay host = x\n", 1, "relay host", "unknown key" },
	{ "# c\nrelayhost = a\nrelayhost = b\n", 3, "relayhost",
	    "key 'relayhost' set twice (first on line 2)" },
	{ "relayhost = a\nsmtp_port = 25\nrelayhost = a\n", 3, "relayhost",
	    "set twice (first on line 1)" },
	{ "relayhost = a\n\n# c\nrelayhost\n", 4, NULL, "missing '='" },
	{ "relayhost example.com\n", 1, NULL, "missing '='" },
	{ "= x\n", 1, NULL, "missing key before '='" },
	{ "relayhost = a\n=x\n", 2, NULL, "missing key" },
	{ "  relayhost = x\n", 1, NULL, "continuation line" },
	{ "# c\n\tx\nrelayhost = a\n", 2, NULL, "continuation line" },
};

START_TEST(test_bad_syntax)
{
	const struct bad_syntax *b = &bad_syntax[_i];

	load_bad(b->text, b->line, b->key, b->why);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "relayhost = x\nmyhostname = a\0b\n";

	load_bad_n(text, sizeof(text) - 1, 2, NULL, "NUL byte");
}
END_TEST

/* Syntax that loads: blanks, comments, continuations, line ends. */
static const struct good_syntax {
	const char *text, *key, *want;
	unsigned line;
} good_syntax[] = {
	{ "relayhost=x\n", "relayhost", "x", 1 },
	{ "relayhost  =  x  \n", "relayhost", "x", 1 },
	{ "relayhost\t=\tx\t\n", "relayhost", "x", 1 },
	{ "relayhost = a=b\n", "relayhost", "a=b", 1 },
	{ "relayhost = x", "relayhost", "x", 1 },
	{ "relayhost = x\r\nsmtp_port = 25\r\n", "relayhost", "x", 1 },
	{ "#x\n   # indented comment\nrelayhost = y\n", "relayhost", "y", 3 },
	{ "relayhost = x\n  y  \n", "relayhost", "x y", 1 },
	{ "relayhost = x\n\t\ty\n", "relayhost", "x y", 1 },
	{ "relayhost = x\n# c\n  y\n", "relayhost", "x y", 1 },
	{ "relayhost = x\n\n  y\n", "relayhost", "x y", 1 },
	{ "relayhost = a\n  b = c\n", "relayhost", "a b = c", 1 },
	{ "relayhost =\n  x\n", "relayhost", "x", 1 },
	{ "smtp_port = 25\nrelayhost = a\n b\n  c\nsyslog_name = p\n",
	    "relayhost", "a b c", 2 },
	{ "smtp_port = 25\nrelayhost = a\n b\n  c\nsyslog_name = p\n",
	    "syslog_name", "p", 5 },
	{ "\n\n\n", "relayhost", "", 0 },
	{ "", "relayhost", "", 0 },
};

START_TEST(test_good_syntax)
{
	const struct good_syntax *g = &good_syntax[_i];
	struct config *cfg = load_ok(g->text);
	int k = config_key_lookup(g->key);

	ck_assert_str_eq(config_str(cfg, k), g->want);
	ck_assert_uint_eq(config_line(cfg, k), g->line);
	ck_assert_int_eq(config_is_set(cfg, k), g->line != 0);
	config_free(&cfg);
}
END_TEST

START_TEST(test_continued_list)
{
	struct config *cfg = load_ok("local_domains = a,\n   b,\n\tc\n"
	    "relayhost = x\n");
	char buf[256];

	ck_assert_str_eq(joined(cfg, CK_local_domains, buf, sizeof(buf)),
	    "a|b|c");
	ck_assert_uint_eq(config_line(cfg, CK_local_domains), 1);
	ck_assert_uint_eq(config_line(cfg, CK_relayhost), 4);
	config_free(&cfg);
}
END_TEST

/* Expansion that works: each key's text after loading. */
static const struct good_expand {
	const char *text, *key, *want;
} good_expand[] = {
	{ "myhostname = mail.example.org\nrelayhost = $myhostname\n",
	    "relayhost", "mail.example.org" },
	{ "myhostname = mail.example.org\nrelayhost = pm@${myhostname}x\n",
	    "relayhost", "pm@mail.example.orgx" },
	{ "myhostname = mail.example.org\n", "smtp_helo_name",
	    "mail.example.org" },
	{ "relayhost = a$$b$$$$c\n", "relayhost", "a$b$$c" },
	{ "relayhost = $$myhostname\n", "relayhost", "$myhostname" },
	{ "relayhost = [$postmaster_address]\n"
	    "postmaster_address = ${mail_owner}-pm@$myhostname\n"
	    "myhostname = h.example\nmail_owner = owner\n",
	    "relayhost", "[owner-pm@h.example]" },
	{ "relayhost = $mail_owner.$drop_group\n", "relayhost",
	    "postern.postern-drop" },
	{ "relayhost = $smtp_port:$message_size_limit\n", "relayhost",
	    "25:50M" },
};

START_TEST(test_good_expand)
{
	const struct good_expand *g = &good_expand[_i];
	struct config *cfg = load_ok(g->text);

	ck_assert_str_eq(config_str(cfg, config_key_lookup(g->key)), g->want);
	config_free(&cfg);
}
END_TEST

START_TEST(test_expand_local_domains)
{
	struct config *cfg = load_ok("myhostname = mail.example.org\n");
	char buf[256];

	ck_assert_str_eq(joined(cfg, CK_local_domains, buf, sizeof(buf)),
	    "mail.example.org|localhost");
	config_free(&cfg);
}
END_TEST

START_TEST(test_expand_config_directory)
{
	struct config *cfg = load_ok("alias_file = $config_directory/aliases\n"
	    "relayhost = ${config_directory}\n");
	char want[512];

	ck_assert_str_eq(config_dir(cfg), tdir);
	ck_assert_str_eq(config_str(cfg, CK_relayhost), tdir);
	snprintf(want, sizeof(want), "%s/aliases", tdir);
	ck_assert_str_eq(config_str(cfg, CK_alias_file), want);
	snprintf(want, sizeof(want), "%s/virtual", tdir);
	ck_assert_str_eq(config_str(cfg, CK_virtual_mailbox_file), want);
	snprintf(want, sizeof(want), "%s/routes", tdir);
	ck_assert_str_eq(config_str(cfg, CK_routes_file), want);
	snprintf(want, sizeof(want), "%s/tls_policy", tdir);
	ck_assert_str_eq(config_str(cfg, CK_tls_policy_file), want);
	config_free(&cfg);
}
END_TEST

/* A directory given with a trailing slash reads the same file and
   expands $config_directory without it. */
START_TEST(test_dir_trailing_slash)
{
	struct config *cfg = NULL;
	char dir[300];

	write_conf("relayhost = $config_directory\n");
	snprintf(dir, sizeof(dir), "%s//", tdir);
	ck_assert_msg(config_load(&cfg, dir, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(config_str(cfg, CK_relayhost), tdir);
	config_free(&cfg);
}
END_TEST

/* Expansion that fails: line and message. */
static const struct bad_expand {
	const char *text;
	unsigned line;
	const char *key, *why;
} bad_expand[] = {
	{ "# 1\n# 2\n# 3\n# 4\n# 5\n# 6\nrelayhost = $foo\n", 7, "relayhost",
	    "unknown parameter '$foo' in 'relayhost'" },
	{ "relayhost = ${foo}\n", 1, "relayhost",
	    "unknown parameter '$foo'" },
	{ "relayhost = $myhostname_x\n", 1, "relayhost",
	    "unknown parameter '$myhostname_x'" },
	{ "smtp_port = 25\nmyhostname = $nope\n", 2, "myhostname",
	    "unknown parameter '$nope'" },
	{ "relayhost = $relayhost\n", 1, "relayhost", "loop" },
	{ "relayhost = $postmaster_address\n"
	    "postmaster_address = x$relayhost\n",
	    2, "postmaster_address", "expansion loop: 'relayhost' uses itself "
	    "through '$relayhost' in 'postmaster_address'" },
	{ "mail_owner = $drop_group\ndrop_group = $admin_group\n"
	    "admin_group = $mail_owner\n", 3, "admin_group", "loop" },
	{ "relayhost = ${myhostname\n", 1, "relayhost", "missing '}'" },
	{ "relayhost = a$\n", 1, "relayhost", "'$' without a name" },
	{ "relayhost = ${}\n", 1, "relayhost", "'$' without a name" },
	{ "relayhost = $-x\n", 1, "relayhost", "'$' without a name" },
	{ "relayhost = ${my hostname}\n", 1, "relayhost",
	    "unknown parameter" },
	/* an expansion that makes a value bad names the value's own line */
	{ "relayhost = 5X\nmessage_size_limit = $relayhost\n", 2,
	    "message_size_limit", "'5X' is not a size" },
};

START_TEST(test_bad_expand)
{
	const struct bad_expand *b = &bad_expand[_i];

	load_bad(b->text, b->line, b->key, b->why);
}
END_TEST

/* The twelve string keys, for chains of references. */
static const char *const chain[] = {
	"relayhost", "postmaster_address", "mail_owner", "drop_group",
	"admin_group", "remote_user", "bounce_user", "virtual_user",
	"default_privs", "home_mailbox", "syslog_name", "recipient_delimiter",
};

/* chain_text - keys chain[from..11] each referring to the next */
static void chain_text(struct strbuf *sb, size_t from)
{
	size_t i;

	for (i = from; i + 1 < ARRAY_LEN(chain); i++)
		strbuf_appendf(sb, "%s = $%s\n", chain[i], chain[i + 1]);
	strbuf_appendf(sb, "%s = x\n", chain[ARRAY_LEN(chain) - 1]);
	ck_assert(strbuf_ok(sb));
}

START_TEST(test_expand_depth)
{
	struct strbuf sb = STRBUF_INIT(4096);
	struct config *cfg;

	/* Ten levels of references are allowed ... */
	chain_text(&sb, 1);
	cfg = load_ok(strbuf_str(&sb));
	ck_assert_str_eq(config_str(cfg, CK_postmaster_address), "x");
	config_free(&cfg);
	/* ... eleven are not. */
	strbuf_reset(&sb);
	chain_text(&sb, 0);
	load_bad(strbuf_str(&sb), 1, "relayhost", "deeper than 10");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_expand_too_long)
{
	struct strbuf sb = STRBUF_INIT(100000);

	strbuf_appends(&sb, "relayhost = ");
	while (sb.len < 40000)
		strbuf_appendc(&sb, 'x');
	strbuf_appends(&sb, "\npostmaster_address = $relayhost$relayhost\n");
	ck_assert(strbuf_ok(&sb));
	load_bad(strbuf_str(&sb), 2, "postmaster_address",
	    "longer than 65536 bytes after expansion");
	strbuf_release(&sb);
}
END_TEST

/* Values and lines beyond the limits. */
START_TEST(test_too_long)
{
	struct strbuf sb = STRBUF_INIT(200000);
	struct config *cfg;

	strbuf_appends(&sb, "relayhost = ");
	while (sb.len < 12 + CONFIG_VALUE_MAX + 1)
		strbuf_appendc(&sb, 'x');
	load_bad(strbuf_str(&sb), 1, "relayhost", "longer than 65536 bytes");
	/* a value just at the limit loads */
	strbuf_truncate(&sb, sb.len - 1);
	cfg = load_ok(strbuf_str(&sb));
	config_free(&cfg);
	/* a physical line, or a logical one, past the line limit */
	strbuf_reset(&sb);
	strbuf_appends(&sb, "# c\nrelayhost = ");
	while (sb.len < 4 + CONFIG_VALUE_MAX + 2000)
		strbuf_appendc(&sb, 'x');
	load_bad(strbuf_str(&sb), 2, NULL, "line longer than");
	strbuf_reset(&sb);
	strbuf_appends(&sb, "# c\nrelayhost = x\n");
	while (sb.len < 2 * CONFIG_VALUE_MAX)
		strbuf_appends(&sb, "  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	load_bad(strbuf_str(&sb), 2, NULL, "line longer than");
	ck_assert(strbuf_ok(&sb));
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_list_max)
{
	struct strbuf sb = STRBUF_INIT(20000);
	const char *const *items;
	struct config *cfg;
	size_t n, i;

	strbuf_appends(&sb, "local_domains =");
	for (i = 0; i < CONFIG_LIST_MAX; i++)
		strbuf_appends(&sb, " a,");
	cfg = load_ok(strbuf_str(&sb));
	items = config_list(cfg, CK_local_domains, &n);
	ck_assert_uint_eq(n, CONFIG_LIST_MAX);
	ck_assert_str_eq(items[CONFIG_LIST_MAX - 1], "a");
	ck_assert_ptr_null(items[CONFIG_LIST_MAX]);
	config_free(&cfg);
	strbuf_appends(&sb, "b");
	load_bad(strbuf_str(&sb), 1, "local_domains",
	    "has more than 1024 items");
	strbuf_release(&sb);
}
END_TEST

/* A long bad value is quoted cut, escaped, and marked with "...". */
START_TEST(test_long_bad_value)
{
	struct strbuf sb = STRBUF_INIT(4096);
	int i;

	strbuf_appends(&sb, "message_size_limit = ");
	for (i = 0; i < 100; i++)
		strbuf_appends(&sb, "\x1bx");
	load_bad(strbuf_str(&sb), 1, "message_size_limit", "...' is not");
	ck_assert_ptr_nonnull(strstr(err, "'\\x1bx\\x1bx"));
	ck_assert_ptr_null(strchr(err, '\x1b'));
	ck_assert_uint_lt(strlen(err), 400);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_hostname_lengths)
{
	struct strbuf sb = STRBUF_INIT(1024);
	struct config *cfg;
	int i;

	strbuf_appends(&sb, "myhostname = ");
	for (i = 0; i < 4; i++) {
		strbuf_appends(&sb, i ? "." : "");
		strbuf_appends(&sb, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaa");
	}
	/* 4 labels of 63 bytes and 3 dots: 255 bytes */
	ck_assert_uint_eq(sb.len, 13 + 255);
	cfg = load_ok(strbuf_str(&sb));
	ck_assert_uint_eq(strlen(config_str(cfg, CK_myhostname)), 255);
	config_free(&cfg);
	strbuf_appends(&sb, ".b");
	load_bad(strbuf_str(&sb), 1, "myhostname", "is not a host name");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config *cfg = (struct config *)1;
	char want[512];

	snprintf(want, sizeof(want),
	    "cannot open %s: No such file or directory", conf_path);
	ck_assert_int_eq(config_load(&cfg, tdir, err, sizeof(err)), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_unreadable_file)
{
	struct config *cfg = (struct config *)1;

	/* root reads a mode 000 file anyway; a directory fails for anyone */
	if (geteuid() != 0) {
		write_conf("relayhost = x\n");
		ck_assert_int_eq(chmod(conf_path, 0), 0);
		ck_assert_int_eq(config_load(&cfg, tdir, err, sizeof(err)),
		    -1);
		ck_assert_ptr_null(cfg);
		ck_assert_ptr_nonnull(strstr(err, "cannot open"));
		ck_assert_ptr_nonnull(strstr(err, "Permission denied"));
		ck_assert_ptr_nonnull(strstr(err, conf_path));
		ck_assert_int_eq(unlink(conf_path), 0);
	}
	ck_assert_int_eq(mkdir(conf_path, 0700), 0);
	cfg = (struct config *)1;
	ck_assert_int_eq(config_load(&cfg, tdir, err, sizeof(err)), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(err, conf_path));
	ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
}
END_TEST

/* A small error buffer gets a cut message, never an overflow. */
START_TEST(test_small_error_buffer)
{
	struct config *cfg = NULL;
	char small[8];

	write_conf("foo = bar\n");
	ck_assert_int_eq(config_load(&cfg, tdir, small, sizeof(small)), -1);
	ck_assert_uint_lt(strlen(small), sizeof(small));
	ck_assert_int_eq(config_load(&cfg, tdir, small, 0), -1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(config_load(&cfg, "", err, sizeof(err)), -1);
}
END_TEST

/* check_defaults - the documented defaults, as loaded into cfg */
static void check_defaults(const struct config *cfg, const char *dir)
{
	char host[256], buf[512], want[512];
	const int64_t *secs;
	size_t n, i;

	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	ck_assert_str_eq(config_str(cfg, CK_myhostname), host);
	ck_assert_str_eq(config_str(cfg, CK_smtp_helo_name), host);
	snprintf(want, sizeof(want), "%s|localhost", host);
	ck_assert_str_eq(joined(cfg, CK_local_domains, buf, sizeof(buf)),
	    want);
	secs = config_durations(cfg, CK_retry_schedule, &n);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < n; i++)
		ck_assert(secs[i] == 7200);
	ck_assert(config_size(cfg, CK_message_size_limit) == 52428800);
	ck_assert(config_size(cfg, CK_header_size_limit) == 1048576);
	ck_assert(config_size(cfg, CK_queue_map_size) == 8589934592ULL);
	ck_assert(config_size(cfg, CK_bounce_size_limit) == 102400);
	ck_assert_int_eq(config_count(cfg, CK_recipient_limit), 10000);
	ck_assert_int_eq(config_count(cfg, CK_min_local_uid), 1000);
	ck_assert_int_eq(config_count(cfg, CK_smtp_port), 25);
	ck_assert(config_duration(cfg, CK_max_queue_lifetime) == 36000);
	ck_assert(config_duration(cfg, CK_shutdown_timeout) == 30);
	ck_assert(config_duration(cfg, CK_smtp_data_timeout) == 600);
	ck_assert_int_eq(config_tls_level(cfg, CK_smtp_tls_security_level),
	    TLS_MAY);
	config_list(cfg, CK_dns_servers, &n);
	ck_assert_uint_eq(n, 0);
	snprintf(buf, sizeof(buf), "%s/virtual", dir);
	ck_assert_str_eq(config_str(cfg, CK_virtual_mailbox_file), buf);
	ck_assert_str_eq(config_str(cfg, CK_queue_directory),
	    "/var/spool/postern");
	ck_assert_str_eq(config_str(cfg, CK_log_file), "");
	ck_assert_str_eq(config_str(cfg, CK_recipient_delimiter), "+");
}

/* check_all_defaults - every key at its default, unset, line 0; the keys
   whose default has no '$' read back as the default itself */
static void check_all_defaults(const struct config *cfg)
{
	int k;

	for (k = 0; k < CK_COUNT; k++) {
		enum config_type t = config_key_type(k);

		ck_assert_int_eq(config_is_set(cfg, k), 0);
		ck_assert_uint_eq(config_line(cfg, k), 0);
		if ((t == CT_STR || t == CT_PATH || t == CT_OPTPATH) &&
		    strchr(config_key_default(k), '$') == NULL)
			ck_assert_str_eq(config_str(cfg, k),
			    config_key_default(k));
	}
}

START_TEST(test_defaults)
{
	struct config *cfg = NULL;

	ck_assert_msg(config_defaults(&cfg, tdir, err, sizeof(err)) == 0,
	    "%s", err);
	check_defaults(cfg, tdir);
	check_all_defaults(cfg);
	config_free(&cfg);
	cfg = load_ok("# nothing but comments\n\n   # and blanks\n");
	check_defaults(cfg, tdir);
	check_all_defaults(cfg);
	config_free(&cfg);
	config_free(&cfg);
	config_free(NULL);
}
END_TEST

START_TEST(test_describe)
{
	int k;

	for (k = 0; k < CK_COUNT; k++) {
		ck_assert_int_eq(config_key_lookup(config_key_name(k)), k);
		ck_assert_ptr_nonnull(config_key_default(k));
		ck_assert_uint_gt(strlen(config_key_meaning(k)), 0);
		ck_assert_int_le(config_key_type(k), CT_TLSLEVEL);
	}
	ck_assert_str_eq(config_key_name(CK_relayhost), "relayhost");
	ck_assert_int_eq(config_key_type(CK_smtp_port), CT_PORT);
	ck_assert_int_eq(config_key_type(CK_retry_schedule), CT_DURATIONS);
	ck_assert_str_eq(config_key_default(CK_message_size_limit), "50M");
	ck_assert_int_eq(config_key_lookup("nope"), -1);
	ck_assert_int_eq(config_key_lookup(""), -1);
	ck_assert_int_eq(config_key_lookup("relayhos"), -1);
	ck_assert_int_eq(config_key_lookup("relayhostx"), -1);
	ck_assert_int_eq(config_key_lookup(NULL), -1);
}
END_TEST

/* The exported value parsers on their own. */
static const struct parse_case {
	const char *s;
	int ok;
	long long v;
} durations[] = {
	{ "0", 1, 0 }, { "1", 1, 1 }, { "30s", 1, 30 }, { "5m", 1, 300 },
	{ "2h", 1, 7200 }, { "1d", 1, 86400 }, { "2w", 1, 1209600 },
	{ "9223372036854775807", 1, 9223372036854775807LL },
	{ "", 0, 0 }, { "s", 0, 0 }, { " 5", 0, 0 }, { "5 ", 0, 0 },
	{ "5y", 0, 0 }, { "5H", 0, 0 }, { "0x10", 0, 0 },
}, sizes[] = {
	{ "0", 1, 0 }, { "1", 1, 1 }, { "1k", 1, 1024 }, { "1K", 1, 1024 },
	{ "3m", 1, 3145728 }, { "3M", 1, 3145728 }, { "2g", 1, 2147483648LL },
	{ "2G", 1, 2147483648LL }, { "", 0, 0 }, { "1T", 0, 0 },
	{ "1b", 0, 0 }, { " 1", 0, 0 }, { "1k ", 0, 0 },
};

START_TEST(test_parse_duration)
{
	const struct parse_case *c = &durations[_i];
	int64_t v = -7;

	ck_assert_int_eq(config_parse_duration(c->s, &v), c->ok ? 0 : -1);
	ck_assert(v == (c->ok ? c->v : -7));
}
END_TEST

START_TEST(test_parse_size)
{
	const struct parse_case *c = &sizes[_i];
	uint64_t v = 7;

	ck_assert_int_eq(config_parse_size(c->s, &v), c->ok ? 0 : -1);
	ck_assert(v == (c->ok ? (uint64_t)c->v : 7));
}
END_TEST

/* Reading a key as the wrong type is a bug: the accessor aborts. These
   tests need no directory (config_defaults reads no file), so that an
   aborted test leaves nothing behind. */
static struct config *misuse_cfg(void)
{
	struct config *cfg = NULL;

	ck_assert_int_eq(config_defaults(&cfg, "/nonexistent", err,
	    sizeof(err)), 0);
	return cfg;
}

START_TEST(test_misuse)
{
	struct config *cfg = misuse_cfg();
	size_t n;

	switch (_i) {
	case 0: (void)config_size(cfg, CK_relayhost); break;
	case 1: (void)config_str(cfg, CK_smtp_port); break;
	case 2: (void)config_list(cfg, CK_retry_schedule, &n); break;
	case 3: (void)config_durations(cfg, CK_local_domains, &n); break;
	case 4: (void)config_duration(cfg, CK_message_size_limit); break;
	case 5: (void)config_count(cfg, CK_max_queue_lifetime); break;
	case 6: (void)config_tls_level(cfg, CK_myhostname); break;
	case 7: (void)config_str(cfg, (enum config_key)CK_COUNT); break;
	case 8: (void)config_key_name((enum config_key)CK_COUNT); break;
	default: (void)config_str(NULL, CK_relayhost); break;
	}
}
END_TEST

/* config_dir_choose: who may override the directory, and with what. */
static const struct choose_case {
	const char *arg;
	int trusted;
	const char *env, *want;
} choose_cases[] = {
	{ "/a", 1, NULL, "/a" },
	{ "/a", 1, "/env", "/a" },
	{ NULL, 1, "/env", "/env" },
	{ NULL, 1, NULL, "/etc/postern" },
	{ NULL, 1, "", "/etc/postern" },
	{ NULL, 0, "/env", "/etc/postern" },
	{ NULL, 0, NULL, "/etc/postern" },
	{ "/a", 0, NULL, NULL },
	{ "/a", 0, "/env", NULL },
};

START_TEST(test_dir_choose)
{
	const struct choose_case *c = &choose_cases[_i];
	const char *error = NULL, *dir;

	if (c->env)
		ck_assert_int_eq(setenv("POSTERN_CONFIG", c->env, 1), 0);
	else
		ck_assert_int_eq(unsetenv("POSTERN_CONFIG"), 0);
	dir = config_dir_choose(c->arg, c->trusted, &error);
	if (c->want == NULL) {
		ck_assert_ptr_null(dir);
		ck_assert_str_eq(error, "-c/-C is allowed only for root");
	} else {
		ck_assert_str_eq(dir, c->want);
		ck_assert_ptr_null(error);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("values");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_good_value, 0, ARRAY_LEN(good_values));
	tcase_add_loop_test(tc, test_bad_value, 0, ARRAY_LEN(bad_values));
	tcase_add_loop_test(tc, test_parse_duration, 0, ARRAY_LEN(durations));
	tcase_add_loop_test(tc, test_parse_size, 0, ARRAY_LEN(sizes));
	tcase_add_test(tc, test_list_max);
	tcase_add_test(tc, test_hostname_lengths);
	tcase_add_test(tc, test_long_bad_value);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_syntax, 0, ARRAY_LEN(bad_syntax));
	tcase_add_loop_test(tc, test_good_syntax, 0, ARRAY_LEN(good_syntax));
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_continued_list);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_unreadable_file);
	tcase_add_test(tc, test_small_error_buffer);
	tcase_add_test(tc, test_dir_trailing_slash);
	suite_add_tcase(s, tc);

	tc = tcase_create("expansion");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_good_expand, 0, ARRAY_LEN(good_expand));
	tcase_add_loop_test(tc, test_bad_expand, 0, ARRAY_LEN(bad_expand));
	tcase_add_test(tc, test_expand_local_domains);
	tcase_add_test(tc, test_expand_config_directory);
	tcase_add_test(tc, test_expand_depth);
	tcase_add_test(tc, test_expand_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("access");
	tcase_add_loop_test_raise_signal(tc, test_misuse, SIGABRT, 0, 10);
	tcase_add_loop_test(tc, test_dir_choose, 0, ARRAY_LEN(choose_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
