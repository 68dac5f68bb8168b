/*
 * clock.c: the daemon's idea of "now" for the day-based rules and for the
 * legal orders' "current month".
 *
 * WAGEPAY_CLOCK (an ISO dateTime with a zone, read once at start-up) sets
 * where this clock starts; it then runs at the speed of real time. Tests
 * use it to stand on a pay day or a month end without waiting for the
 * calendar. It also names the current month by which a sheet's lines are
 * judged (sheetapi.c passes it to wp_sheet_submit/wp_sheet_open: WP07,
 * WP08, WP09); transfers, sheets and deposits are still stamped by the
 * database's own clock.
 * Owns one offset, set before the loop starts and read-only afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"

#define CST_OFFSET	(8 * 3600)	/* China Standard Time, no DST */

static time_t	offset;		/* seconds added to the real time */

/* "YYYY-MM-DDTHH:MM:SS" then "Z" or "+HH:MM"/"-HH:MM". */
static int
parse_iso(const char *s, time_t *out)
{
	struct tm	tm;
	int		n = 0, oh = 0, om = 0;
	char		sign;
	const char	*z;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	z = s + n;
	if (strcmp(z, "Z") == 0)
		sign = '+';
	else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 &&
	    sscanf(z + 1, "%2d:%2d", &oh, &om) == 2 && z[3] == ':')
		sign = z[0];
	else
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || oh > 14 || om > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm) - (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	return 0;
}

int
clock_init(void)
{
	const char	*v = getenv("WAGEPAY_CLOCK");
	time_t		 at;

	offset = 0;
	if (v == NULL || *v == '\0')
		return 0;
	if (parse_iso(v, &at) == -1) {
		log_warnx("WAGEPAY_CLOCK must be an ISO dateTime with a zone "
		    "(2026-11-20T00:00:00+08:00), not \"%s\"", v);
		return -1;
	}
	offset = at - time(NULL);
	log_warnx("clock: WAGEPAY_CLOCK set, the rules see %s now (%+lld s): "
	    "for tests only", v, (long long)offset);
	return 0;
}

static time_t
clock_now(void)
{
	return time(NULL) + offset;
}


void
clock_now_iso(char *buf, size_t len)
{
	time_t		t = clock_now() + CST_OFFSET;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

void
clock_today(char *buf, size_t len)
{
	time_t		t = clock_now() + CST_OFFSET;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}
