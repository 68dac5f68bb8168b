/*
 * pending.c: a request that waits for the database (struct pending), and
 * its answer: if the client goes away first, the answer is dropped.
 *
 * Owns each pending (and, through free_fn, its handler's data) until it is
 * answered or freed.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "log.h"

/* The client went away while its request waited for the database. */
static void
pending_closed_cb(struct evhttp_connection *conn, void *arg)
{
	struct pending	*p = arg;

	(void)conn;
	p->req = NULL;
}

struct pending *
pending_new(struct evhttp_request *req)
{
	struct pending	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    pending_closed_cb, p);
	return p;
}

void
pending_free(struct pending *p)
{
	struct evhttp_connection *conn;

	if (p == NULL)
		return;
	if (p->req != NULL &&
	    (conn = evhttp_request_get_connection(p->req)) != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	if (p->free_fn != NULL)
		p->free_fn(p->data);
	free(p);
}

void
pending_reply(struct pending *p, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evhttp_request		*req = p->req;
	struct evhttp_connection	*conn;

	if (req != NULL) {
		if ((conn = evhttp_request_get_connection(req)) != NULL)
			evhttp_connection_set_closecb(conn, NULL, NULL);
		p->req = NULL;
		http_reply(req, status, ctype, body, len);
	}
	pending_free(p);
}

void
pending_unavailable(struct pending *p)
{
	struct evhttp_request		*req = p->req;
	struct evhttp_connection	*conn;

	if (req != NULL) {
		if ((conn = evhttp_request_get_connection(req)) != NULL)
			evhttp_connection_set_closecb(conn, NULL, NULL);
		p->req = NULL;
		http_unavailable(req);
	}
	pending_free(p);
}

/* True, and the request answered 503 with Retry-After, when PostgreSQL
 * refused the call for want of something that comes back by itself: class
 * 53 (53100 disk full, "could not extend file"; out of memory; too many
 * connections), 57P01..57P03 (shut down, crash restart, starting up) and
 * 58030 (an I/O error). PostgreSQL answered an error, so the transaction
 * rolled back: nothing was committed, and the same request again is safe.
 * Logs the SQLSTATE only (the error's text may quote data). */
bool
pending_db_transient(struct pending *p, const struct pg_result *res,
    const char *what, const char *ref)
{
	const char	*st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (st == NULL || !(strncmp(st, "53", 2) == 0 ||
	    strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
	    strcmp(st, "57P03") == 0 || strcmp(st, "58030") == 0))
		return false;
	log_warnx("%s %s: the database is short of a resource (SQLSTATE %s%s); "
	    "nothing was committed, answered 503 with Retry-After", what, ref, st,
	    strcmp(st, "53100") == 0 ? ", its disk is full" : "");
	pending_unavailable(p);
	return true;
}
