/*
 * posternctl_queue - queue, mailq, show and stats when the queue manager
 * is not running: posternctl opens the queue read-only and renders the
 * same views (qview.h) the queue manager would have streamed (stats
 * without the recent outcomes and jobs, which only it knows).
 *
 * Only root and the queue's owner can open the queue; root first becomes
 * mail_owner, so that it never leaves a root-owned LMDB lock file behind.
 * Each step is a short read transaction whose output is written before
 * the next begins, so a slow reader (a pager) holds no transaction open.
 * Nothing is in flight while the queue manager is down, so no message is
 * marked active. A note on standard error says where the answer came
 * from; standard output stays what scripts parse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "control_proto.h"
#include "die.h"
#include "exitcodes.h"
#include "layout.h"
#include "posternctl.h"
#include "privs.h"
#include "qview.h"
#include "strbuf.h"

/* open_queue - become the queue's owner if root, then open it read-only */
static struct queue *open_queue(const struct config *cfg)
{
	struct queue *q;
	struct layout l;
	char err[512];
	const char *why;
	uid_t uid;
	gid_t gid;

	if (layout_paths(cfg, &l) < 0)
		die_perm(EX_CONFIG, "queue_directory is too long");
	if (geteuid() == 0) {
		if (privs_user(config_str(cfg, CK_mail_owner), &uid, &gid,
		    &why) < 0 || privs_drop(uid, gid, &why) < 0)
			die_perm(EX_CONFIG, "cannot become mail_owner '%s': %s",
			    config_str(cfg, CK_mail_owner), why);
	}
	if (access(l.db, R_OK | X_OK) < 0 && errno == EACCES)
		die_perm(EX_TEMPFAIL, "the queue manager is not running, and "
		    "only root and the queue's owner may read the queue in %s "
		    "directly", l.queue);
	if (queue_open(&q, l.db, 0, QUEUE_RDONLY, err, sizeof(err)) !=
	    QUEUE_OK)
		die_perm(EX_TEMPFAIL, "the queue manager is not running, and "
		    "the queue in %s cannot be opened: %s", l.db, err);
	return q;
}

/* selection - the command line's selectors, read as the queue manager
   reads them: from the request it would have been sent (req, which the
   selectors point into); 0 or -1 (said why) */
static int selection(const struct ctl_args *a, struct strbuf *req,
    struct qsel *s, uint64_t **ids_r)
{
	struct attr_list al = { NULL, 0, 0 };
	const char *why = NULL;
	int nsel;

	ctl_request(a, req);
	if (!strbuf_ok(req) || attr_decode(req->s, req->len, &al,
	    2 * CONTROL_IDS_MAX, &why) < 0)
		why = why ? why : "the request is too long";
	else
		why = qsel_parse(&al, CONTROL_IDS_MAX, s, ids_r, &nsel);
	attr_list_release(&al);
	if (why == NULL)
		return 0;
	fprintf(stderr, "posternctl: %s\n", why);
	return -1;
}

int ctl_direct(struct ctl *c)
{
	struct strbuf out = STRBUF_INIT(VIEW_TEXT_MAX);
	struct strbuf req = STRBUF_INIT(CONTROL_REQUEST_MAX);
	uint64_t *ids = NULL;
	struct qview v;
	struct queue *q;
	char idt[QUEUE_ID_TEXT + 1];
	int st;

	if (strcmp(c->a.verb, "mailq") == 0)
		qview_init(&v, QV_MAILQ, c->cfg);
	else if (strcmp(c->a.verb, "stats") == 0)
		qview_init(&v, QV_STATS, c->cfg);
	else if (strcmp(c->a.verb, "show") == 0)
		qview_init(&v, c->a.content ? QV_CONTENT : QV_SHOW, c->cfg);
	else
		qview_init(&v, c->a.count ? QV_COUNT : QV_QUEUE, c->cfg);
	if (selection(&c->a, &req, &v.sel, &ids) < 0) {
		free(ids);
		strbuf_release(&req);
		return EX_USAGE;
	}
	if (v.kind == QV_SHOW || v.kind == QV_CONTENT) {
		v.id = ids[0];
		qsel_init(&v.sel);
	}
	v.json = c->a.json;
	v.transcript = c->a.transcript;
	q = open_queue(c->cfg);
	fprintf(stderr, "posternctl: the queue manager is not running; "
	    "reading the queue directly\n");
	do {
		st = qview_step(&v, q, &out, QVIEW_STEP_BYTES);
		if (out.len > 0 && fwrite(out.s, 1, out.len, stdout) != out.len)
			die_perm(EX_IOERR, "write error on standard output");
		strbuf_reset(&out);
	} while (st == QV_MORE);
	strbuf_release(&out);
	qview_release(&v);
	free(ids);
	strbuf_release(&req);
	queue_id_format(v.id, idt);
	if (st == QV_NOMSG)
		die_perm(EX_NOUSER, "no message %s in the queue", idt);
	if (st == QUEUE_CORRUPT)
		die_perm(EX_SOFTWARE, "cannot read message %s: %s", idt,
		    queue_error(q));
	if (st != QV_DONE)
		die_temp("cannot read the queue: %s", queue_error(q));
	if (v.damaged > 0)
		fprintf(stderr, "posternctl: skipped %llu damaged message "
		    "record%s\n", (unsigned long long)v.damaged,
		    v.damaged == 1 ? "" : "s");
	queue_close(&q);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
