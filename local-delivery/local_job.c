/*
 * local_job - one job of postern-local: the job frame in, a delivery per
 * recipient, the result frame out (local_proto.h is the protocol).
 *
 * Called by local_main.c. The frame is read whole (ipc_recv, at most
 * LOCAL_FRAME_MAX), checked against local_job_spec and then field by
 * field: version, queue id, sender syntax, job fields before the first
 * "rcpt", each recipient's fields once each after its "rcpt", unique
 * indexes, known actions, absolute target paths. The content must be a
 * sealed memfd. A job that fails any check is malformed: it is logged and
 * the worker exits EX_PROTOCOL without a result, so the queue manager
 * defers it.
 *
 * A well-formed job for another user than the one this worker runs as
 * (or for root) is answered with a deferral (4.3.0) for every recipient:
 * the spawner or the queue manager is wrong, not the message.
 *
 * Trust: the queue manager is trusted more than the user's files, but
 * its frame is parsed as strictly as any input.
 */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "exitcodes.h"
#include "fsio.h"
#include "ipc.h"
#include "local.h"
#include "local_proto.h"
#include "log.h"
#include "memfd.h"
#include "queue.h"


/* The string fields of a recipient, by name. */
static const struct { const char *name; size_t off; } rcpt_fields[] = {
	{ "addr", offsetof(struct local_rcpt, addr) },
	{ "orig", offsetof(struct local_rcpt, orig) },
	{ "action", offsetof(struct local_rcpt, action) },
	{ "target", offsetof(struct local_rcpt, target) },
	{ "ext", offsetof(struct local_rcpt, ext) },
};

/* job_attr - name is one of the job's own attributes */
static int job_attr(const char *name)
{
	static const char *const names[] = {
		"v", "id", "sender", "arrival", "user" };
	size_t i;

	for (i = 0; i < NSPEC(names); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* job_field - a job-level attribute; NULL or why it is wrong */
static const char *job_field(struct local_job *job, const struct attr *a)
{
	uint64_t id;

	if (job->nrcpts > 0)
		return "job attribute after a recipient";
	if (strcmp(a->name, "v") == 0)
		return strcmp(a->value, LOCAL_VERSION) ? "unknown version" : NULL;
	if (strcmp(a->name, "id") == 0) {
		job->id = a->value;
		return queue_id_parse(a->value, &id) ? "bad queue id" : NULL;
	}
	if (strcmp(a->name, "sender") == 0)
		job->sender = a->value;
	else if (strcmp(a->name, "arrival") == 0)
		return attr_u64(a, &job->arrival) ? "bad arrival" : NULL;
	else
		job->user = a->value;
	return NULL;
}

/* rcpt_field - a recipient attribute of the last recipient */
static const char *rcpt_field(struct local_job *job, const struct attr *a)
{
	struct local_rcpt *r;
	const char **slot;
	size_t i;

	if (job->nrcpts == 0)
		return "recipient attribute before rcpt";
	r = &job->rcpts[job->nrcpts - 1];
	if (strcmp(a->name, "noforward") == 0) {
		if (r->noforward != -1 || (strcmp(a->value, "0") &&
		    strcmp(a->value, "1")))
			return "bad or repeated noforward";
		r->noforward = a->value[0] == '1';
		return NULL;
	}
	for (i = 0; i < NSPEC(rcpt_fields); i++)
		if (strcmp(a->name, rcpt_fields[i].name) == 0) {
			slot = (const char **)((char *)r + rcpt_fields[i].off);
			if (*slot != NULL)
				return "recipient attribute repeated";
			*slot = a->value;
		}
	return NULL;
}

/* rcpt_new - start the next recipient group */
static void rcpt_new(struct local_job *job, const struct attr *a)
{
	struct local_rcpt *r = &job->rcpts[job->nrcpts++];

	r->index = a->value;
	r->noforward = -1;
	strbuf_init(&r->fwd, LOCAL_FWD_MAX * ADDRESS_BUF);
	local_status_set(&r->st, LOCAL_DEFER, "4.3.0",
	    "delivery was not attempted");
}

/* rcpt_target_ok - the target suits the action */
static const char *rcpt_target_ok(const struct local_rcpt *r)
{
	if (strcmp(r->action, "mailbox") == 0)
		return r->target ? "target with action mailbox" : NULL;
	if (strcmp(r->action, "pipe") == 0)
		return r->target && *r->target ? NULL : "pipe without command";
	if (strcmp(r->action, "maildir") && strcmp(r->action, "mbox"))
		return "unknown action";
	if (r->target == NULL || r->target[0] != '/')
		return "target is not an absolute path";
	return NULL;
}

/* rcpt_check - one recipient is complete and sane */
static const char *rcpt_check(const struct local_job *job, size_t k)
{
	const struct local_rcpt *r = &job->rcpts[k];
	struct address a;
	const char *why;
	size_t i;

	for (i = 0; i < k; i++)
		if (strcmp(job->rcpts[i].index, r->index) == 0)
			return "recipient index repeated";
	if (r->addr == NULL || r->action == NULL)
		return "recipient without addr or action";
	if (address_parse(r->addr, strlen(r->addr), 0, &a, &why) < 0)
		return "bad recipient address";
	return rcpt_target_ok(r);
}

/* job_walk - assign every attribute to the job or a recipient */
static const char *job_walk(struct local_job *job,
    const struct attr_list *al)
{
	const struct attr *a;
	const char *why = NULL;
	size_t i;

	for (i = 0; i < al->n && why == NULL; i++) {
		a = &al->v[i];
		if (strcmp(a->name, "rcpt") == 0)
			rcpt_new(job, a);
		else if (job_attr(a->name))
			why = job_field(job, a);
		else
			why = rcpt_field(job, a);
	}
	return why;
}

/* job_decode - the whole frame into job; NULL or why it is malformed */
static const char *job_decode(struct local_job *job,
    const struct attr_list *al)
{
	static char buf[128];
	const char *why, *name = "?";
	struct address a;
	size_t i, n;

	if (attr_check(al, local_job_spec, NSPEC(local_job_spec), 0, &why,
	    &name) < 0) {
		snprintf(buf, sizeof(buf), "%s: %s", name, why);
		return buf;
	}
	if ((n = attr_count(al, "rcpt")) > LOCAL_RCPT_MAX)
		return "too many recipients";
	if ((job->rcpts = calloc(n, sizeof(*job->rcpts))) == NULL)
		return "out of memory";
	if ((why = job_walk(job, al)) != NULL)
		return why;
	if (*job->sender && address_parse(job->sender, strlen(job->sender),
	    0, &a, &why) < 0)
		return "bad sender address";
	if (*job->user == '\0')
		return "empty user";
	for (i = 0; i < job->nrcpts; i++) {
		if ((why = rcpt_check(job, i)) != NULL)
			return why;
		if (job->rcpts[i].noforward < 0)
			job->rcpts[i].noforward = 0;
	}
	return NULL;
}

/* job_user - this worker runs as the job's user (and not as root) */
static void job_user(struct local_job *job)
{
	struct passwd *pw = getpwuid(getuid());
	struct local_user *u = &job->pw;

	if (getuid() == 0) {
		log_error("%s: postern-local does not deliver as root", job->id);
		return;
	}
	if (pw == NULL || strcmp(pw->pw_name, job->user) != 0) {
		log_error("%s: job for user %s, but this worker runs as uid "
		    "%ld (%s)", job->id, job->user, (long)getuid(),
		    pw ? pw->pw_name : "no passwd entry");
		return;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (snprintf(u->name, sizeof(u->name), "%s", pw->pw_name) >=
	    (int)sizeof(u->name) || snprintf(u->home, sizeof(u->home), "%s",
	    pw->pw_dir) >= (int)sizeof(u->home) || snprintf(u->shell,
	    sizeof(u->shell), "%s", pw->pw_shell) >= (int)sizeof(u->shell) ||
	    u->home[0] != '/') {
		log_error("passwd entry of %s is unusable", job->user);
		return;
	}
	job->pw_ok = 1;
}

/* job_limit - the |command time limit, command_time_limit seconds */
static int job_limit(const struct config *cfg)
{
	int64_t v = config_duration(cfg, CK_command_time_limit);

	return v > 0 && v < 7 * 86400 ? (int)v : LOCAL_COMMAND_TIME_LIMIT;
}

/* job_deliver - every recipient, or a deferral for all */
static void job_deliver(struct local_job *job)
{
	const char *why = NULL;
	size_t i;

	if (!job->pw_ok)
		why = "worker runs as the wrong user";
	else if (local_content_scan(job) < 0)
		why = "cannot read the message content";
	for (i = 0; i < job->nrcpts; i++) {
		if (why)
			local_status_set(&job->rcpts[i].st, LOCAL_DEFER,
			    "4.3.0", "%s", why);
		else
			local_deliver(job, &job->rcpts[i]);
	}
}

/* job_reply - the result frame */
static int job_reply(const struct local_job *job, int out)
{
	struct strbuf sb = STRBUF_INIT(LOCAL_FRAME_MAX);
	const struct local_rcpt *r;
	const char *p;
	size_t i;
	int rc = -1;

	attr_put_str(&sb, "v", LOCAL_VERSION);
	for (i = 0; i < job->nrcpts; i++) {
		r = &job->rcpts[i];
		attr_put_str(&sb, "rcpt", r->index);
		attr_put_str(&sb, "result", r->forwarded ? "forward" :
		    local_status_name(r->st.verdict));
		attr_put_str(&sb, "status", r->st.code);
		attr_put_str(&sb, "text", r->st.text[0] ? r->st.text : "done");
		for (p = strbuf_str(&r->fwd); p < r->fwd.s + r->fwd.len;
		    p += strlen(p) + 1)
			attr_put_str(&sb, "fwd", p);
	}
	if (!strbuf_ok(&sb))
		log_error("%s: the result frame is too large", job->id);
	else if ((rc = ipc_send(out, &sb, -1)) < 0)
		log_error("%s: cannot send the result: %s", job->id,
		    strerror(errno));
	strbuf_release(&sb);
	return rc;
}

/* job_release - free what the job holds */
static void job_release(struct local_job *job)
{
	size_t i;

	for (i = 0; i < job->nrcpts; i++)
		strbuf_release(&job->rcpts[i].fwd);
	free(job->rcpts);
	strbuf_release(&job->dt);
	if (job->fd >= 0)
		close(job->fd);
}

/* job_take - the frame's memfd becomes the job's content */
static const char *job_take(struct local_job *job, struct ipc_msg *m)
{
	if (m->fd < 0)
		return "no message content";
	job->fd = m->fd;
	m->fd = -1;
	if (memfd_check(job->fd, &job->size) < 0)
		return "message content is not a sealed memfd";
	return NULL;
}

/* local_job_run - the worker's whole life after start-up */
int local_job_run(const struct config *cfg, int in, int out)
{
	struct ipc_reader rd;
	struct ipc_msg m = { NULL, 0, { NULL, 0, 0 }, -1 };
	struct local_job job;
	const char *why = "no job";
	int rc = EX_PROTOCOL;

	memset(&job, 0, sizeof(job));
	job.cfg = cfg;
	job.fd = -1;
	job.id = "?";
	job.command_limit = job_limit(cfg);
	strbuf_init(&job.dt, LOCAL_DT_MAX * (ADDRESS_MAX + 1));
	ipc_reader_init(&rd, in, LOCAL_FRAME_MAX);
	if (ipc_recv(&rd, &m, &why) > 0 && (why = job_decode(&job,
	    &m.attrs)) == NULL && (why = job_take(&job, &m)) == NULL) {
		job_user(&job);
		job_deliver(&job);
		fsio_crashpoint("local.before_result");
		rc = job_reply(&job, out) == 0 ? EX_OK : EX_IOERR;
	} else {
		log_error("malformed job: %s", why);
	}
	job_release(&job);
	ipc_msg_release(&m);
	ipc_reader_release(&rd);
	return rc;
}
