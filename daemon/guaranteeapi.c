/*
 * guaranteeapi.c: the console's calls for a project's wage guarantee
 * (工资保证金 / 保函, issue #21): registering a guarantee account or a
 * guarantee letter, recording HRSS's decision to draw on it (动用), and
 * HRSS's release notice (退还). Each is a maker's proposal that takes
 * effect when a different checker approves it (POST /api/approvals/{id});
 * the rules are schema/functions/guarantee.sql's, asked at both steps
 * through wp_console_propose (consoleapi_propose).
 *
 * Validates the form of the input (amounts parsed to fen, dates, months,
 * ID numbers) and builds the proposal's payload; never computes a money
 * figure (the required amount from a contract amount and a rate is the
 * database's). Owns nothing beyond the request. Logs no worker's data.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "daemon.h"
#include "ids.h"
#include "money.h"
#include "pii.h"

#define DIGITS		"0123456789"
#define ALNUM		DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define MAX_LINES	1000		/* lines of one draw */
#define AMOUNT_HINT	"a positive decimal string in yuan with at most 2 " \
			"decimals, e.g. \"4500.00\""

static const char *
field(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* YYYY-MM-DD in form (the database says whether it is a date), or YYYY-MM
 * when len is 7. */
static bool
date_form(const char *s, size_t len)
{
	size_t	i;

	if (s == NULL || strlen(s) != len)
		return false;
	for (i = 0; i < len; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	if (len == 7 && (strncmp(s + 5, "01", 2) < 0 || strncmp(s + 5, "12", 2) > 0))
		return false;
	return true;
}

/* Sets key_fen (and key, normalised) in payload from the yuan string at
 * key of the body; false if it is not a positive amount. */
static bool
amount_into(json_t *body, const char *key, json_t *payload)
{
	const char	*s = field(body, key);
	int64_t		 fen;
	char		 yuan[32], fenkey[64];

	if (s == NULL || money_parse(s, &fen) == -1 || fen <= 0)
		return false;
	money_format(fen, yuan, sizeof(yuan));
	snprintf(fenkey, sizeof(fenkey), "%s_fen", key);
	json_object_set_new(payload, key, json_string(yuan));
	json_object_set_new(payload, fenkey, json_integer(fen));
	return true;
}

/* A rate in percent: 1 to 3 integer digits, at most 3 decimals, > 0. */
static bool
rate_ok(const char *s)
{
	size_t	i = strspn(s, DIGITS), d;

	if (i < 1 || i > 3)
		return false;
	if (s[i] == '.') {
		d = strspn(s + i + 1, DIGITS);
		if (d < 1 || d > 3 || s[i + 1 + d] != '\0')
			return false;
	} else if (s[i] != '\0')
		return false;
	return strspn(s, "0.") != strlen(s);
}

/* {"kind":"ACCOUNT","account","required"} or with "contract_amount" and
 * "rate" (percent) instead of "required". NULL with why set. */
static json_t *
account_payload(json_t *b, json_t *p, char *why, size_t whylen)
{
	const char	*account = field(b, "account"), *rate = field(b, "rate");

	if (!util_matches(account, 1, 34, ALNUM "-"))
		return snprintf(why, whylen, "account must be the guarantee "
		    "account's number, 1 to 34 letters, digits or '-'"), NULL;
	json_object_set_new(p, "account", json_string(account));
	if (json_object_get(b, "required") != NULL) {
		if (!amount_into(b, "required", p))
			return snprintf(why, whylen, "required must be "
			    AMOUNT_HINT), NULL;
	} else if (rate == NULL || !rate_ok(rate) ||
	    !amount_into(b, "contract_amount", p))
		return snprintf(why, whylen, "a guarantee account needs "
		    "required (%s), or contract_amount and rate (the "
		    "province's percentage, e.g. \"2.5\")", AMOUNT_HINT), NULL;
	if (rate != NULL && json_object_get(b, "required") == NULL)
		json_object_set_new(p, "rate", json_string(rate));
	return p;
}

/* {"kind":"LETTER","issuer","number","amount","valid_from","valid_to"},
 * "required" optional (default: the letter's amount). */
static json_t *
letter_payload(json_t *b, json_t *p, char *why, size_t whylen)
{
	const char	*issuer = field(b, "issuer"), *number = field(b, "number");
	const char	*from = field(b, "valid_from"), *to = field(b, "valid_to");

	if (!util_text_ok(issuer, 200))
		return snprintf(why, whylen, "issuer must be the issuing "
		    "bank's name, 1 to 200 characters"), NULL;
	if (!util_text_ok(number, 64))
		return snprintf(why, whylen, "number must be the letter's "
		    "number, 1 to 64 characters"), NULL;
	if (!amount_into(b, "amount", p))
		return snprintf(why, whylen, "amount must be " AMOUNT_HINT),
		    NULL;
	if (!date_form(from, 10) || !date_form(to, 10))
		return snprintf(why, whylen, "valid_from and valid_to must be "
		    "dates YYYY-MM-DD"), NULL;
	if (json_object_get(b, "required") != NULL &&
	    !amount_into(b, "required", p))
		return snprintf(why, whylen, "required must be " AMOUNT_HINT),
		    NULL;
	json_object_set_new(p, "issuer", json_string(issuer));
	json_object_set_new(p, "number", json_string(number));
	json_object_set_new(p, "valid_from", json_string(from));
	json_object_set_new(p, "valid_to", json_string(to));
	return p;
}

/* POST /api/projects/{code}/guarantee: the guarantee account or letter,
 * with the top-up period in force ([rules] guarantee_topup_days) kept in
 * the proposal so that maker, checker and the rule count the same days. */
void
guaranteeapi_register(struct console_call *c)
{
	const char	*kind = field(c->body, "kind");
	json_t		*p;
	char		 why[240];

	p = json_pack("{s:s, s:s, s:i}", "code", c->arg, "kind",
	    kind != NULL ? kind : "", "topup_days",
	    wpd->conf->guarantee_topup_days);
	if (p == NULL) {
		jsonreply_error(c->p, 500, "out of memory");
		return;
	}
	if (kind != NULL && strcmp(kind, "ACCOUNT") == 0) {
		if (account_payload(c->body, p, why, sizeof(why)) == NULL)
			goto bad;
	} else if (kind != NULL && strcmp(kind, "LETTER") == 0) {
		if (letter_payload(c->body, p, why, sizeof(why)) == NULL)
			goto bad;
	} else {
		snprintf(why, sizeof(why), "kind must be ACCOUNT (a guarantee "
		    "account at this bank) or LETTER (a bank guarantee letter)");
		goto bad;
	}
	consoleapi_propose(c, "GUARANTEE", p);
	return;
bad:
	json_decref(p);
	jsonreply_error(c->p, 400, why);
}

/* The draw's lines, checked in form: each {"id_number","amount","month"}. */
static json_t *
draw_lines(json_t *lines, char *why, size_t whylen)
{
	json_t		*out, *l, *o;
	size_t		 i;
	const char	*idn, *month;
	char		 ix[PII_INDEX_LEN + 1];

	if (!json_is_array(lines) || json_array_size(lines) < 1 ||
	    json_array_size(lines) > MAX_LINES)
		return snprintf(why, whylen, "lines must be an array of 1 to "
		    "%d workers: {\"id_number\",\"amount\",\"month\"}",
		    MAX_LINES), NULL;
	if ((out = json_array()) == NULL)
		return snprintf(why, whylen, "out of memory"), NULL;
	json_array_foreach(lines, i, l) {
		idn = field(l, "id_number");
		month = field(l, "month");
		if ((o = json_object()) == NULL ||
		    json_array_append_new(out, o) == -1)
			goto oom;
		if (idn == NULL || !ids_resident_id_valid(idn)) {
			snprintf(why, whylen, "line %zu: id_number must be an "
			    "18-digit resident ID number with a valid check "
			    "digit", i + 1);
			goto fail;
		}
		if (!amount_into(l, "amount", o)) {
			snprintf(why, whylen, "line %zu: amount must be "
			    AMOUNT_HINT, i + 1);
			goto fail;
		}
		if (!date_form(month, 7)) {
			snprintf(why, whylen, "line %zu: month must be YYYY-MM, "
			    "the month of the unpaid wages", i + 1);
			goto fail;
		}
		/* with keys (032) the worker is found by the ID's index */
		json_object_set_new(o, "id_number", json_string(
		    piikeys_index(PII_IDN, idn, ix)));
		json_object_set_new(o, "month", json_string(month));
	}
	return out;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	json_decref(out);
	return NULL;
}

/* POST /api/projects/{code}/guarantee/draws {"decision_no","lines"}: HRSS's
 * decision; the database checks every line against the roster, the months
 * paid and drawn, and what the guarantee can cover. */
void
guaranteeapi_draw(struct console_call *c)
{
	const char	*decision = field(c->body, "decision_no");
	json_t		*lines;
	char		 why[200];

	if (!util_text_ok(decision, 64)) {
		jsonreply_error(c->p, 400, "decision_no must be HRSS's "
		    "decision number, 1 to 64 characters");
		return;
	}
	if ((lines = draw_lines(json_object_get(c->body, "lines"), why,
	    sizeof(why))) == NULL) {
		jsonreply_error(c->p, 400, why);
		return;
	}
	consoleapi_propose(c, "GUARANTEE_DRAW", json_pack("{s:s, s:s, s:o}",
	    "code", c->arg, "decision_no", decision, "lines", lines));
}

/* POST /api/projects/{code}/guarantee/release {"notice_no"} */
void
guaranteeapi_release(struct console_call *c)
{
	const char	*notice = field(c->body, "notice_no");

	if (!util_text_ok(notice, 64)) {
		jsonreply_error(c->p, 400, "notice_no must be HRSS's release "
		    "notice number, 1 to 64 characters");
		return;
	}
	consoleapi_propose(c, "GUARANTEE_RELEASE", json_pack("{s:s, s:s}",
	    "code", c->arg, "notice_no", notice));
}
