/*
 * dblease.c: sessions of the pool (daemon/db.c): a connection taken out of
 * the pool for statements run in order on it, a transaction spanning
 * several calls. Its requests queue on the session, never on the pool, so
 * none can run outside the session, nor a pool request inside it; a
 * connection given back inside a transaction is closed, not returned. The
 * pool does the rest: db_dispatch sends a session's next request, db_conn_drop
 * fails what a lost session had sent or queued.
 */
#include <stdlib.h>

#include <libpq-fe.h>

#include "log.h"
#include "wagepay.h"
#include "db.h"
#include "dbint.h"

/* An idle connection of the pool's, if keep others stay in it. */
static struct dblease *
lease_take(struct db *db, int keep)
{
	struct dblease	*l;
	int		 i, pick = -1, others = 0;

	for (i = 0; i < db->nconns; i++) {
		if (!db_conn_is_up(&db->conns[i]) || db->conns[i].lease != NULL)
			continue;
		if (pick == -1 && db_conn_can_take(&db->conns[i]))
			pick = i;
		else
			others++;
	}
	if (pick == -1 || others < keep || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->db = db;
	l->conn = &db->conns[pick];
	TAILQ_INIT(&l->queue);
	l->conn->lease = l;
	return l;
}

struct dblease *
dblease_take(struct db *db, int keep)
{
	/* the pool's own queue goes first: a lease never jumps it */
	if (db->closing || db->nqueued > 0)
		return NULL;
	return lease_take(db, keep);
}

void
dblease_wait(struct db *db, struct dbleasewait *w)
{
	if (w->queued || db->closing)
		return;
	w->queued = true;
	TAILQ_INSERT_TAIL(&db->waiters, w, entry);
	db_dispatch(db);
}

void
dblease_wait_cancel(struct db *db, struct dbleasewait *w)
{
	if (!w->queued)
		return;
	TAILQ_REMOVE(&db->waiters, w, entry);
	w->queued = false;
}

void
dblease_serve_waiters(struct db *db)
{
	struct dbleasewait	*w;
	struct dblease		*l;

	while ((w = TAILQ_FIRST(&db->waiters)) != NULL &&
	    (l = lease_take(db, w->keep)) != NULL) {
		TAILQ_REMOVE(&db->waiters, w, entry);
		w->queued = false;
		w->cb(l, w->arg);
	}
}

int
dblease_query_bin(struct dblease *l, const char *sql, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    db_cb *cb, void *arg)
{
	struct dbreq	*r;

	if (l->conn == NULL || (r = db_req_new(l->db, sql, nparams, values,
	    lengths, formats, cb, arg)) == NULL)
		return -1;
	r->lease = l;
	TAILQ_INSERT_TAIL(&l->queue, r, entry);
	db_dispatch(l->db);
	return 0;
}

bool
dblease_lost(const struct dblease *l)
{
	return l->conn == NULL;
}

void
dblease_release(struct dblease *l)
{
	struct db	*db;
	struct dbconn	*c;
	struct dbreq	*r;

	if (l == NULL)
		return;
	db = l->db;
	if ((c = l->conn) == NULL) {	/* lost: nothing of it is left */
		free(l);
		return;
	}
	while ((r = TAILQ_FIRST(&l->queue)) != NULL)
		db_req_finish(r, NULL, ERR_RELEASED, false);
	c->lease = NULL;
	l->conn = NULL;
	free(l);
	if (c->state != DBC_UP)
		return;
	/* A session left open (a statement still running, a transaction not
	 * ended) must not swallow the pool's one-call statements. */
	if (c->ninflight > 0 || PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		log_warnx("database connection %d: session given back inside a "
		    "transaction: closing it", c->id);
		db_conn_drop(c, ERR_RELEASED, false);
	} else if (c->gen != db->gen || c->recycle) {
		c->recycle = false;
		db_conn_close(c);
		db_conn_start(c);
	}
	db_dispatch(db);
}
