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
 * written does not spin. The rules of who is owed what, and the job
 * record, are in qmgr_notice_job.c.
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
#include "fsio.h"
#include "ipc.h"
#include "log.h"
#include "memfd.h"
#include "privs.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "queue.h"
#include "rfc822.h"
#include "timeutil.h"

#define NOTICE_JOBS_MAX 1024			/* jobs waiting in memory */
#define NOTICE_TIME_LIMIT (5 * 60 * 1000000LL)	/* one job, monotonic */



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
	    notice_kind_names[j->kind], why);
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
		if (notice_build(p->q, &p->jobs[0], &out, &memfd) < 0) {
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

void bpool_add(struct bpool *p, const struct njob *j)
{
	struct njob *v;

	if (j->n == 0 || j->n > BOUNCE_RCPT_MAX || p->n >= NOTICE_JOBS_MAX)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;

		if ((v = reallocarray(p->jobs, cap, sizeof(*v))) == NULL)
			return;
		p->jobs = v;
		p->cap = cap;
	}
	p->jobs[p->n++] = *j;
	send_next(p);
}

/* header_value - a header field's value in the notice (first line only:
   the notice is postern-bounce's own, and folds none of these) */
static void header_value(const char *p, size_t n, const char *name,
    char *out, size_t len)
{
	const char *e = p + n, *line = p, *end;
	size_t k;

	out[0] = '\0';
	while (line < e && *line != '\n') {
		end = memchr(line, '\n', (size_t)(e - line));
		end = end ? end : e;
		k = rfc822_field_name_len(line, (size_t)(end - line));
		if (k > 0 && rfc822_name_is(line, k, name)) {
			const char *v = line + k + 1;

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
	size_t size;
	uint64_t newid = 0;
	int st, removed = 0, dbl;

	queue_id_format(j->id, id);
	if (memfd_map(fd, 1, config_size(q->cfg, CK_bounce_size_limit) +
	    BOUNCE_NOTICE_EXTRA, &c, &size) < 0)
		return postpone(p, "the notice is not a sealed memfd of a "
		    "sensible size");
	header_value(c, size, "Subject", subject, sizeof(subject));
	header_value(c, size, "Message-ID", msgid, sizeof(msgid));
	header_value(c, size, "From", from, sizeof(from));
	st = queue_begin(q->queue, 1, &t);
	if (st == QUEUE_OK)
		st = queue_get_msg(t, j->id, &m);
	dbl = st == QUEUE_OK && notice_from_daemon(m.sender);
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
			st = queue_add_content(a, c, size);
		if (a != NULL && st == QUEUE_OK)
			st = queue_add_end(&a, &newid);
		else if (a != NULL)
			queue_add_abandon(&a);
	}
	if (size > 0)
		munmap((void *)c, size);
	if (st == QUEUE_OK && mark(t, j) < 0)
		st = QUEUE_TEMP;
	if (st == QUEUE_OK && message_done(t, j->id)) {
		st = queue_delete(t, j->id);
		removed = st == QUEUE_OK;
	}
	fsio_crashpoint("qmgr.before_notice_commit");
	if (st != QUEUE_OK || queue_commit(&t) != QUEUE_OK) {
		if (t != NULL)
			queue_abort(&t);
		log_error("%s: cannot store the %s notice: %s", id,
		    notice_kind_names[j->kind], queue_error(q->queue));
		pop(p);		/* still owed: due again, tried again */
		return;
	}
	fsio_crashpoint("qmgr.after_notice_commit");
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
		const struct attr *ok = attr_find(&m.attrs, "ok");
		const struct attr *err = attr_find(&m.attrs, "error");

		if (attr_check(&m.attrs, bounce_result_spec,
		    NSPEC(bounce_result_spec), 0, &why, &name) < 0)
			why = why ? why : "a bad result";
		else if (strcmp(attr_find(&m.attrs, "v")->value,
		    BOUNCE_VERSION) != 0)
			why = "a result of another version";
		else if (ok != NULL && err == NULL && m.fd >= 0)
			store(p, m.fd);
		else if (err != NULL && ok == NULL && m.fd < 0)
			postpone(p, err->value);
		else
			why = "a result that is not exactly one of ok with a "
			    "notice, or error";
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
