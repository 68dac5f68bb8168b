/*
 * consoleapi.c: the console's JSON API calls behind session.c's gate. The
 * reads are the wp_console_* functions (schema/functions/console.sql), which answer JSON with ID
 * and card numbers already masked; the proposals and decisions are
 * wp_approval_propose / wp_console_propose / wp_approval_decide, which
 * enforce four eyes and append the audit records. One SQL call does the
 * work of each request.
 *
 * Validates input and maps outcomes to HTTP; never builds money figures.
 * Owns nothing beyond the request. Must not log a worker's data (the
 * database's own error text may carry it: it is logged only for 500s,
 * which no operator input can cause by design).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>
#include <libxml/xmlstring.h>

#include "daemon.h"
#include "ids.h"
#include "log.h"
#include "money.h"
#include "pii.h"

#define JSON_CTYPE	"application/json; charset=utf-8"
#define CSV_CTYPE	"text/csv; charset=utf-8"
#define CSV_BOM		"\xEF\xBB\xBF"	/* UTF-8's byte order mark: Excel */
#define REASON_MAX	200		/* characters of a maker's reason */

#define DIGITS	"0123456789"
#define ALNUM	DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* "Now" as the day-based rules see it (clock.c), for the plan to date,
 * the months unpaid and the close checks, so that the console and the
 * alerts agree on what is due. */
static void
now_iso(char buf[40])
{
	clock_now_iso(buf, 40);
}

/* --- proposals and decisions ------------------------------------------ */

static const char *
str_field(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool
int_field(json_t *o, const char *key, long long min, long long max,
    long long *out)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return *out >= min && *out <= max;
}

static bool
company_ok(json_t *o, const char *key, char *why, size_t whylen)
{
	json_t		*c = json_object_get(o, key);
	const char	*uscc = str_field(c, "uscc"), *name = str_field(c, "name");

	if (!json_is_object(c) || uscc == NULL || !ids_uscc_valid(uscc)) {
		snprintf(why, whylen, "%s.uscc must be a valid unified social "
		    "credit code", key);
		return false;
	}
	if (!util_text_ok(name, 200)) {
		snprintf(why, whylen, "%s.name must be 1 to 200 characters", key);
		return false;
	}
	return true;
}

/* Checks a project proposal and normalises it into the stored payload. */
static json_t *
project_payload(json_t *b, char *why, size_t whylen)
{
	const char	*code = str_field(b, "code"), *name = str_field(b, "name");
	const char	*region = str_field(b, "region");
	const char	*industry = str_field(b, "industry");
	const char	*account = str_field(b, "account");
	const char	*total = str_field(b, "labour_cost_total");
	const char	*start = str_field(b, "start_month");
	long long	 months, pay_day;
	int64_t		 fen;
	char		 yuan[32];
	json_t		*out;

	if (!util_matches(code, 1, 64, ALNUM "._-") ||
	    !isalnum((unsigned char)code[0]))
		return snprintf(why, whylen, "code must be 1 to 64 letters, "
		    "digits, '.', '_' or '-'"), NULL;
	if (!util_text_ok(name, 200))
		return snprintf(why, whylen, "name must be 1 to 200 characters"),
		    NULL;
	if (!util_matches(region, 6, 6, DIGITS))
		return snprintf(why, whylen, "region must be a 6-digit "
		    "administrative division code"), NULL;
	if (industry == NULL || (strcmp(industry, "housing") != 0 &&
	    strcmp(industry, "transport") != 0 && strcmp(industry, "water") != 0 &&
	    strcmp(industry, "agriculture") != 0))
		return snprintf(why, whylen, "industry must be housing, transport, "
		    "water or agriculture"), NULL;
	if (!company_ok(b, "owner", why, whylen) ||
	    !company_ok(b, "contractor", why, whylen))
		return NULL;
	if (!util_matches(account, 1, 34, ALNUM "-"))
		return snprintf(why, whylen, "account must be 1 to 34 letters, "
		    "digits or '-'"), NULL;
	if (total == NULL || money_parse(total, &fen) == -1 || fen <= 0)
		return snprintf(why, whylen, "labour_cost_total must be a "
		    "positive decimal string in yuan with at most 2 decimals, "
		    "e.g. \"4500000.00\""), NULL;
	if (!int_field(b, "contract_months", 1, 240, &months))
		return snprintf(why, whylen, "contract_months must be a whole "
		    "number from 1 to 240"), NULL;
	if (start == NULL || strlen(start) != 7 || start[4] != '-' ||
	    !util_matches(start, 7, 7, DIGITS "-") || atoi(start + 5) < 1 ||
	    atoi(start + 5) > 12)
		return snprintf(why, whylen, "start_month must be YYYY-MM"), NULL;
	if (!int_field(b, "pay_day", 1, 28, &pay_day))
		return snprintf(why, whylen, "pay_day must be a day of the month "
		    "from 1 to 28"), NULL;
	money_format(fen, yuan, sizeof(yuan));
	out = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:s, s:s, s:I, s:I, "
	    "s:s, s:I}", "code", code, "name", name, "region", region,
	    "industry", industry, "owner", json_object_get(b, "owner"),
	    "contractor", json_object_get(b, "contractor"), "account", account,
	    "labour_cost_total", yuan, "labour_cost_fen", (json_int_t)fen,
	    "contract_months", (json_int_t)months, "start_month", start,
	    "pay_day", (json_int_t)pay_day);
	if (out == NULL)
		snprintf(why, whylen, "out of memory");
	return out;
}

static void
proposed_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;

	(void)unknown;
	if (jsonreply_db_failed(c, res, error, "proposal"))
		return;
	if (PQgetisnull(res, 0, 0)) {
		jsonreply_error(c->p, 409, "that project or account number "
		    "already exists: a project has exactly one dedicated "
		    "account");
		return;
	}
	log_info("console: operator %s proposed approval %s", c->op_name,
	    PQgetvalue(res, 0, 0));
	jsonreply_send(c->p, 200, json_pack("{s:I}", "approval",
	    (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
}

void
consoleapi_project_propose(struct console_call *c)
{
	json_t		*payload;
	char		 why[200], *s, id[24];
	const char	*params[2];

	if ((payload = project_payload(c->body, why, sizeof(why))) == NULL) {
		jsonreply_error(c->p, 400, why);
		return;
	}
	s = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	if (s == NULL) {
		jsonreply_error(c->p, 500, "out of memory");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->op_id);
	params[0] = s;
	params[1] = id;
	jsonreply_query(c, "SELECT wp_approval_propose('OPEN_ACCOUNT', "
	    "$1::jsonb, $2::bigint)", 2, params, proposed_cb);
	free(s);
}

/* wp_console_propose_json answers {"approval":ID} or {"refusal":"…"}. */
static void
proposed_json_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	json_t			*j;
	json_error_t		 jerr;
	const char		*refusal;

	(void)unknown;
	if (jsonreply_db_failed(c, res, error, "proposal"))
		return;
	if ((j = json_loads(PQgetvalue(res, 0, 0), 0, &jerr)) == NULL) {
		jsonreply_error(c->p, 500, "internal error");
		return;
	}
	if ((refusal = json_string_value(json_object_get(j, "refusal"))) != NULL) {
		jsonreply_error(c->p, 409, refusal);
		json_decref(j);
		return;
	}
	log_info("console: operator %s proposed approval %lld", c->op_name,
	    (long long)json_integer_value(json_object_get(j, "approval")));
	jsonreply_send(c->p, 200, j);
}

static void
propose(struct console_call *c, const char *kind, json_t *payload)
{
	char		*s, id[24], now[40];
	const char	*params[4];

	s = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	if (s == NULL) {
		jsonreply_error(c->p, 500, "out of memory");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->op_id);
	now_iso(now);
	params[0] = kind;
	params[1] = s;
	params[2] = id;
	params[3] = now;
	jsonreply_query(c, "SELECT wp_console_propose_json($1, $2::jsonb, "
	    "$3::bigint, $4::timestamptz)", 4, params, proposed_json_cb);
	free(s);
}

/* propose() for the other files of the console API (guaranteeapi.c). */
void
consoleapi_propose(struct console_call *c, const char *kind, json_t *payload)
{
	propose(c, kind, payload);
}

/* POST /api/projects/{code}/close {"reason"} */
void
consoleapi_close_propose(struct console_call *c)
{
	const char	*reason = str_field(c->body, "reason");

	if (!util_text_ok(reason, REASON_MAX)) {
		jsonreply_error(c->p, 400, "reason must be 1 to 200 "
		    "characters: why the account closes (e.g. project "
		    "complete, no wages owed)");
		return;
	}
	propose(c, "CLOSE_ACCOUNT", json_pack("{s:s, s:s}", "code", c->arg,
	    "reason", reason));
}

/* POST /api/operators/{name}/second-factor/reset {"reason"?}: an
 * operator's TOTP reset (lost phone), four eyes like any other approval;
 * approved, the operator enrols a new factor at their next sign-in. */
void
consoleapi_factor_reset_propose(struct console_call *c)
{
	const char	*reason = str_field(c->body, "reason");

	if (reason != NULL && !util_text_ok(reason, REASON_MAX)) {
		jsonreply_error(c->p, 400, "reason must be 1 to 200 characters");
		return;
	}
	propose(c, "RESET_SECOND_FACTOR", json_pack("{s:s, s:s?}", "operator",
	    c->arg, "reason", reason));
}

/* YYYY-MM-DD in form; the database says whether it is a date. */
static bool
date_ok(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != 10)
		return false;
	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* POST /api/projects/{code}/complete {"completed_on","reason"?}: the
 * public-notice period is the configuration's ([rules] closing_notice_days)
 * when proposed, kept in the proposal, so that the maker, the checker and
 * the close count the same days. */
void
consoleapi_complete_propose(struct console_call *c)
{
	const char	*on = str_field(c->body, "completed_on");
	const char	*reason = str_field(c->body, "reason");

	if (!date_ok(on)) {
		jsonreply_error(c->p, 400, "completed_on must be the "
		    "project's completion date, YYYY-MM-DD");
		return;
	}
	if (reason == NULL)
		reason = "project complete";
	if (!util_text_ok(reason, REASON_MAX)) {
		jsonreply_error(c->p, 400, "reason must be 1 to 200 "
		    "characters");
		return;
	}
	propose(c, "COMPLETE_PROJECT", json_pack("{s:s, s:s, s:i, s:s}",
	    "code", c->arg, "completed_on", on, "notice_days",
	    wpd->conf->closing_notice_days, "reason", reason));
}

/* POST /api/movements {"deposit","amount"?,"reason"?}: the return of one
 * deposit to its payer, the whole deposit unless "amount" says less; the
 * database completes the accounts and the amount from the deposit. */
static void
deposit_return_propose(struct console_call *c, const char *deposit)
{
	const char	*amount = str_field(c->body, "amount");
	const char	*reason = str_field(c->body, "reason");
	const char	*from = str_field(c->body, "from");
	const char	*to = str_field(c->body, "to");
	int64_t		 fen;
	char		 yuan[32];
	json_t		*payload;

	if (!util_text_ok(deposit, 35)) {
		jsonreply_error(c->p, 400, "deposit must be the deposit's "
		    "entry reference (NtryRef), 1 to 35 characters");
		return;
	}
	if ((from != NULL && !util_matches(from, 1, 34, ALNUM "-")) ||
	    (to != NULL && !util_matches(to, 1, 34, ALNUM "-"))) {
		jsonreply_error(c->p, 400,
		    "from and to must be account numbers");
		return;
	}
	if (reason == NULL)
		reason = "deposit returned to its payer";
	if (!util_text_ok(reason, REASON_MAX)) {
		jsonreply_error(c->p, 400, "reason must be 1 to 200 "
		    "characters: why the deposit goes back");
		return;
	}
	payload = json_pack("{s:s, s:s}", "deposit", deposit, "reason", reason);
	if (payload == NULL) {
		jsonreply_error(c->p, 500, "out of memory");
		return;
	}
	if (amount != NULL || json_object_get(c->body, "amount") != NULL) {
		if (amount == NULL || money_parse(amount, &fen) == -1 ||
		    fen <= 0) {
			json_decref(payload);
			jsonreply_error(c->p, 400, "amount must be a "
			    "positive decimal string in yuan with at most 2 "
			    "decimals, e.g. \"4500.00\"");
			return;
		}
		money_format(fen, yuan, sizeof(yuan));
		json_object_set_new(payload, "amount", json_string(yuan));
		json_object_set_new(payload, "amount_fen", json_integer(fen));
	}
	if (from != NULL)
		json_object_set_new(payload, "from", json_string(from));
	if (to != NULL)
		json_object_set_new(payload, "to", json_string(to));
	propose(c, "MANUAL_MOVEMENT", payload);
}

/* POST /api/movements {"from","to","amount","reason"}: any other manual
 * movement, which the database refuses with its reason (WP60, WP61, WP62)
 * once the input is well-formed. */
void
consoleapi_movement_propose(struct console_call *c)
{
	const char	*from = str_field(c->body, "from");
	const char	*to = str_field(c->body, "to");
	const char	*amount = str_field(c->body, "amount");
	const char	*reason = str_field(c->body, "reason");
	int64_t		 fen;
	char		 yuan[32];

	if (json_object_get(c->body, "deposit") != NULL) {
		deposit_return_propose(c, str_field(c->body, "deposit"));
		return;
	}
	if (!util_matches(from, 1, 34, ALNUM "-") ||
	    !util_matches(to, 1, 34, ALNUM "-")) {
		jsonreply_error(c->p, 400,
		    "from and to must be account numbers");
		return;
	}
	if (amount == NULL || money_parse(amount, &fen) == -1 || fen <= 0) {
		jsonreply_error(c->p, 400, "amount must be a positive "
		    "decimal string in yuan with at most 2 decimals, "
		    "e.g. \"4500.00\"");
		return;
	}
	if (!util_text_ok(reason, REASON_MAX)) {
		jsonreply_error(c->p, 400, "reason must be 1 to 200 "
		    "characters: why the money moves");
		return;
	}
	money_format(fen, yuan, sizeof(yuan));
	propose(c, "MANUAL_MOVEMENT", json_pack("{s:s, s:s, s:s, s:I, s:s}",
	    "from", from, "to", to, "amount", yuan, "amount_fen",
	    (json_int_t)fen, "reason", reason));
}

static void
decided_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	const char		*state, *outcome;
	json_t			*j;
	json_error_t		 jerr;

	(void)unknown;
	if (jsonreply_db_failed(c, res, error, "approval"))
		return;
	state = PQgetvalue(res, 0, 0);
	outcome = PQgetvalue(res, 0, 1);
	if (strcmp(state, "NOT_FOUND") == 0) {
		jsonreply_error(c->p, 404, "no such approval");
		return;
	}
	if (strcmp(state, "SAME_OPERATOR") == 0) {
		jsonreply_error(c->p, 403, outcome);
		return;
	}
	if (strncmp(outcome, "already decided", 15) == 0) {
		jsonreply_error(c->p, 409, outcome);
		return;
	}
	log_info("console: operator %s decided approval %s: %s", c->op_name,
	    c->arg, state);
	j = json_loads(PQgetvalue(res, 0, 2), 0, &jerr);
	jsonreply_send(c->p, 200, j);
}

/* POST /api/approvals/{id} {"decision"} */
void
consoleapi_approval_decide(struct console_call *c)
{
	const char	*decision = str_field(c->body, "decision");
	const char	*params[4];
	char		 id[24], now[40];

	if (decision == NULL || (strcmp(decision, "approve") != 0 &&
	    strcmp(decision, "reject") != 0)) {
		jsonreply_error(c->p, 400,
		    "decision must be \"approve\" or \"reject\"");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->op_id);
	now_iso(now);
	params[0] = c->arg;
	params[1] = id;
	params[2] = decision;
	params[3] = now;
	jsonreply_query(c, "SELECT d.state, d.outcome, "
	    "wp_approval_json($1::bigint) FROM wp_console_decide($1::bigint, "
	    "$2::bigint, $3, $4::timestamptz) d", 4, params, decided_cb);
}

static void
retried_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	const char		*s;

	(void)unknown;
	if (jsonreply_db_failed(c, res, error, "alert retry"))
		return;
	if (PQgetisnull(res, 0, 0)) {
		jsonreply_error(c->p, 404, "no such alert");
		return;
	}
	log_info("console: operator %s asked alert %s to be retried",
	    c->op_name, c->arg);
	alerts_kick();	/* look for due deliveries now, not at the next poll */
	s = PQgetvalue(res, 0, 0);
	pending_reply(c->p, 200, JSON_CTYPE, s, strlen(s));
}

/* POST /api/alerts/{uuid}/retry */
void
consoleapi_alert_retry(struct console_call *c)
{
	const char	*params[2];
	char		 id[24];

	snprintf(id, sizeof(id), "%lld", c->op_id);
	params[0] = c->arg;
	params[1] = id;
	jsonreply_query(c, "SELECT wp_console_alert_retry($1::uuid, "
	    "$2::bigint)", 2, params, retried_cb);
}

/* --- reads: one JSON value from one wp_console_* call -------------------- */

static void
json_row_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	const char		*s;

	(void)unknown;
	if (jsonreply_db_failed(c, res, error, "read"))
		return;
	if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0)) {
		jsonreply_error(c->p, 404, "not found");
		return;
	}
	s = PQgetvalue(res, 0, 0);
	pending_reply(c->p, 200, JSON_CTYPE, s, strlen(s));
}

/* Runs sql with n (0..2) parameters (NULL: SQL NULL) and answers its one
 * JSON value, or 404 if it is NULL. */
static void
read1(struct console_call *c, const char *sql, int n, const char *p1,
    const char *p2)
{
	const char	*params[2] = { p1, p2 };

	jsonreply_query(c, sql, n, params, json_row_cb);
}

void
consoleapi_overview_get(struct console_call *c)
{
	char	now[40], hours[16];

	now_iso(now);
	snprintf(hours, sizeof(hours), "%d", wpd->conf->settlement_hours);
	read1(c, "SELECT wp_console_overview($1::timestamptz, $2::int)", 2, now,
	    hours);
}

void
consoleapi_projects_get(struct console_call *c)
{
	char	now[40];

	now_iso(now);
	read1(c, "SELECT wp_console_projects($1, $2::timestamptz)", 2, c->arg2,
	    now);
}

void
consoleapi_project_get(struct console_call *c)
{
	char	now[40];

	now_iso(now);
	read1(c, "SELECT wp_console_project($1, $2::timestamptz)", 2, c->arg,
	    now);
}

void
consoleapi_sheet_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_sheet($1::bigint, $2::int)", 2, c->arg,
	    c->arg2[0] ? c->arg2 : "0");
}

/* wp_console_sheet_csv's row: how many sheets the MsgId named, the CSV. */
static void
sheet_csv_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	const char		*csv;
	char			*body, name[128], disp[192];
	size_t			 len, i;

	(void)unknown;
	if (jsonreply_db_failed(c, res, error, "sheet csv"))
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
		jsonreply_error(c->p, 404, "no sheet has that MsgId");
		return;
	}
	if (PQgetisnull(res, 0, 1)) {
		jsonreply_error(c->p, 409, "that MsgId names sheets of several "
		    "contractors: add ?contractor= and the general contractor's "
		    "unified social credit code");
		return;
	}
	csv = PQgetvalue(res, 0, 1);
	len = strlen(csv);
	if ((body = malloc(sizeof(CSV_BOM) - 1 + len)) == NULL) {
		jsonreply_error(c->p, 500, "out of memory");
		return;
	}
	memcpy(body, CSV_BOM, sizeof(CSV_BOM) - 1);
	memcpy(body + sizeof(CSV_BOM) - 1, csv, len);
	/* the file's name: the MsgId as sent, anything but [A-Za-z0-9._-] '_' */
	memcpy(name, c->arg, sizeof(name));
	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && strchr("._-", name[i]) == NULL)
			name[i] = '_';
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-lines.csv\"",
	    name);
	if (c->p->req != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(c->p->req),
		    "Content-Disposition", disp);
	pending_reply(c->p, 200, CSV_CTYPE, body, sizeof(CSV_BOM) - 1 + len);
	free(body);
}

/* GET /api/sheets/{MsgId}/lines.csv[?contractor=USCC]: the sheet's lines as
 * CSV (wp_console_sheet_csv: masked, amounts in yuan, formula-guarded) with
 * a UTF-8 BOM, so that Excel reads the Chinese. 400 for a MsgId that is not
 * 1 to 35 characters of UTF-8 without control characters, or a contractor
 * that is not a credit code; 404 for no such sheet; 409 when the MsgId is
 * several contractors' and none was named. */
void
consoleapi_sheet_csv_get(struct console_call *c)
{
	char		*msg;
	const char	*params[2];
	size_t		 n = 0;

	msg = evhttp_uridecode(c->arg, 0, &n);
	/* a %00 would end the string early: refused, not read short */
	if (msg == NULL || strlen(msg) != n || !util_text_ok(msg, 35) ||
	    !xmlCheckUTF8((const unsigned char *)msg)) {
		free(msg);
		jsonreply_error(c->p, 400, "the MsgId must be 1 to 35 "
		    "characters (UTF-8, percent-encoded in the path), without "
		    "control characters");
		return;
	}
	if (c->arg2[0] != '\0' && !ids_uscc_valid(c->arg2)) {
		free(msg);
		jsonreply_error(c->p, 400, "contractor must be the general "
		    "contractor's unified social credit code (18 characters)");
		return;
	}
	params[0] = msg;
	params[1] = c->arg2[0] != '\0' ? c->arg2 : NULL;
	jsonreply_query(c, "SELECT sheets, csv FROM wp_console_sheet_csv($1, $2)",
	    2, params, sheet_csv_cb);
	free(msg);
}

void
consoleapi_alerts_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_alerts($1::boolean)", 1,
	    strcmp(c->arg2, "all") == 0 ? "true" : "false", NULL);
}

void
consoleapi_approvals_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_approvals($1::boolean)", 1,
	    strcmp(c->arg2, "all") == 0 ? "true" : "false", NULL);
}

void
consoleapi_audit_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_audit($1::bigint)", 1,
	    c->arg2[0] ? c->arg2 : NULL, NULL);
}

void
consoleapi_audit_verify(struct console_call *c)
{
	read1(c, "SELECT json_strip_nulls(row_to_json(v)) FROM wp_audit_verify() v",
	    0, NULL, NULL);
}

/* GET /api/workers/{idNumber}/cards: the worker's card history, masked;
 * looked up by the ID number's blind index when stored sealed (032). */
void
consoleapi_worker_cards_get(struct console_call *c)
{
	char	ix[PII_INDEX_LEN + 1];

	read1(c, "SELECT wp_console_worker_cards($1)", 1,
	    piikeys_index(PII_IDN, c->arg, ix), NULL);
}

/* GET /api/workers/{idNumber}/payments: every line paid to the worker on
 * any project, masked, with what became of it (API.md). */
void
consoleapi_worker_payments_get(struct console_call *c)
{
	char	ix[PII_INDEX_LEN + 1];

	read1(c, "SELECT wp_console_worker_payments($1)", 1,
	    piikeys_index(PII_IDN, c->arg, ix), NULL);
}

/* GET /api/platforms: each provincial platform's backlog (issue 20). */
void
consoleapi_platforms_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_platforms()", 0, NULL, NULL);
}

/* POST /api/platforms/{name}/replay {"from_seq"}: propose sending the
 * platform every record again from that seq (four eyes; WP75 refusals). */
void
consoleapi_replay_propose(struct console_call *c)
{
	json_t	*v = json_object_get(c->body, "from_seq");
	char	 from[24];

	if (json_is_integer(v))
		snprintf(from, sizeof(from), "%lld", (long long)json_integer_value(v));
	else
		snprintf(from, sizeof(from), "%s", json_is_string(v) ?
		    json_string_value(v) : "");
	if (!util_matches(from, 1, 15, DIGITS) || strtoll(from, NULL, 10) < 1) {
		jsonreply_error(c->p, 400, "from_seq must be the seq to send again "
		    "from, a whole number from 1");
		return;
	}
	propose(c, "PLATFORM_REPLAY", json_pack("{s:s, s:s}", "platform", c->arg,
	    "from_seq", from));
}
