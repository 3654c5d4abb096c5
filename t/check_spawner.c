/*
 * check_spawner - unit tests for queue-manager/qmgr_spawner.c.
 *
 * Links the queue manager's own qmgr_spawner.o (GNUmakefile) and drives
 * spawner_start/spawner_request as the queue manager would, against a
 * throwaway libexec_directory and configuration under /tmp.
 *
 * The worker is this very binary, copied to libexec/postern-local: run
 * under a name starting with "postern-", main() writes a report of what
 * it was started with (ids, groups, argv, environment, descriptors,
 * umask, core limit, signals, directory, session) on descriptor 1, ending
 * with "end", then waits for end of file on descriptor 0 (a shell script
 * would report its shell's descriptors and variables, not the exec's).
 *
 * Cases that need root print "SKIP: needs root" and pass. Run as root,
 * the non-root cases drop to nobody inside their own (forked) test
 * process, so both modes are covered by one run as root.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "ipc.h"
#include "privs.h"
#include "../queue-manager/qmgr.h"
#include "spawn_proto.h"
#include "strbuf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define REPORT_MAX 65536
#define ERR_LEN 1100

static char base[PATH_MAX];	/* made by the runner, removed by it */
static char self_exe[PATH_MAX];
static char tdir[PATH_MAX];	/* this test's directory */
static char libexec[PATH_MAX + 16];
static char confdir[PATH_MAX + 16];
static char logpath[PATH_MAX + 16];
static struct config *cfg;
static pid_t spid = -1;		/* the spawner */
static int sfd = -1;		/* our socket to it */

/* xfmt - snprintf that must not truncate */
static void __attribute__((format(printf, 3, 4)))
xfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < len);
}

/* ---- the worker side: this binary as postern-<worker> ---- */

/* report_fds - "fd=N target" for each open descriptor */
static void report_fds(struct strbuf *out)
{
	char target[PATH_MAX];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	ssize_t n;

	/* No ck_* calls here: this runs outside the test runner. */
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		n = readlinkat(dirfd(d), e->d_name, target,
		    sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		strbuf_appendf(out, "fd=%s %s\n", e->d_name, target);
	}
	closedir(d);
}

/* report_status - the SigBlk and SigIgn lines of /proc/self/status.
   Signals 32 and 33 are glibc's own (thread cancellation, set*id): its
   sigaction refuses to change them, so whatever the test runner left
   there cannot be reset by the spawner and is masked out here. */
static void report_status(struct strbuf *out)
{
	unsigned long long mask;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "SigBlk:", 7) == 0 ||
		    strncmp(line, "SigIgn:", 7) == 0) {
			mask = strtoull(line + 8, NULL, 16) & ~0x180000000ULL;
			strbuf_appendf(out, "%.7s\t%016llx\n", line, mask);
		}
	fclose(f);
}

/* report_ids - real, effective and saved ids, and the groups */
static void report_ids(struct strbuf *out)
{
	gid_t groups[256];
	uid_t r, e, s;
	gid_t gr, ge, gs;
	int i, n;

	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	strbuf_appendf(out, "uid=%u %u %u\ngid=%u %u %u\ngroups=",
	    r, e, s, gr, ge, gs);
	n = getgroups(ARRAY_LEN(groups), groups);
	for (i = 0; i < n; i++)
		strbuf_appendf(out, "%s%u", i ? "," : "", groups[i]);
	strbuf_appendc(out, '\n');
}

/* worker_main - report, then wait for end of file; exit 3 when told */
static int worker_main(int argc, char **argv, char **envp)
{
	struct strbuf out = STRBUF_INIT(REPORT_MAX);
	char cwd[PATH_MAX], c = 0;
	struct rlimit rl;
	mode_t mask = umask(0);
	int i;

	strbuf_appendf(&out, "pid=%ld\n", (long)getpid());
	report_ids(&out);
	strbuf_appendf(&out, "argc=%d\n", argc);
	for (i = 0; i < argc; i++)
		strbuf_appendf(&out, "argv=%s\n", argv[i]);
	for (i = 0; envp[i] != NULL; i++)
		strbuf_appendf(&out, "env=%s\n", envp[i]);
	getrlimit(RLIMIT_CORE, &rl);
	strbuf_appendf(&out, "umask=%03o\ncore=%llu %llu\n", (unsigned)mask,
	    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	report_status(&out);
	strbuf_appendf(&out, "cwd=%s\nsid=%d\n",
	    getcwd(cwd, sizeof(cwd)) ? cwd : "?", getsid(0) == getpid());
	report_fds(&out);
	strbuf_appends(&out, "end\n");
	if (write(1, strbuf_str(&out), out.len) != (ssize_t)out.len)
		return 1;
	strbuf_release(&out);
	while (read(0, &c, 1) == 1 && c != 'x')
		;
	return c == 'x' ? 3 : 0;
}

/* ---- the test side: fixtures and helpers ---- */

/* rm_one - nftw callback removing one entry */
static int rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* base_setup - the runner's directory for every test's own one */
static void base_setup(void)
{
	ssize_t n;

	xfmt(base, sizeof(base), "/tmp/check_spawner.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	ck_assert_int_eq(chmod(base, 0755), 0);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	ck_assert_int_gt(n, 0);
	self_exe[n] = '\0';
}

/* base_teardown - remove everything the tests made */
static void base_teardown(void)
{
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* copy_file - from into to with mode */
static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	ck_assert_int_ge(in, 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	ck_assert_int_eq(fchmod(out, mode), 0);
	close(out);
}

/* write_conf - a postern.conf pointing into tdir */
static void write_conf(void)
{
	char path[PATH_MAX + 32];
	FILE *f;

	xfmt(path, sizeof(path), "%s/postern.conf", confdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "queue_directory = %s/queue\nrun_directory = %s/run\n"
	    "libexec_directory = %s\nlog_file = %s\n", tdir, tdir, libexec,
	    logpath);
	fclose(f);
}

/* setup - this test's directory, program and configuration */
static void setup(void)
{
	char err[512], path[PATH_MAX + 32];

	xfmt(tdir, sizeof(tdir), "%s/t.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	ck_assert_int_eq(chmod(tdir, 0755), 0);
	xfmt(libexec, sizeof(libexec), "%s/libexec", tdir);
	xfmt(confdir, sizeof(confdir), "%s/etc", tdir);
	xfmt(logpath, sizeof(logpath), "%s/postern.log", tdir);
	ck_assert_int_eq(mkdir(libexec, 0755), 0);
	ck_assert_int_eq(mkdir(confdir, 0755), 0);
	xfmt(path, sizeof(path), "%s/postern-local", libexec);
	copy_file(self_exe, path, 0755);
	write_conf();
	ck_assert_msg(config_load(&cfg, confdir, err, sizeof(err)) == 0,
	    "%s", err);
	spid = -1;
	sfd = -1;
}

/* proc_children - children of pid, and how many of them are zombies */
static int proc_children(pid_t pid, int *zombies)
{
	char path[64], buf[512], *p;
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0, ppid;
	char state;
	FILE *f;

	*zombies = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		xfmt(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == pid) {
			n++;
			*zombies += state == 'Z';
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* exited_within - pid (our child) ended within ms; its status */
static int exited_within(pid_t pid, int ms, int *status)
{
	struct timespec ts = { 0, 10 * 1000000 };
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* teardown - stop the spawner (end of file on its socket); one that
   does not stop is killed, and the case fails */
static void teardown(void)
{
	int status, gone = 1, i, z;

	/* Workers whose sockets were closed end on their own; let the
	   spawner reap them rather than leave them to init. */
	for (i = 0; spid > 0 && i < 200 && proc_children(spid, &z) > 0; i++)
		usleep(10000);
	if (sfd >= 0)
		close(sfd);
	if (spid > 0 && !(gone = exited_within(spid, 2000, &status))) {
		kill(spid, SIGKILL);
		waitpid(spid, NULL, 0);
	}
	config_free(&cfg);
	ck_assert_msg(gone, "the spawner did not exit at end of file");
}

/* start - the spawner */
static void start(void)
{
	spid = spawner_start(cfg, confdir, &sfd);
	ck_assert_int_gt(spid, 0);
	ck_assert_int_ge(sfd, 0);
}

/* needs_root - 1 (and say so) when this case cannot run */
static int needs_root(void)
{
	if (geteuid() == 0)
		return 0;
	printf("SKIP: needs root\n");
	return 1;
}

/* become_nobody - as root, give tdir to nobody and become nobody, so the
   spawner starts without root (privilege separation off) */
static void become_nobody(void)
{
	const char *why;

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(chown(tdir, 65534, 65534), 0);
	ck_assert_msg(privs_drop(65534, 65534, &why) == 0, "%s", why);
}

/* worker_ids - whom a worker may run as: nobody when root, else us */
static void worker_ids(uid_t *uid, gid_t *gid, const char **user)
{
	struct passwd *pw;

	*uid = geteuid();
	*gid = getegid();
	*user = NULL;
	if (*uid != 0)
		return;
	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	*user = "nobody";
}

/* spawn - a request that must succeed; the worker's socket */
static int spawn(const char *home, pid_t *pid_r)
{
	char err[ERR_LEN];
	const char *user;
	uid_t uid;
	gid_t gid;
	int sock, rc;

	worker_ids(&uid, &gid, &user);
	rc = spawner_request(sfd, "local", uid, gid, user, NULL, home, &sock,
	    pid_r, err, sizeof(err));
	ck_assert_msg(rc == 0, "spawn failed: %s", err);
	ck_assert_int_ge(sock, 0);
	ck_assert_int_gt(*pid_r, 0);
	return sock;
}

/* refused - a request that must be refused with want in the message */
static void refused(const char *worker, uid_t uid, gid_t gid,
    const char *user, const char *chroot_dir, const char *home,
    const char *want)
{
	char err[ERR_LEN] = "";
	int sock;
	pid_t pid;
	int rc = spawner_request(sfd, worker, uid, gid, user, chroot_dir,
	    home, &sock, &pid, err, sizeof(err));

	ck_assert_msg(rc == -1, "rc %d for '%s' (%s)", rc, want, err);
	ck_assert_int_eq(sock, -1);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' not in '%s'", want,
	    err);
}

/* read_report - the worker's report, through its "end" line */
static char *read_report(int sock)
{
	static char buf[REPORT_MAX];
	struct pollfd p = { .fd = sock, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(buf) - 1) {
		ck_assert_msg(poll(&p, 1, 10000) == 1, "no report");
		if ((n = read(sock, buf + got, sizeof(buf) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (got >= 4 && strcmp(buf + got - 4, "end\n") == 0)
			return buf;
	}
	buf[got] = '\0';
	ck_abort_msg("report cut short: %s", buf);
	return NULL;
}

/* has_line - the report holds exactly this line */
static int has_line(const char *rep, const char *line)
{
	size_t n = strlen(line);
	const char *p = rep;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == rep || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

/* count_lines - lines starting with prefix */
static int count_lines(const char *rep, const char *prefix)
{
	const char *p;
	int n = 0;

	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* assert_line - has_line with a readable failure */
static void assert_line(const char *rep, const char *line)
{
	ck_assert_msg(has_line(rep, line), "no line '%s' in:\n%s", line, rep);
}

/* ---- the cases ---- */

/* The worker's whole start: ids, argv, environment, descriptors. */
START_TEST(test_spawn_self)
{
	char line[PATH_MAX + 64], *rep;
	pid_t pid;
	int sock;

	become_nobody();
	start();
	sock = spawn(NULL, &pid);
	ck_assert(fcntl(sock, F_GETFD) & FD_CLOEXEC);
	rep = read_report(sock);
	xfmt(line, sizeof(line), "pid=%ld", (long)pid);
	assert_line(rep, line);
	xfmt(line, sizeof(line), "uid=%u %u %u", geteuid(), geteuid(),
	    geteuid());
	assert_line(rep, line);
	xfmt(line, sizeof(line), "gid=%u %u %u", getegid(), getegid(),
	    getegid());
	assert_line(rep, line);
	assert_line(rep, "argc=3");
	assert_line(rep, "argv=postern-local");
	assert_line(rep, "argv=-c");
	xfmt(line, sizeof(line), "argv=%s", confdir);
	assert_line(rep, line);
	ck_assert_int_eq(count_lines(rep, "env="), 2);
	assert_line(rep, "env=PATH=/usr/bin:/bin");
	xfmt(line, sizeof(line), "env=POSTERN_CONFIG=%s", confdir);
	assert_line(rep, line);
	assert_line(rep, "umask=077");
	assert_line(rep, "core=0 0");
	assert_line(rep, "SigBlk:\t0000000000000000");
	assert_line(rep, "SigIgn:\t0000000000000000");
	assert_line(rep, "cwd=/");
	assert_line(rep, "sid=1");
	close(sock);
}
END_TEST

/* Descriptors: 0 and 1 the same socket, 2 /dev/null, nothing else. */
START_TEST(test_worker_fds)
{
	char *rep, *p, sock0[64] = "", sock1[64] = "";
	pid_t pid;
	int sock;

	start();
	sock = spawn(NULL, &pid);
	rep = read_report(sock);
	ck_assert_int_eq(count_lines(rep, "fd="), 3);
	assert_line(rep, "fd=2 /dev/null");
	ck_assert_ptr_nonnull(p = strstr(rep, "\nfd=0 socket:["));
	sscanf(p, "\nfd=0 %63s", sock0);
	ck_assert_ptr_nonnull(p = strstr(rep, "\nfd=1 socket:["));
	sscanf(p, "\nfd=1 %63s", sock1);
	ck_assert_str_eq(sock0, sock1);
	close(sock);
}
END_TEST

/* home is where the worker starts. */
START_TEST(test_spawn_home)
{
	char line[PATH_MAX + 8];
	pid_t pid;
	int sock;

	start();
	sock = spawn(tdir, &pid);
	xfmt(line, sizeof(line), "cwd=%s", tdir);
	assert_line(read_report(sock), line);
	close(sock);
}
END_TEST

/* Root: nobody's ids, and exactly nobody's groups (or none). */
START_TEST(test_nobody_groups)
{
	char line[4096], *rep;
	gid_t groups[256];
	int n = ARRAY_LEN(groups), i, sock;
	size_t len;
	pid_t pid;

	if (needs_root())
		return;
	start();
	sock = spawn(NULL, &pid);
	rep = read_report(sock);
	assert_line(rep, "uid=65534 65534 65534");
	assert_line(rep, "gid=65534 65534 65534");
	ck_assert_int_ge(getgrouplist("nobody", 65534, groups, &n), 0);
	len = (size_t)snprintf(line, sizeof(line), "groups=");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		    "%s%u", i ? "," : "", groups[i]);
	assert_line(rep, line);
	close(sock);
	ck_assert_int_eq(spawner_request(sfd, "local", 65534, 65534, NULL,
	    NULL, NULL, &sock, &pid, line, sizeof(line)), 0);
	assert_line(read_report(sock), "groups=");
	close(sock);
}
END_TEST

/* unused_uid - a uid with no passwd entry */
static uid_t unused_uid(void)
{
	uid_t uid = 2000000000;

	while (getpwuid(uid) != NULL)
		uid++;
	return uid;
}

/* Refusals, one after another on one spawner, which keeps serving. */
START_TEST(test_refused)
{
	const char *user;
	uid_t uid;
	gid_t gid;
	pid_t pid;

	start();
	worker_ids(&uid, &gid, &user);
	refused("smtp", uid, gid, user, NULL, NULL, "unknown worker 'smtp'");
	refused("", uid, gid, user, NULL, NULL, "unknown worker ''");
	refused("../local", uid, gid, user, NULL, NULL, "unknown worker");
	refused("local", 0, gid, NULL, NULL, NULL, "uid 0 refused");
	refused("local", unused_uid(), gid, NULL, NULL, NULL,
	    geteuid() == 0 ? "no such user" : "privilege separation off");
	refused("local", (uid_t)-1, gid, NULL, NULL, NULL, "out of range");
	refused("local", uid, gid, "root", NULL, NULL, "user root is uid 0");
	refused("local", uid, gid, "no-such-user-here", NULL, NULL,
	    "user no-such-user-here: no such user");
	refused("local", uid, gid, user, NULL, "relative/home",
	    "home relative/home is not an absolute path");
	refused("local", uid, gid, user, "jail", NULL,
	    "chroot jail is not an absolute path");
	if (geteuid() == 0)
		refused("local", uid, 0, user, NULL, NULL, "gid 0 refused");
	close(spawn(NULL, &pid));
}
END_TEST

/* Privilege separation off: our own uid and gid only. */
START_TEST(test_other_uid_nonroot)
{
	char err[ERR_LEN];
	struct passwd *pw;
	uid_t other = 0;
	pid_t pid;
	int sock;

	become_nobody();
	start();
	setpwent();
	while ((pw = getpwent()) != NULL && other == 0)
		if (pw->pw_uid != 0 && pw->pw_uid != geteuid())
			other = pw->pw_uid;
	endpwent();
	ck_assert_uint_ne(other, 0);
	refused("local", other, getegid(), NULL, NULL, NULL,
	    "privilege separation off");
	refused("local", geteuid(), getegid() + 1, NULL, NULL, NULL,
	    "privilege separation off");
	ck_assert_int_eq(spawner_request(sfd, "local", geteuid(), getegid(),
	    NULL, NULL, NULL, &sock, &pid, err, sizeof(err)), 0);
	close(sock);
}
END_TEST

/* A missing program, and failures between fork and exec, each said; a
   missing home is not one. */
START_TEST(test_exec_errors)
{
	char path[PATH_MAX + 64], want[PATH_MAX + 64];
	const char *user;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int sock;

	start();
	worker_ids(&uid, &gid, &user);
	xfmt(want, sizeof(want), "exec %s/postern-remote: No such file "
	    "or directory", libexec);
	refused("remote", uid, gid, user, NULL, NULL, want);
	xfmt(path, sizeof(path), "%s/postern-bounce", libexec);
	copy_file(self_exe, path, 0644);
	xfmt(want, sizeof(want), "exec %s: Permission denied", path);
	refused("bounce", uid, gid, user, NULL, NULL, want);
	/* A home that does not exist: the worker starts in "/". */
	sock = spawn("/nonexistent-home", &pid);
	assert_line(read_report(sock), "cwd=/");
	close(sock);
}
END_TEST

/* Root: a program or directory others could change is refused. */
START_TEST(test_unsafe_program)
{
	char path[PATH_MAX + 64], target[PATH_MAX + 64];

	if (needs_root())
		return;
	start();
	xfmt(path, sizeof(path), "%s/postern-bounce", libexec);
	copy_file(self_exe, path, 0755);
	ck_assert_int_eq(chmod(path, 0777), 0);
	refused("bounce", 65534, 65534, NULL, NULL, NULL,
	    "must belong to root and not be writable");
	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert_int_eq(chown(path, 65534, 65534), 0);
	refused("bounce", 65534, 65534, NULL, NULL, NULL,
	    "must belong to root");
	xfmt(path, sizeof(path), "%s/postern-remote", libexec);
	xfmt(target, sizeof(target), "%s/postern-local", libexec);
	ck_assert_int_eq(symlink(target, path), 0);
	refused("remote", 65534, 65534, NULL, NULL, NULL,
	    "not a regular file");
	ck_assert_int_eq(chmod(libexec, 0777), 0);
	refused("local", 65534, 65534, NULL, NULL, NULL,
	    "libexec_directory");
	ck_assert_int_eq(chmod(libexec, 0755), 0);
}
END_TEST

/* Root: only the remote worker may have a chroot, and it gets it as
   arguments: it starts as root and confines itself. */
START_TEST(test_chroot)
{
	char jail[PATH_MAX + 16], path[PATH_MAX + 32], line[PATH_MAX + 64];
	char err[ERR_LEN] = "", *rep;
	pid_t pid;
	int sock, rc;

	if (needs_root())
		return;
	start();
	xfmt(jail, sizeof(jail), "%s/jail", tdir);
	ck_assert_int_eq(mkdir(jail, 0555), 0);
	/* Only the remote worker may chroot: it starts as root and
	   confines itself, which a local worker must never do. */
	refused("local", 65534, 65534, NULL, jail, NULL,
	    "chroot refused for the local worker");
	refused("remote", 65534, 65534, NULL, "jail", NULL,
	    "is not an absolute path");
	xfmt(path, sizeof(path), "%s/postern-remote", libexec);
	copy_file(self_exe, path, 0755);
	rc = spawner_request(sfd, "remote", 65534, 65534, NULL, jail, NULL,
	    &sock, &pid, err, sizeof(err));
	ck_assert_msg(rc == 0, "spawn failed: %s", err);
	rep = read_report(sock);
	assert_line(rep, "uid=0 0 0");
	assert_line(rep, "groups=");
	assert_line(rep, "argc=9");
	assert_line(rep, "argv=postern-remote");
	assert_line(rep, "argv=-C");
	xfmt(line, sizeof(line), "argv=%s", jail);
	assert_line(rep, line);
	assert_line(rep, "argv=-U");
	assert_line(rep, "argv=-G");
	ck_assert_int_eq(count_lines(rep, "argv=65534"), 2);
	close(sock);
}
END_TEST

/* raw_request - attributes "name=value|name=value" sent as one frame,
   with fd attached when >= 0; the reply's error (static) */
static const char *raw_request(const char *attrs, int fd)
{
	static char error[ERR_LEN];
	struct strbuf out = STRBUF_INIT(SPAWN_FRAME_MAX);
	struct ipc_reader r;
	struct ipc_msg m;
	const struct attr *a;
	const char *why, *p = attrs;
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, "|");
		strbuf_appendf(&out, "%zu:%.*s,", n, (int)n, p);
		p += n + (p[n] == '|');
	}
	ck_assert(strbuf_ok(&out));
	ck_assert_int_eq(ipc_send(sfd, &out, fd), 0);
	strbuf_release(&out);
	ipc_reader_init(&r, sfd, SPAWN_FRAME_MAX);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_ptr_null(attr_find(&m.attrs, "ok"));
	ck_assert_ptr_nonnull(a = attr_find(&m.attrs, "error"));
	xfmt(error, sizeof(error), "%s", a->value);
	ipc_msg_release(&m);
	ipc_reader_release(&r);
	return error;
}

#define GOOD "v=1|worker=local|"
static const struct {
	const char *attrs;
	const char *want;
} bad_requests[] = {
	{ GOOD "uid=4242|gid=4242|foo=1", "unknown attribute: foo" },
	{ GOOD "gid=4242", "required attribute missing: uid" },
	{ "worker=local|uid=4242|gid=4242", "required attribute missing: v" },
	{ GOOD "uid=abc|gid=4242", "not a number: uid" },
	{ GOOD "uid=-1|gid=4242", "not a number: uid" },
	{ GOOD "uid=01|gid=4242", "not a number: uid" },
	{ GOOD "uid= 1|gid=4242", "not a number: uid" },
	{ GOOD "uid=4242|gid=", "not a number: gid" },
	{ GOOD "uid=4294967296000|gid=4242", "too long: uid" },
	{ GOOD "uid=4294967295|gid=4242", "out of range" },
	{ GOOD "uid=4242|gid=4242|gid=4242", "repeated: gid" },
	{ GOOD "uid=4242|gid=4242|home=/a\nb", "control characters: home" },
	{ GOOD "uid=4242|gid=4242|user=a\tb\x01", "control characters" },
	{ "v=2|worker=local|uid=4242|gid=4242", "version" },
	{ "v=1|worker=LOCAL|uid=4242|gid=4242", "unknown worker" },
	{ "", "required attribute missing" },
};

/* Malformed requests get an error reply; the spawner keeps serving;
   a frame that is no record at all ends it. */
START_TEST(test_malformed)
{
	const char *err;
	int status, p[2];
	size_t i;
	pid_t pid;

	start();
	for (i = 0; i < ARRAY_LEN(bad_requests); i++) {
		err = raw_request(bad_requests[i].attrs, -1);
		ck_assert_msg(strstr(err, bad_requests[i].want) != NULL,
		    "case %zu: '%s' not in '%s'", i, bad_requests[i].want, err);
	}
	ck_assert_int_eq(pipe(p), 0);
	err = raw_request(GOOD "uid=4242|gid=4242", p[0]);
	ck_assert_msg(strstr(err, "descriptor") != NULL, "%s", err);
	close(p[0]);
	close(p[1]);
	close(spawn(NULL, &pid));
	err = raw_request("garbage", -1);
	ck_assert_msg(strstr(err, "protocol error") != NULL, "%s", err);
	ck_assert(exited_within(spid, 2000, &status));
	spid = -1;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}
END_TEST

/* The queue manager's end closed: the spawner exits at once. */
START_TEST(test_eof_exit)
{
	int status;

	start();
	close(sfd);
	sfd = -1;
	ck_assert(exited_within(spid, 1000, &status));
	spid = -1;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* After the spawner died, spawner_request says so (-2). */
START_TEST(test_request_after_exit)
{
	char err[ERR_LEN] = "";
	int status, sock;
	pid_t pid;

	start();
	kill(spid, SIGKILL);
	ck_assert(exited_within(spid, 1000, &status));
	spid = -1;
	ck_assert_int_eq(spawner_request(sfd, "local", 4242, 4242, NULL, NULL,
	    NULL, &sock, &pid, err, sizeof(err)), -2);
	ck_assert_msg(strstr(err, "spawner") != NULL, "%s", err);
}
END_TEST

/* 50 workers in a row leave no zombies behind. */
START_TEST(test_no_zombies)
{
	int i, n = -1, zombies = -1;
	pid_t pid;

	start();
	for (i = 0; i < 50; i++)
		close(spawn(NULL, &pid));
	for (i = 0; i < 300; i++) {
		n = proc_children(spid, &zombies);
		if (n == 0)
			break;
		usleep(10000);
	}
	ck_assert_int_eq(zombies, 0);
	ck_assert_int_eq(n, 0);
}
END_TEST

/* log_has - the log file holds text within 3 s */
static int log_has(const char *text)
{
	char buf[65536];
	int i, fd;
	ssize_t n;

	for (i = 0; i < 300; i++, usleep(10000)) {
		if ((fd = open(logpath, O_RDONLY)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, text) != NULL)
			return 1;
	}
	return 0;
}

/* A worker killed, or one that fails, is logged by the spawner. */
START_TEST(test_bad_ends_logged)
{
	char want[128];
	pid_t pid;
	int sock;

	start();
	sock = spawn(NULL, &pid);
	read_report(sock);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	xfmt(want, sizeof(want), "spawner[%ld]: warning: worker "
	    "postern-local pid %ld killed by signal 9", (long)spid, (long)pid);
	ck_assert_msg(log_has(want), "no '%s' in the log", want);
	close(sock);
	sock = spawn(NULL, &pid);
	read_report(sock);
	ck_assert_int_eq(write(sock, "x", 1), 1);
	xfmt(want, sizeof(want), "worker postern-local pid %ld exited "
	    "with status 3", (long)pid);
	ck_assert_msg(log_has(want), "no '%s' in the log", want);
	close(sock);
}
END_TEST

/* The spawner holds none of its parent's descriptors, is called
   postern-spawner, and ignores SIGHUP and SIGINT. */
START_TEST(test_spawner_process)
{
	char path[64], target[256], comm[64] = "";
	struct dirent *e;
	int p[2], pipes = 0, status;
	ssize_t n;
	FILE *f;
	DIR *d;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);	/* not close-on-exec */
	start();
	close(spawn(NULL, &pid));	/* it is up and serving */
	xfmt(path, sizeof(path), "/proc/%ld/fd", (long)spid);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((e = readdir(d)) != NULL) {
		xfmt(path, sizeof(path), "/proc/%ld/fd/%s", (long)spid,
		    e->d_name);
		if (e->d_name[0] == '.' ||
		    (n = readlink(path, target, sizeof(target) - 1)) < 0)
			continue;
		target[n] = '\0';
		pipes += strncmp(target, "pipe:", 5) == 0;
		if (atoi(e->d_name) <= 2)
			ck_assert_str_eq(target, "/dev/null");
	}
	closedir(d);
	ck_assert_int_eq(pipes, 0);
	xfmt(path, sizeof(path), "/proc/%ld/comm", (long)spid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(comm, sizeof(comm), f));
	fclose(f);
	ck_assert_str_eq(comm, "postern-spawner\n");
	kill(spid, SIGHUP);
	kill(spid, SIGINT);
	ck_assert(!exited_within(spid, 100, &status));
	close(spawn(NULL, &pid));
	close(p[0]);
	close(p[1]);
}
END_TEST

/* spawner_suite - the cases */
static Suite *spawner_suite(void)
{
	Suite *s = suite_create("spawner");
	TCase *tc = tcase_create("spawner");

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_spawn_self);
	tcase_add_test(tc, test_worker_fds);
	tcase_add_test(tc, test_spawn_home);
	tcase_add_test(tc, test_nobody_groups);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_other_uid_nonroot);
	tcase_add_test(tc, test_exec_errors);
	tcase_add_test(tc, test_unsafe_program);
	tcase_add_test(tc, test_chroot);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_eof_exit);
	tcase_add_test(tc, test_request_after_exit);
	tcase_add_test(tc, test_no_zombies);
	tcase_add_test(tc, test_bad_ends_logged);
	tcase_add_test(tc, test_spawner_process);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv, char **envp)
{
	const char *name = strrchr(argv[0], '/');
	SRunner *sr;
	int failed;

	name = name ? name + 1 : argv[0];
	if (strncmp(name, "postern-", 8) == 0)
		return worker_main(argc, argv, envp);
	sr = srunner_create(spawner_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
