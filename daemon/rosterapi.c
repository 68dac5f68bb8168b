/*
 * rosterapi.c: POST and GET /v1/projects/{projectCode}/roster.
 *
 * A roster upload is parsed and checked for what needs no database (check
 * digits, dates: proto/roster.c), then upserted by one call to
 * wp_roster_upsert, which refuses unknown employers and a card already
 * registered to another worker (one person, one card). The receipt lists
 * every refused entry with its reason; the accepted ones are stored, each
 * as a new version of the worker's entry recorded with the certificate that
 * sent it (its subject and SHA-256 fingerprint).
 *
 * With [security] keys (issue 22) the entries go to the database as blind
 * indexes, one sealed record and masks (daemon/piikeys.c); a refused
 * entry comes back by its index and is named in the receipt by the ID
 * number it was sent with; the roster read back is opened here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <libxml/tree.h>

#include "daemon.h"
#include "ids.h"
#include "log.h"
#include "pii.h"
#include "roster.h"
#include "xmlsafe.h"

#define XML_CTYPE	"application/xml; charset=utf-8"
#define TEXT_CTYPE	"text/plain; charset=utf-8"

static const char upsert_sql[] =
    "SELECT * FROM wp_roster_upsert($1, $2, $3::json, $4::json, $5, $6)";
static const char get_sql[] = "SELECT * FROM wp_roster_get($1, $2)";

/* An upload's ID numbers by the index the database answers with. */
struct roster_idn {
	char	index[PII_INDEX_LEN + 1];
	char	idn[WP_ID_NUMBER_LEN];
};

struct roster_call {
	char			 project[WP_PROJECT_LEN];
	size_t			 nworkers;
	struct roster_idn	*idns;		/* owned, nworkers; NULL without keys */
};

static void
call_free(void *arg)
{
	struct roster_call	*call = arg;

	if (call != NULL)
		free(call->idns);
	free(call);
}

/* The personal fields of w as the database keeps them with keys, set into
 * o: their indexes, the sealed record and the masks. */
static int
worker_pii(json_t *o, const struct roster_worker *w, struct roster_idn *idn)
{
	char		 ix[3][PII_INDEX_LEN + 1], m[3][WP_CARD_LEN + 200];
	char		 hex[2 * PII_SEAL_MAX + 1];
	struct perr	 err;

	if (wpd->pii == NULL)
		return 0;	/* in clear, as before 032 */
	ids_mask(w->id_number, m[0], sizeof(m[0]));
	ids_mask(w->card, m[1], sizeof(m[1]));
	pii_mask_name(w->name, m[2], sizeof(m[2]));
	if (json_object_set_new(o, "id_mask", json_string(m[0])) == -1 ||
	    json_object_set_new(o, "card_mask", json_string(m[1])) == -1 ||
	    json_object_set_new(o, "name_mask", json_string(m[2])) == -1)
		return -1;
	perr_clear(&err);
	if (piikeys_seal_hex(w->id_number, w->name, w->card, hex, sizeof(hex),
	    &err) == -1) {
		log_warnx("roster: %s", err.msg);
		return -1;
	}
	snprintf(idn->idn, sizeof(idn->idn), "%s", w->id_number);
	snprintf(idn->index, sizeof(idn->index), "%s",
	    piikeys_index(PII_IDN, w->id_number, ix[0]));
	return json_object_set_new(o, "idn", json_string(idn->index)) == -1 ||
	    json_object_set_new(o, "name", json_string(piikeys_index(PII_NAME,
	    w->name, ix[1]))) == -1 ||
	    json_object_set_new(o, "card", json_string(piikeys_index(PII_CARD,
	    w->card, ix[2]))) == -1 ||
	    json_object_set_new(o, "pii", json_string(hex)) == -1 ? -1 : 0;
}

/* The ID number an upload's index stands for (itself without keys). */
static const char *
idn_of(const struct roster_call *call, const char *index)
{
	size_t	i;

	for (i = 0; call->idns != NULL && i < call->nworkers; i++)
		if (strcmp(call->idns[i].index, index) == 0)
			return call->idns[i].idn;
	return index;
}

static void
bad_request(struct evhttp_request *req, const struct perr *err)
{
	char	msg[320];
	int	n;

	n = snprintf(msg, sizeof(msg), "%s: %s\n", err->code, err->msg);
	http_reply(req, 400, TEXT_CTYPE, msg, (size_t)n < sizeof(msg) ?
	    (size_t)n : sizeof(msg) - 1);
}

static char *
subs_json(const struct roster *r)
{
	json_t	*arr = json_array(), *o;
	char	*out;
	size_t	 i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < r->nsubs; i++) {
		o = json_pack("{s:s, s:s}", "uscc", r->subs[i].uscc,
		    "name", r->subs[i].name);
		if (o == NULL || json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

static char *
workers_json(const struct roster *r, struct roster_idn *idns)
{
	json_t			*arr = json_array(), *o;
	char			*out;
	size_t			 i;
	const struct roster_worker *w;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < r->nworkers; i++) {
		w = &r->workers[i];
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "idn", w->id_number, "name", w->name, "employer", w->employer,
		    "card", w->card, "bank", w->card_bank,
		    "signed", w->contract_signed, "entered", w->entered);
		if (o == NULL)
			goto fail;
		if (worker_pii(o, w, idns != NULL ? &idns[i] : NULL) == -1)
			goto fail_o;
		if (w->left[0] != '\0' &&
		    json_object_set_new(o, "left", json_string(w->left)) == -1)
			goto fail_o;
		if (perr_isset(&w->err) &&
		    (json_object_set_new(o, "pre_code", json_string(w->err.code)) ||
		    json_object_set_new(o, "pre_text", json_string(w->err.msg))))
			goto fail_o;
		if (json_array_append_new(arr, o) == -1)
			goto fail;
	}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
fail_o:
	json_decref(o);
fail:
	json_decref(arr);
	return NULL;
}

static void
upsert_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct roster_call	*call = p->data;
	struct roster_refusal	*refused = NULL;
	size_t			 nrefused = 0, accepted, len;
	int			 n, i;
	char			*xml;

	if (res == NULL) {
		log_warnx("roster %s: database: %s%s", call->project, error,
		    unknown ? " (outcome unknown; the upload may be repeated)" : "");
		pending_unavailable(p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
		log_warnx("roster %s: database refused the upload: %s",
		    call->project, db_error(res));
		pending_reply(p, 500, TEXT_CTYPE, "internal error: the roster "
		    "was not changed\n", 42);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "FORBIDDEN") == 0) {
		pending_reply(p, 403, TEXT_CTYPE, "forbidden\n", 10);
		return;
	}
	n = PQntuples(res);
	accepted = strtoul(PQgetvalue(res, 0, 4), NULL, 10);
	if (n > 1 && (refused = calloc((size_t)n - 1, sizeof(*refused))) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	for (i = 1; i < n; i++) {
		refused[nrefused].id_number = idn_of(call, PQgetvalue(res, i, 2));
		refused[nrefused].code = PQgetvalue(res, i, 3);
		refused[nrefused].message = PQgetvalue(res, i, 4);
		nrefused++;
	}
	log_info("roster %s: %zu accepted, %zu refused", call->project,
	    accepted, nrefused);
	xml = roster_receipt_build(call->project, accepted, refused, nrefused,
	    &len);
	free(refused);
	if (xml == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	pending_reply(p, 200, XML_CTYPE, xml, len);
	free(xml);
}

/* The request's Roster for project, parsed and checked against its schema;
 * NULL when it is not, the request then answered (413, 400). */
static struct roster *
read_roster(struct evhttp_request *req, const char *project)
{
	const char		*body;
	size_t			 len;
	xmlDocPtr		 doc;
	struct perr		 err;
	struct roster		*r;

	perr_clear(&err);
	if (http_body(req, wpd->conf->max_body, &body, &len) == -1) {
		http_reply(req, 413, TEXT_CTYPE, "body too large\n", 15);
		return NULL;
	}
	if ((doc = xmlsafe_parse(body, len, &err)) == NULL) {
		bad_request(req, &err);
		return NULL;
	}
	if (strcmp(xmlsafe_root_ns(doc), ROSTER_NS) != 0) {
		perr_set(&err, "FF01", "expected a Roster in namespace %s",
		    ROSTER_NS);
		xmlFreeDoc(doc);
		bad_request(req, &err);
		return NULL;
	}
	if (schemas_validate(wpd->schemas, XSD_ROSTER, doc, &err) == -1) {
		xmlFreeDoc(doc);
		bad_request(req, &err);
		return NULL;
	}
	r = roster_parse(doc, &err);
	xmlFreeDoc(doc);
	if (r == NULL) {
		bad_request(req, &err);
		return NULL;
	}
	if (strcmp(r->project, project) != 0) {
		perr_set(&err, "FF01", "the roster is for project \"%.64s\" but "
		    "was sent to project \"%.64s\"", r->project, project);
		roster_free(r);
		bad_request(req, &err);
		return NULL;
	}
	return r;
}

void
rosterapi_post(struct evhttp_request *req, const char *contractor,
    const char *project)
{
	struct roster		*r;
	struct pending		*p;
	struct roster_call	*call;
	char			*subs, *workers;
	char			 subject[512], cert[80];
	const char		*params[6];

	if ((r = read_roster(req, project)) == NULL)
		return;
	if ((call = calloc(1, sizeof(*call))) == NULL || (wpd->pii != NULL &&
	    (call->idns = calloc(r->nworkers + 1, sizeof(*call->idns))) == NULL)) {
		call_free(call);
		roster_free(r);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->project, sizeof(call->project), "%s", project);
	call->nworkers = r->nworkers;
	subs = subs_json(r);
	workers = workers_json(r, call->idns);
	if (subs == NULL || workers == NULL || (p = pending_new(req)) == NULL) {
		free(subs);
		free(workers);
		call_free(call);
		roster_free(r);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	p->data = call;
	p->free_fn = call_free;
	params[0] = contractor;
	params[1] = project;
	params[2] = subs;
	params[3] = workers;
	/* who sent it, for the roster's history: the certificate, beside the
	 * company it names (contractor); contractor.c checked it already */
	if (http_peer_cert(req, subject, sizeof(subject), cert,
	    sizeof(cert)) == -1) {
		params[4] = NULL;
		params[5] = NULL;
	} else {
		params[4] = subject;
		params[5] = cert;
	}
	if (db_query(wpd->db, upsert_sql, 6, params, upsert_cb, p) == -1)
		pending_unavailable(p);
	free(subs);
	free(workers);
	roster_free(r);
}

static char *
dup_value(PGresult *res, int row, int col)
{
	return strdup(PQgetvalue(res, row, col));
}

static void
copy_field(char *dst, size_t len, PGresult *res, int row, int col)
{
	snprintf(dst, len, "%s", PQgetvalue(res, row, col));
}

/* A worker read back with its sealed record (hex; "" when in clear):
 * the clear ID number, name and card put in place of their indexes. */
static int
worker_open(struct roster_worker *w, const char *hex, const char *project)
{
	struct pii_clear	cl;
	struct perr		err;

	if (hex[0] == '\0')
		return 0;
	perr_clear(&err);
	if (piikeys_open_hex(hex, &cl, &err) == -1) {
		log_warnx("roster %s: a worker's sealed record: %s", project,
		    err.msg);
		return -1;
	}
	snprintf(w->id_number, sizeof(w->id_number), "%.*s",
	    (int)sizeof(w->id_number) - 1, cl.idn);
	snprintf(w->card, sizeof(w->card), "%.*s", (int)sizeof(w->card) - 1,
	    cl.card);
	free(w->name);
	w->name = strdup(cl.name);
	OPENSSL_cleanse(&cl, sizeof(cl));
	return w->name == NULL ? -1 : 0;
}

static int
worker_cmp(const void *a, const void *b)
{
	return strcmp(((const struct roster_worker *)a)->id_number,
	    ((const struct roster_worker *)b)->id_number);
}

static void
get_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct roster_call	*call = p->data;
	struct roster		 r;
	struct roster_worker	*w;
	int			 n, i;
	size_t			 len, nsubs = 0, nworkers = 0;
	char			*xml = NULL;

	(void)unknown;
	if (res == NULL) {
		log_warnx("roster %s: database: %s", call->project, error);
		pending_unavailable(p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
		log_warnx("roster %s: database refused the read: %s",
		    call->project, db_error(res));
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "FORBIDDEN") == 0) {
		pending_reply(p, 403, TEXT_CTYPE, "forbidden\n", 10);
		return;
	}
	n = PQntuples(res);
	memset(&r, 0, sizeof(r));
	snprintf(r.project, sizeof(r.project), "%s", call->project);
	r.subs = calloc((size_t)n, sizeof(*r.subs));
	r.workers = calloc((size_t)n, sizeof(*r.workers));
	if (r.subs == NULL || r.workers == NULL)
		goto done;
	for (i = 1; i < n; i++) {
		if (strcmp(PQgetvalue(res, i, 0), "C") == 0) {
			copy_field(r.subs[nsubs].uscc, WP_USCC_LEN, res, i, 1);
			if ((r.subs[nsubs++].name = dup_value(res, i, 2)) == NULL)
				goto done;
			continue;
		}
		w = &r.workers[nworkers++];
		copy_field(w->id_number, sizeof(w->id_number), res, i, 1);
		if ((w->name = dup_value(res, i, 2)) == NULL)
			goto done;
		copy_field(w->employer, sizeof(w->employer), res, i, 3);
		copy_field(w->card, sizeof(w->card), res, i, 4);
		copy_field(w->card_bank, sizeof(w->card_bank), res, i, 5);
		copy_field(w->contract_signed, sizeof(w->contract_signed), res, i, 6);
		copy_field(w->entered, sizeof(w->entered), res, i, 7);
		copy_field(w->left, sizeof(w->left), res, i, 8);
		if (worker_open(w, PQgetvalue(res, i, 9), call->project) == -1)
			goto done;
	}
	r.nsubs = nsubs;
	r.nworkers = nworkers;
	/* in ID number order, as before the indexes (the SQL sorts by them) */
	qsort(r.workers, nworkers, sizeof(*r.workers), worker_cmp);
	xml = roster_build(&r, &len);
done:
	for (i = 0; i < (int)nsubs; i++)
		free(r.subs[i].name);
	for (i = 0; i < (int)nworkers; i++)
		free(r.workers[i].name);
	free(r.subs);
	free(r.workers);
	if (xml == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	pending_reply(p, 200, XML_CTYPE, xml, len);
	free(xml);
}

void
rosterapi_get(struct evhttp_request *req, const char *contractor,
    const char *project)
{
	struct pending		*p;
	struct roster_call	*call;
	const char		*params[2] = { contractor, project };

	if ((p = pending_new(req)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->project, sizeof(call->project), "%s", project);
	p->data = call;
	p->free_fn = free;
	if (db_query(wpd->db, get_sql, 2, params, get_cb, p) == -1)
		pending_unavailable(p);
}
