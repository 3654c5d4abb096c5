/*
 * qmgr_spawn_child - the spawner's child between fork and exec: it
 * moves the socket to 0 and 1, closes every other descriptor, resets
 * signals, starts a session, sets umask and the core limit, enters the
 * chroot, takes the worker's groups, gid and uid for good, changes to
 * its home and execs the checked program (qmgr_spawner.c has the order
 * and the reasons).
 *
 * Called only by the spawner process (qmgr_spawner.c): spawn_worker()
 * runs spawn_child_run() in the forked child; the spawner itself uses
 * spawn_child_close_except() and spawn_child_signals_default() when it
 * starts.
 *
 * SECURITY: this runs as root in a process that will become a worker.
 * It trusts the request, which the spawner decoded and checked before
 * fork, and nothing else. A failure is written on the close-on-exec
 * error pipe and ends the child with 127; it never falls through to a
 * worker with the wrong ids.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qmgr_spawner_impl.h"

/* ---- descriptors and signals ---- */

/* close_gap_proc - close_range for kernels without it */
static int close_gap_proc(unsigned from, unsigned to)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned long fd;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		fd = strtoul(e->d_name, NULL, 10);
		if (fd >= from && fd <= to && (int)fd != dirfd(d))
			(void)close((int)fd);
	}
	closedir(d);
	return 0;
}

/* close_gap - close every descriptor in [from, to] */
static int close_gap(unsigned from, unsigned to)
{
	if (from > to)
		return 0;
	if (close_range(from, to, 0) == 0)
		return 0;
	return errno == ENOSYS ? close_gap_proc(from, to) : -1;
}

/* spawn_child_close_except - close every descriptor from 3 up except the n in keep
   (ascending, each >= 3) */
int spawn_child_close_except(const int *keep, size_t n)
{
	unsigned from = 3;
	size_t i;

	for (i = 0; i < n; i++) {
		if (close_gap(from, (unsigned)keep[i] - 1) < 0)
			return -1;
		from = (unsigned)keep[i] + 1;
	}
	return close_gap(from, ~0U);
}

/* spawn_child_signals_default - every disposition back to its default */
void spawn_child_signals_default(void)
{
	struct sigaction sa;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	/* Numbers the C library reserves refuse; that is fine. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
}

/* ---- the worker, between fork and exec ---- */

/* child_fail - report why the child cannot become the worker, and end */
static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(int errfd, const char *fmt, ...)
{
	char line[SPAWN_ERR_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(errfd, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
	_exit(127);
}

/* child_fds - the socket on 0 and 1, /dev/null on 2, and nothing else
   but the error pipe and the program. The spawner keeps /dev/null on
   its own 0, 1 and 2, so the three descriptors given are all >= 3. */
static void child_fds(int sock, int errfd, int progfd)
{
	int keep[2], null;

	keep[0] = errfd < progfd ? errfd : progfd;
	keep[1] = errfd < progfd ? progfd : errfd;
	if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0)
		child_fail(errfd, "dup2: %s", strerror(errno));
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 ||
	    dup2(null, 2) < 0)
		child_fail(errfd, "/dev/null: %s", strerror(errno));
	if (spawn_child_close_except(keep, 2) < 0)
		child_fail(errfd, "close descriptors: %s", strerror(errno));
}

/* child_ids - groups, gid, uid, in that order, for good. A worker that
   chroots (the remote workers) keeps root to do it itself, after it has
   read what it needs: it only loses its supplementary groups here. */
static void child_ids(const struct spawn_req *rq, int errfd)
{
	if (rq->chroot_dir != NULL) {
		if (setgroups(0, NULL) < 0)
			child_fail(errfd, "setgroups: %s", strerror(errno));
		return;
	}
	if (setgroups((size_t)rq->ngroups, rq->groups) < 0)
		child_fail(errfd, "setgroups(%s): %s",
		    rq->user ? rq->user : "none", strerror(errno));
	if (setresgid(rq->gid, rq->gid, rq->gid) < 0)
		child_fail(errfd, "setgid(%lu): %s", (unsigned long)rq->gid,
		    strerror(errno));
	if (setresuid(rq->uid, rq->uid, rq->uid) < 0)
		child_fail(errfd, "setuid(%lu): %s", (unsigned long)rq->uid,
		    strerror(errno));
	if (setuid(0) == 0 || geteuid() != rq->uid || getegid() != rq->gid)
		child_fail(errfd, "setuid(%lu): root could be regained",
		    (unsigned long)rq->uid);
}

/* spawn_child_run - become the worker: never returns */
void __attribute__((noreturn))
spawn_child_run(const struct spawner *s, const struct spawn_req *rq, int sock,
    int errfd)
{
	static char path_env[] = "PATH=/usr/bin:/bin";
	static char opt_c[] = "-c";
	char conf_env[sizeof("POSTERN_CONFIG=") + PATH_MAX];
	static char opt_C[] = "-C", opt_U[] = "-U", opt_G[] = "-G";
	char uid_s[24], gid_s[24];
	char *argv[] = { (char *)rq->name, opt_c, (char *)s->config_dir,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	char *envp[] = { path_env, conf_env, NULL };
	const struct rlimit nocore = { 0, 0 };
	sigset_t none;

	(void)snprintf(conf_env, sizeof(conf_env), "POSTERN_CONFIG=%s",
	    s->config_dir);
	if (s->root && rq->chroot_dir != NULL) {
		(void)snprintf(uid_s, sizeof(uid_s), "%lu",
		    (unsigned long)rq->uid);
		(void)snprintf(gid_s, sizeof(gid_s), "%lu",
		    (unsigned long)rq->gid);
		argv[3] = opt_C;
		argv[4] = (char *)rq->chroot_dir;
		argv[5] = opt_U;
		argv[6] = uid_s;
		argv[7] = opt_G;
		argv[8] = gid_s;
	}
	child_fds(sock, errfd, rq->progfd);
	spawn_child_signals_default();
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || setsid() < 0)
		child_fail(errfd, "signals or session: %s", strerror(errno));
	umask(077);
	if (setrlimit(RLIMIT_CORE, &nocore) < 0)
		child_fail(errfd, "setrlimit(RLIMIT_CORE): %s", strerror(errno));
	if (s->root)
		child_ids(rq, errfd);
	/* A home that does not exist (default_privs is "nobody", whose home
	   is /nonexistent) is no reason to refuse the job: "/" it is, as
	   login(1) does. */
	if ((rq->home == NULL || chdir(rq->home) < 0) && chdir("/") < 0)
		child_fail(errfd, "chdir /: %s", strerror(errno));
	execveat(rq->progfd, "", argv, envp, AT_EMPTY_PATH);
	child_fail(errfd, "exec %s: %s", rq->program, strerror(errno));
}
