/*
 * util.c: small things every handler needs: the time in ISO form, hex,
 * identifiers for the messages the bank sends, and the check that a
 * parameter is of a charset and length. Owns nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "daemon.h"
#include "log.h"

void
util_now_iso(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	char		tmp[40];
	long		off;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, len, "%s.%03ld%c%02ld:%02ld", tmp, ts.tv_nsec / 1000000,
	    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
	    (off < 0 ? -off : off) % 60);
}

void
util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void
util_message_id(const char *prefix, char *out, size_t len)
{
	unsigned char	rnd[6];
	char		hex[13];
	time_t		now = time(NULL);
	struct tm	tm;
	char		stamp[16];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	util_hex(rnd, sizeof(rnd), hex);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	/* at most 35 characters: ISO Max35Text */
	snprintf(out, len, "%.6s%s%s", prefix, stamp, hex);
}

bool
util_matches(const char *s, size_t min, size_t max, const char *charset)
{
	size_t	n;

	if (s == NULL)
		return false;
	n = strlen(s);
	return n >= min && n <= max && strspn(s, charset) == n;
}

int
util_env_int(const char *name, int def, int min, int max)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < min || n > max) {
		log_warnx("%s must be a number from %d to %d; using %d", name,
		    min, max, def);
		return def;
	}
	return (int)n;
}

bool
util_text_ok(const char *s, size_t max)
{
	size_t		 n = 0;
	const char	*p;

	if (s == NULL || *s == '\0')
		return false;
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
		if (((unsigned char)*p & 0xc0) != 0x80)
			n++;
	}
	return n <= max;
}
