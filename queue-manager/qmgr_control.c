/*
 * qmgr_control - the control socket (protocol: control_proto.h).
 *
 * A listening socket in run_directory, polled by the event loop with at
 * most CONN_MAX connections. Each connection gets one request, read
 * without blocking within CONTROL_REQUEST_WAIT, and one answer, written
 * without blocking from a buffer (a client that does not read is closed
 * after CONN_WAIT), so no client can stall the queue manager. The caller
 * is whoever SO_PEERCRED says; the file mode of the socket (0666) is not
 * the gate. The request is untrusted input: decoded against the schema,
 * ids parsed strictly, counts bounded.
 *
 * The listings (queue, mailq, show) are views (qview.h) that advance one
 * step, one short read transaction, each time the client has taken what
 * came before: the connection's buffer stays below LOW_WATER and the
 * queue manager's memory does not grow with the queue. An ordinary user's
 * views are limited to the messages they sent (qsel_owned).
 *
 * Bulk verbs select messages (ids, all, selectors), then change them in
 * write transactions of BATCH messages, and log one audit line for each
 * after its transaction commits. Results of jobs in flight for a deleted
 * message are dropped when they come back; a held message's recipients
 * that a job in flight finishes are recorded (qmgr_result.c).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control_proto.h"
#include "ipc.h"
#include "json.h"
#include "log.h"
#include "privs.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "qview.h"
#include "queue.h"
#include "timeutil.h"

#define CONN_MAX 16
#define CONN_WAIT (60 * 1000000LL)	/* for the client to read more */
#define LOW_WATER (256u << 10)		/* render more below this */
#define STEP_BYTES (1u << 20)		/* output of one view step */
#define BATCH 500			/* messages per write transaction */
#define NSPEC(s) (sizeof(s) / sizeof((s)[0]))

enum verb { V_STATUS, V_RELOAD, V_HOLD, V_RELEASE, V_DELETE, V_RETRY,
    V_BOUNCE, V_STATS, V_ROUTE, V_QUEUE, V_MAILQ, V_SHOW };
static const char *const verbs[] = { "status", "reload", "hold", "release",
    "delete", "retry", "bounce", "stats", "route", "queue", "mailq",
    "show" };
static const char *const done_words[] = { "", "", "held", "released",
    "deleted", "retried", "bounced", "", "", "", "", "" };

#define DOMAINS_MAX 4096		/* distinct deferred domains counted */
#define TOP_DOMAINS 20
#define SLOTS (2 * DOMAINS_MAX)		/* the hash table of domains */

/* Counts for stats. */
struct counts {
	uint64_t msgs, held, bytes;
	uint64_t state[QS_EXPANDED + 1];
	int64_t oldest;			/* arrival, or 0 */
	struct dcount { char name[256]; uint64_t n; } *dom;
	size_t ndom;
	uint32_t *slot;			/* hash: dom index + 1, or 0 */
	uint64_t dom_other;		/* past DOMAINS_MAX */
};

struct cconn {
	int fd;
	uid_t uid;
	gid_t gid;
	struct ipc_reader rd;
	int64_t deadline;		/* monotonic */
	struct strbuf out;		/* answer frames not yet written */
	size_t sent;
	int answered;			/* reading is over: answering */
	struct qview *view;		/* a listing still being rendered */
	uint64_t *ids;			/* the ids it lists */
	char login[64];			/* an ordinary caller's user name */
};

struct control {
	struct qmgr *q;
	int lfd;
	struct cconn *c[CONN_MAX];
	size_t n;
	int64_t started;		/* wall clock */
};

/* A selection of messages for a verb. */
struct sel {
	struct qsel q;
	uint64_t *ids;			/* q.ids when there are any */
	int all;
	int dry_run;
};

struct control *control_open(struct qmgr *q)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	struct sockaddr_un sa;

	if (ctl == NULL)
		return NULL;
	ctl->q = q;
	ctl->started = timeutil_now();
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(q->layout.control) >= sizeof(sa.sun_path)) {
		log_error("the control socket path %s is too long",
		    q->layout.control);
		ctl->lfd = -1;
		return ctl;
	}
	memcpy(sa.sun_path, q->layout.control, strlen(q->layout.control));
	/* A socket left by a queue manager that died: we hold the lock. */
	unlink(q->layout.control);
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (ctl->lfd < 0 || bind(ctl->lfd, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0 || chmod(q->layout.control, 0666) < 0 ||
	    listen(ctl->lfd, 16) < 0) {
		log_error("cannot listen on %s: %s; posternctl cannot reach "
		    "the queue manager", q->layout.control, strerror(errno));
		if (ctl->lfd >= 0)
			close(ctl->lfd);
		ctl->lfd = -1;
	}
	return ctl;
}

static void conn_free(struct cconn **cp)
{
	struct cconn *c = *cp;

	if (c == NULL)
		return;
	ipc_reader_release(&c->rd);
	strbuf_release(&c->out);
	free(c->view);
	free(c->ids);
	close(c->fd);
	free(c);
	*cp = NULL;
}

static void drop(struct control *ctl, size_t i)
{
	conn_free(&ctl->c[i]);
	ctl->c[i] = ctl->c[--ctl->n];
	ctl->c[ctl->n] = NULL;
}

void control_close(struct control **cp)
{
	struct control *ctl = *cp;

	if (ctl == NULL)
		return;
	while (ctl->n > 0)
		drop(ctl, ctl->n - 1);
	if (ctl->lfd >= 0) {
		close(ctl->lfd);
		unlink(ctl->q->layout.control);
	}
	free(ctl);
	*cp = NULL;
}

size_t control_pollfds(const struct control *ctl, struct pollfd *pfd,
    size_t max)
{
	size_t i, k = 0;

	if (ctl == NULL)
		return 0;
	if (ctl->lfd >= 0 && k < max && ctl->n < CONN_MAX) {
		pfd[k].fd = ctl->lfd;
		pfd[k].events = POLLIN;
		pfd[k++].revents = 0;
	}
	for (i = 0; i < ctl->n && k < max; i++) {
		pfd[k].fd = ctl->c[i]->fd;
		pfd[k].events = ctl->c[i]->answered ? POLLOUT : POLLIN;
		pfd[k++].revents = 0;
	}
	return k;
}

/* frame - one answer frame onto the connection's buffer */
static void frame(struct cconn *c, const struct strbuf *payload)
{
	uint32_t h = htonl((uint32_t)payload->len);

	strbuf_append(&c->out, &h, sizeof(h));
	strbuf_append(&c->out, payload->s ? payload->s : "", payload->len);
}

/* say - output for the client, in frames of name ("out" for text,
   "data" for bytes as stored) */
static void say_as(struct cconn *c, const char *name, struct strbuf *text)
{
	struct strbuf p = STRBUF_INIT(CONTROL_ANSWER_FRAME + 64);
	size_t off = 0, n;

	while (off < text->len) {
		n = text->len - off < CONTROL_ANSWER_FRAME - 16 ?
		    text->len - off : CONTROL_ANSWER_FRAME - 16;
		strbuf_reset(&p);
		attr_put(&p, name, text->s + off, n);
		frame(c, &p);
		off += n;
	}
	strbuf_reset(text);
	strbuf_release(&p);
}

static void say(struct cconn *c, struct strbuf *text)
{
	say_as(c, "out", text);
}

/* finish - the last frame: status and maybe an error */
static void finish(struct cconn *c, int status, const char *error)
{
	struct strbuf p = STRBUF_INIT(2048);

	attr_put_u64(&p, "status", (uint64_t)status);
	if (error != NULL)
		attr_put_str(&p, "error", error);
	frame(c, &p);
	strbuf_release(&p);
	c->answered = 1;
	c->deadline = timeutil_monotonic() + CONN_WAIT;
}

/* who - "uid N (name)" for the audit lines */
static void who(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "uid %lu (%s)", (unsigned long)uid, pw ?
	    pw->pw_name : "?");
}

/* is_admin - root, the queue manager's own user (who owns the queue),
   or a member of admin_group */
static int is_admin(const struct control *ctl, uid_t uid)
{
	gid_t g;
	const char *why;

	if (uid == 0 || uid == geteuid())
		return 1;
	if (privs_group(config_str(ctl->q->cfg, CK_admin_group), &g, &why) < 0)
		return 0;
	return privs_in_group(uid, g);
}

/* status - the queue manager's state, in text */
static void status(struct control *ctl, struct cconn *c)
{
	struct strbuf t = STRBUF_INIT(4096);
	int64_t up = (timeutil_now() - ctl->started) / 1000000;

	strbuf_appendf(&t, "postern-qmgr is running, pid %ld, up %lldd "
	    "%02lld:%02lld:%02lld\nconfiguration: %s\nqueue: %s\n"
	    "jobs in flight: %zu\n", (long)getpid(), (long long)(up / 86400),
	    (long long)(up / 3600 % 24), (long long)(up / 60 % 60),
	    (long long)(up % 60), ctl->q->config_dir, ctl->q->layout.queue,
	    sched_busy(ctl->q->sched));
	say(c, &t);
	strbuf_release(&t);
	finish(c, 0, NULL);
}

/* lower - an ASCII copy in lower case */
static void lower(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* count_domain - one more deferred recipient at domain d (a hash
   table: stats reads every recipient of the queue) */
static void count_domain(struct counts *k, const char *d)
{
	char low[256];
	uint32_t h = 2166136261u;
	size_t i;

	lower(d, low, sizeof(low));
	for (i = 0; low[i]; i++)
		h = (h ^ (unsigned char)low[i]) * 16777619u;
	for (i = h % SLOTS; k->slot[i] != 0; i = (i + 1) % SLOTS)
		if (strcmp(k->dom[k->slot[i] - 1].name, low) == 0) {
			k->dom[k->slot[i] - 1].n++;
			return;
		}
	if (k->ndom == DOMAINS_MAX) {
		k->dom_other++;
		return;
	}
	snprintf(k->dom[k->ndom].name, sizeof(k->dom[0].name), "%s", low);
	k->dom[k->ndom].n = 1;
	k->slot[i] = (uint32_t)++k->ndom;
}

static int by_count(const void *a, const void *b)
{
	const struct dcount *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

/* count_all - every message, in short read transactions; -1 on failure */
static int count_all(struct control *ctl, struct counts *k)
{
	struct queue_txn *t;
	struct queue_msg m;
	struct queue_rcpt r;
	uint64_t after = 0;
	size_t seen;
	uint32_t i;
	int st = QUEUE_OK;

	do {
		if (queue_begin(ctl->q->queue, 0, &t) != QUEUE_OK)
			return -1;
		for (seen = 0; seen < 1000 && (st = queue_next_msg(t, after,
		    &m)) == QUEUE_OK; seen++) {
			after = m.id;
			k->msgs++;
			k->bytes += m.size;
			k->held += (m.flags & QUEUE_MSG_HELD) != 0;
			if (k->oldest == 0 || m.arrival < k->oldest)
				k->oldest = m.arrival;
			for (i = 0; i < m.nrcpt; i++) {
				const char *at;

				if (queue_get_rcpt(t, m.id, i, &r) != QUEUE_OK ||
				    (unsigned)r.state > QS_EXPANDED)
					continue;
				k->state[r.state]++;
				if (r.state == QS_DEFERRED &&
				    (at = strrchr(r.addr, '@')) != NULL)
					count_domain(k, at + 1);
			}
		}
		queue_abort(&t);
	} while (st == QUEUE_OK);
	return st == QUEUE_NOTFOUND ? 0 : -1;
}

/* stats - counts by state, the oldest message, the deferred domains,
   the last minute's and hour's outcomes, jobs in flight */
static void stats(struct control *ctl, struct cconn *c, int json)
{
	static const char *const names[] = { "pending", "deferred", "held",
	    "delivered", "failed", "expanded" };
	struct strbuf t = STRBUF_INIT(1u << 20);
	struct counts k;
	unsigned m1[3], h1[3];
	int64_t now = timeutil_now(), age;
	size_t i;

	memset(&k, 0, sizeof(k));
	if ((k.dom = calloc(DOMAINS_MAX, sizeof(*k.dom))) == NULL ||
	    (k.slot = calloc(SLOTS, sizeof(*k.slot))) == NULL ||
	    count_all(ctl, &k) < 0) {
		free(k.dom);
		free(k.slot);
		strbuf_release(&t);
		return finish(c, 75, "the queue is not available; try again");
	}
	qsort(k.dom, k.ndom, sizeof(*k.dom), by_count);
	stats_window(now, 1, m1);
	stats_window(now, 60, h1);
	age = k.oldest ? (now - k.oldest) / 1000000 : 0;
	if (json) {
		strbuf_appendf(&t, "{\"messages\":%llu,\"held_messages\":%llu,"
		    "\"bytes\":%llu,\"oldest_age\":%lld,\"recipients\":{",
		    (unsigned long long)k.msgs, (unsigned long long)k.held,
		    (unsigned long long)k.bytes, (long long)age);
		for (i = 0; i <= QS_EXPANDED; i++)
			strbuf_appendf(&t, "%s\"%s\":%llu", i ? "," : "",
			    names[i], (unsigned long long)k.state[i]);
		strbuf_appends(&t, "},\"deferred_domains\":[");
		for (i = 0; i < k.ndom && i < TOP_DOMAINS; i++) {
			strbuf_appends(&t, i ? ",{" : "{");
			json_key_string(&t, "domain", k.dom[i].name);
			strbuf_appendf(&t, ",\"deferred\":%llu}",
			    (unsigned long long)k.dom[i].n);
		}
		strbuf_appendf(&t, "],\"last_minute\":{\"sent\":%u,"
		    "\"bounced\":%u,\"deferred\":%u},\"last_hour\":{"
		    "\"sent\":%u,\"bounced\":%u,\"deferred\":%u},"
		    "\"jobs\":%zu}\n", m1[0], m1[1], m1[2], h1[0], h1[1], h1[2],
		    sched_busy(ctl->q->sched));
	} else {
		strbuf_appendf(&t, "messages: %llu (%llu held), %llu bytes\n"
		    "oldest: %lldh %02lldm old\nrecipients:",
		    (unsigned long long)k.msgs, (unsigned long long)k.held,
		    (unsigned long long)k.bytes, (long long)(age / 3600),
		    (long long)(age / 60 % 60));
		for (i = 0; i <= QS_EXPANDED; i++)
			strbuf_appendf(&t, "%s %llu %s", i ? "," : "",
			    (unsigned long long)k.state[i], names[i]);
		strbuf_appendf(&t, "\nlast minute: %u sent, %u bounced, %u "
		    "deferred\nlast hour: %u sent, %u bounced, %u deferred\n"
		    "jobs in flight: %zu\n", m1[0], m1[1], m1[2], h1[0], h1[1],
		    h1[2], sched_busy(ctl->q->sched));
		if (k.ndom > 0)
			strbuf_appends(&t, "deferred by domain:\n");
		for (i = 0; i < k.ndom && i < TOP_DOMAINS; i++) {
			strbuf_appendf(&t, "%10llu  ",
			    (unsigned long long)k.dom[i].n);
			strbuf_append_printable(&t, k.dom[i].name,
			    strlen(k.dom[i].name), 1);
			strbuf_appendc(&t, '\n');
		}
	}
	free(k.dom);
	free(k.slot);
	say(c, &t);
	strbuf_release(&t);
	finish(c, 0, NULL);
}

/* route - how an address would be delivered now; for a remote one, the
   host whose DNS records the client looks up */
static void route(struct control *ctl, struct cconn *c, const char *addr)
{
	struct strbuf t = STRBUF_INIT(1u << 20), p = STRBUF_INIT(4096);
	struct route rt;
	const char *nh, *ch;
	size_t i;

	route_init(&rt);
	sched_route(ctl->q->sched, addr, &rt);
	strbuf_appends(&t, "address: ");
	strbuf_append_printable(&t, addr, strlen(addr), 1);
	strbuf_appendc(&t, '\n');
	switch (rt.kind) {
	case ROUTE_LOCAL:
		strbuf_appendf(&t, "local delivery as user %s (uid %lu): %s%s",
		    rt.user, (unsigned long)rt.uid, rt.action, rt.target[0] ?
		    " " : "");
		strbuf_append_printable(&t, rt.target, strlen(rt.target), 1);
		strbuf_appendf(&t, "%s%s\n", rt.ext[0] ? ", extension " : "",
		    rt.ext);
		break;
	case ROUTE_EXPAND:
		strbuf_appendf(&t, "alias: expands to %zu address%s:\n",
		    rt.nchildren, rt.nchildren == 1 ? "" : "es");
		for (ch = rt.children.s, i = 0; i < rt.nchildren; i++,
		    ch += strlen(ch) + 1) {
			strbuf_appends(&t, "    ");
			strbuf_append_printable(&t, ch, strlen(ch), 1);
			strbuf_appendc(&t, '\n');
		}
		break;
	case ROUTE_REMOTE:
		strbuf_appendf(&t, "remote delivery over SMTP to the domain %s\n"
		    "next hop: %s\nTLS level: %s\n", rt.domain, rt.nexthop[0] ?
		    rt.nexthop : "(the domain's MX records)", rt.tls);
		/* the DNS part is the client's: the queue manager does none */
		nh = rt.nexthop[0] ? rt.nexthop : rt.domain;
		attr_put_str(&p, "lookup", nh);
		attr_put_str(&p, "mx", nh[0] == '[' ? "0" : "1");
		break;
	case ROUTE_FAIL:
	case ROUTE_DEFER:
		strbuf_appendf(&t, "%s now: %s ", rt.kind == ROUTE_FAIL ?
		    "fails" : "deferred", rt.status);
		strbuf_append_printable(&t, rt.text, strlen(rt.text), 1);
		strbuf_appendc(&t, '\n');
		break;
	}
	route_release(&rt);
	say(c, &t);
	strbuf_release(&t);
	attr_put_u64(&p, "status", 0);
	frame(c, &p);
	strbuf_release(&p);
	c->answered = 1;
	c->deadline = timeutil_monotonic() + CONN_WAIT;
}


/* matches - message m (in t) is selected */
static int matches(struct control *ctl, const struct sel *s,
    struct queue_txn *t, const struct queue_msg *m, const uint64_t *active,
    size_t nactive)
{
	size_t i;

	for (i = 0; i < nactive && active[i] != m->id; i++)
		;
	return qsel_match(&s->q, ctl->q->cfg, t, m, i < nactive);
}

/* push - one id onto a growing list; -1 when out of memory */
static int push(uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
	uint64_t *nv;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;

		if ((nv = reallocarray(*v, nc, sizeof(*nv))) == NULL)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = id;
	return 0;
}

/* select_ids - the selected messages' ids, in id order (damaged ones
   are skipped); -1 on failure */
static int select_ids(struct control *ctl, const struct sel *s,
    uint64_t **v, size_t *n)
{
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t after = 0, *active;
	size_t cap = 0, i, seen, nactive = sched_active(ctl->q->sched, &active);
	int st = QUEUE_OK;

	*v = NULL;
	*n = 0;
	if (s->q.nids > 0) {
		if (queue_begin(ctl->q->queue, 0, &t) != QUEUE_OK)
			st = QUEUE_TEMP;
		for (i = 0; st == QUEUE_OK && i < s->q.nids; i++)
			if (queue_get_msg(t, s->q.ids[i], &m) == QUEUE_OK &&
			    matches(ctl, s, t, &m, active, nactive) &&
			    push(v, n, &cap, m.id) < 0)
				st = QUEUE_TEMP;
		queue_abort(&t);
		free(active);
		return st == QUEUE_OK ? 0 : -1;
	}
	/* Short read transactions, so that LMDB can reuse pages. */
	do {
		if (queue_begin(ctl->q->queue, 0, &t) != QUEUE_OK) {
			st = QUEUE_TEMP;
			break;
		}
		for (seen = 0; seen < 1000; seen++) {
			if ((st = queue_next_msg(t, after, &m)) != QUEUE_OK &&
			    st != QUEUE_CORRUPT)
				break;
			after = m.id;
			if (st == QUEUE_OK && matches(ctl, s, t, &m, active,
			    nactive) && push(v, n, &cap, m.id) < 0) {
				st = QUEUE_TEMP;
				break;
			}
			st = QUEUE_OK;
		}
		queue_abort(&t);
	} while (st == QUEUE_OK);
	free(active);
	return st == QUEUE_NOTFOUND ? 0 : -1;
}

/* change - the verb's change to one message; the queue status */
static int change(struct queue_txn *t, enum verb v, uint64_t id,
    int64_t now)
{
	struct queue_msg m;
	struct queue_rcpt r;
	uint32_t i;
	int st;

	switch (v) {
	case V_HOLD:
		return queue_set_held(t, id, 1, now);
	case V_RELEASE:
		return queue_set_held(t, id, 0, now);
	case V_DELETE:
		return queue_delete(t, id);
	default:
		break;
	}
	if ((st = queue_get_msg(t, id, &m)) != QUEUE_OK)
		return st;
	for (i = 0; i < m.nrcpt; i++) {
		if ((st = queue_get_rcpt(t, id, i, &r)) != QUEUE_OK)
			return st;
		if (v == V_RETRY && r.state == QS_DEFERRED) {
			r.next = now;
		} else if (v == V_BOUNCE && (r.state == QS_PENDING ||
		    r.state == QS_DEFERRED || r.state == QS_HELD)) {
			r.state = QS_FAILED;
			snprintf(r.status, sizeof(r.status), "5.0.0");
			snprintf(r.diag, sizeof(r.diag), "removed by the "
			    "administrator");
			snprintf(r.relay, sizeof(r.relay), "none");
			r.next = now;
			if (notice_owed(&m, &r))
				r.flags |= QUEUE_RCPT_REPORT;
		} else {
			continue;
		}
		if ((st = queue_put_rcpt(t, &r)) != QUEUE_OK)
			return st;
	}
	if (v == V_BOUNCE && message_done(t, id))
		return queue_delete(t, id);
	return QUEUE_OK;
}

/* apply - the verb to the selected ids, in batches; 0 or -1 */
static int apply(struct control *ctl, struct cconn *c, enum verb v,
    const uint64_t *ids, size_t n, int dry_run)
{
	struct strbuf text = STRBUF_INIT(64u << 20);
	char idt[QUEUE_ID_TEXT + 1], by[128];
	struct queue_txn *t;
	int64_t now = timeutil_now();
	size_t i, k, end;
	int st = QUEUE_OK;

	who(c->uid, by, sizeof(by));
	for (i = 0; i < n; i = end) {
		end = i + BATCH < n ? i + BATCH : n;
		if (!dry_run && queue_begin(ctl->q->queue, 1, &t) != QUEUE_OK)
			break;
		for (k = i; !dry_run && k < end && st != QUEUE_TEMP; k++)
			st = change(t, v, ids[k], now);
		if (!dry_run && (st == QUEUE_TEMP || queue_commit(&t) !=
		    QUEUE_OK)) {
			log_error("cannot %s messages: %s", verbs[v],
			    queue_error(ctl->q->queue));
			strbuf_release(&text);
			return -1;
		}
		for (k = i; k < end; k++) {
			queue_id_format(ids[k], idt);
			if (!dry_run)
				log_info("%s: %s by %s", idt, done_words[v], by);
			strbuf_appendf(&text, "%s %s%s\n", idt, dry_run ?
			    "would be " : "", done_words[v]);
		}
	}
	if (text.len == 0)
		strbuf_appends(&text, "no message matches\n");
	say(c, &text);
	strbuf_release(&text);
	if (!dry_run && v != V_HOLD && v != V_DELETE)
		sched_kick(ctl->q->sched);
	return 0;
}

/* parse_sel - the selection in the request; NULL or why not */
static const char *parse_sel(const struct attr_list *al, struct sel *s,
    int *nsel)
{
	size_t i, nids = 0;
	uint64_t v;

	memset(s, 0, sizeof(*s));
	qsel_init(&s->q);
	*nsel = 0;
	if (attr_count(al, "id") > CONTROL_IDS_MAX)
		return "too many ids";
	if ((s->ids = calloc(attr_count(al, "id") + 1, sizeof(*s->ids))) ==
	    NULL)
		return "out of memory";
	for (i = 0; i < al->n; i++) {
		const struct attr *a = &al->v[i];

		if (strcmp(a->name, "id") == 0) {
			if (queue_id_parse(a->value, &s->ids[nids]) < 0)
				return "not a queue id";
			nids++;
		} else if (strcmp(a->name, "all") == 0)
			s->all = 1;
		else if (strcmp(a->name, "dry_run") == 0)
			s->dry_run = 1;
		else if (strcmp(a->name, "sender") == 0 && ++*nsel)
			s->q.sender = a->value;
		else if (strcmp(a->name, "recipient") == 0 && ++*nsel)
			s->q.recipient = a->value;
		else if (strcmp(a->name, "domain") == 0 && ++*nsel)
			s->q.domain = a->value;
		else if (strcmp(a->name, "error") == 0 && ++*nsel)
			s->q.error = a->value;
		else if (strcmp(a->name, "state") == 0 && ++*nsel) {
			if ((s->q.state = qsel_state(a->value)) < 0)
				return "unknown state";
		} else if (strcmp(a->name, "older_than") == 0 && ++*nsel) {
			if (attr_u64(a, &v) < 0 || v > 100LL * 365 * 86400)
				return "bad older_than";
			s->q.older = timeutil_now() - (int64_t)v * 1000000;
		}
	}
	if (nids > 0) {
		s->q.ids = s->ids;
		s->q.nids = nids;
	}
	return NULL;
}

/* produce - the view's next step onto the connection; at the end, the
   last frame */
static void produce(struct control *ctl, struct cconn *c)
{
	struct qview *v = c->view;
	struct strbuf text = STRBUF_INIT(STEP_BYTES + CONTROL_ANSWER_FRAME);
	char idt[QUEUE_ID_TEXT + 1], err[160];
	uint64_t *active;
	int st;

	v->nactive = sched_active(ctl->q->sched, &active);
	v->active = active;
	st = qview_step(v, ctl->q->queue, &text, STEP_BYTES);
	free(active);
	v->active = NULL;
	say_as(c, v->kind == QV_CONTENT ? "data" : "out", &text);
	strbuf_release(&text);
	c->deadline = timeutil_monotonic() + CONN_WAIT;
	if (st == QV_MORE)
		return;
	queue_id_format(v->id, idt);
	if (st == QV_DONE && v->damaged > 0) {
		log_warn("a listing skipped %llu damaged message record%s",
		    (unsigned long long)v->damaged, v->damaged == 1 ? "" : "s");
		snprintf(err, sizeof(err), "%llu damaged message record%s "
		    "skipped: see the log", (unsigned long long)v->damaged,
		    v->damaged == 1 ? " was" : "s were");
		finish(c, 0, err);
	} else if (st == QV_DONE) {
		finish(c, 0, NULL);
	} else if (st == QV_NOMSG) {
		snprintf(err, sizeof(err), "no message %s in the queue", idt);
		finish(c, 67, err);
	} else if (st == QV_DENIED) {
		snprintf(err, sizeof(err), "permission denied: message %s was "
		    "not sent by %s", idt, c->login);
		finish(c, 77, err);
	} else if (st == QUEUE_CORRUPT) {
		snprintf(err, sizeof(err), "message %s is damaged: %s", idt,
		    queue_error(ctl->q->queue));
		finish(c, 70, err);
	} else {
		finish(c, 75, "the queue is not available; try again");
	}
	free(c->view);
	c->view = NULL;
}

/* view - start a listing or show for the connection */
static void view(struct control *ctl, struct cconn *c, enum verb verb,
    const struct attr_list *al, struct sel *s)
{
	struct qview *v = calloc(1, sizeof(*v));
	int json = attr_find(al, "json") != NULL;

	if (v == NULL)
		return finish(c, 75, "out of memory; try again");
	if (verb == V_SHOW) {
		if (s->q.nids != 1 || qsel_filters(&s->q)) {
			free(v);
			return finish(c, 64, "show takes one id");
		}
		qview_init(v, attr_find(al, "content") ? QV_CONTENT : QV_SHOW,
		    ctl->q->cfg);
		v->id = s->q.ids[0];
		v->transcript = attr_find(al, "transcript") != NULL;
	} else if (verb == V_MAILQ) {
		qview_init(v, QV_MAILQ, ctl->q->cfg);
		v->sel = s->q;
	} else {
		qview_init(v, attr_find(al, "count") ? QV_COUNT : QV_QUEUE,
		    ctl->q->cfg);
		v->sel = s->q;
	}
	v->json = json && verb != V_MAILQ;
	if (c->login[0] != '\0')
		v->sel.owner = c->login;
	/* the selection's ids must outlive the request */
	if (s->q.nids > 0 && verb != V_SHOW) {
		c->ids = s->ids;
		s->ids = NULL;
	}
	c->view = v;
	c->answered = 1;
	produce(ctl, c);
}

/* handle - one request */
static void handle(struct control *ctl, struct cconn *c,
    const struct ipc_msg *m)
{
	const struct attr *va;
	const char *why = NULL, *name = NULL;
	char err[256];
	struct sel s;
	uint64_t *ids = NULL;
	size_t n = 0, k;
	int nsel = 0, admin;
	enum verb v;
	struct passwd *pw;

	if (attr_check(&m->attrs, control_request_spec,
	    NSPEC(control_request_spec), 0, &why, &name) < 0 ||
	    strcmp(m->attrs.v[0].name, "v") != 0 ||
	    strcmp(m->attrs.v[0].value, CONTROL_VERSION) != 0) {
		snprintf(err, sizeof(err), "bad request: %s%s%s", why ? why :
		    "not version 1", name ? ": " : "", name ? name : "");
		return finish(c, 64, err);
	}
	va = attr_find(&m->attrs, "verb");
	for (k = 0; k < sizeof(verbs) / sizeof(verbs[0]) &&
	    strcmp(verbs[k], va->value) != 0; k++)
		;
	if (k == sizeof(verbs) / sizeof(verbs[0]))
		return finish(c, 64, "unknown verb");
	v = (enum verb)k;
	if (v == V_STATUS)
		return status(ctl, c);
	admin = is_admin(ctl, c->uid);
	if (v == V_STATS && admin)
		return stats(ctl, c, attr_find(&m->attrs, "json") != NULL);
	if (v == V_QUEUE || v == V_MAILQ || v == V_SHOW) {
		if (!admin && ((pw = getpwuid(c->uid)) == NULL ||
		    strlen(pw->pw_name) >= sizeof(c->login)))
			return finish(c, 77, "permission denied: your uid has "
			    "no user name, so no message is yours");
		if (!admin)
			snprintf(c->login, sizeof(c->login), "%s",
			    pw->pw_name);
		if ((why = parse_sel(&m->attrs, &s, &nsel)) != NULL)
			finish(c, 64, why);
		else
			view(ctl, c, v, &m->attrs, &s);
		free(s.ids);
		return;
	}
	if (!admin) {
		snprintf(err, sizeof(err), "permission denied: only root and "
		    "members of %s may %s messages",
		    config_str(ctl->q->cfg, CK_admin_group), verbs[v]);
		return finish(c, 77, err);
	}
	if (v == V_ROUTE) {
		if ((va = attr_find(&m->attrs, "address")) == NULL)
			return finish(c, 64, "route needs an address");
		return route(ctl, c, va->value);
	}
	if (v == V_RELOAD) {
		raise(SIGHUP);
		return finish(c, 0, NULL);
	}
	if ((why = parse_sel(&m->attrs, &s, &nsel)) != NULL) {
		free(s.ids);
		return finish(c, 64, why);
	}
	if (s.q.nids == 0 && !s.all && nsel == 0) {
		free(s.ids);
		return finish(c, 64, "name messages: ids, --all or selectors");
	}
	if (select_ids(ctl, &s, &ids, &n) < 0 ||
	    apply(ctl, c, v, ids, n, s.dry_run) < 0)
		finish(c, 75, "the queue is not available; try again");
	else
		finish(c, s.q.nids > 0 && n == 0 ? 67 : 0, NULL);
	free(ids);
	free(s.ids);
}

/* accept_one - a new connection */
static void accept_one(struct control *ctl)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct cconn *c;
	int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (ctl->n >= CONN_MAX || getsockopt(fd, SOL_SOCKET, SO_PEERCRED,
	    &cred, &len) < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->deadline = timeutil_monotonic() + CONTROL_REQUEST_WAIT * 1000000LL;
	ipc_reader_init(&c->rd, fd, CONTROL_REQUEST_MAX);
	strbuf_init(&c->out, 256u << 20);
	ctl->c[ctl->n++] = c;
}

/* readable - 0 keep the connection, -1 close it */
static int readable(struct control *ctl, struct cconn *c)
{
	struct ipc_msg m;
	const char *why = NULL;
	long got = ipc_reader_fill(&c->rd);
	int r;

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	r = ipc_reader_next(&c->rd, &m, &why);
	if (r == 1) {
		handle(ctl, c, &m);
		ipc_msg_release(&m);
		return 0;
	}
	if (r == 0 && got > 0)
		return 0;
	return -1;
}

/* writable - send what is buffered; render more of a view when the
   client has taken most of it; 0 keep, -1 done or broken */
static int writable(struct control *ctl, struct cconn *c)
{
	ssize_t w = 0;

	if (c->sent < c->out.len) {
		w = send(c->fd, c->out.s + c->sent, c->out.len - c->sent,
		    MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->sent += (size_t)w;
		if (w > 0)
			c->deadline = timeutil_monotonic() + CONN_WAIT;
	}
	if (c->view != NULL && c->out.len - c->sent < LOW_WATER) {
		/* drop what was sent, so the buffer never grows */
		if (c->sent > 0) {
			memmove(c->out.s, c->out.s + c->sent, c->out.len -
			    c->sent);
			strbuf_truncate(&c->out, c->out.len - c->sent);
			c->sent = 0;
		}
		produce(ctl, c);
	}
	return c->sent < c->out.len || c->view != NULL ? 0 : -1;
}

void control_ready(struct control *ctl, const struct pollfd *pfd, size_t n)
{
	int64_t now = timeutil_monotonic();
	size_t k, i;

	if (ctl == NULL)
		return;
	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (pfd[k].fd == ctl->lfd) {
			accept_one(ctl);
			continue;
		}
		for (i = 0; i < ctl->n && ctl->c[i]->fd != pfd[k].fd; i++)
			;
		if (i == ctl->n)
			continue;
		if ((ctl->c[i]->answered ? writable(ctl, ctl->c[i]) :
		    readable(ctl, ctl->c[i])) < 0)
			drop(ctl, i);
	}
	for (i = 0; i < ctl->n; i++)
		if (now > ctl->c[i]->deadline)
			drop(ctl, i--);
}
