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

/* digits - v as exactly n decimal digits */
static void digits(char *p, int v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* civil - the Gregorian date of day z (days since 1970-01-01, z >= 0):
   arithmetic over 400-year eras, so no library call (gmtime_r takes a
   lock, and a JSON listing prints millions of times) */
static void civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;			/* days from 0000-03-01 */
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;	/* months from March */
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* timeutil_rfc3339 - UTC timestamp for machines */
void timeutil_rfc3339(int64_t us, char buf[TIMEUTIL_BUF])
{
	int64_t t = us / 1000000, secs;
	int y, mo, d;

	if (us < 0 || t / 86400 > 2932896) {	/* outside 1970..9999 */
		time_t tt = (time_t)t;
		struct tm tm;

		gmtime_r(&tt, &tm);
		strftime(buf, TIMEUTIL_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	civil(t / 86400, &y, &mo, &d);
	secs = t % 86400;
	digits(buf, y, 4);
	buf[4] = '-';
	digits(buf + 5, mo, 2);
	buf[7] = '-';
	digits(buf + 8, d, 2);
	buf[10] = 'T';
	digits(buf + 11, (int)(secs / 3600), 2);
	buf[13] = ':';
	digits(buf + 14, (int)(secs / 60 % 60), 2);
	buf[16] = ':';
	digits(buf + 17, (int)(secs % 60), 2);
	buf[19] = 'Z';
	buf[20] = '\0';
}

/* timeutil_local - local time as posternctl prints it */
void timeutil_local(int64_t us, char buf[TIMEUTIL_BUF])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, TIMEUTIL_BUF, "%Y-%m-%d %H:%M:%S", &tm);
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
