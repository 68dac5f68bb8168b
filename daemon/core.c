/*
 * core.c: the core feed: what the bank's core system tells wagepay about
 * dedicated accounts. POST /v1/core/notifications takes camt.054.001.08
 * credit notifications (labour-cost deposits); each message is booked all
 * or nothing by wp_core_notify, and a replayed entry changes nothing.
 *
 * Owns nothing. Every answer is a CoreAck. Only a client certificate from
 * [core] client_ca reaches this code (TLS requires it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "camt054.h"
#include "coreack.h"
#include "daemon.h"
#include "log.h"
#include "money.h"
#include "xmlsafe.h"

#define XML_CTYPE	"application/xml; charset=utf-8"

static const char notify_sql[] = "SELECT * FROM wp_core_notify($1::json)";

struct core_call {
	char	ref[WP_MAX35_LEN];
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
notify_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct core_call	*call = p->data;
	char			*xml;
	size_t			 len;

	if (res == NULL) {
		log_warnx("notification %s: database: %s%s", call->ref, error,
		    unknown ? " (outcome unknown; a replay is safe)" : "");
		pending_unavailable(p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_warnx("notification %s: database refused it: %s", call->ref,
		    PQresultErrorMessage(res));
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	log_info("notification %s: %s %s", call->ref, PQgetvalue(res, 0, 0),
	    PQgetvalue(res, 0, 1));
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

static void
notifications(struct evhttp_request *req)
{
	const char		*body;
	size_t			 len;
	xmlDocPtr		 doc;
	struct perr		 err;
	struct camt054		*c;
	struct pending		*p;
	struct core_call	*call;
	char			*json;
	const char		*params[1];

	perr_clear(&err);
	if (http_body(req, wpd->conf->max_body, &body, &len) == -1)
		return ack(req, 413, "UNKNOWN", "REFUSED", "FF01", "body too large");
	if ((doc = xmlsafe_parse(body, len, &err)) == NULL)
		return ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
	if (strcmp(xmlsafe_root_ns(doc), CAMT054_NS) != 0) {
		xmlFreeDoc(doc);
		return ack(req, 400, "UNKNOWN", "REFUSED", "FF01",
		    "expected a camt.054.001.08 notification");
	}
	if (schemas_validate(wpd->schemas, XSD_CAMT054, doc, &err) == -1) {
		xmlFreeDoc(doc);
		return ack(req, 400, "UNKNOWN", "REFUSED", err.code, err.msg);
	}
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
	p->data = call;
	p->free_fn = free;
	params[0] = json;
	if (db_query(wpd->db, notify_sql, 1, params, notify_cb, p) == -1)
		pending_unavailable(p);
	free(json);
	camt054_free(c);
}

void
core_route(struct evhttp_request *req, void *arg)
{
	char	path[256];

	(void)arg;
	if (http_path(req, path, sizeof(path)) == -1) {
		http_reply(req, 404, NULL, NULL, 0);
		return;
	}
	if (strcmp(path, "/v1/core/notifications") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			http_reply(req, 405, NULL, NULL, 0);
			return;
		}
		notifications(req);
		return;
	}
	http_reply(req, 404, "text/plain; charset=utf-8", "no such resource\n", 17);
}
