/*
 * payorders.c: delivers the payment orders of paid sheets to the bank's
 * core ([core] payments_url).
 *
 * The order rows are written by the SQL that pays a sheet, in the same
 * transaction (wp_sheet_pay: the transactional outbox); this file only
 * reads them after the commit. Two ways out, one delivery:
 *  - fresh: a sheet the daemon has just paid (daemon/sheetapi.c) carries a
 *    last row 'O' naming its order (wp_sheet_close); the order is written
 *    (proto/payorder.c) from the lines the daemon read, less those the
 *    database refused, and POSTed as soon as the COMMIT is answered: no
 *    statement reads the lines back. The paying transaction leased the
 *    order for a minute, so that no claim takes it meanwhile (its
 *    attempt is counted when recorded);
 *  - claimed: every poll (and kick) one statement, wp_payorder_claim,
 *    claims the due orders under a lease and returns their lines: orders
 *    of held sheets released by a deposit, attempts that failed, orders of
 *    a daemon killed before its fresh POST was answered (due again once the
 *    lease is over: never lost).
 * Each POST goes through outbound.c (the daemon's one HTTPS client): the
 * client certificate payments_cert/payments_key, the core verified against
 * payments_ca and the URL's host, at most CONNS_MAX connections kept open
 * (a TLS handshake per order cost the core and us more than writing the
 * order). Any 2xx marks the order taken (wp_payorder_taken, the 2xx
 * heard while one runs gathered into the next, each with the time it was
 * heard); anything
 * else leaves it for a later attempt, 1 s doubling up to a cap, kept in
 * the database across restarts, with the same MsgId (and bytes) every
 * time, so that the core drops a duplicate. Without payments_url nothing
 * is claimed or sent: orders wait in the outbox (the console and /metrics
 * count them).
 *
 * Owns: the poll timer, the DNS resolver, the core's TLS context (loaded
 * and checked by main.c's load_all with the rest of the configuration, at
 * -n, start-up and SIGHUP, and handed over here: no file is read per
 * poll), the destination made of it, every order in flight. Must not:
 * block the loop, or log a worker's name or card.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/dns.h>

#include "daemon.h"
#include "log.h"
#include "payorder.h"
#include "sheet.h"

#define POLL_MS_DEFAULT		1000
#define TIMEOUT_SECS_DEFAULT	30
#define BACKOFF_MAX_DEFAULT	300
#define INFLIGHT_MAX		32	/* claimed orders in flight (a
					 * backlog drains at the core's pace) */
#define FRESH_BYTES_MAX	(32 << 20)	/* fresh orders in flight, in
					 * bytes: more wait
					 * for their lease and a claim */
#define FRESH_LINES_DEFAULT	10000	/* a bigger sheet's order is built
					 * by a claim, once the sheet's memory
					 * is given back: the daemon's peak is
					 * the sheet's, not the sheet's plus
					 * its order's */
#define CONNS_MAX		8	/* connections to the core kept open,
					 * one order on each at a time */
#define TAKEN_BATCH_MAX		256	/* 2xx recorded by one statement */

static const char claim_sql[] =
    "SELECT * FROM wp_payorder_claim($1::int, $2::int)";
static const char taken_sql[] =
    "SELECT wp_payorder_taken($1::bigint[], $2::int[], $3::timestamptz[])";
static const char due_sql[] = "SELECT wp_payorder_due($1::bigint)";
static const char failed_sql[] =
    "SELECT wp_payorder_failed($1::bigint, $2::int, $3, $4::int)";

/* Columns of wp_payorder_claim. */
enum {
	C_ORDER, C_MSGID, C_ATTEMPTS, C_CREATED, C_NB, C_SUM, C_ACCOUNT,
	C_DEBTOR, C_INSTR, C_E2E, C_AMOUNT, C_NAME, C_CARD, C_BANK, C_RMT,
	C_PII, C__COUNT
};

/* One POST in flight (its connection and timers are outbound.c's). */
struct post {
	LIST_ENTRY(post)	 entry;
	long long		 id;		/* payment_order.id */
	char			 msg_id[WP_MAX35_LEN];
	int			 attempt;
	bool			 fresh;
	size_t			 len;		/* its body's */
};

/* A 2xx heard, waiting for the statement that records it. */
struct taken {
	long long	 id;
	int		 status;
	char		 at[48];	/* UTC, microseconds: when it was heard */
};

/* A fresh order: written, waiting for its sheet's COMMIT. */
struct payorders_fresh {
	long long	 id;
	char		 msg_id[WP_MAX35_LEN];
	char		*body;
	size_t		 len;
};

static struct {
	struct event_base	*base;
	struct event		*timer;
	struct evdns_base	*dns;
	SSL_CTX			*ctx;		/* NULL without payments_url */
	struct outbound		*out;		/* the core's intake, made for
						 * ctx and the URL in force */
	LIST_HEAD(, post)	 inflight;
	int			 ninflight, nfresh;
	size_t			 fresh_bytes;	/* of the fresh in flight */
	bool			 claiming, started, stopped;
	int			 timeout_secs, backoff_max;
	int			 fresh_lines;	/* WAGEPAY_PAYORDER_FRESH_LINES */
	struct taken		*taken;		/* 2xx not recorded yet */
	int			 ntaken, taken_cap;
	bool			 recording;	/* a wp_payorder_taken runs */
} P;

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

static void record_taken(void);

static void
taken_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	recorded_cb(res, error, unknown, arg);
	P.recording = false;
	if (!P.stopped)
		record_taken();
}

/* Records the 2xx heard so far, at most TAKEN_BATCH_MAX, in one statement
 * (one commit): a 2xx that arrives meanwhile waits for the next. With
 * many sheets paid at once, a commit per order queued behind them in the
 * pool cost more than the order. The batch leaves the queue and
 * P.recording is set before db_query, which may answer from inside. */
static void
record_taken(void)
{
	struct evbuffer	*ids, *sts, *ats;
	const char	*params[3];
	int		 i, n, built = 0;

	if (P.recording || P.ntaken == 0)
		return;
	n = P.ntaken < TAKEN_BATCH_MAX ? P.ntaken : TAKEN_BATCH_MAX;
	ids = evbuffer_new();
	sts = evbuffer_new();
	ats = evbuffer_new();
	for (i = 0; ids != NULL && sts != NULL && ats != NULL && i < n; i++) {
		const char	*sep = i == 0 ? "{" : ",";

		if (evbuffer_add_printf(ids, "%s%lld", sep, P.taken[i].id) < 0 ||
		    evbuffer_add_printf(sts, "%s%d", sep, P.taken[i].status) < 0 ||
		    evbuffer_add_printf(ats, "%s%s", sep, P.taken[i].at) < 0)
			break;
	}
	/* "}" and its NUL: each buffer pulled up is a C string */
	if (i == n && evbuffer_add(ids, "}", 2) == 0 &&
	    evbuffer_add(sts, "}", 2) == 0 && evbuffer_add(ats, "}", 2) == 0 &&
	    (params[0] = (const char *)evbuffer_pullup(ids, -1)) != NULL &&
	    (params[1] = (const char *)evbuffer_pullup(sts, -1)) != NULL &&
	    (params[2] = (const char *)evbuffer_pullup(ats, -1)) != NULL)
		built = 1;
	/* recorded or given up, they leave the queue (db_query copies the
	 * parameters) */
	memmove(P.taken, P.taken + n, (size_t)(P.ntaken - n) * sizeof(*P.taken));
	P.ntaken -= n;
	if (built) {
		P.recording = true;
		if (db_query(wpd->db, taken_sql, 3, params, taken_cb, NULL) == -1) {
			P.recording = false;
			built = 0;
		}
	}
	if (!built)
		log_warnx("payment orders: could not record %d order(s) taken; "
		    "their leases make them due again (the core drops the "
		    "repeated MsgId)", n);
	if (ids != NULL)
		evbuffer_free(ids);
	if (sts != NULL)
		evbuffer_free(sts);
	if (ats != NULL)
		evbuffer_free(ats);
}

/* A 2xx: queued with the time it was heard (the wall clock, not the
 * WAGEPAY_CLOCK of the day-based rules), recorded by the next statement. */
static void
queue_taken(long long id, int status)
{
	struct taken	*t;
	struct timespec	 ts;
	struct tm	 tm;
	char		 day[32];

	if (P.ntaken == P.taken_cap) {
		int	 cap = P.taken_cap == 0 ? 64 : P.taken_cap * 2;

		if ((t = reallocarray(P.taken, (size_t)cap, sizeof(*t))) == NULL) {
			log_warnx("payment orders: out of memory recording an "
			    "order taken; its lease makes it due again");
			return;
		}
		P.taken = t;
		P.taken_cap = cap;
	}
	t = &P.taken[P.ntaken++];
	t->id = id;
	t->status = status;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t->at, sizeof(t->at), "%s.%06dZ", day,
	    (int)(ts.tv_nsec / 1000 % 1000000));
	record_taken();
}

static void
record(long long id, const char *msg_id, int attempt, int status,
    const char *error)
{
	char		 sid[24], sstatus[16], max[16];
	const char	*params[4];

	if (status >= 200 && status <= 299) {
		log_info("payment order %s: taken by the core (HTTP %d, attempt "
		    "%d)", msg_id, status, attempt);
		queue_taken(id, status);
		return;
	}
	log_warnx("payment order %s: attempt %d failed: %s; it will be "
	    "retried", msg_id, attempt, error);
	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(sstatus, sizeof(sstatus), "%d", status);
	snprintf(max, sizeof(max), "%d", P.backoff_max);
	params[0] = sid;
	params[1] = status > 0 ? sstatus : NULL;
	params[2] = error;
	params[3] = max;
	if (db_query(wpd->db, failed_sql, 4, params, recorded_cb, NULL) == -1)
		log_warnx("payment order %s: database unavailable; the attempt "
		    "will be made again after its lease", msg_id);
}

/* --- POSTs ------------------------------------------------------------------ */

static void
post_free(struct post *p)
{
	LIST_REMOVE(p, entry);
	P.ninflight--;
	if (p->fresh) {
		P.nfresh--;
		P.fresh_bytes -= p->len;
	}
	free(p);
}

static void
finish(struct post *p, int status, const char *error)
{
	bool	claimed = !p->fresh;

	record(p->id, p->msg_id, p->attempt, status, error);
	post_free(p);
	/* a claim's slot is free: more may be due (a fresh order's end frees
	 * none: no claim statement for it) */
	if (claimed && !P.stopped && !wpd->draining)
		payorders_kick();
}

static void
done_cb(int status, const char *error, void *arg)
{
	finish(arg, status, error);
}

/* Starts the POST of one order; a failure before the request is out is
 * recorded at once. */
static void
post(long long id, const char *msg_id, int attempt, bool fresh,
    const char *body, size_t len)
{
	struct post	*p;
	struct perr	 err;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;		/* the lease makes it due again */
	p->id = id;
	p->attempt = attempt;
	p->fresh = fresh;
	p->len = len;
	snprintf(p->msg_id, sizeof(p->msg_id), "%s", msg_id);
	LIST_INSERT_HEAD(&P.inflight, p, entry);
	P.ninflight++;
	if (fresh) {
		P.nfresh++;
		P.fresh_bytes += len;
	}
	perr_clear(&err);
	if (P.out == NULL && (P.out = outbound_new(P.base, P.dns,
	    wpd->conf->payments_url, P.ctx, P.timeout_secs, CONNS_MAX,
	    &err)) == NULL) {
		finish(p, 0, err.msg);
		return;
	}
	if (outbound_post(P.out, "application/xml; charset=utf-8", NULL, body,
	    len, done_cb, p) == -1)
		finish(p, 0, "could not send the request (out of memory)");
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

/* The order whose lines are rows first..last-1 of res, as bytes
 * (malloc'd), or NULL with err. */
static char *
order_bytes(PGresult *res, int first, int last, size_t *len, struct perr *err)
{
	struct payorder		 o;
	struct payorder_line	*l;
	char			*out;
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
	out = payorder_write(&o, len, err);
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
		    C_ATTEMPTS)), false, body, len);
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
	    P.ninflight - P.nfresh >= INFLIGHT_MAX ||
	    wpd->conf->payments_url == NULL ||
	    P.ctx == NULL)
		return;
	snprintf(limit, sizeof(limit), "%d", INFLIGHT_MAX -
	    (P.ninflight - P.nfresh));
	snprintf(lease, sizeof(lease), "%d", P.timeout_secs + 10);
	params[0] = limit;
	params[1] = lease;
	if (db_query(wpd->db, claim_sql, 2, params, claim_cb, NULL) == 0)
		P.claiming = true;
}

/* --- fresh orders ------------------------------------------------------------ */

/* Columns of wp_sheet_close's rows (as report.c reads them), and what the
 * last row 'O' carries in them. */
enum { R_KIND, R_ORDER_MSGID, R_CREATED, R_ORDER_ID, R_COUNTS, R_DEBTOR };

/*
 * The lines of s the database accepted, in order: every line but those of
 * the rows 'L' (refused, in the sheet's order). -1 when the rows and the
 * sheet do not agree (then no fresh order: a claim sends it).
 */
static int
fresh_lines(PGresult *res, const struct sheet *s, const char *msg_id,
    struct payorder_line *l, char (*instr)[WP_MAX35_LEN + 12],
    char (*rmt)[24], size_t *n)
{
	const struct sheet_line	*sl;
	int			 row = 1, rows = PQntuples(res);
	size_t			 i;

	*n = 0;
	for (i = 0; i < s->nlines; i++) {
		sl = &s->lines[i];
		while (row < rows && strcmp(PQgetvalue(res, row, R_KIND), "L") != 0)
			row++;
		if (row < rows && strcmp(PQgetvalue(res, row, 3),
		    sl->end_to_end_id) == 0) {
			row++;		/* refused */
			continue;
		}
		snprintf(instr[*n], sizeof(instr[*n]), "%s-%zu", msg_id, i + 1);
		snprintf(rmt[*n], sizeof(rmt[*n]), "%s/%s", sl->kind ==
		    LINE_BACKPAY ? "BACKPAY" : "WAGE", sl->month);
		l[*n].instr_id = instr[*n];
		l[*n].end_to_end_id = sl->end_to_end_id;
		l[*n].amount = sl->amount;
		l[*n].name = sl->name;
		l[*n].card = sl->card;
		l[*n].card_bank = sl->card_bank;
		l[*n].remittance = rmt[*n];
		(*n)++;
	}
	while (row < rows && strcmp(PQgetvalue(res, row, R_KIND), "L") != 0)
		row++;
	return row == rows ? 0 : -1;	/* every refused line met */
}

/* The order's bytes from the sheet and the decision's rows; NULL when
 * they disagree with the order's count and sum, or out of memory. */
static char *
fresh_bytes(PGresult *res, int o_row, const struct sheet *s, size_t *len)
{
	struct payorder		 o;
	struct payorder_line	*l;
	char			(*instr)[WP_MAX35_LEN + 12], (*rmt)[24], *out = NULL;
	long long		 nb = -1, sum = -1, total = 0;
	size_t			 n = 0, i;
	struct perr		 err;

	memset(&o, 0, sizeof(o));
	o.msg_id = PQgetvalue(res, o_row, R_ORDER_MSGID);
	o.created_at = PQgetvalue(res, o_row, R_CREATED);
	o.account = s->debtor_account;
	o.debtor = PQgetvalue(res, o_row, R_DEBTOR);
	l = calloc(s->nlines, sizeof(*l));
	instr = calloc(s->nlines, sizeof(*instr));
	rmt = calloc(s->nlines, sizeof(*rmt));
	if (l != NULL && instr != NULL && rmt != NULL &&
	    fresh_lines(res, s, o.msg_id, l, instr, rmt, &n) == 0 &&
	    sscanf(PQgetvalue(res, o_row, R_COUNTS), "%lld %lld", &nb, &sum) == 2) {
		for (i = 0; i < n; i++)
			total += l[i].amount;
		o.lines = l;
		o.nlines = n;
		if ((long long)n == nb && total == sum)
			out = payorder_write(&o, len, &err);
		else
			log_warnx("payment order %s: the sheet read (%zu lines, "
			    "%lld fen) is not the sheet paid (%lld lines, %lld "
			    "fen); a claim sends it", o.msg_id, n, total, nb, sum);
	}
	free(rmt);
	free(instr);
	free(l);
	return out;
}

struct payorders_fresh *
payorders_fresh_new(PGresult *res, const struct sheet *s)
{
	struct payorders_fresh	*f;
	int			 o_row = PQntuples(res) - 1;

	if (P.stopped || !P.started || wpd->conf->payments_url == NULL ||
	    P.ctx == NULL || o_row < 1 ||
	    strcmp(PQgetvalue(res, o_row, R_KIND), "O") != 0)
		return NULL;	/* no order, or none to be sent: it waits */
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;	/* due after its lease */
	f->id = strtoll(PQgetvalue(res, o_row, R_ORDER_ID), NULL, 10);
	snprintf(f->msg_id, sizeof(f->msg_id), "%s", PQgetvalue(res, o_row,
	    R_ORDER_MSGID));
	/* without the sheet (a big one decided in one call is not kept),
	 * with too many in flight, or for a sheet of more than
	 * P.fresh_lines lines, the lease is lifted instead */
	if (s != NULL && s->nlines <= (size_t)P.fresh_lines &&
	    P.fresh_bytes < FRESH_BYTES_MAX)
		f->body = fresh_bytes(res, o_row, s, &f->len);
	return f;
}

static void
due_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)unknown; (void)arg;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warnx("payment orders: could not make an order due at once: "
		    "%s; it is due after its lease", res == NULL ? error :
		    "database refused the update");
	else
		payorders_kick();
}

void
payorders_fresh_send(struct payorders_fresh *f)
{
	char		 sid[24];
	const char	*params[1] = { sid };

	if (f == NULL)
		return;
	if (!P.stopped && !wpd->draining && wpd->conf->payments_url != NULL &&
	    P.ctx != NULL) {
		if (f->body != NULL)
			post(f->id, f->msg_id, 1, true, f->body, f->len);
		else {
			snprintf(sid, sizeof(sid), "%lld", f->id);
			if (db_query(wpd->db, due_sql, 1, params, due_cb,
			    NULL) == -1)
				log_warnx("payment order %s: database unavailable;"
				    " it is due after its lease", f->msg_id);
		}
	}
	payorders_fresh_free(f);
}

void
payorders_fresh_free(struct payorders_fresh *f)
{
	if (f == NULL)
		return;
	free(f->body);
	free(f);
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
	/* orders in flight end on the old connections; the next ones go to
	 * the URL and with the certificates now in force */
	outbound_retire(P.out);
	P.out = NULL;
	SSL_CTX_free(P.ctx);	/* the destination keeps its own reference */
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
	P.timeout_secs = util_env_int("WAGEPAY_PAYORDER_TIMEOUT",
	    TIMEOUT_SECS_DEFAULT, 1, 600);
	P.backoff_max = util_env_int("WAGEPAY_PAYORDER_BACKOFF_MAX",
	    BACKOFF_MAX_DEFAULT, 1, 86400);
	poll_ms = util_env_int("WAGEPAY_PAYORDER_POLL_MS", POLL_MS_DEFAULT, 10,
	    600000);
	P.fresh_lines = util_env_int("WAGEPAY_PAYORDER_FRESH_LINES",
	    FRESH_LINES_DEFAULT, 1, 1000000);
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
	/* the connections went with outbound_shutdown (main.c), which
	 * tells no end: what was in flight is due again after its lease */
	while ((p = LIST_FIRST(&P.inflight)) != NULL)
		post_free(p);
	SSL_CTX_free(P.ctx);
	P.ctx = NULL;
	evdns_base_free(P.dns, 0);
	/* 2xx never recorded: their leases make them due again */
	free(P.taken);
	P.taken = NULL;
	P.ntaken = P.taken_cap = 0;
}
