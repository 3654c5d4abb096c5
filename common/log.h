/*
 * log - postern's logging: syslog, an optional log file, stderr.
 *
 * Lines go to syslog (ident "syslog_name/program", LOG_PID, facility
 * mail) and, when log_file is set, are appended to that file in the
 * traditional syslog layout, so that tests and log tools read it like
 * /var/log/mail.log:
 *
 *     Nov 28 23:15:01 host postern/pickup[1234]: message
 *
 * Each line is written with one write(2) to an O_APPEND descriptor, so
 * lines of concurrent processes never interleave. Control characters in a
 * message are escaped (a message is always one line), and a message is
 * cut at LOG_LINE_MAX bytes. Logging never fails its caller: a log file
 * that cannot be written is reported once on stderr and then ignored.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>

struct config;

#define LOG_LINE_MAX 8192

/* Each level but info puts its name before the message ("warning: ",
   "error: ", "panic: ") in every output. LOG_LEVEL_PANIC is for
   die_panic() (syslog priority LOG_CRIT). */
enum log_level {
	LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR, LOG_LEVEL_PANIC
};

/* log_open - start logging as "syslog_name/program"; with to_stderr every
   line is also written to stderr ("program: message"). cfg may be NULL
   (before the configuration is read): then stderr and syslog only, with
   the ident "postern/program". Calling it again re-reads cfg; the log file
   stays open when its path is unchanged (a daemon that gave up root could
   not open it again). */
void log_open(const char *program, const struct config *cfg, int to_stderr);
/* log_close - close syslog and the log file */
void log_close(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* log_vmsg_stderr - log_vmsg, and on stderr even when log_open was told
   not to (for die.c: a program that gives up always says why there) */
void log_vmsg_stderr(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* log_program - the program name given to log_open */
const char *log_program(void);

#endif
