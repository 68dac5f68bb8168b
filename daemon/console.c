/*
 * console.c: the operations console's JSON API under /api/, /healthz and
 * /metrics (the web page itself is page.c).
 *
 * Every /api/ call but sign-in goes through one gate, console_gate(): the
 * session cookie is looked up in the database, the role is checked against
 * what the call needs, and a state-changing call whose Origin is not the
 * console's own is refused. Four eyes is enforced by the database
 * (wp_approval_decide refuses the maker); this file only routes and
 * validates. Owns the sign-in throttle table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "daemon.h"
#include "ids.h"
#include "log.h"
#include "money.h"

#define JSON_CTYPE	"application/json; charset=utf-8"
#define COOKIE_NAME	"wp_session"
#define SESSION_SECS	(8 * 3600)
#define THROTTLE_FAILS	5		/* failures before 429 */
#define THROTTLE_SECS	(15 * 60)	/* window and lock-out */
#define THROTTLE_SLOTS	1024
#define API_BODY_MAX	(64 * 1024)

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_MAKER, ROLE_CHECKER, ROLE_ADMIN };

struct console_call;
typedef void console_next(struct console_call *);

/* One console request on its way through the gate and the database. */
struct console_call {
	struct pending	*p;
	json_t		*body;		/* parsed JSON body, or NULL */
	char		 arg[128];	/* path parameter */
	long long	 op_id;		/* the signed-in operator */
	char		 op_name[65];
	enum role	 op_role;
	enum role	 need;		/* the least role the call needs */
	bool		 checker_only;	/* approvals: checker or admin */
	console_next	*next;
	char		 token_hex[2 * SHA256_DIGEST_LENGTH + 1];
};

/* Sign-in throttle: failures per operator name, in this process. */
struct throttle {
	char	name[65];
	int	fails;
	time_t	first;
	time_t	locked_until;
};
static struct throttle	throttle[THROTTLE_SLOTS];

static void
call_free(void *arg)
{
	struct console_call	*c = arg;

	if (c == NULL)
		return;
	json_decref(c->body);
	free(c);
}

static void
reply_json(struct pending *p, int status, json_t *j)
{
	char	*s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (s == NULL) {
		pending_reply(p, 500, NULL, NULL, 0);
		return;
	}
	pending_reply(p, status, JSON_CTYPE, s, strlen(s));
	free(s);
}

static void
reply_error(struct pending *p, int status, const char *msg)
{
	reply_json(p, status, json_pack("{s:s}", "error", msg));
}

static void
plain_error(struct evhttp_request *req, int status, const char *msg)
{
	json_t	*j = json_pack("{s:s}", "error", msg);
	char	*s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	http_reply(req, status, JSON_CTYPE, s, s ? strlen(s) : 0);
	free(s);
}

static bool
db_failed(struct console_call *c, PGresult *res, const char *error,
    const char *what)
{
	if (res == NULL) {
		log_warnx("console %s: database: %s", what, error);
		pending_unavailable(c->p);
		return true;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("console %s: database refused: %s", what,
		    PQresultErrorMessage(res));
		reply_error(c->p, 500, "internal error; nothing was changed");
		return true;
	}
	return false;
}

static void
query(struct console_call *c, const char *sql, int n, const char *const *v,
    db_cb *cb)
{
	if (db_query(wpd->db, sql, n, v, cb, c) == -1)
		pending_unavailable(c->p);
}

static enum role
role_parse(const char *s)
{
	if (strcmp(s, "viewer") == 0) return ROLE_VIEWER;
	if (strcmp(s, "maker") == 0) return ROLE_MAKER;
	if (strcmp(s, "checker") == 0) return ROLE_CHECKER;
	if (strcmp(s, "admin") == 0) return ROLE_ADMIN;
	return ROLE_NONE;
}

/* --- the gate --------------------------------------------------------- */

static bool
cookie_token(struct evhttp_request *req, char out[65])
{
	const char	*h = evhttp_find_header(evhttp_request_get_input_headers(req),
			    "Cookie");
	const char	*p;
	size_t		 n;

	if (h == NULL)
		return false;
	for (p = h; (p = strstr(p, COOKIE_NAME "=")) != NULL; p++) {
		if (p != h && p[-1] != ' ' && p[-1] != ';')
			continue;
		p += strlen(COOKIE_NAME "=");
		n = strspn(p, "0123456789abcdef");
		if (n != 64)
			return false;
		memcpy(out, p, 64);
		out[64] = '\0';
		return true;
	}
	return false;
}

static void
token_hash_hex(const char *token, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char	h[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, strlen(token), h);
	util_hex(h, sizeof(h), out);
}

/* A state-changing call from a page of another origin is refused. Scripts
 * send no Origin; browsers always do on POST and DELETE. */
static bool
origin_ok(struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	const char		*origin = evhttp_find_header(h, "Origin");
	const char		*host = evhttp_find_header(h, "Host");
	char			 want[300];

	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		return true;
	if (origin == NULL)
		return true;
	if (host == NULL)
		return false;
	snprintf(want, sizeof(want), "https://%s", host);
	return strcmp(origin, want) == 0;
}

static void
gate_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;

	(void)unknown;
	if (db_failed(c, res, error, "session"))
		return;
	if (PQntuples(res) != 1) {
		reply_error(c->p, 401, "not signed in, or the session expired");
		return;
	}
	c->op_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(c->op_name, sizeof(c->op_name), "%s", PQgetvalue(res, 0, 1));
	c->op_role = role_parse(PQgetvalue(res, 0, 2));
	if (c->op_role < c->need || (c->checker_only &&
	    c->op_role != ROLE_CHECKER && c->op_role != ROLE_ADMIN) ||
	    (c->need == ROLE_MAKER && c->op_role == ROLE_CHECKER)) {
		log_info("console: operator %s (%s) refused a call that needs "
		    "another role", c->op_name, PQgetvalue(res, 0, 2));
		reply_error(c->p, 403, "your role may not do this");
		return;
	}
	c->next(c);
}

/* Authenticates, authorises and then runs next; answers the error itself. */
static void
console_gate(struct evhttp_request *req, enum role need, bool checker_only,
    const char *arg, console_next *next)
{
	struct console_call	*c;
	char			 token[65];
	const char		*body;
	size_t			 len;
	json_error_t		 jerr;
	const char		*params[1];

	if (!origin_ok(req)) {
		plain_error(req, 403, "cross-site request refused (Origin is "
		    "not this console)");
		return;
	}
	if (!cookie_token(req, token)) {
		plain_error(req, 401, "not signed in");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		if (http_body(req, API_BODY_MAX, &body, &len) == -1) {
			free(c);
			plain_error(req, 413, "body too large");
			return;
		}
		if ((c->body = json_loadb(body, len, JSON_REJECT_DUPLICATES,
		    &jerr)) == NULL || !json_is_object(c->body)) {
			call_free(c);
			plain_error(req, 400, "body must be a JSON object");
			return;
		}
	}
	snprintf(c->arg, sizeof(c->arg), "%s", arg ? arg : "");
	c->need = need;
	c->checker_only = checker_only;
	c->next = next;
	token_hash_hex(token, c->token_hex);
	if ((c->p = pending_new(req)) == NULL) {
		call_free(c);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	c->p->data = c;
	c->p->free_fn = call_free;
	params[0] = c->token_hex;
	query(c, "SELECT o.id, o.name, o.role FROM operator_session s "
	    "JOIN operator o ON o.id = s.operator_id WHERE s.token_hash = "
	    "decode($1, 'hex') AND s.expires_at > now() AND NOT o.disabled",
	    1, params, gate_cb);
}

/* --- sign-in ---------------------------------------------------------- */

static struct throttle *
throttle_find(const char *name, bool create)
{
	size_t		 i, oldest = 0;

	for (i = 0; i < THROTTLE_SLOTS; i++) {
		if (strcmp(throttle[i].name, name) == 0)
			return &throttle[i];
		if (throttle[i].first < throttle[oldest].first)
			oldest = i;
	}
	if (!create)
		return NULL;
	memset(&throttle[oldest], 0, sizeof(throttle[oldest]));
	snprintf(throttle[oldest].name, sizeof(throttle[oldest].name), "%s",
	    name);
	return &throttle[oldest];
}

static bool
throttled(const char *name)
{
	struct throttle	*t = throttle_find(name, false);

	return t != NULL && t->locked_until > time(NULL);
}

static void
throttle_fail(const char *name)
{
	struct throttle	*t = throttle_find(name, true);
	time_t		 now = time(NULL);

	if (now - t->first > THROTTLE_SECS) {
		t->first = now;
		t->fails = 0;
	}
	if (++t->fails >= THROTTLE_FAILS) {
		t->locked_until = now + THROTTLE_SECS;
		log_warnx("console: sign-in for %s locked for %d minutes after "
		    "%d failures", name, THROTTLE_SECS / 60, t->fails);
	}
}

struct signin {
	struct pending	*p;
	char		 name[65];
	char		*password;
	char		 token[65];
};

static void
signin_free(void *arg)
{
	struct signin	*s = arg;

	if (s == NULL)
		return;
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
}

static void
session_stored_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct signin	*s = arg;
	char		 cookie[200];

	(void)unknown;
	if (res == NULL) {
		log_warnx("console sign-in: database: %s", error);
		pending_unavailable(s->p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_warnx("console sign-in: could not store the session: %s",
		    PQresultErrorMessage(res));
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	if (s->p->req != NULL) {
		snprintf(cookie, sizeof(cookie), COOKIE_NAME "=%s; Path=/; "
		    "HttpOnly; Secure; SameSite=Strict; Max-Age=%d", s->token,
		    SESSION_SECS);
		evhttp_add_header(evhttp_request_get_output_headers(s->p->req),
		    "Set-Cookie", cookie);
	}
	log_info("console: operator %s signed in", s->name);
	{
		json_t	*j = json_pack("{s:s, s:s}", "name", s->name, "role",
		    PQgetvalue(res, 0, 0));
		char	*out = j ? json_dumps(j, JSON_COMPACT) : NULL;

		json_decref(j);
		pending_reply(s->p, 200, JSON_CTYPE, out, out ? strlen(out) : 0);
		free(out);
	}
}

static void
signin_lookup_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct signin	*s = arg;
	unsigned char	 rnd[32];
	char		 hash_hex[2 * SHA256_DIGEST_LENGTH + 1], id[24];
	const char	*params[3];
	bool		 ok;

	(void)unknown;
	if (res == NULL) {
		log_warnx("console sign-in: database: %s", error);
		pending_unavailable(s->p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	if (PQntuples(res) == 1)
		ok = password_verify(s->password, PQgetvalue(res, 0, 1));
	else {
		/* the same work for an unknown name, so timing tells nothing */
		(void)password_verify(s->password, "scrypt$16384$8$1$"
		    "00000000000000000000000000000000$"
		    "0000000000000000000000000000000000000000000000000000000000000000");
		ok = false;
	}
	if (!ok) {
		throttle_fail(s->name);
		log_info("console: failed sign-in for %s", s->name);
		{
			json_t	*j = json_pack("{s:s}", "error",
			    "wrong name or password");
			char	*out = j ? json_dumps(j, JSON_COMPACT) : NULL;

			json_decref(j);
			pending_reply(s->p, 401, JSON_CTYPE, out,
			    out ? strlen(out) : 0);
			free(out);
		}
		return;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	util_hex(rnd, sizeof(rnd), s->token);
	token_hash_hex(s->token, hash_hex);
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	params[0] = hash_hex;
	params[1] = id;
	params[2] = s->name;
	if (db_query(wpd->db, "WITH s AS (INSERT INTO operator_session "
	    "(token_hash, operator_id, expires_at) VALUES (decode($1, 'hex'), "
	    "$2::bigint, now() + interval '" "8 hours" "') RETURNING operator_id), "
	    "a AS (SELECT wp_audit_append('operator:' || $3, 'session.signin', "
	    "'operator:' || $3, '')) SELECT o.role FROM operator o, s, a "
	    "WHERE o.id = s.operator_id", 3, params, session_stored_cb, s) == -1)
		pending_unavailable(s->p);
}

static void
signin(struct evhttp_request *req)
{
	const char	*body, *name, *password;
	size_t		 len;
	json_t		*j;
	json_error_t	 jerr;
	struct signin	*s;
	const char	*params[1];

	if (!origin_ok(req)) {
		plain_error(req, 403, "cross-site request refused");
		return;
	}
	if (http_body(req, API_BODY_MAX, &body, &len) == -1 ||
	    (j = json_loadb(body, len, 0, &jerr)) == NULL) {
		plain_error(req, 400, "body must be {\"name\":…,\"password\":…}");
		return;
	}
	name = json_string_value(json_object_get(j, "name"));
	password = json_string_value(json_object_get(j, "password"));
	if (name == NULL || password == NULL || strlen(name) == 0 ||
	    strlen(name) > 64 || strlen(password) > 1024) {
		json_decref(j);
		plain_error(req, 400, "body must be {\"name\":…,\"password\":…}");
		return;
	}
	if (throttled(name)) {
		json_decref(j);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "900");
		plain_error(req, 429, "too many failed sign-ins for this name; "
		    "try again later");
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->password = strdup(password)) == NULL ||
	    (s->p = pending_new(req)) == NULL) {
		signin_free(s);
		json_decref(j);
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	json_decref(j);
	s->p->data = s;
	s->p->free_fn = signin_free;
	params[0] = s->name;
	if (db_query(wpd->db, "SELECT id, password_hash FROM operator WHERE "
	    "name = $1 AND NOT disabled", 1, params, signin_lookup_cb, s) == -1)
		pending_unavailable(s->p);
}

static void
signout_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;

	(void)unknown;
	if (res == NULL) {
		log_warnx("console sign-out: database: %s", error);
		pending_unavailable(c->p);
		return;
	}
	if (c->p->req != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(c->p->req),
		    "Set-Cookie", COOKIE_NAME "=; Path=/; HttpOnly; Secure; "
		    "SameSite=Strict; Max-Age=0");
	reply_json(c->p, 200, json_pack("{s:b}", "signed_out", 1));
}

static void
signout(struct console_call *c)
{
	const char	*params[1] = { c->token_hex };

	query(c, "DELETE FROM operator_session WHERE token_hash = "
	    "decode($1, 'hex')", 1, params, signout_cb);
}

/* --- projects and approvals ------------------------------------------- */

static bool
matches(const char *s, size_t min, size_t max, const char *charset)
{
	size_t	n;

	if (s == NULL)
		return false;
	n = strlen(s);
	return n >= min && n <= max && strspn(s, charset) == n;
}

#define DIGITS	"0123456789"
#define ALNUM	DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

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
	if (name == NULL || strlen(name) == 0 || strlen(name) > 200) {
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

	if (!matches(code, 1, 64, ALNUM "._-") || !isalnum((unsigned char)code[0]))
		return snprintf(why, whylen, "code must be 1 to 64 letters, "
		    "digits, '.', '_' or '-'"), NULL;
	if (name == NULL || strlen(name) == 0 || strlen(name) > 200)
		return snprintf(why, whylen, "name must be 1 to 200 characters"),
		    NULL;
	if (!matches(region, 6, 6, DIGITS))
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
	if (!matches(account, 1, 34, ALNUM "-"))
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
	    !matches(start, 7, 7, DIGITS "-") || atoi(start + 5) < 1 ||
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
	if (db_failed(c, res, error, "proposal"))
		return;
	if (PQgetisnull(res, 0, 0)) {
		reply_error(c->p, 409, "that project or account number already "
		    "exists: a project has exactly one dedicated account");
		return;
	}
	log_info("console: operator %s proposed approval %s", c->op_name,
	    PQgetvalue(res, 0, 0));
	reply_json(c->p, 200, json_pack("{s:I}", "approval",
	    (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
}

static void
project_propose(struct console_call *c)
{
	json_t		*payload;
	char		 why[200], *s, id[24];
	const char	*params[2];

	if ((payload = project_payload(c->body, why, sizeof(why))) == NULL) {
		reply_error(c->p, 400, why);
		return;
	}
	s = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	if (s == NULL) {
		reply_error(c->p, 500, "out of memory");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->op_id);
	params[0] = s;
	params[1] = id;
	query(c, "SELECT wp_approval_propose('OPEN_ACCOUNT', $1::jsonb, "
	    "$2::bigint)", 2, params, proposed_cb);
	free(s);
}

static void
decided_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	const char		*state, *outcome;
	json_t			*j;
	json_error_t		 jerr;

	(void)unknown;
	if (db_failed(c, res, error, "approval"))
		return;
	state = PQgetvalue(res, 0, 0);
	outcome = PQgetvalue(res, 0, 1);
	if (strcmp(state, "NOT_FOUND") == 0) {
		reply_error(c->p, 404, "no such approval");
		return;
	}
	if (strcmp(state, "SAME_OPERATOR") == 0) {
		reply_error(c->p, 403, outcome);
		return;
	}
	if (strncmp(outcome, "already decided", 15) == 0) {
		reply_error(c->p, 409, outcome);
		return;
	}
	log_info("console: operator %s decided approval %s: %s", c->op_name,
	    c->arg, state);
	j = json_loads(PQgetvalue(res, 0, 2), 0, &jerr);
	reply_json(c->p, 200, j);
}

static void
approval_decide(struct console_call *c)
{
	const char	*decision = str_field(c->body, "decision");
	const char	*params[3];
	char		 id[24];

	if (decision == NULL || (strcmp(decision, "approve") != 0 &&
	    strcmp(decision, "reject") != 0)) {
		reply_error(c->p, 400, "decision must be \"approve\" or \"reject\"");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->op_id);
	params[0] = c->arg;
	params[1] = id;
	params[2] = decision;
	query(c, "SELECT d.state, d.outcome, wp_approval_json($1::bigint) "
	    "FROM wp_approval_decide($1::bigint, $2::bigint, $3) d", 3, params,
	    decided_cb);
}

static void
json_row_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	const char		*s;

	(void)unknown;
	if (db_failed(c, res, error, "read"))
		return;
	if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0)) {
		reply_error(c->p, 404, "not found");
		return;
	}
	s = PQgetvalue(res, 0, 0);
	pending_reply(c->p, 200, JSON_CTYPE, s, strlen(s));
}

static void
project_get(struct console_call *c)
{
	const char	*params[1] = { c->arg };

	query(c, "SELECT wp_project_json($1)", 1, params, json_row_cb);
}

static void
audit_verify(struct console_call *c)
{
	query(c, "SELECT json_strip_nulls(row_to_json(v)) FROM wp_audit_verify() v",
	    0, NULL, json_row_cb);
}

/* --- health and metrics ----------------------------------------------- */

static void
health_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct pending	*p = arg;

	(void)unknown;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (res == NULL)
			log_debug("healthz: %s", error);
		pending_unavailable(p);
		return;
	}
	pending_reply(p, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static void
healthz(struct evhttp_request *req)
{
	struct pending	*p;

	if (!db_available(wpd->db)) {
		http_unavailable(req);
		return;
	}
	if ((p = pending_new(req)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if (db_query(wpd->db, "SELECT 1", 0, NULL, health_cb, p) == -1)
		pending_unavailable(p);
}

static void
metrics(struct evhttp_request *req)
{
	struct evbuffer	*b = evbuffer_new();
	static const char *const names[] = { "ACSC", "PART", "RJCT", "PDNG",
	    "REFUSED" };
	size_t		 i, len;
	char		*out;

	if (b == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	evbuffer_add_printf(b, "# HELP wagepay_sheets_total Sheets decided "
	    "since start, by pain.002 group status (REFUSED: before the "
	    "database).\n# TYPE wagepay_sheets_total counter\n");
	for (i = 0; i < 5; i++)
		evbuffer_add_printf(b, "wagepay_sheets_total{status=\"%s\"} %llu\n",
		    names[i], (unsigned long long)wpd->sheets_by_state[i]);
	evbuffer_add_printf(b, "# HELP wagepay_db_up Whether a database "
	    "connection is up.\n# TYPE wagepay_db_up gauge\nwagepay_db_up %d\n",
	    db_available(wpd->db) ? 1 : 0);
	evbuffer_add_printf(b, "# HELP wagepay_db_backlog Database requests "
	    "queued or in flight.\n# TYPE wagepay_db_backlog gauge\n"
	    "wagepay_db_backlog %d\n", db_backlog(wpd->db));
	evbuffer_add_printf(b, "# HELP wagepay_db_errors_total Database calls "
	    "that failed.\n# TYPE wagepay_db_errors_total counter\n"
	    "wagepay_db_errors_total %llu\n",
	    (unsigned long long)wpd->db_errors);
	len = evbuffer_get_length(b);
	out = malloc(len + 1);
	if (out != NULL) {
		evbuffer_remove(b, out, len);
		http_reply(req, 200, "text/plain; version=0.0.4", out, len);
		free(out);
	} else
		http_reply(req, 500, NULL, NULL, 0);
	evbuffer_free(b);
}

/* --- routing ---------------------------------------------------------- */

void
console_route(struct evhttp_request *req, void *arg)
{
	char			 path[512];
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	const char		*rest;

	(void)arg;
	if (http_path(req, path, sizeof(path)) == -1) {
		plain_error(req, 404, "no such resource");
		return;
	}
	if (strcmp(path, "/healthz") == 0 && cmd == EVHTTP_REQ_GET)
		return healthz(req);
	if (strcmp(path, "/metrics") == 0 && cmd == EVHTTP_REQ_GET)
		return metrics(req);
	if (strcmp(path, "/api/session") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			return signin(req);
		if (cmd == EVHTTP_REQ_DELETE)
			return console_gate(req, ROLE_VIEWER, false, NULL, signout);
	}
	if (strcmp(path, "/api/projects") == 0 && cmd == EVHTTP_REQ_POST)
		return console_gate(req, ROLE_MAKER, false, NULL, project_propose);
	if (strncmp(path, "/api/projects/", 14) == 0 && cmd == EVHTTP_REQ_GET &&
	    strchr(path + 14, '/') == NULL && path[14] != '\0')
		return console_gate(req, ROLE_VIEWER, false, path + 14, project_get);
	if (strncmp(path, "/api/approvals/", 15) == 0 && cmd == EVHTTP_REQ_POST) {
		rest = path + 15;
		if (matches(rest, 1, 18, DIGITS))
			return console_gate(req, ROLE_CHECKER, true, rest,
			    approval_decide);
	}
	if (strcmp(path, "/api/audit/verify") == 0 && cmd == EVHTTP_REQ_GET)
		return console_gate(req, ROLE_VIEWER, false, NULL, audit_verify);
	if (console_page(req, path))
		return;
	plain_error(req, 404, "no such resource");
}
