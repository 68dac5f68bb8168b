/*
 * dbint.h: what daemon/db.c (the pool) and daemon/dblease.c (its sessions)
 * share, and nothing else includes: the pool's structures and the few
 * internal steps a session is built from.
 */
#ifndef DBINT_H
#define DBINT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "db.h"

struct dbreq {
	TAILQ_ENTRY(dbreq)	 entry;		/* db->queue, lease->queue or
						 * conn->inflight */
	struct db		*db;
	struct dbconn		*conn;		/* NULL while queued */
	struct dblease		*lease;		/* queued on it, while not sent */
	struct event		*deadline;	/* owned */
	db_cb			*cb;
	void			*arg;
	int			 nparams;
	const char		**values;	/* points into this allocation */
	int			*lengths;	/* idem; NULL when all are text */
	int			*formats;	/* idem; NULL when all are text */
	const char		*sql;		/* points into this allocation */
	size_t			 size;		/* of this allocation */
};
TAILQ_HEAD(dbreq_list, dbreq);
TAILQ_HEAD(dbleasewait_list, dbleasewait);

struct dblease {
	struct db		*db;
	struct dbconn		*conn;		/* NULL once lost */
	struct dbreq_list	 queue;		/* not yet sent, in order */
};

enum dbconn_state {
	DBC_DOWN = 0,		/* no PGconn; the timer brings it back */
	DBC_CONNECTING,		/* PQconnectPoll in progress; timer = attempt clock */
	DBC_UP			/* usable; idle when inflight is empty */
};

struct dbconn {
	struct db		*db;
	int			 id;		/* for log lines */
	enum dbconn_state	 state;
	PGconn			*pg;		/* owned; NULL when DOWN */
	struct event		*ev;		/* owned; I/O on PQsocket */
	evutil_socket_t		 evfd;
	short			 evwhat;
	struct event		*timer;		/* owned; backoff or connect clock */
	int			 backoff_ms;	/* next delay after a failure */
	int			 failures;	/* consecutive failed attempts */
	unsigned		 rotate;	/* start the host list here */
	unsigned		 gen;		/* DSN generation it connected with */
	bool			 flushing;	/* PQflush said 1: wait for EV_WRITE */
	bool			 recycle;	/* renew once idle (RECYCLE_BYTES) */
	PGresult		*last;		/* owned; latest result of inflight head */
	struct dblease		*lease;		/* taken out of the pool by it */
	struct dbreq_list	 inflight;
	int			 ninflight;
};

struct db {
	struct event_base	*base;
	PQconninfoOption	*opts;		/* owned; parsed current DSN */
	unsigned		 gen;		/* bumped by db_set_dsn */
	int			 connect_ms;
	struct dbconn		*conns;		/* owned; nconns of them */
	int			 nconns;
	int			 nup;
	struct timespec		 down_since;	/* when nup last became 0 */
	struct dbreq_list	 queue;
	int			 nqueued;
	struct dbleasewait_list	 waiters;	/* dblease_wait, first first */
	int			 ninflight;
	int			 next;		/* round robin over idle connections */
	int			 deadline_ms;
	int			 grace_ms;
	bool			 dispatching;
	bool			 closing;
	unsigned long		 notices;	/* NOTICE/WARNING seen, for debugging */
};

extern const char ERR_RELEASED[];

/* A request with its own copy of everything, its deadline running; NULL
 * for arguments db_query_bin refuses or out of memory. */
struct dbreq	*db_req_new(struct db *, const char *sql, int nparams,
		    const char *const *values, const int *lengths,
		    const int *formats, db_cb *cb, void *arg);
/* Ends a request: unlinks it, runs the callback, clears res, frees it. */
void		 db_req_finish(struct dbreq *, PGresult *res, const char *error,
		    bool unknown);
bool		 db_conn_is_up(const struct dbconn *);
/* Idle, up, of the current DSN, in the pool (not leased). */
bool		 db_conn_can_take(const struct dbconn *);
/* Drops the connection with everything sent on it (and its session). */
void		 db_conn_drop(struct dbconn *, const char *error, bool backoff);
void		 db_conn_close(struct dbconn *);
void		 db_conn_start(struct dbconn *);
/* Gives queued requests to idle connections, a session's to its own. */
void		 db_dispatch(struct db *);
/* Gives free connections to the sessions waited for (dblease_wait), from
 * inside db_dispatch, before the pool's queue. */
void		 dblease_serve_waiters(struct db *);

#endif
