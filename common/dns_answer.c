/*
 * dns_answer - reading a DNS reply: the header and question, the answer
 * records, CNAME chains, and the MX and A/AAAA records wanted
 * (dns_answer_mx, dns_answer_addrs; see dns.h).
 *
 * Called by dns.c after each query, and by the unit tests and fuzzers
 * with packets of their own.
 *
 * SECURITY: nothing in the packet is trusted. Every offset is checked
 * against the packet length, every count is bounded (DNS_ANSWER_MAX
 * records, DNS_CNAME_MAX links, the caller's max), every name is expanded
 * by dn_expand into a buffer of NS_MAXDNAME, and every name used as a
 * host is checked as a host name (dns_canon_name). Text from a packet
 * reaches the log only escaped (dns_note).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "dns.h"
#include "dns_impl.h"
#include "strbuf.h"

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
		dns_note(a->log, "%s: %u answer records, only the first %u read",
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
		dns_note(a->log, "%s CNAME %s", a->name, c.target);
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
		dns_note(a->log, "%s: malformed answer: %s", a->name, why);
		return DNS_TEMP;
	}
	if (*seen_r > 0)
		return DNS_OK;
	if (links > 0)
		return DNS_NODATA;
	dns_note(a->log, "%s: the answer holds no record for that name",
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
	if ((why = dns_canon_name(target, host)) != NULL) {
		dns_note(a->log, "%s MX %u %s ignored: %s", a->name, pref, target,
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
		dns_note(a->log, "%s MX %u %s", a->name, v[i].pref, v[i].host);
	}
	*n_r = i;
	if (m->n > max)
		dns_note(a->log, "%s MX: %zu more records ignored (limit %zu)",
		    a->name, m->n - max, max);
	if (m->n == 0)
		dns_note(a->log, "%s MX: no usable record (no fallback to the "
		    "address records)", a->name);
}

/* mx_null - report a null MX as one record with an empty host */
static void mx_null(struct answer *a, struct mx_ctx *m, struct dns_mx *v,
    size_t max, size_t *n_r)
{
	dns_note(a->log, "%s MX 0 . (null MX: the domain accepts no mail)",
	    a->name);
	if (m->seen > m->null)
		dns_note(a->log, "%s MX: %u other records ignored beside the null "
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
		dns_note(log, "%s MX: malformed answer: %s", domain, why);
		return DNS_TEMP;
	}
	m.recs = calloc(a.count ? a.count : 1, sizeof(m.recs[0]));
	if (m.recs == NULL) {
		dns_note(log, "%s MX: out of memory", domain);
		return DNS_TEMP;
	}
	st = answer_walk(&a, mx_take, &m, &m.seen);
	if (st == DNS_OK && m.null > 0)
		mx_null(&a, &m, v, max, n_r);
	else if (st == DNS_OK)
		mx_finish(&a, &m, v, max, n_r);
	else if (st == DNS_NODATA)
		dns_note(log, "%s MX: no records", a.name);
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
	dns_note(a->log, "%s %s %s", a->name, want == 4 ? "A" : "AAAA", text);
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
		dns_note(log, "%s %s: malformed answer: %s", host, tname, why);
		return DNS_TEMP;
	}
	st = answer_walk(&a, addr_take, &c, &c.seen);
	if (c.dropped > 0)
		dns_note(log, "%s %s: %zu more addresses ignored (limit %zu)",
		    a.name, tname, c.dropped, max);
	if (st == DNS_NODATA)
		dns_note(log, "%s %s: no records", a.name, tname);
	return st;
}
