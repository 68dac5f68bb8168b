/*
 * metrics.c: the console listener's GET /healthz (does the database
 * answer?) and GET /metrics, in the Prometheus text format: this process's
 * counters, the database latency probe's (watchdog.c), the console's
 * sign-ins (session.c), and the figures only the database knows (payment
 * orders to the core included), from one wp_console_metrics() call per
 * scrape.
 *
 * Owns nothing between scrapes. Without a database the process's own
 * figures are still served. Must not put an ID or card number or a
 * worker's name into a label: the only label value that comes from the
 * database is an alert recipient's name, escaped as the format requires.
 */
#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "daemon.h"
#include "log.h"

/* --- health and metrics ----------------------------------------------- */

static void
health_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending	*p = arg;

	(void)unknown;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (res == NULL)
			log_debug("healthz: %s", error);
		pending_unavailable(p);
		return;
	}
	pending_reply(p, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

void
metrics_healthz(struct evhttp_request *req)
{
	struct pending	*p;

	if (!db_available(wpd->db)) {
		http_unavailable(req);
		return;
	}
	if ((p = pending_new(req)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if (db_query(wpd->db, "SELECT 1", 0, NULL, health_cb, p) == -1)
		pending_unavailable(p);
}

/* A label value in the exposition format: \, " and newline escaped. */
static void
label_value(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(b, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

static void
family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* A family of one sample without labels. */
static void
sample(struct evbuffer *b, const char *name, const char *type,
    const char *help, long long value)
{
	family(b, name, type, help);
	evbuffer_add_printf(b, "%s %lld\n", name, value);
}

static long long
jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* The payment orders to the core not settled yet (026). */
static void
metrics_payorders(struct evbuffer *b, json_t *o)
{
	family(b, "wagepay_payment_orders", "gauge", "Payment orders to the "
	    "core not settled: pending (in the outbox, not taken yet) and "
	    "taken (lines without a final status).");
	evbuffer_add_printf(b, "wagepay_payment_orders{state=\"pending\"} "
	    "%lld\n", jint(o, "pending"));
	evbuffer_add_printf(b, "wagepay_payment_orders{state=\"taken\"} "
	    "%lld\n", jint(o, "taken"));
	sample(b, "wagepay_payment_order_oldest_pending_seconds", "gauge",
	    "Age of the oldest payment order the core has not taken (0: "
	    "none).", jint(o, "oldest_pending_seconds"));
	sample(b, "wagepay_payment_lines_unsettled", "gauge", "Lines of "
	    "payment orders without a final status (ACCC or RJCT) yet.",
	    jint(o, "lines_unsettled"));
}

/* The wage guarantees (issue #21), from wp_console_metrics' "guarantees". */
static void
metrics_guarantees(struct evbuffer *b, json_t *g)
{
	sample(b, "wagepay_guarantees_active", "gauge", "Wage guarantees "
	    "held (not released).", jint(g, "active"));
	sample(b, "wagepay_guarantees_short", "gauge", "Wage guarantees "
	    "holding less than required.", jint(g, "short"));
	sample(b, "wagepay_guarantee_draws_claimed", "gauge", "Draws on "
	    "guarantee letters waiting for the issuer's money.",
	    jint(g, "claimed_draws"));
	sample(b, "wagepay_guarantee_balance_fen", "gauge", "Sum of the "
	    "guarantee accounts' balances, in fen.", jint(g, "fen_balance"));
}

/* The figures only the database knows (j NULL: it did not answer). */
static void
metrics_db(struct evbuffer *b, json_t *j, double secs)
{
	static const char *const states[] = { "received", "rejected", "held",
	    "paid", "cancelled" };
	json_t		*sheets, *alerts, *by;
	const char	*k;
	json_t		*v;
	size_t		 i;

	family(b, "wagepay_metrics_db_up", "gauge", "Whether the database "
	    "answered this scrape (the figures below are absent if not).");
	evbuffer_add_printf(b, "wagepay_metrics_db_up %d\n", j != NULL);
	if (j == NULL)
		return;
	family(b, "wagepay_metrics_query_seconds", "gauge", "Time the "
	    "database took to answer this scrape.");
	evbuffer_add_printf(b, "wagepay_metrics_query_seconds %.6f\n", secs);
	sheets = json_object_get(j, "sheets");
	family(b, "wagepay_sheets", "gauge", "Sheets in the database by "
	    "state (every instance's).");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		evbuffer_add_printf(b, "wagepay_sheets{state=\"%s\"} %lld\n",
		    states[i], jint(sheets, states[i]));
	sample(b, "wagepay_lines_paid_total", "counter", "Sheet lines paid "
	    "to workers' cards (every instance's).", jint(j, "lines_paid"));
	sample(b, "wagepay_wages_paid_fen_total", "counter", "Wages paid to "
	    "workers' cards, in fen (1/100 yuan).", jint(j, "fen_paid"));
	sample(b, "wagepay_wages_held_fen", "gauge", "Wages of held sheets "
	    "waiting for funds, in fen.", jint(j, "fen_held"));
	sample(b, "wagepay_dedicated_balance_fen", "gauge", "Sum of the "
	    "dedicated accounts' balances, in fen.", jint(j, "fen_balance"));
	sample(b, "wagepay_accounts_open", "gauge", "Dedicated accounts open.",
	    jint(j, "accounts_open"));
	sample(b, "wagepay_approvals_pending", "gauge", "Four-eyes proposals "
	    "waiting for a checker.", jint(j, "approvals_pending"));
	alerts = json_object_get(j, "alerts");
	sample(b, "wagepay_alerts_undelivered", "gauge", "Alerts not yet "
	    "acknowledged by every recipient.", jint(alerts, "count"));
	family(b, "wagepay_alert_backlog", "gauge", "Alert deliveries not yet "
	    "acknowledged, per recipient ('' when no recipient covers the "
	    "project).");
	by = json_object_get(alerts, "by_recipient");
	json_object_foreach(by, k, v) {
		evbuffer_add_printf(b, "wagepay_alert_backlog{recipient=\"");
		label_value(b, k);
		evbuffer_add_printf(b, "\"} %lld\n",
		    (long long)json_integer_value(v));
	}
	metrics_payorders(b, json_object_get(j, "payment_orders"));
	metrics_guarantees(b, json_object_get(j, "guarantees"));
}

/* Process-wide figures, and the database's when j is not NULL. */
static void
metrics_reply(struct evhttp_request *req, json_t *j, double secs)
{
	struct evbuffer	*b = evbuffer_new();
	static const char *const names[] = { "ACSC", "PART", "RJCT", "PDNG",
	    "REFUSED" };
	static const char *const outcomes[] = { "ok", "refused", "throttled" };
	size_t		 i, len;
	char		*out;

	if (b == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	family(b, "wagepay_sheets_total", "counter", "Sheets this instance "
	    "decided since start, by pain.002 group status (REFUSED: before "
	    "the database).");
	for (i = 0; i < 5; i++)
		evbuffer_add_printf(b, "wagepay_sheets_total{status=\"%s\"} %llu\n",
		    names[i], (unsigned long long)wpd->sheets_by_state[i]);
	family(b, "wagepay_db_up", "gauge", "Whether a database connection "
	    "is up.");
	evbuffer_add_printf(b, "wagepay_db_up %d\n", db_available(wpd->db));
	family(b, "wagepay_db_backlog", "gauge", "Database requests queued or "
	    "in flight.");
	evbuffer_add_printf(b, "wagepay_db_backlog %d\n", db_backlog(wpd->db));
	family(b, "wagepay_db_errors_total", "counter", "Database calls that "
	    "failed.");
	evbuffer_add_printf(b, "wagepay_db_errors_total %llu\n",
	    (unsigned long long)wpd->db_errors);
	family(b, "wagepay_console_signins_total", "counter", "Console "
	    "sign-ins by outcome.");
	for (i = 0; i < SIGNIN_N; i++)
		evbuffer_add_printf(b, "wagepay_console_signins_total"
		    "{outcome=\"%s\"} %llu\n", outcomes[i],
		    (unsigned long long)session_signins(i));
	watchdog_metrics(b);
	metrics_db(b, j, secs);
	len = evbuffer_get_length(b);
	if ((out = malloc(len + 1)) != NULL) {
		evbuffer_remove(b, out, len);
		http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
		    out, len);
		free(out);
	} else
		http_reply(req, 500, NULL, NULL, 0);
	evbuffer_free(b);
}

struct scrape {
	struct pending	*p;
	struct timespec	 sent;
};

static void
scrape_free(void *arg)
{
	free(arg);
}

static void
metrics_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct scrape		*s = arg;
	struct timespec		 now;
	struct evhttp_request	*req = s->p->req;
	struct evhttp_connection *conn;
	json_t			*j = NULL;
	json_error_t		 jerr;
	double			 secs;

	(void)unknown;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - s->sent.tv_sec) +
	    (double)(now.tv_nsec - s->sent.tv_nsec) / 1e9;
	if (res == NULL)
		log_debug("metrics: %s", error);
	else if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		j = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
	if (req != NULL) {
		if ((conn = evhttp_request_get_connection(req)) != NULL)
			evhttp_connection_set_closecb(conn, NULL, NULL);
		s->p->req = NULL;
		metrics_reply(req, j, secs);
	}
	json_decref(j);
	pending_free(s->p);
}

/* GET /metrics: one query for the database's figures; without a database
 * the process's own are still served. */
void
metrics_get(struct evhttp_request *req)
{
	struct scrape	*s;

	if (!db_available(wpd->db) || (s = calloc(1, sizeof(*s))) == NULL) {
		metrics_reply(req, NULL, 0);
		return;
	}
	if ((s->p = pending_new(req)) == NULL) {
		free(s);
		metrics_reply(req, NULL, 0);
		return;
	}
	s->p->data = s;
	s->p->free_fn = scrape_free;
	clock_gettime(CLOCK_MONOTONIC, &s->sent);
	if (db_query(wpd->db, "SELECT wp_console_metrics()", 0, NULL,
	    metrics_cb, s) == -1) {
		pending_free(s->p);	/* unhooks req, frees s */
		metrics_reply(req, NULL, 0);
	}
}
