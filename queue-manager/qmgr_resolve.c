/*
 * qmgr_resolve - where a recipient goes.
 *
 * In this order: a recipient an alias produced as "|command" or "/file"
 * is delivered by that program or into that file, as the aliases file's
 * owner (or default_privs when root owns it, as Postfix does); a domain
 * outside local_domains is remote (qmgr_route.c picks its next hop and
 * TLS level); the local part is lower-
 * cased and split at recipient_delimiter into user and extension; the
 * aliases map (user+ext first, then user); the virtual mailbox file; the
 * password database. No delivery ever runs as uid 0: root, postmaster
 * and users below min_local_uid are reached only through an alias, and
 * without one their mail stays deferred with a text telling the admin.
 *
 * Loops: an address that is already on the recipient's path of
 * expansions (its parent chain) is not expanded again; it goes to that
 * user's own mailbox, without ~/.forward ("bob: bob, backup" keeps a copy
 * for bob, as in sendmail and Postfix). A path deeper than
 * ROUTE_DEPTH_MAX fails with 5.4.6.
 *
 * Trusts: the aliases map and the virtual file (written by root); include
 * files are read only when they are regular files that are not group- or
 * world-writable.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aliases.h"
#include "config.h"
#include "fsio.h"
#include "log.h"
#include "maps.h"
#include "privs.h"
#include "qmgr.h"
#include "qmgr_deliver.h"

#define INCLUDE_MAX (1u << 20)

struct resolver {
	struct qmgr *q;
	struct aliases *aliases;	/* NULL: none */
	int aliases_missing;		/* source exists, map does not */
	char aliases_map[PATH_MAX];
	struct map *virtual;
	int virtual_broken;		/* the file has an error: defer */
	struct stat virtual_st;		/* the broken file, to notice a fix */
	uid_t owner_uid;		/* runs alias |command and /file */
	gid_t owner_gid;
	char owner[64], owner_home[PATH_MAX];
	struct routes *routes;		/* remote destinations */
};

struct expand_ctx {
	struct route *rt;
	const char *host;
	const char *why;
	int depth;			/* :include: nesting */
	struct resolver *r;
};

/* route_init - an empty route */
void route_init(struct route *rt)
{
	memset(rt, 0, sizeof(*rt));
	strbuf_init(&rt->children, 1u << 20);
}

/* route_release - free the children */
void route_release(struct route *rt)
{
	strbuf_release(&rt->children);
}

void route_set(struct route *rt, enum route_kind kind, const char *status,
    const char *fmt, ...)
{
	va_list ap;

	rt->kind = kind;
	snprintf(rt->status, sizeof(rt->status), "%s", status);
	va_start(ap, fmt);
	vsnprintf(rt->text, sizeof(rt->text), fmt, ap);
	va_end(ap);
}

/* alias_owner - who runs |command and /file targets of aliases */
static void alias_owner(struct resolver *r)
{
	const char *file = config_str(r->q->cfg, CK_alias_file);
	struct passwd *pw = NULL;
	struct stat st;

	if (file[0] && stat(file, &st) == 0 && st.st_uid != 0)
		pw = getpwuid(st.st_uid);
	if (pw == NULL)
		pw = getpwnam(config_str(r->q->cfg, CK_default_privs));
	r->owner_uid = pw ? pw->pw_uid : 65534;
	r->owner_gid = pw ? pw->pw_gid : 65534;
	snprintf(r->owner, sizeof(r->owner), "%s", pw ? pw->pw_name : "nobody");
	snprintf(r->owner_home, sizeof(r->owner_home), "%s", pw ? pw->pw_dir :
	    "/");
}

/* open_aliases - the compiled map beside alias_file */
static void open_aliases(struct resolver *r)
{
	const char *file = config_str(r->q->cfg, CK_alias_file);
	char err[512];

	int was_missing = r->aliases_missing;

	aliases_close(&r->aliases);
	r->aliases_missing = 0;
	if (file[0] == '\0')
		return;
	snprintf(r->aliases_map, sizeof(r->aliases_map), "%s%s", file,
	    ALIASES_MAP_SUFFIX);
	if (aliases_open(&r->aliases, r->aliases_map, err, sizeof(err)) == 0)
		return;
	if (access(file, F_OK) == 0) {
		r->aliases_missing = 1;
		if (!was_missing)
			log_warn("%s; mail for local users is deferred until "
			    "postern-newaliases compiles %s", err, file);
	}
}

/* open_virtual - the virtual mailbox file; a file with an error defers
   every local recipient (an address it should have named must not fall
   through to "user unknown") until the file changes */
static void open_virtual(struct resolver *r)
{
	const char *path = config_str(r->q->cfg, CK_virtual_mailbox_file);
	char err[512];

	map_free(&r->virtual);
	r->virtual_broken = 0;
	if (map_load(&r->virtual, path, MAP_MISSING_OK | MAP_LOWER_KEYS, err,
	    sizeof(err)) < 0) {
		r->virtual_broken = 1;
		fsio_path_changed(path, &r->virtual_st);
		log_error("%s; local mail is deferred until it is fixed", err);
	}
}

/* resolver_new - maps opened from the configuration */
struct resolver *resolver_new(struct qmgr *q)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->q = q;
	alias_owner(r);
	open_aliases(r);
	open_virtual(r);
	if ((r->routes = routes_new(q)) == NULL) {
		resolver_free(&r);
		return NULL;
	}
	return r;
}

/* resolver_free - close and free */
void resolver_free(struct resolver **rp)
{
	if (*rp == NULL)
		return;
	aliases_close(&(*rp)->aliases);
	map_free(&(*rp)->virtual);
	routes_free(&(*rp)->routes);
	free(*rp);
	*rp = NULL;
}

/* resolver_reload - reopen what changed on disk */
void resolver_reload(struct resolver *r)
{
	if ((r->aliases && aliases_changed(r->aliases)) ||
	    (r->aliases == NULL && r->aliases_map[0] &&
	    access(r->aliases_map, F_OK) == 0)) {
		alias_owner(r);
		open_aliases(r);
		if (r->aliases)
			log_info("aliases map %s (re)opened", r->aliases_map);
	}
	if (r->virtual_broken ? fsio_path_changed(config_str(r->q->cfg,
	    CK_virtual_mailbox_file), &r->virtual_st) : (r->virtual == NULL ||
	    map_changed(r->virtual)))
		open_virtual(r);
	routes_reload(r->routes);
}

/* add_child - one expansion target as a child address */
static int add_child(struct expand_ctx *c, const char *text, size_t len,
    int pseudo)
{
	struct address a;
	const char *why;

	if (c->rt->nchildren >= ROUTE_CHILDREN_MAX)
		return c->why = "more than 1000 targets", -1;
	if (pseudo) {
		/* "|command" and "/file" ride as addresses without a domain;
		   only the resolver ever gives them a meaning */
		if (len > ADDRESS_MAX || memchr(text, '\0', len))
			return c->why = "command or file name too long", -1;
		strbuf_append(&c->rt->children, text, len);
	} else {
		if (address_parse_qualified(text, len, ADDRESS_ALLOW_ANGLE,
		    c->host, &a, &why) < 0)
			return c->why = why, -1;
		strbuf_appends(&c->rt->children, a.text);
	}
	strbuf_appendc(&c->rt->children, '\0');
	c->rt->nchildren++;
	return strbuf_ok(&c->rt->children) ? 0 : (c->why = "too long", -1);
}

static int expand_cb(void *ctx, enum alias_target kind, const char *text,
    size_t len);

/* include - the targets of an :include: file */
static int include(struct expand_ctx *c, const char *path, size_t len)
{
	char name[PATH_MAX], *buf;
	struct stat st;
	ssize_t n;
	int fd, r;

	if (len >= sizeof(name) || c->depth > 3)
		return c->why = ":include: too deep or name too long", -1;
	memcpy(name, path, len);
	name[len] = '\0';
	fd = open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	/* Its commands and files run as the aliases file's owner: so only
	   root or that owner may own it. */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 022) || st.st_size > INCLUDE_MAX ||
	    (st.st_uid != 0 && st.st_uid != c->r->owner_uid)) {
		if (fd >= 0)
			close(fd);
		return c->why = "include file missing, not a regular file, "
		    "writable by others, owned by someone else, or too large",
		    -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return c->why = "cannot read include file", -1;
	}
	c->depth++;
	r = aliases_split_file(buf, (size_t)n, expand_cb, c, &c->why);
	c->depth--;
	free(buf);
	return r < 0 ? -1 : 0;
}

/* expand_cb - one target of an alias value */
static int expand_cb(void *ctx, enum alias_target kind, const char *text,
    size_t len)
{
	struct expand_ctx *c = ctx;
	char tmp[ADDRESS_BUF + 1];

	switch (kind) {
	case ALIAS_PIPE:
		if (len + 1 > ADDRESS_MAX)
			return c->why = "command too long", -1;
		tmp[0] = '|';
		memcpy(tmp + 1, text, len);
		return add_child(c, tmp, len + 1, 1);
	case ALIAS_FILE:
		return add_child(c, text, len, 1);
	case ALIAS_INCLUDE:
		return include(c, text, len);
	default:
		return add_child(c, text, len, 0);
	}
}

/* on_path - addr is one of r's ancestors' addresses (not r's own) */
static int on_path(struct queue_txn *t, const struct queue_rcpt *r,
    int *depth_r)
{
	struct queue_rcpt up = *r;
	int found = 0;

	*depth_r = 0;
	while (up.parent != QUEUE_NO_PARENT && *depth_r <= ROUTE_DEPTH_MAX &&
	    queue_get_rcpt(t, up.id, up.parent, &up) == QUEUE_OK) {
		++*depth_r;
		if (strcasecmp(up.addr, r->addr) == 0)
			found = 1;
	}
	return found;
}

/* alias_target - a "|command" or "/file" child of an alias */
static void alias_target(struct resolver *r, struct queue_txn *t,
    const struct queue_rcpt *rc, struct route *rt)
{
	struct queue_rcpt parent;
	size_t len = strlen(rc->addr);

	if (queue_get_rcpt(t, rc->id, rc->parent, &parent) != QUEUE_OK)
		return route_set(rt, ROUTE_DEFER, "4.3.0", "cannot read the "
		    "alias this target came from");
	rt->kind = ROUTE_LOCAL;
	rt->uid = r->owner_uid;
	rt->gid = r->owner_gid;
	snprintf(rt->user, sizeof(rt->user), "%s", r->owner);
	snprintf(rt->home, sizeof(rt->home), "%s", r->owner_home);
	snprintf(rt->addr, sizeof(rt->addr), "%s", parent.addr);
	snprintf(rt->action, sizeof(rt->action), "%s", rc->addr[0] == '|' ?
	    "pipe" : rc->addr[len - 1] == '/' ? "maildir" : "mbox");
	snprintf(rt->target, sizeof(rt->target), "%s", rc->addr +
	    (rc->addr[0] == '|'));
}

/* local_domain - the domain is one of local_domains */
static int local_domain(const struct config *cfg, const char *domain)
{
	const char *const *v;
	size_t n, i;

	v = config_list(cfg, CK_local_domains, &n);
	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], domain) == 0)
			return 1;
	return 0;
}

/* split_local - the lower-cased local part (full), and it split into
   user and extension */
static void split_local(const struct config *cfg, const char *addr,
    char full[ADDRESS_BUF], char user[ADDRESS_BUF],
    char ext[LOCAL_EXT_MAX + 1])
{
	const char *delims = config_str(cfg, CK_recipient_delimiter);
	const char *at = strrchr(addr, '@');
	size_t len = at ? (size_t)(at - addr) : strlen(addr), i, cut;

	for (i = 0; i < len; i++)
		user[i] = (char)tolower((unsigned char)addr[i]);
	user[len] = '\0';
	memcpy(full, user, len + 1);
	ext[0] = '\0';
	cut = delims[0] ? strcspn(user, delims) : len;
	/* "postmaster" and the like are never split */
	if (cut < len && cut > 0) {
		snprintf(ext, LOCAL_EXT_MAX + 1, "%s", user + cut + 1);
		user[cut] = '\0';
	}
}

/* try_aliases - 1 when an alias expanded the recipient */
static int try_aliases(struct resolver *r, const char *full,
    const char *user, int depth, struct route *rt)
{
	struct strbuf v = STRBUF_INIT(1u << 20);
	struct expand_ctx c = { rt, config_str(r->q->cfg, CK_myhostname),
	    NULL, 0, r };
	int found;

	if (r->aliases == NULL)
		return 0;
	found = aliases_lookup(r->aliases, full, &v);
	if (found == 0 && strcmp(full, user) != 0)
		found = aliases_lookup(r->aliases, user, &v);
	if (found < 0)
		route_set(rt, ROUTE_DEFER, "4.3.0", "cannot read the aliases "
		    "map");
	else if (found > 0 && depth >= ROUTE_DEPTH_MAX)
		route_set(rt, ROUTE_FAIL, "5.4.6", "alias expansion deeper "
		    "than %d levels (a loop?)", ROUTE_DEPTH_MAX);
	else if (found > 0 && aliases_split(v.s, v.len, expand_cb, &c,
	    &c.why) < 0)
		route_set(rt, ROUTE_DEFER, "4.3.5", "alias %s cannot be "
		    "expanded: %s", user, c.why ? c.why : "bad value");
	else if (found > 0)
		rt->kind = ROUTE_EXPAND;
	strbuf_release(&v);
	return found != 0;
}

/* try_virtual - 1 when the address is a virtual mailbox */
static int try_virtual(struct resolver *r, const char *addr,
    struct route *rt)
{
	char key[ADDRESS_BUF];
	const char *path, *why;
	size_t i;

	for (i = 0; addr[i] && i < sizeof(key) - 1; i++)
		key[i] = (char)tolower((unsigned char)addr[i]);
	key[i] = '\0';
	if (r->virtual == NULL || (path = map_lookup(r->virtual, key)) == NULL)
		return 0;
	if (path[0] != '/')
		return route_set(rt, ROUTE_DEFER, "4.3.5", "virtual mailbox "
		    "%s: the path \"%s\" is not absolute", addr, path), 1;
	if (privs_user(config_str(r->q->cfg, CK_virtual_user), &rt->uid,
	    &rt->gid, &why) < 0)
		return route_set(rt, ROUTE_DEFER, "4.3.5", "virtual_user %s: "
		    "%s", config_str(r->q->cfg, CK_virtual_user), why), 1;
	rt->kind = ROUTE_LOCAL;
	snprintf(rt->user, sizeof(rt->user), "%s",
	    config_str(r->q->cfg, CK_virtual_user));
	snprintf(rt->home, sizeof(rt->home), "/");
	snprintf(rt->action, sizeof(rt->action), "%s",
	    path[strlen(path) - 1] == '/' ? "maildir" : "mbox");
	snprintf(rt->target, sizeof(rt->target), "%s", path);
	snprintf(rt->addr, sizeof(rt->addr), "%s", addr);
	return 1;
}

/* try_user - the password database */
static void try_user(struct resolver *r, const char *user, const char *ext,
    const char *addr, int noforward, struct route *rt)
{
	struct passwd *pw = getpwnam(user);
	const char *file = config_str(r->q->cfg, CK_alias_file);

	if (pw == NULL && noforward)
		return route_set(rt, ROUTE_FAIL, "5.4.6", "mail forwarding "
		    "loop: %s leads back to itself and is no user here", addr);
	if (pw == NULL && strcmp(user, "postmaster") != 0)
		return route_set(rt, ROUTE_FAIL, "5.1.1", "user unknown: there "
		    "is no account \"%s\" on this host (it may have been "
		    "deleted)", user);
	if (pw == NULL || pw->pw_uid == 0 ||
	    (long)pw->pw_uid < config_count(r->q->cfg, CK_min_local_uid))
		return route_set(rt, ROUTE_DEFER, "4.3.5", "mail for %s needs "
		    "an alias: add \"%s: someone\" to %s and run "
		    "postern-newaliases", user, user, file[0] ? file : "an "
		    "aliases file");
	rt->kind = ROUTE_LOCAL;
	rt->uid = pw->pw_uid;
	rt->gid = pw->pw_gid;
	rt->noforward = noforward;
	snprintf(rt->user, sizeof(rt->user), "%s", pw->pw_name);
	snprintf(rt->home, sizeof(rt->home), "%s", pw->pw_dir);
	snprintf(rt->action, sizeof(rt->action), "mailbox");
	snprintf(rt->ext, sizeof(rt->ext), "%s", ext);
	snprintf(rt->addr, sizeof(rt->addr), "%s", addr);
}

/* resolve - route one recipient */
void resolve(struct resolver *r, struct queue_txn *t,
    const struct queue_rcpt *rc, struct route *rt)
{
	char user[ADDRESS_BUF], full[ADDRESS_BUF], ext[LOCAL_EXT_MAX + 1];
	const char *at = strrchr(rc->addr, '@');
	int depth, looped;

	if (at == NULL && rc->parent != QUEUE_NO_PARENT &&
	    (rc->addr[0] == '|' || rc->addr[0] == '/'))
		return alias_target(r, t, rc, rt);
	if (at == NULL)
		return route_set(rt, ROUTE_FAIL, "5.1.3", "address without a "
		    "domain");
	if (!local_domain(r->q->cfg, at + 1))
		return route_remote(r->routes, rc->addr, at + 1, rt);
	looped = on_path(t, rc, &depth);
	split_local(r->q->cfg, rc->addr, full, user, ext);
	if (r->aliases_missing)
		return route_set(rt, ROUTE_DEFER, "4.3.5", "the aliases map is "
		    "missing: run postern-newaliases");
	if (r->virtual_broken)
		return route_set(rt, ROUTE_DEFER, "4.3.5", "the virtual "
		    "mailbox file has an error (see the log)");
	if (!looped && try_aliases(r, full, user, depth, rt))
		return;
	if (try_virtual(r, rc->addr, rt))
		return;
	try_user(r, user, ext, rc->addr, looped, rt);
}
