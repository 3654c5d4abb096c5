/*
 * fsio - the seam every durability call goes through.
 *
 * open, write, fsync, rename, link, unlink, mkdir and the LMDB commit are
 * called through these wrappers so that a test can make the Nth call of a
 * kind fail with a chosen errno and then check that the queue is still in
 * a documented state (SQLite's testing habit). In production the wrappers
 * are the plain calls plus EINTR and short-write handling.
 *
 * Faults are armed by fsio_fault_set() (unit tests) or, for whole-program
 * tests, by the environment variable POSTERN_FAULT=OP:N:ERRNO[,...]
 * (e.g. "fsync:2:EIO,write:5:ENOSPC"): the Nth call of OP, and every later
 * one when N is followed by '+', fails. Crash points are named places
 * where POSTERN_CRASH=NAME[:N] makes the process kill itself with SIGKILL
 * on the Nth pass. Both variables are ignored in a process running with
 * elevated privileges (AT_SECURE: the setgid injector run by a user), so
 * that a user cannot use them against postern.
 */
#ifndef POSTERN_FSIO_H
#define POSTERN_FSIO_H

#include <stddef.h>
#include <sys/types.h>

enum fsio_op {
	FSIO_OPEN, FSIO_WRITE, FSIO_FSYNC, FSIO_RENAME, FSIO_LINK,
	FSIO_UNLINK, FSIO_MKDIR, FSIO_COMMIT, FSIO_READ, FSIO_CLOSE,
	FSIO_NOPS
};

/* fsio_init - read POSTERN_FAULT and POSTERN_CRASH (once, at start) */
void fsio_init(void);
/* fsio_fault_set - fail the nth call of op (n counts from 1) with err;
   every later call too when sticky; n = 0 disarms */
void fsio_fault_set(enum fsio_op op, unsigned long n, int err, int sticky);
/* fsio_fault_clear - disarm all faults and reset the call counters */
void fsio_fault_clear(void);
/* fsio_fault_check - count a call of op; -1 with errno set when it must
   fail (used by code that wraps a call fsio does not, e.g. LMDB commit) */
int fsio_fault_check(enum fsio_op op);
/* fsio_crashpoint - SIGKILL this process if POSTERN_CRASH names this point */
void fsio_crashpoint(const char *name);

/* The wrappers: same arguments and results as the system calls, EINTR
   retried. fsio_write writes all n bytes or fails (-1, errno). */
int fsio_openat(int dirfd, const char *path, int flags, mode_t mode);
ssize_t fsio_read(int fd, void *buf, size_t n);
int fsio_write(int fd, const void *buf, size_t n);
int fsio_pwrite(int fd, const void *buf, size_t n, off_t off);
int fsio_fsync(int fd);
int fsio_renameat(int olddir, const char *old, int newdir, const char *new);
int fsio_linkat(int olddir, const char *old, int newdir, const char *new);
int fsio_unlinkat(int dirfd, const char *path, int flags);
int fsio_mkdirat(int dirfd, const char *path, mode_t mode);
/* fsio_close - close, reporting the error close(2) returns (NFS, quota) */
int fsio_close(int fd);
/* fsio_fsync_path - open a directory (or file) read-only and fsync it */
int fsio_fsync_path(int dirfd, const char *path);
/* fsio_stat_changed - now describes another file, or the same file
   rewritten, compared with then (device, inode, size, mtime, ctime) */
struct stat;
int fsio_stat_changed(const struct stat *then, const struct stat *now);
/* fsio_path_changed - path now differs from *seen (a missing file reads
   as all zeros); *seen is updated. For a file that failed to load: try
   again only once it was edited. */
int fsio_path_changed(const char *path, struct stat *seen);
/* fsio_read_full - read exactly n bytes (0), end of file first (1), or -1 */
int fsio_read_full(int fd, void *buf, size_t n);

#endif
