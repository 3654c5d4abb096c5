/*
 * fsio - the durability seam (see fsio.h).
 *
 * Fault and crash settings come from the environment only when the
 * process is not running with elevated privileges (AT_SECURE), so that
 * the setgid injector cannot be steered by the user who runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"

struct fault {
	unsigned long calls;	/* calls of this op so far */
	unsigned long nth;	/* fail the nth call; 0: never */
	int err;
	int sticky;		/* also every call after the nth */
};

static struct fault faults[FSIO_NOPS];
static char crash_name[64];
static unsigned long crash_nth, crash_seen;

static const char *const op_names[FSIO_NOPS] = {
	"open", "write", "fsync", "rename", "link", "unlink", "mkdir",
	"commit", "read", "close",
};

static const struct { const char *name; int err; } err_names[] = {
	{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
	{ "EACCES", EACCES }, { "EPERM", EPERM }, { "ENOMEM", ENOMEM },
	{ "EROFS", EROFS }, { "EMFILE", EMFILE }, { "EEXIST", EEXIST },
	{ "ENOENT", ENOENT }, { "EFBIG", EFBIG }, { "EINTR", EINTR },
};

/* parse_fault - one "op:n[+]:ERRNO" item of POSTERN_FAULT */
static void parse_fault(char *item)
{
	char *op = strtok(item, ":"), *n = strtok(NULL, ":"),
	    *e = strtok(NULL, ":"), *end;
	unsigned long nth;
	size_t i, j;

	if (op == NULL || n == NULL || e == NULL)
		return;
	nth = strtoul(n, &end, 10);
	for (i = 0; i < FSIO_NOPS; i++) {
		if (strcmp(op, op_names[i]) != 0)
			continue;
		for (j = 0; j < sizeof(err_names) / sizeof(err_names[0]); j++)
			if (strcmp(e, err_names[j].name) == 0)
				fsio_fault_set(i, nth, err_names[j].err,
				    *end == '+');
	}
}

/* fsio_init - arm faults and crash points from the environment */
void fsio_init(void)
{
	const char *f = getenv("POSTERN_FAULT"), *c = getenv("POSTERN_CRASH");
	char buf[512], *item, *save = NULL, *colon;

	if (getauxval(AT_SECURE))
		return;
	if (f != NULL && strlen(f) < sizeof(buf)) {
		memcpy(buf, f, strlen(f) + 1);
		for (item = strtok_r(buf, ",", &save); item != NULL;
		    item = strtok_r(NULL, ",", &save)) {
			char one[128];

			if (strlen(item) < sizeof(one)) {
				memcpy(one, item, strlen(item) + 1);
				parse_fault(one);
			}
		}
	}
	if (c != NULL && strlen(c) < sizeof(crash_name)) {
		memcpy(crash_name, c, strlen(c) + 1);
		crash_nth = 1;
		if ((colon = strchr(crash_name, ':')) != NULL) {
			*colon = '\0';
			crash_nth = strtoul(colon + 1, NULL, 10);
		}
	}
}

/* fsio_fault_set - arm one fault */
void fsio_fault_set(enum fsio_op op, unsigned long n, int err, int sticky)
{
	faults[op].calls = 0;
	faults[op].nth = n;
	faults[op].err = err;
	faults[op].sticky = sticky;
}

/* fsio_fault_clear - disarm everything */
void fsio_fault_clear(void)
{
	memset(faults, 0, sizeof(faults));
}

/* fsio_fault_check - count a call; fail it when armed */
int fsio_fault_check(enum fsio_op op)
{
	struct fault *f = &faults[op];

	f->calls++;
	if (f->nth != 0 && (f->calls == f->nth ||
	    (f->sticky && f->calls > f->nth))) {
		errno = f->err;
		return -1;
	}
	return 0;
}

/* fsio_crashpoint - die here if told to */
void fsio_crashpoint(const char *name)
{
	if (crash_name[0] == '\0' || strcmp(name, crash_name) != 0)
		return;
	if (++crash_seen == crash_nth)
		raise(SIGKILL);
}

int fsio_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	if (fsio_fault_check(FSIO_OPEN) < 0)
		return -1;
	do
		fd = openat(dirfd, path, flags, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

ssize_t fsio_read(int fd, void *buf, size_t n)
{
	ssize_t r;

	if (fsio_fault_check(FSIO_READ) < 0)
		return -1;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* fsio_read_full - exactly n bytes, or 1 at end of file */
int fsio_read_full(int fd, void *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		if ((r = fsio_read(fd, (char *)buf + done, n - done)) < 0)
			return -1;
		if (r == 0)
			return 1;
		done += (size_t)r;
	}
	return 0;
}

int fsio_write(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		if (fsio_fault_check(FSIO_WRITE) < 0)
			return -1;
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fsio_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		if (fsio_fault_check(FSIO_WRITE) < 0)
			return -1;
		w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* fsio_fsync - fsync; a failure is never retried on the same fd (after
   an fsync error the kernel may already have dropped the dirty pages) */
int fsio_fsync(int fd)
{
	if (fsio_fault_check(FSIO_FSYNC) < 0)
		return -1;
	return fsync(fd);
}

int fsio_renameat(int olddir, const char *old, int newdir, const char *new)
{
	if (fsio_fault_check(FSIO_RENAME) < 0)
		return -1;
	return renameat(olddir, old, newdir, new);
}

int fsio_linkat(int olddir, const char *old, int newdir, const char *new)
{
	if (fsio_fault_check(FSIO_LINK) < 0)
		return -1;
	return linkat(olddir, old, newdir, new, 0);
}

int fsio_unlinkat(int dirfd, const char *path, int flags)
{
	if (fsio_fault_check(FSIO_UNLINK) < 0)
		return -1;
	return unlinkat(dirfd, path, flags);
}

int fsio_mkdirat(int dirfd, const char *path, mode_t mode)
{
	if (fsio_fault_check(FSIO_MKDIR) < 0)
		return -1;
	return mkdirat(dirfd, path, mode);
}

/* fsio_close - close and report its error; EINTR is not retried because
   Linux has already released the descriptor */
int fsio_close(int fd)
{
	int r = close(fd);

	if (fsio_fault_check(FSIO_CLOSE) < 0)
		return -1;
	return r;
}

/* fsio_fsync_path - fsync a directory (or file) by name */
int fsio_fsync_path(int dirfd, const char *path)
{
	int fd, r, saved;

	fd = fsio_openat(dirfd, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = fsio_fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* fsio_stat_changed - the file behind a path is no longer the one seen */
int fsio_path_changed(const char *path, struct stat *seen)
{
	struct stat st;
	int changed;

	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	changed = fsio_stat_changed(seen, &st);
	*seen = st;
	return changed;
}

int fsio_stat_changed(const struct stat *then, const struct stat *now)
{
	return now->st_dev != then->st_dev || now->st_ino != then->st_ino ||
	    now->st_size != then->st_size ||
	    now->st_mtim.tv_sec != then->st_mtim.tv_sec ||
	    now->st_mtim.tv_nsec != then->st_mtim.tv_nsec ||
	    now->st_ctim.tv_sec != then->st_ctim.tv_sec ||
	    now->st_ctim.tv_nsec != then->st_ctim.tv_nsec;
}
