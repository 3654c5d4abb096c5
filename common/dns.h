/*
 * dns - MX and address lookups for remote delivery, through libresolv.
 *
 * Called by the remote delivery worker (postern-remote). It calls
 * dns_open() before it chroots: that reads /etc/resolv.conf once, and the
 * state is marked RES_NORELOAD so that glibc never looks for the file
 * again (inside the chroot it would find none and fall back to
 * 127.0.0.1). With a dns_servers value the servers named there replace
 * the ones from resolv.conf: "ip[:port] ..." separated by blanks and/or
 * commas, at most 3 (MAXNS), IPv4 as 192.0.2.1 or 192.0.2.1:5353, IPv6
 * as 2001:db8::1 or [2001:db8::1]:5353; no port means 53.
 *
 * Queries use res_nquery() on the absolute name, never res_nsearch():
 * no search-list or ndots expansion, ever (RFC 5321 section 5.1). An
 * answer truncated over UDP is asked again over TCP (RES_IGNTC off). The
 * default timeout is 5 seconds per try, 2 tries per server.
 *
 * Names given in are lower-cased, lose one trailing dot and must be host
 * names: LDH labels of 1-63 octets, at most 253 octets, top label not all
 * digits (so no IP address literal). A name that is not one is refused
 * with DNS_NXDOMAIN and a log line, without a query; this covers UTF-8
 * domains, which the caller must give as A-labels (no IDN conversion is
 * done here).
 *
 * Trusts nothing in an answer: glibc checks the id and the question, and
 * this module parses the packet again with its own bounds-checked parser
 * (names through dn_expand, which refuses compression loops): header,
 * exactly one question that must be the one asked, at most
 * DNS_ANSWER_MAX answer records read, each record's length checked
 * against the packet and its type (A 4 octets, AAAA 16, MX the preference
 * and one name that fills the rest exactly). Records of other classes,
 * types or owners are skipped. CNAME chains inside the answer are
 * followed (at most DNS_CNAME_MAX links); a chain that loops or is too
 * long is DNS_TEMP. A malformed packet, a truncated one (TC still set
 * after TCP) or an answer with records only for other names is DNS_TEMP.
 *
 * The log: every lookup appends lines "dns: NAME TYPE DATA\n" to log (may
 * be NULL), one for each record used, each CNAME followed, each record
 * ignored and why, and one for each failure; text from the packet is
 * escaped (strbuf_append_printable), so a line is always one line. These
 * lines are meant for the SMTP transcript.
 */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include <stddef.h>

struct strbuf;

#define DNS_HOST_MAX 253	/* longest host name, without the last dot */
#define DNS_MX_LIMIT 32		/* a sensible max for dns_mx() */
#define DNS_ADDR_LIMIT 16	/* a sensible max for dns_addrs() */
#define DNS_ANSWER_MAX 1024	/* answer records read from one packet */
#define DNS_CNAME_MAX 8		/* CNAME links followed in one answer */
#define DNS_TIMEOUT 5		/* default seconds per try */
#define DNS_TRIES 2		/* default tries per server */

enum dns_status {
	DNS_OK,		/* records found (see dns_mx for *n_r == 0) */
	DNS_NXDOMAIN,	/* the name does not exist (or is not a host name) */
	DNS_NODATA,	/* the name exists, no records of that type */
	DNS_TEMP	/* SERVFAIL, REFUSED, timeout, truncated without TCP,
			   malformed answer, CNAME loop, out of memory */
};

struct dns_mx {
	char host[DNS_HOST_MAX + 3];	/* lower case, no trailing dot;
					   "" for a null MX */
	unsigned pref;
};

struct dns_addr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* 4 or 16 octets, network order */
};

struct dns;

/* dns_open - a resolver state: /etc/resolv.conf read now, then servers
   (a dns_servers value; NULL or "" keeps the system's servers). 0 and
   *d_r set, or -1 with a message in err (errlen bytes). */
int dns_open(struct dns **d_r, const char *servers, char *err,
    size_t errlen);
/* dns_set_timeout - seconds per try (>= 1) and tries per server (>= 1) */
void dns_set_timeout(struct dns *d, unsigned seconds, unsigned tries);
/* dns_close - free the state and set *d to NULL (NULL is fine) */
void dns_close(struct dns **d);

/* dns_mx - the MX records of domain, at most max of them in v, sorted by
   preference, equal preferences in random order (getrandom); when there
   are more than max, the ones with the lowest preferences are kept (the
   cut falls at random within equal preferences). Records whose target is
   an IP address literal or not a host name are dropped with a log line.
   Returns an enum dns_status:
     DNS_OK, *n_r >= 1: the usable records;
     DNS_OK, *n_r == 1 and v[0].host == "": a null MX (RFC 7505: the
       domain takes no mail; also when "." is mixed with other records,
       which RFC 7505 section 3 forbids: nothing is delivered to those);
     DNS_OK, *n_r == 0: MX records exist but none is usable; the caller
       must not fall back to the domain's addresses (RFC 5321 5.1);
     DNS_NODATA: no MX records: the caller uses the domain's own A/AAAA;
     DNS_NXDOMAIN, DNS_TEMP: as the enum says; *n_r is 0. */
int dns_mx(struct dns *d, const char *domain, struct dns_mx *v, size_t max,
    size_t *n_r, struct strbuf *log);

/* dns_addrs - the A, then the AAAA addresses of host (both queried, in
   that order: IPv4 first, as the test network and many hosts without
   IPv6 routes want), at most max in v in answer order. DNS_OK when any
   address was found, even if the other query failed (logged); else
   DNS_TEMP if either query failed temporarily, DNS_NXDOMAIN when the A
   query said so (AAAA is then not asked: the name does not exist for any
   type), else DNS_NODATA. */
int dns_addrs(struct dns *d, const char *host, struct dns_addr *v,
    size_t max, size_t *n_r, struct strbuf *log);

/* dns_status_name - "OK", "NXDOMAIN", "NODATA" or "TEMP" */
const char *dns_status_name(int status);

/* The answer parsers behind dns_mx and dns_addrs, exported for tests
   (they are fed truncated and mutated packets): len bytes of a reply to
   the query (name, type). They return what dns_mx and dns_addrs would
   for that one reply; a packet whose rcode is not NOERROR is DNS_TEMP
   here (res_nquery handles the rcodes before). dns_answer_addrs appends
   to v from *n_r on; family is AF_INET (type A) or AF_INET6 (AAAA). */
int dns_answer_mx(const unsigned char *pkt, size_t len, const char *domain,
    struct dns_mx *v, size_t max, size_t *n_r, struct strbuf *log);
int dns_answer_addrs(const unsigned char *pkt, size_t len, const char *host,
    int family, struct dns_addr *v, size_t max, size_t *n_r,
    struct strbuf *log);

#endif
