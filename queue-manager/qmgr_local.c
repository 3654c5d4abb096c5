/*
 * qmgr_local - postern-local jobs: start, read the result, give up.
 *
 * A job is one message and one target user (local_proto.h). The queue
 * manager asks the spawner for a worker running as that user, copies the
 * message into a sealed memfd, and sends the job; the worker answers with
 * one result frame. Everything the worker says is untrusted: the result
 * is decoded strictly, every index must belong to the job and appear
 * once, statuses must be well-formed and match their result; anything
 * else defers the whole job. A worker that ends without a result, or
 * takes longer than command_time_limit per recipient plus ten minutes,
 * has its recipients deferred (never failed). The queue manager cannot
 * kill a worker that runs as another user; one that goes on and delivers
 * late makes a duplicate, not a loss. A spawner that is gone cannot be
 * replaced without root, so the queue manager then exits for its service
 * manager to restart it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "die.h"
#include "ipc.h"
#include "local_proto.h"
#include "log.h"
#include "memfd.h"
#include "qmgr.h"
#include "qmgr_deliver.h"
#include "queue.h"
#include "timeutil.h"

#define JOB_SLACK (10 * 60 * 1000000LL)	/* beyond the commands' own */

struct job {
	uint64_t id;
	int fd;
	pid_t pid;
	struct ipc_reader rd;
	int64_t started;		/* monotonic */
	int64_t dispatched, connected;	/* wall clock */
	int64_t limit;			/* monotonic µs the job may take */
	size_t n;
	uint32_t *idx;
};

/* defer_all - every recipient of the job is deferred with why */
static void defer_all(const struct job *j, const char *status,
    const char *why, struct batch *b)
{
	batch_defer(b, j->id, j->idx, j->n, j->dispatched, j->connected, "",
	    status, why);
}

/* put_rcpt - one recipient group of the job record */
static void put_rcpt(struct strbuf *p, uint32_t idx, const struct route *rt,
    const struct queue_rcpt *rc)
{
	attr_put_u64(p, "rcpt", idx);
	attr_put_str(p, "addr", rt->addr);
	if (rc->orig[0])
		attr_put_str(p, "orig", rc->orig);
	attr_put_str(p, "action", rt->action);
	if (rt->target[0])
		attr_put_str(p, "target", rt->target);
	if (rt->ext[0])
		attr_put_str(p, "ext", rt->ext);
	if (rt->noforward)
		attr_put_str(p, "noforward", "1");
}

int job_begin(struct qmgr *q, uint64_t id, const char *version,
    struct queue_txn **t_r, struct queue_msg *m, struct strbuf *out)
{
	char idt[QUEUE_ID_TEXT + 1];

	if (queue_begin(q->queue, 0, t_r) != QUEUE_OK)
		return QUEUE_TEMP;
	queue_id_format(id, idt);
	attr_put_str(out, "v", version);
	attr_put_str(out, "id", idt);
	return queue_get_msg(*t_r, id, m);
}

void job_put_dsn(struct strbuf *out, const struct queue_msg *m)
{
	unsigned f = m->flags;

	if (f & (QUEUE_MSG_8BIT | QUEUE_MSG_SMTPUTF8))
		attr_put_str(out, "flags", (f & QUEUE_MSG_8BIT) &&
		    (f & QUEUE_MSG_SMTPUTF8) ? "8bit,smtputf8" :
		    (f & QUEUE_MSG_8BIT) ? "8bit" : "smtputf8");
	if (f & (QUEUE_MSG_RET_HDRS | QUEUE_MSG_RET_FULL))
		attr_put_str(out, "ret", f & QUEUE_MSG_RET_HDRS ? "hdrs" :
		    "full");
	if (m->envid[0])
		attr_put_str(out, "envid", m->envid);
}

/* job_content - end the read transaction a job record was built in,
   with message id's content in a new sealed memfd; 0, or -1 when st (the
   building's status), the record or the content failed */
int job_content(struct queue_txn **t, uint64_t id, int st,
    const struct strbuf *rec, int *memfd_r)
{
	int fd = st == QUEUE_OK ? memfd_new("postern-message") : -1;

	if (fd < 0 || queue_content_write(*t, id, fd) != QUEUE_OK ||
	    !strbuf_ok(rec) || memfd_seal(fd) < 0) {
		queue_abort(t);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	queue_abort(t);
	*memfd_r = fd;
	return 0;
}

/* build - the job record and the content memfd; -1 on failure */
static int build(struct qmgr *q, const struct job *j, const struct route *rts,
    struct strbuf *p, int *memfd_r)
{
	struct queue_txn *t = NULL;
	struct queue_msg m;
	struct queue_rcpt rc;
	size_t i;
	int st;

	if ((st = job_begin(q, j->id, LOCAL_VERSION, &t, &m, p)) == QUEUE_OK) {
		attr_put_str(p, "sender", m.sender);
		attr_put_i64(p, "arrival", m.arrival);
	}
	if (t == NULL)
		return -1;
	attr_put_str(p, "user", rts[0].user);
	for (i = 0; st == QUEUE_OK && i < j->n; i++)
		if ((st = queue_get_rcpt(t, j->id, j->idx[i], &rc)) == QUEUE_OK)
			put_rcpt(p, j->idx[i], &rts[i], &rc);
	return job_content(&t, j->id, st, p, memfd_r);
}

/* job_start - spawn a worker and hand it the job */
struct job *job_start(struct qmgr *q, uint64_t id, const uint32_t *idx,
    const struct route *rts, size_t n, struct batch *b)
{
	struct strbuf p = STRBUF_INIT(LOCAL_FRAME_MAX);
	struct job *j = calloc(1, sizeof(*j));
	char err[512];
	int memfd = -1, st;

	if (j == NULL || (j->idx = calloc(n, sizeof(*j->idx))) == NULL) {
		free(j);
		return NULL;
	}
	j->id = id;
	j->n = n;
	j->fd = -1;
	memcpy(j->idx, idx, n * sizeof(*idx));
	j->dispatched = timeutil_now();
	j->started = timeutil_monotonic();
	/* Each recipient may run a command for command_time_limit. */
	j->limit = (int64_t)n * config_duration(q->cfg, CK_command_time_limit) *
	    1000000 + JOB_SLACK;
	st = spawner_request(q->spawn_fd, "local", rts[0].uid, rts[0].gid,
	    rts[0].user, NULL, rts[0].home, &j->fd, &j->pid, err, sizeof(err));
	if (st == -2)
		die_temp("the spawner is gone (%s); exiting so that the service "
		    "manager starts postern again", err);
	if (st < 0) {
		log_error("cannot start postern-local as %s: %s", rts[0].user,
		    err);
		defer_all(j, "4.3.0", "cannot start the local delivery agent",
		    b);
		job_free(&j);
		return NULL;
	}
	j->connected = timeutil_now();
	if (build(q, j, rts, &p, &memfd) < 0 || ipc_send(j->fd, &p, memfd) < 0) {
		defer_all(j, "4.3.0", "cannot hand the message to the local "
		    "delivery agent", b);
		job_free(&j);
	} else {
		fcntl(j->fd, F_SETFL, O_NONBLOCK);
		ipc_reader_init(&j->rd, j->fd, LOCAL_FRAME_MAX);
	}
	if (memfd >= 0)
		close(memfd);
	strbuf_release(&p);
	return j;
}

/* index_of - position of idx in the job, or -1 */
static long index_of(const struct job *j, uint64_t idx)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (j->idx[i] == idx)
			return (long)i;
	return -1;
}

/* take_group - one recipient group of the result, attributes [*pos..) */
static const char *take_group(const struct job *j, const struct attr_list *l,
    size_t *pos, unsigned char *seen, struct batch *b)
{
	const struct attr *a = &l->v[(*pos)++];
	const char *result = NULL, *status = NULL, *text = NULL;
	struct result *res;
	struct address fa;
	uint64_t idx;
	long k;
	const char *why;

	if (attr_u64(a, &idx) < 0 || (k = index_of(j, idx)) < 0 || seen[k])
		return "a result for a recipient not in the job";
	seen[k] = 1;
	if ((res = batch_add(b, j->id, (uint32_t)idx)) == NULL)
		return "out of memory";
	res->attempted = 1;
	res->dispatched = j->dispatched;
	res->connected = j->connected;
	for (; *pos < l->n && strcmp(l->v[*pos].name, "rcpt") != 0; (*pos)++) {
		a = &l->v[*pos];
		if (strcmp(a->name, "result") == 0)
			result = a->value;
		else if (strcmp(a->name, "status") == 0)
			status = a->value;
		else if (strcmp(a->name, "text") == 0)
			text = a->value;
		else if (strcmp(a->name, "fwd") == 0) {
			if (address_parse(a->value, a->len, 0, &fa, &why) < 0)
				return "a bad forwarding address";
			strbuf_append(&res->children, fa.text,
			    strlen(fa.text) + 1);
			res->nchildren++;
		} else
			return "an attribute before the first rcpt";
	}
	if (result == NULL || status == NULL || text == NULL ||
	    !result_status_ok(status, result))
		return "a recipient without a valid result, status and text";
	res->kind = strcmp(result, "ok") == 0 ? RES_OK :
	    strcmp(result, "defer") == 0 ? RES_DEFER :
	    strcmp(result, "fail") == 0 ? RES_FAIL : RES_EXPAND;
	if (res->kind == RES_EXPAND && (strcmp(result, "forward") != 0 ||
	    res->nchildren == 0))
		return "an unknown result";
	snprintf(res->status, sizeof(res->status), "%s", status);
	snprintf(res->text, sizeof(res->text), "%s", text);
	return NULL;
}

/* parse_result - the worker's answer into the batch; NULL or why not */
static const char *parse_result(const struct job *j, const struct ipc_msg *m,
    struct batch *b)
{
	unsigned char *seen = calloc(j->n, 1);
	const char *why = NULL, *name;
	size_t pos = 1, start = b->n, i;

	if (seen == NULL)
		return "out of memory";
	if (attr_check(&m->attrs, local_result_spec, sizeof(local_result_spec)
	    / sizeof(local_result_spec[0]), 0, &why, &name) < 0 ||
	    m->fd >= 0 || strcmp(m->attrs.v[0].name, "v") != 0 ||
	    strcmp(m->attrs.v[0].value, LOCAL_VERSION) != 0)
		why = why ? why : "not a version 1 result";
	while (why == NULL && pos < m->attrs.n)
		why = strcmp(m->attrs.v[pos].name, "rcpt") != 0 ?
		    "an attribute outside a recipient group" :
		    take_group(j, &m->attrs, &pos, seen, b);
	for (i = 0; why == NULL && i < j->n; i++)
		if (!seen[i])
			why = "no result for some recipients";
	free(seen);
	if (why != NULL) {
		while (b->n > start)
			result_release(&b->v[--b->n]);
	}
	return why;
}

/* job_read - the worker's socket is readable */
int job_read(struct qmgr *q, struct job *j, struct batch *b)
{
	struct ipc_msg m;
	const char *why = NULL;
	long got;
	int r;

	(void)q;
	got = ipc_reader_fill(&j->rd);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	r = ipc_reader_next(&j->rd, &m, &why);
	if (r == 0 && got > 0)
		return 0;
	if (r == 1) {
		why = parse_result(j, &m, b);
		ipc_msg_release(&m);
	} else if (why == NULL) {
		why = "the worker ended without a result";
	}
	if (why != NULL)
		job_abort(j, why, b);
	return 1;
}

/* job_abort - defer every recipient of the job */
void job_abort(struct job *j, const char *why, struct batch *b)
{
	char id[QUEUE_ID_TEXT + 1];

	queue_id_format(j->id, id);
	log_warn("%s: postern-local pid %ld: %s; deferring its recipients", id,
	    (long)j->pid, why);
	defer_all(j, "4.3.0", "the local delivery agent failed; will retry",
	    b);
}

/* job_expired - over the time limit */
int job_expired(const struct job *j, int64_t now)
{
	return now - j->started > j->limit;
}

/* job_fd - the worker's socket */
int job_fd(const struct job *j)
{
	return j->fd;
}

/* job_covers - the job carries this recipient */
int job_covers(const struct job *j, uint64_t id, uint32_t idx)
{
	return j->id == id && index_of(j, idx) >= 0;
}

uint64_t job_message(const struct job *j)
{
	return j->id;
}

/* job_free - close and free */
void job_free(struct job **jp)
{
	struct job *j = *jp;

	if (j == NULL)
		return;
	if (j->fd >= 0) {
		ipc_reader_release(&j->rd);
		close(j->fd);
	}
	free(j->idx);
	free(j);
	*jp = NULL;
}
