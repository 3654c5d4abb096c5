/*
 * local_path - opening the directories of mailboxes without following
 * symlinks that a user could plant.
 *
 * Called by local_maildir.c and local_mbox.c. A mailbox path has two
 * parts: a prefix the administrator controls (the home directory from
 * passwd, the mail spool, the directory part of a target path from the
 * aliases or virtual files), which is opened as it is, symlinks and all;
 * and the rest, inside the user's reach, whose every component is opened
 * with openat(O_NOFOLLOW | O_DIRECTORY) from its parent's descriptor, so
 * that nothing can be swapped between a check and a use. Directories
 * created on the way get mode 0700.
 *
 * Trust: everything below the trusted prefix is hostile.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "local.h"
#include "log.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* open_prefix - open buf's first *base bytes; when that is missing and
   create is set, walk up to the nearest existing ancestor */
static int open_prefix(char *buf, size_t *base, int create)
{
	char save;
	int fd;

	for (;;) {
		save = buf[*base];
		buf[*base] = '\0';
		fd = fsio_openat(AT_FDCWD, *base ? buf : "/", DIR_FLAGS, 0);
		buf[*base] = save;
		if (fd >= 0 || errno != ENOENT || !create || *base == 0)
			return fd;
		while (*base > 0 && buf[--*base] != '/')
			;
	}
}

/* open_child - open (creating) one component name below fd */
static int open_child(int fd, const char *name, int create)
{
	int nfd = fsio_openat(fd, name, DIR_FLAGS | O_NOFOLLOW, 0);

	if (nfd >= 0 || errno != ENOENT || !create)
		return nfd;
	if (fsio_mkdirat(fd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return fsio_openat(fd, name, DIR_FLAGS | O_NOFOLLOW, 0);
}

/* walk_rest - open the components of buf after pos, one by one */
static int walk_rest(int fd, const char *buf, size_t pos, int create)
{
	char name[NAME_MAX + 1];
	size_t end;
	int nfd, saved;

	for (;;) {
		while (buf[pos] == '/')
			pos++;
		if (buf[pos] == '\0')
			return fd;
		end = pos + strcspn(buf + pos, "/");
		if (end - pos > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, buf + pos, end - pos);
		name[end - pos] = '\0';
		nfd = open_child(fd, name, create);
		saved = errno;
		close(fd);
		errno = saved;
		if ((fd = nfd) < 0)
			return -1;
		pos = end;
	}
}

/* local_path_dir - open directory path, trusting only its prefix */
int local_path_dir(const char *path, size_t trusted, int create)
{
	char buf[PATH_MAX];
	size_t len = strlen(path), base;
	int fd;

	if (path[0] != '/' || len >= sizeof(buf)) {
		errno = path[0] != '/' ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	base = trusted < len ? trusted : len;
	if ((fd = open_prefix(buf, &base, create)) < 0)
		return -1;
	return walk_rest(fd, buf, base, create);
}

/* local_path_split - directory part and last component of path */
int local_path_split(const char *path, char *dir, size_t dirlen,
    const char **base_r)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL || slash[1] == '\0')
		return -1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirlen)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base_r = slash + 1;
	return 0;
}

/* local_path_owned - fd belongs to the user, or defer 4.2.0 */
int local_path_owned(int fd, const char *path, struct local_status *st)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		local_status_errno(st, errno, "cannot stat %s", path);
		return -1;
	}
	if (sb.st_uid == getuid())
		return 0;
	log_warn("mailbox %s is owned by uid %ld, not by the user (uid %ld): "
	    "delivery deferred; fix the owner", path, (long)sb.st_uid,
	    (long)getuid());
	local_status_set(st, LOCAL_DEFER, "4.2.0",
	    "mailbox %s is owned by uid %ld, not by the user", path,
	    (long)sb.st_uid);
	return -1;
}

/* local_path_open_error - why path (a what: "mailbox", "maildir") did
   not open, for the administrator's log and the result */
void local_path_open_error(struct local_status *st, int err,
    const char *what, const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	struct stat sb;

	/* lstat follows a symlink named with a trailing slash */
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
	if ((err == ELOOP || err == ENOTDIR) && lstat(buf, &sb) == 0 &&
	    S_ISLNK(sb.st_mode)) {
		log_warn("%s %s is a symbolic link: refused", what, path);
		local_status_set(st, LOCAL_DEFER, "4.2.0",
		    "%s %s is a symbolic link", what, path);
		return;
	}
	if (err == ELOOP || err == ENOTDIR)
		log_warn("%s %s: %s: refused", what, path, strerror(err));
	local_status_errno(st, err, "cannot open %s %s", what, path);
}
