/*
 * sheetapi.c: POST /v1/sheets and GET /v1/sheets/{MsgId}.
 *
 * The path of a sheet: body bounded by evhttp -> safe parse (no DOCTYPE) ->
 * official pain.001 schema -> the subcontractor's signature, which must
 * chain to [signing] subcontractor_ca and name the subcontractor the sheet
 * pays for -> the bank profile (proto/sheet.c) -> one database call,
 * wp_sheet_submit, that checks the roster and pays or holds the sheet in one
 * transaction -> pain.002.
 *
 * Must not decide anything about money itself: the database function is
 * the one place that does, under the account's row lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/tree.h>
#include <openssl/sha.h>

#include "daemon.h"
#include "log.h"
#include "sheet.h"
#include "xmlsafe.h"
#include "xmlsig.h"

#define XML_CTYPE	"application/xml; charset=utf-8"

static const char submit_sql[] =
    "SELECT * FROM wp_sheet_submit($1, $2, decode($3, 'hex'), $4, $5, "
    "($6 || '-01')::date, $7::int, $8::bigint, $9::json)";
static const char status_sql[] = "SELECT * FROM wp_sheet_status($1, $2)";

struct sheet_call {
	char	msg_id[WP_MAX35_LEN];
	int	nlines;
};

/* Answers a sheet refused before the database: 400 when it could not be
 * read at all, 200 with a RJCT decision otherwise. Nothing changed. */
static void
refuse(struct evhttp_request *req, int status, const char *msg_id,
    const struct perr *err)
{
	char	*xml;
	size_t	 len;

	log_info("sheet %s: refused (%s): %s", msg_id[0] ? msg_id : "(unread)",
	    err->code, err->msg);
	wpd->sheets_by_state[METRIC_REFUSED]++;
	if ((xml = report_refused(msg_id, err, &len)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	http_reply(req, status, XML_CTYPE, xml, len);
	free(xml);
}

static void
count_outcome(const char *xml)
{
	/* cheap, and only for /metrics: the group status is in the report */
	if (strstr(xml, "<GrpSts>ACSC<") != NULL)
		wpd->sheets_by_state[METRIC_ACSC]++;
	else if (strstr(xml, "<GrpSts>PART<") != NULL)
		wpd->sheets_by_state[METRIC_PART]++;
	else if (strstr(xml, "<GrpSts>PDNG<") != NULL)
		wpd->sheets_by_state[METRIC_PDNG]++;
	else
		wpd->sheets_by_state[METRIC_RJCT]++;
}

static void
answer_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct sheet_call	*call = p->data;
	char			 outcome[32], *xml;
	int			 status;
	size_t			 len = 0;

	if (res == NULL) {
		log_warnx("sheet %s: database: %s%s", call->msg_id, error,
		    unknown ? " (outcome unknown: a retry with the same MsgId "
		    "is answered from what was committed)" : "");
		wpd->db_errors++;
		pending_unavailable(p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("sheet %s: database refused the call: %s", call->msg_id,
		    PQresultErrorMessage(res));
		wpd->db_errors++;
		pending_reply(p, 500, "text/plain; charset=utf-8",
		    "internal error: nothing was paid; the bank has been told\n",
		    58);
		return;
	}
	xml = report_from_rows(res, call->msg_id, &status, outcome,
	    sizeof(outcome), &len);
	if (status == 403) {
		log_info("sheet %s: refused: sender is not the project's general "
		    "contractor", call->msg_id);
		pending_reply(p, 403, "text/plain; charset=utf-8",
		    "forbidden\n", 10);
		return;
	}
	if (xml == NULL) {
		pending_reply(p, strcmp(outcome, "EMPTY") == 0 ? 404 : 500,
		    "text/plain; charset=utf-8", "no such sheet\n", 14);
		return;
	}
	if (strcmp(outcome, "NEW") == 0) {
		count_outcome(xml);
		log_info("sheet %s: decided, %d lines", call->msg_id,
		    call->nlines);
	} else
		log_info("sheet %s: %s", call->msg_id, outcome);
	pending_reply(p, status, XML_CTYPE, xml, len);
	free(xml);
}

/* The lines as JSON for wp_sheet_submit (jansson escapes every string). */
static char *
lines_json(const struct sheet *s)
{
	json_t		*arr, *o;
	char		 month[16];
	char		*out;
	size_t		 i;
	const struct sheet_line *l;

	if ((arr = json_array()) == NULL)
		return NULL;
	for (i = 0; i < s->nlines; i++) {
		l = &s->lines[i];
		snprintf(month, sizeof(month), "%s-01", l->month);
		o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, "
		    "s:I, s:i, s:s, s:s, s:s}",
		    "seq", (json_int_t)(i + 1), "e2e", l->end_to_end_id,
		    "amount", (json_int_t)l->amount, "name", l->name,
		    "idn", l->id_number, "card", l->card, "bank", l->card_bank,
		    "kind", l->kind == LINE_WAGE ? "WAGE" : "BACKPAY",
		    "month", month, "gross", (json_int_t)l->gross,
		    "days", l->days_worked, "at", l->confirmed_at,
		    "method", l->confirm_method, "ref", l->confirm_ref);
		if (o == NULL)
			goto fail;
		if (perr_isset(&l->err) &&
		    (json_object_set_new(o, "pre_code", json_string(l->err.code)) ||
		    json_object_set_new(o, "pre_text", json_string(l->err.msg)))) {
			json_decref(o);
			goto fail;
		}
		if (json_array_append_new(arr, o) == -1)
			goto fail;
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
fail:
	json_decref(arr);
	return NULL;
}

/* MsgId as written, for the report of a sheet refused before sheet_parse. */
static void
peek_msg_id(xmlDocPtr doc, char *out, size_t len)
{
	xmlNodePtr	n;

	out[0] = '\0';
	n = xmlsafe_path(xmlDocGetRootElement(doc), PAIN001_NS,
	    "CstmrCdtTrfInitn/GrpHdr/MsgId");
	if (n == NULL || xmlsafe_text(n, out, len) == -1)
		out[0] = '\0';
}

void
sheetapi_submit(struct evhttp_request *req, const char *contractor)
{
	const char		*body;
	size_t			 len;
	xmlDocPtr		 doc;
	struct perr		 err;
	struct sheet		*s = NULL;
	struct sheet_call	*call;
	struct pending		*p;
	char			 msg_id[WP_MAX35_LEN] = "", signer[WP_USCC_LEN];
	char			 digest_hex[2 * SHA256_DIGEST_LENGTH + 1];
	char			 nb[16], sum[24], *json;
	unsigned char		 digest[SHA256_DIGEST_LENGTH];
	const char		*params[9];

	perr_clear(&err);
	if (http_body(req, wpd->conf->max_body, &body, &len) == -1) {
		perr_set(&err, "FF01", "body larger than %zu bytes",
		    wpd->conf->max_body);
		refuse(req, 413, "", &err);
		return;
	}
	if ((doc = xmlsafe_parse(body, len, &err)) == NULL) {
		refuse(req, 400, "", &err);
		return;
	}
	if (strcmp(xmlsafe_root_ns(doc), PAIN001_NS) != 0) {
		perr_set(&err, "FF01", "expected a pain.001.001.10 document (%s), "
		    "not namespace \"%.100s\"", PAIN001_NS, xmlsafe_root_ns(doc));
		xmlFreeDoc(doc);
		refuse(req, 400, "", &err);
		return;
	}
	if (schemas_validate(wpd->schemas, XSD_PAIN001, doc, &err) == -1) {
		peek_msg_id(doc, msg_id, sizeof(msg_id));
		xmlFreeDoc(doc);
		refuse(req, 400, msg_id, &err);
		return;
	}
	peek_msg_id(doc, msg_id, sizeof(msg_id));
	/* the signature before anything else is believed */
	if (sigtrust_verify_sheet(wpd->subca, doc, signer, &err) == -1) {
		xmlFreeDoc(doc);
		refuse(req, 200, msg_id, &err);
		return;
	}
	s = sheet_parse(doc, &err);
	xmlFreeDoc(doc);
	if (s == NULL) {
		refuse(req, 200, msg_id, &err);
		return;
	}
	if (strcmp(signer, s->subcontractor) != 0) {
		perr_set(&err, "WP33", "the sheet is signed by another company "
		    "than its subcontractor (UltmtDbtr)");
		sheet_free(s);
		refuse(req, 200, msg_id, &err);
		return;
	}

	SHA256((const unsigned char *)body, len, digest);
	util_hex(digest, sizeof(digest), digest_hex);
	if ((json = lines_json(s)) == NULL ||
	    (p = pending_new(req)) == NULL ||
	    (call = calloc(1, sizeof(*call))) == NULL) {
		/* p is not yet made or leaks nothing: pending_new failing
		 * leaves nothing to free */
		free(json);
		sheet_free(s);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->msg_id, sizeof(call->msg_id), "%s", s->msg_id);
	call->nlines = (int)s->nlines;
	p->data = call;
	p->free_fn = free;
	snprintf(nb, sizeof(nb), "%d", s->nb_of_txs);
	snprintf(sum, sizeof(sum), "%lld", (long long)s->ctrl_sum);
	params[0] = contractor;
	params[1] = s->msg_id;
	params[2] = digest_hex;
	params[3] = s->debtor_account;
	params[4] = s->subcontractor;
	params[5] = s->month;
	params[6] = nb;
	params[7] = sum;
	params[8] = json;
	if (db_query(wpd->db, submit_sql, 9, params, answer_cb, p) == -1)
		pending_unavailable(p);
	free(json);
	sheet_free(s);
}

void
sheetapi_status(struct evhttp_request *req, const char *contractor,
    const char *msg_id)
{
	struct pending		*p;
	struct sheet_call	*call;
	const char		*params[2] = { contractor, msg_id };

	if ((p = pending_new(req)) == NULL ||
	    (call = calloc(1, sizeof(*call))) == NULL) {
		pending_free(p);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->msg_id, sizeof(call->msg_id), "%s", msg_id);
	p->data = call;
	p->free_fn = free;
	if (db_query(wpd->db, status_sql, 2, params, answer_cb, p) == -1)
		pending_unavailable(p);
}
