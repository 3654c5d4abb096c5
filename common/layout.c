/*
 * layout - the queue and run directories (see layout.h).
 *
 * Every directory is opened with O_NOFOLLOW|O_DIRECTORY and changed
 * through that descriptor, so a symlink planted in place of one is
 * refused rather than followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "layout.h"

/* join - dst = a/b, or -1 when too long */
static int join(char dst[PATH_MAX], const char *a, const char *b)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", a, b);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/* layout_paths - compute every path */
int layout_paths(const struct config *cfg, struct layout *l)
{
	const char *q = config_str(cfg, CK_queue_directory);
	const char *r = config_str(cfg, CK_run_directory);

	if (strlen(q) >= PATH_MAX || strlen(r) >= PATH_MAX)
		return -1;
	memcpy(l->queue, q, strlen(q) + 1);
	memcpy(l->run, r, strlen(r) + 1);
	return join(l->maildrop, q, "maildrop") | join(l->db, q, "db") |
	    join(l->corrupt, q, "corrupt") | join(l->trigger, r, "trigger") |
	    join(l->lock, r, "qmgr.lock") | join(l->control, r, "control");
}

/* fix - set owner and mode of an open file when they differ */
static int fix(int fd, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
		return -1;
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		return -1;
	return 0;
}

/* make_dir - create path if missing, then set owner and mode */
static int make_dir(const char *path, uid_t uid, gid_t gid, mode_t mode,
    char *err, size_t errlen)
{
	int fd, r;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open directory %s: %s%s", path,
		    strerror(errno), errno == ELOOP || errno == ENOTDIR ?
		    " (a symlink or a file is in the way)" : "");
		return -1;
	}
	r = fix(fd, uid, gid, mode);
	if (r < 0)
		snprintf(err, errlen, "cannot set owner and mode of %s: %s",
		    path, strerror(errno));
	close(fd);
	return r;
}

/* make_fifo - create the trigger FIFO if missing, then owner and mode */
static int make_fifo(const char *path, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	struct stat st;
	int fd, r;

	if (mkfifo(path, 0600) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create FIFO %s: %s", path,
		    strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		snprintf(err, errlen, "%s is not a FIFO (remove it)", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r = fix(fd, uid, gid, 0620);
	if (r < 0)
		snprintf(err, errlen, "cannot set owner and mode of %s: %s",
		    path, strerror(errno));
	close(fd);
	return r;
}

/* layout_create - create and repair the layout */
int layout_create(const struct layout *l, uid_t owner, gid_t owner_gid,
    gid_t drop_gid, char *err, size_t errlen)
{
	if (make_dir(l->queue, owner, owner_gid, 0755, err, errlen) < 0 ||
	    make_dir(l->maildrop, owner, drop_gid, 01730, err, errlen) < 0 ||
	    make_dir(l->db, owner, owner_gid, 0700, err, errlen) < 0 ||
	    make_dir(l->corrupt, owner, owner_gid, 0700, err, errlen) < 0 ||
	    make_dir(l->run, owner, owner_gid, 0755, err, errlen) < 0 ||
	    make_fifo(l->trigger, owner, drop_gid, err, errlen) < 0)
		return -1;
	return 0;
}

/* layout_trigger - poke the queue manager */
void layout_trigger(const struct layout *l, char what)
{
	int fd = open(l->trigger, O_WRONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd < 0)
		return;
	/* A full FIFO (EAGAIN) already holds a wake-up: nothing is lost. */
	if (write(fd, &what, 1) < 0) {
		/* nothing to do */
	}
	close(fd);
}
