/*
 * local_lock - exclusive access to an mbox file, as mail readers expect:
 * a dot-lock (FILE.lock, created with O_EXCL) and an fcntl write lock on
 * the open file, taken in that order (Postfix, Dovecot and mutt agree on
 * it, so no two of them deadlock).
 *
 * Called by local_mbox.c. Both locks share one deadline of
 * LOCAL_LOCK_TIMEOUT seconds, after which the delivery defers (4.2.0). A
 * dot-lock older than LOCAL_DOTLOCK_STALE (by its mtime) was left by a
 * killed process and is removed. When the mailbox's directory does not let
 * the user create the dot-lock (a spool directory without group mail),
 * delivery goes on with the fcntl lock alone, as Postfix does.
 *
 * Trust: the lock files live in directories other users may write into;
 * they are created with O_EXCL | O_NOFOLLOW and only inspected, never
 * opened, when they exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsio.h"
#include "local.h"
#include "log.h"
#include "timeutil.h"

#define LOCK_NAP_US 100000	/* between two attempts */

/* lock_nap - wait a little before the next attempt */
static void lock_nap(void)
{
	struct timespec ts = { 0, LOCK_NAP_US * 1000L };

	nanosleep(&ts, NULL);
}

/* lock_expired - the deadline has passed */
static int lock_expired(const struct local_lock *lk)
{
	return timeutil_monotonic() >= lk->deadline;
}

/* dot_stale - the existing dot-lock name was removed because it is old
   (or is gone already): try again at once */
static int dot_stale(int dir, const char *name, const char *path)
{
	struct stat sb;
	time_t age;

	if (fstatat(dir, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT;
	age = time(NULL) - sb.st_mtime;
	if (age <= LOCAL_DOTLOCK_STALE)
		return 0;
	if (fsio_unlinkat(dir, name, 0) < 0 && errno != ENOENT) {
		log_warn("cannot remove the stale lock %s.lock: %s", path,
		    strerror(errno));
		return 0;
	}
	log_warn("removed the stale lock %s.lock (%ld seconds old)", path,
	    (long)age);
	return 1;
}

/* local_lock_dot - take FILE.lock; starts the locking deadline */
int local_lock_dot(struct local_lock *lk, int dir, const char *base,
    const char *path, struct local_status *st)
{
	char name[NAME_MAX + 1];
	int fd;

	lk->dir = dir;
	lk->dotname[0] = '\0';
	lk->fd = -1;
	lk->deadline = timeutil_monotonic() +
	    (int64_t)LOCAL_LOCK_TIMEOUT * 1000000;
	if (snprintf(name, sizeof(name), "%s.lock", base) >= (int)sizeof(name))
		return 0;
	for (;;) {
		fd = fsio_openat(dir, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			memcpy(lk->dotname, name, strlen(name) + 1);
			return 0;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 0;	/* the directory is not ours to lock */
		if (errno != EEXIST) {
			log_warn("cannot create %s.lock: %s; going on with the "
			    "fcntl lock only", path, strerror(errno));
			return 0;
		}
		if (dot_stale(dir, name, path))
			continue;
		if (lock_expired(lk))
			break;
		lock_nap();
	}
	log_warn("mailbox %s: %s.lock is held for longer than %d seconds",
	    path, path, LOCAL_LOCK_TIMEOUT);
	local_status_set(st, LOCAL_DEFER, "4.2.0",
	    "mailbox %s is locked by another process (%s.lock)", path, path);
	return -1;
}

/* local_lock_fcntl - a whole-file write lock on fd */
int local_lock_fcntl(struct local_lock *lk, int fd, const char *path,
    struct local_status *st)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	for (;;) {
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			lk->fd = fd;
			return 0;
		}
		if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
			local_status_errno(st, errno, "cannot lock mailbox %s",
			    path);
			return -1;
		}
		if (lock_expired(lk))
			break;
		lock_nap();
	}
	log_warn("mailbox %s is locked (fcntl) for longer than %d seconds",
	    path, LOCAL_LOCK_TIMEOUT);
	local_status_set(st, LOCAL_DEFER, "4.2.0",
	    "mailbox %s is locked by another process", path);
	return -1;
}

/* local_lock_release - drop the fcntl lock, then the dot-lock */
void local_lock_release(struct local_lock *lk)
{
	struct flock fl;

	if (lk->fd >= 0) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_UNLCK;
		fl.l_whence = SEEK_SET;
		fcntl(lk->fd, F_SETLK, &fl);
		lk->fd = -1;
	}
	if (lk->dotname[0] != '\0') {
		if (fsio_unlinkat(lk->dir, lk->dotname, 0) < 0)
			log_warn("cannot remove the lock %s: %s", lk->dotname,
			    strerror(errno));
		lk->dotname[0] = '\0';
	}
}
