/*
 * local_mbox - delivery into an mbox file (the mail spool, a home_mailbox
 * file, an alias or .forward /file target).
 *
 * Called by local_deliver.c. Steps: open the directory (local_path.c),
 * take the dot-lock, open the file with O_APPEND | O_CREAT | O_NOFOLLOW
 * (mode 0600; O_RDWR rather than O_WRONLY, to read its last bytes) and
 * check it (a regular file, one link, owned by the user,
 * not world-writable), take the fcntl lock, note the size, make sure the
 * file ends with an empty line (a message cut short by a crash must not
 * swallow the next From_ line), append the copy ("From " line, headers,
 * mboxrd quoting, empty line), fsync. Only after the fsync is the
 * delivery done (crash point local.after_mbox_fsync); on any failure the
 * file is truncated back to its old size and the delivery deferred.
 *
 * Creating a file in /var/mail takes group mail; postern-local runs as
 * the user only, so a missing spool file in a directory the user cannot
 * write is a deferral with words for the administrator.
 *
 * Trust: the file and its name are the user's and hostile (Postfix
 * CVE-2008-2936: never append to a symlink or a hard link).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "local.h"
#include "log.h"

struct mbox {
	const char *path;
	char dirpath[PATH_MAX];
	const char *base;
	int dir, fd;
	off_t size;		/* before this delivery */
	struct local_lock lock;
};

/* mbox_refuse - an unsafe mailbox: log for the administrator, defer */
static int mbox_refuse(struct mbox *mb, const char *why,
    struct local_status *st)
{
	log_warn("mailbox %s %s: delivery deferred", mb->path, why);
	local_status_set(st, LOCAL_DEFER, "4.2.0", "mailbox %s %s", mb->path,
	    why);
	return -1;
}

/* mbox_open_error - why the file did not open */
static void mbox_open_error(struct mbox *mb, int err,
    struct local_status *st)
{
	struct stat sb;

	if (err == EACCES && fstatat(mb->dir, mb->base, &sb,
	    AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		log_warn("mailbox %s does not exist and uid %ld may not create "
		    "files in %s: create it (owned by the user, mode 0600) "
		    "or let the user write to the directory", mb->path,
		    (long)getuid(), mb->dirpath);
		local_status_set(st, LOCAL_DEFER, "4.2.0", "mailbox %s does "
		    "not exist and cannot be created: %s is not writable by "
		    "the user", mb->path, mb->dirpath);
		return;
	}
	local_path_open_error(st, err, "mailbox", mb->path);
}

/* mbox_open - open and check the file */
static int mbox_open(struct mbox *mb, struct local_status *st)
{
	struct stat sb;
	int flags;

	/* O_NONBLOCK: a FIFO planted under the mailbox's name must not
	   hang the worker; it is refused below. */
	mb->fd = fsio_openat(mb->dir, mb->base, O_RDWR | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (mb->fd < 0) {
		mbox_open_error(mb, errno, st);
		return -1;
	}
	if (fstat(mb->fd, &sb) < 0) {
		local_status_errno(st, errno, "cannot stat %s", mb->path);
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		return mbox_refuse(mb, "is not a regular file", st);
	if (sb.st_nlink != 1)
		return mbox_refuse(mb, "has more than one hard link", st);
	if (local_path_owned(mb->fd, mb->path, st) < 0)
		return -1;
	if (sb.st_mode & S_IWOTH)
		return mbox_refuse(mb, "is world-writable", st);
	if ((flags = fcntl(mb->fd, F_GETFL)) < 0 ||
	    fcntl(mb->fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		local_status_errno(st, errno, "cannot use %s", mb->path);
		return -1;
	}
	return 0;
}

/* mbox_separate - make the file end with an empty line */
static int mbox_separate(struct mbox *mb)
{
	char tail[2];
	off_t at = mb->size >= 2 ? mb->size - 2 : 0;
	ssize_t n;

	if (mb->size == 0)
		return 0;
	if ((n = pread(mb->fd, tail, (size_t)(mb->size - at), at)) < 0)
		return -1;
	if (n < 1 || tail[n - 1] != '\n')
		return fsio_write(mb->fd, "\n\n", 2);
	if (n == 2 && tail[0] != '\n')
		return fsio_write(mb->fd, "\n", 1);
	return 0;
}

/* mbox_append - write the copy and make it durable, or cut it off */
static void mbox_append(struct local_job *job, struct mbox *mb,
    const char *addr, struct local_status *st)
{
	struct stat sb;
	int err;

	if (fstat(mb->fd, &sb) < 0) {
		local_status_errno(st, errno, "cannot stat %s", mb->path);
		return;
	}
	mb->size = sb.st_size;
	if (mbox_separate(mb) < 0 || local_copy_to_fd(job, addr, 1,
	    mb->fd) < 0)
		goto fail;
	fsio_crashpoint("local.after_mbox_write");
	if (fsio_fsync(mb->fd) < 0)
		goto fail;
	fsio_crashpoint("local.after_mbox_fsync");
	local_status_set(st, LOCAL_OK, "2.0.0", "delivered to mailbox %s",
	    mb->path);
	return;
fail:
	err = errno;
	if (ftruncate(mb->fd, mb->size) < 0)
		log_error("cannot truncate %s back to %lld bytes: %s",
		    mb->path, (long long)mb->size, strerror(errno));
	local_status_errno(st, err, "cannot write to mailbox %s", mb->path);
}

/* local_mbox_deliver - append one copy to the mbox at path */
void local_mbox_deliver(struct local_job *job, const char *path,
    size_t trusted, const char *addr, struct local_status *st)
{
	struct mbox mb;

	memset(&mb, 0, sizeof(mb));
	mb.path = path;
	mb.dir = mb.fd = -1;
	if (local_path_split(path, mb.dirpath, sizeof(mb.dirpath),
	    &mb.base) < 0) {
		local_status_set(st, LOCAL_DEFER, "4.3.5",
		    "mailbox path %s is not usable", path);
		return;
	}
	if ((mb.dir = local_path_dir(mb.dirpath, trusted, 0)) < 0) {
		local_path_open_error(st, errno, "mailbox directory",
		    mb.dirpath);
		return;
	}
	if (local_lock_dot(&mb.lock, mb.dir, mb.base, path, st) == 0) {
		if (mbox_open(&mb, st) == 0 &&
		    local_lock_fcntl(&mb.lock, mb.fd, path, st) == 0)
			mbox_append(job, &mb, addr, st);
		local_lock_release(&mb.lock);
	}
	if (mb.fd >= 0 && fsio_close(mb.fd) < 0)
		log_warn("closing %s: %s", path, strerror(errno));
	close(mb.dir);
}
