/*
 * pgharness.c: the throwaway PostgreSQL, the event loop and the recording
 * callbacks of the db.c unit tests (pgharness.h).
 */
#include <sys/stat.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgharness.h"
#include "unit.h"

/*
 * The throwaway server.
 */

char		pg_dir[64];		/* "" when none */
bool		pg_running;
char		pg_dsn[256];

void
sh(const char *cmd, bool must)
{
	char	line[1024];
	int	rv;

	/* The server refuses to run as root. */
	if (geteuid() == 0)
		snprintf(line, sizeof(line),
		    "runuser -u postgres -- %s >>%s/cmd.log 2>&1", cmd, pg_dir);
	else
		snprintf(line, sizeof(line), "%s >>%s/cmd.log 2>&1", cmd, pg_dir);
	rv = system(line);
	if (must && rv != 0) {
		fprintf(stderr, "  command failed (%d): %s\n", rv, cmd);
		snprintf(line, sizeof(line), "tail -20 %s/cmd.log >&2", pg_dir);
		if (system(line) == -1)
			perror("system");
		exit(1);
	}
}

void
pg_start(void)
{
	char	cmd[768];

	snprintf(cmd, sizeof(cmd), PGBIN "/pg_ctl -D %s/data -l %s/server.log -w"
	    " -o \"-c listen_addresses='' -c unix_socket_directories=%s"
	    " -c fsync=off -c max_connections=40\" start", pg_dir, pg_dir, pg_dir);
	sh(cmd, true);
	pg_running = true;
}

void
pg_stop(void)
{
	char	cmd[256];

	snprintf(cmd, sizeof(cmd), PGBIN "/pg_ctl -D %s/data -m immediate -w stop",
	    pg_dir);
	sh(cmd, true);
	pg_running = false;
}

static void
pg_cleanup(void)
{
	char	cmd[256];

	if (pg_dir[0] == '\0')
		return;
	if (pg_running)
		pg_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pg_dir);
	if (system(cmd) == -1)
		perror("system");
	pg_dir[0] = '\0';
}

/* initdb + start; sets pg_dsn to a multi-host DSN whose first host does not
 * exist, so that every case also exercises libpq moving on to the next host
 * (a new socket) during PQconnectPoll. */
void
pg_setup(void)
{
	struct passwd	*pw;
	char		 cmd[512];

	snprintf(pg_dir, sizeof(pg_dir), "/tmp/wpdb.XXXXXX");
	CHECK(mkdtemp(pg_dir) != NULL);
	atexit(pg_cleanup);
	if (geteuid() == 0) {
		CHECK((pw = getpwnam("postgres")) != NULL);
		CHECK(chown(pg_dir, pw->pw_uid, pw->pw_gid) == 0);
	}
	snprintf(cmd, sizeof(cmd), PGBIN "/initdb -D %s/data -U postgres -A trust"
	    " -N -E UTF8 --locale=C", pg_dir);
	sh(cmd, true);
	pg_start();
	snprintf(pg_dsn, sizeof(pg_dsn), "host=%s/nonexistent,%s port=5432"
	    " dbname=postgres user=postgres target_session_attrs=read-write",
	    pg_dir, pg_dir);
}

/*
 * The loop.
 */

struct event_base	*base;

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fprintf(stderr, "  watchdog: case still running after %d s\n", WATCHDOG_S);
	exit(1);
}

void
setup_loop(void)
{
	struct timeval	 tv = { WATCHDOG_S, 0 };
	struct event	*ev;

	CHECK((base = event_base_new()) != NULL);
	CHECK((ev = evtimer_new(base, watchdog_cb, NULL)) != NULL);
	CHECK(evtimer_add(ev, &tv) == 0);
}

long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only wakes the loop up, so that run_until looks at its condition. */
static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs the loop until cond() holds; fails the case after limit_ms. */
void
run_until(bool (*cond)(void), int limit_ms, const char *what)
{
	struct timeval	 tv = { 0, 2000 };
	struct event	*ev;
	long long	 start = now_ms();

	if (cond())
		return;
	CHECK((ev = event_new(base, -1, EV_PERSIST, poll_cb, NULL)) != NULL);
	CHECK(event_add(ev, &tv) == 0);
	while (!cond()) {
		if (now_ms() - start > limit_ms) {
			fprintf(stderr, "  gave up after %d ms waiting for: %s\n",
			    limit_ms, what);
			exit(1);
		}
		CHECK(event_base_loop(base, EVLOOP_ONCE) == 0);
	}
	event_free(ev);
}

/* Runs the loop for ms. */
void
run_for(int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	CHECK(event_base_loopexit(base, &tv) == 0);
	CHECK(event_base_dispatch(base) == 0);
}

/*
 * Callbacks record what they saw.
 */


struct db	*db;
int		 completions;

void
record_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct seen	*s = arg;
	const char	*st;

	s->calls++;
	s->order = completions++;
	s->at = now_ms();
	s->unknown = unknown;
	s->had_res = res != NULL;
	snprintf(s->error, sizeof(s->error), "%s", error != NULL ? error : "");
	if (res == NULL)
		return;
	s->status = PQresultStatus(res);
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(s->state, sizeof(s->state), "%s", st != NULL ? st : "");
	s->ntuples = PQntuples(res);
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
		snprintf(s->value, sizeof(s->value), "%s", PQgetvalue(res, 0, 0));
		s->value_len = (size_t)PQgetlength(res, 0, 0);
	}
}

struct seen	*wait_one;
bool
one_done(void)
{
	return wait_one->calls > 0;
}

/* Runs sql (no parameters) to completion and returns what was seen. */
void
run_query(struct seen *s, const char *sql, int limit_ms)
{
	memset(s, 0, sizeof(*s));
	CHECK(db_query(db, sql, 0, NULL, record_cb, s) == 0);
	wait_one = s;
	run_until(one_done, limit_ms, sql);
}

bool
is_available(void)
{
	return db_available(db);
}

bool
is_unavailable(void)
{
	return !db_available(db);
}

struct db *
db_open(const char *dsn, int nconns)
{
	struct perr	 err;
	struct db	*d;

	perr_clear(&err);
	d = db_new(base, dsn, nconns, &err);
	if (d == NULL)
		fprintf(stderr, "  db_new: %s %s\n", err.code, err.msg);
	CHECK(d != NULL);
	return d;
}

/*
 * Binary parameters (db_query_bin).
 */

char	*full;		/* whole first field of the last full_cb */
int	 full_calls;

/* As record_cb, for one field longer than struct seen keeps. */
void
full_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)unknown;
	(void)arg;
	full_calls++;
	free(full);
	full = NULL;
	if (res == NULL) {
		fprintf(stderr, "  no result: %s\n", error);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "  %s", PQresultErrorMessage(res));
		return;
	}
	CHECK(PQntuples(res) == 1);
	CHECK((full = strdup(PQgetisnull(res, 0, 0) ? "(null)" :
	    PQgetvalue(res, 0, 0))) != NULL);
}

bool
full_done(void)
{
	return full_calls > 0;
}

void
run_full(const char *sql, int n, const char *const *vals, const int *lens,
    const int *fmts)
{
	full_calls = 0;
	CHECK(db_query_bin(db, sql, n, vals, lens, fmts, full_cb, NULL) == 0);
	run_until(full_done, 8000, sql);
	CHECK(full != NULL);
}
