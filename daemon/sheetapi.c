/*
 * sheetapi.c: POST /v1/sheets and GET /v1/sheets/{MsgId}.
 *
 * The path of a sheet: body bounded by evhttp -> on a worker thread, read
 * as a stream (proto/sheetstream.c: safe parse with no DOCTYPE, the
 * official pain.001 schema, the subcontractor's signature, which must chain
 * to [signing] subcontractor_ca and name the subcontractor the sheet pays
 * for, the bank profile), the body's memory given back as it is parsed ->
 * one database call, wp_sheet_submit, that checks the roster and pays or
 * holds the sheet in one transaction -> pain.002.
 *
 * Must not decide anything about money itself: the database function is
 * the one place that does, under the account's row lock.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon.h"
#include "log.h"
#include "sheetlines.h"
#include "sheetstream.h"

#define XML_CTYPE	"application/xml; charset=utf-8"

/* $9.. are the lines' arrays, binary, in the order of enum sheetlines_col */
#define SUBMIT_SCALARS	8
static const char submit_sql[] =
    "SELECT * FROM wp_sheet_submit($1, $2, decode($3, 'hex'), $4, $5, "
    "($6 || '-01')::date, $7::int, $8::bigint, $9::text[], $10::int8[], "
    "$11::text[], $12::text[], $13::text[], $14::text[], $15::text[], "
    "$16::date[], $17::int8[], $18::int4[], $19::text[]::timestamptz[], "
    "$20::text[], $21::text[], $22::text[], $23::text[])";
static const char status_sql[] = "SELECT * FROM wp_sheet_status($1, $2)";

struct sheet_call {
	bool	bulk;		/* read on the bulk worker */
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

/*
 * After a sheet of many megabytes: give the freed memory back to the
 * system. Its body was allocated by the loop thread and freed by a worker,
 * its lines on the worker's own malloc arena; left alone, glibc would keep
 * those pages for the daemon's life (t0650 measures it).
 */
static void
bulk_trim(bool bulk)
{
	if (bulk)
		malloc_trim(0);
}

static void
trim_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	malloc_trim(0);
}

/* The same once the database request that carried the lines is freed,
 * which happens after its callback returns. */
static void
bulk_trim_later(bool bulk)
{
	struct timeval	now = { 0, 0 };

	if (bulk && event_base_once(wpd->base, -1, EV_TIMEOUT, trim_cb, NULL,
	    &now) == -1)
		malloc_trim(0);
}

static void
answer_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct sheet_call	*call = p->data;
	char			 outcome[32], *xml;
	int			 status;
	size_t			 len = 0;

	bulk_trim_later(call->bulk);
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

/*
 * The signature trust store in use. A worker may be verifying with it while
 * SIGHUP installs a new one, so each is reference-counted on the loop
 * thread: held when a job is submitted, released when its done() runs.
 */
struct trust {
	struct sigtrust	*sig;
	int		 refs;
};
static struct trust	*current_trust;

static void
trust_release(struct trust *t)
{
	if (t != NULL && --t->refs == 0) {
		sigtrust_free(t->sig);
		free(t);
	}
}

void
sheetapi_set_trust(struct sigtrust *sig)
{
	struct trust	*t = NULL;

	if (sig != NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			fatal("calloc");
		t->sig = sig;
		t->refs = 1;
	}
	trust_release(current_trust);
	current_trust = t;
}

/* One sheet on its way from the request, through a worker, to the database. */
struct intake {
	bool			 bulk;		/* on wpd->bulk */
	/* in: owned, so the worker depends on nothing the loop frees */
	struct evbuffer		*body;		/* moved from the request */
	char			 contractor[WP_USCC_LEN];
	struct trust		*trust;
	struct pending		*p;
	/* out, written by the worker */
	struct sheet_verdict	 v;
	struct sheetlines	*lines;
	char			 digest_hex[2 * SHA256_LEN + 1];
};

static void
intake_free(struct intake *in)
{
	bool	bulk = in->bulk;

	if (in->body != NULL)
		evbuffer_free(in->body);
	sheetlines_free(in->lines);
	sheet_free(in->v.sheet);
	free(in);
	bulk_trim(bulk);
}

/*
 * On a worker thread: everything that needs no database. The body is fed
 * to the stream piece by piece as libevent received it, each piece freed
 * once parsed, so that a sheet never costs its bytes twice.
 */
static void
intake_work(void *arg)
{
	struct intake		*in = arg;
	struct sheetstream	*ss;
	struct evbuffer_iovec	 v;
	struct perr		 err;

	if ((ss = sheetstream_new(wpd->schemas, &err)) == NULL) {
		in->v.status = 500;
		in->v.err = err;
		return;
	}
	while (evbuffer_peek(in->body, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		if (sheetstream_feed(ss, v.iov_base, v.iov_len) == -1)
			break;
		evbuffer_drain(in->body, v.iov_len);
	}
	evbuffer_free(in->body);
	in->body = NULL;
	sheetstream_finish(ss, in->trust->sig, &in->v);
	sheetstream_free(ss);
	util_hex(in->v.body_sha256, sizeof(in->v.body_sha256), in->digest_hex);
	if (in->v.status == 0 &&
	    (in->lines = sheetlines_new(in->v.sheet, &in->v.err)) == NULL)
		in->v.status = 500;
}

/* On the loop thread: refuse, or hand the sheet to the database. */
static void
intake_done(void *arg)
{
	struct intake		*in = arg;
	struct pending		*p = in->p;
	struct sheet_call	*call;
	struct sheet		*s = in->v.sheet;
	char			 nb[16], sum[24], *xml;
	const char		*params[SUBMIT_SCALARS + SHEETLINES_NCOLS];
	int			 lengths[SUBMIT_SCALARS + SHEETLINES_NCOLS] = { 0 };
	int			 formats[SUBMIT_SCALARS + SHEETLINES_NCOLS] = { 0 };
	size_t			 len;
	int			 i;

	trust_release(in->trust);
	if (p->req == NULL) {		/* the client went away */
		pending_free(p);
		intake_free(in);
		return;
	}
	if (in->v.status != 0) {
		log_info("sheet %s: refused (%s): %s", in->v.msg_id[0] ?
		    in->v.msg_id : "(unread)", in->v.err.code, in->v.err.msg);
		wpd->sheets_by_state[METRIC_REFUSED]++;
		if (in->v.status == 500 || (xml = report_refused(in->v.msg_id,
		    &in->v.err, &len)) == NULL)
			pending_reply(p, 500, NULL, NULL, 0);
		else {
			pending_reply(p, in->v.status, XML_CTYPE, xml, len);
			free(xml);
		}
		intake_free(in);
		return;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		intake_free(in);
		return;
	}
	snprintf(call->msg_id, sizeof(call->msg_id), "%s", s->msg_id);
	call->bulk = in->bulk;
	call->nlines = (int)s->nlines;
	p->data = call;
	p->free_fn = free;
	snprintf(nb, sizeof(nb), "%d", s->nb_of_txs);
	snprintf(sum, sizeof(sum), "%lld", (long long)s->ctrl_sum);
	params[0] = in->contractor;
	params[1] = s->msg_id;
	params[2] = in->digest_hex;
	params[3] = s->debtor_account;
	params[4] = s->subcontractor;
	params[5] = s->month;
	params[6] = nb;
	params[7] = sum;
	for (i = 0; i < SHEETLINES_NCOLS; i++) {
		params[SUBMIT_SCALARS + i] = in->lines->values[i];
		lengths[SUBMIT_SCALARS + i] = in->lines->lengths[i];
		formats[SUBMIT_SCALARS + i] = in->lines->formats[i];
	}
	if (db_query_bin(wpd->db, submit_sql, SUBMIT_SCALARS + SHEETLINES_NCOLS,
	    params, lengths, formats, answer_cb, p) == -1)
		pending_unavailable(p);
	intake_free(in);
}

void
sheetapi_submit(struct evhttp_request *req, const char *contractor)
{
	struct evbuffer	*body = evhttp_request_get_input_buffer(req);
	struct perr	 err;
	struct intake	*in;

	perr_clear(&err);
	if (evbuffer_get_length(body) > wpd->conf->max_body) {
		perr_set(&err, "FF01", "body larger than %zu bytes",
		    wpd->conf->max_body);
		refuse(req, 413, "", &err);
		return;
	}
	if (current_trust == NULL ||
	    (in = calloc(1, sizeof(*in))) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	/* the body's chunks change hands, they are not copied */
	if ((in->body = evbuffer_new()) == NULL ||
	    evbuffer_add_buffer(in->body, body) == -1 ||
	    (in->p = pending_new(req)) == NULL) {
		intake_free(in);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(in->contractor, sizeof(in->contractor), "%s", contractor);
	in->trust = current_trust;
	in->trust->refs++;
	/* a sheet of many megabytes is read on the bulk worker, at a lower
	 * priority: small sheets keep their latency while it is read */
	in->bulk = evbuffer_get_length(in->body) > BULK_BYTES;
	if (workers_submit(in->bulk ? wpd->bulk : wpd->workers, intake_work,
	    intake_done, in) == -1) {
		trust_release(in->trust);
		pending_free(in->p);
		intake_free(in);
		http_reply(req, 500, NULL, NULL, 0);
	}
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
