/*
 * remote_dest - where a job goes: the addresses to try, in order.
 *
 * The job's nexthop (from routes_file or relayhost, chosen by the queue
 * manager) or, without one, the recipients' domain:
 *   [host] or [host]:port  no MX lookup: the IP address literal, or the
 *                          host's A and AAAA addresses
 *   host or host:port      the MX records of host, each MX host's A then
 *                          AAAA addresses; without MX records, host's own
 *                          addresses (RFC 5321 section 5.1)
 * MX hosts come in preference order, equal preferences shuffled (dns.c).
 * A null MX (RFC 7505) is a permanent failure (5.1.10), so is a domain
 * that does not exist (5.1.2); a temporary DNS failure defers (4.4.3).
 * An MX host that is this host (myhostname) would be a loop (5.4.6).
 * Every DNS answer used goes into the transcript.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "remote.h"

const char *addr_text(const struct dns_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* set - the list's outcome when it has no address */
static void set(struct destlist *dl, int status, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(struct destlist *dl, int status, const char *enh,
    const char *fmt, ...)
{
	va_list ap;

	dl->status = status;
	snprintf(dl->enh, sizeof(dl->enh), "%s", enh);
	va_start(ap, fmt);
	vsnprintf(dl->text, sizeof(dl->text), fmt, ap);
	va_end(ap);
}

/* flush_log - DNS log lines into the transcript */
static void flush_log(struct xscript *xs, struct strbuf *log)
{
	if (log->len > 0)
		xs_lines(xs, "", log->s, log->len - (log->s[log->len - 1] ==
		    '\n'));
	strbuf_reset(log);
}

/* literal - an IP address literal ("1.2.3.4", "IPv6:::1", "::1") */
static int literal(const char *s, struct dns_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
		return 1;
	}
	if (strncasecmp(s, "IPv6:", 5) == 0)
		s += 5;
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = AF_INET6;
		return 1;
	}
	return 0;
}

/* add_host - host's addresses onto the list; the dns status */
static int add_host(struct dns *dns, const char *host, unsigned port,
    struct destlist *dl, struct xscript *xs, struct strbuf *log)
{
	struct dns_addr v[DNS_ADDR_LIMIT];
	size_t n = 0, i;
	int st = dns_addrs(dns, host, v, DNS_ADDR_LIMIT, &n, log);

	flush_log(xs, log);
	for (i = 0; st == DNS_OK && i < n && dl->n < DEST_MAX; i++) {
		struct target *t = &dl->v[dl->n++];

		snprintf(t->host, sizeof(t->host), "%s", host);
		t->addr = v[i];
		t->port = port;
	}
	return st;
}

/* parse_nexthop - host, port and whether to look up MX records: the
   job's next hop, or the domain's own MX records without one */
static int parse_nexthop(const char *nh, const char *domain, unsigned dport,
    char *host, size_t hostlen, unsigned *port, int *mx)
{
	struct nexthop p;

	if (nh == NULL || nh[0] == '\0') {
		snprintf(host, hostlen, "%s", domain);
		*port = dport;
		*mx = 1;
		return 0;
	}
	if (address_nexthop_parse(nh, &p) < 0)
		return -1;
	snprintf(host, hostlen, "%s", p.host);
	*port = p.port ? p.port : dport;
	*mx = p.mx;
	return 0;
}

/* by_mx - the MX hosts of host and their addresses */
static void by_mx(struct dns *dns, const struct config *cfg, const char *host,
    unsigned port, struct destlist *dl, struct xscript *xs,
    struct strbuf *log)
{
	struct dns_mx mx[DNS_MX_LIMIT];
	size_t n = 0, i, before[DNS_MX_LIMIT];
	int st = dns_mx(dns, host, mx, DNS_MX_LIMIT, &n, log), temp = 0;
	const char *me = config_str(cfg, CK_myhostname);

	flush_log(xs, log);
	if (st == DNS_NXDOMAIN)
		return set(dl, DEST_PERM, "5.1.2", "Host or domain name not "
		    "found: the domain %s does not exist (DNS NXDOMAIN)", host);
	if (st == DNS_TEMP)
		return set(dl, DEST_TEMP, "4.4.3", "temporary DNS failure "
		    "looking up the mail servers (MX) of %s", host);
	if (st == DNS_NODATA) {
		xs_note(xs, "no MX records for %s: using its own addresses",
		    host);
		st = add_host(dns, host, port, dl, xs, log);
		if (st == DNS_TEMP)
			return set(dl, DEST_TEMP, "4.4.3", "temporary DNS "
			    "failure looking up the address of %s", host);
		if (dl->n == 0)
			return set(dl, DEST_PERM, "5.1.2", "the domain %s has "
			    "no mail servers (no MX and no address records)",
			    host);
		return;
	}
	if (n == 1 && mx[0].host[0] == '\0')
		return set(dl, DEST_PERM, "5.1.10", "the domain %s accepts no "
		    "mail (its DNS publishes a null MX, RFC 7505)", host);
	if (n == 0)
		return set(dl, DEST_PERM, "5.4.4", "the domain %s has MX "
		    "records but none names a usable host", host);
	for (i = 0; i < n && dl->n < DEST_MAX; i++) {
		before[i] = dl->n;
		if (strcasecmp(mx[i].host, me) == 0) {
			/* RFC 5321 5.1: this host's preference and every worse
			   one are discarded, shuffled equals included. */
			while (i > 0 && mx[i - 1].pref == mx[i].pref)
				i--;
			dl->n = before[i];
			xs_note(xs, "MX host %s is this host: only MX hosts "
			    "with a lower preference than %u are tried", me,
			    mx[i].pref);
			return set(dl, dl->n ? DEST_OK : DEST_PERM, "5.4.6",
			    "mail for %s loops back to myself (MX host %s is "
			    "this host)", host, me);
		}
		if (add_host(dns, mx[i].host, port, dl, xs, log) == DNS_TEMP)
			temp = 1;
	}
	if (dl->n == 0)
		set(dl, temp ? DEST_TEMP : DEST_PERM, temp ? "4.4.3" : "5.4.4",
		    temp ? "temporary DNS failure looking up the addresses "
		    "of the mail servers of %s" : "no mail server of %s has "
		    "an address in the DNS", host);
}

void dest_build(struct dns *dns, const struct config *cfg,
    const struct rjob *j, struct destlist *dl, struct xscript *xs)
{
	struct strbuf log = STRBUF_INIT(1u << 20);
	char host[DNS_HOST_MAX + 3];
	unsigned port;
	int mx, st;

	memset(dl, 0, sizeof(*dl));
	dl->status = DEST_OK;
	if (parse_nexthop(j->nexthop, j->domain, (unsigned)config_count(cfg,
	    CK_smtp_port), host, sizeof(host), &port, &mx) < 0) {
		set(dl, DEST_TEMP, "4.3.5", "bad next hop \"%s\" in the "
		    "routes file or relayhost", j->nexthop);
		return;
	}
	if (j->nexthop[0])
		xs_note(xs, "route for %s: %s", j->domain, j->nexthop);
	if (!mx) {
		if (literal(host, &dl->v[0].addr)) {
			snprintf(dl->v[0].host, sizeof(dl->v[0].host), "%s",
			    host);
			dl->v[0].port = port;
			dl->v[0].literal = 1;
			dl->n = 1;
		} else if ((st = add_host(dns, host, port, dl, xs, &log)) ==
		    DNS_TEMP) {
			set(dl, DEST_TEMP, "4.4.3", "temporary DNS failure "
			    "looking up the address of %s", host);
		} else if (dl->n == 0) {
			set(dl, DEST_TEMP, "4.4.4", "the relay host %s has no "
			    "address in the DNS", host);
		}
	} else {
		by_mx(dns, cfg, host, port, dl, xs, &log);
	}
	strbuf_release(&log);
	/* A next hop is the admin's configuration: when it does not exist,
	   the mail waits for a fix instead of failing. */
	if (j->nexthop[0] && dl->status == DEST_PERM) {
		dl->status = DEST_TEMP;
		dl->enh[0] = '4';
		xs_note(xs, "the next hop comes from routes_file or relayhost: "
		    "deferring");
	}
	if (dl->n == 0 && dl->status == DEST_OK)
		set(dl, DEST_TEMP, "4.4.3", "no address to try for %s", host);
	if (dl->n > 0)
		dl->status = DEST_OK;
}
