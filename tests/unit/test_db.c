/*
 * test_db.c: the pool of daemon/db.c against a real, throwaway PostgreSQL
 * 15 (tests/unit/pgharness.c): concurrency, errors, a killed or stalled
 * server, deadlines, a full queue, a new DSN, backoff. Every case runs the
 * loop under a watchdog that fails it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgharness.h"
#include "unit.h"

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
	{ NULL, NULL }
};
