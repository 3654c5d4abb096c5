/*
 * qmgr_route - where a remote recipient goes, and with which TLS level.
 *
 * The next hop: the routes_file entry for the domain, else for its
 * parent domains written with a leading dot (".example.com" covers
 * every subdomain, as in Postfix's transport maps), else "*", else
 * relayhost, else none (the domain's own MX records). Values are
 * "[host]", "[host]:port" (no MX lookup), "host" or "host:port" (MX
 * lookup of host). A domain literal address (user@[192.0.2.1]) goes to
 * that address when no route names it.
 *
 * The TLS level: the tls_policy_file entry for the domain ("domain
 * none|may|encrypt|verify"), else for a parent written with a dot, else
 * smtp_tls_security_level.
 *
 * Both files are maps (maps.h), reread when they change. A file with an
 * error defers every remote recipient, with a log line, until it is
 * fixed: mail must not silently take a route or a TLS level the admin
 * did not mean. The result is the job's destination key, "nexthop or
 * domain" "/" "tls level": jobs with equal keys may share a session.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fsio.h"
#include "log.h"
#include "maps.h"
#include "qmgr.h"
#include "qmgr_deliver.h"

struct routes {
	struct qmgr *q;
	struct map *routes, *tls;
	int broken;			/* a file has an error */
	struct stat seen[2];		/* both files when one broke */
	char why[512];
};

/* load - one map; -1 when the file has an error (logged) */
static int load(struct routes *r, struct map **m, enum config_key k)
{
	char err[512];

	map_free(m);
	if (map_load(m, config_str(r->q->cfg, k), MAP_MISSING_OK |
	    MAP_LOWER_KEYS, err, sizeof(err)) == 0)
		return 0;
	log_error("%s; remote mail is deferred until it is fixed", err);
	snprintf(r->why, sizeof(r->why), "%s", err);
	return -1;
}

/* open_all - both files; when one has an error, what they look like,
   so that they are read again only once edited (not on every run) */
static void open_all(struct routes *r)
{
	r->why[0] = '\0';
	r->broken = load(r, &r->routes, CK_routes_file) < 0;
	r->broken |= load(r, &r->tls, CK_tls_policy_file) < 0;
	if (r->broken) {
		fsio_path_changed(config_str(r->q->cfg, CK_routes_file),
		    &r->seen[0]);
		fsio_path_changed(config_str(r->q->cfg, CK_tls_policy_file),
		    &r->seen[1]);
	}
}

struct routes *routes_new(struct qmgr *q)
{
	struct routes *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->q = q;
	open_all(r);
	return r;
}

void routes_free(struct routes **rp)
{
	if (*rp == NULL)
		return;
	map_free(&(*rp)->routes);
	map_free(&(*rp)->tls);
	free(*rp);
	*rp = NULL;
}

void routes_reload(struct routes *r)
{
	int edited;

	if (r->broken) {
		/* both are looked at: each call records what it saw */
		edited = fsio_path_changed(config_str(r->q->cfg,
		    CK_routes_file), &r->seen[0]);
		edited |= fsio_path_changed(config_str(r->q->cfg,
		    CK_tls_policy_file), &r->seen[1]);
		if (edited)
			open_all(r);
	} else if (map_changed(r->routes) || map_changed(r->tls)) {
		open_all(r);
	}
}

/* lookup - the domain, then each parent as ".parent", then "*" when
   star is set */
static const char *lookup(const struct map *m, const char *domain, int star)
{
	const char *v, *p;

	if (m == NULL)
		return NULL;
	if ((v = map_lookup(m, domain)) != NULL)
		return v;
	for (p = strchr(domain, '.'); p != NULL; p = strchr(p + 1, '.'))
		if ((v = map_lookup(m, p)) != NULL)
			return v;
	return star ? map_lookup(m, "*") : NULL;
}

/* tls_ok - one of the four levels */
static int tls_ok(const char *v)
{
	return strcmp(v, "none") == 0 || strcmp(v, "may") == 0 ||
	    strcmp(v, "encrypt") == 0 || strcmp(v, "verify") == 0;
}

static const char *level_name(enum config_tls_level l)
{
	return l == TLS_NONE ? "none" : l == TLS_ENCRYPT ? "encrypt" :
	    l == TLS_VERIFY ? "verify" : "may";
}

void route_remote(struct routes *r, const char *addr, const char *domain,
    struct route *rt)
{
	char dom[256];
	const char *nh, *tls;
	struct nexthop parsed;
	size_t i;

	if (r->broken)
		return route_set(rt, ROUTE_DEFER, "4.3.5", "a routing file has "
		    "an error: %s", r->why);
	if (r->q->root && r->q->remote_uid == 0)
		return route_set(rt, ROUTE_DEFER, "4.3.5", "remote_user %s "
		    "does not exist", config_str(r->q->cfg, CK_remote_user));
	for (i = 0; domain[i] && i + 1 < sizeof(dom); i++)
		dom[i] = (char)tolower((unsigned char)domain[i]);
	dom[i] = '\0';
	nh = lookup(r->routes, dom, 1);
	if (nh == NULL && config_str(r->q->cfg, CK_relayhost)[0])
		nh = config_str(r->q->cfg, CK_relayhost);
	if (nh == NULL && dom[0] == '[')
		nh = dom;
	if (nh != NULL && address_nexthop_parse(nh, &parsed) < 0)
		return route_set(rt, ROUTE_DEFER, "4.3.5", "bad next hop "
		    "\"%s\" for %s (routes_file or relayhost)", nh, dom);
	tls = lookup(r->tls, dom, 0);
	if (tls != NULL && !tls_ok(tls))
		return route_set(rt, ROUTE_DEFER, "4.3.5", "bad TLS level "
		    "\"%s\" for %s in tls_policy_file", tls, dom);
	if (tls == NULL)
		tls = level_name(config_tls_level(r->q->cfg,
		    CK_smtp_tls_security_level));
	rt->kind = ROUTE_REMOTE;
	snprintf(rt->addr, sizeof(rt->addr), "%s", addr);
	snprintf(rt->domain, sizeof(rt->domain), "%s", dom);
	snprintf(rt->nexthop, sizeof(rt->nexthop), "%s", nh ? nh : "");
	snprintf(rt->tls, sizeof(rt->tls), "%s", tls);
	snprintf(rt->dest, sizeof(rt->dest), "%s/%s", nh ? nh : dom, tls);
}
