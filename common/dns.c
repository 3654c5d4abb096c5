/*
 * dns - MX and address lookups for remote delivery, through libresolv.
 *
 * Called by the remote delivery worker before and after it chroots; the
 * resolver state (servers, options) is fixed at dns_open(), which reads
 * /etc/resolv.conf. See dns.h for the interface and the rules.
 *
 * SECURITY: nothing in a DNS answer is trusted. glibc matches the reply's
 * id and question to the query; this file parses the reply again, with
 * every offset checked against the packet length, every count bounded
 * (DNS_ANSWER_MAX records, DNS_CNAME_MAX links, the caller's max), every
 * name expanded by dn_expand into a buffer of NS_MAXDNAME (which refuses
 * compression loops and names running past the packet), and every name
 * used as a host checked as a host name. Text from a packet reaches the
 * log only escaped.
 *
 * The answer-packet parsers (dns_answer_mx, dns_answer_addrs) are in
 * dns_answer.c; dns_impl.h holds what the two files share.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "dns_impl.h"
#include "strbuf.h"

#define ANSWER_BUF 65536	/* the largest DNS message */

struct dns {
	struct __res_state res;
	unsigned char *ans;	/* ANSWER_BUF bytes */
};

/* dns_note - append "dns: TEXT\n" to log, TEXT escaped for a one-line log */
__attribute__((format(printf, 2, 3)))
void dns_note(struct strbuf *log, const char *fmt, ...)
{
	char line[2 * NAME_BUF + 256];
	va_list ap;
	int n;

	if (log == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;	/* a cut line is still a line */
	strbuf_appends(log, "dns: ");
	strbuf_append_printable(log, line, (size_t)n, 0);
	strbuf_appendc(log, '\n');
}

/* ---- names ---- */

/* label_reason - why the label s[0..len) is not an LDH label, or NULL */
static const char *label_reason(const char *s, size_t len, int *digits_r)
{
	size_t i;

	if (len == 0)
		return "an empty label";
	if (len > 63)
		return "a label longer than 63 octets";
	if (s[0] == '-' || s[len - 1] == '-')
		return "a label that begins or ends with a hyphen";
	*digits_r = 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= '0' && c <= '9')
			continue;
		*digits_r = 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-'))
			return "not a valid host name";
	}
	return NULL;
}

/* host_reason - why s (len octets, no trailing dot) is not a host name */
static const char *host_reason(const char *s, size_t len)
{
	const char *dot, *end = s + len, *why;
	int digits = 0;

	if (len == 0)
		return "an empty name";
	if (len > DNS_HOST_MAX)
		return "a name longer than 253 octets";
	for (;;) {
		dot = memchr(s, '.', (size_t)(end - s));
		why = label_reason(s, dot ? (size_t)(dot - s) : (size_t)(end - s),
		    &digits);
		if (why != NULL)
			return why;
		if (dot == NULL)
			break;
		s = dot + 1;
	}
	return digits ? "an IP address literal" : NULL;
}

/* dns_canon_name - in lower-cased, one trailing dot dropped, into out
   (DNS_HOST_MAX + 1 bytes); NULL, or why in is not a host name */
const char *dns_canon_name(const char *in, char *out)
{
	size_t i, len = strnlen(in, DNS_HOST_MAX + 2);

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len > DNS_HOST_MAX)
		return "a name longer than 253 octets";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[len] = '\0';
	return host_reason(out, len);
}

/* ---- queries ---- */

/* query - ask for (name, type); DNS_OK and *len_r, or a failure logged */
static int query(struct dns *d, const char *name, int type,
    const char *tname, size_t *len_r, struct strbuf *log)
{
	int n;

	d->res.res_h_errno = 0;
	errno = 0;
	n = res_nquery(&d->res, name, ns_c_in, type, d->ans, ANSWER_BUF);
	if (n >= 0 && n <= ANSWER_BUF) {
		*len_r = (size_t)n;
		return DNS_OK;
	}
	switch (n >= 0 ? NETDB_INTERNAL : d->res.res_h_errno) {
	case HOST_NOT_FOUND:
		dns_note(log, "%s %s: NXDOMAIN (no such domain)", name, tname);
		return DNS_NXDOMAIN;
	case NO_DATA:
		dns_note(log, "%s %s: no records", name, tname);
		return DNS_NODATA;
	case TRY_AGAIN:
		dns_note(log, "%s %s: temporary failure (SERVFAIL, REFUSED or "
		    "no answer)", name, tname);
		return DNS_TEMP;
	case NO_RECOVERY:
		dns_note(log, "%s %s: server error (FORMERR or NOTIMP)", name,
		    tname);
		return DNS_TEMP;
	default:
		dns_note(log, "%s %s: resolver error: %s", name, tname,
		    errno ? strerror(errno) : "unknown");
		return DNS_TEMP;
	}
}

/* dns_mx - MX records of domain (see dns.h) */
int dns_mx(struct dns *d, const char *domain, struct dns_mx *v, size_t max,
    size_t *n_r, struct strbuf *log)
{
	char name[DNS_HOST_MAX + 1];
	const char *why;
	size_t len;
	int st;

	*n_r = 0;
	if ((why = dns_canon_name(domain, name)) != NULL) {
		dns_note(log, "%s MX: not looked up: %s", domain, why);
		return DNS_NXDOMAIN;
	}
	if ((st = query(d, name, ns_t_mx, "MX", &len, log)) != DNS_OK)
		return st;
	return dns_answer_mx(d->ans, len, name, v, max, n_r, log);
}

/* lookup_addrs - one A or AAAA lookup of a canonical name */
static int lookup_addrs(struct dns *d, const char *name, int family,
    struct dns_addr *v, size_t max, size_t *n_r, struct strbuf *log)
{
	size_t len;
	int st;

	st = query(d, name, family == AF_INET ? ns_t_a : ns_t_aaaa,
	    family == AF_INET ? "A" : "AAAA", &len, log);
	if (st != DNS_OK)
		return st;
	return dns_answer_addrs(d->ans, len, name, family, v, max, n_r, log);
}

/* dns_addrs - A then AAAA addresses of host (see dns.h) */
int dns_addrs(struct dns *d, const char *host, struct dns_addr *v,
    size_t max, size_t *n_r, struct strbuf *log)
{
	char name[DNS_HOST_MAX + 1];
	const char *why;
	int st4, st6;

	*n_r = 0;
	if ((why = dns_canon_name(host, name)) != NULL) {
		dns_note(log, "%s A/AAAA: not looked up: %s", host, why);
		return DNS_NXDOMAIN;
	}
	st4 = lookup_addrs(d, name, AF_INET, v, max, n_r, log);
	if (st4 == DNS_NXDOMAIN)
		return DNS_NXDOMAIN;
	st6 = lookup_addrs(d, name, AF_INET6, v, max, n_r, log);
	if (*n_r > 0 || st4 == DNS_OK || st6 == DNS_OK)
		return DNS_OK;
	if (st4 == DNS_TEMP || st6 == DNS_TEMP)
		return DNS_TEMP;
	return DNS_NODATA;
}

/* dns_status_name - a status as a word */
const char *dns_status_name(int status)
{
	static const char *const names[] = { "OK", "NXDOMAIN", "NODATA",
	    "TEMP" };

	if (status < 0 || status > DNS_TEMP)
		return "?";
	return names[status];
}

/* ---- the resolver state ---- */

/* parse_port - ":port" digits, 1-65535 */
static const char *parse_port(const char *s, size_t len, unsigned *port_r)
{
	unsigned long p = 0;
	size_t i;

	if (len == 0 || len > 5)
		return "a bad port";
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return "a bad port";
		p = p * 10 + (unsigned long)(s[i] - '0');
	}
	if (p == 0 || p > 65535)
		return "a port out of range";
	*port_r = (unsigned)p;
	return NULL;
}

/* parse_ip - the address text s[0..len) of family into ss */
static const char *parse_ip(const char *s, size_t len, int family,
    unsigned port, struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN];
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (len == 0 || len >= sizeof(text))
		return "a bad address";
	memcpy(text, s, len);
	text[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			return "not an IPv4 address";
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
			return "not an IPv6 address";
	}
	return NULL;
}

/* parse_server - "ip", "ip:port", "ipv6" or "[ipv6]:port" into ss */
static const char *parse_server(const char *s, size_t len,
    struct sockaddr_storage *ss)
{
	const char *colon = memchr(s, ':', len), *close, *why;
	unsigned port = NS_DEFAULTPORT;

	if (s[0] == '[') {
		if ((close = memchr(s, ']', len)) == NULL)
			return "'[' without ']'";
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return "text after ']'";
			why = parse_port(close + 2,
			    len - (size_t)(close + 2 - s), &port);
			if (why != NULL)
				return why;
		}
		return parse_ip(s + 1, (size_t)(close - s - 1), AF_INET6, port,
		    ss);
	}
	if (colon != NULL && memchr(colon + 1, ':', len -
	    (size_t)(colon + 1 - s)) != NULL)
		return parse_ip(s, len, AF_INET6, port, ss);
	if (colon != NULL) {
		why = parse_port(colon + 1, len - (size_t)(colon + 1 - s),
		    &port);
		if (why != NULL)
			return why;
		len = (size_t)(colon - s);
	}
	return parse_ip(s, len, AF_INET, port, ss);
}

/* parse_servers - the dns_servers value into ss[MAXNS]; -1 with err */
static int parse_servers(const char *servers, struct sockaddr_storage *ss,
    int *n_r, char *err, size_t errlen)
{
	static const char seps[] = " \t\r\n,";
	const char *s = servers, *why;
	size_t len;

	*n_r = 0;
	for (s += strspn(s, seps); *s != '\0'; s += strspn(s, seps)) {
		len = strcspn(s, seps);
		if (*n_r == MAXNS) {
			snprintf(err, errlen, "dns_servers: more than %d "
			    "servers", MAXNS);
			return -1;
		}
		if ((why = parse_server(s, len, &ss[*n_r])) != NULL) {
			snprintf(err, errlen, "dns_servers: '%.*s': %s",
			    len > 64 ? 64 : (int)len, s, why);
			return -1;
		}
		(*n_r)++;
		s += len;
	}
	return 0;
}

/* set_servers - replace the servers of resolv.conf in rs. glibc keeps an
   IPv4 server in nsaddr_list and uses the port there; an IPv6 one goes in
   _u._ext.nsaddrs (malloc'd: res_nclose frees it) with the nsaddr_list
   entry's family 0. _u._ext.nscount 0 makes res_send take the list anew. */
static int set_servers(struct __res_state *rs,
    const struct sockaddr_storage *ss, int n)
{
	int i;

	for (i = 0; i < MAXNS; i++) {
		free(rs->_u._ext.nsaddrs[i]);
		rs->_u._ext.nsaddrs[i] = NULL;
		rs->_u._ext.nssocks[i] = -1;
	}
	memset(rs->nsaddr_list, 0, sizeof(rs->nsaddr_list));
	rs->nscount = 0;
	rs->_u._ext.nscount = 0;
	for (i = 0; i < n; i++) {
		if (ss[i].ss_family == AF_INET) {
			memcpy(&rs->nsaddr_list[i], &ss[i],
			    sizeof(rs->nsaddr_list[i]));
		} else {
			rs->_u._ext.nsaddrs[i] = malloc(sizeof(
			    struct sockaddr_in6));
			if (rs->_u._ext.nsaddrs[i] == NULL)
				return -1;
			memcpy(rs->_u._ext.nsaddrs[i], &ss[i],
			    sizeof(struct sockaddr_in6));
		}
		rs->nscount = i + 1;
	}
	return 0;
}

/* dns_open - the resolver state (see dns.h) */
int dns_open(struct dns **d_r, const char *servers, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss[MAXNS];
	struct dns *d;
	int n = 0;

	*d_r = NULL;
	if (servers != NULL &&
	    parse_servers(servers, ss, &n, err, errlen) < 0)
		return -1;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->ans = malloc(ANSWER_BUF)) == NULL) {
		snprintf(err, errlen, "dns: out of memory");
		free(d);
		return -1;
	}
	if (res_ninit(&d->res) != 0) {
		/* Not res_nclose: the state may be half made. */
		snprintf(err, errlen, "dns: res_ninit failed (reading "
		    "/etc/resolv.conf)");
		free(d->ans);
		free(d);
		return -1;
	}
	/* No reload: inside the chroot there is no resolv.conf to reload. */
	d->res.options |= RES_NORELOAD | RES_RECURSE;
	d->res.options &= ~(unsigned long)(RES_IGNTC | RES_USEVC | RES_DNSRCH |
	    RES_DEFNAMES);
	dns_set_timeout(d, DNS_TIMEOUT, DNS_TRIES);
	if (n > 0 && set_servers(&d->res, ss, n) < 0) {
		snprintf(err, errlen, "dns: out of memory");
		dns_close(&d);
		return -1;
	}
	*d_r = d;
	return 0;
}

/* dns_set_timeout - seconds per try and tries per server */
void dns_set_timeout(struct dns *d, unsigned seconds, unsigned tries)
{
	d->res.retrans = seconds < 1 ? 1 : seconds > 300 ? 300 : (int)seconds;
	d->res.retry = tries < 1 ? 1 : tries > 10 ? 10 : (int)tries;
}

/* dns_close - free the state */
void dns_close(struct dns **d)
{
	int i;

	if (*d == NULL)
		return;
	res_nclose(&(*d)->res);
	/* res_nclose frees the servers below nscount; none is left above,
	   but an allocation failure in set_servers could leave one. */
	for (i = 0; i < MAXNS; i++) {
		free((*d)->res._u._ext.nsaddrs[i]);
		(*d)->res._u._ext.nsaddrs[i] = NULL;
	}
	free((*d)->ans);
	free(*d);
	*d = NULL;
}
