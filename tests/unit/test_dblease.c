/*
 * test_dblease.c: sessions of daemon/db.c (dblease_take): a connection taken
 * out of the pool for statements in order, against a real, throwaway
 * PostgreSQL 15 (tests/unit/pgharness.c).
 */
#include <stdio.h>
#include <string.h>

#include "pgharness.h"
#include "unit.h"

/* Sends sql on the session, recording its answer into *s. */
static void
lease_send(struct dblease *l, struct seen *s, const char *sql)
{
	memset(s, 0, sizeof(*s));
	CHECK(dblease_query_bin(l, sql, 0, NULL, NULL, NULL, record_cb, s) == 0);
}

/* A session once the pool's connections are up (they connect in the
 * background): NULL if none is to be had within 5 s. */
static struct dblease *
lease_when_up(int keep)
{
	struct dblease	*l;
	int		 i;

	for (i = 0; i < 100; i++) {
		if ((l = dblease_take(db, keep)) != NULL)
			return l;
		run_for(50);
	}
	return NULL;
}

static void
wait_for(struct seen *s, const char *what)
{
	wait_one = s;
	run_until(one_done, 5000, what);
}

/* A transaction across calls: its statements run in order on one
 * connection, what it wrote is invisible to the pool until COMMIT, and the
 * pool keeps `keep` connections of its own. */
static void
session_in_order(void)
{
	struct dblease	*l1, *l2;
	struct seen	 b, i1, i2, c, s;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 3);
	run_query(&s, "CREATE TABLE t (v int)", 5000);
	CHECK_INT(s.status, PGRES_COMMAND_OK);
	CHECK((l1 = lease_when_up(1)) != NULL);
	CHECK((l2 = lease_when_up(1)) != NULL);
	/* a third would leave the pool no connection of its own */
	CHECK(dblease_take(db, 1) == NULL);
	dblease_release(l2);

	/* sent at once, answered in order */
	lease_send(l1, &b, "BEGIN");
	lease_send(l1, &i1, "INSERT INTO t VALUES (1)");
	lease_send(l1, &i2, "INSERT INTO t VALUES (2)");
	wait_for(&i2, "the session's inserts");
	CHECK_INT(b.status, PGRES_COMMAND_OK);
	CHECK_INT(i1.status, PGRES_COMMAND_OK);
	CHECK_INT(i2.status, PGRES_COMMAND_OK);
	CHECK(b.order < i1.order && i1.order < i2.order);
	run_query(&s, "SELECT count(*)::text FROM t", 5000);
	CHECK_STR(s.value, "0");
	lease_send(l1, &c, "COMMIT");
	wait_for(&c, "COMMIT");
	CHECK_INT(c.status, PGRES_COMMAND_OK);
	run_query(&s, "SELECT count(*)::text FROM t", 5000);
	CHECK_STR(s.value, "2");
	CHECK(!dblease_lost(l1));
	dblease_release(l1);
	/* all three connections serve the pool again */
	CHECK((l1 = lease_when_up(2)) != NULL);
	dblease_release(l1);
	db_free(db);
}

/* Given back with its transaction still open (a sheet refused half-way
 * whose ROLLBACK was never sent): the connection is closed, so the open
 * transaction ends unwritten and never swallows a pool statement. */
static void
released_inside_transaction(void)
{
	struct dblease	*l;
	struct seen	 b, i, s;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 2);
	run_query(&s, "CREATE TABLE t (v int)", 5000);
	CHECK((l = lease_when_up(1)) != NULL);
	lease_send(l, &b, "BEGIN");
	lease_send(l, &i, "INSERT INTO t VALUES (1)");
	wait_for(&i, "the insert");
	CHECK_INT(i.status, PGRES_COMMAND_OK);
	dblease_release(l);
	run_query(&s, "SELECT count(*)::text FROM t", 5000);
	CHECK_STR(s.value, "0");
	/* both connections are back in use: the closed one reconnected */
	CHECK((l = lease_when_up(1)) != NULL);
	lease_send(l, &s, "SELECT 'in a session again'");
	wait_for(&s, "a new session");
	CHECK_STR(s.value, "in a session again");
	dblease_release(l);
	db_free(db);
}

/* The server ends the session's backend: what was sent fails as unknown,
 * what was queued behind it fails as not run, the session refuses more,
 * and the pool goes on. */
static void
session_lost(void)
{
	struct dblease	*l;
	struct seen	 victim, queued, killer, s;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 2);
	run_query(&s, "SELECT 1", 5000);
	CHECK((l = lease_when_up(1)) != NULL);
	lease_send(l, &victim, "SELECT pg_sleep(10) AS session_victim");
	lease_send(l, &queued, "SELECT 'never'");
	run_for(300);
	run_query(&killer, "SELECT count(pg_terminate_backend(pid))::text"
	    " FROM pg_stat_activity WHERE query LIKE '%AS session_victim'"
	    " AND pid <> pg_backend_pid()", 5000);
	CHECK_STR(killer.value, "1");
	wait_for(&queued, "the queued statement");
	CHECK_INT(victim.calls, 1);
	CHECK(!victim.had_res);
	CHECK(victim.unknown);
	CHECK_INT(queued.calls, 1);
	CHECK(!queued.had_res);
	CHECK(!queued.unknown);
	CHECK(dblease_lost(l));
	CHECK(dblease_query_bin(l, "SELECT 1", 0, NULL, NULL, NULL, record_cb,
	    &s) == -1);
	dblease_release(l);
	run_query(&s, "SELECT 'alive'", 5000);
	CHECK_STR(s.value, "alive");
	db_free(db);
}

/* A session is never taken ahead of the pool's own queue. */
static void
queue_first(void)
{
	struct seen	a, b, c;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 2);
	run_query(&a, "SELECT 1", 5000);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	CHECK(db_query(db, "SELECT pg_sleep(0.3)", 0, NULL, record_cb, &a) == 0);
	CHECK(db_query(db, "SELECT pg_sleep(0.3)", 0, NULL, record_cb, &b) == 0);
	CHECK(db_query(db, "SELECT 3", 0, NULL, record_cb, &c) == 0);
	CHECK(dblease_take(db, 0) == NULL);	/* one waits in the queue */
	wait_one = &c;
	run_until(one_done, 5000, "the queue");
	CHECK_STR(c.value, "3");
	wait_one = &b;
	run_until(one_done, 5000, "the queue");
	db_free(db);
}

/* A session waited for (dblease_wait): the first connection to come
 * free goes to it, ahead of the pool's queue; a wait withdrawn is never
 * answered; db_free drops a wait unanswered. */
static struct dblease	*waited;
static int		 waited_calls;
static struct seen	 waited_first;

static void
waited_cb(struct dblease *l, void *arg)
{
	(void)arg;
	waited = l;
	waited_calls++;
	/* sent from inside the pool's dispatch, as sheetapi.c does */
	lease_send(l, &waited_first, "SELECT 'leased'");
}

static void
wait_goes_first(void)
{
	struct dbleasewait	w = { .keep = 1, .cb = waited_cb },
				w2 = { .keep = 1, .cb = waited_cb },
				w3 = { .keep = 1, .cb = waited_cb };
	struct seen		a, b, c, s;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 2);
	run_query(&s, "SELECT 1", 5000);
	run_for(200);		/* both connections up */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	waited = NULL;
	waited_calls = 0;
	CHECK(db_query(db, "SELECT pg_sleep(0.2)", 0, NULL, record_cb, &a) == 0);
	CHECK(db_query(db, "SELECT pg_sleep(1.0)", 0, NULL, record_cb, &b) == 0);
	CHECK(db_query(db, "SELECT 3", 0, NULL, record_cb, &c) == 0);
	CHECK(dblease_take(db, 1) == NULL);		/* the queue is not empty */
	dblease_wait(db, &w);
	CHECK(w.queued);
	CHECK_INT(waited_calls, 0);		/* nothing is free yet */
	dblease_wait(db, &w2);
	dblease_wait_cancel(db, &w2);
	CHECK(!w2.queued);
	wait_one = &waited_first;
	run_until(one_done, 5000, "the waited session's first answer");
	CHECK_INT(waited_calls, 1);
	CHECK(!w.queued);
	CHECK_STR(waited_first.value, "leased");
	CHECK_INT(a.calls, 1);
	/* the queued SELECT 3 came after: it waits for the other connection */
	CHECK_INT(c.calls, 0);
	wait_one = &c;
	run_until(one_done, 5000, "the queue after the session");
	CHECK_STR(c.value, "3");
	CHECK(b.calls == 1 && b.order < c.order);
	CHECK(waited_first.order < c.order);
	run_for(100);
	CHECK_INT(waited_calls, 1);		/* w2 withdrawn: never called */
	/* a wait the pool cannot answer (the one connection not leased must
	 * stay in it) is never answered, and db_free drops it */
	dblease_wait(db, &w3);
	run_for(100);
	CHECK(w3.queued);
	CHECK_INT(waited_calls, 1);
	db_free(db);
	db = NULL;
	CHECK(!w3.queued);
	dblease_wait_cancel(db, &w3);		/* a no-op after db_free */
	CHECK_INT(waited_calls, 1);
	dblease_release(waited);			/* lost with the pool: freed */
}

const struct unit_case dblease_cases[] = {
	{ "session_in_order", session_in_order },
	{ "released_inside_transaction", released_inside_transaction },
	{ "session_lost", session_lost },
	{ "queue_first", queue_first },
	{ "wait_goes_first", wait_goes_first },
	{ NULL, NULL }
};
