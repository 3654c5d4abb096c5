/*
 * local_maildir - delivery into a Maildir (maildir(5), with the later
 * refinements: microseconds and a counter in the name, link rather than
 * rename, fsync of new/).
 *
 * Called by local_deliver.c (home_mailbox ending in '/', maildir
 * targets, .forward "/dir/" entries). Steps, each a crash point:
 *   create tmp/NAME (O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600)
 *   write the copy, fsync, close (every call checked: NFS and quotas
 *   report on close)                     local.after_tmp_write/_fsync
 *   link tmp/NAME to new/NAME (EEXIST: another name; where the file
 *   system has no hard links, renameat2 with RENAME_NOREPLACE; never a
 *   plain rename, which could replace a message)   local.after_link
 *   unlink tmp/NAME                      local.after_tmp_unlink
 *   fsync new/: only now is the delivery durable   local.after_new_fsync
 * Any failure before the end removes what was written and defers.
 *
 * Trust: the Maildir is the user's and hostile: it and its tmp, new and
 * cur are opened with O_NOFOLLOW from their parents' descriptors and must
 * be owned by the user; missing ones are created with mode 0700.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "fsio.h"
#include "local.h"
#include "local_proto.h"
#include "log.h"

#define NAME_TRIES 10
#define HOST_PART_MAX 150	/* keeps names well under NAME_MAX */
#define SUBDIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct maildir {
	int dir, tmp, new;
	char path[PATH_MAX];	/* the folder, for messages */
};

/* maildir_host - this host's name with '/' and ':' escaped */
static const char *maildir_host(struct local_job *job)
{
	const char *h = config_str(job->cfg, CK_myhostname);
	struct strbuf sb = STRBUF_INIT(HOST_PART_MAX);

	if (job->host[0] != '\0')
		return job->host;
	for (; *h && strbuf_ok(&sb); h++)
		if (*h == '/')
			strbuf_appends(&sb, "\\057");
		else if (*h == ':')
			strbuf_appends(&sb, "\\072");
		else
			strbuf_appendc(&sb, *h);
	snprintf(job->host, sizeof(job->host), "%s",
	    sb.len ? strbuf_str(&sb) : "localhost");
	strbuf_release(&sb);
	return job->host;
}

/* maildir_name - a unique name: time.MusecPpidQcounter.host */
static void maildir_name(struct local_job *job, char *buf, size_t len)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	snprintf(buf, len, "%lld.M%ldP%ldQ%lu.%.*s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++job->counter, HOST_PART_MAX,
	    maildir_host(job));
}

/* maildir_sub - open (creating) one of tmp, new, cur */
static int maildir_sub(struct maildir *md, const char *name,
    struct local_status *st)
{
	char path[PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", md->path, name);
	fd = fsio_openat(md->dir, name, SUBDIR_FLAGS, 0);
	if (fd < 0 && errno == ENOENT) {
		if (fsio_mkdirat(md->dir, name, 0700) < 0 && errno != EEXIST) {
			local_status_errno(st, errno, "cannot create %s", path);
			return -1;
		}
		fd = fsio_openat(md->dir, name, SUBDIR_FLAGS, 0);
	}
	if (fd < 0) {
		local_path_open_error(st, errno, "maildir", path);
		return -1;
	}
	if (local_path_owned(fd, path, st) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* maildir_folder - switch to the Maildir++ folder .ext when it exists */
static int maildir_folder(struct maildir *md, const char *ext,
    struct local_status *st)
{
	char name[LOCAL_EXT_MAX + 2], path[PATH_MAX];
	int fd;

	if (ext == NULL || *ext == '\0' || *ext == '.' || strchr(ext, '/'))
		return 0;
	snprintf(name, sizeof(name), ".%s", ext);
	if (snprintf(path, sizeof(path), "%s/%s", md->path, name) >=
	    (int)sizeof(path))
		return 0;
	if ((fd = fsio_openat(md->dir, name, SUBDIR_FLAGS, 0)) < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != ELOOP && errno != ENOTDIR) {
			local_path_open_error(st, errno, "maildir", path);
			return -1;
		}
		log_warn("maildir folder %s is not a directory or is a "
		    "symbolic link: delivering to the inbox", path);
		return 0;
	}
	if (local_path_owned(fd, path, st) < 0) {
		close(fd);
		return -1;
	}
	close(md->dir);
	md->dir = fd;
	memcpy(md->path, path, strlen(path) + 1);
	return 0;
}

/* maildir_open - open (creating) the Maildir and its folder */
static int maildir_open(struct maildir *md, const char *path,
    size_t trusted, const char *ext, struct local_status *st)
{
	size_t n = strlen(path);
	int cur;

	while (n > 1 && path[n - 1] == '/')
		n--;
	snprintf(md->path, sizeof(md->path), "%.*s", (int)n, path);
	if ((md->dir = local_path_dir(path, trusted, 1)) < 0) {
		local_path_open_error(st, errno, "mailbox", md->path);
		return -1;
	}
	if (local_path_owned(md->dir, md->path, st) < 0 ||
	    maildir_folder(md, ext, st) < 0)
		return -1;
	if ((md->tmp = maildir_sub(md, "tmp", st)) < 0 ||
	    (md->new = maildir_sub(md, "new", st)) < 0 ||
	    (cur = maildir_sub(md, "cur", st)) < 0)
		return -1;
	close(cur);
	return 0;
}

/* maildir_create - a new file in tmp/, its name in name */
static int maildir_create(struct local_job *job, struct maildir *md,
    char *name, size_t len, struct local_status *st)
{
	int fd, tries;

	for (tries = 0; tries < NAME_TRIES; tries++) {
		maildir_name(job, name, len);
		fd = fsio_openat(md->tmp, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
	}
	local_status_errno(st, errno, "cannot create a file in %s/tmp",
	    md->path);
	return -1;
}

/* maildir_fill - write, fsync and close tmp/name; on failure remove it */
static int maildir_fill(struct local_job *job, struct maildir *md, int fd,
    const char *name, const char *addr, struct local_status *st)
{
	int err;

	if (local_copy_to_fd(job, addr, 0, fd) < 0)
		goto fail;
	fsio_crashpoint("local.after_tmp_write");
	if (fsio_fsync(fd) < 0)
		goto fail;
	fsio_crashpoint("local.after_tmp_fsync");
	err = fsio_close(fd);
	fd = -1;
	if (err == 0)
		return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	if (fsio_unlinkat(md->tmp, name, 0) < 0)
		log_warn("cannot remove %s/tmp/%s: %s", md->path, name,
		    strerror(errno));
	local_status_errno(st, err, "cannot write to maildir %s", md->path);
	return -1;
}

/* maildir_move - tmp/name into new/, never replacing anything; the
   name used in new/ is left in newname */
static int maildir_move(struct local_job *job, struct maildir *md,
    const char *name, char *newname, size_t len, struct local_status *st)
{
	int tries, use_rename = 0, rc;

	snprintf(newname, len, "%s", name);
	for (tries = 0; tries < NAME_TRIES; tries++) {
		if (tries > 0)
			maildir_name(job, newname, len);
		if (!use_rename)
			rc = fsio_linkat(md->tmp, name, md->new, newname);
		else if ((rc = fsio_fault_check(FSIO_RENAME)) == 0)
			rc = renameat2(md->tmp, name, md->new, newname,
			    RENAME_NOREPLACE);
		if (rc == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		/* File systems without hard links say so in several ways. */
		if (use_rename || (errno != EPERM && errno != ENOSYS &&
		    errno != EOPNOTSUPP && errno != EMLINK))
			break;
		use_rename = 1;
		tries--;
	}
	local_status_errno(st, errno, "cannot move the message into %s/new",
	    md->path);
	return -1;
}

/* maildir_store - one message into the open Maildir */
static void maildir_store(struct local_job *job, struct maildir *md,
    const char *addr, struct local_status *st)
{
	char name[NAME_MAX + 1], newname[NAME_MAX + 1];
	int fd, err;

	if ((fd = maildir_create(job, md, name, sizeof(name), st)) < 0)
		return;
	fsio_crashpoint("local.after_tmp_create");
	if (maildir_fill(job, md, fd, name, addr, st) < 0)
		return;
	if (maildir_move(job, md, name, newname, sizeof(newname), st) < 0) {
		fsio_unlinkat(md->tmp, name, 0);
		return;
	}
	fsio_crashpoint("local.after_link");
	if (fsio_unlinkat(md->tmp, name, 0) < 0 && errno != ENOENT)
		log_warn("cannot remove %s/tmp/%s: %s", md->path, name,
		    strerror(errno));
	fsio_crashpoint("local.after_tmp_unlink");
	if (fsio_fsync(md->new) < 0) {
		err = errno;
		fsio_unlinkat(md->new, newname, 0);
		local_status_errno(st, err, "cannot sync %s/new", md->path);
		return;
	}
	fsio_crashpoint("local.after_new_fsync");
	local_status_set(st, LOCAL_OK, "2.0.0", "delivered to maildir %s",
	    md->path);
}

/* local_maildir_deliver - deliver one copy into a Maildir */
void local_maildir_deliver(struct local_job *job, const char *path,
    size_t trusted, const char *addr, const char *ext,
    struct local_status *st)
{
	struct maildir md = { -1, -1, -1, "" };

	if (maildir_open(&md, path, trusted, ext, st) == 0)
		maildir_store(job, &md, addr, st);
	if (md.dir >= 0)
		close(md.dir);
	if (md.tmp >= 0)
		close(md.tmp);
	if (md.new >= 0)
		close(md.new);
}
