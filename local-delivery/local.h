/*
 * local.h - the parts of postern-local, the local delivery worker.
 *
 * postern-local is started by the spawner (spawn_proto.h) as the user
 * whose mailbox, file or program receives the message, reads ONE job
 * frame (local_proto.h) from descriptor 0, delivers each recipient and
 * answers with ONE result frame on descriptor 1 (the same socket), then
 * exits 0. A malformed job gets no answer and exit EX_PROTOCOL: the queue
 * manager then defers the whole job.
 *
 *   local_main.c     arguments, configuration, logging
 *   local_job.c      decoding and checking the job, the result frame
 *   local_deliver.c  one recipient: loop check, action, .forward merging
 *   local_status.c   outcomes: verdict, enhanced status code, one line
 *   local_content.c  the copy of the message each delivery writes
 *   local_path.c     opening directories without following symlinks
 *   local_maildir.c  Maildir delivery (tmp, fsync, link into new)
 *   local_mbox.c     mbox delivery (append, fsync, truncate back)
 *   local_lock.c     mbox locking: dot-lock and fcntl
 *   local_forward.c  ~/.forward: reading, parsing, running its entries
 *   local_pipe.c     |command deliveries
 *
 * Trust: the job comes from the queue manager, which is trusted more than
 * anything of the user's, but is still checked strictly. The user's files
 * (~/.forward, the Maildir, the mbox, the home directory) are hostile:
 * they are opened without following symlinks where the user could plant
 * one, checked for type and owner after opening, and never parsed past a
 * bound.
 *
 * |command deliveries are killed after command_time_limit (postern.conf).
 */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"

struct config;

#define LOCAL_TEXT_MAX 1000		/* result text (protocol: 1024) */
#define LOCAL_FWD_MAX 1000		/* forwarding addresses per job */
#define LOCAL_FORWARD_SIZE_MAX 65536	/* largest ~/.forward read */
#define LOCAL_FORWARD_ENTRIES 1000	/* most entries in one ~/.forward */
#define LOCAL_COMMAND_TIME_LIMIT 600	/* seconds for a |command */
#define LOCAL_OUTPUT_MAX 512		/* command output kept for the text */
#define LOCAL_LOCK_TIMEOUT 30		/* seconds to wait for mbox locks */
#define LOCAL_DOTLOCK_STALE 300		/* a dot-lock older than this is
					   left over and removed */
#define LOCAL_CHUNK 65536		/* bytes read from the memfd at once */
#define LOCAL_DT_MAX 256		/* Delivered-To headers remembered */

/* Outcomes, in order of severity: merging keeps the worst. */
enum local_verdict { LOCAL_OK, LOCAL_DEFER, LOCAL_FAIL };

struct local_status {
	enum local_verdict verdict;
	char code[8];			/* enhanced status, "4.2.2" */
	char text[LOCAL_TEXT_MAX + 1];	/* one line, no control characters */
};

/* One recipient of the job, and what became of it. */
struct local_rcpt {
	const char *index;		/* "rcpt" as received */
	const char *addr, *orig, *action, *target, *ext;
	int noforward;
	struct local_status st;
	int forwarded;			/* result "forward" */
	struct strbuf fwd;		/* addresses, each NUL-terminated */
	size_t nfwd;
};

/* The user this worker runs as (getpwuid(getuid())). */
struct local_user {
	uid_t uid;
	gid_t gid;
	char name[256];
	char home[PATH_MAX];
	char shell[PATH_MAX];
};

struct local_job {
	const struct config *cfg;
	const char *id, *sender, *user;
	uint64_t arrival;
	int fd;				/* the sealed memfd */
	off_t size;
	struct local_user pw;
	int pw_ok;			/* pw is set and matches "user" */
	struct local_rcpt *rcpts;
	size_t nrcpts;
	struct strbuf dt;		/* Delivered-To values found in the
					   message, each NUL-terminated */
	char host[256];			/* host part of Maildir names */
	unsigned long counter;		/* Maildir name counter */
	size_t nfwd;			/* forwarding addresses so far */
	int command_limit;		/* seconds */
};

/* local_job.c */
/* local_job_run - read, check and deliver one job from fd in, answer on
   fd out; returns the process exit code */
int local_job_run(const struct config *cfg, int in, int out);

/* local_deliver.c */
/* local_deliver - deliver one recipient; fills r->st (and r->fwd) */
void local_deliver(struct local_job *job, struct local_rcpt *r);
/* local_deliver_own - the user's own mailbox (home_mailbox or the mail
   spool), without ~/.forward */
void local_deliver_own(struct local_job *job, const struct local_rcpt *r,
    struct local_status *st);
/* local_deliver_path - a file (mbox) or, ending in '/', a Maildir (with
   its folder .ext when ext is not NULL), given by absolute path */
void local_deliver_path(struct local_job *job, const struct local_rcpt *r,
    const char *path, const char *ext, struct local_status *st);

/* local_status.c */
/* local_status_set - fill st (text printf-formatted, made one line) */
void local_status_set(struct local_status *st, enum local_verdict v,
    const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* local_status_errno - a deferral for a failed system call: ENOSPC 4.3.1,
   EDQUOT and EFBIG 4.2.2, symlinks and permissions 4.2.0, else 4.3.0;
   the text is "what: strerror" */
void local_status_errno(struct local_status *st, int err, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* local_status_merge - keep the worse of acc and one; two successes
   join their texts */
void local_status_merge(struct local_status *acc,
    const struct local_status *one);
/* local_status_name - "ok", "defer" or "fail" */
const char *local_status_name(enum local_verdict v);

/* local_content.c */
/* local_content_scan - remember the message's Delivered-To headers;
   0, or -1 with errno (the memfd could not be read) */
int local_content_scan(struct local_job *job);
/* local_content_loops - addr is among the message's Delivered-To */
int local_content_loops(const struct local_job *job, const char *addr);

/* A copy of the message as one delivery writes it: Return-Path and
   Delivered-To, then the content; for an mbox, the From_ line first,
   ">From " quoting (mboxrd) and an empty line at the end. */
struct local_copy {
	const struct local_job *job;
	const char *addr;
	int mbox;
	int stage;			/* prefix, content, trailer, done */
	off_t off;			/* next content byte to read */
	int bol;			/* that byte starts a line */
	int last_nl;			/* the content so far ends in LF */
	struct strbuf out;		/* the chunk handed out */
	char *raw;			/* LOCAL_CHUNK bytes read */
};
/* local_copy_init - start a copy; 0 or -1 (memory) */
int local_copy_init(struct local_copy *c, const struct local_job *job,
    const char *addr, int mbox);
/* local_copy_next - the next chunk: 1 (*p, *n set), 0 at the end, -1
   with errno (reading the memfd failed) */
int local_copy_next(struct local_copy *c, const char **p, size_t *n);
/* local_copy_release - free the buffers */
void local_copy_release(struct local_copy *c);
/* local_copy_to_fd - write a whole copy to fd with fsio_write; 0 or -1
   with errno */
int local_copy_to_fd(const struct local_job *job, const char *addr,
    int mbox, int fd);

/* local_path.c */
/* local_path_dir - open directory path, following symlinks only within
   its first trusted bytes (the part the administrator controls); later
   components are opened with O_NOFOLLOW and, when create is set and they
   are missing, created with mode 0700. fd, or -1 with errno. */
int local_path_dir(const char *path, size_t trusted, int create);
/* local_path_split - the directory part of path (in dir) and a pointer
   to its last component; -1 if path is too long or has no '/' */
int local_path_split(const char *path, char *dir, size_t dirlen,
    const char **base_r);
/* local_path_owned - fd is owned by the user; otherwise log for the
   administrator, defer 4.2.0 and return -1 */
int local_path_owned(int fd, const char *path, struct local_status *st);
/* local_path_open_error - a deferral explaining why path did not open */
void local_path_open_error(struct local_status *st, int err,
    const char *what, const char *path);

/* local_maildir.c */
/* local_maildir_deliver - deliver into the Maildir at path (or its
   Maildir++ folder .ext when that exists) */
void local_maildir_deliver(struct local_job *job, const char *path,
    size_t trusted, const char *addr, const char *ext,
    struct local_status *st);

/* local_mbox.c */
/* local_mbox_deliver - append to the mbox file at path */
void local_mbox_deliver(struct local_job *job, const char *path,
    size_t trusted, const char *addr, struct local_status *st);

/* local_lock.c */
struct local_lock {
	int dir;			/* directory of the mbox (borrowed) */
	char dotname[NAME_MAX + 1];	/* "" when no dot-lock is held */
	int fd;				/* fcntl-locked descriptor, or -1 */
	int64_t deadline;		/* monotonic microseconds */
};
/* local_lock_dot - take FILE.lock in dir (stale ones removed); when the
   directory does not let us create it, go on without. 0, or -1 with st */
int local_lock_dot(struct local_lock *lk, int dir, const char *base,
    const char *path, struct local_status *st);
/* local_lock_fcntl - take a write lock on fd within the deadline */
int local_lock_fcntl(struct local_lock *lk, int fd, const char *path,
    struct local_status *st);
/* local_lock_release - drop both locks */
void local_lock_release(struct local_lock *lk);

/* local_forward.c */
/* local_forward - deliver through ~/.forward: 1 when it was used (st
   set, addresses in r->fwd), 0 when there is none or it is empty */
int local_forward(struct local_job *job, struct local_rcpt *r,
    struct local_status *st);

/* local_pipe.c */
/* local_pipe_run - run cmd with /bin/sh -c as this user, the message on
   its standard input */
void local_pipe_run(struct local_job *job, const struct local_rcpt *r,
    const char *cmd, struct local_status *st);

#endif
