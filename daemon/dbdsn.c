/*
 * dbdsn.c: the pool's connection string (daemon/db.c): parsing it once with
 * libpq's own parser, the connect clock it implies, and the keywords and
 * values of one connection attempt, with a multi-host list rotated so that
 * a host that swallows attempts is not always the first one tried.
 * Pure but for libpq: no I/O, no event loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "wagepay.h"
#include "dbdsn.h"

/* libpq ignores connect_timeout under PQconnectPoll, so db.c keeps its own
 * clock per host attempt: this one unless the DSN sets connect_timeout. */
#define CONNECT_TIMEOUT_MS	10000

/* Rotates a comma-separated list by k (of n) elements, so that a host that
 * swallows connection attempts is not always the first one tried. */
static char *
rotate_list(const char *s, unsigned k, int n)
{
	const char	*p, *start;
	size_t		 len = strlen(s);
	char		*out;

	if ((out = malloc(len + 2)) == NULL)
		return NULL;
	k %= (unsigned)n;
	for (start = s; k > 0; k--)
		start = strchr(start, ',') + 1;
	/* start..end, then s..start-1 */
	p = s + len;
	memcpy(out, start, (size_t)(p - start));
	out[p - start] = '\0';
	if (start != s) {
		strcat(out, ",");
		strncat(out, s, (size_t)(start - s - 1));
	}
	return out;
}

static int
list_count(const char *s)
{
	int	n = 1;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (*s == ',')
			n++;
	return n;
}

/* Begins an attempt to connect with opts, host lists rotated by rotate. */
PGconn *
dbdsn_connect_start(const PQconninfoOption *opts, unsigned rotate)
{
	const PQconninfoOption	*o;
	const char		**keys, **vals;
	char			*rotated[3] = { NULL, NULL, NULL };
	int			 nopt = 0, nhosts = 0, i = 0, j, n;
	PGconn			*pg;

	for (o = opts; o->keyword != NULL; o++) {
		nopt++;
		if (o->val != NULL && (strcmp(o->keyword, "host") == 0 ||
		    strcmp(o->keyword, "hostaddr") == 0) &&
		    list_count(o->val) > nhosts)
			nhosts = list_count(o->val);
	}
	keys = calloc((size_t)nopt + 1, sizeof(*keys));
	vals = calloc((size_t)nopt + 1, sizeof(*vals));
	if (keys == NULL || vals == NULL)
		fatalx("database: out of memory");
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		keys[i] = o->keyword;
		vals[i] = o->val;
		n = list_count(o->val);
		if (nhosts > 1 && rotate % (unsigned)nhosts != 0 &&
		    n == nhosts && (strcmp(o->keyword, "host") == 0 ||
		    strcmp(o->keyword, "hostaddr") == 0 ||
		    strcmp(o->keyword, "port") == 0)) {
			for (j = 0; rotated[j] != NULL; j++)
				;
			if ((rotated[j] = rotate_list(o->val, rotate, n)) == NULL)
				fatalx("database: out of memory");
			vals[i] = rotated[j];
		}
		i++;
	}
	pg = PQconnectStartParams(keys, vals, 0);
	for (j = 0; j < 3; j++)
		free(rotated[j]);
	free(keys);
	free(vals);
	return pg;
}

PQconninfoOption *
dbdsn_parse(const char *dsn, int *connect_ms, struct perr *err)
{
	PQconninfoOption	*opts, *o;
	char			*msg = NULL;
	long			 secs;
	char			*end;

	if (dsn == NULL) {
		perr_set(err, "WP90", "database: no dsn");
		return NULL;
	}
	if ((opts = PQconninfoParse(dsn, &msg)) == NULL) {
		/* libpq's message names the bad keyword, never a password */
		if (msg != NULL)
			msg[strcspn(msg, "\n")] = '\0';
		perr_set(err, "WP90", "database: invalid dsn: %s",
		    msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
		return NULL;
	}
	*connect_ms = CONNECT_TIMEOUT_MS;
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "connect_timeout") != 0 || o->val == NULL)
			continue;
		errno = 0;
		secs = strtol(o->val, &end, 10);
		/* libpq's own rule: values under 2 s mean 2 s, 0 means none */
		if (errno == 0 && *end == '\0' && secs > 0 && secs < 3600)
			*connect_ms = (int)(secs < 2 ? 2 : secs) * 1000;
	}
	return opts;
}

