/*
 * test_db.c: daemon/db.c against a real, throwaway PostgreSQL 15.
 *
 * Each case that needs a server initdb's one into a mkdtemp directory (as the
 * postgres user when run as root), listening on a unix socket in that
 * directory only, fsync off, and stops it with `pg_ctl stop -m immediate` at
 * exit (atexit, so a failed CHECK cleans up too). Every case runs the loop
 * under a 20 s watchdog that fails it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "../../daemon/db.h"
#include "sheetlines.h"
#include "unit.h"

#define PGBIN		"/usr/lib/postgresql/15/bin"
#define WATCHDOG_S	20

/*
 * The throwaway server.
 */

static char	pg_dir[64];		/* "" when none */
static bool	pg_running;
static char	pg_dsn[256];

static void
sh(const char *cmd, bool must)
{
	char	full[1024];
	int	rv;

	/* The server refuses to run as root. */
	if (geteuid() == 0)
		snprintf(full, sizeof(full),
		    "runuser -u postgres -- %s >>%s/cmd.log 2>&1", cmd, pg_dir);
	else
		snprintf(full, sizeof(full), "%s >>%s/cmd.log 2>&1", cmd, pg_dir);
	rv = system(full);
	if (must && rv != 0) {
		fprintf(stderr, "  command failed (%d): %s\n", rv, cmd);
		snprintf(full, sizeof(full), "tail -20 %s/cmd.log >&2", pg_dir);
		if (system(full) == -1)
			perror("system");
		exit(1);
	}
}

static void
pg_start(void)
{
	char	cmd[768];

	snprintf(cmd, sizeof(cmd), PGBIN "/pg_ctl -D %s/data -l %s/server.log -w"
	    " -o \"-c listen_addresses='' -c unix_socket_directories=%s"
	    " -c fsync=off -c max_connections=40\" start", pg_dir, pg_dir, pg_dir);
	sh(cmd, true);
	pg_running = true;
}

static void
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
static void
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

static struct event_base	*base;

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fprintf(stderr, "  watchdog: case still running after %d s\n", WATCHDOG_S);
	exit(1);
}

static void
setup_loop(void)
{
	struct timeval	 tv = { WATCHDOG_S, 0 };
	struct event	*ev;

	CHECK((base = event_base_new()) != NULL);
	CHECK((ev = evtimer_new(base, watchdog_cb, NULL)) != NULL);
	CHECK(evtimer_add(ev, &tv) == 0);
}

static long long
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
static void
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
static void
run_for(int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	CHECK(event_base_loopexit(base, &tv) == 0);
	CHECK(event_base_dispatch(base) == 0);
}

/*
 * Callbacks record what they saw.
 */

struct seen {
	int		 calls;
	int		 order;		/* position among completions */
	bool		 had_res;
	ExecStatusType	 status;
	char		 state[8];	/* SQLSTATE */
	char		 value[64];	/* first field of the first row, cut */
	size_t		 value_len;	/* its full length */
	int		 ntuples;
	char		 error[128];
	bool		 unknown;
	long long	 at;		/* now_ms() at the callback */
};

static struct db	*db;
static int		 completions;

static void
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

static struct seen	*wait_one;
static bool
one_done(void)
{
	return wait_one->calls > 0;
}

/* Runs sql (no parameters) to completion and returns what was seen. */
static void
run_query(struct seen *s, const char *sql, int limit_ms)
{
	memset(s, 0, sizeof(*s));
	CHECK(db_query(db, sql, 0, NULL, record_cb, s) == 0);
	wait_one = s;
	run_until(one_done, limit_ms, sql);
}

static bool
is_available(void)
{
	return db_available(db);
}

static bool
is_unavailable(void)
{
	return !db_available(db);
}

static struct db *
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
 * Cases.
 */

#define NCONC	200
static struct seen	conc[NCONC];
static int		conc_left;

static void
conc_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	record_cb(res, error, unknown, arg);
	conc_left--;
}

static bool
conc_done(void)
{
	return conc_left == 0;
}

/* Many queries over 4 connections: every one answered once, with its own
 * result, whatever the order of completion. Also a NULL and an awkward text
 * parameter, results far larger than libpq's buffer, and a WARNING that must
 * leave a success a success. */
static void
concurrent(void)
{
	static const char	*sql = "SELECT ($1::int * 2)::text,"
	    " pg_sleep(CASE WHEN $1::int = 0 THEN 0.3 ELSE 0 END)";
	char			 num[16];
	const char		*vals[2];
	struct seen		 s, nul, big, rows, warn;
	int			 i;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 4);
	conc_left = NCONC;
	for (i = 0; i < NCONC; i++) {
		snprintf(num, sizeof(num), "%d", i);
		vals[0] = num;
		CHECK(db_query(db, sql, 1, vals, conc_cb, &conc[i]) == 0);
	}
	/* values were copied: clobbering the buffer changes nothing */
	memset(num, 'x', sizeof(num) - 1);
	CHECK_INT(db_backlog(db), NCONC);
	run_until(conc_done, 15000, "all concurrent queries");
	for (i = 0; i < NCONC; i++) {
		CHECK_INT(conc[i].calls, 1);
		CHECK(conc[i].had_res);
		CHECK_INT(conc[i].status, PGRES_TUPLES_OK);
		CHECK_STR(conc[i].error, "");
		CHECK(!conc[i].unknown);
		snprintf(num, sizeof(num), "%d", i * 2);
		CHECK_STR(conc[i].value, num);
	}
	/* query 0 slept while the other connections went on */
	CHECK(conc[0].order > 0);
	CHECK_INT(db_backlog(db), 0);
	CHECK(db_available(db));

	memset(&nul, 0, sizeof(nul));
	vals[0] = NULL;
	vals[1] = "it's \"quoted\" \xe5\xb7\xa5\xe8\xb5\x84 $2";
	CHECK(db_query(db, "SELECT ($1::text IS NULL)::text || '|' || $2::text",
	    2, vals, record_cb, &nul) == 0);
	wait_one = &nul;
	run_until(one_done, 5000, "NULL parameter");
	CHECK_STR(nul.value, "true|it's \"quoted\" \xe5\xb7\xa5\xe8\xb5\x84 $2");

	run_query(&big, "SELECT repeat('x', 3000000)", 10000);
	CHECK_INT(big.status, PGRES_TUPLES_OK);
	CHECK_INT(big.value_len, 3000000);
	CHECK_INT(strspn(big.value, "x"), sizeof(big.value) - 1);
	run_query(&rows, "SELECT g FROM generate_series(1, 100000) g", 10000);
	CHECK_INT(rows.status, PGRES_TUPLES_OK);
	CHECK_INT(rows.ntuples, 100000);

	run_query(&warn, "DO $$BEGIN RAISE WARNING 'replication wait cancelled';"
	    " RAISE NOTICE 'n'; END$$", 5000);
	CHECK(warn.had_res);
	CHECK_INT(warn.status, PGRES_COMMAND_OK);
	CHECK_STR(warn.error, "");

	run_query(&s, "SELECT 'still fine'", 5000);
	CHECK_STR(s.value, "still fine");
	db_free(db);
}

/* An SQL error arrives as a result carrying its SQLSTATE, not as a failure
 * of the request, and the connection stays usable. */
static void
sql_error(void)
{
	struct seen	s;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	run_query(&s, "SELECT 1/0", 5000);
	CHECK(s.had_res);
	CHECK_INT(s.status, PGRES_FATAL_ERROR);
	CHECK_STR(s.state, "22012");
	CHECK_STR(s.error, "");
	CHECK(!s.unknown);

	run_query(&s, "SELEC 1", 5000);
	CHECK(s.had_res);
	CHECK_INT(s.status, PGRES_FATAL_ERROR);
	CHECK_STR(s.state, "42601");

	run_query(&s, "CREATE TABLE t (id int PRIMARY KEY)", 5000);
	CHECK_INT(s.status, PGRES_COMMAND_OK);
	run_query(&s, "INSERT INTO t VALUES (1)", 5000);
	CHECK_INT(s.status, PGRES_COMMAND_OK);
	run_query(&s, "INSERT INTO t VALUES (1)", 5000);
	CHECK_INT(s.status, PGRES_FATAL_ERROR);
	CHECK_STR(s.state, "23505");

	run_query(&s, "SELECT 42", 5000);
	CHECK_INT(s.status, PGRES_TUPLES_OK);
	CHECK_STR(s.value, "42");
	db_free(db);
}

static struct seen	killed[3];

static bool
killed_done(void)
{
	return killed[0].calls && killed[1].calls && killed[2].calls;
}

/* The server dies under three running statements: each is reported as lost
 * with unknown=true (it may have run). A statement queued while the server
 * is down waits, and runs once it is back. */
static void
server_killed(void)
{
	struct seen	s, later;
	int		i;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 3);
	db_set_down_grace(db, 15000);
	run_until(is_available, 5000, "first connection");
	for (i = 0; i < 3; i++)
		CHECK(db_query(db, "SELECT pg_sleep(10)", 0, NULL, record_cb,
		    &killed[i]) == 0);
	run_for(500);
	CHECK_INT(db_backlog(db), 3);
	CHECK(!killed[0].calls && !killed[1].calls && !killed[2].calls);
	pg_stop();
	run_until(killed_done, 5000, "lost statements");
	for (i = 0; i < 3; i++) {
		CHECK_INT(killed[i].calls, 1);
		CHECK(!killed[i].had_res);
		CHECK(killed[i].unknown);
		CHECK_STR(killed[i].error, "connection to database lost");
	}
	run_until(is_unavailable, 5000, "pool to notice");

	/* within the grace: queued, not refused */
	memset(&later, 0, sizeof(later));
	CHECK(db_query(db, "SELECT 'after restart'", 0, NULL, record_cb,
	    &later) == 0);
	run_for(700);
	CHECK_INT(later.calls, 0);
	CHECK_INT(db_backlog(db), 1);
	pg_start();
	wait_one = &later;
	run_until(one_done, 8000, "query queued across the restart");
	CHECK(later.had_res);
	CHECK(!later.unknown);
	CHECK_STR(later.value, "after restart");
	CHECK(db_available(db));

	run_query(&s, "SELECT 'and new ones'", 8000);
	CHECK_STR(s.value, "and new ones");
	CHECK_INT(db_backlog(db), 0);
	db_free(db);
}

static int	refused_calls;

static void
never_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)res;
	(void)error;
	(void)unknown;
	(void)arg;
	refused_calls++;
}

/* With the server gone, requests queue during the grace (and fail at their
 * deadline with unknown=false: never sent); past the grace db_query refuses
 * at once without calling back. */
static void
down_fast_fail(void)
{
	struct seen	s, queued;
	long long	t0;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 2);
	db_set_down_grace(db, 1000);
	db_set_deadline(db, 600);
	run_query(&s, "SELECT 1", 5000);
	CHECK_STR(s.value, "1");
	pg_stop();
	run_until(is_unavailable, 5000, "pool to notice");
	t0 = now_ms();

	memset(&queued, 0, sizeof(queued));
	CHECK(db_query(db, "SELECT 2", 0, NULL, record_cb, &queued) == 0);
	wait_one = &queued;
	run_until(one_done, 3000, "deadline of a queued request");
	CHECK(!queued.had_res);
	CHECK(!queued.unknown);
	CHECK(queued.error[0] != '\0');
	CHECK(queued.at - t0 >= 550);

	run_for(600);		/* now past the 1000 ms grace */
	CHECK(!db_available(db));
	CHECK(db_query(db, "SELECT 3", 0, NULL, never_cb, NULL) == -1);
	run_for(300);
	CHECK_INT(refused_calls, 0);
	CHECK_INT(db_backlog(db), 0);

	/* and once the server is back, it accepts again */
	pg_start();
	run_until(is_available, 8000, "reconnect");
	run_query(&s, "SELECT 4", 5000);
	CHECK_STR(s.value, "4");
	db_free(db);
}

/* A statement past its deadline gets its connection closed and the callback
 * with unknown=true; the pool reconnects and carries on. */
static void
deadline(void)
{
	struct seen	s, slow;
	long long	t0;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	run_query(&s, "SELECT 1", 5000);
	db_set_deadline(db, 300);
	t0 = now_ms();
	run_query(&slow, "SELECT pg_sleep(5)", 3000);
	CHECK(!slow.had_res);
	CHECK(slow.unknown);
	CHECK(slow.error[0] != '\0');
	CHECK(slow.at - t0 >= 280);
	CHECK(slow.at - t0 < 1500);

	db_set_deadline(db, 5000);
	run_query(&s, "SELECT 'next'", 5000);
	CHECK(s.had_res);
	CHECK_STR(s.value, "next");
	db_free(db);
}

static struct seen	queue_seen;
static int		shut_calls, shut_unknown;

static void
shut_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)arg;
	CHECK(res == NULL);
	CHECK(error != NULL && error[0] != '\0');
	shut_calls++;
	shut_unknown += unknown;
}

/* The queue holds DB_QUEUE_MAX requests and refuses the next; db_free calls
 * back every one of them (never sent: unknown=false). No server needed. */
static void
queue_full(void)
{
	int	i;

	setup_loop();
	db = db_open("host=/nonexistent-wagepay-test dbname=x user=x", 2);
	for (i = 0; i < DB_QUEUE_MAX; i++)
		CHECK(db_query(db, "SELECT 1", 0, NULL, shut_cb, NULL) == 0);
	CHECK(db_query(db, "SELECT 1", 0, NULL, never_cb, &queue_seen) == -1);
	CHECK_INT(db_backlog(db), DB_QUEUE_MAX);
	run_for(300);
	CHECK(!db_available(db));
	CHECK_INT(shut_calls, 0);
	db_free(db);
	CHECK_INT(shut_calls, DB_QUEUE_MAX);
	CHECK_INT(shut_unknown, 0);
	CHECK_INT(refused_calls, 0);
}

/* db_new and db_set_dsn refuse a DSN libpq cannot parse and keep the old
 * one; a good new DSN is used by the next connections. */
static void
set_dsn(void)
{
	struct perr	 err;
	struct seen	 s, busy;
	char		 bad[512];

	pg_setup();
	setup_loop();
	perr_clear(&err);
	CHECK(db_new(base, "host=/tmp nonsense", 1, &err) == NULL);
	CHECK_STR(err.code, "WP90");
	CHECK(db_new(base, pg_dsn, 0, &err) == NULL);

	snprintf(bad, sizeof(bad), "host=%s/nonexistent dbname=postgres"
	    " user=postgres", pg_dir);
	db = db_open(bad, 2);
	run_for(400);
	CHECK(!db_available(db));
	perr_clear(&err);
	CHECK(db_set_dsn(db, "host='unterminated", &err) == -1);
	CHECK_STR(err.code, "WP90");
	CHECK(db_set_dsn(db, pg_dsn, &err) == 0);
	run_until(is_available, 8000, "connection with the new DSN");
	run_query(&s, "SELECT current_user", 5000);
	CHECK_STR(s.value, "postgres");
	db_free(db);

	/* A connection busy at the change finishes its statement on the old
	 * DSN, then moves to the new one. */
	db = db_open(pg_dsn, 1);
	run_query(&s, "SELECT current_setting('application_name')", 5000);
	CHECK_STR(s.value, "");
	memset(&busy, 0, sizeof(busy));
	CHECK(db_query(db, "SELECT pg_sleep(0.3)::text", 0, NULL, record_cb,
	    &busy) == 0);
	run_for(100);
	snprintf(bad, sizeof(bad), "%s application_name=wagepay-new", pg_dsn);
	CHECK(db_set_dsn(db, bad, &err) == 0);
	wait_one = &busy;
	run_until(one_done, 5000, "statement across the DSN change");
	CHECK(busy.had_res);
	CHECK_INT(busy.status, PGRES_TUPLES_OK);
	run_query(&s, "SELECT current_setting('application_name')", 5000);
	CHECK_STR(s.value, "wagepay-new");
	db_free(db);
}

/* The first host accepts the TCP-level connection and then never answers
 * (libpq ignores connect_timeout under PQconnectPoll): the pool's own
 * attempt clock gives up on it and the next attempt starts at the next
 * host. */
static void
stalled_host(void)
{
	struct sockaddr_un	 sun;
	char			 stall[80], dsn[512];
	struct seen		 s;
	long long		 t0;
	int			 fd;

	pg_setup();
	setup_loop();
	snprintf(stall, sizeof(stall), "%s/stall", pg_dir);
	CHECK(mkdir(stall, 0755) == 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s.PGSQL.5432", stall);
	CHECK((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(listen(fd, 16) == 0);	/* and never accept */

	snprintf(dsn, sizeof(dsn), "host=%s,%s port=5432 dbname=postgres"
	    " user=postgres target_session_attrs=read-write connect_timeout=2",
	    stall, pg_dir);
	t0 = now_ms();
	db = db_open(dsn, 1);
	run_query(&s, "SELECT 'past the stall'", 10000);
	CHECK_STR(s.value, "past the stall");
	CHECK(now_ms() - t0 >= 1900);
	db_free(db);
	close(fd);
}

/* The server ends our backend in the middle of a statement (an operator's
 * pg_terminate_backend, or a failover tool): the FATAL message that comes
 * before the end of the connection is not the statement's result. */
static void
backend_terminated(void)
{
	struct seen	victim, killer, s;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 2);
	memset(&victim, 0, sizeof(victim));
	CHECK(db_query(db, "SELECT pg_sleep(10) AS victim", 0, NULL, record_cb,
	    &victim) == 0);
	run_for(300);
	run_query(&killer, "SELECT count(pg_terminate_backend(pid))::text"
	    " FROM pg_stat_activity WHERE query LIKE '%AS victim'"
	    " AND pid <> pg_backend_pid()", 5000);
	CHECK_STR(killer.value, "1");
	wait_one = &victim;
	run_until(one_done, 5000, "terminated statement");
	CHECK(!victim.had_res);
	CHECK(victim.unknown);
	CHECK_STR(victim.error, "connection to database lost");
	run_query(&s, "SELECT 'alive'", 5000);
	CHECK_STR(s.value, "alive");
	db_free(db);
}

static int	accepts;

static void
slam_cb(evutil_socket_t fd, short what, void *arg)
{
	int	c;

	(void)what;
	(void)arg;
	if ((c = accept(fd, NULL, NULL)) != -1) {
		accepts++;
		close(c);
	}
}

/* A server that hangs up on every attempt is retried after 100, 200, 400,
 * 800, 1600 ms...: about five attempts in 2.5 s, not hundreds. */
static void
backoff(void)
{
	struct sockaddr_un	 sun;
	struct event		*ev;
	char			 dir[] = "/tmp/wpdb.XXXXXX", dsn[256], path[128];
	int			 fd;

	setup_loop();
	CHECK(mkdtemp(dir) != NULL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s.PGSQL.5432", dir);
	CHECK((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) != -1);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(listen(fd, 16) == 0);
	CHECK((ev = event_new(base, fd, EV_READ | EV_PERSIST, slam_cb, NULL))
	    != NULL);
	CHECK(event_add(ev, NULL) == 0);

	snprintf(dsn, sizeof(dsn), "host=%s dbname=x user=x", dir);
	db = db_open(dsn, 1);
	run_for(2500);
	CHECK(!db_available(db));
	db_free(db);
	event_free(ev);
	close(fd);
	snprintf(path, sizeof(path), "%s", sun.sun_path);
	unlink(path);
	rmdir(dir);
	fprintf(stderr, "  %d attempts\n", accepts);
	CHECK(accepts >= 4);
	CHECK(accepts <= 6);
}

/*
 * Binary parameters (db_query_bin).
 */

static char	*full;		/* whole first field of the last full_cb */
static int	 full_calls;

/* As record_cb, for one field longer than struct seen keeps. */
static void
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

static bool
full_done(void)
{
	return full_calls > 0;
}

static void
run_full(const char *sql, int n, const char *const *vals, const int *lens,
    const int *fmts)
{
	full_calls = 0;
	CHECK(db_query_bin(db, sql, n, vals, lens, fmts, full_cb, NULL) == 0);
	run_until(full_done, 8000, sql);
	CHECK(full != NULL);
}

/* Binary and text parameters side by side: lengths are honoured (NUL bytes
 * inside), NULL is NULL, bad formats and lengths are refused up front, and
 * a request queued while the server is down owns its copies: the caller's
 * buffer is scribbled over and freed before the request is even sent. */
static void
binary_params(void)
{
	static const char	 sql[] = "SELECT $1::text || '|' || $2::int8 || '|' "
	    "|| ($3::bytea IS NULL) || '|' || $4::bytea::text || '|' || "
	    "length($5::bytea)";
	static const char	 want[] =
	    "text|72623859790382856|true|\\x00ff00|0";
	const char		*vals[5];
	int			 lens[5] = { 0, 8, 5, 3, 0 };
	int			 fmts[5] = { 0, 1, 1, 1, 1 };
	char			*buf;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	db_set_down_grace(db, 15000);
	run_until(is_available, 5000, "first connection");

	CHECK((buf = malloc(16)) != NULL);
	memcpy(buf, "\x01\x02\x03\x04\x05\x06\x07\x08\x00\xff\x00", 11);
	vals[0] = "text";
	vals[1] = buf;
	vals[2] = NULL;
	vals[3] = buf + 8;
	vals[4] = buf;
	run_full(sql, 5, vals, lens, fmts);
	CHECK_STR(full, want);

	fmts[1] = 2;
	CHECK(db_query_bin(db, sql, 5, vals, lens, fmts, full_cb, NULL) == -1);
	fmts[1] = 1;
	lens[1] = -1;
	CHECK(db_query_bin(db, sql, 5, vals, lens, fmts, full_cb, NULL) == -1);
	lens[1] = 8;
	CHECK(db_query_bin(db, sql, 5, vals, NULL, fmts, full_cb, NULL) == -1);
	CHECK_INT(db_backlog(db), 0);

	/* formats NULL: all text, as db_query */
	run_full("SELECT $1::text || $2::text", 2, vals, NULL, NULL);
	CHECK_STR(full, "text\x01\x02\x03\x04\x05\x06\x07\x08");

	pg_stop();
	run_until(is_unavailable, 5000, "pool to notice");
	full_calls = 0;
	CHECK(db_query_bin(db, sql, 5, vals, lens, fmts, full_cb, NULL) == 0);
	memset(buf, 0xaa, 16);
	free(buf);
	run_for(500);
	CHECK_INT(full_calls, 0);
	CHECK_INT(db_backlog(db), 1);
	pg_start();
	run_until(full_done, 8000, "binary query queued across the restart");
	CHECK_STR(full, want);
	db_free(db);
	free(full);
}

/* The arrays of daemon/sheetlines.c as the server reads them: every value
 * back, in order, with NULLs where a line has no pre-check refusal and no
 * quoting trouble from braces, quotes, backslashes or the word NULL. */
static void
sheetlines_round_trip(void)
{
	static const char	 want[] =
	    "1|E1|123456789012|\xe5\xbc\xa0\xe4\xb8\x89|11010519491231002X|"
	    "6222020200000000001|102100099996|WAGE|2024-02-01|0|29|"
	    "2024-03-31T18:00:00+08:00|SIGN|R1|-|-\n"
	    "2|NULL|1|{\"a,b\"}\\ 'x'|11010519491231002X|6222020200000000001|"
	    "102100099996|BACKPAY|0001-01-01|9223372036854775807|0|"
	    "2024-03-31T18:00:00+08:00|APP||AC01|card 6222****0001 fails its "
	    "check digit\n"
	    "3|E3|9|x|11010519491231002X|6222020200000000001|102100099996|WAGE|"
	    "9999-12-01|-1|31|2024-03-31T18:00:00+08:00|FACE|R3|-|-"
	    "/1/3";
	struct sheet_line	 l[3];
	struct sheet		 sh;
	struct sheetlines	*sl;
	struct perr		 err;
	char			 sql[2048];
	const char		*vals[SHEETLINES_NCOLS];
	size_t			 n;
	int			 c;

	memset(l, 0, sizeof(l));
	memset(&sh, 0, sizeof(sh));
	snprintf(l[0].end_to_end_id, WP_MAX35_LEN, "E1");
	l[0].amount = INT64_C(123456789012);
	l[0].name = (char *)"\xe5\xbc\xa0\xe4\xb8\x89";
	snprintf(l[0].id_number, WP_ID_NUMBER_LEN, "11010519491231002X");
	snprintf(l[0].card, WP_CARD_LEN, "6222020200000000001");
	snprintf(l[0].card_bank, WP_BANK_CODE_LEN, "102100099996");
	l[0].kind = LINE_WAGE;
	snprintf(l[0].month, WP_MONTH_LEN, "2024-02");
	l[0].days_worked = 29;
	snprintf(l[0].confirmed_at, WP_DATETIME_LEN, "2024-03-31T18:00:00+08:00");
	snprintf(l[0].confirm_method, 8, "SIGN");
	snprintf(l[0].confirm_ref, sizeof(l[0].confirm_ref), "R1");
	l[1] = l[0];
	l[2] = l[0];
	snprintf(l[1].end_to_end_id, WP_MAX35_LEN, "NULL");
	l[1].amount = 1;
	l[1].name = (char *)"{\"a,b\"}\\ 'x'";
	l[1].kind = LINE_BACKPAY;
	snprintf(l[1].month, WP_MONTH_LEN, "0001-01");
	l[1].gross = INT64_MAX;
	l[1].days_worked = 0;
	snprintf(l[1].confirm_method, 8, "APP");
	l[1].confirm_ref[0] = '\0';
	snprintf(l[1].err.code, sizeof(l[1].err.code), "AC01");
	snprintf(l[1].err.msg, sizeof(l[1].err.msg), "card 6222****0001 fails its check digit");
	snprintf(l[2].end_to_end_id, WP_MAX35_LEN, "E3");
	l[2].amount = 9;
	l[2].name = (char *)"x";
	snprintf(l[2].month, WP_MONTH_LEN, "9999-12");
	l[2].gross = -1;
	l[2].days_worked = 31;
	snprintf(l[2].confirm_method, 8, "FACE");
	snprintf(l[2].confirm_ref, sizeof(l[2].confirm_ref), "R3");
	sh.lines = l;
	sh.nlines = 3;
	CHECK((sl = sheetlines_new(&sh, &err)) != NULL);

	n = (size_t)snprintf(sql, sizeof(sql), "SELECT string_agg(concat_ws('|', "
	    "x.seq, x.e2e, x.amount, x.name, x.idn, x.card, x.bank, x.kind, "
	    "x.month, x.gross, x.days, x.at, x.method, x.ref, "
	    "coalesce(x.pre_code, '-'), coalesce(x.pre_text, '-')), E'\\n' "
	    "ORDER BY x.seq) || '/' || array_lower($1::text[], 1) || '/' || "
	    "cardinality($1::text[]) FROM unnest(");
	for (c = 0; c < SHEETLINES_NCOLS; c++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s$%d::%s",
		    c > 0 ? ", " : "", c + 1, sheetlines_sqltype[c]);
	snprintf(sql + n, sizeof(sql) - n, ") WITH ORDINALITY AS x(e2e, "
	    "amount, name, idn, card, bank, kind, month, gross, days, at, "
	    "method, ref, pre_code, pre_text, seq)");
	for (c = 0; c < SHEETLINES_NCOLS; c++)
		vals[c] = sl->values[c];

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	run_full(sql, SHEETLINES_NCOLS, vals, sl->lengths, sl->formats);
	if (strcmp(full, want) != 0)
		fprintf(stderr, "  got:\n%s\n  want:\n%s\n", full, want);
	CHECK_STR(full, want);
	sheetlines_free(sl);

	/* no lines: empty arrays, no rows */
	sh.nlines = 0;
	CHECK((sl = sheetlines_new(&sh, &err)) != NULL);
	for (c = 0; c < SHEETLINES_NCOLS; c++)
		vals[c] = sl->values[c];
	run_full(sql, SHEETLINES_NCOLS, vals, sl->lengths, sl->formats);
	CHECK_STR(full, "(null)");
	sheetlines_free(sl);
	db_free(db);
	free(full);
}

/* A statement over 4 MiB renews its connection once idle (libpq would keep
 * a send buffer that large for the life of the connection); a small one
 * does not. One connection, so the backend's pid tells. */
static void
large_statement_renews(void)
{
	struct seen	 a, b, c;
	const char	*vals[1];
	int		 lens[1], fmts[1] = { 1 };
	char		*big;
	size_t		 n = 5u << 20;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	db_set_down_grace(db, 15000);
	run_until(is_available, 5000, "first connection");
	run_query(&a, "SELECT pg_backend_pid()", 5000);
	run_query(&b, "SELECT pg_backend_pid()", 5000);
	CHECK_STR(a.value, b.value);		/* small: the same backend */

	CHECK((big = calloc(1, n)) != NULL);
	vals[0] = big;
	lens[0] = (int)n;
	run_full("SELECT length($1::bytea)", 1, vals, lens, fmts);
	CHECK_STR(full, "5242880");
	free(big);
	run_until(is_available, 5000, "the renewed connection");
	run_query(&c, "SELECT pg_backend_pid()", 5000);
	CHECK(c.had_res && c.value[0] != '\0');
	CHECK(strcmp(c.value, b.value) != 0);	/* large: a new backend */
	db_free(db);
	free(full);
}

const struct unit_case db_cases[] = {
	{ "concurrent", concurrent },
	{ "sql_error", sql_error },
	{ "server_killed", server_killed },
	{ "down_fast_fail", down_fast_fail },
	{ "deadline", deadline },
	{ "queue_full", queue_full },
	{ "set_dsn", set_dsn },
	{ "stalled_host", stalled_host },
	{ "backend_terminated", backend_terminated },
	{ "backoff", backoff },
	{ "binary_params", binary_params },
	{ "sheetlines_round_trip", sheetlines_round_trip },
	{ "large_statement_renews", large_statement_renews },
	{ NULL, NULL }
};
