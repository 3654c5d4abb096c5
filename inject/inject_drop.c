/*
 * inject_drop - writing a new message durably into the maildrop.
 *
 * The file is created as "t.NAME" (O_EXCL, O_NOFOLLOW, mode 0600), filled
 * with the maildrop format (maildrop.h), made readable for the queue
 * owner (mode 0604: the drop group, which the injector runs with, is
 * left with no access at all, so no injector can read what another user
 * dropped), fsynced, renamed to NAME, and the directory entry made
 * durable. Only then does the injector exit 0. The injector cannot open
 * maildrop/ (mode 1730 gives it no read permission), so it cannot fsync
 * the directory; it calls syncfs(2) on the file instead, which makes the
 * rename durable on any file system. The queue owner and root can open
 * the directory and fsync it directly, which is cheaper.
 *
 * Any failure removes the temporary file: a failed injection leaves
 * nothing behind. A signal that ends the injector early does the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "exitcodes.h"
#include "fsio.h"
#include "inject.h"
#include "layout.h"
#include "maildrop.h"
#include "queue.h"
#include "timeutil.h"

/* What a signal handler needs to remove the temporary file. */
static volatile sig_atomic_t temp_live;
static int temp_dirfd = -1;
static char temp_name[MAILDROP_NAME_MAX + 2];

struct writer {
	int fd;
	struct strbuf buf;
	uint64_t content;	/* content bytes written */
	uint64_t limit;
};

/* on_signal - remove the half-written file and give up */
static void on_signal(int sig)
{
	(void)sig;
	if (temp_live)
		unlinkat(temp_dirfd, temp_name, 0);
	_exit(EX_TEMPFAIL);
}

/* catch_signals - from here on a signal removes the temporary file */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit shows as EFBIG from write, not as a signal. */
	signal(SIGXFSZ, SIG_IGN);
}

/* io_error - map a write-side errno to an exit code and a message */
static int io_error(struct inject_error *e, const char *what)
{
	int err = errno;
	int code = EX_IOERR;

	if (err == ENOSPC || err == EDQUOT || err == EFBIG || err == ENOMEM ||
	    err == EMFILE || err == ENFILE)
		code = EX_TEMPFAIL;
	inject_error_set(e, code, "%s: %s%s", what, strerror(err),
	    code == EX_TEMPFAIL ? " (try again later)" : "");
	return -1;
}

/* flush - write out buffered bytes */
static int flush(struct writer *w, struct inject_error *e)
{
	if (w->buf.len > 0 && fsio_write(w->fd, w->buf.s, w->buf.len) < 0)
		return io_error(e, "cannot write the queue file");
	strbuf_reset(&w->buf);
	return 0;
}

/* put - add content bytes, checking the size limit */
static int put(struct writer *w, const char *p, size_t n,
    struct inject_error *e)
{
	if (n > w->limit || w->content > w->limit - n)
		return inject_error_set(e, EX_DATAERR, "message is larger than "
		    "message_size_limit (%llu bytes)",
		    (unsigned long long)w->limit), -1;
	w->content += n;
	if (w->buf.len + n > 65536 && flush(w, e) < 0)
		return -1;
	if (n >= 65536) {
		if (fsio_write(w->fd, p, n) < 0)
			return io_error(e, "cannot write the queue file");
		return 0;
	}
	strbuf_append(&w->buf, p, n);
	return 0;
}

/* envelope - the envelope attribute list */
static int envelope(struct strbuf *env, const struct inject_msg *m,
    const struct inject_opts *o, int64_t arrival)
{
	static const char *const notify[] = { "never", "success", "failure",
	    "delay" };
	size_t i, k;

	attr_put_str(env, "sender", m->sender.text);
	attr_put_i64(env, "arrival", arrival);
	attr_put_u64(env, "uid", (uint64_t)getuid());
	for (i = 0; i < m->nrcpt; i++) {
		attr_put_str(env, "rcpt", m->rcpts[i].addr.text);
		if (m->rcpts[i].orig[0] != '\0')
			attr_put_str(env, "orig", m->rcpts[i].orig);
		if (o->notify != 0) {
			char list[64] = "";

			for (k = 0; k < 4; k++)
				if (o->notify & (1u << k)) {
					if (list[0] != '\0')
						strlcat(list, ",", sizeof(list));
					strlcat(list, notify[k], sizeof(list));
				}
			attr_put_str(env, "notify", list);
		}
	}
	if (o->ret)
		attr_put_str(env, "ret", o->ret == QUEUE_MSG_RET_HDRS ? "hdrs" :
		    "full");
	if (o->envid)
		attr_put_str(env, "envid", o->envid);
	if (m->from[0])
		attr_put_str(env, "from", m->from);
	if (m->subject[0])
		attr_put_str(env, "subject", m->subject);
	if (m->msgid[0])
		attr_put_str(env, "msgid", m->msgid);
	return strbuf_ok(env) ? 0 : -1;
}

/* body - copy the body from the input, ending at end of input or, without
   -i, at a line holding a single dot */
static int body(struct writer *w, struct inject_input *in,
    struct strbuf *line, const struct inject_opts *o, struct inject_error *e)
{
	int r, at_line_start = 1;

	if (line->len > 0 && put(w, line->s, line->len, e) < 0)
		return -1;
	for (;;) {
		if ((r = inject_input_line(in, line)) < 0)
			return inject_error_set(e, EX_IOERR, "cannot read the "
			    "message: %s", strerror(errno)), -1;
		if (r == 0)
			break;
		if (memchr(line->s, '\0', line->len) != NULL)
			return inject_error_set(e, EX_DATAERR, "message "
			    "contains a NUL byte"), -1;
		if (!o->ignore_dots && at_line_start && r == 1 &&
		    strcmp(line->s, ".\n") == 0)
			break;
		if (put(w, line->s, line->len, e) < 0)
			return -1;
		at_line_start = r == 1;
	}
	/* Every stored message ends with a line end. */
	if (w->content > 0 && !at_line_start)
		return put(w, "\n", 1, e);
	return 0;
}

/* open_temp - create the temporary file in the maildrop */
static int open_temp(int dirfd, int64_t arrival, char name[MAILDROP_NAME_MAX],
    struct inject_error *e)
{
	int fd;

	if (maildrop_name(name, arrival) < 0)
		return inject_error_set(e, EX_OSERR, "no random bytes"), -1;
	snprintf(temp_name, sizeof(temp_name), "%s%s", MAILDROP_TEMP_PREFIX,
	    name);
	temp_dirfd = dirfd;
	fd = fsio_openat(dirfd, temp_name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			return inject_error_set(e, EX_NOPERM, "cannot create a "
			    "file in the maildrop: %s (is postern-inject "
			    "installed setgid to the drop group?)",
			    strerror(errno)), -1;
		return io_error(e, "cannot create a file in the maildrop");
	}
	temp_live = 1;
	return fd;
}

/* make_durable - mode, fsync, rename, and the directory entry */
static int make_durable(int dirfd, int fd, const char *maildrop,
    const char *name, struct inject_error *e)
{
	int dfd, r;

	if (fchmod(fd, 0604) < 0 || fsio_fsync(fd) < 0)
		return io_error(e, "cannot write the queue file to disk");
	fsio_crashpoint("inject.after_fsync");
	if (fsio_renameat(dirfd, temp_name, dirfd, name) < 0)
		return io_error(e, "cannot rename the queue file");
	temp_live = 0;
	fsio_crashpoint("inject.after_rename");
	dfd = open(maildrop, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		r = fsio_fsync(dfd);
		close(dfd);
	} else {
		r = fsio_fault_check(FSIO_FSYNC) < 0 ? -1 : syncfs(fd);
	}
	if (r < 0) {
		/* Not known to be durable: take it back, so that a failed
		   injection leaves nothing. Pickup may have taken it already;
		   then it is delivered, and a retry by the caller may deliver
		   it twice, which is better than losing it. */
		io_error(e, "cannot make the queue file durable");
		unlinkat(dirfd, name, 0);
		return -1;
	}
	fsio_crashpoint("inject.after_dirsync");
	return 0;
}

/* write_all - the whole file, from the header to the trailer */
static int write_all(struct writer *w, struct inject_msg *m,
    struct inject_input *in, struct strbuf *first,
    const struct inject_opts *o, int64_t arrival, int ended,
    struct inject_error *e)
{
	struct strbuf env = STRBUF_INIT(MAILDROP_ENVELOPE_MAX);
	char trailer[MAILDROP_TRAILER_LEN + 1];
	int r = -1;

	if (envelope(&env, m, o, arrival) < 0) {
		inject_error_set(e, EX_DATAERR, "envelope too large");
		goto out;
	}
	w->content = 0;
	if (maildrop_header(&w->buf, &env) < 0) {
		inject_error_set(e, EX_DATAERR, "envelope too large");
		goto out;
	}
	if (put(w, m->headers.s, m->headers.len, e) < 0)
		goto out;
	if (!ended && body(w, in, first, o, e) < 0)
		goto out;
	fsio_crashpoint("inject.after_body");
	maildrop_trailer(trailer, w->content);
	if (flush(w, e) < 0 || fsio_write(w->fd, trailer,
	    MAILDROP_TRAILER_LEN) < 0) {
		if (e->code == 0)
			io_error(e, "cannot write the queue file");
		goto out;
	}
	r = 0;
out:
	strbuf_release(&env);
	return r;
}

/* inject_drop - write the message into the maildrop, durably */
int inject_drop(struct inject_msg *m, struct inject_input *in,
    struct strbuf *first, const struct inject_opts *o,
    const struct config *cfg, struct inject_error *e, int ended)
{
	struct writer w = { -1, STRBUF_INIT(MAILDROP_ENVELOPE_MAX + (1 << 17)), 0,
	    config_size(cfg, CK_message_size_limit) };
	char name[MAILDROP_NAME_MAX];
	struct layout l;
	int64_t arrival = timeutil_now();
	int dirfd, r = -1;

	e->code = 0;
	if (layout_paths(cfg, &l) < 0)
		return inject_error_set(e, EX_CONFIG, "queue_directory is too "
		    "long"), -1;
	dirfd = open(l.maildrop, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return inject_error_set(e, EX_TEMPFAIL, "the queue in %s is "
		    "not ready (%s): start postern-qmgr to create it",
		    l.queue, strerror(errno)), -1;
	catch_signals();
	if ((w.fd = open_temp(dirfd, arrival, name, e)) < 0)
		goto out;
	if (write_all(&w, m, in, first, o, arrival, ended, e) < 0 ||
	    make_durable(dirfd, w.fd, l.maildrop, name, e) < 0)
		goto out;
	if (fsio_close(w.fd) < 0) {
		w.fd = -1;
		io_error(e, "cannot close the queue file");
		goto out;
	}
	w.fd = -1;
	layout_trigger(&l, 'p');
	r = 0;
out:
	if (w.fd >= 0)
		close(w.fd);
	if (temp_live && unlinkat(dirfd, temp_name, 0) == 0)
		temp_live = 0;
	strbuf_release(&w.buf);
	close(dirfd);
	return r;
}
