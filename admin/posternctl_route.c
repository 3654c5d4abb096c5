/*
 * posternctl_route - the DNS half of "posternctl route". The queue
 * manager says how it would route the address, and does no DNS; for a
 * remote route it names the host to look up, and posternctl looks up
 * its MX hosts and their addresses here, through dns_servers, in the
 * order postern-remote would try them now. The answer is written as
 * text, or as the "dns" member of route's JSON object.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "dns.h"
#include "json.h"
#include "posternctl.h"
#include "strbuf.h"

struct rhost {
	unsigned pref;
	char host[DNS_HOST_MAX + 3];
	char addr[DNS_ADDR_LIMIT][INET6_ADDRSTRLEN];
	size_t naddr;
	const char *err;		/* no address: why */
};

/* What the lookups found. */
struct rdns {
	char host[NEXTHOP_MAX + 1];	/* what was looked up */
	int mx;				/* its MX records were wanted */
	const char *err;		/* the lookup itself failed: why */
	char detail[512];
	int null_mx;
	int no_mx;			/* no MX records: the host's own addresses */
	struct rhost h[DNS_MX_LIMIT];
	size_t n;
};

/* addrs - h's addresses, as the worker would find them */
static void addrs(struct dns *d, struct rhost *h)
{
	struct dns_addr v[DNS_ADDR_LIMIT];
	unsigned char buf[16];
	size_t n = 0, i;
	int st;

	if (inet_pton(AF_INET, h->host, buf) == 1 ||
	    inet_pton(AF_INET6, h->host, buf) == 1) {
		strlcpy(h->addr[0], h->host, sizeof(h->addr[0]));
		h->naddr = 1;
		return;
	}
	if ((st = dns_addrs(d, h->host, v, DNS_ADDR_LIMIT, &n, NULL)) !=
	    DNS_OK) {
		h->err = dns_status_name(st);
		return;
	}
	for (i = 0; i < n; i++)
		if (inet_ntop(v[i].family, v[i].addr, h->addr[h->naddr],
		    sizeof(h->addr[0])) != NULL)
			h->naddr++;
}

/* look - the lookups for lookup (a next hop; its MX records if mx) */
static void look(const struct config *cfg, const char *lookup, int mx,
    struct rdns *r)
{
	struct dns_mx v[DNS_MX_LIMIT];
	struct nexthop nh;
	struct dns *d;
	char srv[1024];
	size_t n = 0, i;
	int st;

	r->mx = mx;
	if (address_nexthop_parse(lookup, &nh) < 0) {
		snprintf(r->host, sizeof(r->host), "%s", lookup);
		r->err = "not a host name or address";
		return;
	}
	snprintf(r->host, sizeof(r->host), "%s", nh.host);
	config_list_join(cfg, CK_dns_servers, srv, sizeof(srv));
	if (dns_open(&d, srv, r->detail, sizeof(r->detail)) < 0) {
		r->err = r->detail;
		return;
	}
	st = mx ? dns_mx(d, r->host, v, DNS_MX_LIMIT, &n, NULL) : DNS_NODATA;
	if (st == DNS_NODATA) {
		r->no_mx = mx;
		strlcpy(r->h[0].host, r->host, sizeof(r->h[0].host));
		addrs(d, &r->h[0]);
		r->n = 1;
	} else if (st != DNS_OK) {
		r->err = dns_status_name(st);
	} else if (n == 1 && v[0].host[0] == '\0') {
		r->null_mx = 1;
	} else {
		for (i = 0; i < n; i++) {
			r->h[i].pref = v[i].pref;
			strlcpy(r->h[i].host, v[i].host, sizeof(r->h[i].host));
			addrs(d, &r->h[i]);
		}
		r->n = n;
	}
	dns_close(&d);
}

/* text - the findings, for people */
static void text(const struct rdns *r, struct strbuf *out)
{
	size_t i, k;

	if (r->err != NULL) {
		strbuf_appendf(out, "%s of %s: %s\n", r->mx ? "MX lookup" :
		    "address lookup", r->host, r->err);
		return;
	}
	if (r->null_mx) {
		strbuf_appendf(out, "%s has a null MX: it accepts no mail\n",
		    r->host);
		return;
	}
	if (r->mx && !r->no_mx)
		strbuf_appendf(out, "MX hosts of %s, in the order of this "
		    "lookup (equal preferences are shuffled each time):\n",
		    r->host);
	for (i = 0; i < r->n; i++) {
		if (r->no_mx)
			strbuf_appendf(out, "no MX records; the address of %s:",
			    r->host);
		else if (r->mx)
			strbuf_appendf(out, "  %u %s:", r->h[i].pref,
			    r->h[i].host);
		else
			strbuf_appendf(out, "address of %s:", r->host);
		if (r->h[i].err != NULL)
			strbuf_appendf(out, " (no address: %s)", r->h[i].err);
		for (k = 0; k < r->h[i].naddr; k++)
			strbuf_appendf(out, "%s%s", k ? ", " : " ",
			    r->h[i].addr[k]);
		strbuf_appendc(out, '\n');
	}
}

/* json - the findings as the members of "dns" */
static void json(const struct rdns *r, struct strbuf *out)
{
	size_t i, k;

	strbuf_appendc(out, '{');
	json_key_string(out, "lookup", r->host);
	if (r->err != NULL) {
		strbuf_appendc(out, ',');
		json_key_string(out, "error", r->err);
	}
	strbuf_appendf(out, ",\"null_mx\":%s,\"mx_records\":%s,\"hosts\":[",
	    r->null_mx ? "true" : "false", r->mx && !r->no_mx && !r->err &&
	    !r->null_mx ? "true" : "false");
	for (i = 0; i < r->n; i++) {
		strbuf_appends(out, i ? ",{" : "{");
		json_key_string(out, "host", r->h[i].host);
		strbuf_appendf(out, ",\"preference\":%u,\"addresses\":[",
		    r->h[i].pref);
		for (k = 0; k < r->h[i].naddr; k++) {
			if (k > 0)
				strbuf_appendc(out, ',');
			json_string(out, r->h[i].addr[k],
			    strlen(r->h[i].addr[k]));
		}
		strbuf_appendc(out, ']');
		if (r->h[i].err != NULL) {
			strbuf_appendc(out, ',');
			json_key_string(out, "error", r->h[i].err);
		}
		strbuf_appendc(out, '}');
	}
	strbuf_appends(out, "]}");
}

void ctl_route_dns(const struct config *cfg, const char *lookup, int mx,
    int as_json, struct strbuf *out)
{
	struct rdns *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		strbuf_appends(out, as_json ? "null" : "DNS: out of memory\n");
		return;
	}
	look(cfg, lookup, mx, r);
	if (as_json)
		json(r, out);
	else
		text(r, out);
	free(r);
}
