/*
 * posternctl_control - the verbs that go through the queue manager's
 * control socket (control_proto.h): status, reload, stats, and the bulk
 * verbs hold, release, delete, retry and bounce.
 *
 * posternctl only builds the request and prints the answer; the queue
 * manager decides who may do what (SO_PEERCRED), so this file needs no
 * privilege and reads nothing of the queue. The answer is read with a
 * frame limit, and its text is printed as it comes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control_proto.h"
#include "die.h"
#include "exitcodes.h"
#include "ipc.h"
#include "layout.h"
#include "posternctl.h"

/* selector - "--name VALUE" into the request */
static int selector(struct strbuf *req, const char *opt, const char *val)
{
	static const struct { const char *opt, *name; } map[] = {
		{ "--sender", "sender" }, { "--recipient", "recipient" },
		{ "--domain", "domain" }, { "--state", "state" },
		{ "--error", "error" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(opt, map[i].opt) == 0) {
			attr_put_str(req, map[i].name, val);
			return 0;
		}
	return -1;
}

/* request - the request for verb and its arguments */
static void request(const char *verb, int argc, char **argv,
    struct strbuf *req)
{
	int64_t secs;
	int i;

	attr_put_str(req, "v", CONTROL_VERSION);
	attr_put_str(req, "verb", verb);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			attr_put_str(req, "all", "1");
		else if (strcmp(argv[i], "--dry-run") == 0)
			attr_put_str(req, "dry_run", "1");
		else if (strcmp(argv[i], "--json") == 0)
			attr_put_str(req, "json", "1");
		else if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc) {
			if (config_parse_duration(argv[++i], &secs) < 0)
				die_perm(EX_USAGE, "--older-than %s: not a "
				    "duration (e.g. 2h, 30m, 3d)", argv[i]);
			attr_put_i64(req, "older_than", secs);
		} else if (argv[i][0] == '-' && i + 1 < argc) {
			if (selector(req, argv[i], argv[i + 1]) < 0)
				die_perm(EX_USAGE, "unknown option %s",
				    argv[i]);
			i++;
		} else if (argv[i][0] == '-') {
			die_perm(EX_USAGE, "%s needs a value", argv[i]);
		} else {
			attr_put_str(req, "id", argv[i]);
		}
	}
}

/* connect_qmgr - the control socket, or exit 75 */
static int connect_qmgr(const struct config *cfg)
{
	struct layout l;
	struct sockaddr_un sa;
	int fd;

	if (layout_paths(cfg, &l) < 0)
		die_perm(EX_CONFIG, "run_directory too long");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(l.control) >= sizeof(sa.sun_path))
		die_perm(EX_CONFIG, "%s: path too long", l.control);
	memcpy(sa.sun_path, l.control, strlen(l.control));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die_perm(EX_TEMPFAIL, "cannot reach the queue manager at %s "
		    "(%s): is postern-qmgr running?", l.control,
		    strerror(errno));
	return fd;
}

int ctl_control(struct ctl *c, const char *verb, int argc, char **argv)
{
	struct strbuf req = STRBUF_INIT(CONTROL_REQUEST_MAX);
	struct ipc_reader rd;
	struct ipc_msg m;
	const struct attr *a;
	const char *why = NULL;
	uint64_t status = EX_PROTOCOL;
	int fd, r;

	request(verb, argc, argv, &req);
	if (!strbuf_ok(&req))
		die_perm(EX_USAGE, "the request is too long");
	fd = connect_qmgr(c->cfg);
	if (ipc_send(fd, &req, -1) < 0)
		die_perm(EX_TEMPFAIL, "cannot talk to the queue manager: %s",
		    strerror(errno));
	ipc_reader_init(&rd, fd, CONTROL_ANSWER_FRAME + 4096);
	while ((r = ipc_recv(&rd, &m, &why)) == 1) {
		if ((a = attr_find(&m.attrs, "out")) != NULL)
			fwrite(a->value, 1, a->len, stdout);
		if ((a = attr_find(&m.attrs, "error")) != NULL)
			fprintf(stderr, "posternctl: %s\n", a->value);
		a = attr_find(&m.attrs, "status");
		if (a != NULL && attr_u64(a, &status) == 0) {
			ipc_msg_release(&m);
			break;
		}
		ipc_msg_release(&m);
	}
	if (r != 1) {
		fprintf(stderr, "posternctl: the queue manager ended the "
		    "answer early%s%s\n", why ? ": " : "", why ? why : "");
		status = EX_PROTOCOL;
	}
	ipc_reader_release(&rd);
	strbuf_release(&req);
	close(fd);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return status > 255 ? EX_PROTOCOL : (int)status;
}
