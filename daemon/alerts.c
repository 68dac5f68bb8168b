/*
 * alerts.c: delivers the alert outbox to the regulators.
 *
 * The alert rows are written by the SQL that causes them, in the same
 * transaction (the transactional outbox); this file only reads them after
 * the commit. Every poll (or kick) one statement, wp_alert_claim, routes new
 * alerts to the configured [regulator NAME] sections and claims the
 * deliveries that are due, under a lease; each claimed delivery is built
 * (proto/alert.c), checked against alert.xsd, signed by the bank and POSTed
 * through outbound.c (the daemon's one HTTPS client) with the bank's
 * client certificate, the regulator verified against its own CA and host
 * name, one connection per regulator kept open. Any 2xx marks it
 * delivered; anything
 * else (another status, a timeout, a refused connection, a TLS failure)
 * leaves it for a later attempt, 1 s doubling up to a cap, kept in the
 * database so that it survives restarts. A daemon killed mid-POST leaves
 * the claim's lease to expire: the delivery is due again, never lost. The
 * Alert Id is the row's uuid, the same on every attempt, so a regulator
 * drops duplicates.
 *
 * Owns: the poll timer, the DNS resolver, the regulators' TLS contexts and
 * destinations (remade when the configuration is reloaded: the old ones
 * retired), every delivery in flight. Must
 * not: block the loop, touch anything in the payment path (it has its own
 * statements), or log an alert's Detail (it may name a company).
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <jansson.h>
#include <libxml/tree.h>

#include "alert.h"
#include "daemon.h"
#include "log.h"
#include "xmlout.h"
#include "xmlsafe.h"
#include "xmlsig.h"

#define POLL_MS_DEFAULT		1000
#define TIMEOUT_SECS_DEFAULT	10	/* one attempt, connect to answer */
#define BACKOFF_MAX_DEFAULT	300	/* 5 minutes */
#define INFLIGHT_MAX		16	/* POSTs at once */
#define ROUTE_BATCH		1000

static const char claim_sql[] =
    "SELECT * FROM wp_alert_claim($1::json, $2::boolean, $3::int, $4::int)";
static const char delivered_sql[] =
    "SELECT wp_alert_delivered($1::bigint, $2::int)";
static const char failed_sql[] =
    "SELECT wp_alert_failed($1::bigint, $2::int, $3, $4::int)";

/* Columns of wp_alert_claim. */
enum {
	C_DELIVERY, C_RECIPIENT, C_ATTEMPTS, C_ID, C_KIND, C_RAISED, C_CODE,
	C_NAME, C_REGION, C_INDUSTRY, C_ACCOUNT, C_BALANCE, C_REQUIRED,
	C_SHORTFALL, C_MONTH, C_MSGID, C_E2E, C_DETAIL, C_OPENED, C__COUNT
};

/* A regulator's TLS context and destination (outbound.c), made when first
 * needed for the configuration in force. */
struct recipient {
	SLIST_ENTRY(recipient)	 entry;
	char			*name;
	SSL_CTX			*ctx;
	struct outbound		*out;
};

/* One POST in flight (its connection and timers are outbound.c's). */
struct delivery {
	LIST_ENTRY(delivery)	 entry;
	long long		 id;		/* alert_delivery.id */
	int			 attempt;
	char			 alert_id[40];
	char			 recipient[128];
};

/* What is left of an attempt once its POST is over: the database's part. */
struct outcome {
	long long	id;
	char		alert_id[40];
	char		recipient[128];
	int		status;		/* HTTP status, 0 if none */
	char		error[256];
};

static struct {
	struct event_base	*base;
	struct event		*timer;
	struct evdns_base	*dns;
	const struct config	*conf;		/* what the recipients were made for */
	SLIST_HEAD(, recipient)	 recipients;
	LIST_HEAD(, delivery)	 inflight;
	int			 ninflight;
	bool			 claiming;	/* a claim statement is out */
	bool			 again;		/* claim again when it is back */
	bool			 reroute;	/* re-examine NO_RECIPIENT alerts */
	bool			 started, stopped;
	int			 timeout_secs;
	int			 backoff_max;
} A;

static void	claim(void);

/* Forgets the recipients: their destinations retired (what is in flight
 * ends on them), or, at shutdown, already gone with outbound_shutdown. */
static void
recipients_flush(bool shutdown)
{
	struct recipient	*r;

	while ((r = SLIST_FIRST(&A.recipients)) != NULL) {
		SLIST_REMOVE_HEAD(&A.recipients, entry);
		if (!shutdown)
			outbound_retire(r->out);
		SSL_CTX_free(r->ctx);	/* the destination keeps its own */
		free(r->name);
		free(r);
	}
}

static const struct regulator_conf *
regulator_find(const char *name)
{
	size_t	i;

	for (i = 0; i < wpd->conf->nregulators; i++)
		if (strcmp(wpd->conf->regulators[i].name, name) == 0)
			return &wpd->conf->regulators[i];
	return NULL;
}

/* The destination of a recipient of the configuration in force. */
static struct outbound *
recipient_out(const struct regulator_conf *rc, struct perr *err)
{
	struct recipient	*r;

	SLIST_FOREACH(r, &A.recipients, entry)
		if (strcmp(r->name, rc->name) == 0)
			return r->out;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->name = strdup(rc->name)) == NULL) {
		free(r);
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	if ((r->ctx = tls_client_ctx(rc->ca, rc->cert, rc->key, err)) == NULL) {
		perr_set(err, err->code, "TLS setup: %s", err->msg);
		free(r->name);
		free(r);
		return NULL;
	}
	if ((r->out = outbound_new(A.base, A.dns, rc->url, r->ctx,
	    A.timeout_secs, 1, err)) == NULL) {
		SSL_CTX_free(r->ctx);
		free(r->name);
		free(r);
		return NULL;
	}
	SLIST_INSERT_HEAD(&A.recipients, r, entry);
	return r->out;
}

char *
alerts_regulators_json(void)
{
	json_t	*arr = json_array(), *o;
	char	*out;
	size_t	 i;
	const struct regulator_conf *r;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < wpd->conf->nregulators; i++) {
		r = &wpd->conf->regulators[i];
		o = json_pack("{s:s, s:s, s:s}", "name", r->name, "region",
		    r->region, "authority", config_authority_name(r->authority));
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

/* --- recording an attempt's outcome --------------------------------------- */

static void
recorded_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct outcome	*o = arg;

	(void)unknown;
	if (!A.stopped && (res == NULL ||
	    PQresultStatus(res) != PGRES_TUPLES_OK))
		/* the lease makes the delivery due again: at worst a
		 * regulator sees the same Id twice */
		log_warnx("alert %s to %s: could not record the attempt: %s",
		    o->alert_id, o->recipient, res == NULL ? error :
		    "database refused the update");
	free(o);
}

static void
record(struct outcome *o)
{
	char		 id[24], status[16], max[16];
	const char	*params[4];
	int		 rc;

	if (o == NULL)
		return;		/* out of memory: the lease makes it due again */
	snprintf(id, sizeof(id), "%lld", o->id);
	snprintf(status, sizeof(status), "%d", o->status);
	params[0] = id;
	if (o->status >= 200 && o->status <= 299) {
		params[1] = status;
		rc = db_query(wpd->db, delivered_sql, 2, params, recorded_cb, o);
	} else {
		snprintf(max, sizeof(max), "%d", A.backoff_max);
		params[1] = o->status > 0 ? status : NULL;
		params[2] = o->error;
		params[3] = max;
		rc = db_query(wpd->db, failed_sql, 4, params, recorded_cb, o);
	}
	if (rc == -1) {
		log_warnx("alert %s to %s: database unavailable; the attempt "
		    "will be made again after its lease", o->alert_id,
		    o->recipient);
		free(o);
	}
}

/* --- POSTs --------------------------------------------------------------- */

static void
delivery_free(struct delivery *d)
{
	LIST_REMOVE(d, entry);
	A.ninflight--;
	free(d);
}

static struct outcome *
outcome_new(const struct delivery *d, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct outcome *
outcome_new(const struct delivery *d, int status, const char *fmt, ...)
{
	struct outcome	*o;
	va_list		 ap;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->id = d->id;
	o->status = status;
	snprintf(o->alert_id, sizeof(o->alert_id), "%s", d->alert_id);
	snprintf(o->recipient, sizeof(o->recipient), "%s", d->recipient);
	va_start(ap, fmt);
	vsnprintf(o->error, sizeof(o->error), fmt, ap);
	va_end(ap);
	return o;
}

static void
finish(struct delivery *d, struct outcome *o)
{
	if (o != NULL) {
		if (o->status >= 200 && o->status <= 299)
			log_info("alert %s to %s: delivered (HTTP %d, attempt %d)",
			    d->alert_id, d->recipient, o->status, d->attempt);
		else
			log_warnx("alert %s to %s: attempt %d failed: %s; it "
			    "will be retried", d->alert_id, d->recipient,
			    d->attempt, o->error);
		record(o);
	}
	delivery_free(d);
	/* a slot is free: more may be due */
	if (!A.stopped && !(wpd != NULL && wpd->draining))
		alerts_kick();
}

static void
done_cb(int status, const char *error, void *arg)
{
	struct delivery	*d = arg;

	finish(d, outcome_new(d, status, "%s", status >= 200 && status <= 299 ?
	    "" : error));
}

/* Starts the POST of one signed alert; on any failure before the request
 * is out, the outcome is recorded at once. */
static void
post(const struct regulator_conf *rc, long long id, int attempt,
    const char *alert_id, const char *body, size_t len)
{
	struct delivery	*d;
	struct outbound	*out;
	struct perr	 err;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;		/* the lease makes it due again */
	d->id = id;
	d->attempt = attempt;
	snprintf(d->alert_id, sizeof(d->alert_id), "%s", alert_id);
	snprintf(d->recipient, sizeof(d->recipient), "%s", rc->name);
	LIST_INSERT_HEAD(&A.inflight, d, entry);
	A.ninflight++;
	perr_clear(&err);
	if ((out = recipient_out(rc, &err)) == NULL)
		finish(d, outcome_new(d, 0, "%s", err.msg));
	else if (outbound_post(out, "application/xml; charset=utf-8", NULL,
	    body, len, done_cb, d) == -1)
		finish(d, outcome_new(d, 0, "out of memory"));
}

/* --- building an alert ------------------------------------------------------ */

static const char *
col(PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static bool
amount_col(PGresult *res, int row, int c, int64_t *out)
{
	if (PQgetisnull(res, row, c))
		return false;
	*out = strtoll(PQgetvalue(res, row, c), NULL, 10);
	return true;
}

/* A GUARANTEES ledger's rows from the claim's list (fen as JSON numbers). */
static void
guarantee_row(json_t *o, struct alert_guarantee *g)
{
	g->code = json_string_value(json_object_get(o, "code"));
	g->name = json_string_value(json_object_get(o, "name"));
	g->contractor = json_string_value(json_object_get(o, "contractor"));
	g->kind = json_string_value(json_object_get(o, "kind"));
	g->required = json_integer_value(json_object_get(o, "required"));
	g->held = json_integer_value(json_object_get(o, "held"));
	g->drawn = json_integer_value(json_object_get(o, "drawn"));
	g->expires = json_string_value(json_object_get(o, "expires"));
}

/* The claim's list column (text): the accounts an ACCOUNTS_OPENED report
 * lists, or the guarantees of a GUARANTEES ledger, into m; *js, *opened and
 * *guarantees are the caller's to free, also on failure (-1 with err). */
static int
lists_parse(const char *text, struct alert_msg *m, json_t **js,
    struct alert_opened **opened, struct alert_guarantee **guarantees,
    struct perr *err)
{
	json_error_t	 jerr;
	json_t		*o;
	size_t		 i, n;
	bool		 ledger = m->kind != NULL && strcmp(m->kind, "GUARANTEES") == 0;

	if ((*js = json_loads(text, 0, &jerr)) == NULL || !json_is_array(*js))
		return perr_set(err, "WP90", "opened list is not JSON");
	if ((n = json_array_size(*js)) == 0)
		return 0;
	if (ledger ? (*guarantees = calloc(n, sizeof(**guarantees))) == NULL :
	    (*opened = calloc(n, sizeof(**opened))) == NULL)
		return perr_set(err, "WP90", "out of memory");
	json_array_foreach(*js, i, o) {
		if (ledger) {
			guarantee_row(o, &(*guarantees)[i]);
			continue;
		}
		(*opened)[i].code = json_string_value(json_object_get(o, "code"));
		(*opened)[i].name = json_string_value(json_object_get(o, "name"));
		(*opened)[i].account = json_string_value(json_object_get(o,
		    "account"));
		(*opened)[i].opened_at = json_string_value(json_object_get(o,
		    "opened_at"));
	}
	if (ledger) {
		m->guarantees = *guarantees;
		m->nguarantees = n;
	} else {
		m->opened = *opened;
		m->nopened = n;
	}
	return 0;
}

/* The signed Alert of one claimed row as bytes (malloc'd), or NULL with
 * err. */
static char *
alert_bytes(PGresult *res, int row, size_t *len, struct perr *err)
{
	struct alert_msg	 m;
	struct alert_opened	*opened = NULL;
	struct alert_guarantee	*guarantees = NULL;
	json_t			*js = NULL;
	xmlDocPtr		 doc = NULL;
	char			*out = NULL;

	memset(&m, 0, sizeof(m));
	m.id = col(res, row, C_ID);
	m.kind = col(res, row, C_KIND);
	m.raised_at = col(res, row, C_RAISED);
	m.project_code = col(res, row, C_CODE);
	m.project_name = col(res, row, C_NAME);
	m.region = col(res, row, C_REGION);
	m.industry = col(res, row, C_INDUSTRY);
	m.account = col(res, row, C_ACCOUNT);
	m.has_balance = amount_col(res, row, C_BALANCE, &m.balance);
	m.has_required = amount_col(res, row, C_REQUIRED, &m.required);
	m.has_shortfall = amount_col(res, row, C_SHORTFALL, &m.shortfall);
	m.month = col(res, row, C_MONTH);
	m.msg_id = col(res, row, C_MSGID);
	m.end_to_end_id = col(res, row, C_E2E);
	m.detail = col(res, row, C_DETAIL);
	if (col(res, row, C_OPENED) != NULL && lists_parse(col(res, row,
	    C_OPENED), &m, &js, &opened, &guarantees, err) == -1)
		goto done;
	if ((doc = alert_build(&m, err)) == NULL ||
	    schemas_validate(wpd->schemas, XSD_ALERT, doc, err) == -1 ||
	    xmlsig_sign(wpd->bank, doc, err) == -1)
		goto done;
	if ((out = xmlout_dump(doc, len)) == NULL)
		perr_set(err, "WP90", "out of memory");
done:
	xmlFreeDoc(doc);
	free(opened);
	free(guarantees);
	json_decref(js);
	return out;
}

/* --- claiming ---------------------------------------------------------------- */

static void
claim_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	const struct regulator_conf *rc;
	struct delivery		 fake;
	struct perr		 err;
	char			*body;
	size_t			 len = 0;
	int			 i, n;
	long long		 id;

	(void)unknown; (void)arg;
	A.claiming = false;
	if (A.stopped)
		return;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQnfields(res) != C__COUNT) {
		/* claims taken by a statement whose answer was lost come
		 * back after their lease */
		log_warnx("alerts: could not claim deliveries: %s", res == NULL ?
		    error : PQresultStatus(res) == PGRES_TUPLES_OK ?
		    "unexpected columns" : "database refused the claim");
		return;
	}
	A.reroute = false;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		id = strtoll(PQgetvalue(res, i, C_DELIVERY), NULL, 10);
		perr_clear(&err);
		rc = regulator_find(PQgetvalue(res, i, C_RECIPIENT));
		if (rc == NULL) {
			/* claimed for a configuration just replaced */
			memset(&fake, 0, sizeof(fake));
			fake.id = id;
			snprintf(fake.alert_id, sizeof(fake.alert_id), "%s",
			    PQgetvalue(res, i, C_ID));
			snprintf(fake.recipient, sizeof(fake.recipient), "%s",
			    PQgetvalue(res, i, C_RECIPIENT));
			record(outcome_new(&fake, 0, "recipient is no longer "
			    "configured"));
			continue;
		}
		if ((body = alert_bytes(res, i, &len, &err)) == NULL) {
			log_warnx("alert %s: could not be built: %s",
			    PQgetvalue(res, i, C_ID), err.msg);
			memset(&fake, 0, sizeof(fake));
			fake.id = id;
			snprintf(fake.alert_id, sizeof(fake.alert_id), "%s",
			    PQgetvalue(res, i, C_ID));
			snprintf(fake.recipient, sizeof(fake.recipient), "%s",
			    rc->name);
			record(outcome_new(&fake, 0, "could not be built: %s",
			    err.msg));
			continue;
		}
		post(rc, id, atoi(PQgetvalue(res, i, C_ATTEMPTS)),
		    PQgetvalue(res, i, C_ID), body, len);
		free(body);
	}
	if (A.again || (n > 0 && A.ninflight < INFLIGHT_MAX)) {
		A.again = false;
		alerts_kick();
	}
}

static void
claim(void)
{
	char		*regs, reroute[8], limit[16], lease[16];
	const char	*params[4];

	if (A.stopped || (wpd != NULL && wpd->draining))
		return;
	if (A.claiming) {
		A.again = true;
		return;
	}
	if (A.ninflight >= INFLIGHT_MAX)
		return;
	if (A.conf != wpd->conf) {
		/* reloaded: new certificates, perhaps new recipients that
		 * cover alerts nobody received so far. (Two reloads between
		 * polls could hand the new configuration the old one's
		 * address; the contexts are then kept until the next reload,
		 * and are looked up by name, never by position.) */
		recipients_flush(false);
		A.conf = wpd->conf;
		A.reroute = true;
	}
	if ((regs = alerts_regulators_json()) == NULL)
		return;
	snprintf(reroute, sizeof(reroute), "%s", A.reroute ? "true" : "false");
	snprintf(limit, sizeof(limit), "%d", INFLIGHT_MAX - A.ninflight);
	/* the lease outlasts an attempt, so that a claim is retried only
	 * when its daemon died or lost the answer */
	snprintf(lease, sizeof(lease), "%d", A.timeout_secs + 10);
	params[0] = regs;
	params[1] = reroute;
	params[2] = limit;
	params[3] = lease;
	if (db_query(wpd->db, claim_sql, 4, params, claim_cb, NULL) == 0)
		A.claiming = true;
	free(regs);
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	claim();
}

void
alerts_kick(void)
{
	if (A.started && !A.stopped)
		event_active(A.timer, EV_TIMEOUT, 0);
}

int
alerts_start(struct event_base *base, struct perr *err)
{
	struct timeval	tv;
	int		poll_ms;

	memset(&A, 0, sizeof(A));
	SLIST_INIT(&A.recipients);
	LIST_INIT(&A.inflight);
	A.base = base;
	A.reroute = true;
	A.conf = wpd->conf;
	A.timeout_secs = util_env_int("WAGEPAY_ALERT_TIMEOUT", TIMEOUT_SECS_DEFAULT,
	    1, 300);
	A.backoff_max = util_env_int("WAGEPAY_ALERT_BACKOFF_MAX", BACKOFF_MAX_DEFAULT,
	    1, 86400);
	poll_ms = util_env_int("WAGEPAY_ALERT_POLL_MS", POLL_MS_DEFAULT, 10, 600000);
	/* names resolve on the loop, never with a blocking getaddrinfo */
	if ((A.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL &&
	    (A.dns = evdns_base_new(base, 0)) == NULL)
		return perr_set(err, "WP90", "alerts: could not start a DNS "
		    "resolver");
	if ((A.timer = event_new(base, -1, EV_PERSIST, poll_cb, NULL)) == NULL) {
		evdns_base_free(A.dns, 0);
		return perr_set(err, "WP90", "alerts: could not make a timer");
	}
	tv.tv_sec = poll_ms / 1000;
	tv.tv_usec = (poll_ms % 1000) * 1000;
	event_add(A.timer, &tv);
	A.started = true;
	if (wpd->conf->nregulators == 0)
		log_warnx("alerts: no [regulator] is configured: every alert "
		    "stays undelivered (NO_RECIPIENT) until one is");
	log_info("alerts: delivering to %zu regulator(s), attempt timeout "
	    "%d s, backoff up to %d s", wpd->conf->nregulators,
	    A.timeout_secs, A.backoff_max);
	alerts_kick();
	return 0;
}

void
alerts_stop(void)
{
	struct delivery	*d;

	if (!A.started || A.stopped)
		return;
	A.stopped = true;
	event_free(A.timer);
	A.timer = NULL;
	while ((d = LIST_FIRST(&A.inflight)) != NULL)
		delivery_free(d);
	recipients_flush(true);
	evdns_base_free(A.dns, 0);
	A.dns = NULL;
}
