/*
 * pending.c: a request that waits for the database (struct pending), and
 * its answer: if the client goes away first, the answer is dropped.
 *
 * Owns each pending (and, through free_fn, its handler's data) until it is
 * answered or freed.
 */
#include <stdlib.h>

#include <event2/http.h>

#include "daemon.h"

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
