/*
 * db.h: the non-blocking PostgreSQL pool on the daemon's libevent loop
 * (daemon/db.c). Self-contained for now; the lead folds it into
 * daemon/daemon.h as its "db.c" section.
 *
 * Every function here must be called on the loop thread. None of them
 * blocks (libpq's own DNS lookup during connect excepted: use hostaddr= or
 * a local resolver for names that must never stall the loop).
 */
#ifndef DB_H
#define DB_H

#include <sys/queue.h>

#include <stdbool.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "wagepay.h"

#define DB_DEADLINE_DEFAULT_MS	30000	/* per request, queue time included */
#define DB_DOWN_GRACE_DEFAULT_MS 5000	/* queue, rather than refuse, this long */
#define DB_QUEUE_MAX		10000	/* requests waiting for a connection */
#define DB_CONNS_MAX		256

struct db;
/* Called once per request on the loop thread. res is NULL when the request
 * failed without a result from the server (no connection, connection lost,
 * deadline passed); then error says why and `unknown` is true if the request
 * may have been executed (sent, no answer). The callee must NOT PQclear res:
 * db.c clears it after the callback returns. */
typedef void db_cb(PGresult *res, const char *error, bool unknown, void *arg);

/* Starts nconns (1..DB_CONNS_MAX) connections to dsn in the background and
 * returns at once; NULL with err (WP90) for a DSN libpq cannot parse or a
 * bad nconns. Requests made before a connection is up wait in the queue. */
struct db *db_new(struct event_base *, const char *dsn, int nconns, struct perr *);
/* Closes every connection. Must not be called from inside a db_cb. */
void       db_free(struct db *);   /* fails every queued request (callback with error) */
/* Queues one statement (parameters as text, NULL for SQL NULL). Returns 0, or -1 if
 * the queue is full or no connection has been up for `down_grace` (then the caller
 * answers 503 at once; the callback is NOT called). values are copied. */
int        db_query(struct db *, const char *sql, int nparams, const char *const *values,
               db_cb *cb, void *arg) WUR;
/* As db_query, with parameters in PostgreSQL's binary format where formats[i]
 * is 1: lengths[i] bytes of values[i] (NULL still means SQL NULL); formats[i]
 * 0, or formats NULL, means text as in db_query, and then lengths may be NULL.
 * The SQL must give each binary parameter its type (`$9::int8[]`): the server
 * reads the bytes with that type's receive function. Everything is copied
 * before it returns; -1 also for a format other than 0 or 1 or a negative
 * length. Results are text. */
int        db_query_bin(struct db *, const char *sql, int nparams,
               const char *const *values, const int *lengths, const int *formats,
               db_cb *cb, void *arg) WUR;
/*
 * Sessions: a connection taken out of the pool for statements run in order
 * on it, e.g. BEGIN ... COMMIT across several calls. dblease_take returns NULL
 * (take the one-call path) unless a connection is idle now, nothing waits
 * in the pool's queue, and keep other connections stay in the pool.
 * dblease_query_bin is db_query_bin on the session (-1 once it has lost its
 * connection: every request queued or sent on it then fails, unknown when
 * sent). dblease_release gives the connection back, and closes it instead if a
 * transaction is still open on it; requests still queued fail. After a
 * loss, dblease_release only frees the lease.
 */
struct dblease;
struct dblease *dblease_take(struct db *, int keep);
int        dblease_query_bin(struct dblease *, const char *sql, int nparams,
               const char *const *values, const int *lengths, const int *formats,
               db_cb *cb, void *arg) WUR;
bool       dblease_lost(const struct dblease *);
void       dblease_release(struct dblease *);
/*
 * A session wanted as soon as a connection is free, ahead of the pool's
 * queue: under a steady load that queue seldom empties, and dblease_take would
 * refuse for as long as it lasts. Once per sheet of many megabytes, whose
 * one-call form would take a connection for seconds. The caller owns the
 * struct and sets keep, cb and arg; cb runs once, on the loop thread, from
 * inside the pool's dispatch, with the session. dblease_wait_cancel
 * withdraws a wait not yet answered (and does nothing otherwise, also
 * after db_free, which drops every wait unanswered).
 */
struct dbleasewait {
	TAILQ_ENTRY(dbleasewait) entry;
	bool			 queued;
	int			 keep;
	void			(*cb)(struct dblease *, void *);
	void			*arg;
};
void       dblease_wait(struct db *, struct dbleasewait *);
void       dblease_wait_cancel(struct db *, struct dbleasewait *);
bool       db_available(struct db *);      /* at least one connection is up */
int        db_backlog(struct db *);        /* queued + in flight */
/*
 * What to log of a refused statement: the server's primary message only
 * (owned by res). Never PQresultErrorMessage: its DETAIL quotes data ("Key
 * (card)=(...)", "Failing row contains (...)": ID and card numbers).
 */
const char *db_error(const PGresult *res);
int        db_queued(struct db *);         /* waiting for a connection */
/* Replaces the DSN (SIGHUP): new connections use it; existing ones finish. */
int        db_set_dsn(struct db *, const char *dsn, struct perr *);
/* Milliseconds: per-request deadline (default 30000); a request past it gets its
 * connection closed and the callback with unknown=true. */
void       db_set_deadline(struct db *, int ms);

/* Beyond the contract above. Milliseconds (default DB_DOWN_GRACE_DEFAULT_MS)
 * that db_query keeps queueing after the last connection went down (or after
 * db_new) before it starts refusing; ms <= 0 restores the default. */
void       db_set_down_grace(struct db *, int ms);

#endif
