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

/* $9.. are the lines' arrays, binary, in the order of enum sheetlines_col,
 * but $24, the daemon's clock (clock.c: its month in China is the current
 * month of the month rules, schema/functions/sheet.sql), comes before 032's */
#define SUBMIT_SCALARS	8
static const char submit_sql[] =
    "SELECT * FROM wp_sheet_submit($1, $2, decode($3, 'hex'), $4, $5, "
    "($6 || '-01')::date, $7::int, $8::bigint, $9::text[], $10::int8[], "
    "$11::text[], $12::text[], $13::text[], $14::text[], $15::text[], "
    "$16::date[], $17::int8[], $18::int4[], $19::text[]::timestamptz[], "
    "$20::text[], $21::text[], $22::text[], $23::text[], $24::timestamptz, "
    "$25::bytea[], $26::text[], $27::text[], $28::text[])";
static const char status_sql[] = "SELECT * FROM wp_sheet_status($1, $2)";
static const char cancel_sql[] = "SELECT * FROM wp_sheet_cancel($1, $2, $3)";

struct sheet_call {
	bool		 bulk;		/* read on the bulk worker */
	char		 msg_id[WP_MAX35_LEN];
	int		 nlines;
	struct sheet	*sheet;		/* owned, for its order; not if bulk */
};

static void
sheet_call_free(void *arg)
{
	struct sheet_call	*call = arg;

	sheet_free(call->sheet);
	free(call);
}

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
	struct sheet		*sheet;
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
		wpd->db_errors++;
		if (pending_db_transient(p, res, "sheet", call->msg_id))
			return;
		log_warnx("sheet %s: database refused the call: %s", call->msg_id,
		    db_error(res));
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
		report_count_outcome(xml);
		log_info("sheet %s: decided, %d lines", call->msg_id,
		    call->nlines);
	} else
		log_info("sheet %s: %s", call->msg_id, outcome);
	/* the answer, then a paid sheet's order (one statement: committed) */
	sheet = call->sheet;
	call->sheet = NULL;
	pending_reply(p, status, XML_CTYPE, xml, len);
	free(xml);
	if (strcmp(outcome, "NEW") == 0)
		payorders_fresh_send(payorders_fresh_new(res, sheet));
	sheet_free(sheet);
}

/*
 * Sheets of at least OVERLAP_BYTES are read in slices, and the lines of
 * each slice go to the database while the next is read: BEGIN,
 * wp_sheet_open, wp_sheet_lines per slice, then at the end wp_sheet_close
 * and COMMIT, on one session (dblease_take), so that reading and deciding
 * overlap (schema/functions/sheet.sql). Nothing of the sheet is visible
 * until COMMIT. Whatever goes wrong on the way (no session to be had, the
 * MsgId already there, the header refused, a statement failed, the
 * connection lost, COMMIT unanswered) ends the session unwritten and the
 * sheet is decided in one call as any other, which answers a COMMIT that
 * did land as the replay it then is.
 */
#define OVERLAP_BYTES	(256u * 1024u)
#define SLICE_MIN	(128u * 1024u)		/* a slice: 1/16 of the body */
#define SLICE_MAX	(4u * 1024u * 1024u)

/* $5, the declared CtrlSum (NULL if unread): what lets the lines be paid
 * as they are stored (wp_sheet_open, schema/functions/sheet.sql); $6, the
 * daemon's clock, kept on the sheet for the month rules of every batch */
static const char open_sql[] =
    "SELECT sheet_id, outcome FROM wp_sheet_open($1, $2, $3, $4, $5::bigint, "
    "$6::timestamptz)";
/* $4.. are the batch's arrays, as in submit_sql */
#define LINES_SCALARS	3
static const char lines_sql[] =
    "SELECT wp_sheet_lines(s.id, $3::int, $4::text[], $5::int8[], "
    "$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], "
    "$11::date[], $12::int8[], $13::int4[], $14::text[]::timestamptz[], "
    "$15::text[], $16::text[], $17::text[], $18::text[], $19::bytea[], "
    "$20::text[], $21::text[], $22::text[]) FROM sheet s "
    "WHERE s.contractor_uscc = $1::bpchar AND s.msg_id = $2 "
    "AND s.state = 'RECEIVED'";
static const char close_sql[] =
    "SELECT r.* FROM sheet s, wp_sheet_close(s.id, decode($3, 'hex'), "
    "($4 || '-01')::date, $5::int, $6::bigint) r "
    "WHERE s.contractor_uscc = $1::bpchar AND s.msg_id = $2 "
    "AND s.state = 'RECEIVED'";

/* What follows the end of a session. */
enum after { AFTER_NOTHING, AFTER_ONE_CALL };

/* One sheet on its way from the request, through a worker, to the database. */
struct intake {
	bool			 bulk;		/* on wpd->bulk */
	/* in: owned, so the worker depends on nothing the loop frees */
	struct evbuffer		*body;		/* moved from the request */
	char			 contractor[WP_USCC_LEN];
	struct sheettrust	*trust;
	struct pending		*p;
	/* the worker's, between slices */
	struct sheetstream	*ss;
	size_t			 slice;		/* bytes fed per job */
	/* out, written by the worker */
	bool			 finished;	/* the verdict is in */
	struct sheet_verdict	 v;
	struct sheetlines	*lines;		/* all of them: the one call */
	char			 digest_hex[2 * SHA256_LEN + 1];
	struct sheetlines	*batch;		/* lines batch_first.. */
	size_t			 batch_first;
	size_t			 sent;		/* lines batched so far */
	char			 msg_id[WP_MAX35_LEN];	/* the header, for */
	char			 account[WP_CARD_LEN];	/* wp_sheet_open */
	char			 sub[WP_USCC_LEN];
	char			 declared[24];	/* CtrlSum, fen; "" unread */
	bool			 header;	/* msg_id .. declared are in */
	/* the session, on the loop thread */
	bool			 overlap;	/* batches wanted */
	bool			 batching;	/* a session, as the worker sees it */
	bool			 no_batches;	/* declined, as the worker sees it */
	struct dbleasewait	 wait;		/* a bulk sheet's, for a session */
	bool			 declined;	/* no (more) batches: one call */
	struct dblease		*lease;
	bool			 broken;	/* the session will not commit */
	char			 why[64];	/* the first reason it broke,
						 * "" for no session free */
	enum after		 after;
	char			*answer;	/* close's pain.002, sent on COMMIT */
	struct payorders_fresh	*order;		/* close's, sent after COMMIT */
	size_t			 answer_len;
	int			 answer_status;
	/* the bulk session's pace, on the loop thread (batch_held) */
	int			 in_db;		/* batches sent, not answered */
	struct timeval		 last_sent;	/* the newest batch's sending */
	struct timeval		 last_done;	/* the last batch's answer */
	struct timeval		 took;		/* the last batch, in the db */
	struct timeval		 gate;		/* the next batch not before */
	struct timeval		 gate_max;	/* nor held after */
	bool			 held;		/* a batch waits for the gate */
	struct timeval		 held_since;
	struct event		*gate_ev;	/* wakes it */
	int			 nbatches;	/* sent */
	int			 nspaced;	/* of which held */
	long			 held_ms;	/* in all */
};

static void
intake_free(struct intake *in)
{
	bool	bulk = in->bulk;

	if (in->body != NULL)
		evbuffer_free(in->body);
	sheetstream_free(in->ss);
	sheetlines_free(in->lines);
	sheetlines_free(in->batch);
	sheet_free(in->v.sheet);
	free(in->answer);
	payorders_fresh_free(in->order);
	if (in->gate_ev != NULL)
		event_free(in->gate_ev);
	dblease_wait_cancel(wpd->db, &in->wait);
	free(in);
	bulk_trim(bulk);
}

/* On the worker: lines read since the last batch, into the next batch
 * (with the header, the first time). */
static void
batch_take(struct intake *in, const struct sheet *s)
{
	struct perr	err;

	if (!in->overlap || in->no_batches || s == NULL || s->nlines <= in->sent)
		return;
	if (!in->header) {
		snprintf(in->msg_id, sizeof(in->msg_id), "%s", s->msg_id);
		snprintf(in->account, sizeof(in->account), "%s", s->debtor_account);
		snprintf(in->sub, sizeof(in->sub), "%s", s->subcontractor);
		if (s->ctrl_sum > 0)
			snprintf(in->declared, sizeof(in->declared), "%lld",
			    (long long)s->ctrl_sum);
		in->header = true;
	}
	if (in->bulk && !in->batching)
		return;		/* its first batch: all lines so far */
	perr_clear(&err);
	in->batch_first = in->sent + 1;
	if ((in->batch = sheetlines_range(s, in->sent, s->nlines - in->sent,
	    wpd->pii, &err)) == NULL)
		return;		/* the loop finds no batch: one call */
	in->sent = s->nlines;
}

/*
 * On a worker thread: everything that needs no database, one slice of the
 * body at a time. The body is fed to the stream piece by piece as libevent
 * received it, each piece freed once parsed, so that a sheet never costs
 * its bytes twice.
 */
static void
intake_work(void *arg)
{
	struct intake		*in = arg;
	struct evbuffer_iovec	 v;
	struct perr		 err;
	size_t			 left = in->slice, n;
	bool			 stopped = false;

	if (in->ss == NULL &&
	    (in->ss = sheetstream_new(wpd->schemas, &err)) == NULL) {
		in->v.status = 500;
		in->v.err = err;
		in->finished = true;
		return;
	}
	while (left > 0 && evbuffer_peek(in->body, -1, NULL, &v, 1) > 0 &&
	    v.iov_len > 0) {
		n = v.iov_len < left ? v.iov_len : left;
		if (sheetstream_feed(in->ss, v.iov_base, n) == -1) {
			stopped = true;		/* refused: no use reading on */
			break;
		}
		evbuffer_drain(in->body, n);
		left -= n;
	}
	if (!stopped && evbuffer_get_length(in->body) > 0) {
		batch_take(in, sheetstream_sheet(in->ss));
		return;
	}
	evbuffer_free(in->body);
	in->body = NULL;
	sheetstream_finish(in->ss, sheettrust_sig(in->trust), &in->v);
	sheetstream_free(in->ss);
	in->ss = NULL;
	in->finished = true;
	util_hex(in->v.body_sha256, sizeof(in->v.body_sha256), in->digest_hex);
	if (in->v.status != 0)
		return;
	batch_take(in, in->v.sheet);
	if ((!in->overlap || in->no_batches) &&
	    (in->lines = sheetlines_keyed(in->v.sheet, wpd->pii,
	    &in->v.err)) == NULL)
		in->v.status = 500;
}

/* On the loop thread: the sheet in one call, wp_sheet_submit. */
static void
submit_one_call(struct intake *in)
{
	struct pending		*p = in->p;
	struct sheet_call	*call;
	struct sheet		*s = in->v.sheet;
	char			 nb[16], sum[24];
	char			 now[40];
	const char		*params[SUBMIT_SCALARS + SHEETLINES_NALL + 1];
	int			 lengths[SUBMIT_SCALARS + SHEETLINES_NALL + 1] = { 0 };
	int			 formats[SUBMIT_SCALARS + SHEETLINES_NALL + 1] = { 0 };

	in->p = NULL;
	if (in->lines == NULL &&
	    (in->lines = sheetlines_keyed(s, wpd->pii, &in->v.err)) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->msg_id, sizeof(call->msg_id), "%s", s->msg_id);
	call->bulk = in->bulk;
	call->nlines = (int)s->nlines;
	p->data = call;
	p->free_fn = sheet_call_free;
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
	sheetlines_params(in->lines, SUBMIT_SCALARS, 1, params, lengths, formats);
	clock_now_iso(now, sizeof(now));
	params[SUBMIT_SCALARS + SHEETLINES_NCOLS] = now;
	if (db_query_bin(wpd->db, submit_sql, SUBMIT_SCALARS + SHEETLINES_NALL + 1,
	    params, lengths, formats, answer_cb, p) == -1) {
		pending_unavailable(p);
		return;
	}
	if (!in->bulk) {	/* the lines for its payment order */
		call->sheet = in->v.sheet;
		in->v.sheet = NULL;
	}
}

/* The session is over (ended, or lost): the connection goes back to the
 * pool, then what was to follow. */
static void
session_done(struct intake *in)
{
	dblease_release(in->lease);
	in->lease = NULL;
	if (in->after == AFTER_ONE_CALL) {
		/* every session busy is the ordinary state of a full
		 * pool: news only when debugging */
		if (in->overlap && in->why[0] != '\0')
			log_info("sheet %s: decided in one call, not as it was "
			    "read (%s)", in->v.sheet->msg_id, in->why);
		else if (in->overlap)
			log_debug("sheet %s: decided in one call: no database "
			    "session free", in->v.sheet->msg_id);
		submit_one_call(in);
	} else if (in->p != NULL)
		pending_free(in->p);
	intake_free(in);
}

/* why is copied: it may be in a result freed after the callback. */
static void
session_broke(struct intake *in, const char *why)
{
	if (!in->broken)
		snprintf(in->why, sizeof(in->why), "%s", why != NULL ? why : "");
	in->broken = true;
	in->declined = true;	/* the worker batches no more */
}

static void
rollback_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)res; (void)error; (void)unknown;
	/* a ROLLBACK that failed leaves the transaction open: dblease_release
	 * closes the connection, which ends it unwritten as well */
	session_done(arg);
}

/* Ends the session unwritten, then after. Requests still in flight are
 * answered first (one connection, in order). */
static void
session_end(struct intake *in, enum after after)
{
	in->after = after;
	if (in->lease == NULL || dblease_query_bin(in->lease, "ROLLBACK", 0,
	    NULL, NULL, NULL, rollback_cb, in) == -1)
		session_done(in);
}

/* BEGIN and each batch: a failure breaks the session. */
static void
step_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct intake	*in = arg;

	(void)error; (void)unknown;
	if (res == NULL)
		session_broke(in, "the database connection was lost");
	else if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("sheet %s: database refused a step of the session: %s",
		    in->msg_id, db_error(res));
		wpd->db_errors++;
		session_broke(in, "a step of the session failed");
	}
}

static void
open_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct intake	*in = arg;

	step_cb(res, error, unknown, arg);
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), "OPEN") != 0))
		/* the MsgId is there, or the header is refused: the one call
		 * answers it as ever */
		session_broke(in, PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) :
		    "no answer to the opening");
}

static void
commit_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct intake	*in = arg;
	struct pending	*p = in->p;

	(void)error; (void)unknown;
	/* the tag too: COMMIT of a transaction that failed on the way
	 * answers OK, tagged ROLLBACK */
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK ||
	    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* unanswered: it may have committed, and the one call then
		 * answers it as a replay; refused: nothing was written */
		session_broke(in, res == NULL ? "COMMIT went unanswered" :
		    "COMMIT was refused");
		in->after = AFTER_ONE_CALL;
		session_done(in);
		return;
	}
	report_count_outcome(in->answer);
	if (in->nspaced > 0)
		log_info("sheet %s: decided, %zu lines, read and decided "
		    "together; %d of %d batches spaced out for the ordinary "
		    "sheets flowing (%ld ms held)", in->msg_id,
		    in->v.sheet->nlines, in->nspaced, in->nbatches,
		    in->held_ms);
	else
		log_info("sheet %s: decided, %zu lines, read and decided "
		    "together", in->msg_id, in->v.sheet->nlines);
	in->p = NULL;
	pending_reply(p, in->answer_status, XML_CTYPE, in->answer,
	    in->answer_len);
	payorders_fresh_send(in->order);	/* committed: it leaves */
	in->order = NULL;
	in->after = AFTER_NOTHING;
	session_done(in);
}

static void
close_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct intake	*in = arg;
	char		 outcome[32];

	step_cb(res, error, unknown, arg);
	if (!in->broken && (PQntuples(res) == 0 || (in->answer =
	    report_from_rows(res, in->msg_id, &in->answer_status, outcome,
	    sizeof(outcome), &in->answer_len)) == NULL ||
	    strcmp(outcome, "NEW") != 0))
		session_broke(in, "the decision gave no report");
	if (in->broken) {
		session_end(in, AFTER_ONE_CALL);
		return;
	}
	in->order = payorders_fresh_new(res, in->v.sheet);
	if (dblease_query_bin(in->lease, "COMMIT", 0, NULL, NULL, NULL,
	    commit_cb, in) == -1) {
		session_broke(in, "the database connection was lost");
		session_end(in, AFTER_ONE_CALL);
	}
}

/*
 * The pace of a bulk session. Its batches, sent as fast as they are read,
 * keep a database backend busy at the priority of everyone else's (the
 * bulk worker's nice 10 covers the reading, not the posting): beside a
 * 100,000-line sheet, 100-line sheets flowing at half the daemon's
 * capacity were served at some 70 % of their rate and queued to a p99 of
 * about a second (tests/bench/RESULTS.md, 22:35). So while ordinary sheets
 * are flowing (one arrived in the last FLOW_RECENT_MS), a bulk session
 * sends its next batch only once the last is answered and the database
 * has been left to the others for as long as that batch took: half a
 * backend at most. If ordinary work still waits then (statements for a
 * connection, sheets for a worker), the gap grows by halves of it, up to
 * GAP_MAX times it: the big sheet keeps a fifth of a backend, so it is
 * slowed, never stopped. With no one else about, batches go as they are
 * read. Whatever is held is one batch, with the reading of the next slice
 * waiting behind it, so nothing piles up.
 */
#define FLOW_RECENT_MS	1000
#define GAP_MAX		4
static struct timeval	ordinary_seen;	/* an ordinary sheet's arrival */

static bool
flow_recent(const struct timeval *now)
{
	struct timeval	since;

	timersub(now, &ordinary_seen, &since);
	return since.tv_sec * 1000 + since.tv_usec / 1000 < FLOW_RECENT_MS;
}

static bool
ordinary_waiting(void)
{
	return db_queued(wpd->db) > 0 ||
	    workers_backlog(wpd->workers) > wpd->conf->workers;
}

static void	intake_done(void *);

static void
gate_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	intake_done(arg);
}

/* Half of the last batch's time (and a millisecond): how much longer a
 * gate stays shut while ordinary work waits. */
static void
gate_extend(struct intake *in, const struct timeval *now)
{
	struct timeval	half;
	long long	usec;

	usec = ((long long)in->took.tv_sec * 1000000 + in->took.tv_usec) / 2 +
	    1000;
	half.tv_sec = (time_t)(usec / 1000000);
	half.tv_usec = (suseconds_t)(usec % 1000000);
	timeradd(now, &half, &in->gate);
}

/* Whether the batch the worker made must wait; if so, it is held and
 * the gate (or lines_cb, for the batch still in the database) sends it. */
static bool
batch_held(struct intake *in)
{
	struct timeval	now, wait;

	if (!in->bulk)
		return false;
	evutil_gettimeofday(&now, NULL);
	if (in->lease != NULL && !in->broken && flow_recent(&now)) {
		if (in->in_db == 0 && !timercmp(&now, &in->gate, <) &&
		    timercmp(&now, &in->gate_max, <) && ordinary_waiting())
			gate_extend(in, &now);
		if ((in->in_db > 0 || timercmp(&now, &in->gate, <)) &&
		    (in->gate_ev != NULL || (in->gate_ev = evtimer_new(wpd->base,
		    gate_cb, in)) != NULL)) {
			if (!in->held) {
				in->held = true;
				in->held_since = now;
				in->nspaced++;
			}
			if (in->in_db == 0) {
				timersub(&in->gate, &now, &wait);
				evtimer_add(in->gate_ev, &wait);
			}
			return true;
		}
	}
	/* it goes (unpaced rather than stuck if no timer could be had) */
	if (in->held) {
		timersub(&now, &in->held_since, &wait);
		in->held_ms += wait.tv_sec * 1000 + wait.tv_usec / 1000;
		in->held = false;
	}
	return false;
}

/*
 * A batch answered: how long the database took over it, and the gate. A
 * session's statements run one after another, so the batch started at
 * the later of its sending and the answer before it. Only the newest
 * batch's sending is kept: one that queued behind others (no pacing then)
 * is taken to have started at the answer before it, which can only
 * lengthen the first gap when pacing begins.
 */
static void
lines_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct intake	*in = arg;
	struct timeval	 now, start, took;
	int		 i;

	step_cb(res, error, unknown, arg);
	evutil_gettimeofday(&now, NULL);
	start = in->last_done;
	if (in->in_db-- == 1 && timercmp(&in->last_sent, &start, >))
		start = in->last_sent;
	timersub(&now, &start, &took);
	timeradd(&now, &took, &in->gate);
	in->gate_max = now;
	for (i = 0; i < GAP_MAX; i++)
		timeradd(&in->gate_max, &took, &in->gate_max);
	in->took = took;
	in->last_done = now;
	if (in->held && in->in_db == 0)
		evtimer_add(in->gate_ev, &took);
}

/* BEGIN and wp_sheet_open on the session. */
static void
session_begin(struct intake *in, struct dblease *lease)
{
	char		 now[40];
	const char	*open_params[6] = { in->contractor, in->msg_id,
			    in->account, in->sub,
			    in->declared[0] != '\0' ? in->declared : NULL, now };

	clock_now_iso(now, sizeof(now));
	in->lease = lease;
	if (dblease_query_bin(in->lease, "BEGIN", 0, NULL, NULL, NULL,
	    step_cb, in) == -1 || dblease_query_bin(in->lease, open_sql, 6,
	    open_params, NULL, NULL, open_cb, in) == -1)
		session_broke(in, "the database connection was lost");
}

/* A session of the pool's now, which keeps a connection of its own for
 * everyone else: false if none is free. */
static bool
session_open(struct intake *in)
{
	struct dblease	*lease;

	if ((lease = dblease_take(wpd->db, 1)) == NULL)
		return false;
	session_begin(in, lease);
	return true;
}

static void
bulk_session_cb(struct dblease *lease, void *arg)
{
	struct intake	*in = arg;

	if (in->broken)		/* hardly: nothing was sent */
		dblease_release(lease);
	else
		session_begin(in, lease);
}

/*
 * A sheet of many megabytes waits for a session from its first slice on,
 * ahead of the pool's queue: it is read at a lower priority, and seconds
 * of its decision are saved. Its lines wait in the sheet until then, and
 * go with the first batch after. Without the wait, a pool kept busy by
 * ordinary sheets had it decided in one call: one statement of all its
 * lines, seconds long, after all of it was read (tests/bench/RESULTS.md).
 */
static void
bulk_session_open(struct intake *in)
{
	if (!in->bulk || !in->overlap || in->lease != NULL || in->broken ||
	    !in->header || in->wait.queued)
		return;
	in->wait.keep = 1;
	in->wait.cb = bulk_session_cb;
	in->wait.arg = in;
	dblease_wait(wpd->db, &in->wait);
}

/* Sends a batch the worker made, opening an ordinary sheet's session
 * with the first. */
static void
session_batch(struct intake *in)
{
	struct sheetlines	*b = in->batch;
	char			 first[16];
	const char		*params[LINES_SCALARS + SHEETLINES_NALL];
	int			 lengths[LINES_SCALARS + SHEETLINES_NALL] = { 0 };
	int			 formats[LINES_SCALARS + SHEETLINES_NALL] = { 0 };

	in->batch = NULL;
	/* Overlapping costs CPU (the parse and the posting share the cores
	 * and their caches, and a sheet posts in several statements): for an
	 * ordinary sheet it pays for latency only when nothing else is being
	 * read or decided, not when every core is busy anyway (measured: 15 %
	 * fewer lines/s at full load). */
	if (in->lease == NULL && !in->broken && (db_backlog(wpd->db) > 0 ||
	    workers_backlog(wpd->workers) > 0 || !session_open(in)))
		session_broke(in, NULL);
	if (in->lease != NULL && !in->broken) {
		snprintf(first, sizeof(first), "%zu", in->batch_first);
		params[0] = in->contractor;
		params[1] = in->msg_id;
		params[2] = first;
		sheetlines_params(b, LINES_SCALARS, 0, params, lengths,
		    formats);
		if (dblease_query_bin(in->lease, lines_sql,
		    LINES_SCALARS + SHEETLINES_NALL, params, lengths, formats,
		    lines_cb, in) == -1)
			session_broke(in, "the database connection was lost");
		else {
			evutil_gettimeofday(&in->last_sent, NULL);
			in->in_db++;
			in->nbatches++;
		}
	}
	sheetlines_free(b);
}

/* The verdict is in: refuse, decide the session, or the one call. */
static void
intake_decide(struct intake *in)
{
	struct pending	*p = in->p;
	struct sheet	*s = in->v.sheet;
	char		 nb[16], sum[24], *xml;
	const char	*params[6];
	size_t		 len;

	sheettrust_release(in->trust);
	in->trust = NULL;
	if (p->req == NULL) {		/* the client went away */
		session_end(in, AFTER_NOTHING);
		return;
	}
	if (in->v.status != 0) {
		log_info("sheet %s: refused (%s): %s", in->v.msg_id[0] ?
		    in->v.msg_id : "(unread)", in->v.err.code, in->v.err.msg);
		wpd->sheets_by_state[METRIC_REFUSED]++;
		in->p = NULL;
		if (in->v.status == 500 || (xml = report_refused(in->v.msg_id,
		    &in->v.err, &len)) == NULL)
			pending_reply(p, 500, NULL, NULL, 0);
		else {
			pending_reply(p, in->v.status, XML_CTYPE, xml, len);
			free(xml);
		}
		session_end(in, AFTER_NOTHING);
		return;
	}
	/* a bulk session opened while the last slice was read had no
	 * batch of it: its lines are not all in the session */
	if (in->lease != NULL && !in->broken && in->sent != s->nlines)
		session_broke(in, "the session came after the last slice");
	if (in->lease == NULL || in->broken) {
		session_end(in, AFTER_ONE_CALL);
		return;
	}
	snprintf(nb, sizeof(nb), "%d", s->nb_of_txs);
	snprintf(sum, sizeof(sum), "%lld", (long long)s->ctrl_sum);
	params[0] = in->contractor;
	params[1] = in->msg_id;
	params[2] = in->digest_hex;
	params[3] = s->month;
	params[4] = nb;
	params[5] = sum;
	if (dblease_query_bin(in->lease, close_sql, 6, params, NULL, NULL,
	    close_cb, in) == -1) {
		session_broke(in, "the database connection was lost");
		session_end(in, AFTER_ONE_CALL);
	}
}

/* On the loop thread, after each slice: its batch to the database, then
 * the next slice, or the verdict. */
static void
intake_done(void *arg)
{
	struct intake	*in = arg;

	if (in->batch != NULL && batch_held(in))
		return;			/* gate_cb comes back */
	if (in->batch != NULL)
		session_batch(in);
	if (in->finished) {
		/* no session yet: the one call, whose query would let the
		 * pool answer the wait with a session nobody then ends */
		dblease_wait_cancel(wpd->db, &in->wait);
		intake_decide(in);
		return;
	}
	bulk_session_open(in);
	/* the worker's copies, set between its jobs: the loop changes the
	 * originals while a job runs (session_broke, bulk_session_cb) */
	in->batching = in->lease != NULL;
	in->no_batches = in->declined;
	if (workers_submit(in->bulk ? wpd->bulk : wpd->workers, intake_work,
	    intake_done, in) == -1) {
		sheettrust_release(in->trust);
		pending_reply(in->p, 500, NULL, NULL, 0);
		in->p = NULL;
		session_end(in, AFTER_NOTHING);
	}
}

void
sheetapi_submit(struct evhttp_request *req, const char *contractor)
{
	struct evbuffer	*body = evhttp_request_get_input_buffer(req);
	struct perr	 err;
	struct intake	*in;
	size_t		 len;

	perr_clear(&err);
	if (evbuffer_get_length(body) > wpd->conf->max_body) {
		perr_set(&err, "FF01", "body larger than %zu bytes",
		    wpd->conf->max_body);
		refuse(req, 413, "", &err);
		return;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL) {
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
	if ((in->trust = sheettrust_hold()) == NULL) {
		pending_free(in->p);
		intake_free(in);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	len = evbuffer_get_length(in->body);
	/* a sheet of many megabytes is read on the bulk worker, at a lower
	 * priority: small sheets keep their latency while it is read */
	in->bulk = len > BULK_BYTES;
	if (!in->bulk)
		evutil_gettimeofday(&ordinary_seen, NULL);
	in->overlap = len >= OVERLAP_BYTES;
	in->slice = SIZE_MAX;
	if (in->overlap)
		in->slice = len / 16 < SLICE_MIN ? SLICE_MIN :
		    len / 16 > SLICE_MAX ? SLICE_MAX : len / 16;
	if (workers_submit(in->bulk ? wpd->bulk : wpd->workers, intake_work,
	    intake_done, in) == -1) {
		sheettrust_release(in->trust);
		pending_free(in->p);
		intake_free(in);
		http_reply(req, 500, NULL, NULL, 0);
	}
}

/* One call whose rows answer as GET does (answer_cb): the status, a cancel. */
static void
sheet_query(struct evhttp_request *req, const char *msg_id, const char *sql,
    int nparams, const char *const *params)
{
	struct pending		*p;
	struct sheet_call	*call;

	if ((p = pending_new(req)) == NULL ||
	    (call = calloc(1, sizeof(*call))) == NULL) {
		pending_free(p);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->msg_id, sizeof(call->msg_id), "%s", msg_id);
	p->data = call;
	p->free_fn = free;
	if (db_query(wpd->db, sql, nparams, params, answer_cb, p) == -1)
		pending_unavailable(p);
}

void
sheetapi_status(struct evhttp_request *req, const char *contractor,
    const char *msg_id)
{
	const char	*params[2] = { contractor, msg_id };

	sheet_query(req, msg_id, status_sql, 2, params);
}

/*
 * POST /v1/sheets/{MsgId}/cancel: a held sheet withdrawn by its general
 * contractor, in one call (wp_sheet_cancel, under the account's row lock,
 * audited, the held sheets behind it released). Answered as GET is, from
 * the rows: 200 with GrpSts CANC (also for a cancel repeated), 409 with
 * the current report for a sheet paid or refused, 403, 404.
 */
void
sheetapi_cancel(struct evhttp_request *req, const char *contractor,
    const char *msg_id)
{
	char		 actor[16 + WP_USCC_LEN];
	const char	*params[3] = { contractor, msg_id, actor };

	snprintf(actor, sizeof(actor), "contractor:%s", contractor);
	sheet_query(req, msg_id, cancel_sql, 3, params);
}
