/*
 * voucherapi.c: GET /v1/sheets/{MsgId}/voucher, the payment voucher
 * (代发工资凭证, 004 第八条) of a paid sheet, for the general contractor
 * that sent it to hand to the subcontractor.
 *
 * The lines come from wp_voucher (schema/functions/documents.sql): those paid
 * ('L', marked CREDITED once the core credited them) and those whose money
 * came back ('R', marked FAILED or RETURNED, not counted in the total). The voucher is built by proto/voucher.c (which masks
 * every ID number and card), checked against voucher.xsd, and signed by the
 * bank ([signing] bank_cert, bank_key), so that the subcontractor can show
 * it to anyone who trusts the bank.
 *
 * Owns nothing past the answer. 404 for a MsgId this contractor never sent
 * (another contractor's sheet included), for a sheet that is not PAID, and
 * for one whose every line came back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "daemon.h"
#include "log.h"
#include "voucher.h"
#include "xmlout.h"
#include "xmlsafe.h"
#include "xmlsig.h"

#define XML_CTYPE	"application/xml; charset=utf-8"
#define TEXT_CTYPE	"text/plain; charset=utf-8"

static const char voucher_sql[] = "SELECT * FROM wp_voucher($1, $2)";

/* Columns of wp_voucher. */
enum { V_KIND, V_F1, V_F2, V_F3, V_F4, V_F5, V_AMOUNT, V_PII };

struct voucher_call {
	char	msg_id[WP_MAX35_LEN];
};

static void
not_found(struct pending *p, const char *why)
{
	pending_reply(p, 404, TEXT_CTYPE, why, strlen(why));
}

/* The workers' names of lines stored sealed (issue 22), opened: names[i]
 * for row i, NULL for a line stored in clear. */
static int
open_names(PGresult *res, char **names, const char *msg_id)
{
	struct perr	err;
	int		i;

	perr_clear(&err);
	for (i = 1; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, V_PII) && piikeys_open_dup(PQgetvalue(res,
		    i, V_PII), &names[i], NULL, &err) == -1) {
			log_warnx("voucher %s: line %d: %s", msg_id, i, err.msg);
			return -1;
		}
	return 0;
}

static void
free_names(char **names, int n)
{
	while (names != NULL && n-- > 0)
		free(names[n]);
	free(names);
}

/* Rows 1.. of res as the voucher's lines (calloc'd), the names of sealed
 * ones opened into *names (the caller frees both); NULL on failure. */
static struct voucher_line *
voucher_lines(PGresult *res, char ***names, const char *msg_id)
{
	struct voucher_line	*lines;
	int			 i, n = PQntuples(res);

	*names = NULL;
	if ((lines = calloc((size_t)n - 1, sizeof(*lines))) == NULL ||
	    (*names = calloc((size_t)n, sizeof(**names))) == NULL ||
	    open_names(res, *names, msg_id) == -1) {
		free(lines);
		free_names(*names, n);
		*names = NULL;
		return NULL;
	}
	for (i = 1; i < n; i++) {
		lines[i - 1].end_to_end_id = PQgetvalue(res, i, V_F1);
		lines[i - 1].name = (*names)[i] != NULL ? (*names)[i] :
		    PQgetvalue(res, i, V_F2);
		lines[i - 1].id_number = PQgetvalue(res, i, V_F3);
		lines[i - 1].card = PQgetvalue(res, i, V_F4);
		lines[i - 1].amount = strtoll(PQgetvalue(res, i, V_AMOUNT),
		    NULL, 10);
		lines[i - 1].settlement = PQgetvalue(res, i, V_F5);
	}
	return lines;
}

static void
voucher_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct voucher_call	*call = p->data;
	struct voucher		 v;
	struct voucher_line	*lines = NULL;
	struct perr		 err;
	xmlDocPtr		 doc = NULL;
	char			*xml = NULL, **names = NULL;
	size_t			 len = 0;
	int			 n, i;

	(void)unknown;
	if (res == NULL) {
		log_warnx("voucher %s: database: %s", call->msg_id, error);
		pending_unavailable(p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("voucher %s: database refused the query", call->msg_id);
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	n = PQntuples(res);
	if (n < 1 || strcmp(PQgetvalue(res, 0, V_KIND), "S") != 0) {
		not_found(p, "no such sheet\n");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, V_F1), "PAID") != 0) {
		not_found(p, "the sheet is not paid: a voucher is issued for "
		    "paid sheets only\n");
		return;
	}
	for (i = 1; i < n && strcmp(PQgetvalue(res, i, V_KIND), "L") != 0; i++)
		;
	if (i >= n) {
		not_found(p, "every line of the sheet came back: nothing was "
		    "paid\n");
		return;
	}
	if ((lines = voucher_lines(res, &names, call->msg_id)) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	memset(&v, 0, sizeof(v));
	v.msg_id = call->msg_id;
	v.project = PQgetvalue(res, 0, V_F2);
	v.subcontractor = PQgetvalue(res, 0, V_F3);
	v.month = PQgetvalue(res, 0, V_F4);
	v.paid_at = PQgetvalue(res, 0, V_F5);
	v.lines = lines;
	v.nlines = (size_t)n - 1;
	perr_clear(&err);
	if ((doc = voucher_build(&v, &err)) == NULL ||
	    schemas_validate(wpd->schemas, XSD_VOUCHER, doc, &err) == -1 ||
	    xmlsig_sign(wpd->bank, doc, &err) == -1 ||
	    (xml = xmlout_dump(doc, &len)) == NULL) {
		log_warnx("voucher %s: could not be made: %s", call->msg_id,
		    err.msg);
		pending_reply(p, 500, NULL, NULL, 0);
	} else {
		log_info("voucher %s: issued, %zu lines", call->msg_id, v.nlines);
		pending_reply(p, 200, XML_CTYPE, xml, len);
	}
	free(xml);
	xmlFreeDoc(doc);
	free(lines);
	free_names(names, n);
}

void
voucherapi_get(struct evhttp_request *req, const char *contractor,
    const char *msg_id)
{
	struct pending		*p;
	struct voucher_call	*call;
	const char		*params[2] = { contractor, msg_id };

	if (strlen(msg_id) >= WP_MAX35_LEN) {
		http_reply(req, 404, TEXT_CTYPE, "no such sheet\n", 14);
		return;
	}
	if ((p = pending_new(req)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->msg_id, sizeof(call->msg_id), "%s", msg_id);
	p->data = call;
	p->free_fn = free;
	if (db_query(wpd->db, voucher_sql, 2, params, voucher_cb, p) == -1)
		pending_unavailable(p);
}
