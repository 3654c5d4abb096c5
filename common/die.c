/*
 * die - how programs end on failure (see die.h).
 *
 * Called by programs only; code in common/ returns errors instead. Each
 * function logs the message through log.c (syslog, the log file) and
 * always prints it on stderr as well, then ends the process: die_temp and
 * die_perm with exit(3) and a sysexits code, die_panic with abort(3) so
 * that a broken invariant leaves a core. The message is trusted no more
 * than any log message: log.c escapes it.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <sysexits.h>

#include "die.h"
#include "log.h"

/* die_temp - log and exit with EX_TEMPFAIL: the caller should retry */
void die_temp(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg_stderr(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(EX_TEMPFAIL);
}

/* die_perm - log and exit with code, a sysexits code; a code that would
   read as success or is out of range becomes EX_SOFTWARE */
void die_perm(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg_stderr(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	if (code <= 0 || code > 255)
		code = EX_SOFTWARE;
	exit(code);
}

/* die_panic - log "panic: ..." and abort */
void die_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg_stderr(LOG_LEVEL_PANIC, fmt, ap);
	va_end(ap);
	abort();
}
