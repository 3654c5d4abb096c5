/*
 * timeutil - clocks and the time formats postern writes.
 *
 * Wall-clock times are int64 microseconds since the epoch (as stored in
 * the queue); timers use CLOCK_MONOTONIC so that a change of the system
 * clock does not stall or rush them.
 */
#ifndef POSTERN_TIMEUTIL_H
#define POSTERN_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define TIMEUTIL_BUF 64

/* timeutil_now - wall clock, microseconds */
int64_t timeutil_now(void);
/* timeutil_monotonic - monotonic clock, microseconds */
int64_t timeutil_monotonic(void);
/* timeutil_rfc5322 - "Sat, 28 Nov 2026 23:15:01 +0000" in local time with
   a numeric zone (Date: headers) */
void timeutil_rfc5322(int64_t us, char buf[TIMEUTIL_BUF]);
/* timeutil_rfc3339 - "2026-11-28T23:15:01Z" (UTC; JSON output) */
void timeutil_rfc3339(int64_t us, char buf[TIMEUTIL_BUF]);
/* timeutil_listing - "Sat Nov 28 23:15:01" in local time (mailq) */
void timeutil_listing(int64_t us, char buf[TIMEUTIL_BUF]);
/* timeutil_local - local time as posternctl prints it,
   "2026-11-28 23:15:01" */
void timeutil_local(int64_t us, char buf[TIMEUTIL_BUF]);

#endif
