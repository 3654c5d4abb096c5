/*
 * timeutil - clocks and time formats (see timeutil.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timeutil.h"

/* Day and month names are fixed English, never the locale's. */
static const char *const days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
	"Sep", "Oct", "Nov", "Dec" };

/* timeutil_now - wall clock in microseconds */
int64_t timeutil_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* timeutil_monotonic - monotonic clock in microseconds */
int64_t timeutil_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* timeutil_rfc5322 - Date: header layout with a numeric zone */
void timeutil_rfc5322(int64_t us, char buf[TIMEUTIL_BUF])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, TIMEUTIL_BUF, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* timeutil_rfc3339 - UTC timestamp for machines */
void timeutil_rfc3339(int64_t us, char buf[TIMEUTIL_BUF])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, TIMEUTIL_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* timeutil_listing - local time as mailq prints it */
void timeutil_listing(int64_t us, char buf[TIMEUTIL_BUF])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(buf, TIMEUTIL_BUF, "%s %s %2d %02d:%02d:%02d",
	    days[tm.tm_wday], months[tm.tm_mon], tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}
