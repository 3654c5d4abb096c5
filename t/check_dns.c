/*
 * check_dns - unit tests of common/dns.c against a scripted DNS server.
 *
 * The unchecked fixture writes a zone into a mkdtemp() directory and
 * starts t/e2e/dnsfake.py on 127.0.0.1 (and on ::1 when the host has
 * IPv6 loopback) at a port it picks; the tests point dns_open at it, so
 * nothing depends on the host's DNS. The script is found through
 * $POSTERN_TOP, else relative to the current directory. Without
 * /usr/bin/python3 the test is skipped (exit 77).
 *
 * Covers: MX order by preference, equal preferences shuffled, the cap on
 * records, no MX, null MX (alone and mixed), NXDOMAIN, SERVFAIL,
 * REFUSED, a timeout within its bound, a truncated UDP answer retried
 * over TCP, malformed answers of several kinds, A and AAAA (either one
 * failing), CNAME chains, loops and dangling ends, MX targets that are IP
 * literals or not host names, names refused before any query, the log
 * lines, the dns_servers syntax, an IPv6 server, lookups after chroot()
 * into an empty directory (as root), and the answer parser
 * fed every prefix and many one-byte mutations of a packet.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "strbuf.h"

#define PYTHON "/usr/bin/python3"
#define TDIR_TEMPLATE "/tmp/check_dns.XXXXXX"
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char tdir[sizeof(TDIR_TEMPLATE)];
static char zone_path[256], fake_log[256], script[4096];
static char servers[64], servers6[64];
static pid_t fake_pid = -1, fake6_pid = -1;

/* The zone: every name the tests ask about. */
static const char zone_text[] =
"{\n"
"\"pref.test\": {\"MX\": [[20, \"mx2.pref.test\"], [10, \"mx1.pref.test\"],"
"  [30, \"mx3.pref.test\"]]},\n"
"\"eq.test\": {\"MX\": [[10, \"a.eq.test\"], [20, \"c.eq.test\"],"
"  [10, \"b.eq.test\"]]},\n"
"\"nomx.test\": {\"A\": [\"127.0.0.9\"]},\n"
"\"null.test\": {\"MX\": [[0, \".\"]]},\n"
"\"nullmix.test\": {\"MX\": [[10, \"mx.nullmix.test\"], [0, \".\"]]},\n"
"\"nx.test\": {\"rcode\": \"NXDOMAIN\"},\n"
"\"servfail.test\": {\"rcode\": \"SERVFAIL\"},\n"
"\"refused.test\": {\"rcode\": \"REFUSED\"},\n"
"\"formerr.test\": {\"rcode\": \"FORMERR\"},\n"
"\"slow.test\": {\"rcode\": \"timeout\"},\n"
"\"trunc.test\": {\"rcode\": \"truncate\", \"MX\": [[10, \"mx.trunc.test\"]]},\n"
"\"garbage.test\": {\"rcode\": \"garbage\"},\n"
"\"loop.test\": {\"rcode\": \"garbage-loop\"},\n"
"\"count.test\": {\"rcode\": \"garbage-count\"},\n"
"\"rdata.test\": {\"rcode\": \"garbage-rdata\", \"MX\": [[1, \"x.test\"]],"
"  \"A\": [\"127.0.0.1\"]},\n"
"\"random.test\": {\"rcode\": \"garbage-random\"},\n"
"\"label.test\": {\"MX\": [[10, \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
"aaaaaaaaaaa.test\"]]},\n"
"\"host.test\": {\"A\": [\"127.0.0.2\", \"127.0.0.3\"], \"AAAA\": [\"::1\"]},\n"
"\"v6only.test\": {\"AAAA\": [\"::2\"]},\n"
"\"noaddr.test\": {\"MX\": [[10, \"x.test\"]]},\n"
"\"aaaafail.test\": {\"A\": [\"127.0.0.5\"], \"rcode\": {\"AAAA\": \"SERVFAIL\"}},\n"
"\"afail.test\": {\"AAAA\": [\"::5\"], \"rcode\": {\"A\": \"SERVFAIL\"}},\n"
"\"lit.test\": {\"MX\": [[5, \"127.0.0.1\"], [10, \"mx.lit.test\"],"
"  [15, \"a;b.lit.test\"], [20, \"[10.0.0.1]\"], [25, \"-x.lit.test\"]]},\n"
"\"allbad.test\": {\"MX\": [[10, \"127.0.0.1\"]]},\n"
"\"alias.test\": {\"CNAME\": \"host.test\"},\n"
"\"mxalias.test\": {\"CNAME\": \"pref.test\"},\n"
"\"cloop1.test\": {\"CNAME\": \"cloop2.test\"},\n"
"\"cloop2.test\": {\"CNAME\": \"cloop1.test\"},\n"
"\"dangling.test\": {\"CNAME\": \"nowhere.test\"},\n"
"\"many.test\": {\"MX\": [";

/* write_zone - the zone file, with 100 MX records for many.test */
static int write_zone(void)
{
	FILE *f = fopen(zone_path, "w");
	int i;

	if (f == NULL)
		return -1;
	fputs(zone_text, f);
	for (i = 99; i >= 0; i--)
		fprintf(f, "[%d, \"mx%d.many.test\"]%s", i, i, i ? ", " : "");
	fputs("]}\n}\n", f);
	return fclose(f);
}

/* fake_start - run dnsfake.py on addr; its pid, *port_r set, or -1 */
static pid_t fake_start(const char *addr, int *port_r)
{
	char line[64];
	int fds[2], fd;
	pid_t pid;
	FILE *f;

	*port_r = 0;
	if (pipe(fds) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		fd = open(fake_log, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		execl(PYTHON, "python3", script, zone_path, "0", addr,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (f != NULL && fgets(line, sizeof(line), f) != NULL &&
	    sscanf(line, "ready %d", port_r) == 1 && *port_r > 0) {
		fclose(f);
		return pid;
	}
	if (f != NULL)
		fclose(f);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return -1;
}

static void setup(void)
{
	const char *top = getenv("POSTERN_TOP");
	int port;

	snprintf(script, sizeof(script), "%s%st/e2e/dnsfake.py",
	    top ? top : "", top ? "/" : "");
	memcpy(tdir, TDIR_TEMPLATE, sizeof(tdir));
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(zone_path, sizeof(zone_path), "%s/zone.json", tdir);
	snprintf(fake_log, sizeof(fake_log), "%s/dnsfake.log", tdir);
	ck_assert_int_eq(write_zone(), 0);
	fake_pid = fake_start("127.0.0.1", &port);
	ck_assert_msg(fake_pid > 0, "cannot start %s", script);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	/* IPv6 loopback may be missing (containers): that test then skips. */
	fake6_pid = fake_start("::1", &port);
	if (fake6_pid > 0)
		snprintf(servers6, sizeof(servers6), "[::1]:%d", port);
}

static void teardown(void)
{
	pid_t pids[] = { fake_pid, fake6_pid };
	size_t i;

	for (i = 0; i < ARRAY_LEN(pids); i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGTERM);
			waitpid(pids[i], NULL, 0);
		}
	}
	fake_pid = fake6_pid = -1;
	unlink(zone_path);
	unlink(fake_log);
	rmdir(tdir);
}

/* open_fake - a resolver pointed at the fake server */
static struct dns *open_fake(const char *srv)
{
	struct dns *d;
	char err[256];

	ck_assert_msg(dns_open(&d, srv, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* has_line - the log holds this exact line */
static int has_line(const struct strbuf *log, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "dns: %s\n", line);
	return strstr(strbuf_str(log), want) != NULL;
}

/* The status of every kind of answer, table-driven. */
enum { MX, ADDRS };
static const struct status_case {
	int kind;
	const char *name;
	int status;
	size_t n;
	const char *first;	/* v[0] as text, or NULL */
	const char *line;	/* a log line (without "dns: "), or NULL */
} status_cases[] = {
	{ MX, "pref.test", DNS_OK, 3, "mx1.pref.test",
	  "pref.test MX 10 mx1.pref.test" },
	{ MX, "PREF.Test.", DNS_OK, 3, "mx1.pref.test", NULL },
	{ MX, "nomx.test", DNS_NODATA, 0, NULL, "nomx.test MX: no records" },
	{ MX, "null.test", DNS_OK, 1, "", "null.test MX 0 . (null MX: the "
	  "domain accepts no mail)" },
	{ MX, "nullmix.test", DNS_OK, 1, "", "nullmix.test MX: 1 other "
	  "records ignored beside the null MX (RFC 7505 section 3)" },
	{ MX, "nx.test", DNS_NXDOMAIN, 0, NULL,
	  "nx.test MX: NXDOMAIN (no such domain)" },
	{ MX, "missing.test", DNS_NXDOMAIN, 0, NULL, NULL },
	{ MX, "servfail.test", DNS_TEMP, 0, NULL, "servfail.test MX: "
	  "temporary failure (SERVFAIL, REFUSED or no answer)" },
	{ MX, "refused.test", DNS_TEMP, 0, NULL, NULL },
	{ MX, "formerr.test", DNS_TEMP, 0, NULL, NULL },
	{ MX, "trunc.test", DNS_OK, 1, "mx.trunc.test", NULL },
	{ MX, "garbage.test", DNS_TEMP, 0, NULL, "garbage.test MX: malformed "
	  "answer: record data beyond the end of the packet" },
	{ MX, "loop.test", DNS_TEMP, 0, NULL, NULL },
	{ MX, "count.test", DNS_TEMP, 0, NULL, NULL },
	{ MX, "rdata.test", DNS_TEMP, 0, NULL, NULL },
	{ MX, "random.test", DNS_TEMP, 0, NULL, NULL },
	{ MX, "label.test", DNS_TEMP, 0, NULL, NULL },
	{ MX, "lit.test", DNS_OK, 1, "mx.lit.test",
	  "lit.test MX 5 127.0.0.1 ignored: an IP address literal" },
	{ MX, "allbad.test", DNS_OK, 0, NULL, "allbad.test MX: no usable "
	  "record (no fallback to the address records)" },
	{ MX, "mxalias.test", DNS_OK, 3, "mx1.pref.test",
	  "mxalias.test CNAME pref.test" },
	{ MX, "cloop1.test", DNS_TEMP, 0, NULL,
	  "cloop2.test: malformed answer: a CNAME loop" },
	{ MX, "dangling.test", DNS_NODATA, 0, NULL,
	  "dangling.test CNAME nowhere.test" },
	{ MX, "bad..test", DNS_NXDOMAIN, 0, NULL,
	  "bad..test MX: not looked up: an empty label" },
	{ MX, "127.0.0.1", DNS_NXDOMAIN, 0, NULL, NULL },
	{ MX, "", DNS_NXDOMAIN, 0, NULL, NULL },
	{ MX, "exa_mple.test", DNS_NXDOMAIN, 0, NULL, NULL },
	{ ADDRS, "host.test", DNS_OK, 3, "127.0.0.2", "host.test AAAA ::1" },
	{ ADDRS, "v6only.test", DNS_OK, 1, "::2", "v6only.test A: no records" },
	{ ADDRS, "nomx.test", DNS_OK, 1, "127.0.0.9", NULL },
	{ ADDRS, "noaddr.test", DNS_NODATA, 0, NULL, NULL },
	{ ADDRS, "aaaafail.test", DNS_OK, 1, "127.0.0.5",
	  "aaaafail.test AAAA: temporary failure (SERVFAIL, REFUSED or no "
	  "answer)" },
	{ ADDRS, "afail.test", DNS_OK, 1, "::5", NULL },
	{ ADDRS, "servfail.test", DNS_TEMP, 0, NULL, NULL },
	{ ADDRS, "nx.test", DNS_NXDOMAIN, 0, NULL, NULL },
	{ ADDRS, "alias.test", DNS_OK, 3, "127.0.0.2",
	  "host.test A 127.0.0.3" },
	{ ADDRS, "rdata.test", DNS_TEMP, 0, NULL,
	  "rdata.test: malformed answer: an A record not of 4 octets" },
	{ ADDRS, "garbage.test", DNS_TEMP, 0, NULL, NULL },
	{ ADDRS, "[127.0.0.1]", DNS_NXDOMAIN, 0, NULL, NULL },
};

/* addr_text - an address as text */
static void addr_text(const struct dns_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->addr, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
}

START_TEST(test_status)
{
	const struct status_case *c = &status_cases[_i];
	struct strbuf log = STRBUF_INIT(1 << 20);
	struct dns_mx mx[DNS_MX_LIMIT];
	struct dns_addr ad[DNS_ADDR_LIMIT];
	struct dns *d = open_fake(servers);
	char text[64];
	size_t n = 99;
	int st;

	if (c->kind == MX)
		st = dns_mx(d, c->name, mx, ARRAY_LEN(mx), &n, &log);
	else
		st = dns_addrs(d, c->name, ad, ARRAY_LEN(ad), &n, &log);
	ck_assert_msg(st == c->status, "%s: %s, want %s; log:\n%s", c->name,
	    dns_status_name(st), dns_status_name(c->status), strbuf_str(&log));
	ck_assert_msg(n == c->n, "%s: %zu records, want %zu; log:\n%s",
	    c->name, n, c->n, strbuf_str(&log));
	if (c->first != NULL && c->kind == MX)
		ck_assert_str_eq(mx[0].host, c->first);
	if (c->first != NULL && c->kind == ADDRS) {
		addr_text(&ad[0], text, sizeof(text));
		ck_assert_str_eq(text, c->first);
	}
	if (c->line != NULL)
		ck_assert_msg(has_line(&log, c->line), "%s: no line '%s' in:\n%s",
		    c->name, c->line, strbuf_str(&log));
	ck_assert(strbuf_ok(&log));
	strbuf_release(&log);
	dns_close(&d);
	ck_assert_ptr_null(d);
}
END_TEST

START_TEST(test_mx_order)
{
	struct strbuf log = STRBUF_INIT(4096);
	struct dns_mx mx[8];
	struct dns *d = open_fake(servers);
	size_t n;

	ck_assert_int_eq(dns_mx(d, "pref.test", mx, 8, &n, &log), DNS_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(mx[0].host, "mx1.pref.test");
	ck_assert_uint_eq(mx[0].pref, 10);
	ck_assert_str_eq(mx[1].host, "mx2.pref.test");
	ck_assert_uint_eq(mx[1].pref, 20);
	ck_assert_str_eq(mx[2].host, "mx3.pref.test");
	ck_assert_uint_eq(mx[2].pref, 30);
	ck_assert_str_eq(strbuf_str(&log),
	    "dns: pref.test MX 10 mx1.pref.test\n"
	    "dns: pref.test MX 20 mx2.pref.test\n"
	    "dns: pref.test MX 30 mx3.pref.test\n");
	strbuf_release(&log);
	dns_close(&d);
}
END_TEST

/* Equal preferences: both come first across 50 lookups, and the higher
   preference is always last. */
START_TEST(test_mx_shuffle)
{
	struct dns_mx mx[8];
	struct dns *d = open_fake(servers);
	int first_a = 0, first_b = 0, i;
	size_t n;

	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(dns_mx(d, "eq.test", mx, 8, &n, NULL), DNS_OK);
		ck_assert_uint_eq(n, 3);
		ck_assert_str_eq(mx[2].host, "c.eq.test");
		if (strcmp(mx[0].host, "a.eq.test") == 0) {
			first_a++;
			ck_assert_str_eq(mx[1].host, "b.eq.test");
		} else {
			first_b++;
			ck_assert_str_eq(mx[0].host, "b.eq.test");
			ck_assert_str_eq(mx[1].host, "a.eq.test");
		}
	}
	ck_assert_int_gt(first_a, 0);
	ck_assert_int_gt(first_b, 0);
	dns_close(&d);
}
END_TEST

/* 100 MX records (over 512 octets: the fake truncates, TCP follows):
   the 32 lowest preferences kept, in order, the rest logged. */
START_TEST(test_mx_cap)
{
	struct strbuf log = STRBUF_INIT(1 << 16);
	struct dns_mx mx[DNS_MX_LIMIT];
	struct dns *d = open_fake(servers);
	char want[64];
	size_t n, i;

	ck_assert_int_eq(dns_mx(d, "many.test", mx, DNS_MX_LIMIT, &n, &log),
	    DNS_OK);
	ck_assert_uint_eq(n, DNS_MX_LIMIT);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "mx%zu.many.test", i);
		ck_assert_str_eq(mx[i].host, want);
		ck_assert_uint_eq(mx[i].pref, i);
	}
	ck_assert(has_line(&log, "many.test MX: 68 more records ignored "
	    "(limit 32)"));
	ck_assert(!has_line(&log, "many.test MX 32 mx32.many.test"));
	strbuf_release(&log);
	dns_close(&d);
}
END_TEST

/* fake_log_has - the fake server logged this */
static int fake_log_has(const char *what)
{
	char buf[1 << 16];
	FILE *f = fopen(fake_log, "r");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, what) != NULL;
}

START_TEST(test_truncated_tcp)
{
	struct dns_mx mx[4];
	struct dns *d = open_fake(servers);
	size_t n;

	ck_assert_int_eq(dns_mx(d, "trunc.test", mx, 4, &n, NULL), DNS_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(mx[0].host, "mx.trunc.test");
	ck_assert(fake_log_has("udp trunc.test MX -> truncate"));
	ck_assert(fake_log_has("tcp trunc.test MX -> truncate"));
	dns_close(&d);
}
END_TEST

/* monotonic - seconds */
static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A silent server: DNS_TEMP once the tries are spent (1 s x 2). */
START_TEST(test_timeout)
{
	struct strbuf log = STRBUF_INIT(4096);
	struct dns_mx mx[4];
	struct dns *d = open_fake(servers);
	double t0, t;
	size_t n;

	dns_set_timeout(d, 1, 2);
	t0 = monotonic();
	ck_assert_int_eq(dns_mx(d, "slow.test", mx, 4, &n, &log), DNS_TEMP);
	t = monotonic() - t0;
	ck_assert_msg(t >= 1.5 && t < 4.0, "took %.2f s", t);
	ck_assert_uint_eq(n, 0);
	ck_assert(has_line(&log, "slow.test MX: temporary failure (SERVFAIL, "
	    "REFUSED or no answer)"));
	strbuf_release(&log);
	dns_close(&d);
}
END_TEST

/* Nothing listens: DNS_TEMP, quickly (ICMP port unreachable). */
START_TEST(test_no_server)
{
	struct dns_mx mx[4];
	struct dns *d = open_fake("127.0.0.1:9");
	size_t n;

	dns_set_timeout(d, 1, 1);
	ck_assert_int_eq(dns_mx(d, "pref.test", mx, 4, &n, NULL), DNS_TEMP);
	dns_close(&d);
}
END_TEST

START_TEST(test_addrs)
{
	struct strbuf log = STRBUF_INIT(4096);
	struct dns_addr ad[8];
	struct dns *d = open_fake(servers);
	char text[64];
	size_t n;

	ck_assert_int_eq(dns_addrs(d, "host.test.", ad, 8, &n, &log), DNS_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ad[0].family, AF_INET);
	addr_text(&ad[0], text, sizeof(text));
	ck_assert_str_eq(text, "127.0.0.2");
	ck_assert_int_eq(ad[1].family, AF_INET);
	addr_text(&ad[1], text, sizeof(text));
	ck_assert_str_eq(text, "127.0.0.3");
	ck_assert_int_eq(ad[2].family, AF_INET6);
	addr_text(&ad[2], text, sizeof(text));
	ck_assert_str_eq(text, "::1");
	ck_assert_str_eq(strbuf_str(&log),
	    "dns: host.test A 127.0.0.2\n"
	    "dns: host.test A 127.0.0.3\n"
	    "dns: host.test AAAA ::1\n");
	/* The cap: two kept, the third logged. */
	strbuf_reset(&log);
	ck_assert_int_eq(dns_addrs(d, "host.test", ad, 2, &n, &log), DNS_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert(has_line(&log, "host.test AAAA: 1 more addresses ignored "
	    "(limit 2)"));
	strbuf_release(&log);
	dns_close(&d);
}
END_TEST

/* An IPv6 server given as [::1]:port. */
START_TEST(test_ipv6_server)
{
	struct dns_mx mx[4];
	struct dns *d;
	size_t n;

	if (fake6_pid <= 0) {
		fprintf(stderr, "no IPv6 loopback: IPv6 server not tested\n");
		return;
	}
	d = open_fake(servers6);
	ck_assert_int_eq(dns_mx(d, "pref.test", mx, 4, &n, NULL), DNS_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(mx[0].host, "mx1.pref.test");
	dns_close(&d);
}
END_TEST

/* The worker opens the resolver, then chroots into an empty directory:
   lookups must still work there (run as root only). */
START_TEST(test_chroot)
{
	char empty[300];
	struct dns_mx mx[4];
	struct dns *d;
	size_t n;
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "not root: chroot not tested\n");
		return;
	}
	snprintf(empty, sizeof(empty), "%s/empty", tdir);
	ck_assert_int_eq(mkdir(empty, 0755), 0);
	d = open_fake(servers);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chroot(empty) != 0 || chdir("/") != 0)
			_exit(2);
		_exit(dns_mx(d, "pref.test", mx, 4, &n, NULL) == DNS_OK &&
		    n == 3 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	dns_close(&d);
	rmdir(empty);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* The dns_servers syntax. */
static const struct {
	const char *servers;
	int ok;
	const char *err;
} open_cases[] = {
	{ "", 1, NULL },
	{ " , ", 1, NULL },
	{ "127.0.0.1", 1, NULL },
	{ "127.0.0.1:53", 1, NULL },
	{ "127.0.0.1:5353 192.0.2.1,[::1]:53", 1, NULL },
	{ "::1", 1, NULL },
	{ "[2001:db8::1]", 1, NULL },
	{ "127.0.0.1:0", 0, "a port out of range" },
	{ "127.0.0.1:65536", 0, "a port out of range" },
	{ "127.0.0.1:53x", 0, "a bad port" },
	{ "127.0.0.1:", 0, "a bad port" },
	{ "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4", 0, "more than 3 servers" },
	{ "dns.example", 0, "not an IPv4 address" },
	{ "[::1", 0, "'[' without ']'" },
	{ "[::1]x", 0, "text after ']'" },
	{ "[127.0.0.1]:53", 0, "not an IPv6 address" },
	{ "fe80::1%eth0", 0, "not an IPv6 address" },
	{ "256.0.0.1", 0, "not an IPv4 address" },
};

START_TEST(test_open)
{
	struct dns *d = (struct dns *)&d;
	char err[256] = "";
	int r = dns_open(&d, open_cases[_i].servers, err, sizeof(err));

	if (open_cases[_i].ok) {
		ck_assert_msg(r == 0, "%s: %s", open_cases[_i].servers, err);
		ck_assert_ptr_nonnull(d);
		dns_close(&d);
		ck_assert_ptr_null(d);
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_ptr_null(d);
		ck_assert_msg(strstr(err, open_cases[_i].err) != NULL,
		    "%s: '%s'", open_cases[_i].servers, err);
	}
}
END_TEST

START_TEST(test_open_system)
{
	struct dns *d = NULL;
	char err[256];

	ck_assert_int_eq(dns_open(&d, NULL, err, sizeof(err)), 0);
	dns_set_timeout(d, 0, 0);	/* clamped to 1 and 1 */
	dns_close(&d);
	dns_close(&d);			/* NULL is fine */
}
END_TEST

/* A reply to "x.test MX" with two MX records, names compressed. */
static const unsigned char mx_packet[] = {
	0x12, 0x34, 0x85, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
	1, 'x', 4, 't', 'e', 's', 't', 0, 0, 15, 0, 1,
	0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 44, 0, 7, 0, 10, 2, 'm', 'x',
	0xc0, 12,
	0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 44, 0, 4, 0, 20, 0xc0, 38,
};

/* A reply to "x.test A": one CNAME to y.x.test, one A record. */
static const unsigned char a_packet[] = {
	0x12, 0x34, 0x85, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
	1, 'x', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 4, 1, 'y', 0xc0, 12,
	0xc0, 36, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 7,
};

START_TEST(test_parse_whole)
{
	struct strbuf log = STRBUF_INIT(4096);
	struct dns_mx mx[4];
	struct dns_addr ad[4];
	size_t n = 0;

	ck_assert_int_eq(dns_answer_mx(mx_packet, sizeof(mx_packet), "x.test",
	    mx, 4, &n, &log), DNS_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(mx[0].host, "mx.x.test");
	ck_assert_str_eq(mx[1].host, "mx.x.test");
	ck_assert_uint_eq(mx[1].pref, 20);
	/* The question must be the one asked. */
	ck_assert_int_eq(dns_answer_mx(mx_packet, sizeof(mx_packet), "y.test",
	    mx, 4, &n, &log), DNS_TEMP);
	ck_assert(has_line(&log, "y.test MX: malformed answer: the answer to "
	    "another question"));
	n = 0;
	ck_assert_int_eq(dns_answer_addrs(a_packet, sizeof(a_packet), "x.test",
	    AF_INET, ad, 4, &n, &log), DNS_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_line(&log, "x.test CNAME y.x.test"));
	ck_assert(has_line(&log, "y.x.test A 127.0.0.7"));
	strbuf_release(&log);
}
END_TEST

/* Every strict prefix of a reply is malformed: DNS_TEMP, no records. */
START_TEST(test_parse_prefixes)
{
	struct dns_mx mx[4];
	struct dns_addr ad[4];
	size_t len, n;

	for (len = 0; len < sizeof(mx_packet); len++) {
		unsigned char *p = malloc(len ? len : 1);

		memcpy(p, mx_packet, len);
		ck_assert_int_eq(dns_answer_mx(p, len, "x.test", mx, 4, &n,
		    NULL), DNS_TEMP);
		ck_assert_uint_eq(n, 0);
		free(p);
	}
	for (len = 0; len < sizeof(a_packet); len++) {
		unsigned char *p = malloc(len ? len : 1);

		memcpy(p, a_packet, len);
		n = 0;
		ck_assert_int_eq(dns_answer_addrs(p, len, "x.test", AF_INET, ad,
		    4, &n, NULL), DNS_TEMP);
		ck_assert_uint_eq(n, 0);
		free(p);
	}
}
END_TEST

/* Every byte set to several values: never a crash (ASan watches), and
   any record returned is a valid host name. */
START_TEST(test_parse_mutations)
{
	static const unsigned char vals[] = { 0, 1, 0x3f, 0x40, 0x7f, 0x80,
	    0xc0, 0xc1, 0xff };
	unsigned char p[sizeof(mx_packet)], q[sizeof(a_packet)];
	struct strbuf log = STRBUF_INIT(1 << 20);
	struct dns_mx mx[4];
	struct dns_addr ad[4];
	size_t i, j, k, n;
	int st;

	for (i = 0; i < sizeof(p); i++) {
		for (j = 0; j < ARRAY_LEN(vals); j++) {
			memcpy(p, mx_packet, sizeof(p));
			p[i] = vals[j];
			strbuf_reset(&log);
			st = dns_answer_mx(p, sizeof(p), "x.test", mx, 4, &n,
			    &log);
			ck_assert(st >= DNS_OK && st <= DNS_TEMP);
			ck_assert_uint_le(n, 4);
			for (k = 0; k < n; k++)
				ck_assert(strlen(mx[k].host) <= DNS_HOST_MAX);
			ck_assert(memchr(strbuf_str(&log), '\r', log.len) == NULL);
		}
	}
	for (i = 0; i < sizeof(q); i++) {
		for (j = 0; j < ARRAY_LEN(vals); j++) {
			memcpy(q, a_packet, sizeof(q));
			q[i] = vals[j];
			n = 0;
			st = dns_answer_addrs(q, sizeof(q), "x.test", AF_INET,
			    ad, 4, &n, NULL);
			ck_assert(st >= DNS_OK && st <= DNS_TEMP);
			ck_assert_uint_le(n, 4);
		}
	}
	strbuf_release(&log);
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("fake server");
	TCase *tp = tcase_create("parser");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_status, 0, (int)ARRAY_LEN(status_cases));
	tcase_add_test(tc, test_mx_order);
	tcase_add_test(tc, test_mx_shuffle);
	tcase_add_test(tc, test_mx_cap);
	tcase_add_test(tc, test_truncated_tcp);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_no_server);
	tcase_add_test(tc, test_addrs);
	tcase_add_test(tc, test_ipv6_server);
	tcase_add_test(tc, test_chroot);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tp, 60);
	tcase_add_loop_test(tp, test_open, 0, (int)ARRAY_LEN(open_cases));
	tcase_add_test(tp, test_open_system);
	tcase_add_test(tp, test_parse_whole);
	tcase_add_test(tp, test_parse_prefixes);
	tcase_add_test(tp, test_parse_mutations);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (access(PYTHON, X_OK) != 0) {
		printf("SKIP: python3 missing\n");
		return 77;
	}
	sr = srunner_create(dns_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
