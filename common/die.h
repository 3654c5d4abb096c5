/*
 * die - how programs end on failure (never used by library code, which
 * returns errors to its caller).
 *
 * die_temp: a temporary failure the caller should retry (EX_TEMPFAIL).
 * die_perm: a permanent failure with the given sysexits code.
 * die_panic: a broken invariant; logs and aborts (crash-safe state makes
 * that survivable, and a core is worth more than carrying on).
 * Each prints "program: message" on stderr and logs it.
 */
#ifndef POSTERN_DIE_H
#define POSTERN_DIE_H

void die_temp(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void die_perm(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void die_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
