/*
 * exitcodes - the process exit codes postern uses, all from sysexits(3).
 *
 * Every program exits with one of these; callers such as cron, PHP and
 * mail(1) act on them (75 means "try again later", the others mean the
 * message was refused). Workers report outcomes to the queue manager with
 * the same numbers where a number is needed.
 */
#ifndef POSTERN_EXITCODES_H
#define POSTERN_EXITCODES_H

#include <sysexits.h>

/*
 * EX_OK          0   success; for the injector: the message is on disk
 * EX_USAGE      64   bad command line (unknown option, missing argument)
 * EX_DATAERR    65   bad address or malformed / oversized message
 * EX_NOINPUT    66   an input file cannot be opened (postern-newaliases)
 * EX_NOUSER     67   no login name for the caller (injector)
 * EX_SOFTWARE   70   internal error: a broken invariant
 * EX_OSERR      71   a system call failed that should not (fork, memory)
 * EX_CANTCREAT  73   cannot create an output file
 * EX_IOERR      74   input/output error
 * EX_TEMPFAIL   75   temporary failure: disk full, queue not ready; retry
 * EX_PROTOCOL   76   a malformed record from the other side of a pipe
 *                    (a worker given a bad job; posternctl given a bad
 *                    answer)
 * EX_NOPERM     77   permission denied
 * EX_CONFIG     78   configuration error (unreadable file, bad value)
 */

/* status_code_ok - s is an RFC 3463 enhanced status code: class 2, 4
   or 5, then subject and detail of 1 to 3 digits ("4.4.1"); its class in
   *class_r. 1 or 0. (SMTP status codes live here with the exit codes:
   both are how postern says how something ended.) */
int status_code_ok(const char *s, int *class_r);
/* exitcodes_name - short name of an exit code ("EX_TEMPFAIL"), or "?" */
const char *exitcodes_name(int code);

#endif
