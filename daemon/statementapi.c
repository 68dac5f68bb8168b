/*
 * statementapi.c: GET /v1/accounts/{account}/statement?from=&to=, the
 * camt.053.001.08 statement of a project's dedicated account for its
 * general contractor.
 *
 * from and to are dates (YYYY-MM-DD, China time, inclusive); without them
 * the statement runs from the first of the current month to today. The
 * entries are the ledger's transfers (wp_statement,
 * schema/functions/documents.sql): deposits, wages paid (one entry per line), returns
 * and attachments, between the opening and closing booked balances. The
 * document is checked against the official schema before it leaves.
 *
 * Owns nothing past the answer. 403 for an account that is not a
 * dedicated account of this contractor's (unknown ones included: the
 * answer must not tell which accounts exist), 400 for a bad period or one
 * with more than STATEMENT_MAX_ENTRIES entries.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <libxml/tree.h>

#include "camt053.h"
#include "daemon.h"
#include "log.h"
#include "xmlout.h"
#include "xmlsafe.h"

#define XML_CTYPE		"application/xml; charset=utf-8"
#define TEXT_CTYPE		"text/plain; charset=utf-8"
#define STATEMENT_MAX_DAYS	366
#define STATEMENT_MAX_ENTRIES	200000

static const char statement_sql[] =
    "SELECT * FROM wp_statement($1, $2, $3::date, $4::date, $5::int)";

/* Columns of wp_statement. */
enum {
	S_KIND, S_OUTCOME, S_OPENING, S_CLOSING, S_REF, S_AMOUNT, S_CREDIT,
	S_BOOKED, S_REASON, S_MSGID, S_E2E, S_USTRD, S_PARTY, S_RTR, S_TXID
};

struct statement_call {
	char	account[WP_CARD_LEN];
	char	from[WP_DATE_LEN];
	char	to[WP_DATE_LEN];
};

/* A real calendar date written YYYY-MM-DD; its day number in *days. */
static bool
date_valid(const char *s, long *days)
{
	struct tm	tm;
	char		back[WP_DATE_LEN];
	time_t		t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday) != 3 || tm.tm_year < 1970)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(back, sizeof(back), "%Y-%m-%d", &tm);
	*days = (long)(t / 86400);
	return strcmp(back, s) == 0;
}

static const char *
field(PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static enum camt053_kind
kind_of(const char *reason)
{
	if (strcmp(reason, "DEPOSIT") == 0)
		return CAMT053_DEPOSIT;
	if (strcmp(reason, "WAGE") == 0)
		return CAMT053_WAGE;
	if (strcmp(reason, "RETURN") == 0)
		return CAMT053_RETURN;
	if (strcmp(reason, "ATTACHMENT") == 0)
		return CAMT053_ATTACHMENT;
	return CAMT053_OTHER;
}

static void
statement_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending		*p = arg;
	struct statement_call	*call = p->data;
	struct camt053		 s;
	struct camt053_entry	*e = NULL;
	struct perr		 err;
	xmlDocPtr		 doc = NULL;
	char			*xml = NULL, id[WP_MAX35_LEN], now[40], txt[200];
	char			(*svcr)[24] = NULL;
	size_t			 len = 0;
	int			 n, i;

	(void)unknown;
	if (res == NULL) {
		log_warnx("statement: database: %s", error);
		pending_unavailable(p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || (n = PQntuples(res)) < 1) {
		log_warnx("statement: database refused the query");
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, S_OUTCOME), "FORBIDDEN") == 0) {
		pending_reply(p, 403, TEXT_CTYPE, "forbidden\n", 10);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, S_OUTCOME), "TOO_MANY") == 0) {
		snprintf(txt, sizeof(txt), "the period has %s entries, more than "
		    "%d: ask for a shorter one\n", PQgetvalue(res, 0, S_AMOUNT),
		    STATEMENT_MAX_ENTRIES);
		pending_reply(p, 400, TEXT_CTYPE, txt, strlen(txt));
		return;
	}
	if ((n > 1 && ((e = calloc((size_t)n - 1, sizeof(*e))) == NULL ||
	    (svcr = calloc((size_t)n - 1, sizeof(*svcr))) == NULL))) {
		free(e);
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	for (i = 1; i < n; i++) {
		snprintf(svcr[i - 1], sizeof(svcr[i - 1]), "T%s",
		    PQgetvalue(res, i, S_TXID));
		e[i - 1].kind = kind_of(PQgetvalue(res, i, S_REASON));
		e[i - 1].ref = PQgetvalue(res, i, S_REF);
		e[i - 1].svcr_ref = svcr[i - 1];
		e[i - 1].amount = strtoll(PQgetvalue(res, i, S_AMOUNT), NULL, 10);
		e[i - 1].credit = strcmp(PQgetvalue(res, i, S_CREDIT), "t") == 0;
		e[i - 1].booked = PQgetvalue(res, i, S_BOOKED);
		e[i - 1].msg_id = field(res, i, S_MSGID);
		e[i - 1].end_to_end_id = field(res, i, S_E2E);
		e[i - 1].ustrd = field(res, i, S_USTRD);
		e[i - 1].party = field(res, i, S_PARTY);
		e[i - 1].return_reason = field(res, i, S_RTR);
	}
	util_message_id("WP053", id, sizeof(id));
	util_now_iso(now, sizeof(now));
	memset(&s, 0, sizeof(s));
	s.msg_id = id;
	s.created_at = now;
	s.account = call->account;
	s.from = call->from;
	s.to = call->to;
	s.opening = strtoll(PQgetvalue(res, 0, S_OPENING), NULL, 10);
	s.closing = strtoll(PQgetvalue(res, 0, S_CLOSING), NULL, 10);
	s.entries = e;
	s.nentries = (size_t)n - 1;
	perr_clear(&err);
	if ((doc = camt053_build(&s, &err)) == NULL ||
	    schemas_validate(wpd->schemas, XSD_CAMT053, doc, &err) == -1 ||
	    (xml = xmlout_dump(doc, &len)) == NULL) {
		log_warnx("statement of %s: could not be made: %s",
		    call->account, err.msg);
		pending_reply(p, 500, NULL, NULL, 0);
	} else {
		log_info("statement of %s %s..%s: %zu entries", call->account,
		    call->from, call->to, s.nentries);
		pending_reply(p, 200, XML_CTYPE, xml, len);
	}
	free(xml);
	xmlFreeDoc(doc);
	free(e);
	free(svcr);
}

static void
bad_request(struct evhttp_request *req, const char *why)
{
	http_reply(req, 400, TEXT_CTYPE, why, strlen(why));
}

void
statementapi_get(struct evhttp_request *req, const char *contractor,
    const char *account)
{
	struct evkeyvalq	 q;
	struct pending		*p;
	struct statement_call	*call;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*query = uri != NULL ? evhttp_uri_get_query(uri) :
				    NULL, *from, *to;
	const char		*params[5];
	char			 today[WP_DATE_LEN], first[WP_DATE_LEN], max[16];
	long			 dfrom, dto;

	if (strlen(account) >= WP_CARD_LEN) {
		http_reply(req, 403, TEXT_CTYPE, "forbidden\n", 10);
		return;
	}
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		bad_request(req, "malformed query\n");
		return;
	}
	clock_today(today, sizeof(today));
	if ((to = evhttp_find_header(&q, "to")) == NULL)
		to = today;
	/* by default from the first of to's month */
	snprintf(first, sizeof(first), "%.8s01", to);
	if ((from = evhttp_find_header(&q, "from")) == NULL)
		from = first;
	if (!date_valid(from, &dfrom) || !date_valid(to, &dto)) {
		evhttp_clear_headers(&q);
		bad_request(req, "from and to must be dates, YYYY-MM-DD\n");
		return;
	}
	if (dfrom > dto || dto - dfrom >= STATEMENT_MAX_DAYS) {
		evhttp_clear_headers(&q);
		bad_request(req, "the period must run forwards and last at most "
		    "366 days\n");
		return;
	}
	if ((p = pending_new(req)) == NULL ||
	    (call = calloc(1, sizeof(*call))) == NULL) {
		evhttp_clear_headers(&q);
		if (p != NULL)
			pending_reply(p, 500, NULL, NULL, 0);
		else
			http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(call->account, sizeof(call->account), "%s", account);
	snprintf(call->from, sizeof(call->from), "%s", from);
	snprintf(call->to, sizeof(call->to), "%s", to);
	evhttp_clear_headers(&q);
	p->data = call;
	p->free_fn = free;
	snprintf(max, sizeof(max), "%d", STATEMENT_MAX_ENTRIES);
	params[0] = contractor;
	params[1] = call->account;
	params[2] = call->from;
	params[3] = call->to;
	params[4] = max;
	if (db_query(wpd->db, statement_sql, 5, params, statement_cb, p) == -1)
		pending_unavailable(p);
}
