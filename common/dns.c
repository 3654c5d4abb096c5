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
#include "strbuf.h"

#define ANSWER_BUF 65536	/* the largest DNS message */
#define NAME_BUF NS_MAXDNAME	/* dn_expand output, escapes included */

struct dns {
	struct __res_state res;
	unsigned char *ans;	/* ANSWER_BUF bytes */
};

/* A reply being read: the packet and the answer section. */
struct answer {
	const unsigned char *p;
	size_t len;
	size_t start;		/* offset of the first answer record */
	unsigned count;		/* answer records to read (bounded) */
	unsigned qtype;
	char name[NAME_BUF];	/* the owner wanted: qname, then CNAMEs */
	struct strbuf *log;
};

/* One resource record of the answer section. */
struct rr {
	char owner[NAME_BUF];
	unsigned type, cls;
	const unsigned char *rdata;
	size_t rdlen;
};

/* note - append "dns: TEXT\n" to log, TEXT escaped for a one-line log */
__attribute__((format(printf, 2, 3)))
static void note(struct strbuf *log, const char *fmt, ...)
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

/* canon_name - in lower-cased, one trailing dot dropped, into out
   (DNS_HOST_MAX + 1 bytes); NULL, or why in is not a host name */
static const char *canon_name(const char *in, char *out)
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

/* ---- the packet ---- */

/* get16 - a 16-bit big-endian value at *pos, advancing it; -1 if short */
static int get16(const struct answer *a, size_t *pos, unsigned *v_r)
{
	if (a->len < 2 || *pos > a->len - 2)
		return -1;
	*v_r = (unsigned)a->p[*pos] << 8 | a->p[*pos + 1];
	*pos += 2;
	return 0;
}

/* get_name - expand the name at *pos, advancing it; -1 if malformed */
static int get_name(const struct answer *a, size_t *pos, char *out)
{
	int n;

	if (*pos >= a->len)
		return -1;
	n = dn_expand(a->p, a->p + a->len, a->p + *pos, out, NAME_BUF);
	if (n <= 0)
		return -1;
	*pos += (size_t)n;
	return 0;
}

/* rdata_name - the name that fills rr's data from offset skip exactly */
static int rdata_name(const struct answer *a, const struct rr *rr,
    size_t skip, char *out)
{
	size_t pos = (size_t)(rr->rdata - a->p) + skip;

	if (rr->rdlen <= skip || get_name(a, &pos, out) < 0)
		return -1;
	return pos == (size_t)(rr->rdata - a->p) + rr->rdlen ? 0 : -1;
}

/* next_rr - read the record at *pos into rr, advancing *pos */
static const char *next_rr(const struct answer *a, size_t *pos,
    struct rr *rr)
{
	unsigned ttl_hi, ttl_lo, rdlen;

	if (get_name(a, pos, rr->owner) < 0)
		return "a record with a bad name";
	if (get16(a, pos, &rr->type) < 0 || get16(a, pos, &rr->cls) < 0 ||
	    get16(a, pos, &ttl_hi) < 0 || get16(a, pos, &ttl_lo) < 0 ||
	    get16(a, pos, &rdlen) < 0)
		return "a record cut short";
	if (rdlen > a->len - *pos)
		return "record data beyond the end of the packet";
	rr->rdata = a->p + *pos;
	rr->rdlen = rdlen;
	*pos += rdlen;
	return NULL;
}

/* parse_head - check the header and the question; set start and count */
static const char *parse_head(struct answer *a, const char *qname)
{
	unsigned flags, qd, an, qt, qc;
	size_t pos;
	char name[NAME_BUF];

	if (a->len < NS_HFIXEDSZ)
		return "shorter than a DNS header";
	flags = (unsigned)a->p[2] << 8 | a->p[3];
	qd = (unsigned)a->p[4] << 8 | a->p[5];
	an = (unsigned)a->p[6] << 8 | a->p[7];
	if ((flags & 0x8000) == 0 || (flags & 0x7800) != 0)
		return "not the response to a query";
	if (flags & 0x0200)
		return "truncated (TC) even over TCP";
	if ((flags & 0x000f) != ns_r_noerror)
		return "an error rcode";
	if (qd != 1)
		return "not exactly one question";
	pos = NS_HFIXEDSZ;
	if (get_name(a, &pos, name) < 0 || get16(a, &pos, &qt) < 0 ||
	    get16(a, &pos, &qc) < 0)
		return "a malformed question";
	if (strcasecmp(name, qname) != 0 || qt != a->qtype || qc != ns_c_in)
		return "the answer to another question";
	a->start = pos;
	a->count = an;
	if (an > DNS_ANSWER_MAX) {
		note(a->log, "%s: %u answer records, only the first %u read",
		    qname, an, DNS_ANSWER_MAX);
		a->count = DNS_ANSWER_MAX;
	}
	return NULL;
}

typedef const char *rr_fn(struct answer *a, const struct rr *rr, void *ctx);

/* answer_each - call fn (if not NULL) for each answer record in order */
static const char *answer_each(struct answer *a, rr_fn *fn, void *ctx)
{
	size_t pos = a->start;
	unsigned i;
	const char *why;
	struct rr rr;

	for (i = 0; i < a->count; i++) {
		if ((why = next_rr(a, &pos, &rr)) != NULL)
			return why;
		if (fn != NULL && (why = fn(a, &rr, ctx)) != NULL)
			return why;
	}
	return NULL;
}

/* answer_open - parse the header and check that every record parses */
static const char *answer_open(struct answer *a, const unsigned char *pkt,
    size_t len, const char *qname, unsigned qtype, struct strbuf *log)
{
	const char *why;

	a->p = pkt;
	a->len = len;
	a->qtype = qtype;
	a->log = log;
	if (strlen(qname) >= sizeof(a->name))
		return "a name too long";
	memcpy(a->name, qname, strlen(qname) + 1);
	if ((why = parse_head(a, qname)) != NULL)
		return why;
	return answer_each(a, NULL, NULL);
}

/* CNAME following: the ctx of cname_find. */
struct cname_ctx {
	int found;
	char target[NAME_BUF];
};

/* cname_find - the first CNAME record owned by the current name */
static const char *cname_find(struct answer *a, const struct rr *rr,
    void *ctx)
{
	struct cname_ctx *c = ctx;

	if (c->found || rr->type != ns_t_cname || rr->cls != ns_c_in ||
	    strcasecmp(rr->owner, a->name) != 0)
		return NULL;
	if (rdata_name(a, rr, 0, c->target) < 0)
		return "a malformed CNAME record";
	c->found = 1;
	return NULL;
}

/* follow_cnames - move a->name along the CNAME chain in the answer;
   *links_r is the number of links followed */
static const char *follow_cnames(struct answer *a, unsigned *links_r)
{
	char seen[DNS_CNAME_MAX + 1][NAME_BUF];
	struct cname_ctx c;
	const char *why;
	unsigned i;

	memcpy(seen[0], a->name, sizeof(seen[0]));
	for (*links_r = 0;; (*links_r)++) {
		c.found = 0;
		if ((why = answer_each(a, cname_find, &c)) != NULL)
			return why;
		if (!c.found)
			return NULL;
		if (*links_r == DNS_CNAME_MAX)
			return "a CNAME chain longer than 8 links";
		for (i = 0; i <= *links_r; i++)
			if (strcasecmp(seen[i], c.target) == 0)
				return "a CNAME loop";
		note(a->log, "%s CNAME %s", a->name, c.target);
		memcpy(a->name, c.target, sizeof(a->name));
		memcpy(seen[*links_r + 1], c.target, sizeof(seen[0]));
	}
}

/* owned - rr is an IN record of the wanted type owned by the name */
static int owned(const struct answer *a, const struct rr *rr)
{
	return rr->type == a->qtype && rr->cls == ns_c_in &&
	    strcasecmp(rr->owner, a->name) == 0;
}

/* answer_walk - follow CNAMEs, then call fn for each wanted record. The
   status: DNS_OK if fn saw a record, DNS_NODATA if none but a CNAME led
   elsewhere or the name owns other records, DNS_TEMP if the answer only
   holds records of other names (or is malformed: logged). */
static int answer_walk(struct answer *a, rr_fn *fn, void *ctx,
    unsigned *seen_r)
{
	const char *why;
	unsigned links;

	*seen_r = 0;
	if ((why = follow_cnames(a, &links)) == NULL)
		why = answer_each(a, fn, ctx);
	if (why != NULL) {
		note(a->log, "%s: malformed answer: %s", a->name, why);
		return DNS_TEMP;
	}
	if (*seen_r > 0)
		return DNS_OK;
	if (links > 0)
		return DNS_NODATA;
	note(a->log, "%s: the answer holds no record for that name",
	    a->name);
	return DNS_TEMP;
}

/* ---- MX ---- */

struct mx_rec {
	struct dns_mx mx;
	uint64_t key;		/* random order among equal preferences */
};

struct mx_ctx {
	struct mx_rec *recs;	/* a->count entries */
	size_t n;
	unsigned seen, null;
};

/* mx_take - one MX record: a null MX, an ignored target or a host */
static const char *mx_take(struct answer *a, const struct rr *rr, void *ctx)
{
	struct mx_ctx *m = ctx;
	char target[NAME_BUF], host[DNS_HOST_MAX + 1];
	const char *why;
	unsigned pref;
	size_t pos = (size_t)(rr->rdata - a->p);

	if (!owned(a, rr))
		return NULL;
	if (rr->rdlen < 3 || get16(a, &pos, &pref) < 0 ||
	    rdata_name(a, rr, 2, target) < 0)
		return "a malformed MX record";
	m->seen++;
	if (strcmp(target, ".") == 0 || target[0] == '\0') {
		m->null++;
		return NULL;
	}
	if ((why = canon_name(target, host)) != NULL) {
		note(a->log, "%s MX %u %s ignored: %s", a->name, pref, target,
		    why);
		return NULL;
	}
	if (m->n < a->count) {
		memcpy(m->recs[m->n].mx.host, host, strlen(host) + 1);
		m->recs[m->n].mx.pref = pref;
		m->n++;
	}
	return NULL;
}

/* mx_seed - a random seed; the clock if getrandom fails */
static uint64_t mx_seed(void)
{
	uint64_t s;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^
	    (uint64_t)getpid();
}

/* mx_next - splitmix64 */
static uint64_t mx_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* mx_cmp - by preference, then by the random key */
static int mx_cmp(const void *x, const void *y)
{
	const struct mx_rec *a = x, *b = y;

	if (a->mx.pref != b->mx.pref)
		return a->mx.pref < b->mx.pref ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return 0;
}

/* mx_finish - sort, shuffle, cap and copy out the usable records */
static void mx_finish(struct answer *a, struct mx_ctx *m, struct dns_mx *v,
    size_t max, size_t *n_r)
{
	uint64_t seed = mx_seed();
	size_t i;

	for (i = 0; i < m->n; i++)
		m->recs[i].key = mx_next(&seed);
	qsort(m->recs, m->n, sizeof(m->recs[0]), mx_cmp);
	for (i = 0; i < m->n && i < max; i++) {
		v[i] = m->recs[i].mx;
		note(a->log, "%s MX %u %s", a->name, v[i].pref, v[i].host);
	}
	*n_r = i;
	if (m->n > max)
		note(a->log, "%s MX: %zu more records ignored (limit %zu)",
		    a->name, m->n - max, max);
	if (m->n == 0)
		note(a->log, "%s MX: no usable record (no fallback to the "
		    "address records)", a->name);
}

/* mx_null - report a null MX as one record with an empty host */
static void mx_null(struct answer *a, struct mx_ctx *m, struct dns_mx *v,
    size_t max, size_t *n_r)
{
	note(a->log, "%s MX 0 . (null MX: the domain accepts no mail)",
	    a->name);
	if (m->seen > m->null)
		note(a->log, "%s MX: %u other records ignored beside the null "
		    "MX (RFC 7505 section 3)", a->name, m->seen - m->null);
	if (max == 0)
		return;
	v[0].host[0] = '\0';
	v[0].pref = 0;
	*n_r = 1;
}

/* dns_answer_mx - read an MX reply (see dns.h) */
int dns_answer_mx(const unsigned char *pkt, size_t len, const char *domain,
    struct dns_mx *v, size_t max, size_t *n_r, struct strbuf *log)
{
	struct answer a;
	struct mx_ctx m = { NULL, 0, 0, 0 };
	const char *why;
	int st;

	*n_r = 0;
	if ((why = answer_open(&a, pkt, len, domain, ns_t_mx, log)) != NULL) {
		note(log, "%s MX: malformed answer: %s", domain, why);
		return DNS_TEMP;
	}
	m.recs = calloc(a.count ? a.count : 1, sizeof(m.recs[0]));
	if (m.recs == NULL) {
		note(log, "%s MX: out of memory", domain);
		return DNS_TEMP;
	}
	st = answer_walk(&a, mx_take, &m, &m.seen);
	if (st == DNS_OK && m.null > 0)
		mx_null(&a, &m, v, max, n_r);
	else if (st == DNS_OK)
		mx_finish(&a, &m, v, max, n_r);
	else if (st == DNS_NODATA)
		note(log, "%s MX: no records", a.name);
	free(m.recs);
	return st;
}

/* ---- A and AAAA ---- */

struct addr_ctx {
	int family;
	struct dns_addr *v;
	size_t max, *n, dropped;
	unsigned seen;
};

/* addr_take - one A or AAAA record */
static const char *addr_take(struct answer *a, const struct rr *rr,
    void *ctx)
{
	struct addr_ctx *c = ctx;
	size_t want = c->family == AF_INET ? 4 : 16;
	char text[INET6_ADDRSTRLEN];

	if (!owned(a, rr))
		return NULL;
	if (rr->rdlen != want)
		return c->family == AF_INET ? "an A record not of 4 octets" :
		    "an AAAA record not of 16 octets";
	c->seen++;
	if (*c->n >= c->max) {
		c->dropped++;
		return NULL;
	}
	c->v[*c->n].family = c->family;
	memset(c->v[*c->n].addr, 0, sizeof(c->v[*c->n].addr));
	memcpy(c->v[*c->n].addr, rr->rdata, want);
	(*c->n)++;
	if (inet_ntop(c->family, rr->rdata, text, sizeof(text)) == NULL)
		text[0] = '\0';
	note(a->log, "%s %s %s", a->name, want == 4 ? "A" : "AAAA", text);
	return NULL;
}

/* dns_answer_addrs - read an A or AAAA reply (see dns.h) */
int dns_answer_addrs(const unsigned char *pkt, size_t len, const char *host,
    int family, struct dns_addr *v, size_t max, size_t *n_r,
    struct strbuf *log)
{
	struct answer a;
	struct addr_ctx c = { family, v, max, n_r, 0, 0 };
	const char *tname = family == AF_INET ? "A" : "AAAA";
	const char *why;
	int st;

	if (family != AF_INET && family != AF_INET6)
		return DNS_TEMP;
	why = answer_open(&a, pkt, len, host,
	    family == AF_INET ? ns_t_a : ns_t_aaaa, log);
	if (why != NULL) {
		note(log, "%s %s: malformed answer: %s", host, tname, why);
		return DNS_TEMP;
	}
	st = answer_walk(&a, addr_take, &c, &c.seen);
	if (c.dropped > 0)
		note(log, "%s %s: %zu more addresses ignored (limit %zu)",
		    a.name, tname, c.dropped, max);
	if (st == DNS_NODATA)
		note(log, "%s %s: no records", a.name, tname);
	return st;
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
		note(log, "%s %s: NXDOMAIN (no such domain)", name, tname);
		return DNS_NXDOMAIN;
	case NO_DATA:
		note(log, "%s %s: no records", name, tname);
		return DNS_NODATA;
	case TRY_AGAIN:
		note(log, "%s %s: temporary failure (SERVFAIL, REFUSED or "
		    "no answer)", name, tname);
		return DNS_TEMP;
	case NO_RECOVERY:
		note(log, "%s %s: server error (FORMERR or NOTIMP)", name,
		    tname);
		return DNS_TEMP;
	default:
		note(log, "%s %s: resolver error: %s", name, tname,
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
	if ((why = canon_name(domain, name)) != NULL) {
		note(log, "%s MX: not looked up: %s", domain, why);
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
	if ((why = canon_name(host, name)) != NULL) {
		note(log, "%s A/AAAA: not looked up: %s", host, why);
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
