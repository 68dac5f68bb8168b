/*
 * listener.c: the HTTPS listeners (evhttp over bufferevent_openssl) and
 * their limits; the replies, bodies and identities of the requests they
 * route are http.c's, the requests that wait for the database pending.c's.
 *
 * Owns each listener's evhttp and SSL_CTX. evhttp 2.1 has no body, header
 * or connection limits by default and buffers whole bodies (STYLE.md), so
 * every listener sets them, and connections are counted here.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "daemon.h"
#include "log.h"

#define HTTP_HEADERS_MAX	(16 * 1024)

struct listener {
	char			 name[32];
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	SSL_CTX			*ctx;
	listener_route		*route;
	void			*arg;
	int			 connections;
	int			 max_connections;
};

/*
 * One accepted connection, from its SSL object's birth to its free: an
 * ex_data free callback is the one place both evhttp paths (closed by us,
 * closed by the peer) meet, so the connection count and the request
 * deadline live there.
 *
 * The deadline: evhttp's timeouts are inactivity timeouts, so a client that
 * trickles a header line a second (slowloris) is never cut off. The whole
 * first request, headers and body, must arrive within [limits] timeout; if
 * not, the socket is shut down, evhttp reads EOF and frees the connection
 * itself. Later requests on a kept-alive connection are bounded by the
 * inactivity timeout only.
 */
struct conn {
	struct listener		*l;
	struct bufferevent	*bev;
	struct event		*deadline;
	bool			 nodelay;	/* TCP_NODELAY set on its socket */
};
static int	conn_index = -1;

static void
conn_freed(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct conn	*c = ptr;

	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (c == NULL)
		return;
	c->l->connections--;
	if (c->deadline != NULL)
		event_free(c->deadline);
	free(c);
}

static void
conn_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;
	evutil_socket_t	 sock = bufferevent_getfd(c->bev);

	(void)fd; (void)ev;
	log_info("%s: a client took longer than %d s to send its request; "
	    "closing the connection", c->l->name, wpd->conf->timeout);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
}

static struct bufferevent *
listener_bev_cb(struct event_base *base, void *arg)
{
	struct listener		*l = arg;
	struct conn		*c;
	SSL			*ssl;
	struct timeval		 tv = { wpd != NULL && wpd->conf != NULL ?
				    wpd->conf->timeout : 30, 0 };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((ssl = SSL_new(l->ctx)) == NULL) {
		free(c);
		return NULL;
	}
	c->l = l;
	SSL_set_ex_data(ssl, conn_index, c);
	l->connections++;
	c->bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return NULL;	/* SSL_free ran conn_freed */
	if ((c->deadline = evtimer_new(base, conn_deadline_cb, c)) != NULL)
		evtimer_add(c->deadline, &tv);
	return c->bev;
}

/* The request is complete: its connection's first-request deadline ends. */
static void
conn_request_arrived(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	SSL			*ssl;
	struct conn		*c;
	evutil_socket_t		 fd;
	int			 one = 1;

	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL ||
	    (c = SSL_get_ex_data(ssl, conn_index)) == NULL)
		return;
	if (c->deadline != NULL)
		evtimer_del(c->deadline);
	/* Answers leave at once. With Nagle's algorithm an answer written in
	 * two pieces waits for the client's delayed ACK: 40 ms on Linux, half
	 * the time a 1,000-line sheet alone took (tests/bench/RESULTS.md). The
	 * socket exists only once evhttp has accepted it, so here, once. */
	if (!c->nodelay && (fd = bufferevent_getfd(bev)) >= 0) {
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) == -1)
			log_warn("%s: TCP_NODELAY", c->l->name);
		c->nodelay = true;
	}
}

/* Every listener's answer to a URL with an encoded NUL byte (http.c). */
#define NUL_REFUSED	"the URL holds an encoded NUL byte (%00): refused\n"

static void
listener_request_cb(struct evhttp_request *req, void *arg)
{
	struct listener	*l = arg;

	conn_request_arrived(req);
	if (l->connections > l->max_connections) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		http_unavailable(req);
		return;
	}
	if (wpd != NULL && wpd->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		http_unavailable(req);
		return;
	}
	if (http_target_nul(req)) {
		log_debug("%s: refused a URL holding %%00", l->name);
		http_reply(req, 400, "text/plain; charset=utf-8", NUL_REFUSED,
		    sizeof(NUL_REFUSED) - 1);
		return;
	}
	l->route(req, l->arg);
}

/* Splits "host:port", "[v6]:port" or "*:port". */
static int
split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
	const char	*colon;
	char		*end;
	long		 p;
	size_t		 n;

	if (listen[0] == '[') {
		if ((colon = strstr(listen, "]:")) == NULL)
			return -1;
		n = (size_t)(colon - listen - 1);
		if (n >= hostlen)
			return -1;
		memcpy(host, listen + 1, n);
		host[n] = '\0';
		colon++;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL)
			return -1;
		n = (size_t)(colon - listen);
		if (n >= hostlen)
			return -1;
		memcpy(host, listen, n);
		host[n] = '\0';
		if (strcmp(host, "*") == 0)
			strcpy(host, "0.0.0.0");
	}
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

struct listener *
listener_new(struct event_base *base, const char *name, const char *listen,
    SSL_CTX *ctx, listener_route *route, void *arg, struct perr *err)
{
	struct listener	*l;
	char		 host[256];
	int		 port;

	if (conn_index == -1)
		conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_freed);
	if (split_listen(listen, host, sizeof(host), &port) == -1) {
		perr_set(err, "WP90", "[%s] listen must be host:port, [v6]:port "
		    "or *:port, not \"%s\"", name, listen);
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->ctx = ctx;
	l->route = route;
	l->arg = arg;
	l->max_connections = wpd != NULL && wpd->conf != NULL ?
	    wpd->conf->max_connections : 1024;
	if ((l->http = evhttp_new(base)) == NULL) {
		perr_set(err, "WP90", "[%s] could not create HTTP server", name);
		free(l);
		return NULL;
	}
	evhttp_set_bevcb(l->http, listener_bev_cb, l);
	evhttp_set_gencb(l->http, listener_request_cb, l);
	evhttp_set_max_headers_size(l->http, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(l->http, (ev_ssize_t)(wpd != NULL &&
	    wpd->conf != NULL ? wpd->conf->max_body : WP_MAX_BODY));
	/* read, write and idle: a client trickling a request (slowloris) is
	 * cut off after this, whatever it still sends */
	evhttp_set_timeout(l->http, wpd != NULL && wpd->conf != NULL ?
	    wpd->conf->timeout : 30);
	evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE);
	if ((l->bound = evhttp_bind_socket_with_handle(l->http, host,
	    (ev_uint16_t)port)) == NULL) {
		perr_set(err, "WP90", "[%s] could not listen on %s", name, listen);
		evhttp_free(l->http);
		free(l);
		return NULL;
	}
	log_info("%s: listening on %s", name, listen);
	return l;
}

void
listener_set_ctx(struct listener *l, SSL_CTX *ctx)
{
	/* connections already open keep a reference to the old context */
	SSL_CTX_free(l->ctx);
	l->ctx = ctx;
}

void
listener_close(struct listener *l)
{
	if (l != NULL && l->bound != NULL) {
		evhttp_del_accept_socket(l->http, l->bound);
		l->bound = NULL;
	}
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	evhttp_free(l->http);
	SSL_CTX_free(l->ctx);
	free(l);
}
