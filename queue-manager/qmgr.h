/*
 * qmgr.h - the parts of postern-qmgr, the queue manager.
 *
 * postern-qmgr owns the queue. Started by root it creates the queue and
 * run directories, takes the one-instance lock, and drops to mail_owner
 * before it opens the queue; started by another user it runs as that
 * user (privilege separation off, for tests and development).
 *
 * Parts: start-up (qmgr_main.c), the spawner it forks before giving up
 * root (qmgr_spawner.c), the event loop (qmgr_loop.c), maildrop pickup
 * (qmgr_pickup.c, qmgr_import.c), the scheduler that reads the due index
 * and dispatches jobs (qmgr_sched.c), recipient resolution
 * (qmgr_resolve.c), local delivery jobs (qmgr_local.c), and recording
 * results with retries, log lines and message removal (qmgr_result.c).
 */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <stdint.h>
#include <sys/types.h>

#include "address.h"
#include "layout.h"

struct config;
struct queue;
struct queue_txn;

struct qmgr {
	const char *config_dir;
	struct config *cfg;
	struct layout layout;
	struct queue *queue;
	uint64_t map_size;		/* the map size the queue was opened with */
	int foreground;
	int lock_fd;
	int trigger_fd;
	int signal_fd;
	struct pickup *pickup;
	int spawn_fd;			/* the spawner's socket */
	pid_t spawn_pid;
	int root;			/* started as root: privilege separation */
	uid_t remote_uid;		/* remote_user; 0 when it does not exist */
	gid_t remote_gid;
	struct sched *sched;
	struct control *control;	/* the control socket */
	int stopping;			/* SIGTERM: dispatch nothing new */
};

/* qmgr_pickup.c */
struct pickup;
struct pickup *pickup_new(struct qmgr *q);
void pickup_free(struct pickup **p);
/* pickup_start - recover after a restart: forget imported files that are
   gone, unlink imported files that are still there */
int pickup_start(struct pickup *p);
/* pickup_run - import everything in the maildrop; 0, or -1 when the queue
   refused (full, I/O): the files stay for the next run. *retry_r is the
   monotonic time (µs) before which a new run is pointless, or 0. */
int pickup_run(struct pickup *p, int64_t *retry_r);

/* qmgr_import.c: one maildrop file into an open write transaction */
enum import_status {
	IMPORT_OK,		/* added; *r describes it */
	IMPORT_SEEN,		/* imported before (a crash before unlink) */
	IMPORT_GONE,		/* the file vanished meanwhile */
	IMPORT_BAD,		/* refused: r->why says why */
	IMPORT_TEMP,		/* the queue refused: stop, retry later */
};
struct import_result {
	uint64_t id;
	long uid;
	uint64_t size;
	size_t nrcpt;
	char sender[ADDRESS_BUF];
	const char *why;
};
enum import_status import_file(struct queue_txn *t, int dirfd,
    const char *name, struct import_result *r);

/* qmgr_sched.c: the due index, dispatch, in-flight bookkeeping */
struct pollfd;
struct sched;
struct sched *sched_new(struct qmgr *q);
void sched_free(struct sched **s);
/* sched_run - dispatch what is due now; the monotonic time (µs) of the
   next run in *next_r */
void sched_run(struct sched *s, int64_t *next_r);
/* sched_pollfds - the job sockets to watch (at most max); how many */
size_t sched_pollfds(struct sched *s, struct pollfd *pfd, size_t max);
/* sched_ready - handle job sockets that poll reported, and time-outs */
void sched_ready(struct sched *s, const struct pollfd *pfd, size_t n);
/* sched_workers - the worker processes and what they do, for status */
struct sched_workers {
	size_t local;			/* postern-local, one per job */
	size_t remote, remote_busy;	/* postern-remote, running and busy */
	size_t bounce;			/* postern-bounce running (0 or 1) */
	size_t notices;			/* notice jobs waiting or running */
};
void sched_workers(const struct sched *s, struct sched_workers *w);
/* sched_busy - jobs in flight */
size_t sched_busy(const struct sched *s);
/* sched_active - the ids of the messages with a job in flight, sorted,
   each once, in a new array (*v_r; free it, even when 0 is returned) */
size_t sched_active(const struct sched *s, uint64_t **v_r);
/* sched_kick - something changed (new mail, reload): run soon */
void sched_kick(struct sched *s);
int sched_kicked(const struct sched *s);
/* sched_reload - SIGHUP: reopen maps from the new configuration */
void sched_reload(struct sched *s);

/* qmgr_control.c: the control socket (control_proto.h) */
struct control;
/* control_open - listen on run_directory/control; never NULL unless out
   of memory (without a socket it just has nothing to poll) */
struct control *control_open(struct qmgr *q);
void control_close(struct control **ctl);
/* control_pollfds - the listening socket and the connections */
size_t control_pollfds(const struct control *ctl, struct pollfd *pfd,
    size_t max);
/* control_ready - accept, read requests, answer, close */
void control_ready(struct control *ctl, const struct pollfd *pfd, size_t n);

/* qmgr_loop.c */
int qmgr_loop(struct qmgr *q);
/* qmgr_open_queue - open (or reopen) the queue with the configured size */
int qmgr_open_queue(struct qmgr *q);

/* qmgr_spawner.c (protocol: spawn_proto.h) */
/* spawner_start - fork the spawner (call as root, or as the only user
   when privilege separation is off, BEFORE opening the queue and before
   dropping privileges, and after daemonizing: the spawner must be our
   own child); returns its pid, and the queue manager's socket to it
   (close-on-exec) in *fd_r; -1 on failure (logged). Closing that socket
   makes the spawner exit. */
pid_t spawner_start(const struct config *cfg, const char *config_dir,
    int *fd_r);
/* spawner_request - ask for a worker; 0 with *sock_r (the queue manager's
   end, close-on-exec, blocking) and *pid_r; -1 with a message in err when
   the spawner refused or the worker could not start (the spawner is
   fine); -2 with a message when the spawner is gone or broke the protocol
   (its socket is finished: close it, reap the spawner) */
int spawner_request(int fd, const char *worker, uid_t uid, gid_t gid,
    const char *user, const char *chroot_dir, const char *home,
    int *sock_r, pid_t *pid_r, char *err, size_t errlen);

#endif
