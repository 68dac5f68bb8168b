/*
 * pgharness.h: what the unit tests of daemon/db.c share (test_db.c, the
 * pool's behaviour; test_dbbin.c, binary parameters): a throwaway
 * PostgreSQL 15 per case, an event loop under a watchdog, and callbacks
 * that record what a query returned.
 */
#ifndef PGHARNESS_H
#define PGHARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "../../daemon/db.h"

#define PGBIN		"/usr/lib/postgresql/15/bin"
#define WATCHDOG_S	20

/*
 * The throwaway server: pg_setup initdb's one into a mkdtemp directory (as
 * the postgres user when run as root), listening on a unix socket there
 * only, fsync off, stopped with `pg_ctl stop -m immediate` at exit (atexit,
 * so a failed CHECK cleans up too). pg_dsn is a multi-host DSN whose first
 * host does not exist, so that every case also exercises libpq moving on to
 * the next host during PQconnectPoll.
 */
extern char	pg_dir[64];	/* "" when none */
extern bool	pg_running;
extern char	pg_dsn[256];

void		sh(const char *cmd, bool must);	/* a command as postgres */
void		pg_setup(void);
void		pg_start(void);
void		pg_stop(void);

/* The loop, failing the case if it still runs after WATCHDOG_S. */
extern struct event_base *base;
void		setup_loop(void);
long long	now_ms(void);
/* Runs the loop until cond() holds; fails the case after limit_ms. */
void		run_until(bool (*cond)(void), int limit_ms, const char *what);
void		run_for(int ms);

/* What a callback saw. */
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

extern struct db *db;		/* the pool under test */
extern int	completions;	/* callbacks so far, for struct seen's order */
void		record_cb(PGresult *, const char *error, bool unknown, void *arg);
/* one_done: wait_one has been called back (for run_until). */
extern struct seen *wait_one;
bool		one_done(void);
/* Runs sql (no parameters) to completion into *s. */
void		run_query(struct seen *s, const char *sql, int limit_ms);
bool		is_available(void);
bool		is_unavailable(void);
struct db	*db_open(const char *dsn, int nconns);

/* The whole first field of a one-row answer, for values longer than struct
 * seen keeps ("(null)" for NULL); run_full runs db_query_bin into it. */
extern char	*full;
extern int	 full_calls;
void		full_cb(PGresult *, const char *error, bool unknown, void *arg);
bool		full_done(void);
void		run_full(const char *sql, int n, const char *const *vals,
		    const int *lens, const int *fmts);

#endif
