/*
 * postern-qmgr - the queue manager: start-up.
 *
 * Parses arguments, loads the configuration, creates the layout, takes
 * the lock, forks the spawner (the one process that keeps root), gives up
 * root, opens the queue and runs the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "fsio.h"
#include "log.h"
#include "privs.h"
#include "qmgr.h"

struct ids {
	uid_t uid;
	gid_t gid, drop_gid;
	int root;
};

/* usage - the command line is wrong */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: postern-qmgr [-c DIR] [-f]\n");
	exit(EX_USAGE);
}

/* owner_ids - who owns the queue: mail_owner when root, else us */
static void owner_ids(const struct config *cfg, struct ids *ids)
{
	const char *why;

	ids->root = geteuid() == 0;
	if (!ids->root) {
		ids->uid = geteuid();
		ids->gid = ids->drop_gid = getegid();
		log_info("running as uid %ld, not root: privilege separation "
		    "is off", (long)ids->uid);
		return;
	}
	if (privs_user(config_str(cfg, CK_mail_owner), &ids->uid, &ids->gid,
	    &why) < 0)
		die_perm(EX_CONFIG, "mail_owner '%s': %s (see INSTALL)",
		    config_str(cfg, CK_mail_owner), why);
	if (privs_group(config_str(cfg, CK_drop_group), &ids->drop_gid,
	    &why) < 0)
		die_perm(EX_CONFIG, "drop_group '%s': %s (see INSTALL)",
		    config_str(cfg, CK_drop_group), why);
}

/* take_lock - one queue manager per queue */
static int take_lock(const char *path, const struct ids *ids)
{
	char buf[32] = "";
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		die_perm(EX_CANTCREAT, "cannot open lock %s: %s", path,
		    strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (pread(fd, buf, sizeof(buf) - 1, 0) < 0)
			buf[0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		die_perm(EX_TEMPFAIL, "another postern-qmgr (pid %s) is "
		    "already running on this queue", buf[0] ? buf : "?");
	}
	if (ids->root && fchown(fd, ids->uid, ids->gid) < 0)
		die_perm(EX_OSERR, "cannot chown %s: %s", path, strerror(errno));
	return fd;
}

/* write_pid - record our pid in the lock file */
static void write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("cannot write pid into the lock file: %s",
		    strerror(errno));
}

/* daemonize - leave the terminal and the parent's session */
static void daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		die_perm(EX_OSERR, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if ((pid = fork()) < 0)
		die_perm(EX_OSERR, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0 || (fd = open("/dev/null", O_RDWR)) < 0)
		die_perm(EX_OSERR, "cannot detach: %s", strerror(errno));
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* remote_ids - who the remote workers run as, and their empty chroot
   (created here, owned by root, mode 0555; an existing one must be a
   directory owned by root that nobody else can write) */
static void remote_ids(struct qmgr *q, const struct ids *ids)
{
	const char *dir = config_str(q->cfg, CK_remote_chroot), *why;
	struct stat st;

	q->root = ids->root;
	if (!ids->root) {
		q->remote_uid = ids->uid;
		q->remote_gid = ids->gid;
		return;
	}
	if (privs_user(config_str(q->cfg, CK_remote_user), &q->remote_uid,
	    &q->remote_gid, &why) < 0) {
		log_error("remote_user '%s': %s (see INSTALL); remote mail "
		    "stays deferred", config_str(q->cfg, CK_remote_user), why);
		q->remote_uid = 0;
	}
	if (mkdir(dir, 0555) == 0) {
		if (chmod(dir, 0555) < 0)	/* past the umask */
			die_perm(EX_CANTCREAT, "cannot chmod %s: %s", dir,
			    strerror(errno));
	} else if (errno != EEXIST) {
		die_perm(EX_CANTCREAT, "cannot create %s: %s", dir,
		    strerror(errno));
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022))
		die_perm(EX_CONFIG, "remote_chroot %s must be a directory owned "
		    "by root that only root can write", dir);
}

/* setup - everything before the queue is opened */
static void setup(struct qmgr *q)
{
	char err[512];
	const char *why;
	struct ids ids;

	if (config_load(&q->cfg, q->config_dir, err, sizeof(err)) < 0)
		die_perm(EX_CONFIG, "%s", err);
	log_open("qmgr", q->cfg, q->foreground);
	if (layout_paths(q->cfg, &q->layout) < 0)
		die_perm(EX_CONFIG, "queue_directory or run_directory too long");
	owner_ids(q->cfg, &ids);
	if (layout_create(&q->layout, ids.uid, ids.gid, ids.drop_gid, err,
	    sizeof(err)) < 0)
		die_perm(EX_CANTCREAT, "%s", err);
	remote_ids(q, &ids);
	q->lock_fd = take_lock(q->layout.lock, &ids);
	if (!q->foreground)
		daemonize();
	write_pid(q->lock_fd);
	/* The spawner is forked before anything else happens as root and
	   before the queue is opened: it keeps root and nothing else. */
	if ((q->spawn_pid = spawner_start(q->cfg, q->config_dir,
	    &q->spawn_fd)) < 0)
		die_perm(EX_OSERR, "cannot start the spawner");
	if (ids.root && privs_drop(ids.uid, ids.gid, &why) < 0)
		die_perm(EX_OSERR, "cannot drop privileges: %s", why);
}

int main(int argc, char **argv)
{
	struct qmgr q;
	const char *why;
	int c;

	memset(&q, 0, sizeof(q));
	fsio_init();
	log_open("qmgr", NULL, 1);
	while ((c = getopt(argc, argv, "c:f")) != -1) {
		if (c == 'c')
			q.config_dir = optarg;
		else if (c == 'f')
			q.foreground = 1;
		else
			usage();
	}
	if (optind != argc)
		usage();
	if ((q.config_dir = config_dir_choose(q.config_dir, 1, &why)) == NULL)
		die_perm(EX_USAGE, "%s", why);
	umask(077);
	setup(&q);
	if (qmgr_open_queue(&q) < 0)
		exit(EX_TEMPFAIL);
	return qmgr_loop(&q);
}
