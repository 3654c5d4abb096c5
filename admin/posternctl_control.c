/*
 * posternctl_control - the verbs that go through the queue manager's
 * control socket (control_proto.h): status, reload, stats, route, the
 * listings queue, mailq and show, and the bulk verbs hold, release,
 * delete, retry and bounce. When nothing listens on the socket, the
 * listings fall back to reading the queue directly (posternctl_queue.c).
 * For route, the
 * queue manager says how it would route the address; the DNS lookups of
 * a remote route are made here (the queue manager does none).
 *
 * posternctl only builds the request and prints the answer; the queue
 * manager decides who may do what (SO_PEERCRED), so this file needs no
 * privilege and reads nothing of the queue. The answer is read with a
 * frame limit, and its text is printed as it comes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>


#include "address.h"
#include "config.h"
#include "control_proto.h"
#include "die.h"
#include "exitcodes.h"
#include "ipc.h"
#include "layout.h"
#include "posternctl.h"

/* put - name=value into the request when value is set */
static void put(struct strbuf *req, const char *name, const char *value)
{
	if (value != NULL)
		attr_put_str(req, name, value);
}

void ctl_request(const struct ctl_args *a, struct strbuf *req)
{
	int k;

	attr_put_str(req, "v", CONTROL_VERSION);
	attr_put_str(req, "verb", a->verb);
	for (k = 0; k < a->nids; k++)
		attr_put_str(req, "id", a->ids[k]);
	put(req, "sender", a->sender);
	put(req, "recipient", a->recipient);
	put(req, "domain", a->domain);
	put(req, "state", a->state);
	put(req, "error", a->error);
	put(req, "address", a->address);
	if (a->older_than >= 0)
		attr_put_i64(req, "older_than", a->older_than);
	put(req, "all", a->all ? "1" : NULL);
	put(req, "dry_run", a->dry_run ? "1" : NULL);
	put(req, "json", a->json ? "1" : NULL);
	put(req, "count", a->count ? "1" : NULL);
	put(req, "transcript", a->transcript ? "1" : NULL);
	put(req, "content", a->content ? "1" : NULL);
}

/* connect_qmgr - the control socket, or -1 with errno and the path */
static int connect_qmgr(const struct config *cfg, char *path, size_t len)
{
	struct layout l;
	struct sockaddr_un sa;
	int fd, e;

	if (layout_paths(cfg, &l) < 0)
		die_perm(EX_CONFIG, "run_directory too long");
	snprintf(path, len, "%s", l.control);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(l.control) >= sizeof(sa.sun_path))
		die_perm(EX_CONFIG, "%s: path too long", l.control);
	memcpy(sa.sun_path, l.control, strlen(l.control));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

/* route_out - route's answer: the queue manager's part (out), then the
   DNS part when there is a host to look up; in JSON, the DNS part is the
   "dns" member of the queue manager's object */
static void route_out(const struct ctl *c, struct strbuf *out,
    const char *lookup, int mx)
{
	if (c->a.json && lookup != NULL && out->len >= 2 &&
	    strcmp(out->s + out->len - 2, "}\n") == 0) {
		strbuf_truncate(out, out->len - 2);
		strbuf_appends(out, ",\"dns\":");
		ctl_route_dns(c->cfg, lookup, mx, 1, out);
		strbuf_appends(out, "}\n");
	} else if (lookup != NULL) {
		ctl_route_dns(c->cfg, lookup, mx, 0, out);
	}
	if (out->len > 0 && fwrite(out->s, 1, out->len, stdout) != out->len)
		die_perm(EX_IOERR, "write error on standard output");
}

/* read_only - the verb only reads the queue (a direct read can do it) */
static int read_only(const char *verb)
{
	return strcmp(verb, "queue") == 0 || strcmp(verb, "mailq") == 0 ||
	    strcmp(verb, "show") == 0 || strcmp(verb, "stats") == 0;
}

int ctl_control(struct ctl *c)
{
	char lookup[320] = "", path[PATH_MAX];
	int mx = 0;
	struct strbuf req = STRBUF_INIT(CONTROL_REQUEST_MAX);
	struct ipc_reader rd;
	struct ipc_msg m;
	const struct attr *a;
	const char *why = NULL, *name = NULL;
	uint64_t status = EX_PROTOCOL;
	int fd, r, unsent, keep = strcmp(c->a.verb, "route") == 0;
	struct strbuf kept = STRBUF_INIT(1u << 20);

	ctl_request(&c->a, &req);
	if (!strbuf_ok(&req))
		die_perm(EX_USAGE, "the request is too long");
	if ((fd = connect_qmgr(c->cfg, path, sizeof(path))) < 0) {
		if ((errno == ECONNREFUSED || errno == ENOENT) &&
		    read_only(c->a.verb)) {
			strbuf_release(&req);
			return ctl_direct(c);
		}
		if (strcmp(c->a.verb, "status") == 0 && c->a.json)
			printf("{\"running\":false}\n");
		die_perm(EX_TEMPFAIL, "cannot reach the queue manager at %s "
		    "(%s): is postern-qmgr running?", path, strerror(errno));
	}
	/* A refused connection (too many of the caller's are open) may be
	   closed before the request is written: its answer is still there
	   to read, so a failed send is reported only if there is none. */
	unsent = ipc_send(fd, &req, -1) < 0 ? errno : 0;
	ipc_reader_init(&rd, fd, CONTROL_ANSWER_FRAME + 4096);
	while ((r = ipc_recv(&rd, &m, &why)) == 1) {
		if (attr_check(&m.attrs, control_answer_spec,
		    NSPEC(control_answer_spec), 0, &why, &name) < 0) {
			ipc_msg_release(&m);
			r = -1;
			break;
		}
		if ((a = attr_find(&m.attrs, "out")) == NULL)
			a = attr_find(&m.attrs, "data");
		/* route's answer is kept, to add the DNS half to it */
		if (a != NULL && keep)
			strbuf_append(&kept, a->value, a->len);
		else if (a != NULL && fwrite(a->value, 1, a->len, stdout) !=
		    a->len)
			die_perm(EX_IOERR, "write error on standard output");
		if ((a = attr_find(&m.attrs, "error")) != NULL) {
			fflush(stdout);
			fprintf(stderr, "posternctl: %s\n", a->value);
		}
		if ((a = attr_find(&m.attrs, "lookup")) != NULL)
			snprintf(lookup, sizeof(lookup), "%s", a->value);
		if ((a = attr_find(&m.attrs, "mx")) != NULL)
			mx = strcmp(a->value, "1") == 0;
		a = attr_find(&m.attrs, "status");
		if (a != NULL && attr_u64(a, &status) == 0) {
			ipc_msg_release(&m);
			break;
		}
		ipc_msg_release(&m);
	}
	if (r != 1 && unsent != 0)
		die_perm(EX_TEMPFAIL, "cannot talk to the queue manager: %s",
		    strerror(unsent));
	if (r != 1) {
		fprintf(stderr, "posternctl: the queue manager ended the "
		    "answer early%s%s%s%s\n", why ? ": " : "", why ? why : "",
		    name ? ": " : "", name ? name : "");
		status = EX_PROTOCOL;
	}
	ipc_reader_release(&rd);
	strbuf_release(&req);
	close(fd);
	if (keep)
		route_out(c, &kept, status == 0 && lookup[0] ? lookup : NULL,
		    mx);
	strbuf_release(&kept);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return status > 255 ? EX_PROTOCOL : (int)status;
}
