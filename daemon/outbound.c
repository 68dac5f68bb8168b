/*
 * outbound.c: the daemon's one HTTPS client (DESIGN.md §7: one delivery
 * engine). Every POST the bank makes to the outside goes through here:
 * alerts to the regulators (alerts.c), payment orders to the core
 * (payorders.c), and whatever else delivers from an outbox.
 *
 * A destination (struct outbound) is a URL and a TLS context: the peer is
 * verified against the context's CA and the URL's host (a name, with SNI,
 * or an address), the client certificate is the context's. Its
 * connections, at most conns_max, are kept open for the POSTs that follow
 * (HTTP/1.1): a handshake per message cost the core and the daemon more
 * than writing a payment order. A connection that fails or is closed by
 * the peer is dropped, never reconnected (an OpenSSL bufferevent cannot
 * be): the next POST gets a new one. A connection carries one request at
 * a time; the POSTs beyond them wait in the destination's own queue, in
 * order, for the first connection free (evhttp's per-connection queue
 * would hold small orders behind a 40 MB one on its connection while the
 * others sat idle).
 *
 * The end of a POST is told exactly once, from the loop, never from inside
 * outbound_post: the HTTP status (the caller decides what counts: for all
 * of ours, any 2xx) or 0 with why (refused, TLS failed with OpenSSL's
 * reason, closed before an answer, no answer within the timeout). A POST
 * unanswered in time (counted from outbound_post, waiting included) drops
 * its connection if it was on one.
 *
 * Owns: the connections, the POSTs in flight, the TLS context's reference
 * it took. A destination retired (a reloaded configuration) takes no more
 * POSTs and frees itself once the last in flight has ended;
 * outbound_abort frees one at once and tells no end (shutdown), and
 * outbound_shutdown does it to every destination left.
 * Must not: block the loop, or log a body (a payment order names workers).
 */
#include <sys/queue.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "daemon.h"

struct obconn {
	LIST_ENTRY(obconn)	 entry;
	struct evhttp_connection *evcon;	/* owned */
	int			 queued;	/* requests made, not answered */
	bool			 dead;		/* failed or closed: no more */
};

struct obpost {
	LIST_ENTRY(obpost)	 entry;
	struct outbound		*ob;
	struct obconn		*conn;		/* while its request is out */
	struct evhttp_request	*req;		/* owned while it waits */
	TAILQ_ENTRY(obpost)	 wentry;	/* in ob->waiting while it waits */
	outbound_cb		 cb;
	void			*arg;
	int			 status;
	char			 error[256];
	enum evhttp_request_error reqerr;
	bool			 has_reqerr;
	struct event		*deadline;	/* owned */
	struct event		*later;		/* owned: tells the end */
};

struct outbound {
	LIST_ENTRY(outbound)	 entry;
	struct event_base	*base;
	struct evdns_base	*dns;
	SSL_CTX			*ctx;		/* a reference of our own */
	char			*host;
	int			 port;
	char			 target[2048];	/* path and query */
	char			 hostport[300];	/* the Host header */
	int			 timeout_secs, conns_max, nconns;
	LIST_HEAD(, obconn)	 conns;
	LIST_HEAD(, obpost)	 posts;
	TAILQ_HEAD(, obpost)	 waiting;	/* no connection yet, in order */
	struct event		*sweep;		/* frees dead connections and
						 * gives the waiting theirs */
	bool			 retired;
};

static LIST_HEAD(, outbound) all = LIST_HEAD_INITIALIZER(all);

static void	dispatch(struct outbound *);

/* --- connections ----------------------------------------------------------- */

static void
sweep_later(struct outbound *ob)
{
	event_active(ob->sweep, EV_TIMEOUT, 0);
}

static void
closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct outbound	*ob = arg;
	struct obconn	*c;

	LIST_FOREACH(c, &ob->conns, entry)
		if (c->evcon == evcon)
			c->dead = true;	/* freed by the sweep, outside libevent */
	sweep_later(ob);
}

static void
conn_free(struct outbound *ob, struct obconn *c)
{
	LIST_REMOVE(c, entry);
	ob->nconns--;
	evhttp_connection_set_closecb(c->evcon, NULL, NULL);
	evhttp_connection_free(c->evcon);	/* its requests, no callback */
	free(c);
}

/* The SSL of a new connection: the peer's name (or address) verified, SNI
 * set. NULL on failure. */
static SSL *
peer_ssl(const struct outbound *ob)
{
	unsigned char	 buf[16];
	SSL		*ssl;

	if ((ssl = SSL_new(ob->ctx)) == NULL)
		return NULL;
	if (inet_pton(AF_INET, ob->host, buf) == 1 ||
	    inet_pton(AF_INET6, ob->host, buf) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    ob->host) == 1)
			return ssl;
	} else if (SSL_set1_host(ssl, ob->host) == 1 &&
	    SSL_set_tlsext_host_name(ssl, ob->host) == 1)
		return ssl;
	SSL_free(ssl);
	return NULL;
}

static struct obconn *
conn_new(struct outbound *ob)
{
	struct bufferevent	*bev;
	struct obconn		*c;
	SSL			*ssl;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((ssl = peer_ssl(ob)) == NULL) {
		free(c);
		return NULL;
	}
	if ((bev = bufferevent_openssl_socket_new(ob->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		free(c);
		return NULL;
	}
	/* a peer that closes without close_notify after a complete answer
	 * has still answered */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if ((c->evcon = evhttp_connection_base_bufferevent_new(ob->base,
	    ob->dns, bev, ob->host, (unsigned short)ob->port)) == NULL) {
		bufferevent_free(bev);
		free(c);
		return NULL;
	}
	evhttp_connection_set_timeout(c->evcon, ob->timeout_secs);
	evhttp_connection_set_retries(c->evcon, 0);
	evhttp_connection_set_closecb(c->evcon, closed_cb, ob);
	LIST_INSERT_HEAD(&ob->conns, c, entry);
	ob->nconns++;
	return c;
}

/* An idle live connection, else a new one while there may be more; NULL
 * when every connection is busy (the POST waits) or none could be made. */
static struct obconn *
conn_pick(struct outbound *ob)
{
	struct obconn	*c;

	LIST_FOREACH(c, &ob->conns, entry)
		if (!c->dead && c->queued == 0)
			return c;
	if (ob->nconns < ob->conns_max)
		return conn_new(ob);
	return NULL;
}

/* --- the end of a POST ----------------------------------------------------- */

static void
ob_free(struct outbound *ob)
{
	struct obconn	*c;
	struct obpost	*p;

	LIST_REMOVE(ob, entry);
	while ((c = LIST_FIRST(&ob->conns)) != NULL)
		conn_free(ob, c);
	while ((p = LIST_FIRST(&ob->posts)) != NULL) {
		LIST_REMOVE(p, entry);
		if (p->req != NULL)
			evhttp_request_free(p->req);	/* never sent */
		event_free(p->deadline);
		event_free(p->later);
		free(p);
	}
	event_free(ob->sweep);
	SSL_CTX_free(ob->ctx);
	free(ob->host);
	free(ob);
}

/* Tells the end of p (from the loop), and frees it. */
static void
later_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct obpost	*p = arg;
	struct outbound	*ob = p->ob;
	outbound_cb	 cb = p->cb;
	void		*cbarg = p->arg;
	int		 status = p->status;
	char		 error[sizeof(p->error)];

	(void)fd; (void)ev;
	memcpy(error, p->error, sizeof(error));
	LIST_REMOVE(p, entry);
	event_free(p->deadline);
	event_free(p->later);
	free(p);
	if (ob->retired && LIST_EMPTY(&ob->posts))
		sweep_later(ob);	/* frees the destination */
	cb(status, error, cbarg);
}

static void
end_later(struct obpost *p, int status, const char *error)
{
	p->status = status;
	snprintf(p->error, sizeof(p->error), "%s", error);
	event_active(p->later, EV_TIMEOUT, 0);
}

static const char *
request_error_name(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT: return "timed out";
	case EVREQ_HTTP_EOF: return "connection closed before an answer";
	case EVREQ_HTTP_INVALID_HEADER: return "invalid answer";
	case EVREQ_HTTP_BUFFER_ERROR: return "could not connect, or TLS failed";
	case EVREQ_HTTP_REQUEST_CANCEL: return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG: return "answer too long";
	}
	return "failed";
}

static void
error_cb(enum evhttp_request_error e, void *arg)
{
	struct obpost	*p = arg;

	p->reqerr = e;
	p->has_reqerr = true;
}

/* Why a request got no answer: OpenSSL's reason when TLS failed (the peer's
 * certificate not trusted, ours refused), else libevent's. */
static void
no_answer_why(struct obpost *p, char *why, size_t len)
{
	struct bufferevent	*bev;
	unsigned long		 e = 0;
	char			 tls[160] = "";

	if (p->conn != NULL &&
	    (bev = evhttp_connection_get_bufferevent(p->conn->evcon)) != NULL &&
	    (e = bufferevent_get_openssl_error(bev)) != 0 &&
	    ERR_GET_LIB(e) != 0 && ERR_GET_LIB(e) != ERR_LIB_SYS)
		ERR_error_string_n(e, tls, sizeof(tls));
	if (tls[0] != '\0')
		snprintf(why, len, "TLS failed: %s", tls);
	else
		snprintf(why, len, "%s", p->has_reqerr ?
		    request_error_name(p->reqerr) : "could not connect "
		    "(refused, unreachable, or TLS failed)");
}

/* The request is over, answered or not; libevent frees req after this. */
static void
response_cb(struct evhttp_request *req, void *arg)
{
	struct obpost	*p = arg;
	const char	*line;
	char		 why[256];
	int		 code = req != NULL ?
			    evhttp_request_get_response_code(req) : 0;

	event_del(p->deadline);
	if (code >= 200 && code <= 299)
		why[0] = '\0';
	else if (code != 0) {
		line = evhttp_request_get_response_code_line(req);
		snprintf(why, sizeof(why), "HTTP %d %.100s", code,
		    line != NULL ? line : "");
	} else
		no_answer_why(p, why, sizeof(why));
	if (p->conn != NULL) {
		p->conn->queued--;
		/* kept open only if the peer keeps it: HTTP/1.1 without
		 * Connection: close */
		if (code == 0 || req->major != 1 || req->minor < 1 ||
		    ((line = evhttp_find_header(evhttp_request_get_input_headers(
		    req), "Connection")) != NULL &&
		    evutil_ascii_strcasecmp(line, "close") == 0))
			p->conn->dead = true;
		p->conn = NULL;
		sweep_later(p->ob);
	}
	end_later(p, code, why);
}

/* No answer in time: the connection is dropped, with every POST queued on
 * it (which cannot be trusted to be answered either). */
static void
deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct obpost	*p = arg, *q;
	struct obconn	*c = p->conn;
	char		 why[96];

	(void)fd; (void)ev;
	snprintf(why, sizeof(why), "no answer within %d s",
	    p->ob->timeout_secs);
	if (p->req != NULL) {		/* still waiting for a connection */
		TAILQ_REMOVE(&p->ob->waiting, p, wentry);
		evhttp_request_free(p->req);
		p->req = NULL;
		snprintf(why, sizeof(why), "not sent within %d s: every "
		    "connection to the peer was busy", p->ob->timeout_secs);
		end_later(p, 0, why);
		return;
	}
	if (c == NULL) {
		end_later(p, 0, why);
		return;
	}
	LIST_FOREACH(q, &p->ob->posts, entry) {
		if (q->conn != c)
			continue;
		q->conn = NULL;
		event_del(q->deadline);
		end_later(q, 0, q == p ? why : "no answer: its connection was "
		    "dropped when another message on it timed out");
	}
	conn_free(p->ob, c);
	sweep_later(p->ob);	/* the waiting get a new connection */
}

/* Frees the dead connections no request waits on, then gives the waiting
 * POSTs the connections free; a retired destination with nothing in
 * flight, whole. */
static void
sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct outbound	*ob = arg;
	struct obconn	*c, *next;

	(void)fd; (void)ev;
	if (ob->retired && LIST_EMPTY(&ob->posts)) {
		ob_free(ob);
		return;
	}
	for (c = LIST_FIRST(&ob->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->dead && c->queued == 0)
			conn_free(ob, c);
	}
	dispatch(ob);
}

/* --- destinations and POSTs ----------------------------------------------------- */

struct outbound *
outbound_new(struct event_base *base, struct evdns_base *dns, const char *url,
    SSL_CTX *ctx, int timeout_secs, int conns_max, struct perr *err)
{
	struct evhttp_uri	*uri;
	struct outbound		*ob;
	const char		*host, *path, *query;

	if ((uri = evhttp_uri_parse(url)) == NULL ||
	    (host = evhttp_uri_get_host(uri)) == NULL || host[0] == '\0') {
		if (uri != NULL)
			evhttp_uri_free(uri);
		perr_set(err, "WP90", "url \"%s\" cannot be parsed", url);
		return NULL;
	}
	if ((ob = calloc(1, sizeof(*ob))) == NULL ||
	    (ob->host = strdup(host)) == NULL ||
	    (ob->sweep = event_new(base, -1, 0, sweep_cb, ob)) == NULL) {
		if (ob != NULL)
			free(ob->host);
		free(ob);
		evhttp_uri_free(uri);
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	ob->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 443;
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	snprintf(ob->target, sizeof(ob->target), "%s%s%s",
	    path != NULL && path[0] != '\0' ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "");
	if (ob->port == 443)
		snprintf(ob->hostport, sizeof(ob->hostport), "%s", host);
	else
		snprintf(ob->hostport, sizeof(ob->hostport), "%s%s%s:%d",
		    strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", ob->port);
	evhttp_uri_free(uri);
	SSL_CTX_up_ref(ctx);
	ob->ctx = ctx;
	ob->base = base;
	ob->dns = dns;
	ob->timeout_secs = timeout_secs;
	ob->conns_max = conns_max > 0 ? conns_max : 1;
	LIST_INIT(&ob->conns);
	LIST_INIT(&ob->posts);
	TAILQ_INIT(&ob->waiting);
	LIST_INSERT_HEAD(&all, ob, entry);
	return ob;
}

/* The request of p, made to wait in ob->waiting; -1 when it cannot be. */
static int
request(struct obpost *p, const char *ctype, const char *const *headers,
    const char *body, size_t len)
{
	struct outbound		*ob = p->ob;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;

	if ((req = evhttp_request_new(response_cb, p)) == NULL)
		return -1;
	evhttp_request_set_error_cb(req, error_cb);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", ob->hostport) == -1 ||
	    evhttp_add_header(h, "Content-Type", ctype) == -1 ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), body, len) == -1) {
		evhttp_request_free(req);
		return -1;
	}
	for (; headers != NULL && headers[0] != NULL; headers += 2)
		if (evhttp_add_header(h, headers[0], headers[1]) == -1) {
			evhttp_request_free(req);
			return -1;
		}
	p->req = req;
	TAILQ_INSERT_TAIL(&ob->waiting, p, wentry);
	return 0;
}

/* Sends the waiting POSTs, in order, each on a connection of its own. */
static void
dispatch(struct outbound *ob)
{
	struct evhttp_request	*req;
	struct obpost		*p;
	struct obconn		*c;

	while ((p = TAILQ_FIRST(&ob->waiting)) != NULL) {
		if ((c = conn_pick(ob)) == NULL) {
			if (ob->nconns > 0)
				return;	/* all busy: the first to end calls */
			/* not one connection could be made */
			TAILQ_REMOVE(&ob->waiting, p, wentry);
			evhttp_request_free(p->req);
			p->req = NULL;
			event_del(p->deadline);
			end_later(p, 0, "could not make a connection");
			continue;
		}
		TAILQ_REMOVE(&ob->waiting, p, wentry);
		req = p->req;
		p->req = NULL;
		/* counted first: a connection refused at once calls
		 * response_cb from inside evhttp_make_request (which then
		 * returns 0) */
		p->conn = c;
		c->queued++;
		if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST,
		    ob->target) == -1) {	/* req is freed with the failure */
			c->queued--;
			c->dead = true;
			p->conn = NULL;
			event_del(p->deadline);
			end_later(p, 0, "could not send the request");
			sweep_later(ob);
		}
	}
}

int
outbound_post(struct outbound *ob, const char *ctype,
    const char *const *headers, const char *body, size_t len,
    outbound_cb cb, void *arg)
{
	struct obpost	*p;
	struct timeval	 tv = { ob->timeout_secs, 0 };

	if (ob->retired || (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->ob = ob;
	p->cb = cb;
	p->arg = arg;
	if ((p->deadline = evtimer_new(ob->base, deadline_cb, p)) == NULL ||
	    (p->later = evtimer_new(ob->base, later_cb, p)) == NULL) {
		if (p->deadline != NULL)
			event_free(p->deadline);
		free(p);
		return -1;
	}
	LIST_INSERT_HEAD(&ob->posts, p, entry);
	if (request(p, ctype, headers, body, len) == -1) {
		end_later(p, 0, "could not make the request (out of memory)");
		return 0;
	}
	evtimer_add(p->deadline, &tv);
	dispatch(ob);
	return 0;
}

int
outbound_inflight(const struct outbound *ob)
{
	const struct obpost	*p;
	int			 n = 0;

	LIST_FOREACH(p, &ob->posts, entry)
		n++;
	return n;
}

void
outbound_retire(struct outbound *ob)
{
	if (ob == NULL || ob->retired)
		return;
	ob->retired = true;
	sweep_later(ob);	/* free now if nothing is in flight */
}

void
outbound_abort(struct outbound *ob)
{
	if (ob != NULL)
		ob_free(ob);
}

void
outbound_shutdown(void)
{
	while (!LIST_EMPTY(&all))
		ob_free(LIST_FIRST(&all));
}
