/*
 * payorders.c: delivers the payment orders of paid sheets to the bank's
 * core ([core] payments_url).
 *
 * The order rows are written by the SQL that pays a sheet, in the same
 * transaction (wp_sheet_pay: the transactional outbox); this file only
 * reads them after the commit. Every poll one statement,
 * wp_payorder_claim, claims the due orders under a lease and returns their
 * lines; each order is built (proto/payorder.c) as a pain.001.001.10,
 * checked against the official schema and POSTed over HTTPS with the
 * client certificate payments_cert/payments_key, the core verified against
 * payments_ca and the URL's host. Any 2xx marks it taken
 * (wp_payorder_taken); anything else leaves it for a later attempt, 1 s
 * doubling up to a cap, kept in the database across restarts, with the
 * same MsgId every time, so that the core drops a duplicate. A daemon
 * killed mid-POST leaves the claim's lease to expire: due again, never
 * lost. Without payments_url nothing is claimed: orders wait in the
 * outbox (the console and /metrics count them).
 *
 * Owns: the poll timer, the DNS resolver, the core's TLS context (loaded
 * and checked by main.c's load_all with the rest of the configuration, at
 * -n, start-up and SIGHUP, and handed over here: no file is read per
 * poll), every POST in flight. Must not: block the loop, or log a worker's
 * name or card.
 * (It repeats alerts.c's HTTPS POST; DESIGN.md §7 asks for one delivery
 * engine: folding the two is left for the next change, see the README.)
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
#include <libxml/tree.h>
#include <openssl/x509v3.h>

#include "daemon.h"
#include "log.h"
#include "payorder.h"
#include "xmlout.h"
#include "xmlsafe.h"

#define POLL_MS_DEFAULT		1000
#define TIMEOUT_SECS_DEFAULT	30
#define BACKOFF_MAX_DEFAULT	300
#define INFLIGHT_MAX		8

static const char claim_sql[] =
    "SELECT * FROM wp_payorder_claim($1::int, $2::int)";
static const char taken_sql[] = "SELECT wp_payorder_taken($1::bigint, $2::int)";
static const char failed_sql[] =
    "SELECT wp_payorder_failed($1::bigint, $2::int, $3, $4::int)";

/* Columns of wp_payorder_claim. */
enum {
	C_ORDER, C_MSGID, C_ATTEMPTS, C_CREATED, C_NB, C_SUM, C_ACCOUNT,
	C_DEBTOR, C_INSTR, C_E2E, C_AMOUNT, C_NAME, C_CARD, C_BANK, C_RMT,
	C_PII, C__COUNT
};

/* One POST in flight. */
struct post {
	LIST_ENTRY(post)	 entry;
	long long		 id;		/* payment_order.id */
	char			 msg_id[WP_MAX35_LEN];
	int			 attempt;
	int			 status;	/* HTTP status of the answer, 0 if none */
	struct evhttp_connection *conn;		/* owned */
	struct event		*deadline;	/* owned */
	struct event		*later;		/* owned */
};

static struct {
	struct event_base	*base;
	struct event		*timer;
	struct evdns_base	*dns;
	SSL_CTX			*ctx;		/* NULL without payments_url */
	LIST_HEAD(, post)	 inflight;
	int			 ninflight;
	bool			 claiming, started, stopped;
	int			 timeout_secs, backoff_max;
} P;

static int
env_int(const char *name, int def, int min, int max)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < min || n > max) {
		log_warnx("%s must be a number from %d to %d; using %d", name,
		    min, max, def);
		return def;
	}
	return (int)n;
}

/* --- recording an attempt ------------------------------------------------ */

static void
recorded_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)unknown; (void)arg;
	if (!P.stopped && (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK))
		log_warnx("payment orders: could not record an attempt: %s; "
		    "its lease makes it due again", res == NULL ? error :
		    "database refused the update");
}

static void
record(long long id, const char *msg_id, int attempt, int status,
    const char *error)
{
	char		 sid[24], sstatus[16], max[16];
	const char	*params[4];
	int		 rc;

	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(sstatus, sizeof(sstatus), "%d", status);
	params[0] = sid;
	if (status >= 200 && status <= 299) {
		log_info("payment order %s: taken by the core (HTTP %d, attempt "
		    "%d)", msg_id, status, attempt);
		params[1] = sstatus;
		rc = db_query(wpd->db, taken_sql, 2, params, recorded_cb, NULL);
	} else {
		log_warnx("payment order %s: attempt %d failed: %s; it will be "
		    "retried", msg_id, attempt, error);
		snprintf(max, sizeof(max), "%d", P.backoff_max);
		params[1] = status > 0 ? sstatus : NULL;
		params[2] = error;
		params[3] = max;
		rc = db_query(wpd->db, failed_sql, 4, params, recorded_cb, NULL);
	}
	if (rc == -1)
		log_warnx("payment order %s: database unavailable; the attempt "
		    "will be made again after its lease", msg_id);
}

/* --- POSTs ------------------------------------------------------------------ */

static void
post_free(struct post *p)
{
	LIST_REMOVE(p, entry);
	P.ninflight--;
	if (p->deadline != NULL)
		event_free(p->deadline);
	if (p->later != NULL)
		event_free(p->later);
	if (p->conn != NULL)
		evhttp_connection_free(p->conn);
	free(p);
}

static void
finish(struct post *p, int status, const char *error)
{
	record(p->id, p->msg_id, p->attempt, status, error);
	post_free(p);
	if (!P.stopped && !wpd->draining)
		payorders_kick();
}

static void
later_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct post	*p = arg;
	char		 error[64];

	(void)fd; (void)ev;
	if (p->status == 0)
		snprintf(error, sizeof(error), "no answer (refused, closed, or "
		    "TLS failed)");
	else
		snprintf(error, sizeof(error), "HTTP %d", p->status);
	finish(p, p->status, error);
}

static void
response_cb(struct evhttp_request *req, void *arg)
{
	struct post	*p = arg;

	event_del(p->deadline);
	p->status = req != NULL ? evhttp_request_get_response_code(req) : 0;
	event_active(p->later, EV_TIMEOUT, 0);
}

static void
deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct post	*p = arg;
	char		 error[64];

	(void)fd; (void)ev;
	snprintf(error, sizeof(error), "no answer within %d s", P.timeout_secs);
	finish(p, 0, error);
}

/* The SSL of one connection to the core: its host name (or address)
 * verified, SNI set. NULL on failure. */
static SSL *
core_ssl(const char *host)
{
	unsigned char	 buf[16];
	SSL		*ssl;

	if ((ssl = SSL_new(P.ctx)) == NULL)
		return NULL;
	if (inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1)
			return ssl;
	} else if (SSL_set1_host(ssl, host) == 1 &&
	    SSL_set_tlsext_host_name(ssl, host) == 1)
		return ssl;
	SSL_free(ssl);
	return NULL;
}

static int
request(struct post *p, struct evhttp_uri *uri, const char *body, size_t len)
{
	struct evhttp_request	*req;
	struct bufferevent	*bev;
	struct timeval		 tv = { P.timeout_secs, 0 };
	const char		*host = evhttp_uri_get_host(uri), *path;
	char			 hostport[300];
	int			 port;
	SSL			*ssl;

	port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 443;
	path = evhttp_uri_get_path(uri);
	if (host == NULL || (ssl = core_ssl(host)) == NULL)
		return -1;
	if ((bev = bufferevent_openssl_socket_new(P.base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if ((p->conn = evhttp_connection_base_bufferevent_new(P.base, P.dns,
	    bev, host, (unsigned short)port)) == NULL) {
		bufferevent_free(bev);
		return -1;
	}
	evhttp_connection_set_timeout(p->conn, P.timeout_secs);
	evhttp_connection_set_retries(p->conn, 0);
	if ((p->deadline = evtimer_new(P.base, deadline_cb, p)) == NULL ||
	    (p->later = evtimer_new(P.base, later_cb, p)) == NULL ||
	    (req = evhttp_request_new(response_cb, p)) == NULL)
		return -1;
	snprintf(hostport, sizeof(hostport), "%s%s%s:%d", strchr(host, ':') ?
	    "[" : "", host, strchr(host, ':') ? "]" : "", port);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    hostport);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/xml; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
	evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	if (evhttp_make_request(p->conn, req, EVHTTP_REQ_POST,
	    path != NULL && path[0] != '\0' ? path : "/") == -1)
		return -1;
	evtimer_add(p->deadline, &tv);
	return 0;
}

/* Starts the POST of one order; a failure before the request is out is
 * recorded at once. */
static void
post(long long id, const char *msg_id, int attempt, const char *body,
    size_t len)
{
	struct post		*p;
	struct evhttp_uri	*uri;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;		/* the lease makes it due again */
	p->id = id;
	p->attempt = attempt;
	snprintf(p->msg_id, sizeof(p->msg_id), "%s", msg_id);
	LIST_INSERT_HEAD(&P.inflight, p, entry);
	P.ninflight++;
	if ((uri = evhttp_uri_parse(wpd->conf->payments_url)) == NULL) {
		finish(p, 0, "payments_url cannot be parsed");
		return;
	}
	if (request(p, uri, body, len) == -1)
		finish(p, 0, "could not send the request");
	evhttp_uri_free(uri);
}

/* --- building and claiming ------------------------------------------------- */

/* Lines stored sealed (issue 22): the clear name and card opened here,
 * strdup'd over the indexes the claim returned. */
static int
open_lines(PGresult *res, int first, int last, struct payorder_line *l,
    struct perr *err)
{
	char	*name, *card;
	int	 i;

	for (i = first; i < last; i++) {
		if (PQgetisnull(res, i, C_PII))
			continue;
		if (piikeys_open_dup(PQgetvalue(res, i, C_PII), &name, &card,
		    err) == -1)
			return -1;
		l[i - first].name = name;
		l[i - first].card = card;
	}
	return 0;
}

static void
free_lines(struct payorder_line *l, int first, int last, PGresult *res)
{
	int	i;

	for (i = first; l != NULL && i < last; i++)
		if (!PQgetisnull(res, i, C_PII) &&
		    l[i - first].name != PQgetvalue(res, i, C_NAME)) {
			free((char *)l[i - first].name);
			free((char *)l[i - first].card);
		}
	free(l);
}

/* The order whose lines are rows first..last-1 of res, as validated bytes
 * (malloc'd), or NULL with err. */
static char *
order_bytes(PGresult *res, int first, int last, size_t *len, struct perr *err)
{
	struct payorder		 o;
	struct payorder_line	*l;
	xmlDocPtr		 doc = NULL;
	char			*out = NULL;
	int			 i;

	if ((l = calloc((size_t)(last - first), sizeof(*l))) == NULL) {
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	o.msg_id = PQgetvalue(res, first, C_MSGID);
	o.created_at = PQgetvalue(res, first, C_CREATED);
	o.account = PQgetvalue(res, first, C_ACCOUNT);
	o.debtor = PQgetvalue(res, first, C_DEBTOR);
	for (i = first; i < last; i++) {
		l[i - first].instr_id = PQgetvalue(res, i, C_INSTR);
		l[i - first].end_to_end_id = PQgetvalue(res, i, C_E2E);
		l[i - first].amount = strtoll(PQgetvalue(res, i, C_AMOUNT), NULL, 10);
		l[i - first].name = PQgetvalue(res, i, C_NAME);
		l[i - first].card = PQgetvalue(res, i, C_CARD);
		l[i - first].card_bank = PQgetvalue(res, i, C_BANK);
		l[i - first].remittance = PQgetvalue(res, i, C_RMT);
	}
	if (open_lines(res, first, last, l, err) == -1) {
		free_lines(l, first, last, res);
		return NULL;
	}
	o.lines = l;
	o.nlines = (size_t)(last - first);
	if ((doc = payorder_build(&o, err)) != NULL &&
	    schemas_validate(wpd->schemas, XSD_PAIN001, doc, err) == 0 &&
	    (out = xmlout_dump(doc, len)) == NULL)
		perr_set(err, "WP90", "out of memory");
	xmlFreeDoc(doc);
	free_lines(l, first, last, res);
	return out;
}

static void
claim_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct perr	 err;
	char		*body;
	size_t		 len = 0;
	int		 i, j, n;

	(void)unknown; (void)arg;
	P.claiming = false;
	if (P.stopped)
		return;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQnfields(res) != C__COUNT) {
		log_warnx("payment orders: could not claim: %s", res == NULL ?
		    error : "database refused the claim");
		return;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(PQgetvalue(res, j, C_ORDER),
		    PQgetvalue(res, i, C_ORDER)) == 0; j++)
			;
		perr_clear(&err);
		if ((body = order_bytes(res, i, j, &len, &err)) == NULL) {
			record(strtoll(PQgetvalue(res, i, C_ORDER), NULL, 10),
			    PQgetvalue(res, i, C_MSGID), atoi(PQgetvalue(res, i,
			    C_ATTEMPTS)), 0, err.msg);
			continue;
		}
		post(strtoll(PQgetvalue(res, i, C_ORDER), NULL, 10),
		    PQgetvalue(res, i, C_MSGID), atoi(PQgetvalue(res, i,
		    C_ATTEMPTS)), body, len);
		free(body);
	}
}

static void
claim(void)
{
	char		 limit[16], lease[16];
	const char	*params[2];

	/* load_all makes a context whenever payments_url is set: P.ctx is
	 * NULL only without one */
	if (P.stopped || wpd->draining || P.claiming ||
	    P.ninflight >= INFLIGHT_MAX || wpd->conf->payments_url == NULL ||
	    P.ctx == NULL)
		return;
	snprintf(limit, sizeof(limit), "%d", INFLIGHT_MAX - P.ninflight);
	snprintf(lease, sizeof(lease), "%d", P.timeout_secs + 10);
	params[0] = limit;
	params[1] = lease;
	if (db_query(wpd->db, claim_sql, 2, params, claim_cb, NULL) == 0)
		P.claiming = true;
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	claim();
}

void
payorders_kick(void)
{
	if (P.started && !P.stopped)
		event_active(P.timer, EV_TIMEOUT, 0);
}

void
payorders_set_ctx(SSL_CTX *ctx)
{
	SSL_CTX_free(P.ctx);	/* connections keep their own reference */
	P.ctx = ctx;
}

int
payorders_start(struct event_base *base, SSL_CTX *ctx, struct perr *err)
{
	struct timeval	tv;
	int		poll_ms;

	memset(&P, 0, sizeof(P));
	LIST_INIT(&P.inflight);
	P.base = base;
	P.ctx = ctx;
	P.timeout_secs = env_int("WAGEPAY_PAYORDER_TIMEOUT",
	    TIMEOUT_SECS_DEFAULT, 1, 600);
	P.backoff_max = env_int("WAGEPAY_PAYORDER_BACKOFF_MAX",
	    BACKOFF_MAX_DEFAULT, 1, 86400);
	poll_ms = env_int("WAGEPAY_PAYORDER_POLL_MS", POLL_MS_DEFAULT, 10,
	    600000);
	if ((P.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL &&
	    (P.dns = evdns_base_new(base, 0)) == NULL) {
		payorders_set_ctx(NULL);
		return perr_set(err, "WP90", "payment orders: could not start a "
		    "DNS resolver");
	}
	if ((P.timer = event_new(base, -1, EV_PERSIST, poll_cb, NULL)) == NULL) {
		evdns_base_free(P.dns, 0);
		payorders_set_ctx(NULL);
		return perr_set(err, "WP90", "payment orders: could not make a "
		    "timer");
	}
	tv.tv_sec = poll_ms / 1000;
	tv.tv_usec = (poll_ms % 1000) * 1000;
	event_add(P.timer, &tv);
	P.started = true;
	if (wpd->conf->payments_url == NULL)
		log_warnx("payment orders: [core] payments_url is not set: "
		    "orders wait in the outbox until it is");
	payorders_kick();
	return 0;
}

void
payorders_stop(void)
{
	struct post	*p;

	if (!P.started || P.stopped)
		return;
	P.stopped = true;
	event_free(P.timer);
	while ((p = LIST_FIRST(&P.inflight)) != NULL)
		post_free(p);
	payorders_set_ctx(NULL);
	evdns_base_free(P.dns, 0);
}
