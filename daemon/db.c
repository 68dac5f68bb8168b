/*
 * db.c: the pool of non-blocking PostgreSQL connections on the libevent loop.
 *
 * Responsible for: connecting (PQconnectStartParams + PQconnectPoll driven by
 * events on PQsocket), reconnecting with backoff forever, a bounded FIFO of
 * requests, sending each to an idle connection (PQsendQueryParams; parameters
 * in text or binary, results in text), reading results without blocking, and
 * the per-request deadline.
 * Owns: every PGconn, every queued or in-flight request (its copied SQL and
 * parameters), every PGresult until the request's callback has returned.
 * Must not: call a blocking libpq function after db_new (no PQexec,
 * PQconnectdb, PQcancel), log a parameter value or a server error text (both
 * may carry a worker's data), or retry a request that may have run: a request
 * whose fate is unknown is reported as such and the caller's idempotency key
 * decides.
 *
 * One request per connection at a time. The in-flight requests of a
 * connection are nevertheless kept in a FIFO (conn->inflight), matched to
 * results in order, so that pipeline mode can later raise db_conn_can_take()'s
 * limit without changing the rest.
 *
 * Sessions (daemon/dblease.c) take a connection out of the pool; here, a
 * leased connection takes its requests only from its session's queue and
 * a lost one fails them (dbint.h holds what the two files share).
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <openssl/ssl.h>

#include "log.h"
#include "wagepay.h"
#include "db.h"
#include "dbdsn.h"
#include "dbint.h"

#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define MAX_PARAMS		65535	/* the protocol's Bind limit */
/* A statement larger than this renews its connection once it is idle. */
#define RECYCLE_BYTES		(4u * 1024u * 1024u)

static const char ERR_LOST[] = "connection to database lost";
static const char ERR_DEADLINE_QUEUED[] =
    "deadline passed waiting for a database connection";
static const char ERR_DEADLINE_SENT[] = "deadline passed waiting for the database";
static const char ERR_SHUTDOWN[] = "database pool shut down";
static const char ERR_SEND[] = "could not send query to database";
static const char ERR_COPY[] = "COPY is not supported by the database pool";
const char ERR_RELEASED[] = "database session ended before the request ran";

static void	conn_io_cb(evutil_socket_t, short, void *);
static void	conn_timer_cb(evutil_socket_t, short, void *);
static void	conn_lost(struct dbconn *, const char *why);

static void
now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static long long
ms_since(const struct timespec *then)
{
	struct timespec	t;

	now(&t);
	return (long long)(t.tv_sec - then->tv_sec) * 1000 +
	    (t.tv_nsec - then->tv_nsec) / 1000000;
}

static struct timeval
tv_ms(int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* libpq's messages are multi-line (one line per host tried): one log line. */
static void
log_pq(struct dbconn *c, const char *what, const char *msg)
{
	char		 buf[512];
	size_t		 n = 0;
	const char	*p;

	if (msg == NULL || *msg == '\0')
		msg = "no detail";
	for (p = msg; *p != '\0' && n < sizeof(buf) - 1; p++) {
		if (*p == '\n' || *p == '\t' || *p == ' ') {
			if (n > 0 && buf[n - 1] != ' ')
				buf[n++] = ' ';
		} else
			buf[n++] = *p;
	}
	if (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	/* The first failure of a streak is news; the retries are not. */
	if (c->failures <= 1)
		log_warnx("database connection %d: %s: %s", c->id, what, buf);
	else
		log_debug("database connection %d: %s: %s", c->id, what, buf);
}

/*
 * Requests.
 */

/* Ends a request: unlinks it, runs the callback, then clears res and frees
 * it. The callback may queue more requests (db_query) meanwhile. */
void
db_req_finish(struct dbreq *r, PGresult *res, const char *error, bool unknown)
{
	struct db	*db = r->db;

	if (r->conn != NULL) {
		TAILQ_REMOVE(&r->conn->inflight, r, entry);
		r->conn->ninflight--;
		db->ninflight--;
		r->conn = NULL;
	} else if (r->lease != NULL) {
		TAILQ_REMOVE(&r->lease->queue, r, entry);
		r->lease = NULL;
	} else {
		TAILQ_REMOVE(&db->queue, r, entry);
		db->nqueued--;
	}
	event_free(r->deadline);
	r->cb(res, error, unknown, r->arg);
	PQclear(res);
	free(r);
}

static void
req_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dbreq	*r = arg;
	struct dbconn	*c = r->conn;

	(void)fd;
	(void)what;
	if (c == NULL) {
		db_req_finish(r, NULL, ERR_DEADLINE_QUEUED, false);
		return;
	}
	/* The statement may be running or even committed: the only way to get
	 * the connection back without a blocking PQcancel is to drop it. */
	log_warnx("database connection %d: request deadline passed, closing",
	    c->id);
	db_conn_drop(c, ERR_DEADLINE_SENT, false);
	db_dispatch(c->db);
}

/*
 * Connections.
 */

bool
db_conn_is_up(const struct dbconn *c)
{
	return c->state == DBC_UP;
}

/* Pipeline mode would raise this limit. A connection made with an old DSN
 * takes no new work, so that it is recycled once idle even under load. */
bool
db_conn_can_take(const struct dbconn *c)
{
	return c->state == DBC_UP && c->ninflight == 0 && c->lease == NULL &&
	    c->gen == c->db->gen && !c->db->closing;
}

static void
conn_unwatch(struct dbconn *c)
{
	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = NULL;
	c->evfd = -1;
	c->evwhat = 0;
}

/* Waits for what on the connection's current socket. During connect the
 * socket may be a new one after every PQconnectPoll step, so conn_step drops
 * the event before polling and this builds a fresh one. */
static int
conn_watch(struct dbconn *c, short what)
{
	evutil_socket_t	fd = PQsocket(c->pg);

	if (fd < 0)
		return -1;
	if (c->ev != NULL && c->evfd == fd && c->evwhat == what)
		return 0;
	conn_unwatch(c);
	if ((c->ev = event_new(c->db->base, fd, what | EV_PERSIST, conn_io_cb,
	    c)) == NULL)
		fatalx("database: event_new failed");
	if (event_add(c->ev, NULL) == -1)
		fatalx("database: event_add failed");
	c->evfd = fd;
	c->evwhat = what;
	return 0;
}

static void
conn_arm_timer(struct dbconn *c, int ms)
{
	struct timeval	tv = tv_ms(ms);

	if (evtimer_add(c->timer, &tv) == -1)
		fatalx("database: evtimer_add failed");
}

/* Drops the PGconn. The caller has taken care of inflight requests. */
void
db_conn_close(struct dbconn *c)
{
	struct db	*db = c->db;

	conn_unwatch(c);
	evtimer_del(c->timer);
	PQclear(c->last);
	c->last = NULL;
	PQfinish(c->pg);	/* the Terminate it may send never waits */
	c->pg = NULL;
	c->flushing = false;
	if (c->state == DBC_UP && --db->nup == 0)
		now(&db->down_since);
	c->state = DBC_DOWN;
}

static void
conn_schedule(struct dbconn *c, int ms)
{
	c->state = DBC_DOWN;
	conn_arm_timer(c, ms);
}

static void
conn_schedule_backoff(struct dbconn *c)
{
	conn_schedule(c, c->backoff_ms);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ?
	    BACKOFF_MAX_MS : c->backoff_ms * 2;
}

/*
 * Drops the connection with everything sent on it: each such request may or
 * may not have run, so each gets error with unknown=true. The connection
 * comes back after its backoff, or at once when backoff is false (we closed
 * it ourselves; the server is not at fault).
 */
void
db_conn_drop(struct dbconn *c, const char *error, bool backoff)
{
	struct dbreq_list	 sent, unsent;
	struct dbreq		*r;

	TAILQ_INIT(&sent);
	TAILQ_INIT(&unsent);
	TAILQ_CONCAT(&sent, &c->inflight, entry);
	/* A lease loses its connection, and with it its session: what it
	 * had not sent yet fails too, and later requests are refused. */
	if (c->lease != NULL) {
		TAILQ_CONCAT(&unsent, &c->lease->queue, entry);
		c->lease->conn = NULL;
		c->lease = NULL;
	}
	db_conn_close(c);
	if (backoff)
		conn_schedule_backoff(c);
	else
		conn_schedule(c, 0);
	/* Closed first, so that a callback's db_query cannot pick c. */
	while ((r = TAILQ_FIRST(&sent)) != NULL) {
		TAILQ_REMOVE(&sent, r, entry);
		TAILQ_INSERT_TAIL(&c->inflight, r, entry);
		db_req_finish(r, NULL, error, true);
	}
	while ((r = TAILQ_FIRST(&unsent)) != NULL) {
		TAILQ_REMOVE(&unsent, r, entry);
		r->lease = NULL;
		TAILQ_INSERT_TAIL(&c->db->queue, r, entry);
		c->db->nqueued++;
		db_req_finish(r, NULL, error, false);
	}
}

/* The connection failed (lost, or could not be made): why is libpq's text. */
static void
conn_lost(struct dbconn *c, const char *why)
{
	c->failures++;
	log_pq(c, db_conn_is_up(c) ? "connection lost" : "could not connect", why);
	db_conn_drop(c, ERR_LOST, true);
}

const char *
db_error(const PGresult *res)
{
	const char	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	return msg != NULL ? msg : "(no message)";
}

/* Counts NOTICE and WARNING messages instead of printing them: a cancelled
 * synchronous-replication wait arrives as a WARNING beside a successful
 * COMMIT, and is not an error. The text may quote data: never logged. */
static void
conn_notice_cb(void *arg, const PGresult *res)
{
	struct dbconn	*c = arg;
	const char	*sev, *state;

	c->db->notices++;
	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	log_debug("database connection %d: server %s %s", c->id,
	    sev != NULL ? sev : "NOTICE", state != NULL ? state : "");
}

/* Begins one connection attempt with the current DSN. */
void
db_conn_start(struct dbconn *c)
{
	struct db	*db = c->db;

	c->gen = db->gen;
	if ((c->pg = dbdsn_connect_start(db->opts, c->rotate)) == NULL)
		fatalx("database: out of memory");
	c->state = DBC_CONNECTING;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	PQsetNoticeReceiver(c->pg, conn_notice_cb, c);
	/* Before the first PQconnectPoll, libpq says: act as if it returned
	 * PGRES_POLLING_WRITING. */
	if (conn_watch(c, EV_WRITE) == -1) {
		conn_lost(c, "no socket");
		return;
	}
	conn_arm_timer(c, db->connect_ms);
}

static void
conn_established(struct dbconn *c)
{
	struct db	*db = c->db;

	if (PQsetnonblocking(c->pg, 1) == -1) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	evtimer_del(c->timer);
	c->state = DBC_UP;
	db->nup++;
	c->backoff_ms = BACKOFF_MIN_MS;
	if (c->failures > 0)
		log_info("database connection %d: connected to %s port %s",
		    c->id, PQhost(c->pg), PQport(c->pg));
	else
		log_debug("database connection %d: connected to %s port %s",
		    c->id, PQhost(c->pg), PQport(c->pg));
	c->failures = 0;
	if (conn_watch(c, EV_READ) == -1) {
		conn_lost(c, "no socket");
		return;
	}
	db_dispatch(db);
}

/* One PQconnectPoll step. */
static void
conn_step(struct dbconn *c)
{
	evutil_socket_t	before = c->evfd;

	conn_unwatch(c);
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_OK:
		conn_established(c);
		return;
	case PGRES_POLLING_READING:
		if (conn_watch(c, EV_READ) == -1)
			break;
		goto armed;
	case PGRES_POLLING_WRITING:
		if (conn_watch(c, EV_WRITE) == -1)
			break;
		goto armed;
	default:
		break;
	}
	conn_lost(c, PQerrorMessage(c->pg));
	return;
armed:
	/* A new socket is the next host or address: give it a full clock,
	 * as libpq's connect_timeout does per host. */
	if (c->evfd != before)
		conn_arm_timer(c, c->db->connect_ms);
}

/* Reads what the server sent; with TLS, a record may sit whole inside
 * OpenSSL after PQconsumeInput, where no socket event will announce it. */
static int
conn_consume(struct dbconn *c)
{
	SSL	*ssl;
	int	 rounds = 0;

	do {
		if (!PQconsumeInput(c->pg))
			return -1;
		ssl = PQsslInUse(c->pg) ? PQsslStruct(c->pg, "OpenSSL") : NULL;
	} while (ssl != NULL && SSL_pending(ssl) > 0 && ++rounds < 64);
	return 0;
}

/* Hands out every complete result. Returns -1 if the connection was closed
 * on the way (c is then DOWN and must not be touched further). */
static int
conn_collect(struct dbconn *c)
{
	struct dbreq	*r;
	PGresult	*res;
	PGnotify	*n;

	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	while (c->state == DBC_UP && (r = TAILQ_FIRST(&c->inflight)) != NULL &&
	    !PQisBusy(c->pg)) {
		if ((res = PQgetResult(c->pg)) != NULL) {
			switch (PQresultStatus(res)) {
			case PGRES_COPY_IN:
			case PGRES_COPY_OUT:
			case PGRES_COPY_BOTH:
				/* libpq would hand out COPY states forever */
				PQclear(res);
				log_warnx("database connection %d: %s", c->id,
				    ERR_COPY);
				db_conn_drop(c, ERR_COPY, false);
				return -1;
			default:
				break;
			}
			PQclear(c->last);
			c->last = res;
			continue;
		}
		/* A result that ends with the link (FATAL, then EOF) is not the
		 * statement's outcome: it may still have committed. */
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			conn_lost(c, PQerrorMessage(c->pg));
			return -1;
		}
		res = c->last;
		c->last = NULL;
		if (res == NULL)
			db_req_finish(r, NULL, ERR_LOST, true);
		else
			db_req_finish(r, res, NULL, false);
	}
	if (c->state != DBC_UP)
		return -1;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_lost(c, PQerrorMessage(c->pg));
		return -1;
	}
	return 0;
}

static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn	*c = arg;
	struct db	*db = c->db;
	int		 rv;

	(void)fd;
	if (c->state == DBC_CONNECTING) {
		conn_step(c);
		return;
	}
	if (c->state != DBC_UP)
		return;
	if ((what & EV_READ) && conn_consume(c) == -1) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->flushing) {
		if ((rv = PQflush(c->pg)) == -1) {
			conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
		c->flushing = rv == 1;
	}
	if (conn_collect(c) == -1)
		return;
	if (conn_watch(c, EV_READ | (c->flushing ? EV_WRITE : 0)) == -1) {
		conn_lost(c, "no socket");
		return;
	}
	/* A new DSN takes effect on each connection once it is idle; so does
	 * a renewal after a large statement: libpq keeps its send buffer as
	 * large as the largest message sent, which would hold a big sheet's
	 * megabytes for the life of the connection. */
	if (c->ninflight == 0 && c->lease == NULL &&
	    (c->gen != db->gen || c->recycle)) {
		c->recycle = false;
		db_conn_close(c);
		db_conn_start(c);
	}
	db_dispatch(db);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn	*c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case DBC_DOWN:
		db_conn_start(c);
		break;
	case DBC_CONNECTING:
		/* Try the next host first next time. */
		c->rotate++;
		conn_lost(c, "connection attempt timed out");
		break;
	default:
		break;
	}
}

/* Sends r on c. On failure r is either back at the queue's head (nothing
 * was sent: the connection was already dead) or finished. */
static void
conn_send(struct dbconn *c, struct dbreq *r)
{
	struct db	*db = c->db;
	int		 rv;

	if (!PQsendQueryParams(c->pg, r->sql, r->nparams, NULL, r->values,
	    r->lengths, r->formats, 0)) {
		if (c->lease != NULL) {
			/* never to the pool's queue: outside its session */
			TAILQ_INSERT_HEAD(&c->lease->queue, r, entry);
			r->lease = c->lease;
			conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			TAILQ_INSERT_HEAD(&db->queue, r, entry);
			db->nqueued++;
			conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
		/* Out of memory inside libpq: part of the message may be on the
		 * wire, but without its Sync it cannot commit once we close. */
		log_pq(c, "could not send query", PQerrorMessage(c->pg));
		db_conn_close(c);
		conn_schedule(c, 0);
		TAILQ_INSERT_HEAD(&db->queue, r, entry);
		db->nqueued++;
		db_req_finish(r, NULL, ERR_SEND, false);
		return;
	}
	r->conn = c;
	if (r->size > RECYCLE_BYTES)
		c->recycle = true;
	TAILQ_INSERT_TAIL(&c->inflight, r, entry);
	c->ninflight++;
	db->ninflight++;
	if ((rv = PQflush(c->pg)) == -1) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	c->flushing = rv == 1;
	if (conn_watch(c, EV_READ | (c->flushing ? EV_WRITE : 0)) == -1)
		conn_lost(c, "no socket");
}

/* Gives queued requests to idle connections, oldest first. Not reentrant:
 * a callback run from inside (a failed send) that queues more leaves them
 * to this loop. */
void
db_dispatch(struct db *db)
{
	struct dbreq	*r;
	int		 i;

	if (db->dispatching || db->closing)
		return;
	db->dispatching = true;
	dblease_serve_waiters(db);
	for (i = 0; i < db->nconns; i++) {
		struct dbconn	*c = &db->conns[i];

		if (c->lease != NULL && c->state == DBC_UP && c->ninflight == 0 &&
		    (r = TAILQ_FIRST(&c->lease->queue)) != NULL) {
			TAILQ_REMOVE(&c->lease->queue, r, entry);
			r->lease = NULL;
			conn_send(c, r);
		}
	}
	while ((r = TAILQ_FIRST(&db->queue)) != NULL) {
		for (i = 0; i < db->nconns; i++)
			if (db_conn_can_take(&db->conns[(db->next + i) % db->nconns]))
				break;
		if (i == db->nconns)
			break;
		i = (db->next + i) % db->nconns;
		/* Round robin, so that every idle connection stays in use and
		 * a dead one is found by a request soon, not by a burst. */
		db->next = (i + 1) % db->nconns;
		TAILQ_REMOVE(&db->queue, r, entry);
		db->nqueued--;
		conn_send(&db->conns[i], r);
	}
	db->dispatching = false;
}

/*
 * The API.
 */

struct db *
db_new(struct event_base *base, const char *dsn, int nconns, struct perr *err)
{
	struct db	*db;
	struct dbconn	*c;
	int		 i;

	if (nconns < 1 || nconns > DB_CONNS_MAX) {
		perr_set(err, "WP90", "database: connections must be 1 to %d",
		    DB_CONNS_MAX);
		return NULL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->conns = calloc((size_t)nconns, sizeof(*db->conns))) == NULL) {
		free(db);
		perr_set(err, "WP90", "database: out of memory");
		return NULL;
	}
	if ((db->opts = dbdsn_parse(dsn, &db->connect_ms, err)) == NULL) {
		free(db->conns);
		free(db);
		return NULL;
	}
	db->base = base;
	db->nconns = nconns;
	db->deadline_ms = DB_DEADLINE_DEFAULT_MS;
	db->grace_ms = DB_DOWN_GRACE_DEFAULT_MS;
	TAILQ_INIT(&db->queue);
	TAILQ_INIT(&db->waiters);
	/* The grace runs from start-up: requests wait for the first connect. */
	now(&db->down_since);
	for (i = 0; i < nconns; i++) {
		c = &db->conns[i];
		c->db = db;
		c->id = i;
		c->evfd = -1;
		c->backoff_ms = BACKOFF_MIN_MS;
		TAILQ_INIT(&c->inflight);
		if ((c->timer = evtimer_new(base, conn_timer_cb, c)) == NULL)
			fatalx("database: evtimer_new failed");
	}
	for (i = 0; i < nconns; i++)
		db_conn_start(&db->conns[i]);
	return db;
}

void
db_free(struct db *db)
{
	struct dbconn		*c;
	struct dbreq		*r;
	struct dbleasewait	*w;
	int			 i;

	if (db == NULL)
		return;
	db->closing = true;	/* db_query refuses from here on */
	for (i = 0; i < db->nconns; i++) {
		c = &db->conns[i];
		while ((r = TAILQ_FIRST(&c->inflight)) != NULL)
			db_req_finish(r, NULL, ERR_SHUTDOWN, true);
		if (c->lease != NULL) {
			while ((r = TAILQ_FIRST(&c->lease->queue)) != NULL)
				db_req_finish(r, NULL, ERR_SHUTDOWN, false);
			c->lease->conn = NULL;
			c->lease = NULL;
		}
		db_conn_close(c);
		event_free(c->timer);
	}
	while ((r = TAILQ_FIRST(&db->queue)) != NULL)
		db_req_finish(r, NULL, ERR_SHUTDOWN, false);
	while ((w = TAILQ_FIRST(&db->waiters)) != NULL) {
		TAILQ_REMOVE(&db->waiters, w, entry);
		w->queued = false;
	}
	PQconninfoFree(db->opts);
	free(db->conns);
	free(db);
}

/* The byte length of parameter i as db_query_bin copies it. */
static size_t
param_len(const char *const *values, const int *lengths, const int *formats,
    int i)
{
	if (formats != NULL && formats[i] != 0)
		return (size_t)lengths[i];
	return strlen(values[i]) + 1;
}

/* A request with its own copy of everything, its deadline running; NULL
 * for arguments db_query_bin refuses or out of memory. */
struct dbreq *
db_req_new(struct db *db, const char *sql, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    db_cb *cb, void *arg)
{
	struct dbreq	*r;
	struct timeval	 tv;
	size_t		 size, len;
	bool		 binary = false;
	char		*p;
	int		 i;

	if (db->closing || sql == NULL || cb == NULL || nparams < 0 ||
	    nparams > MAX_PARAMS || (nparams > 0 && values == NULL))
		return NULL;
	for (i = 0; formats != NULL && i < nparams; i++) {
		if (formats[i] != 0 && formats[i] != 1)
			return NULL;
		if (formats[i] == 1 && values[i] != NULL) {
			if (lengths == NULL || lengths[i] < 0)
				return NULL;
			binary = true;
		}
	}

	/* One allocation: the request, the parameter pointers, their lengths
	 * and formats if any is binary, the values, the SQL. A request that
	 * goes back to the queue (reconnect) keeps all of it. */
	size = sizeof(*r) + (size_t)nparams * sizeof(char *) + strlen(sql) + 1;
	if (binary)
		size += 2 * (size_t)nparams * sizeof(int);
	for (i = 0; i < nparams; i++)
		if (values[i] != NULL)
			size += param_len(values, lengths, formats, i);
	if ((r = calloc(1, size)) == NULL)
		return NULL;
	r->values = (const char **)(r + 1);
	p = (char *)(r->values + nparams);
	if (binary) {
		r->lengths = (int *)p;
		r->formats = r->lengths + nparams;
		p = (char *)(r->formats + nparams);
	}
	for (i = 0; i < nparams; i++) {
		if (binary)
			r->formats[i] = formats[i];
		if (values[i] == NULL)
			continue;
		len = param_len(values, lengths, formats, i);
		memcpy(p, values[i], len);
		r->values[i] = p;
		if (binary && formats[i] != 0)
			r->lengths[i] = (int)len;
		p += len;
	}
	memcpy(p, sql, strlen(sql) + 1);
	r->sql = p;
	r->size = size;
	r->db = db;
	r->nparams = nparams;
	r->cb = cb;
	r->arg = arg;
	if ((r->deadline = evtimer_new(db->base, req_deadline_cb, r)) == NULL) {
		free(r);
		return NULL;
	}
	tv = tv_ms(db->deadline_ms);
	if (evtimer_add(r->deadline, &tv) == -1) {
		event_free(r->deadline);
		free(r);
		return NULL;
	}
	return r;
}

int
db_query(struct db *db, const char *sql, int nparams,
    const char *const *values, db_cb *cb, void *arg)
{
	return db_query_bin(db, sql, nparams, values, NULL, NULL, cb, arg);
}

int
db_query_bin(struct db *db, const char *sql, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    db_cb *cb, void *arg)
{
	struct dbreq	*r;

	if (db->nqueued >= DB_QUEUE_MAX)
		return -1;
	if (db->nup == 0 && ms_since(&db->down_since) >= db->grace_ms)
		return -1;
	if ((r = db_req_new(db, sql, nparams, values, lengths, formats, cb,
	    arg)) == NULL)
		return -1;
	TAILQ_INSERT_TAIL(&db->queue, r, entry);
	db->nqueued++;
	db_dispatch(db);
	return 0;
}

bool
db_available(struct db *db)
{
	return db->nup > 0;
}

int
db_backlog(struct db *db)
{
	return db->nqueued + db->ninflight;
}

int
db_queued(struct db *db)
{
	return db->nqueued;
}

int
db_set_dsn(struct db *db, const char *dsn, struct perr *err)
{
	PQconninfoOption	*opts;
	struct dbconn		*c;
	int			 connect_ms, i;

	if ((opts = dbdsn_parse(dsn, &connect_ms, err)) == NULL)
		return -1;
	PQconninfoFree(db->opts);
	db->opts = opts;
	db->connect_ms = connect_ms;
	db->gen++;
	/* Idle and connecting ones move now, busy ones when their request
	 * ends (conn_io_cb). Down ones try at once: a reload is often the fix
	 * for what kept them down. Their backoff goes on if it was not. */
	for (i = 0; i < db->nconns; i++) {
		c = &db->conns[i];
		if (c->state == DBC_CONNECTING ||
		    (c->state == DBC_UP && c->ninflight == 0)) {
			db_conn_close(c);
			db_conn_start(c);
		} else if (c->state == DBC_DOWN)
			conn_arm_timer(c, 0);
	}
	return 0;
}

void
db_set_deadline(struct db *db, int ms)
{
	db->deadline_ms = ms > 0 ? ms : DB_DEADLINE_DEFAULT_MS;
}

void
db_set_down_grace(struct db *db, int ms)
{
	db->grace_ms = ms > 0 ? ms : DB_DOWN_GRACE_DEFAULT_MS;
}
