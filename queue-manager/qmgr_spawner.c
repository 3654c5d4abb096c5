/*
 * qmgr_spawner - the spawner: the one postern process that keeps root.
 *
 * The queue manager calls spawner_start() once at start-up, as root and
 * before it opens the queue or gives up root. The child it forks is the
 * spawner; the queue manager then calls spawner_request() on the socket
 * between them whenever it needs a worker (protocol: spawn_proto.h). For
 * each valid request the spawner opens and checks the program, forks,
 * sets the child up (descriptors, signals, session, umask, core limit,
 * chroot, groups, gid, uid, working directory, in that order) and execs
 * libexec_directory/postern-<worker> with a fixed argv and environment;
 * the queue manager gets its end of a socketpair whose other end is the
 * worker's descriptors 0 and 1. The spawner reaps its children, logs the
 * ones that died badly, and exits when the queue manager's socket reaches
 * end of file, so no root process outlives the queue manager.
 *
 * SECURITY: the spawner runs as root and serves a process that does not,
 * so every request is untrusted input. It is decoded strictly (unknown
 * names, repeated names, bad numbers and control characters are refused);
 * the worker is one of three fixed names; uid 0, and gid 0 when root, are
 * refused; the uid must exist, and a user name must belong to that uid;
 * paths must be absolute. Started by another user (privilege separation
 * off) it runs workers as that user only. The program is opened and
 * checked before fork (a regular file, not a symbolic link; when root,
 * file and directory owned by root and not writable by group or others),
 * and the worker execs that very descriptor (execveat), so a file renamed
 * into place after the check is never run. The list of groups is read
 * before fork, so no name service runs inside a chroot. Between fork and
 * exec the child reports a failure on a close-on-exec pipe that only the
 * spawner's own code writes; exec closes it, so a worker cannot speak on
 * it. The spawner reads nothing else: no configuration after start (what
 * it needs is copied first), no file a user controls, nothing a worker
 * says. A frame it cannot decode ends it: the queue manager broke the
 * protocol, and a root process does not guess.
 *
 * Because the descriptor is executed, workers must be binaries (a "#!"
 * script cannot run from a close-on-exec descriptor: ENOENT), and a
 * chroot cannot be entered before exec (the worker's dynamic loader and
 * libraries, its CA bundle and resolver configuration are outside it).
 * So a request with a chroot, allowed for the remote worker only, is
 * run differently: the child keeps root, loses its supplementary groups,
 * and the worker gets "-C DIR -U UID -G GID"; it reads what it needs,
 * then chroots and drops to UID/GID itself before it reads any input
 * (remote-delivery/remote_main.c). Without root there is no chroot and
 * no change of ids: the request's chroot is ignored, its uid and gid
 * must be our own.
 *
 * The queue manager's side (spawner_request) trusts the spawner, which
 * is root, but still checks each reply against the protocol. It waits
 * at most SPAWN_REPLY_WAIT_US for a reply.
 *
 * What the child does between fork and exec is in qmgr_spawn_child.c;
 * qmgr_spawner_impl.h holds what the two files share.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "exitcodes.h"
#include "ipc.h"
#include "log.h"
#include "qmgr.h"
#include "qmgr_spawner_impl.h"
#include "spawn_proto.h"
#include "strbuf.h"
#include "timeutil.h"

#define SPAWN_REPLY_WAIT_US (30 * 1000000LL) /* the queue manager waits */
#define SPAWN_NSPEC(spec) (sizeof(spec) / sizeof((spec)[0]))

/* The workers the spawner may start: nothing else is ever executed. */
static const char *const spawn_workers[] = { "local", "remote", "bounce" };

/* spawn_err - format a one-line error into err; returns -1 */
static int __attribute__((format(printf, 3, 4)))
spawn_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	/* An error cut to fit the reply is still the best explanation. */
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the spawner: requests ---- */

/* req_id - a uid or gid attribute: a number that fits and is not -1 */
static int req_id(const struct attr_list *attrs, const char *name,
    unsigned *id_r)
{
	uint64_t v;

	if (attr_u64(attr_find(attrs, name), &v) < 0 || v >= UINT_MAX)
		return -1;
	*id_r = (unsigned)v;
	return 0;
}

/* req_text - an optional text attribute; NULL when absent or empty */
static const char *req_text(const struct attr_list *attrs, const char *name)
{
	const struct attr *a = attr_find(attrs, name);

	return a == NULL || a->len == 0 ? NULL : a->value;
}

/* req_decode - the frame into rq, strictly */
static int req_decode(const struct ipc_msg *m, struct spawn_req *rq,
    char *err, size_t errlen)
{
	const char *why, *name = NULL, *worker;
	unsigned uid, gid;
	size_t i;

	if (m->fd >= 0)
		return spawn_err(err, errlen, "bad request: a descriptor came "
		    "with it");
	if (attr_check(&m->attrs, spawn_request_spec,
	    SPAWN_NSPEC(spawn_request_spec), 0, &why, &name) < 0)
		return spawn_err(err, errlen, "bad request: %s%s%s", why,
		    name ? ": " : "", name ? name : "");
	if (strcmp(attr_find(&m->attrs, "v")->value, SPAWN_VERSION) != 0)
		return spawn_err(err, errlen, "bad request: version is not "
		    SPAWN_VERSION);
	worker = attr_find(&m->attrs, "worker")->value;
	for (i = 0; i < SPAWN_NSPEC(spawn_workers); i++)
		if (strcmp(worker, spawn_workers[i]) == 0)
			rq->worker = spawn_workers[i];
	if (rq->worker == NULL)
		return spawn_err(err, errlen, "unknown worker '%s'", worker);
	if (req_id(&m->attrs, "uid", &uid) < 0 ||
	    req_id(&m->attrs, "gid", &gid) < 0)
		return spawn_err(err, errlen, "bad request: uid or gid out "
		    "of range");
	rq->uid = (uid_t)uid;
	rq->gid = (gid_t)gid;
	rq->user = req_text(&m->attrs, "user");
	rq->chroot_dir = req_text(&m->attrs, "chroot");
	rq->home = req_text(&m->attrs, "home");
	return 0;
}

/* req_user - the uid exists, and the user name, if any, is that uid */
static int req_user(const struct spawn_req *rq, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwuid(rq->uid)) == NULL)
		return spawn_err(err, errlen, "uid %lu: %s",
		    (unsigned long)rq->uid, errno ? strerror(errno) :
		    "no such user");
	if (rq->user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(rq->user)) == NULL)
		return spawn_err(err, errlen, "user %s: %s", rq->user,
		    errno ? strerror(errno) : "no such user");
	if (pw->pw_uid != rq->uid)
		return spawn_err(err, errlen, "user %s is uid %lu, not %lu",
		    rq->user, (unsigned long)pw->pw_uid,
		    (unsigned long)rq->uid);
	return 0;
}

/* req_validate - who the worker may be, and where */
static int req_validate(const struct spawner *s, const struct spawn_req *rq,
    char *err, size_t errlen)
{
	if (rq->uid == 0)
		return spawn_err(err, errlen, "uid 0 refused: no worker runs "
		    "as root");
	if (s->root && rq->gid == 0)
		return spawn_err(err, errlen, "gid 0 refused: no worker runs "
		    "in group root");
	if (!s->root && (rq->uid != s->uid || rq->gid != s->gid))
		return spawn_err(err, errlen, "uid %lu gid %lu refused: not "
		    "started as root (privilege separation off), workers run "
		    "as uid %lu gid %lu only", (unsigned long)rq->uid,
		    (unsigned long)rq->gid, (unsigned long)s->uid,
		    (unsigned long)s->gid);
	if (rq->chroot_dir != NULL && rq->chroot_dir[0] != '/')
		return spawn_err(err, errlen, "chroot %s is not an absolute "
		    "path", rq->chroot_dir);
	/* A chrooting worker starts as root and confines itself: only the
	   remote worker, which does so before it reads any input, may. */
	if (rq->chroot_dir != NULL && strcmp(rq->worker, "remote") != 0)
		return spawn_err(err, errlen, "chroot refused for the %s "
		    "worker", rq->worker);
	if (rq->home != NULL && rq->home[0] != '/')
		return spawn_err(err, errlen, "home %s is not an absolute "
		    "path", rq->home);
	return req_user(rq, err, errlen);
}

/* req_groups - the supplementary groups: the user's (initgroups(3)
   semantics) or none. Read here, before fork and chroot. */
static int req_groups(const struct spawner *s, struct spawn_req *rq,
    char *err, size_t errlen)
{
	int n = 32, got, tries;

	if (!s->root || rq->user == NULL)
		return 0;
	for (tries = 0; tries < 3; tries++) {
		free(rq->groups);
		if ((rq->groups = calloc((size_t)n, sizeof(gid_t))) == NULL)
			return spawn_err(err, errlen, "out of memory");
		got = n;
		if (getgrouplist(rq->user, rq->gid, rq->groups, &got) >= 0) {
			rq->ngroups = got;
			return 0;
		}
		if (got <= n)
			break;
		n = got;
	}
	return spawn_err(err, errlen, "cannot list the groups of %s",
	    rq->user);
}

/* unsafe - a file or directory someone but root could change */
static int unsafe(const struct stat *st)
{
	return st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* req_program - open and check libexec_directory/postern-<worker> */
static int req_program(const struct spawner *s, struct spawn_req *rq,
    char *err, size_t errlen)
{
	struct stat st;
	int dfd, e;

	(void)snprintf(rq->name, sizeof(rq->name), "postern-%s", rq->worker);
	if ((size_t)snprintf(rq->program, sizeof(rq->program), "%s/%s",
	    s->libexec, rq->name) >= sizeof(rq->program))
		return spawn_err(err, errlen, "libexec_directory too long");
	if ((dfd = open(s->libexec, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return spawn_err(err, errlen, "libexec_directory %s: %s",
		    s->libexec, strerror(errno));
	if (s->root && (fstat(dfd, &st) < 0 || unsafe(&st))) {
		close(dfd);
		return spawn_err(err, errlen, "libexec_directory %s must "
		    "belong to root and not be writable by group or others",
		    s->libexec);
	}
	rq->progfd = openat(dfd, rq->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	e = errno;
	close(dfd);
	if (rq->progfd < 0)
		return spawn_err(err, errlen, "exec %s: %s", rq->program,
		    strerror(e));
	if (fstat(rq->progfd, &st) < 0 || !S_ISREG(st.st_mode))
		return spawn_err(err, errlen, "exec %s: not a regular file",
		    rq->program);
	if (s->root && unsafe(&st))
		return spawn_err(err, errlen, "exec %s: must belong to root "
		    "and not be writable by group or others", rq->program);
	return 0;
}

/* req_release - free what req_groups and req_program took */
static void req_release(struct spawn_req *rq)
{
	free(rq->groups);
	rq->groups = NULL;
	if (rq->progfd >= 0)
		close(rq->progfd);
	rq->progfd = -1;
}

/* ---- the spawner: children ---- */

/* kids_add - remember a worker for the log line of its end */
static void kids_add(struct spawner *s, pid_t pid, const char *worker)
{
	struct spawn_child *v;
	size_t cap;

	if (s->nkids == s->capkids) {
		cap = s->capkids ? s->capkids * 2 : 16;
		/* Without memory the worker still runs; its end is logged
		   without its name. */
		if ((v = realloc(s->kids, cap * sizeof(*v))) == NULL)
			return;
		s->kids = v;
		s->capkids = cap;
	}
	s->kids[s->nkids].pid = pid;
	s->kids[s->nkids++].worker = worker;
}

/* kids_take - forget a worker; its name, or "?" */
static const char *kids_take(struct spawner *s, pid_t pid)
{
	const char *worker;
	size_t i;

	for (i = 0; i < s->nkids; i++) {
		if (s->kids[i].pid != pid)
			continue;
		worker = s->kids[i].worker;
		s->kids[i] = s->kids[--s->nkids];
		return worker;
	}
	return "?";
}

/* spawner_reap - collect every child that ended; log the bad ends */
static void spawner_reap(struct spawner *s)
{
	struct signalfd_siginfo si;
	const char *worker;
	int status;
	pid_t pid;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		worker = kids_take(s, pid);
		if (WIFSIGNALED(status))
			log_warn("worker postern-%s pid %ld killed by signal %d",
			    worker, (long)pid, WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			log_warn("worker postern-%s pid %ld exited with status "
			    "%d", worker, (long)pid, WEXITSTATUS(status));
	}
}

/* child_error - what the child wrote on the error pipe before it ended
   (0 bytes: exec succeeded); closes fd */
static size_t child_error(int fd, char *err, size_t errlen)
{
	size_t got = 0;
	ssize_t n;

	while (got < errlen - 1) {
		n = read(fd, err + got, errlen - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	err[got] = '\0';
	close(fd);
	return got;
}

/* close_pair - close both ends of a pipe or socketpair */
static void close_pair(int p[2])
{
	close(p[0]);
	close(p[1]);
}

/* spawn_worker - fork and exec the worker; its socket in *sock_r */
static int spawn_worker(struct spawner *s, const struct spawn_req *rq,
    int *sock_r, pid_t *pid_r, char *err, size_t errlen)
{
	int sv[2], ep[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return spawn_err(err, errlen, "socketpair: %s", strerror(errno));
	if (pipe2(ep, O_CLOEXEC) < 0) {
		spawn_err(err, errlen, "pipe: %s", strerror(errno));
		close_pair(sv);
		return -1;
	}
	if ((pid = fork()) < 0) {
		spawn_err(err, errlen, "fork: %s", strerror(errno));
		close_pair(sv);
		close_pair(ep);
		return -1;
	}
	if (pid == 0)
		spawn_child_run(s, rq, sv[1], ep[1]);
	close(sv[1]);
	close(ep[1]);
	if (child_error(ep[0], err, errlen) > 0) {
		close(sv[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	kids_add(s, pid, rq->worker);
	*sock_r = sv[0];
	*pid_r = pid;
	return 0;
}

/* ---- the spawner: the loop ---- */

/* spawner_reply - answer the queue manager: error, or ok with the pid
   and fd attached */
static void spawner_reply(struct spawner *s, char *error, pid_t pid, int fd)
{
	struct strbuf out = STRBUF_INIT(SPAWN_FRAME_MAX);
	char *p;

	if (error != NULL) {
		/* One line of text: the protocol refuses control bytes. */
		error[strcspn(error, "\n")] = '\0';
		for (p = error; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		attr_put_str(&out, "error", error);
	} else {
		attr_put_str(&out, "ok", "1");
		attr_put_u64(&out, "pid", (uint64_t)pid);
	}
	if (!strbuf_ok(&out) || ipc_send(s->sock, &out, fd) < 0)
		log_error("cannot answer the queue manager: %s",
		    strbuf_ok(&out) ? strerror(errno) : "reply too long");
	strbuf_release(&out);
}

/* spawner_handle - one request: start the worker or say why not */
static void spawner_handle(struct spawner *s, const struct ipc_msg *m)
{
	struct spawn_req rq;
	char err[SPAWN_ERR_MAX + 1];
	int sock = -1;
	pid_t pid = -1;

	memset(&rq, 0, sizeof(rq));
	rq.progfd = -1;
	if (req_decode(m, &rq, err, sizeof(err)) < 0 ||
	    req_validate(s, &rq, err, sizeof(err)) < 0 ||
	    req_groups(s, &rq, err, sizeof(err)) < 0 ||
	    req_program(s, &rq, err, sizeof(err)) < 0 ||
	    spawn_worker(s, &rq, &sock, &pid, err, sizeof(err)) < 0) {
		req_release(&rq);
		spawner_reply(s, err, -1, -1);
		log_warn("refused a worker: %s", err);
		return;
	}
	req_release(&rq);
	spawner_reply(s, NULL, pid, sock);
	close(sock);
}

/* spawner_read - what the socket has: 1 go on, 0 the queue manager is
   gone, -1 it broke the protocol */
static int spawner_read(struct spawner *s, struct ipc_reader *r)
{
	char err[SPAWN_ERR_MAX + 1];
	struct ipc_msg m;
	const char *why;
	long n;
	int rc;

	n = ipc_reader_fill(r);
	if (n == 0)
		return 0;
	if (n < 0 && errno != EPROTO) {
		if (errno == EINTR || errno == EAGAIN)
			return 1;
		log_error("reading from the queue manager: %s",
		    strerror(errno));
		return -1;
	}
	while ((rc = ipc_reader_next(r, &m, &why)) == 1) {
		spawner_handle(s, &m);
		ipc_msg_release(&m);
	}
	if (rc == 0)
		return 1;
	log_error("protocol error from the queue manager: %s", why);
	spawn_err(err, sizeof(err), "protocol error: %s", why);
	spawner_reply(s, err, -1, -1);
	return -1;
}

/* spawner_loop - serve until the queue manager is gone; an exit code */
static int spawner_loop(struct spawner *s)
{
	struct ipc_reader r;
	struct pollfd p[2];
	int rc = 1;

	ipc_reader_init(&r, s->sock, SPAWN_FRAME_MAX);
	while (rc == 1) {
		p[0].fd = s->sock;
		p[1].fd = s->sigfd;
		p[0].events = p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (p[1].revents)
			spawner_reap(s);
		if (p[0].revents)
			rc = spawner_read(s, &r);
	}
	ipc_reader_release(&r);
	return rc == 0 ? 0 : EX_SOFTWARE;
}

/* spawner_fds - /dev/null on 0, 1 and 2, the socket, nothing else */
static int spawner_fds(struct spawner *s)
{
	int sock, null, fd;

	/* Out of 0-2 first: the queue manager may have closed its stdio. */
	if ((sock = fcntl(s->sock, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    (null = open("/dev/null", O_RDWR)) < 0)
		return -1;
	for (fd = 0; fd <= 2; fd++)
		if (fd != null && dup2(null, fd) < 0)
			return -1;
	s->sock = sock;
	return spawn_child_close_except(&sock, 1);
}

/* spawner_signals - SIGCHLD on a signalfd; SIGINT, SIGHUP (the queue
   manager's terminal or its reload) and SIGPIPE ignored; the rest at
   their defaults and unblocked, whatever the queue manager had set */
static int spawner_signals(struct spawner *s)
{
	sigset_t set;

	spawn_child_signals_default();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_SETMASK, &set, NULL) < 0)
		return -1;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return s->sigfd < 0 ? -1 : 0;
}

/* spawner_main - the spawner process: never returns */
static void __attribute__((noreturn))
spawner_main(struct spawner *s, const struct config *cfg)
{
	int rc;

	log_close();
	rc = spawner_fds(s);
	log_open("spawner", cfg, 0);
	if (rc < 0 || spawner_signals(s) < 0 || chdir("/") < 0) {
		log_error("cannot start: %s", strerror(errno));
		_exit(EX_OSERR);
	}
	(void)prctl(PR_SET_NAME, "postern-spawner");
	if (!s->root)
		log_info("not started as root: workers run as uid %lu only",
		    (unsigned long)s->uid);
	/* _exit: the handlers the queue manager registered are its own. */
	rc = spawner_loop(s);
	log_close();
	_exit(rc);
}

/* spawner_prepare - everything the spawner needs, copied from cfg */
static int spawner_prepare(struct spawner *s, const struct config *cfg,
    const char *config_dir)
{
	memset(s, 0, sizeof(*s));
	s->sock = s->sigfd = -1;
	s->root = geteuid() == 0;
	s->uid = geteuid();
	s->gid = getegid();
	/* Workers chdir before they read it: the path must be absolute. */
	if (realpath(config_dir, s->config_dir) == NULL) {
		log_error("spawner: configuration directory %s: %s",
		    config_dir, strerror(errno));
		return -1;
	}
	if (strlcpy(s->libexec, config_str(cfg, CK_libexec_directory),
	    sizeof(s->libexec)) >= sizeof(s->libexec)) {
		log_error("spawner: libexec_directory is too long");
		return -1;
	}
	return 0;
}

/* spawner_start - fork the spawner */
pid_t spawner_start(const struct config *cfg, const char *config_dir,
    int *fd_r)
{
	struct spawner s;
	int sv[2];
	pid_t pid;

	if (spawner_prepare(&s, cfg, config_dir) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("spawner: socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_error("spawner: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		s.sock = sv[1];
		spawner_main(&s, cfg);
	}
	close(sv[1]);
	*fd_r = sv[0];
	return pid;
}

/* ---- the queue manager's side ---- */

/* reply_read - one reply frame within SPAWN_REPLY_WAIT_US; 0 or -1 */
static int reply_read(int fd, struct ipc_msg *m, char *err, size_t errlen)
{
	int64_t left, end = timeutil_monotonic() + SPAWN_REPLY_WAIT_US;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ipc_reader r;
	const char *why = NULL;
	long n;
	int rc;

	ipc_reader_init(&r, fd, SPAWN_FRAME_MAX);
	while ((rc = ipc_reader_next(&r, m, &why)) == 0) {
		if ((left = end - timeutil_monotonic()) <= 0) {
			why = "no answer in time";
			break;
		}
		if ((n = poll(&p, 1, (int)(left / 1000) + 1)) <= 0) {
			if (n == 0 || errno == EINTR)
				continue;
			why = strerror(errno);
			break;
		}
		if ((n = ipc_reader_fill(&r)) == 0) {
			why = "the spawner is gone";
			break;
		}
		if (n < 0 && errno != EINTR && errno != EAGAIN &&
		    errno != EPROTO) {
			why = strerror(errno);
			break;
		}
	}
	ipc_reader_release(&r);
	if (rc == 1)
		return 0;
	return spawn_err(err, errlen, "spawner: %s", why);
}

/* reply_take - the reply's worker, or its error: 0, -1 (refused), -2
   (a reply that breaks the protocol) */
static int reply_take(struct ipc_msg *m, int *sock_r, pid_t *pid_r,
    char *err, size_t errlen)
{
	const struct attr *ok, *error, *pid;
	const char *why, *name = NULL;
	uint64_t v;

	if (attr_check(&m->attrs, spawn_reply_spec,
	    SPAWN_NSPEC(spawn_reply_spec), 0, &why, &name) < 0) {
		spawn_err(err, errlen, "spawner: bad reply: %s%s%s", why,
		    name ? ": " : "", name ? name : "");
		return -2;
	}
	ok = attr_find(&m->attrs, "ok");
	error = attr_find(&m->attrs, "error");
	pid = attr_find(&m->attrs, "pid");
	if (error != NULL && ok == NULL && pid == NULL && m->fd < 0)
		return spawn_err(err, errlen, "%s", error->value);
	if (error == NULL && ok != NULL && strcmp(ok->value, "1") == 0 &&
	    pid != NULL && attr_u64(pid, &v) == 0 && v > 0 && v <= INT_MAX &&
	    m->fd >= 0) {
		*sock_r = m->fd;
		m->fd = -1;
		*pid_r = (pid_t)v;
		return 0;
	}
	spawn_err(err, errlen, "spawner: bad reply");
	return -2;
}

/* spawner_request - ask for a worker and wait for it */
int spawner_request(int fd, const char *worker, uid_t uid, gid_t gid,
    const char *user, const char *chroot_dir, const char *home,
    int *sock_r, pid_t *pid_r, char *err, size_t errlen)
{
	struct strbuf req = STRBUF_INIT(SPAWN_FRAME_MAX);
	struct ipc_msg m;
	int rc;

	*sock_r = -1;
	*pid_r = -1;
	attr_put_str(&req, "v", SPAWN_VERSION);
	attr_put_str(&req, "worker", worker);
	attr_put_u64(&req, "uid", uid);
	attr_put_u64(&req, "gid", gid);
	if (user != NULL && *user != '\0')
		attr_put_str(&req, "user", user);
	if (chroot_dir != NULL && *chroot_dir != '\0')
		attr_put_str(&req, "chroot", chroot_dir);
	if (home != NULL && *home != '\0')
		attr_put_str(&req, "home", home);
	if (!strbuf_ok(&req)) {
		strbuf_release(&req);
		return spawn_err(err, errlen, "spawn request too long");
	}
	rc = ipc_send(fd, &req, -1);
	strbuf_release(&req);
	if (rc < 0) {
		spawn_err(err, errlen, "spawner: %s", strerror(errno));
		return -2;
	}
	if (reply_read(fd, &m, err, errlen) < 0)
		return -2;
	rc = reply_take(&m, sock_r, pid_r, err, errlen);
	ipc_msg_release(&m);
	return rc;
}
