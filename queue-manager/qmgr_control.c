/*
 * qmgr_control - the control socket (protocol: control_proto.h; the
 * parts: qmgr_control_impl.h).
 *
 * A listening socket in run_directory, polled by the event loop with at
 * most CONN_MAX connections. Each connection gets one request, read
 * without blocking within CONTROL_REQUEST_WAIT, and one answer, written
 * without blocking from a buffer; a client that reads nothing for
 * CONN_WAIT is dropped, so no client can stall the queue manager. The
 * caller is whoever SO_PEERCRED says; the file mode of the socket (0666)
 * is not the gate. The request is untrusted input: decoded against the
 * schema, ids parsed strictly, counts bounded.
 *
 * The short verbs (status, reload) are answered here at once, route in
 * qmgr_ctl_route.c. The verbs that walk the queue run as tasks
 * (qmgr_ctl_steps.c): the writer runs the task's next step only when
 * less than LOW_WATER of the answer is still unsent, so the buffer stays
 * small however long the answer. An ordinary user may hold at most
 * CONN_PER_USER connections, so that no one can take every slot.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "qmgr_control_impl.h"
#include "qview.h"
#include "queue.h"
#include "timeutil.h"

#define CONN_WAIT (60 * 1000000LL)	/* for the client to read more */
#define LOW_WATER (256u << 10)		/* run the next step below this */
#define CONN_PER_USER 4			/* open at once, for non-administrators */

const char *const ctl_verbs[V_NVERBS] = { "status", "reload", "hold",
    "release", "delete", "retry", "bounce", "stats", "route", "queue",
    "mailq", "show" };

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
	if (c->release != NULL)
		c->release(c->task);
	free(c->task);
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

void ctl_frame(struct cconn *c, const struct strbuf *payload)
{
	uint32_t h = htonl((uint32_t)payload->len);

	strbuf_append(&c->out, &h, sizeof(h));
	strbuf_append(&c->out, payload->s ? payload->s : "", payload->len);
}

void ctl_say(struct cconn *c, const char *name, struct strbuf *text)
{
	size_t off = 0, n, at;
	uint32_t h;

	/* Each frame is encoded straight into the connection's buffer: a
	   length placeholder, the attribute, then the length put right. */
	while (off < text->len) {
		n = text->len - off < CONTROL_ANSWER_FRAME - 16 ?
		    text->len - off : CONTROL_ANSWER_FRAME - 16;
		at = c->out.len;
		h = 0;
		if (strbuf_append(&c->out, &h, sizeof(h)) < 0 ||
		    attr_put(&c->out, name, text->s + off, n) < 0)
			break;
		h = htonl((uint32_t)(c->out.len - at - sizeof(h)));
		memcpy(c->out.s + at, &h, sizeof(h));
		off += n;
	}
	strbuf_reset(text);
}

void ctl_finish(struct cconn *c, int status, const char *error)
{
	ctl_finish_with(c, status, error, NULL);
}

void ctl_finish_with(struct cconn *c, int status, const char *error,
    const struct strbuf *extra)
{
	struct strbuf p = STRBUF_INIT(4096);

	if (extra != NULL)
		strbuf_append(&p, extra->s ? extra->s : "", extra->len);
	attr_put_u64(&p, "status", (uint64_t)status);
	if (error != NULL)
		attr_put_str(&p, "error", error);
	ctl_frame(c, &p);
	strbuf_release(&p);
	c->answered = 1;
	c->deadline = timeutil_monotonic() + CONN_WAIT;
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

/* status - the queue manager's state, in text or JSON */
static void status(struct control *ctl, struct cconn *c, int json)
{
	struct strbuf t = STRBUF_INIT(16384);
	struct sched_workers w;
	int64_t up = (timeutil_now() - ctl->started) / 1000000;

	sched_workers(ctl->q->sched, &w);
	if (json) {
		strbuf_appendf(&t, "{\"running\":true,\"pid\":%ld,"
		    "\"uptime\":%lld,", (long)getpid(), (long long)up);
		json_key_string(&t, "config_directory", ctl->q->config_dir);
		strbuf_appendc(&t, ',');
		json_key_string(&t, "queue_directory", ctl->q->layout.queue);
		strbuf_appendf(&t, ",\"jobs\":%zu,\"workers\":{\"local\":%zu,"
		    "\"remote\":%zu,\"remote_busy\":%zu,\"bounce\":%zu},"
		    "\"notices_queued\":%zu}\n", sched_busy(ctl->q->sched),
		    w.local, w.remote, w.remote_busy, w.bounce, w.notices);
	} else {
		strbuf_appendf(&t, "postern-qmgr is running, pid %ld, up %lldd "
		    "%02lld:%02lld:%02lld\nconfiguration: %s\nqueue: %s\n"
		    "jobs in flight: %zu\nworkers: %zu local, %zu remote (%zu "
		    "busy), %zu bounce\nnotices queued: %zu\n", (long)getpid(),
		    (long long)(up / 86400), (long long)(up / 3600 % 24),
		    (long long)(up / 60 % 60), (long long)(up % 60),
		    ctl->q->config_dir, ctl->q->layout.queue,
		    sched_busy(ctl->q->sched), w.local, w.remote,
		    w.remote_busy, w.bounce, w.notices);
	}
	ctl_say(c, "out", &t);
	strbuf_release(&t);
	ctl_finish(c, 0, NULL);
}

/* parse_sel - the selection in the request; NULL or why not */
static const char *parse_sel(const struct attr_list *al, struct sel *s,
    int *nsel)
{
	memset(s, 0, sizeof(*s));
	s->all = attr_find(al, "all") != NULL;
	s->dry_run = attr_find(al, "dry_run") != NULL;
	return qsel_parse(al, CONTROL_IDS_MAX, &s->q, &s->ids, nsel);
}

/* listing - the caller may list: an administrator, or a user with a
   name (whose own messages the listing is then limited to) */
static int listing(struct control *ctl, struct cconn *c)
{
	struct passwd *pw;

	if (is_admin(ctl, c->uid))
		return 1;
	if ((pw = getpwuid(c->uid)) == NULL ||
	    strlen(pw->pw_name) >= sizeof(c->login))
		return 0;
	snprintf(c->login, sizeof(c->login), "%s", pw->pw_name);
	return 1;
}

/* walk - a verb that walks the queue: the listings, stats, or a
   changing verb */
static void walk(struct control *ctl, struct cconn *c, enum verb v,
    const struct attr_list *al)
{
	struct sel s;
	const char *why;
	int nsel;

	if (v == V_STATS)
		return ctl_stats(ctl, c, attr_find(al, "json") != NULL);
	if ((why = parse_sel(al, &s, &nsel)) != NULL)
		ctl_finish(c, 64, why);
	else if (v == V_QUEUE || v == V_MAILQ || v == V_SHOW)
		ctl_view(ctl, c, v, al, &s);
	else if (s.q.nids == 0 && !s.all && nsel == 0)
		ctl_finish(c, 64, "name messages: ids, --all or selectors");
	else
		ctl_bulk(ctl, c, v, &s, attr_find(al, "json") != NULL);
	free(s.ids);
}

/* handle - one request */
static void handle(struct control *ctl, struct cconn *c,
    const struct ipc_msg *m)
{
	const struct attr *va;
	const char *why = NULL, *name = NULL;
	char err[256];
	size_t k;
	enum verb v;

	if (attr_check(&m->attrs, control_request_spec,
	    NSPEC(control_request_spec), 0, &why, &name) < 0 ||
	    strcmp(m->attrs.v[0].name, "v") != 0 ||
	    strcmp(m->attrs.v[0].value, CONTROL_VERSION) != 0) {
		snprintf(err, sizeof(err), "bad request: %s%s%s", why ? why :
		    "not version 1", name ? ": " : "", name ? name : "");
		return ctl_finish(c, 64, err);
	}
	va = attr_find(&m->attrs, "verb");
	for (k = 0; k < V_NVERBS && strcmp(ctl_verbs[k], va->value) != 0; k++)
		;
	if (k == V_NVERBS)
		return ctl_finish(c, 64, "unknown verb");
	v = (enum verb)k;
	if (v == V_STATUS)
		return status(ctl, c, attr_find(&m->attrs, "json") != NULL);
	if ((v == V_QUEUE || v == V_MAILQ || v == V_SHOW) && !listing(ctl, c))
		return ctl_finish(c, 77, "permission denied: your uid has no "
		    "user name, so no message is yours");
	if (v != V_QUEUE && v != V_MAILQ && v != V_SHOW &&
	    !is_admin(ctl, c->uid)) {
		snprintf(err, sizeof(err), "permission denied: only root and "
		    "members of %s may %s%s", config_str(ctl->q->cfg,
		    CK_admin_group), v == V_STATS ? "see the statistics" :
		    v == V_RELOAD ? "reload the configuration" : ctl_verbs[v],
		    v == V_ROUTE ? " addresses" : v == V_STATS ||
		    v == V_RELOAD ? "" : " messages");
		return ctl_finish(c, 77, err);
	}
	if (v == V_ROUTE) {
		if ((va = attr_find(&m->attrs, "address")) == NULL)
			return ctl_finish(c, 64, "route needs an address");
		return ctl_route(ctl, c, va->value,
		    attr_find(&m->attrs, "json") != NULL);
	}
	if (v == V_RELOAD) {
		raise(SIGHUP);
		return ctl_finish(c, 0, NULL);
	}
	walk(ctl, c, v, &m->attrs);
}

/* refuse - answer 75 with why, as far as the socket takes it at once,
   and close */
static void refuse(int fd, const char *why)
{
	struct strbuf p = STRBUF_INIT(1024), f = STRBUF_INIT(1100);
	char drain[4096];
	size_t got;
	ssize_t n;
	uint32_t h;

	attr_put_u64(&p, "status", 75);
	attr_put_str(&p, "error", why);
	h = htonl((uint32_t)p.len);
	strbuf_append(&f, &h, sizeof(h));
	strbuf_append(&f, p.s, p.len);
	/* best effort, and never logged: a refusal must not let a user
	   fill the log */
	send(fd, f.s, f.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* A request left unread would make the close reset the client's
	   end before it reads the answer; a request is never longer than
	   CONTROL_REQUEST_MAX, so no more is read. */
	for (got = 0; got < CONTROL_REQUEST_MAX && (n = recv(fd, drain,
	    sizeof(drain), MSG_DONTWAIT)) > 0; got += (size_t)n)
		;
	strbuf_release(&p);
	strbuf_release(&f);
	close(fd);
}

/* accept_one - a new connection */
static void accept_one(struct control *ctl)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct cconn *c;
	size_t i, mine = 0;
	int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int known;

	if (fd < 0)
		return;
	known = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
	for (i = 0; known && i < ctl->n; i++)
		mine += ctl->c[i]->uid == cred.uid;
	/* One ordinary user may not take every slot (a listing nobody
	   reads holds one for CONN_WAIT) and lock the administrators out. */
	if (known && mine >= CONN_PER_USER && !is_admin(ctl, cred.uid)) {
		refuse(fd, "too many connections of yours are open; try again "
		    "later");
		return;
	}
	if (ctl->n >= CONN_MAX || !known ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
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
	char err[256];
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
	if (r < 0 && why != NULL) {
		/* a frame that does not decode, or one too long: say so */
		snprintf(err, sizeof(err), "bad request: %s", why);
		ctl_finish(c, 64, err);
		return 0;
	}
	return -1;
}

void ctl_task(struct control *ctl, struct cconn *c, ctl_step_fn step,
    void *task, void (*release)(void *task))
{
	c->step = step;
	c->task = task;
	c->release = release;
	c->answered = 1;
	if (step(ctl, c) == 0)
		c->step = NULL;
}

/* writable - send what is buffered; run the task's next step when the
   client has taken most of it; 0 keep, -1 done or broken */
static int writable(struct control *ctl, struct cconn *c)
{
	ssize_t w;

	if (c->sent < c->out.len) {
		w = send(c->fd, c->out.s + c->sent, c->out.len - c->sent,
		    MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->sent += (size_t)w;
		if (w > 0)
			c->deadline = timeutil_monotonic() + CONN_WAIT;
	}
	if (c->step != NULL && c->out.len - c->sent < LOW_WATER) {
		/* drop what was sent, so the buffer never grows */
		if (c->sent > 0) {
			memmove(c->out.s, c->out.s + c->sent, c->out.len -
			    c->sent);
			strbuf_truncate(&c->out, c->out.len - c->sent);
			c->sent = 0;
		}
		if (c->step(ctl, c) == 0)
			c->step = NULL;
	}
	return c->sent < c->out.len || c->step != NULL ? 0 : -1;
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
