/*
 * qmgr_notice - delivery status notices: who is owed one, the bounce
 * worker, and storing what it writes (protocol: bounce_proto.h).
 *
 * Owed: a recipient that fails (unless NOTIFY=NEVER or a NOTIFY list
 * without FAILURE), one delivered with NOTIFY=SUCCESS, and one still
 * deferred delay_warning_after after arrival (once; unless NOTIFY says
 * otherwise). The first two are marked QUEUE_RCPT_REPORT in the same
 * transaction that makes them final, which keeps a due entry for them
 * (queue.h), so a crash never loses a notice: the scheduler finds them
 * in the due index and plans one notice per message and kind, at most
 * BOUNCE_RCPT_MAX recipients each.
 *
 * Who gets it: the envelope sender; for a message from the null sender
 * (or from MAILER-DAEMON@anywhere, which is a notice too), the
 * postmaster, as a "double bounce", marked QUEUE_MSG_DOUBLE; when a
 * double bounce fails, that is logged and nothing more is sent. So a
 * notice never goes to <>, and two MTAs can never bounce a message back
 * and forth.
 *
 * The worker: one long-lived postern-bounce (bounce_user), fed one job
 * at a time from a queue in memory. Its notice is stored as a new
 * message from <> in ONE transaction that also marks the recipients it
 * reports (REPORT cleared and NOTIFIED set, or WARNED for a delay
 * warning) and removes the original when nothing is left to do. A worker
 * that fails is restarted for the next job; a job it refuses puts its
 * recipients' notice off by NOTICE_RETRY, so a notice that cannot be
 * written does not spin.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bounce_proto.h"
#include "config.h"
#include "die.h"
#include "ipc.h"
#include "log.h"
#include "memfd.h"
#include "privs.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "queue.h"
#include "timeutil.h"

#define NSPEC(s) (sizeof(s) / sizeof((s)[0]))
#define NOTICE_RETRY (5 * 60 * 1000000LL)	/* after a refused job */
#define NOTICE_JOBS_MAX 1024			/* jobs waiting in memory */
#define NOTICE_TIME_LIMIT (5 * 60 * 1000000LL)	/* one job, monotonic */

static const char *const kind_names[] = { "failure", "delay", "success" };

struct njob {
	uint64_t id;
	enum notice_kind kind;
	uint32_t idx[BOUNCE_RCPT_MAX];
	size_t n;
};

struct bpool {
	struct qmgr *q;
	int fd;				/* the worker's socket, or -1 */
	pid_t pid;
	struct ipc_reader rd;
	int busy;			/* jobs[0] is with the worker */
	int64_t started;		/* monotonic */
	struct njob *jobs;		/* FIFO: jobs[0] is the oldest */
	size_t n, cap;
};

/* mailer_daemon - a sender that is itself a notice's */
static int mailer_daemon(const char *sender)
{
	return sender[0] == '\0' || strncasecmp(sender, "MAILER-DAEMON@",
	    14) == 0 || strcasecmp(sender, "MAILER-DAEMON") == 0;
}

/* notify_allows - the recipient's NOTIFY list includes want (no list:
   FAILURE and DELAY, RFC 3461 4.1) */
static int notify_allows(unsigned flags, unsigned want)
{
	unsigned list = flags & (QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE |
	    QUEUE_NOTIFY_DELAY);

	if (flags & QUEUE_NOTIFY_NEVER)
		return 0;
	if (list == 0)
		return want != QUEUE_NOTIFY_SUCCESS;
	return (list & want) != 0;
}

int notice_owed(const struct queue_msg *m, const struct queue_rcpt *r)
{
	if (r->state == QS_FAILED)
		return !(m->flags & QUEUE_MSG_DOUBLE) &&
		    notify_allows(r->flags, QUEUE_NOTIFY_FAILURE);
	if (r->state == QS_DELIVERED)
		return !mailer_daemon(m->sender) &&
		    notify_allows(r->flags, QUEUE_NOTIFY_SUCCESS);
	return 0;
}

int64_t notice_warn_time(const struct config *cfg, const struct queue_msg *m,
    const struct queue_rcpt *r)
{
	int64_t after = config_duration(cfg, CK_delay_warning_after);

	if (after <= 0 || (r->flags & QUEUE_RCPT_WARNED) ||
	    (m->flags & QUEUE_MSG_NOTICE) || mailer_daemon(m->sender) ||
	    !notify_allows(r->flags, QUEUE_NOTIFY_DELAY) ||
	    (r->state != QS_PENDING && r->state != QS_DEFERRED))
		return 0;
	return m->arrival + after * 1000000;
}

struct bpool *bpool_new(struct qmgr *q)
{
	struct bpool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->q = q;
	p->fd = -1;
	return p;
}

/* worker_end - close the worker; its job, if any, stays first */
static void worker_end(struct bpool *p)
{
	if (p->fd >= 0) {
		ipc_reader_release(&p->rd);
		close(p->fd);
	}
	p->fd = -1;
	p->busy = 0;
}

void bpool_free(struct bpool **pp)
{
	if (*pp == NULL)
		return;
	worker_end(*pp);
	free((*pp)->jobs);
	free(*pp);
	*pp = NULL;
}

int bpool_covers(const struct bpool *p, uint64_t id, uint32_t idx)
{
	size_t i, k;

	for (i = 0; i < p->n; i++)
		if (p->jobs[i].id == id)
			for (k = 0; k < p->jobs[i].n; k++)
				if (p->jobs[i].idx[k] == idx)
					return 1;
	return 0;
}

size_t bpool_busy(const struct bpool *p)
{
	return p->n;
}

int bpool_fd(const struct bpool *p)
{
	return p->fd;
}

/* pop - the first job is done (or given up) */
static void pop(struct bpool *p)
{
	if (p->n == 0)
		return;
	memmove(p->jobs, p->jobs + 1, (p->n - 1) * sizeof(*p->jobs));
	p->n--;
	p->busy = 0;
}

/* spawn - the worker, as bounce_user; 0 or -1 */
static int spawn(struct bpool *p)
{
	struct qmgr *q = p->q;
	const char *why;
	char err[512];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int st;

	if (q->root && privs_user(config_str(q->cfg, CK_bounce_user), &uid,
	    &gid, &why) < 0) {
		log_error("bounce_user '%s': %s (see INSTALL); no notices can "
		    "be written", config_str(q->cfg, CK_bounce_user), why);
		return -1;
	}
	st = spawner_request(q->spawn_fd, "bounce", uid, gid, NULL, NULL,
	    NULL, &p->fd, &p->pid, err, sizeof(err));
	if (st == -2)
		die_temp("the spawner is gone (%s); exiting so that the service "
		    "manager starts postern again", err);
	if (st < 0) {
		log_error("cannot start postern-bounce: %s", err);
		p->fd = -1;
		return -1;
	}
	fcntl(p->fd, F_SETFL, O_NONBLOCK);
	ipc_reader_init(&p->rd, p->fd, 4096);
	return 0;
}

/* notice_to - who gets the notice about a message from sender: the
   sender, or the postmaster (qualified) for a notice's own failure */
static void notice_to(const struct config *cfg, const char *sender,
    char *buf, size_t len)
{
	const char *pm = config_str(cfg, CK_postmaster_address);

	if (!mailer_daemon(sender))
		snprintf(buf, len, "%s", sender);
	else if (strchr(pm, '@') != NULL)
		snprintf(buf, len, "%s", pm);
	else
		snprintf(buf, len, "%s@%s", pm, config_str(cfg, CK_myhostname));
}

/* put_times - optional times of a recipient group */
static void put_time(struct strbuf *out, const char *name, int64_t v)
{
	if (v > 0)
		attr_put_i64(out, name, v);
}

/* orig_of - the address the sender used for r: its ORCPT, its own
   "original", or its topmost ancestor's; "" when the same as r's */
static void orig_of(struct queue_txn *t, const struct queue_rcpt *r,
    char *buf, size_t len)
{
	struct queue_rcpt up = *r;
	int depth = 0;

	buf[0] = '\0';
	if (strncasecmp(r->orcpt, "rfc822;", 7) == 0) {
		snprintf(buf, len, "%s", r->orcpt + 7);
		return;
	}
	while (up.parent != QUEUE_NO_PARENT && depth++ < ROUTE_DEPTH_MAX * 4 &&
	    queue_get_rcpt(t, up.id, up.parent, &up) == QUEUE_OK)
		;
	snprintf(buf, len, "%s", up.orig[0] ? up.orig : up.addr);
	if (strcmp(buf, r->addr) == 0)
		buf[0] = '\0';
}

/* action - the DSN Action of a recipient in a notice of kind k */
static const char *action(enum notice_kind k, const struct queue_rcpt *r)
{
	if (k == NOTICE_DELAY)
		return "delayed";
	if (k == NOTICE_FAILURE)
		return "failed";
	return strcmp(r->relay, "local") == 0 || r->relay[0] == '\0' ?
	    "delivered" : "relayed";
}

/* put_rcpts - the recipient groups; -1 when the queue failed */
static int put_rcpts(struct bpool *p, struct queue_txn *t,
    const struct njob *j, struct strbuf *out)
{
	struct strbuf xs = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX + 1);
	struct strbuf prev = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX + 1);
	struct queue_rcpt r;
	struct queue_msg m;
	char orig[ADDRESS_BUF + 8];
	uint32_t prev_idx = 0;
	int have_prev = 0, st = QUEUE_OK;
	size_t i;
	size_t nsched;
	const int64_t *sched = config_durations(p->q->cfg, CK_retry_schedule,
	    &nsched);
	int64_t life = config_duration(p->q->cfg, CK_max_queue_lifetime);

	(void)sched;
	if (queue_get_msg(t, j->id, &m) != QUEUE_OK)
		return -1;
	if (m.flags & QUEUE_MSG_NOTICE)
		life = config_duration(p->q->cfg, CK_bounce_queue_lifetime);
	for (i = 0; i < j->n && st == QUEUE_OK; i++) {
		if ((st = queue_get_rcpt(t, j->id, j->idx[i], &r)) != QUEUE_OK)
			break;
		attr_put_u64(out, "rcpt", r.idx);
		attr_put_str(out, "addr", r.addr);
		orig_of(t, &r, orig, sizeof(orig));
		if (orig[0])
			attr_put_str(out, "orig", orig);
		attr_put_str(out, "action", action(j->kind, &r));
		attr_put_str(out, "status", r.status[0] ? r.status :
		    j->kind == NOTICE_DELAY ? "4.0.0" : j->kind ==
		    NOTICE_FAILURE ? "5.0.0" : "2.0.0");
		/* A local delivery's text names paths on this host: an
		   outside sender learns only that it was delivered. */
		attr_put_str(out, "diag", j->kind == NOTICE_SUCCESS &&
		    strcmp(r.relay, "local") == 0 ? "delivered to the "
		    "recipient's mailbox" : r.diag[0] ? r.diag : "(none)");
		attr_put_str(out, "relay", r.relay[0] ? r.relay : "none");
		attr_put_u64(out, "attempts", r.attempts);
		put_time(out, "first", r.first);
		put_time(out, "last", r.last);
		if (j->kind == NOTICE_DELAY)
			put_time(out, "until", m.arrival + life * 1000000);
		if (queue_get_transcript(t, j->id, r.idx, &xs) != QUEUE_OK ||
		    xs.len == 0)
			continue;
		if (have_prev && xs.len == prev.len &&
		    memcmp(xs.s, prev.s, xs.len) == 0) {
			attr_put_u64(out, "same_as", prev_idx);
			continue;
		}
		attr_put(out, "transcript", xs.s, xs.len);
		strbuf_reset(&prev);
		strbuf_append(&prev, xs.s, xs.len);
		prev_idx = r.idx;
		have_prev = 1;
	}
	strbuf_release(&xs);
	strbuf_release(&prev);
	return st == QUEUE_OK ? 0 : -1;
}

/* build - the job record and the original's memfd; -1 on failure */
static int build(struct bpool *p, const struct njob *j, struct strbuf *out,
    int *memfd_r)
{
	struct qmgr *q = p->q;
	char id[QUEUE_ID_TEXT + 1], to[ADDRESS_BUF + 300];
	struct queue_txn *t;
	struct queue_msg m;
	int fd = memfd_new("postern-original"), st;

	if (fd < 0 || queue_begin(q->queue, 0, &t) != QUEUE_OK) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	st = queue_get_msg(t, j->id, &m);
	if (st == QUEUE_OK) {
		int dbl = mailer_daemon(m.sender);

		notice_to(q->cfg, m.sender, to, sizeof(to));
		queue_id_format(j->id, id);
		attr_put_str(out, "v", BOUNCE_VERSION);
		attr_put_str(out, "id", id);
		attr_put_str(out, "kind", kind_names[j->kind]);
		attr_put_str(out, "to", to);
		attr_put_str(out, "sender", m.sender);
		if (dbl)
			attr_put_str(out, "double", "1");
		attr_put_i64(out, "arrival", m.arrival);
		attr_put_u64(out, "size", m.size);
		if (m.flags & (QUEUE_MSG_8BIT | QUEUE_MSG_SMTPUTF8))
			attr_put_str(out, "flags", (m.flags & QUEUE_MSG_8BIT) &&
			    (m.flags & QUEUE_MSG_SMTPUTF8) ? "8bit,smtputf8" :
			    (m.flags & QUEUE_MSG_8BIT) ? "8bit" : "smtputf8");
		if (m.flags & (QUEUE_MSG_RET_HDRS | QUEUE_MSG_RET_FULL))
			attr_put_str(out, "ret", m.flags & QUEUE_MSG_RET_HDRS ?
			    "hdrs" : "full");
		if (m.envid[0])
			attr_put_str(out, "envid", m.envid);
		if (m.msgid[0])
			attr_put_str(out, "msgid", m.msgid);
		if (m.subject[0])
			attr_put_str(out, "subject", m.subject);
		if (put_rcpts(p, t, j, out) < 0)
			st = QUEUE_CORRUPT;
	}
	if (st == QUEUE_OK)
		st = queue_content_write(t, j->id, fd);
	queue_abort(&t);
	if (st != QUEUE_OK || !strbuf_ok(out) || memfd_seal(fd) < 0) {
		close(fd);
		return -1;
	}
	*memfd_r = fd;
	return 0;
}

/* postpone - the first job's recipients wait NOTICE_RETRY; the job goes */
static void postpone(struct bpool *p, const char *why)
{
	struct njob *j = &p->jobs[0];
	char id[QUEUE_ID_TEXT + 1];
	struct queue_txn *t;
	struct queue_rcpt r;
	size_t i;

	queue_id_format(j->id, id);
	log_warn("%s: cannot make the %s notice (%s); trying again later", id,
	    kind_names[j->kind], why);
	if (j->kind != NOTICE_DELAY &&
	    queue_begin(p->q->queue, 1, &t) == QUEUE_OK) {
		for (i = 0; i < j->n; i++)
			if (queue_get_rcpt(t, j->id, j->idx[i], &r) ==
			    QUEUE_OK && (r.flags & QUEUE_RCPT_REPORT)) {
				r.next = timeutil_now() + NOTICE_RETRY;
				queue_put_rcpt(t, &r);
			}
		if (queue_commit(&t) != QUEUE_OK)
			log_error("%s: cannot postpone the notice", id);
	}
	pop(p);
}

/* send_next - hand the first waiting job to the worker (a worker found
   dead is replaced once) */
static void send_next(struct bpool *p)
{
	struct strbuf out = STRBUF_INIT(BOUNCE_FRAME_MAX);
	int memfd = -1, fresh = 0;

	while (!p->busy && p->n > 0) {
		fresh |= p->fd < 0;
		if (p->fd < 0 && spawn(p) < 0) {
			/* No worker: everything waits for the next run. */
			while (p->n > 0)
				postpone(p, "no bounce worker");
			break;
		}
		strbuf_reset(&out);
		if (build(p, &p->jobs[0], &out, &memfd) < 0) {
			postpone(p, "cannot read the message");
			continue;
		}
		if (ipc_send(p->fd, &out, memfd) < 0) {
			close(memfd);
			worker_end(p);
			if (fresh)
				postpone(p, "the bounce worker is gone");
			fresh = 1;
			continue;
		}
		close(memfd);
		p->busy = 1;
		p->started = timeutil_monotonic();
	}
	strbuf_release(&out);
}

void bpool_add(struct bpool *p, uint64_t id, enum notice_kind kind,
    const uint32_t *idx, size_t n)
{
	struct njob *v;

	if (n == 0 || n > BOUNCE_RCPT_MAX || p->n >= NOTICE_JOBS_MAX)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;

		if ((v = reallocarray(p->jobs, cap, sizeof(*v))) == NULL)
			return;
		p->jobs = v;
		p->cap = cap;
	}
	v = &p->jobs[p->n++];
	v->id = id;
	v->kind = kind;
	v->n = n;
	memcpy(v->idx, idx, n * sizeof(*idx));
	send_next(p);
}

/* header_value - a header field's value in the notice (first line only) */
static void header_value(const char *p, size_t n, const char *name,
    char *out, size_t len)
{
	size_t nl = strlen(name);
	const char *e = p + n, *line = p, *end;

	out[0] = '\0';
	while (line < e && *line != '\n') {
		end = memchr(line, '\n', (size_t)(e - line));
		end = end ? end : e;
		if ((size_t)(end - line) > nl + 1 && strncasecmp(line, name,
		    nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			snprintf(out, len, "%.*s", (int)(end - v), v);
			return;
		}
		line = end + 1;
	}
}

/* mark - the reported recipients, in t; 0 or -1 */
static int mark(struct queue_txn *t, const struct njob *j)
{
	struct queue_rcpt r;
	size_t i;
	int st;

	for (i = 0; i < j->n; i++) {
		if ((st = queue_get_rcpt(t, j->id, j->idx[i], &r)) != QUEUE_OK) {
			if (st == QUEUE_TEMP)
				return -1;
			continue;
		}
		if (j->kind == NOTICE_DELAY)
			r.flags |= QUEUE_RCPT_WARNED;
		else {
			r.flags &= ~(unsigned)QUEUE_RCPT_REPORT;
			r.flags |= QUEUE_RCPT_NOTIFIED;
		}
		if (queue_put_rcpt(t, &r) == QUEUE_TEMP)
			return -1;
	}
	return 0;
}

/* store - the notice in memfd fd as a new message, the job's recipients
   marked, the original removed when done: one transaction */
static void store(struct bpool *p, int fd)
{
	struct qmgr *q = p->q;
	struct njob *j = &p->jobs[0];
	char id[QUEUE_ID_TEXT + 1], nid[QUEUE_ID_TEXT + 1];
	char subject[QUEUE_SUMMARY_MAX + 1];
	char msgid[QUEUE_SUMMARY_MAX + 1], from[QUEUE_SUMMARY_MAX + 1];
	struct queue_new_msg nm;
	struct queue_new_rcpt nr;
	struct queue_add *a = NULL;
	struct queue_txn *t;
	struct queue_msg m;
	const char *c;
	off_t size;
	uint64_t newid = 0;
	int st, removed = 0, dbl;

	queue_id_format(j->id, id);
	if (memfd_check(fd, &size) < 0 || size <= 0 ||
	    size > (off_t)config_size(q->cfg, CK_message_size_limit) + 65536)
		return postpone(p, "the notice is not a sealed memfd of a "
		    "sensible size");
	c = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (c == MAP_FAILED)
		return postpone(p, "cannot map the notice");
	header_value(c, (size_t)size, "Subject", subject, sizeof(subject));
	header_value(c, (size_t)size, "Message-ID", msgid, sizeof(msgid));
	header_value(c, (size_t)size, "From", from, sizeof(from));
	st = queue_begin(q->queue, 1, &t);
	if (st == QUEUE_OK)
		st = queue_get_msg(t, j->id, &m);
	dbl = st == QUEUE_OK && mailer_daemon(m.sender);
	if (st == QUEUE_OK) {
		char rcpt[ADDRESS_BUF + 300];

		notice_to(q->cfg, m.sender, rcpt, sizeof(rcpt));
		memset(&nm, 0, sizeof(nm));
		nm.sender = "";
		nm.arrival = timeutil_now();
		nm.flags = QUEUE_MSG_NOTICE | (dbl ? QUEUE_MSG_DOUBLE : 0);
		nm.uid = (uint32_t)getuid();
		nm.from = from[0] ? from : NULL;
		nm.subject = subject[0] ? subject : NULL;
		nm.msgid = msgid[0] ? msgid : NULL;
		memset(&nr, 0, sizeof(nr));
		nr.addr = rcpt;
		nr.parent = QUEUE_NO_PARENT;
		if ((st = queue_add_begin(t, &nm, &a)) == QUEUE_OK &&
		    (st = queue_add_rcpt(a, &nr)) == QUEUE_OK)
			st = queue_add_content(a, c, (size_t)size);
		if (a != NULL && st == QUEUE_OK) {
			for (off_t i = 0; i < size; i++)
				if ((unsigned char)c[i] >= 0x80) {
					queue_add_flags(a, QUEUE_MSG_8BIT);
					break;
				}
			st = queue_add_end(&a, &newid);
		} else if (a != NULL) {
			queue_add_abandon(&a);
		}
	}
	munmap((void *)c, (size_t)size);
	if (st == QUEUE_OK && mark(t, j) < 0)
		st = QUEUE_TEMP;
	if (st == QUEUE_OK && message_done(t, j->id)) {
		st = queue_delete(t, j->id);
		removed = st == QUEUE_OK;
	}
	if (st != QUEUE_OK || queue_commit(&t) != QUEUE_OK) {
		if (t != NULL)
			queue_abort(&t);
		log_error("%s: cannot store the %s notice: %s", id,
		    kind_names[j->kind], queue_error(q->queue));
		pop(p);		/* still owed: due again, tried again */
		return;
	}
	queue_id_format(newid, nid);
	log_info("%s: sender %s notification: %s", id, j->kind ==
	    NOTICE_FAILURE ? "non-delivery" : j->kind == NOTICE_DELAY ?
	    "delay" : "delivery status", nid);
	log_info("%s: uid=%u from=<> size=%lld nrcpt=1 (queued)", nid,
	    (unsigned)getuid(), (long long)size);
	if (removed)
		log_info("%s: removed", id);
	pop(p);
}

int bpool_ready(struct bpool *p)
{
	struct ipc_msg m;
	const char *why = NULL, *name;
	long got = ipc_reader_fill(&p->rd);
	int r;

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	r = ipc_reader_next(&p->rd, &m, &why);
	if (r == 0 && got > 0)
		return 0;
	if (r == 0 && !p->busy) {
		/* An idle worker that went away: start one when needed. */
		worker_end(p);
		return 1;
	}
	if (r == 1) {
		if (attr_check(&m.attrs, bounce_result_spec,
		    NSPEC(bounce_result_spec), 0, &why, &name) < 0)
			;
		else if (attr_find(&m.attrs, "ok") != NULL && m.fd >= 0)
			store(p, m.fd);
		else if (attr_find(&m.attrs, "error") != NULL)
			postpone(p, attr_find(&m.attrs, "error")->value);
		else
			why = "a result without ok and a notice, or error";
		ipc_msg_release(&m);
		if (why == NULL) {
			p->busy = 0;
			send_next(p);
			return 1;
		}
	}
	log_warn("postern-bounce pid %ld: %s", (long)p->pid, why ? why :
	    "ended without a result");
	worker_end(p);
	if (p->n > 0)
		postpone(p, "the bounce worker failed");
	send_next(p);
	return 1;
}

void bpool_expire(struct bpool *p, int64_t now)
{
	if (p->busy && now - p->started > NOTICE_TIME_LIMIT) {
		log_warn("postern-bounce pid %ld: time limit exceeded",
		    (long)p->pid);
		worker_end(p);
		postpone(p, "the bounce worker took too long");
		send_next(p);
	}
}
