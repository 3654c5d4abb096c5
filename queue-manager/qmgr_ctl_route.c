/*
 * qmgr_ctl_route - the route verb: how the queue manager would deliver
 * an address now, without sending anything. The resolver runs on it as
 * on a recipient from nobody (aliases, virtual, passwd, routes, TLS
 * policy), and the answer says what it found, as text or one JSON
 * object. For a remote route the last frame names the host to look up
 * ("lookup", and "mx" when its MX records count), and posternctl makes
 * the DNS queries itself (posternctl_route.c): the queue manager does no
 * DNS.
 */
#include <string.h>

#include "attr.h"
#include "json.h"
#include "qmgr.h"
#include "qmgr_control_impl.h"
#include "qmgr_deliver.h"
#include "strbuf.h"

static const char *const kinds[] = { "local", "remote", "alias", "defer",
    "fail" };

/* text - the route for people */
static void text(const char *addr, const struct route *rt, struct strbuf *t)
{
	const char *ch;
	size_t i;

	strbuf_appends(t, "address: ");
	strbuf_append_printable(t, addr, strlen(addr), 1);
	strbuf_appendc(t, '\n');
	switch (rt->kind) {
	case ROUTE_LOCAL:
		strbuf_appendf(t, "local delivery as user %s (uid %lu): %s%s",
		    rt->user, (unsigned long)rt->uid, rt->action,
		    rt->target[0] ? " " : "");
		strbuf_append_printable(t, rt->target, strlen(rt->target), 1);
		strbuf_appendf(t, "%s%s\n", rt->ext[0] ? ", extension " : "",
		    rt->ext);
		break;
	case ROUTE_EXPAND:
		strbuf_appendf(t, "alias: expands to %zu address%s:\n",
		    rt->nchildren, rt->nchildren == 1 ? "" : "es");
		for (ch = rt->children.s, i = 0; i < rt->nchildren; i++,
		    ch += strlen(ch) + 1) {
			strbuf_appends(t, "    ");
			strbuf_append_printable(t, ch, strlen(ch), 1);
			strbuf_appendc(t, '\n');
		}
		break;
	case ROUTE_REMOTE:
		strbuf_appendf(t, "remote delivery over SMTP to the domain %s\n"
		    "next hop: %s\nTLS level: %s\n", rt->domain,
		    rt->nexthop[0] ? rt->nexthop : "(the domain's MX records)",
		    rt->tls);
		break;
	case ROUTE_FAIL:
	case ROUTE_DEFER:
		strbuf_appendf(t, "%s now: %s ", rt->kind == ROUTE_FAIL ?
		    "fails" : "deferred", rt->status);
		strbuf_append_printable(t, rt->text, strlen(rt->text), 1);
		strbuf_appendc(t, '\n');
		break;
	}
}

/* member - ,"key":"value" (null when value is empty) */
static void member(struct strbuf *t, const char *key, const char *value)
{
	strbuf_appendc(t, ',');
	if (value[0] != '\0') {
		json_key_string(t, key, value);
		return;
	}
	json_string(t, key, strlen(key));
	strbuf_appends(t, ":null");
}

/* json - the route as one object, ending "}\n" (posternctl adds "dns"
   before the brace) */
static void json(const char *addr, const struct route *rt, struct strbuf *t)
{
	const char *ch;
	size_t i;

	strbuf_appendc(t, '{');
	json_key_string(t, "address", addr);
	member(t, "kind", kinds[rt->kind]);
	switch (rt->kind) {
	case ROUTE_LOCAL:
		member(t, "user", rt->user);
		strbuf_appendf(t, ",\"uid\":%lu", (unsigned long)rt->uid);
		member(t, "action", rt->action);
		member(t, "target", rt->target);
		member(t, "extension", rt->ext);
		break;
	case ROUTE_EXPAND:
		strbuf_appends(t, ",\"expands_to\":[");
		for (ch = rt->children.s, i = 0; i < rt->nchildren; i++,
		    ch += strlen(ch) + 1) {
			if (i > 0)
				strbuf_appendc(t, ',');
			json_string(t, ch, strlen(ch));
		}
		strbuf_appendc(t, ']');
		break;
	case ROUTE_REMOTE:
		member(t, "domain", rt->domain);
		member(t, "next_hop", rt->nexthop);
		member(t, "tls_level", rt->tls);
		break;
	case ROUTE_FAIL:
	case ROUTE_DEFER:
		member(t, "status", rt->status);
		member(t, "text", rt->text);
		break;
	}
	strbuf_appends(t, "}\n");
}

void ctl_route(struct control *ctl, struct cconn *c, const char *addr,
    int as_json)
{
	struct strbuf t = STRBUF_INIT(1u << 20), p = STRBUF_INIT(4096);
	struct route rt;
	const char *nh;

	route_init(&rt);
	sched_route(ctl->q->sched, addr, &rt);
	(as_json ? json : text)(addr, &rt, &t);
	if (rt.kind == ROUTE_REMOTE) {
		nh = rt.nexthop[0] ? rt.nexthop : rt.domain;
		attr_put_str(&p, "lookup", nh);
		attr_put_str(&p, "mx", nh[0] == '[' ? "0" : "1");
	}
	route_release(&rt);
	ctl_say(c, "out", &t);
	strbuf_release(&t);
	ctl_finish_with(c, 0, NULL, &p);
	strbuf_release(&p);
}
