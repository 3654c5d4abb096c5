/*
 * qmgr_spawner_impl - the spawner's private parts, shared by
 * qmgr_spawner.c (the spawner process and the queue manager's side) and
 * qmgr_spawn_child.c (the child between fork and exec). Nothing outside
 * queue-manager/qmgr_spawn*.c includes this header; the queue manager
 * uses qmgr.h.
 */
#ifndef POSTERN_QMGR_SPAWNER_IMPL_H
#define POSTERN_QMGR_SPAWNER_IMPL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define SPAWN_ERR_MAX 1024		/* the reply's error (spawn_proto.h) */

/* A worker started and not yet reaped, for the log line of its end. */
struct spawn_child {
	pid_t pid;
	const char *worker;		/* one of spawn_workers */
};

/* The spawner process. What it needs from the configuration is copied
   here before it forks; it never looks at the configuration again. */
struct spawner {
	int sock;			/* to the queue manager */
	int sigfd;			/* SIGCHLD */
	int root;			/* started as root */
	uid_t uid;			/* our own ids */
	gid_t gid;
	char config_dir[PATH_MAX];	/* absolute */
	char libexec[PATH_MAX];
	struct spawn_child *kids;
	size_t nkids, capkids;
};

/* One request, decoded and checked. Strings point into the frame. */
struct spawn_req {
	const char *worker;		/* one of spawn_workers */
	uid_t uid;
	gid_t gid;
	const char *user, *chroot_dir, *home;	/* NULL when absent */
	gid_t *groups;			/* supplementary groups (root only) */
	int ngroups;
	int progfd;			/* the checked program, O_PATH */
	char name[32];			/* "postern-<worker>" */
	char program[PATH_MAX];		/* its path, for messages */
};

/* --- qmgr_spawn_child.c: between fork and exec --- */

int spawn_child_close_except(const int *keep, size_t n);
void spawn_child_signals_default(void);
void __attribute__((noreturn))
spawn_child_run(const struct spawner *s, const struct spawn_req *rq,
    int sock, int errfd);

#endif
