/*
 * log - syslog, an optional log file and stderr (see log.h).
 *
 * Every program calls log_open() once it knows its name (again after
 * loading the configuration), then log_info/log_warn/log_error; die.c
 * logs through log_vmsg_stderr(). Before log_open() lines go to stderr
 * only, as "postern: message". After log_close() they go to stderr only
 * when log_open() asked for it.
 *
 * A message is formatted, escaped so that it is one printable line, cut
 * at LOG_LINE_MAX bytes between whole escapes and whole UTF-8 characters,
 * and then sent to each output. A log file line is built whole and written with one
 * write(2) on an O_APPEND descriptor, so lines of concurrent processes do
 * not interleave.
 *
 * SECURITY: messages carry text from the network and from users, so they
 * are escaped before they reach any output. The log file is opened with
 * O_NOFOLLOW, so a symbolic link planted at its name is refused. Logging
 * never fails its caller and keeps errno. The state is per process and
 * not thread-safe (postern's programs are single-threaded).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "strbuf.h"

#define LOG_PREFIX_MAX 512	/* room for timestamp, host and ident */

static struct {
	char program[64];
	char ident[128];	/* syslog(3) keeps a pointer to this */
	char host[64];		/* short host name, up to the first dot */
	char path[4096];	/* the log file, for messages about it */
	int fd;			/* the log file, or -1 */
	int to_stderr;
	int opened;		/* log_open was called */
	int syslog_open;
	int write_failed;	/* a failed log file write was reported */
} lg = { .program = "postern", .fd = -1 };

static const char *const level_prefix[] = {
	[LOG_LEVEL_INFO] = "", [LOG_LEVEL_WARN] = "warning: ",
	[LOG_LEVEL_ERROR] = "error: ", [LOG_LEVEL_PANIC] = "panic: ",
};

static const int level_priority[] = {
	[LOG_LEVEL_INFO] = LOG_INFO, [LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_ERROR] = LOG_ERR, [LOG_LEVEL_PANIC] = LOG_CRIT,
};

/* write_whole - one write(2) of the line; -1 when it failed or was short */
static int write_whole(int fd, const char *s, size_t n)
{
	ssize_t w;

	do
		w = write(fd, s, n);
	while (w < 0 && errno == EINTR);
	return w >= 0 && (size_t)w == n ? 0 : -1;
}

/* stderr_notice - "program: warning: text: strerror(err)" on stderr, for
   trouble with the log file itself */
static void stderr_notice(const char *text, int err)
{
	struct strbuf sb = STRBUF_INIT(LOG_PREFIX_MAX + sizeof(lg.path));

	strbuf_appendf(&sb, "%s: warning: %s %s: %s\n", lg.program, text,
	    lg.path, strerror(err));
	if (strbuf_ok(&sb))
		(void)write_whole(STDERR_FILENO, strbuf_str(&sb), sb.len);
	strbuf_release(&sb);
}

/* set_host - the short host name, as syslog daemons print it */
static void set_host(void)
{
	char name[256];

	if (gethostname(name, sizeof(name)) < 0)
		strlcpy(name, "localhost", sizeof(name));
	name[sizeof(name) - 1] = '\0';
	name[strcspn(name, ".")] = '\0';
	/* A host name cut to fit is still the best we have. */
	(void)strlcpy(lg.host, name[0] ? name : "localhost", sizeof(lg.host));
}

/* open_file - open the log file; a failure is said here, once for each
   log_open() */
static void open_file(const char *path)
{
	int err;

	if (strlcpy(lg.path, path, sizeof(lg.path)) >= sizeof(lg.path)) {
		stderr_notice("cannot open log file", ENAMETOOLONG);
		return;
	}
	/* O_NONBLOCK: a FIFO put in place of the log file must not hang us. */
	lg.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, 0640);
	if (lg.fd < 0) {
		err = errno;
		stderr_notice("cannot open log file", err);
	}
}

/* log_open - start logging as "syslog_name/program" */
void log_open(const char *program, const struct config *cfg, int to_stderr)
{
	const char *name = cfg ? config_str(cfg, CK_syslog_name) : "postern";
	const char *path = cfg ? config_str(cfg, CK_log_file) : "";
	int saved = errno, keep;

	/* The same log file stays open: a daemon that gave up root after the
	   first log_open could not open it again. */
	keep = lg.fd >= 0 && strcmp(path, lg.path) == 0;
	if (lg.syslog_open)
		closelog();
	lg.syslog_open = 0;
	if (!keep && lg.fd >= 0) {
		(void)close(lg.fd);
		lg.fd = -1;
	}
	/* Names cut to fit the fixed buffers still identify the program;
	   log_open(log_program(), ...) reopens under the same name. */
	if (program != lg.program)
		(void)strlcpy(lg.program, program ? program : "postern",
		    sizeof(lg.program));
	if (snprintf(lg.ident, sizeof(lg.ident), "%s/%s", name, lg.program)
	    < 0)
		(void)strlcpy(lg.ident, "postern", sizeof(lg.ident));
	lg.to_stderr = to_stderr;
	lg.opened = 1;
	lg.write_failed = 0;
	tzset();
	set_host();
	openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	lg.syslog_open = 1;
	if (*path != '\0' && !keep)
		open_file(path);
	errno = saved;
}

/* log_close - close syslog and the log file */
void log_close(void)
{
	if (lg.syslog_open)
		closelog();
	lg.syslog_open = 0;
	if (lg.fd >= 0)
		(void)close(lg.fd);
	lg.fd = -1;
}

/* log_program - the program name given to log_open */
const char *log_program(void)
{
	return lg.program;
}

/* utf8_cut - length of s[0..n) without a UTF-8 sequence cut short at its
   end */
static size_t utf8_cut(const char *s, size_t n)
{
	size_t i = n, back = 0, need;
	unsigned char c;

	while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0 || (c = (unsigned char)s[i - 1]) < 0xc0)
		return n;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	return back + 1 < need ? i - 1 : n;
}

/* format_message - level prefix and message, escaped and cut, into msg
   (whose limit is 4 * LOG_LINE_MAX: room for every byte escaped) */
static void format_message(struct strbuf *msg, enum log_level level,
    const char *fmt, va_list ap, int saved_errno)
{
	char raw[LOG_LINE_MAX + 1];
	size_t n = strlcpy(raw, level_prefix[level], sizeof(raw));
	int r;

	/* The caller's errno, for a %m in fmt. */
	errno = saved_errno;
	r = vsnprintf(raw + n, sizeof(raw) - n, fmt, ap);
	if (r < 0)
		r = 0;
	/* A message cut at LOG_LINE_MAX is what the header promises. */
	n += (size_t)r < sizeof(raw) - n ? (size_t)r : sizeof(raw) - n - 1;
	strbuf_append_printable(msg, raw, n, 1);
	n = strbuf_printable_cut(strbuf_str(msg), msg->len, LOG_LINE_MAX);
	strbuf_truncate(msg, utf8_cut(strbuf_str(msg), n));
}

/* stamp - local time as syslog prints it: "Nov  8 09:05:01" */
static void stamp(char *buf, size_t size)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (localtime_r(&now, &tm) == NULL || tm.tm_mon < 0 || tm.tm_mon > 11)
		memset(&tm, 0, sizeof(tm));
	r = snprintf(buf, size, "%s %2d %02d:%02d:%02d", months[tm.tm_mon],
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (r < 0 || (size_t)r >= size)
		buf[0] = '\0';
}

/* file_line - "STAMP host ident[pid]: msg" to the log file */
static void file_line(const struct strbuf *msg)
{
	struct strbuf line = STRBUF_INIT(LOG_LINE_MAX + LOG_PREFIX_MAX);
	char when[64];
	int err;

	stamp(when, sizeof(when));
	strbuf_appendf(&line, "%s %s %s[%ld]: ", when, lg.host, lg.ident,
	    (long)getpid());
	strbuf_append(&line, strbuf_str(msg), msg->len);
	strbuf_appendc(&line, '\n');
	if (strbuf_ok(&line) &&
	    write_whole(lg.fd, strbuf_str(&line), line.len) < 0 &&
	    !lg.write_failed) {
		err = errno;
		lg.write_failed = 1;
		stderr_notice("cannot write log file", err);
	}
	strbuf_release(&line);
}

/* stderr_line - "program: msg" on stderr */
static void stderr_line(const struct strbuf *msg)
{
	struct strbuf line = STRBUF_INIT(LOG_LINE_MAX + sizeof(lg.program) +
	    4);

	strbuf_appendf(&line, "%s: ", lg.program);
	strbuf_append(&line, strbuf_str(msg), msg->len);
	strbuf_appendc(&line, '\n');
	if (strbuf_ok(&line))
		(void)write_whole(STDERR_FILENO, strbuf_str(&line), line.len);
	strbuf_release(&line);
}

/* log_emit - one message to every output; also to stderr when to_stderr */
static void log_emit(enum log_level level, int to_stderr, const char *fmt,
    va_list ap)
{
	struct strbuf msg = STRBUF_INIT(4 * LOG_LINE_MAX);
	int saved = errno;

	if ((unsigned)level > LOG_LEVEL_PANIC)
		level = LOG_LEVEL_ERROR;
	format_message(&msg, level, fmt, ap, saved);
	if (lg.syslog_open)
		syslog(level_priority[level], "%s", strbuf_str(&msg));
	if (lg.fd >= 0)
		file_line(&msg);
	if (to_stderr || lg.to_stderr || !lg.opened)
		stderr_line(&msg);
	strbuf_release(&msg);
	errno = saved;
}

/* log_vmsg - log at level */
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	log_emit(level, 0, fmt, ap);
}

/* log_vmsg_stderr - log at level, and on stderr in any case */
void log_vmsg_stderr(enum log_level level, const char *fmt, va_list ap)
{
	log_emit(level, 1, fmt, ap);
}

/* log_info - an informational line */
void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
}

/* log_warn - "warning: ..." */
void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}

/* log_error - "error: ..." */
void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
}
