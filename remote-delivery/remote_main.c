/*
 * postern-remote - the SMTP delivery worker: start-up and its loop.
 *
 * Started by the spawner with its socket on descriptors 0 and 1
 * (spawn_proto.h). Started as root (the normal case), it is given
 * -C DIR -U UID -G GID: it reads everything it will ever need while it
 * is still root (configuration, /etc/resolv.conf through dns_open, the
 * CA bundle, the relay credentials, the time zone, a syslog socket),
 * then chroots into DIR, which must be an empty directory owned by root,
 * and becomes UID/GID for good, before it reads a byte from its socket
 * or from the network. Started by another user (privilege separation
 * off: tests, development) it does all the same but the chroot and the
 * change of ids. It refuses to serve as root.
 *
 * The loop: a job arrives (remote_proto.h), is delivered (remote_smtp.c)
 * and answered with one result frame. Between jobs the last session may
 * stay open for connection_cache_time; when it ends (idle time-out, or
 * the server hangs up) a CLOSED record tells the queue manager. A worker
 * with nothing to do for IDLE_EXIT seconds, or after JOBS_MAX jobs,
 * exits; the queue manager starts another when it needs one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "ipc.h"
#include "log.h"
#include "maps.h"
#include "privs.h"
#include "remote.h"
#include "timeutil.h"

#define IDLE_EXIT 60		/* seconds without a job */
#define JOBS_MAX 1000		/* jobs before a fresh process takes over */

#ifdef __SANITIZE_ADDRESS__
/* LeakSanitizer reads /proc when the process exits, and the chroot has
   no /proc: its fatal error would end every worker with status 1. Leaks
   are checked where the worker runs without a chroot (not as root). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return getuid() == 0 ? "detect_leaks=0" : "";
}
#endif

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: postern-remote [-c DIR] [-C CHROOT -U UID "
	    "-G GID]\n");
	exit(EX_USAGE);
}

/* tls_context - the client context, CA bundle loaded now */
static SSL_CTX *tls_context(const struct config *cfg)
{
	const char *ca = config_str(cfg, CK_smtp_tls_ca_file);
	SSL_CTX *ctx;

	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		log_error("cannot set up TLS; STARTTLS will not be used");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (ca[0] && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		log_warn("cannot load the CA certificates in %s: the verify "
		    "level will fail", ca);
		ERR_clear_error();
	}
	return ctx;
}

/* credentials - smtp_auth_file, when it exists and only its owner (root
   or this user) can read it */
static struct map *credentials(const struct config *cfg)
{
	const char *path = config_str(cfg, CK_smtp_auth_file);
	struct map *m = NULL;
	struct stat st;
	char err[512];

	if (path[0] == '\0' || lstat(path, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		log_error("ignoring %s: it must be a regular file owned by root "
		    "with mode 0600", path);
		return NULL;
	}
	if (map_load(&m, path, 0, err, sizeof(err)) < 0) {
		log_error("ignoring the credentials: %s", err);
		return NULL;
	}
	return m;
}

/* confine - chroot and drop to the worker's ids (when root) */
static void confine(const char *dir, const char *uid_s, const char *gid_s)
{
	struct stat st;
	const char *why;
	char *e1, *e2;
	unsigned long uid, gid;

	if (geteuid() != 0)
		return;
	if (dir == NULL || uid_s == NULL || gid_s == NULL)
		die_perm(EX_USAGE, "refusing to run as root without -C, -U "
		    "and -G");
	uid = strtoul(uid_s, &e1, 10);
	gid = strtoul(gid_s, &e2, 10);
	if (*e1 || *e2 || uid == 0 || gid == 0)
		die_perm(EX_USAGE, "bad -U or -G");
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) != 0)
		die_perm(EX_CONFIG, "the chroot %s must be a directory owned by "
		    "root and writable by nobody else", dir);
	if (chroot(dir) < 0 || chdir("/") < 0)
		die_perm(EX_OSERR, "chroot %s: %s", dir, strerror(errno));
	if (privs_drop((uid_t)uid, (gid_t)gid, &why) < 0)
		die_perm(EX_OSERR, "cannot drop privileges: %s", why);
}

/* closed - tell the queue manager the cached session is gone */
static void closed(void)
{
	struct strbuf p = STRBUF_INIT(256);

	attr_put_str(&p, "v", REMOTE_VERSION);
	attr_put_str(&p, "session", "closed");
	(void)ipc_send(1, &p, -1);
	strbuf_release(&p);
}

/* one_job - deliver the job in m and answer; 0, -1 on a bad job, -2
   when the queue manager is gone (nothing to answer to) */
static int one_job(struct remote *r, struct ipc_msg *m)
{
	struct rjob j;
	struct strbuf xs = STRBUF_INIT(QUEUE_XS_MAX + 1024);
	struct strbuf out = STRBUF_INIT(REMOTE_FRAME_MAX);
	const char *why = rjob_decode(&j, &m->attrs, &m->fd);
	int rc = 0;

	if (why != NULL) {
		log_error("refusing a job from the queue manager: %s", why);
		rjob_release(&j);
		return -1;
	}
	xs_reset(&r->xs);
	smtp_deliver(r, &j);
	xs_finish(&r->xs, &xs);
	rjob_result(&j, &xs, r->open, &out);
	if (!strbuf_ok(&out))
		rc = -1;
	else if (ipc_send(1, &out, -1) < 0)
		rc = -2;
	rjob_release(&j);
	strbuf_release(&xs);
	strbuf_release(&out);
	return rc;
}

/* serve - jobs until the queue manager goes away or we retire */
static int serve(struct remote *r)
{
	struct ipc_reader rd;
	struct ipc_msg m;
	struct pollfd p[2];
	const char *why;
	int64_t idle_from = timeutil_monotonic(), wait;
	unsigned jobs = 0;
	int st;

	ipc_reader_init(&rd, 0, REMOTE_FRAME_MAX);
	fcntl(0, F_SETFL, O_NONBLOCK);
	for (;;) {
		p[0].fd = 0;
		p[0].events = POLLIN;
		p[1].fd = r->open ? r->conn.fd : -1;
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		wait = r->open ? r->idle_until : idle_from + IDLE_EXIT *
		    1000000LL;
		wait -= timeutil_monotonic();
		st = poll(p, 2, wait <= 0 ? 0 : (int)(wait / 1000) + 1);
		if (st < 0 && errno != EINTR)
			die_temp("poll: %s", strerror(errno));
		if (r->open && (p[1].revents || timeutil_monotonic() >=
		    r->idle_until)) {
			smtp_quit(r);
			closed();
			idle_from = timeutil_monotonic();
			continue;
		}
		if (!r->open && p[0].revents == 0 && timeutil_monotonic() >=
		    idle_from + IDLE_EXIT * 1000000LL)
			break;
		if (p[0].revents == 0)
			continue;
		if (ipc_reader_fill(&rd) == 0)
			break;
		while ((st = ipc_reader_next(&rd, &m, &why)) == 1) {
			st = one_job(r, &m);
			ipc_msg_release(&m);
			if (st < 0) {
				smtp_quit(r);
				ipc_reader_release(&rd);
				return st == -2 ? EX_OK : EX_PROTOCOL;
			}
			jobs++;
			idle_from = timeutil_monotonic();
		}
		if (st < 0) {
			log_error("bad frame from the queue manager: %s", why);
			ipc_reader_release(&rd);
			return EX_PROTOCOL;
		}
		if (jobs >= JOBS_MAX && !r->open)
			break;
	}
	smtp_quit(r);
	ipc_reader_release(&rd);
	return EX_OK;
}

int main(int argc, char **argv)
{
	const char *arg = NULL, *croot = NULL, *uid = NULL, *gid = NULL;
	struct remote r;
	struct config *cfg;
	char err[512], srv[1024];
	int c, rc;

	while ((c = getopt(argc, argv, "c:C:U:G:")) != -1)
		switch (c) {
		case 'c': arg = optarg; break;
		case 'C': croot = optarg; break;
		case 'U': uid = optarg; break;
		case 'G': gid = optarg; break;
		default: usage();
		}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (config_open(arg, &cfg, err, sizeof(err)) < 0)
		die_perm(EX_CONFIG, "%s", err);
	log_open("remote", cfg, 0);
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	config_list_join(cfg, CK_dns_servers, srv, sizeof(srv));
	if (dns_open(&r.dns, srv, err, sizeof(err)) < 0)
		die_temp("DNS: %s", err);
	r.tls_ctx = tls_context(cfg);
	r.creds = credentials(cfg);
	tzset();
	confine(croot, uid, gid);
	if (geteuid() == 0)
		die_perm(EX_USAGE, "refusing to run as root");
	xs_init(&r.xs);
	conn_init(&r.conn, &r.xs);
	rc = serve(&r);
	xs_release(&r.xs);
	map_free(&r.creds);
	SSL_CTX_free(r.tls_ctx);
	dns_close(&r.dns);
	config_free(&cfg);
	log_close();
	return rc;
}
