/*
 * postern-bounce - the delivery status notice writer: start-up and its
 * loop.
 *
 * Started by the spawner as bounce_user with its socket on descriptors 0
 * and 1 (spawn_proto.h), or by a test the same way. Reads the
 * configuration (-c DIR, else $POSTERN_CONFIG, else /etc/postern),
 * starts logging, refuses to run as root, then serves jobs
 * (bounce_proto.h) one at a time until the queue manager closes the
 * socket: each job is decoded (bounce_job.c), its notice composed
 * (bounce_compose.c) and answered with one RESULT frame: "ok" and the
 * notice as a sealed memfd, or "error" and why no notice was made.
 *
 * A malformed job, or a frame that is not one, is logged and ends the
 * worker with EX_PROTOCOL without an answer: the queue manager cannot be
 * trusted to be in step any more, and defers the job. End of file
 * between frames is the normal end (exit 0).
 *
 * Trust: the job comes from the queue manager; it is checked strictly
 * all the same. The worker needs no privilege and opens no file after
 * start-up; it refuses to run as root so that a mistake in its
 * configuration cannot make the parser of message data a root process.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "bounce_proto.h"
#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "ipc.h"
#include "log.h"
#include "memfd.h"
#include "strbuf.h"

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: postern-bounce [-c DIR]\n");
	exit(EX_USAGE);
}

/* answer - the RESULT frame on fd 1: the notice, or error; 0 or -1 */
static int answer(const char *id, const struct strbuf *notice,
    const char *error)
{
	struct strbuf p = STRBUF_INIT(2048);
	char why[256];
	int fd = -1, rc;

	if (notice != NULL && (fd = memfd_from_buffer("postern-notice",
	    notice->s, notice->len)) < 0) {
		snprintf(why, sizeof(why), "cannot hand over the notice: %s",
		    strerror(errno));
		log_error("%s: %s", id, why);
		error = why;
	}
	attr_put_str(&p, "v", BOUNCE_VERSION);
	if (fd >= 0)
		attr_put_str(&p, "ok", "1");
	else
		attr_put_str(&p, "error", error);
	if ((rc = ipc_send(1, &p, fd)) < 0)
		log_error("%s: cannot send the result: %s", id,
		    strerror(errno));
	if (fd >= 0)
		close(fd);
	strbuf_release(&p);
	return rc;
}

/* one_job - decode, compose, answer; an exit code when the worker must
   stop (EX_PROTOCOL: a malformed job; EX_IOERR: no way to answer), else
   EX_OK */
static int one_job(const struct config *cfg, struct ipc_msg *m)
{
	static const char *const kinds[] = { "failure", "delay", "success" };
	uint64_t limit = config_size(cfg, CK_bounce_size_limit);
	struct strbuf notice;
	const char *why = NULL;
	struct bjob j;
	int rc;

	if ((why = bjob_decode(&j, &m->attrs, &m->fd)) != NULL) {
		log_error("malformed job: %s", why);
		bjob_release(&j);
		return EX_PROTOCOL;
	}
	strbuf_init(&notice, limit < SIZE_MAX - BOUNCE_NOTICE_EXTRA ?
	    (size_t)limit + BOUNCE_NOTICE_EXTRA : SIZE_MAX);
	if (bounce_compose(&j, cfg, &notice, &why) < 0) {
		log_error("%s: no notice made: %s", j.id, why);
		rc = answer(j.id, NULL, why);
	} else {
		log_info("%s: %s notice to <%s>: %zu recipient%s, %zu bytes",
		    j.id, kinds[j.kind], j.to, j.n, j.n == 1 ? "" : "s",
		    notice.len);
		rc = answer(j.id, &notice, NULL);
	}
	strbuf_release(&notice);
	bjob_release(&j);
	return rc < 0 ? EX_IOERR : EX_OK;
}

/* serve - jobs until end of file, a bad frame or a lost socket */
static int serve(const struct config *cfg)
{
	struct ipc_reader rd;
	struct ipc_msg m;
	const char *why = NULL;
	int st = 0, rc = EX_OK;

	ipc_reader_init(&rd, 0, BOUNCE_FRAME_MAX);
	while (rc == EX_OK && (st = ipc_recv(&rd, &m, &why)) == 1) {
		rc = one_job(cfg, &m);
		ipc_msg_release(&m);
	}
	if (rc == EX_OK && st < 0) {
		log_error("malformed job: bad frame from the queue manager: %s",
		    why);
		rc = EX_PROTOCOL;
	}
	ipc_reader_release(&rd);
	return rc;
}

/* main - parse -c, read the configuration, serve */
int main(int argc, char **argv)
{
	struct config *cfg;
	const char *arg = NULL;
	char err[512];
	int c, rc;

	while ((c = getopt(argc, argv, "c:")) != -1)
		if (c == 'c')
			arg = optarg;
		else
			usage();
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (config_open(arg, &cfg, err, sizeof(err)) < 0)
		die_perm(EX_CONFIG, "%s", err);
	log_open("bounce", cfg, 0);
	if (getuid() == 0 || geteuid() == 0)
		die_perm(EX_USAGE, "refusing to run as root (run it as "
		    "bounce_user, %s)", config_str(cfg, CK_bounce_user));
	tzset();
	rc = serve(cfg);
	config_free(&cfg);
	log_close();
	return rc;
}
