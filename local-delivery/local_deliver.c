/*
 * local_deliver - one recipient of a job: the loop check, the action the
 * queue manager chose, ~/.forward, and the recipient's final result.
 *
 * Called by local_job.c for each recipient, and by local_forward.c for
 * the entries of a .forward that deliver locally. Actions (local_proto.h):
 *   mailbox   ~/.forward unless noforward, else home_mailbox: ending in
 *             '/' a Maildir in the home, a file name an mbox in the home,
 *             empty the mbox mail_spool_directory/USER
 *   maildir   the Maildir at target (virtual mailboxes, alias dir/)
 *   mbox      the mbox file at target (alias /file)
 *   pipe      target is a command (alias |command)
 * A message that already carries "Delivered-To: addr" fails with 5.4.6
 * before anything is written.
 *
 * Trust: the job's paths come from the queue manager (the administrator's
 * files) and are trusted up to their directory part; the user's own
 * files are handled by the modules below.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "local.h"
#include "log.h"

/* path_trusted - length of the directory part of path (trailing slashes
   ignored): the administrator's part */
static size_t path_trusted(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	return n > 1 ? n - 1 : n;
}

/* local_deliver_path - a Maildir (trailing '/') or an mbox by path */
void local_deliver_path(struct local_job *job, const struct local_rcpt *r,
    const char *path, const char *ext, struct local_status *st)
{
	size_t n = strlen(path);

	if (n > 0 && path[n - 1] == '/')
		local_maildir_deliver(job, path, path_trusted(path), r->addr,
		    ext, st);
	else
		local_mbox_deliver(job, path, path_trusted(path), r->addr, st);
}

/* local_deliver_own - home_mailbox in the home, or the mail spool */
void local_deliver_own(struct local_job *job, const struct local_rcpt *r,
    struct local_status *st)
{
	const char *hm = config_str(job->cfg, CK_home_mailbox);
	const char *spool = config_str(job->cfg, CK_mail_spool_directory);
	const char *base = *hm ? job->pw.home : spool;
	char path[PATH_MAX];
	size_t n = strlen(hm);

	if (snprintf(path, sizeof(path), "%s/%s", base, *hm ? hm :
	    job->pw.name) >= (int)sizeof(path)) {
		local_status_set(st, LOCAL_DEFER, "4.3.5",
		    "mailbox path for %s is too long", job->pw.name);
		return;
	}
	if (n > 0 && hm[n - 1] == '/')
		local_maildir_deliver(job, path, strlen(base), r->addr, r->ext,
		    st);
	else
		local_mbox_deliver(job, path, strlen(base), r->addr, st);
}

/* deliver_forwarded - the result of a .forward that named addresses:
   "forwarded to ...", then what its local entries did */
static void deliver_forwarded(struct local_rcpt *r)
{
	struct strbuf sb = STRBUF_INIT(2 * LOCAL_TEXT_MAX);
	const char *p = strbuf_str(&r->fwd), *end = p + r->fwd.len;
	struct local_status local = r->st;

	for (; p < end; p += strlen(p) + 1)
		strbuf_appendf(&sb, "%s%s", sb.len ? ", " : "", p);
	r->forwarded = 1;
	local_status_set(&r->st, LOCAL_OK, "2.1.5", "forwarded to %s",
	    strbuf_ok(&sb) ? strbuf_str(&sb) : "several addresses");
	local_status_merge(&r->st, &local);
	strbuf_release(&sb);
}

/* deliver_mailbox - action mailbox: ~/.forward, else the own mailbox */
static void deliver_mailbox(struct local_job *job, struct local_rcpt *r)
{
	if (r->noforward || !local_forward(job, r, &r->st)) {
		local_deliver_own(job, r, &r->st);
		return;
	}
	if (r->st.verdict == LOCAL_OK && r->nfwd > 0)
		deliver_forwarded(r);
}

/* deliver_action - do what the job says for r */
static void deliver_action(struct local_job *job, struct local_rcpt *r)
{
	if (strcmp(r->action, "mailbox") == 0)
		deliver_mailbox(job, r);
	else if (strcmp(r->action, "maildir") == 0)
		local_maildir_deliver(job, r->target, path_trusted(r->target),
		    r->addr, r->ext, &r->st);
	else if (strcmp(r->action, "mbox") == 0)
		local_mbox_deliver(job, r->target, path_trusted(r->target),
		    r->addr, &r->st);
	else
		local_pipe_run(job, r, r->target, &r->st);
}

/* deliver_log - one line per recipient, as Postfix's local(8) does */
static void deliver_log(const struct local_job *job,
    const struct local_rcpt *r)
{
	const char *word = r->forwarded ? "forwarded" :
	    r->st.verdict == LOCAL_OK ? "sent" :
	    r->st.verdict == LOCAL_DEFER ? "deferred" : "bounced";

	log_info("%s: to=<%s>%s%s%s, relay=local, dsn=%s, status=%s (%s)",
	    job->id, r->addr, r->orig ? ", orig_to=<" : "",
	    r->orig ? r->orig : "", r->orig ? ">" : "", r->st.code, word,
	    r->st.text);
}

/* local_deliver - one recipient, start to result */
void local_deliver(struct local_job *job, struct local_rcpt *r)
{
	if (local_content_loops(job, r->addr))
		local_status_set(&r->st, LOCAL_FAIL, "5.4.6",
		    "mail forwarding loop for %s", r->addr);
	else
		deliver_action(job, r);
	if (r->st.verdict != LOCAL_OK || !r->forwarded) {
		r->forwarded = 0;
		r->nfwd = 0;
		strbuf_reset(&r->fwd);
	}
	deliver_log(job, r);
}
