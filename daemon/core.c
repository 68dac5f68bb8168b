/*
 * core.c: the core feed: what the bank's core system tells wagepay about
 * dedicated accounts, and asks of them.
 *
 * POST /v1/core/notifications takes camt.054.001.08: labour-cost deposits
 * and returned wage payments (matched by EndToEndId, money back and
 * earmarked); each message is booked all or nothing by wp_core_notify, and
 * a replayed entry changes nothing. POST /v1/core/debit-requests takes a
 * DebitRequest: always refused (the account pays wages only), recorded,
 * MISUSE_ATTEMPT raised. POST /v1/core/legal-orders takes a LegalOrder:
 * refused whole unless for the project's wages, and then applied up to the
 * balance less what other orders keep frozen (a FREEZE reserves, an
 * UNFREEZE lifts one by its OrderNo); every answer carries the account's
 * legal status, and every order is reported, LEGAL_ORDER_APPLIED or
 * SEIZURE_REFUSED. POST /v1/core/payment-status takes the
 * core's pain.002.001.11 about a payment order (daemon/payorders.c): per
 * line ACCC, or RJCT with the money back and earmarked and PAYMENT_FAILED
 * raised (wp_settlement_apply). POST /v1/core/statements takes the core's
 * end-of-day camt.053.001.08 of a dedicated account (proto/corestmt.c):
 * reconciled against the ledger, orders in flight allowed for, a real
 * difference raising RECONCILIATION_BREAK (wp_core_statement,
 * schema/functions/reconcile.sql). What is decided is decided in SQL
 * (schema/functions/core.sql), under the account's row lock, in the same
 * transaction as the alert it raises.
 *
 * Owns nothing. Every answer is a CoreAck (HTTP 200 for a call the daemon
 * could read, whatever its outcome). Only the core may speak for the core:
 * TLS lets in a certificate from [core] client_ca, and core_route then
 * refuses with 403, before anything is read, every one that is not
 * [core] client_subject's pin. The certificate that spoke goes with every
 * call to the database (set_config('wagepay.peer', ..., true) inside the
 * one statement, so for its transaction only), where the audit names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "camt054.h"
#include "coreack.h"
#include "corereq.h"
#include "corestmt.h"
#include "daemon.h"
#include "log.h"
#include "money.h"
#include "paystatus.h"
#include "xmlsafe.h"

#define XML_CTYPE	"application/xml; charset=utf-8"

/* The peer is set by an argument's subquery: arguments are evaluated
 * before the call, so the function always sees it. */
static const char notify_sql[] = "SELECT * FROM wp_core_notify("
    "(SELECT $1::json FROM set_config('wagepay.peer', $2, true)))";
static const char debit_sql[] = "SELECT * FROM wp_core_debit("
    "(SELECT $1::text FROM set_config('wagepay.peer', $8, true)), "
    "$2, $3::bigint, $4, $5, $6, $7)";
static const char order_sql[] = "SELECT * FROM wp_core_legal_order("
    "(SELECT $1::text FROM set_config('wagepay.peer', $10, true)), "
    "$2, $3, $4, $5, $6::bigint, $7, $8, $9::timestamptz)";

/* "SUBJECT sha256:HEX" of the certificate that spoke */
#define CORE_WHO_LEN	1024
static const char status_sql[] = "SELECT * FROM wp_settlement_apply("
    "(SELECT $1::text FROM set_config('wagepay.peer', $5, true)), "
    "$2, $3, $4::json)";

static const char statement_sql[] = "SELECT * FROM wp_core_statement("
    "(SELECT $1::text FROM set_config('wagepay.peer', $8, true)), "
    "$2, $3, $4::date, $5::bigint, $6::bigint, $7::json)";

struct core_call {
	char		 ref[WP_MAX35_LEN];
	const char	*what;		/* for log lines */
	bool		 kick;		/* an alert may have been raised */
};

static void
ack(struct evhttp_request *req, int status, const char *ref,
    const char *outcome, const char *code, const char *message)
{
	char	*xml;
	size_t	 len;

	if ((xml = coreack_build(ref, outcome, code, message, &len)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	http_reply(req, status, XML_CTYPE, xml, len);
	free(xml);
}

static void
answer_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct core_call	*call = p->data;
	char			*xml;
	size_t			 len;

	if (res == NULL) {
		log_warnx("%s %s: database: %s%s", call->what, call->ref, error,
		    unknown ? " (outcome unknown; a replay is safe)" : "");
		pending_unavailable(p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    pending_db_transient(p, res, call->what, call->ref))
		return;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_warnx("%s %s: database refused it: %s", call->what,
		    call->ref, db_error(res));
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	log_info("%s %s: %s %s", call->what, call->ref, PQgetvalue(res, 0, 0),
	    PQgetvalue(res, 0, 1));
	if (call->kick)
		alerts_kick();
	xml = coreack_build(call->ref, PQgetvalue(res, 0, 0),
	    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), &len);
	if (xml == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	pending_reply(p, 200, XML_CTYPE, xml, len);
	free(xml);
}

static char *
entries_json(const struct camt054 *c)
{
	json_t			*arr = json_array(), *o;
	char			*out;
	size_t			 i;
	const struct camt054_entry *e;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < c->nentries; i++) {
		e = &c->entries[i];
		o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:s, s:s}",
		    "ref", e->entry_ref, "account", e->account,
		    "amount", (json_int_t)e->amount, "booking", e->booking_date,
		    "payer_name", e->payer_name, "payer_uscc", e->payer_uscc,
		    "is_return", e->is_return, "e2e", e->end_to_end_id,
		    "reason", e->return_reason);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

/*
 * The request's body as a document of namespace ns, valid against its
 * schema (what names it in the refusal); NULL when it is not, the request
 * then answered (413, or 400 with the reason). The caller frees the
 * document.
 */
static xmlDocPtr
read_document(struct evhttp_request *req, const char *ns, enum xsd_kind xsd,
    const char *what)
{
	const char	*body;
	size_t		 len;
	xmlDocPtr	 doc;
	struct perr	 err;

	perr_clear(&err);
	if (http_body(req, wpd->conf->max_body, &body, &len) == -1) {
		ack(req, 413, "UNKNOWN", "REFUSED", "FF01", "body too large");
		return NULL;
	}
	if ((doc = xmlsafe_parse(body, len, &err)) == NULL) {
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return NULL;
	}
	if (strcmp(xmlsafe_root_ns(doc), ns) != 0) {
		xmlFreeDoc(doc);
		perr_set(&err, "FF01", "expected %s", what);
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return NULL;
	}
	if (schemas_validate(wpd->schemas, xsd, doc, &err) == -1) {
		xmlFreeDoc(doc);
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return NULL;
	}
	return doc;
}

static void
notifications(struct evhttp_request *req, const char *who)
{
	xmlDocPtr		 doc;
	struct perr		 err;
	struct camt054		*c;
	struct pending		*p;
	struct core_call	*call;
	char			*json;
	const char		*params[2];

	perr_clear(&err);
	if ((doc = read_document(req, CAMT054_NS, XSD_CAMT054,
	    "a camt.054.001.08 notification")) == NULL)
		return;
	c = camt054_parse(doc, &err);
	xmlFreeDoc(doc);
	if (c == NULL)
		return ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
	if (c->nentries == 0) {
		ack(req, 200, c->msg_id, "DUPLICATE", NULL, "no entries");
		camt054_free(c);
		return;
	}
	if ((json = entries_json(c)) == NULL || (p = pending_new(req)) == NULL) {
		free(json);
		camt054_free(c);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		free(json);
		camt054_free(c);
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->ref, sizeof(call->ref), "%s", c->msg_id);
	call->what = "notification";
	p->data = call;
	p->free_fn = free;
	params[0] = json;
	params[1] = who;
	if (db_query(wpd->db, notify_sql, 2, params, answer_cb, p) == -1)
		pending_unavailable(p);
	free(json);
	camt054_free(c);
}

/* Reads a core request body: bounded, safe parse, the wagepay core schema,
 * the expected root. NULL when it answered the request itself. */
static xmlDocPtr
core_doc(struct evhttp_request *req, const char *root)
{
	const char	*body;
	size_t		 len;
	xmlDocPtr	 doc;
	xmlNodePtr	 r;
	struct perr	 err;

	perr_clear(&err);
	if (http_body(req, wpd->conf->max_body, &body, &len) == -1) {
		ack(req, 413, "UNKNOWN", "REFUSED", "FF01", "body too large");
		return NULL;
	}
	if ((doc = xmlsafe_parse(body, len, &err)) == NULL) {
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return NULL;
	}
	r = xmlDocGetRootElement(doc);
	if (strcmp(xmlsafe_root_ns(doc), CORE_NS) != 0 || r == NULL ||
	    strcmp((const char *)r->name, root) != 0) {
		xmlFreeDoc(doc);
		perr_set(&err, "FF01", "expected a %s (%s)", root, CORE_NS);
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return NULL;
	}
	if (schemas_validate(wpd->schemas, XSD_CORE, doc, &err) == -1) {
		xmlFreeDoc(doc);
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return NULL;
	}
	return doc;
}

/* Sends one statement for a core request and answers from its row. */
static void
core_query(struct evhttp_request *req, const char *what, const char *ref,
    const char *sql, int nparams, const char *const *params)
{
	struct pending		*p;
	struct core_call	*call;

	if ((p = pending_new(req)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->ref, sizeof(call->ref), "%s", ref);
	call->what = what;
	call->kick = true;
	p->data = call;
	p->free_fn = free;
	if (db_query(wpd->db, sql, nparams, params, answer_cb, p) == -1)
		pending_unavailable(p);
}

static void
debit_requests(struct evhttp_request *req, const char *who)
{
	struct debit_request	 d;
	struct perr		 err;
	xmlDocPtr		 doc;
	char			 amount[24];
	const char		*params[8];

	if ((doc = core_doc(req, "DebitRequest")) == NULL)
		return;
	perr_clear(&err);
	if (corereq_debit_parse(doc, &d, &err) == -1) {
		xmlFreeDoc(doc);
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return;
	}
	xmlFreeDoc(doc);
	snprintf(amount, sizeof(amount), "%lld", (long long)d.amount);
	params[0] = d.ref;
	params[1] = d.account;
	params[2] = amount;
	params[3] = d.beneficiary;
	params[4] = d.beneficiary_name;
	params[5] = d.purpose;
	params[6] = d.channel;
	params[7] = who;
	core_query(req, "debit request", d.ref, debit_sql, 8, params);
}

static void
legal_orders(struct evhttp_request *req, const char *who)
{
	struct legal_order	 o;
	struct perr		 err;
	xmlDocPtr		 doc;
	char			 amount[24], now[40];
	const char		*params[10];

	if ((doc = core_doc(req, "LegalOrder")) == NULL)
		return;
	perr_clear(&err);
	if (corereq_order_parse(doc, &o, &err) == -1) {
		xmlFreeDoc(doc);
		ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
		return;
	}
	xmlFreeDoc(doc);
	snprintf(amount, sizeof(amount), "%lld", (long long)o.amount);
	/* "the current month" of the wages owed is the rules' clock's */
	clock_now_iso(now, sizeof(now));
	params[0] = o.ref;
	params[1] = o.authority;
	params[2] = o.order_no;
	params[3] = corereq_kind_name(o.kind);
	params[4] = o.account;
	params[5] = amount;
	params[6] = corereq_reason_name(o.reason);
	params[7] = o.detail;
	params[8] = now;
	params[9] = who;
	core_query(req, "legal order", o.ref, order_sql, 10, params);
}

static char *
statuses_json(const struct paystatus *ps)
{
	json_t			*arr = json_array(), *o;
	char			*out;
	size_t			 i;
	const struct paystatus_line *l;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < ps->nlines; i++) {
		l = &ps->lines[i];
		o = json_pack("{s:s, s:s, s:s, s:s}", "instr", l->instr_id,
		    "e2e", l->end_to_end_id, "sts", l->status, "reason",
		    l->reason);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

static void
payment_status(struct evhttp_request *req, const char *who)
{
	xmlDocPtr		 doc;
	struct perr		 err;
	struct paystatus	*ps;
	char			*json;
	const char		*params[5];

	perr_clear(&err);
	if ((doc = read_document(req, PAYSTATUS_NS, XSD_PAIN002,
	    "a pain.002.001.11 status report")) == NULL)
		return;
	if ((ps = paystatus_parse(doc, &err)) == NULL) {
		xmlFreeDoc(doc);
		return ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
	}
	xmlFreeDoc(doc);
	if ((json = statuses_json(ps)) == NULL) {
		paystatus_free(ps);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	params[0] = ps->orgnl_msg_id;
	params[1] = ps->group_status;
	params[2] = ps->group_reason;
	params[3] = json;
	params[4] = who;
	core_query(req, "payment status", ps->msg_id, status_sql, 5, params);
	free(json);
	paystatus_free(ps);
}

static char *
stmt_entries_json(const struct corestmt *s)
{
	json_t			*arr = json_array(), *o;
	char			*out;
	size_t			 i;
	const struct corestmt_entry *e;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < s->nentries; i++) {
		e = &s->entries[i];
		o = json_pack("{s:s, s:b, s:I, s:s, s:s, s:s}", "ref", e->ref,
		    "credit", e->credit, "amount", (json_int_t)e->amount,
		    "svcr", e->svcr_ref, "e2e", e->end_to_end_id, "booked",
		    e->booked);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

/* The core's end-of-day statement: bounded, safe parse, the official
 * camt.053.001.08 schema first, then read and reconciled in one call. */
static void
statements(struct evhttp_request *req, const char *who)
{
	xmlDocPtr		 doc;
	struct perr		 err;
	struct corestmt		*s;
	char			*json, opening[24], closing[24];
	const char		*params[8];

	perr_clear(&err);
	if ((doc = read_document(req, CORESTMT_NS, XSD_CAMT053,
	    "a camt.053.001.08 statement")) == NULL)
		return;
	if ((s = corestmt_parse(doc, &err)) == NULL) {
		xmlFreeDoc(doc);
		return ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
	}
	xmlFreeDoc(doc);
	if ((json = stmt_entries_json(s)) == NULL) {
		corestmt_free(s);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(opening, sizeof(opening), "%lld", (long long)s->opening);
	snprintf(closing, sizeof(closing), "%lld", (long long)s->closing);
	params[0] = s->msg_id;
	params[1] = s->stmt_id;
	params[2] = s->account;
	params[3] = s->day;
	params[4] = opening;
	params[5] = closing;
	params[6] = json;
	params[7] = who;
	core_query(req, "statement", s->stmt_id, statement_sql, 8, params);
	free(json);
	corestmt_free(s);
}

void
core_route(struct evhttp_request *req, void *arg)
{
	char	path[256], who[CORE_WHO_LEN];

	(void)arg;
	/* before anything of the request is read: TLS let in any certificate
	 * of [core] client_ca, the pin says which one is the core */
	if (!http_peer_pinned(req, wpd->conf->core_pin, who, sizeof(who))) {
		log_warnx("core: refused a client certificate that is not the "
		    "core's (subject %s)", who[0] != '\0' ? who : "none");
		http_reply(req, 403, "text/plain; charset=utf-8",
		    "only the core may call the core feed\n", 37);
		return;
	}
	if (http_path(req, path, sizeof(path)) == -1) {
		http_reply(req, 404, NULL, NULL, 0);
		return;
	}
	if (strcmp(path, "/v1/core/notifications") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			http_reply(req, 405, NULL, NULL, 0);
			return;
		}
		notifications(req, who);
		return;
	}
	if (strcmp(path, "/v1/core/statements") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			http_reply(req, 405, NULL, NULL, 0);
			return;
		}
		statements(req, who);
		return;
	}
	if (strcmp(path, "/v1/core/payment-status") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			http_reply(req, 405, NULL, NULL, 0);
			return;
		}
		payment_status(req, who);
		return;
	}
	if (strcmp(path, "/v1/core/debit-requests") == 0 ||
	    strcmp(path, "/v1/core/legal-orders") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			http_reply(req, 405, NULL, NULL, 0);
			return;
		}
		if (strcmp(path, "/v1/core/debit-requests") == 0)
			debit_requests(req, who);
		else
			legal_orders(req, who);
		return;
	}
	http_reply(req, 404, "text/plain; charset=utf-8", "no such resource\n", 17);
}
