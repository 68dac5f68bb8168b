/*
 * console.c: the operations console's JSON API under /api/, /healthz and
 * /metrics (the web page itself is page.c).
 *
 * Every /api/ call but sign-in goes through one gate, console_gate(): a
 * state-changing call whose Origin (or Sec-Fetch-Site) says another site is
 * refused, the session cookie is looked up in the database, and the role is
 * checked against what the call needs. Then one SQL call does the work:
 * the reads are schema/005's wp_console_* functions, which answer JSON
 * with ID and card numbers already masked; the proposals and decisions are
 * wp_approval_propose / wp_console_propose / wp_approval_decide, which
 * enforce four eyes and append the audit records. This file routes,
 * validates input and maps outcomes to HTTP; it never builds money figures.
 *
 * Owns the sign-in throttle table and the sign-in counters of /metrics.
 * Must not log a password, a session token, or a worker's data (the
 * database's own error text may carry them: it is logged only for 500s,
 * which no operator input can cause by design).
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
#define REASON_MAX	200		/* characters of a maker's reason */

#define DIGITS	"0123456789"
#define ALNUM	DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define UUIDSET	DIGITS "abcdef-"

/* What a call needs of the operator's role. */
enum need {
	NEED_READ,		/* any role */
	NEED_MAKER,		/* maker or admin: proposals */
	NEED_CHECKER,		/* checker or admin: decisions */
	NEED_OPERATE		/* anyone but a viewer: retries */
};

struct console_call;
typedef void console_next(struct console_call *);

/* One console request on its way through the gate and the database. */
struct console_call {
	struct pending	*p;
	json_t		*body;		/* parsed JSON body, or NULL; owned */
	char		 arg[128];	/* path parameter */
	char		 arg2[128];	/* query parameter, or "" */
	long long	 op_id;		/* the signed-in operator */
	char		 op_name[65];
	char		 op_role[16];
	enum need	 need;
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

/* Sign-in outcomes since start, for /metrics. */
enum signin_outcome { SIGNIN_OK, SIGNIN_REFUSED, SIGNIN_THROTTLED, SIGNIN_N };
static uint64_t		signins[SIGNIN_N];

static void
call_free(void *arg)
{
	struct console_call	*c = arg;

	if (c == NULL)
		return;
	json_decref(c->body);
	free(c);
}

/* Sends j (consumed) as the answer. */
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

/* An error answered before a pending request exists. */
static void
plain_error(struct evhttp_request *req, int status, const char *msg)
{
	json_t	*j = json_pack("{s:s}", "error", msg);
	char	*s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	http_reply(req, status, JSON_CTYPE, s, s ? strlen(s) : 0);
	free(s);
}

/* True (and answered) if the database call failed. */
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

/* "Now" as the day-based rules see it (clock.c), for the plan to date,
 * the months unpaid and the close checks, so that the console and the
 * alerts agree on what is due. */
static void
console_now(char buf[40])
{
	clock_now_iso(buf, 40);
}

static void
query(struct console_call *c, const char *sql, int n, const char *const *v,
    db_cb *cb)
{
	if (db_query(wpd->db, sql, n, v, cb, c) == -1)
		pending_unavailable(c->p);
}

static void
ignore_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)unknown; (void)arg;
	if (res == NULL)
		log_warnx("console: audit record not written: %s", error);
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warnx("console: audit record not written: %s",
		    PQresultErrorMessage(res));
}

static bool
matches(const char *s, size_t min, size_t max, const char *charset)
{
	size_t	n;

	if (s == NULL)
		return false;
	n = strlen(s);
	return n >= min && n <= max && strspn(s, charset) == n;
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

/* Only the token's hash is stored: a copy of the session table signs
 * nobody in. */
static void
token_hash_hex(const char *token, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char	h[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, strlen(token), h);
	util_hex(h, sizeof(h), out);
}

/* A state-changing call from a page of another origin is refused. Scripts
 * send no Origin; browsers send it on every POST and DELETE, and modern
 * ones say Sec-Fetch-Site too, which also covers a browser that left Origin
 * out. GETs change nothing, and the SameSite=Strict cookie does not travel
 * with a cross-site one. */
static bool
origin_ok(struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	const char		*origin = evhttp_find_header(h, "Origin");
	const char		*host = evhttp_find_header(h, "Host");
	const char		*site = evhttp_find_header(h, "Sec-Fetch-Site");
	char			 want[300];

	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		return true;
	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return false;
	if (origin == NULL)
		return true;
	if (host == NULL)
		return false;
	snprintf(want, sizeof(want), "https://%s", host);
	return strcmp(origin, want) == 0;
}

static bool
role_allows(enum need need, const char *role)
{
	bool	admin = strcmp(role, "admin") == 0;

	switch (need) {
	case NEED_READ:
		return admin || strcmp(role, "viewer") == 0 ||
		    strcmp(role, "maker") == 0 || strcmp(role, "checker") == 0;
	case NEED_MAKER:
		return admin || strcmp(role, "maker") == 0;
	case NEED_CHECKER:
		return admin || strcmp(role, "checker") == 0;
	case NEED_OPERATE:
		return admin || strcmp(role, "maker") == 0 ||
		    strcmp(role, "checker") == 0;
	}
	return false;
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
	snprintf(c->op_role, sizeof(c->op_role), "%s", PQgetvalue(res, 0, 2));
	if (!role_allows(c->need, c->op_role)) {
		log_info("console: operator %s (%s) refused a call that needs "
		    "another role", c->op_name, c->op_role);
		reply_error(c->p, 403, "your role may not do this");
		return;
	}
	c->next(c);
}

/*
 * Authenticates, authorises and then runs next with arg (a path parameter)
 * and arg2 (a query parameter) copied into the call; answers the error
 * itself. A POST's body must be a JSON object.
 */
static void
console_gate(struct evhttp_request *req, enum need need, const char *arg,
    const char *arg2, console_next *next)
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
	snprintf(c->arg2, sizeof(c->arg2), "%s", arg2 ? arg2 : "");
	c->need = need;
	c->next = next;
	token_hash_hex(token, c->token_hex);
	explicit_bzero(token, sizeof(token));
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

/* Counts a failure; true if it locked the name. */
static bool
throttle_fail(const char *name)
{
	struct throttle	*t = throttle_find(name, true);
	time_t		 now = time(NULL);

	if (now - t->first > THROTTLE_SECS) {
		t->first = now;
		t->fails = 0;
	}
	if (++t->fails >= THROTTLE_FAILS && t->locked_until <= now) {
		t->locked_until = now + THROTTLE_SECS;
		log_warnx("console: sign-in for %s locked for %d minutes after "
		    "%d failures", name, THROTTLE_SECS / 60, t->fails);
		return true;
	}
	return false;
}

struct signin {
	struct pending	*p;
	char		 name[65];
	char		*password;	/* owned; wiped when freed */
	char		 token[65];	/* wiped when freed */
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
	explicit_bzero(s->token, sizeof(s->token));
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
		explicit_bzero(cookie, sizeof(cookie));
	}
	signins[SIGNIN_OK]++;
	log_info("console: operator %s signed in", s->name);
	reply_json(s->p, 200, json_pack("{s:s, s:s}", "name", s->name, "role",
	    PQgetvalue(res, 0, 0)));
}

static void
signin_lookup_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct signin	*s = arg;
	unsigned char	 rnd[32];
	char		 hash_hex[2 * SHA256_DIGEST_LENGTH + 1], id[24];
	const char	*params[3];
	bool		 ok, locked;

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
		locked = throttle_fail(s->name);
		signins[SIGNIN_REFUSED]++;
		log_info("console: failed sign-in for %s", s->name);
		/* an existing operator's failures go into the audit trail;
		 * unknown names only into the log (strangers could flood it) */
		if (PQntuples(res) == 1) {
			params[0] = s->name;
			params[1] = locked ? "true" : "false";
			if (db_query(wpd->db, "SELECT wp_console_signin_failed($1, "
			    "$2::boolean)", 2, params, ignore_cb, NULL) == -1)
				log_warnx("console: audit record of a failed "
				    "sign-in for %s not written", s->name);
		}
		reply_error(s->p, 401, "wrong name or password");
		return;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	util_hex(rnd, sizeof(rnd), s->token);
	explicit_bzero(rnd, sizeof(rnd));
	token_hash_hex(s->token, hash_hex);
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	params[0] = hash_hex;
	params[1] = id;
	params[2] = s->name;
	/* the same statement drops expired sessions: they sign nobody in
	 * (the gate checks expires_at), and the table stays small */
	if (db_query(wpd->db, "WITH x AS (DELETE FROM operator_session WHERE "
	    "expires_at < now()), s AS (INSERT INTO operator_session "
	    "(token_hash, operator_id, expires_at) VALUES (decode($1, 'hex'), "
	    "$2::bigint, now() + interval '8 hours') RETURNING operator_id), "
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
		signins[SIGNIN_THROTTLED]++;
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
	if (db_failed(c, res, error, "sign-out"))
		return;
	if (c->p->req != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(c->p->req),
		    "Set-Cookie", COOKIE_NAME "=; Path=/; HttpOnly; Secure; "
		    "SameSite=Strict; Max-Age=0");
	log_info("console: operator %s signed out", c->op_name);
	reply_json(c->p, 200, json_pack("{s:b}", "signed_out", 1));
}

static void
signout(struct console_call *c)
{
	const char	*params[1] = { c->token_hex };

	query(c, "SELECT wp_console_signout(decode($1, 'hex'))", 1, params,
	    signout_cb);
}

/* GET /api/session: who is signed in (the page asks on load). */
static void
session_get(struct console_call *c)
{
	reply_json(c->p, 200, json_pack("{s:s, s:s}", "name", c->op_name,
	    "role", c->op_role));
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

/* Free text of 1..max characters (UTF-8, not bytes) without control
 * characters. */
static bool
text_ok(const char *s, size_t max)
{
	size_t		 n = 0;
	const char	*p;

	if (s == NULL || *s == '\0')
		return false;
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
		if (((unsigned char)*p & 0xc0) != 0x80)
			n++;
	}
	return n <= max;
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
	if (!text_ok(name, 200)) {
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
	if (!text_ok(name, 200))
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

/* wp_console_propose_json answers {"approval":ID} or {"refusal":"…"}. */
static void
proposed_json_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	json_t			*j;
	json_error_t		 jerr;
	const char		*refusal;

	(void)unknown;
	if (db_failed(c, res, error, "proposal"))
		return;
	if ((j = json_loads(PQgetvalue(res, 0, 0), 0, &jerr)) == NULL) {
		reply_error(c->p, 500, "internal error");
		return;
	}
	if ((refusal = json_string_value(json_object_get(j, "refusal"))) != NULL) {
		reply_error(c->p, 409, refusal);
		json_decref(j);
		return;
	}
	log_info("console: operator %s proposed approval %lld", c->op_name,
	    (long long)json_integer_value(json_object_get(j, "approval")));
	reply_json(c->p, 200, j);
}

static void
propose(struct console_call *c, const char *kind, json_t *payload)
{
	char		*s, id[24], now[40];
	const char	*params[4];

	s = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	if (s == NULL) {
		reply_error(c->p, 500, "out of memory");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->op_id);
	console_now(now);
	params[0] = kind;
	params[1] = s;
	params[2] = id;
	params[3] = now;
	query(c, "SELECT wp_console_propose_json($1, $2::jsonb, $3::bigint, "
	    "$4::timestamptz)", 4, params, proposed_json_cb);
	free(s);
}

/* POST /api/projects/{code}/close {"reason"} */
static void
close_propose(struct console_call *c)
{
	const char	*reason = str_field(c->body, "reason");

	if (!text_ok(reason, REASON_MAX)) {
		reply_error(c->p, 400, "reason must be 1 to 200 characters: why "
		    "the account closes (e.g. project complete, no wages owed)");
		return;
	}
	propose(c, "CLOSE_ACCOUNT", json_pack("{s:s, s:s}", "code", c->arg,
	    "reason", reason));
}

/* POST /api/movements {"from","to","amount","reason"} */
static void
movement_propose(struct console_call *c)
{
	const char	*from = str_field(c->body, "from");
	const char	*to = str_field(c->body, "to");
	const char	*amount = str_field(c->body, "amount");
	const char	*reason = str_field(c->body, "reason");
	int64_t		 fen;
	char		 yuan[32];

	if (!matches(from, 1, 34, ALNUM "-") || !matches(to, 1, 34, ALNUM "-")) {
		reply_error(c->p, 400, "from and to must be account numbers");
		return;
	}
	if (amount == NULL || money_parse(amount, &fen) == -1 || fen <= 0) {
		reply_error(c->p, 400, "amount must be a positive decimal string "
		    "in yuan with at most 2 decimals, e.g. \"4500.00\"");
		return;
	}
	if (!text_ok(reason, REASON_MAX)) {
		reply_error(c->p, 400, "reason must be 1 to 200 characters: why "
		    "the money moves");
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

/* POST /api/approvals/{id} {"decision"} */
static void
approval_decide(struct console_call *c)
{
	const char	*decision = str_field(c->body, "decision");
	const char	*params[4];
	char		 id[24], now[40];

	if (decision == NULL || (strcmp(decision, "approve") != 0 &&
	    strcmp(decision, "reject") != 0)) {
		reply_error(c->p, 400, "decision must be \"approve\" or \"reject\"");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->op_id);
	console_now(now);
	params[0] = c->arg;
	params[1] = id;
	params[2] = decision;
	params[3] = now;
	query(c, "SELECT d.state, d.outcome, wp_approval_json($1::bigint) "
	    "FROM wp_console_decide($1::bigint, $2::bigint, $3, $4::timestamptz) d",
	    4, params, decided_cb);
}

static void
retried_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;
	const char		*s;

	(void)unknown;
	if (db_failed(c, res, error, "alert retry"))
		return;
	if (PQgetisnull(res, 0, 0)) {
		reply_error(c->p, 404, "no such alert");
		return;
	}
	log_info("console: operator %s asked alert %s to be retried",
	    c->op_name, c->arg);
	alerts_kick();	/* look for due deliveries now, not at the next poll */
	s = PQgetvalue(res, 0, 0);
	pending_reply(c->p, 200, JSON_CTYPE, s, strlen(s));
}

/* POST /api/alerts/{uuid}/retry */
static void
alert_retry(struct console_call *c)
{
	const char	*params[2];
	char		 id[24];

	snprintf(id, sizeof(id), "%lld", c->op_id);
	params[0] = c->arg;
	params[1] = id;
	query(c, "SELECT wp_console_alert_retry($1::uuid, $2::bigint)", 2,
	    params, retried_cb);
}

/* --- reads: one JSON value from one wp_console_* call -------------------- */

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

/* Runs sql with n (0..2) parameters (NULL: SQL NULL) and answers its one
 * JSON value, or 404 if it is NULL. */
static void
read1(struct console_call *c, const char *sql, int n, const char *p1,
    const char *p2)
{
	const char	*params[2] = { p1, p2 };

	query(c, sql, n, params, json_row_cb);
}

static void
overview_get(struct console_call *c)
{
	char	now[40];

	console_now(now);
	read1(c, "SELECT wp_console_overview($1::timestamptz)", 1, now, NULL);
}

static void
projects_get(struct console_call *c)
{
	char	now[40];

	console_now(now);
	read1(c, "SELECT wp_console_projects($1, $2::timestamptz)", 2, c->arg2,
	    now);
}

static void
project_get(struct console_call *c)
{
	char	now[40];

	console_now(now);
	read1(c, "SELECT wp_console_project($1, $2::timestamptz)", 2, c->arg,
	    now);
}

static void
sheet_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_sheet($1::bigint, $2::int)", 2, c->arg,
	    c->arg2[0] ? c->arg2 : "0");
}

static void
alerts_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_alerts($1::boolean)", 1,
	    strcmp(c->arg2, "all") == 0 ? "true" : "false", NULL);
}

static void
approvals_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_approvals($1::boolean)", 1,
	    strcmp(c->arg2, "all") == 0 ? "true" : "false", NULL);
}

static void
audit_get(struct console_call *c)
{
	read1(c, "SELECT wp_console_audit($1::bigint)", 1,
	    c->arg2[0] ? c->arg2 : NULL, NULL);
}

static void
audit_verify(struct console_call *c)
{
	read1(c, "SELECT json_strip_nulls(row_to_json(v)) FROM wp_audit_verify() v",
	    0, NULL, NULL);
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

/* A label value in the exposition format: \, " and newline escaped. */
static void
label_value(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(b, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

static void
family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static long long
jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* The figures only the database knows (j NULL: it did not answer). */
static void
metrics_db(struct evbuffer *b, json_t *j, double secs)
{
	static const char *const states[] = { "received", "rejected", "held",
	    "paid" };
	json_t		*sheets, *alerts, *by;
	const char	*k;
	json_t		*v;
	size_t		 i;

	family(b, "wagepay_metrics_db_up", "gauge", "Whether the database "
	    "answered this scrape (the figures below are absent if not).");
	evbuffer_add_printf(b, "wagepay_metrics_db_up %d\n", j != NULL);
	if (j == NULL)
		return;
	family(b, "wagepay_metrics_query_seconds", "gauge", "Time the "
	    "database took to answer this scrape.");
	evbuffer_add_printf(b, "wagepay_metrics_query_seconds %.6f\n", secs);
	sheets = json_object_get(j, "sheets");
	family(b, "wagepay_sheets", "gauge", "Sheets in the database by "
	    "state (every instance's).");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		evbuffer_add_printf(b, "wagepay_sheets{state=\"%s\"} %lld\n",
		    states[i], jint(sheets, states[i]));
	family(b, "wagepay_lines_paid_total", "counter", "Sheet lines paid "
	    "to workers' cards (every instance's).");
	evbuffer_add_printf(b, "wagepay_lines_paid_total %lld\n",
	    jint(j, "lines_paid"));
	family(b, "wagepay_wages_paid_fen_total", "counter", "Wages paid to "
	    "workers' cards, in fen (1/100 yuan).");
	evbuffer_add_printf(b, "wagepay_wages_paid_fen_total %lld\n",
	    jint(j, "fen_paid"));
	family(b, "wagepay_wages_held_fen", "gauge", "Wages of held sheets "
	    "waiting for funds, in fen.");
	evbuffer_add_printf(b, "wagepay_wages_held_fen %lld\n",
	    jint(j, "fen_held"));
	family(b, "wagepay_dedicated_balance_fen", "gauge", "Sum of the "
	    "dedicated accounts' balances, in fen.");
	evbuffer_add_printf(b, "wagepay_dedicated_balance_fen %lld\n",
	    jint(j, "fen_balance"));
	family(b, "wagepay_accounts_open", "gauge", "Dedicated accounts open.");
	evbuffer_add_printf(b, "wagepay_accounts_open %lld\n",
	    jint(j, "accounts_open"));
	family(b, "wagepay_approvals_pending", "gauge", "Four-eyes proposals "
	    "waiting for a checker.");
	evbuffer_add_printf(b, "wagepay_approvals_pending %lld\n",
	    jint(j, "approvals_pending"));
	alerts = json_object_get(j, "alerts");
	family(b, "wagepay_alerts_undelivered", "gauge", "Alerts not yet "
	    "acknowledged by every recipient.");
	evbuffer_add_printf(b, "wagepay_alerts_undelivered %lld\n",
	    jint(alerts, "count"));
	family(b, "wagepay_alert_backlog", "gauge", "Alert deliveries not yet "
	    "acknowledged, per recipient ('' when no recipient covers the "
	    "project).");
	by = json_object_get(alerts, "by_recipient");
	json_object_foreach(by, k, v) {
		evbuffer_add_printf(b, "wagepay_alert_backlog{recipient=\"");
		label_value(b, k);
		evbuffer_add_printf(b, "\"} %lld\n",
		    (long long)json_integer_value(v));
	}
}

/* Process-wide figures, and the database's when j is not NULL. */
static void
metrics_reply(struct evhttp_request *req, json_t *j, double secs)
{
	struct evbuffer	*b = evbuffer_new();
	static const char *const names[] = { "ACSC", "PART", "RJCT", "PDNG",
	    "REFUSED" };
	static const char *const outcomes[] = { "ok", "refused", "throttled" };
	size_t		 i, len;
	char		*out;

	if (b == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	family(b, "wagepay_sheets_total", "counter", "Sheets this instance "
	    "decided since start, by pain.002 group status (REFUSED: before "
	    "the database).");
	for (i = 0; i < 5; i++)
		evbuffer_add_printf(b, "wagepay_sheets_total{status=\"%s\"} %llu\n",
		    names[i], (unsigned long long)wpd->sheets_by_state[i]);
	family(b, "wagepay_db_up", "gauge", "Whether a database connection "
	    "is up.");
	evbuffer_add_printf(b, "wagepay_db_up %d\n", db_available(wpd->db));
	family(b, "wagepay_db_backlog", "gauge", "Database requests queued or "
	    "in flight.");
	evbuffer_add_printf(b, "wagepay_db_backlog %d\n", db_backlog(wpd->db));
	family(b, "wagepay_db_errors_total", "counter", "Database calls that "
	    "failed.");
	evbuffer_add_printf(b, "wagepay_db_errors_total %llu\n",
	    (unsigned long long)wpd->db_errors);
	family(b, "wagepay_console_signins_total", "counter", "Console "
	    "sign-ins by outcome.");
	for (i = 0; i < SIGNIN_N; i++)
		evbuffer_add_printf(b, "wagepay_console_signins_total"
		    "{outcome=\"%s\"} %llu\n", outcomes[i],
		    (unsigned long long)signins[i]);
	watchdog_metrics(b);
	metrics_db(b, j, secs);
	len = evbuffer_get_length(b);
	if ((out = malloc(len + 1)) != NULL) {
		evbuffer_remove(b, out, len);
		http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
		    out, len);
		free(out);
	} else
		http_reply(req, 500, NULL, NULL, 0);
	evbuffer_free(b);
}

struct scrape {
	struct pending	*p;
	struct timespec	 sent;
};

static void
scrape_free(void *arg)
{
	free(arg);
}

static void
metrics_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct scrape		*s = arg;
	struct timespec		 now;
	struct evhttp_request	*req = s->p->req;
	struct evhttp_connection *conn;
	json_t			*j = NULL;
	json_error_t		 jerr;
	double			 secs;

	(void)unknown;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - s->sent.tv_sec) +
	    (double)(now.tv_nsec - s->sent.tv_nsec) / 1e9;
	if (res == NULL)
		log_debug("metrics: %s", error);
	else if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		j = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
	if (req != NULL) {
		if ((conn = evhttp_request_get_connection(req)) != NULL)
			evhttp_connection_set_closecb(conn, NULL, NULL);
		s->p->req = NULL;
		metrics_reply(req, j, secs);
	}
	json_decref(j);
	pending_free(s->p);
}

/* GET /metrics: one query for the database's figures; without a database
 * the process's own are still served. */
static void
metrics(struct evhttp_request *req)
{
	struct scrape	*s;

	if (!db_available(wpd->db) || (s = calloc(1, sizeof(*s))) == NULL) {
		metrics_reply(req, NULL, 0);
		return;
	}
	if ((s->p = pending_new(req)) == NULL) {
		free(s);
		metrics_reply(req, NULL, 0);
		return;
	}
	s->p->data = s;
	s->p->free_fn = scrape_free;
	clock_gettime(CLOCK_MONOTONIC, &s->sent);
	if (db_query(wpd->db, "SELECT wp_console_metrics()", 0, NULL,
	    metrics_cb, s) == -1) {
		pending_free(s->p);	/* unhooks req, frees s */
		metrics_reply(req, NULL, 0);
	}
}

/* --- routing ---------------------------------------------------------- */

/* The value of query parameter key, copied into buf ("" if absent or too
 * long: every parameter here is short). */
static void
query_param(struct evhttp_request *req, const char *key, char *buf,
    size_t len)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*qs = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq	 kv;
	const char		*v;

	buf[0] = '\0';
	if (qs == NULL || evhttp_parse_query_str(qs, &kv) == -1)
		return;
	if ((v = evhttp_find_header(&kv, key)) != NULL && strlen(v) < len)
		snprintf(buf, len, "%s", v);
	evhttp_clear_headers(&kv);
}

/* path is PREFIX + ARG + SUFFIX with ARG of charset; ARG copied out. */
static bool
path_arg(const char *path, const char *prefix, const char *suffix,
    const char *charset, size_t max, char *arg, size_t arglen)
{
	size_t	pl = strlen(prefix), sl = strlen(suffix), n;

	if (strncmp(path, prefix, pl) != 0)
		return false;
	n = strlen(path + pl);
	if (n < sl + 1 || strcmp(path + pl + n - sl, suffix) != 0)
		return false;
	n -= sl;
	if (n > max || n >= arglen)
		return false;
	memcpy(arg, path + pl, n);
	arg[n] = '\0';
	return strspn(arg, charset) == n;
}

static void
route_get(struct evhttp_request *req, const char *path)
{
	char	arg[128], q[128];

	if (strcmp(path, "/api/session") == 0)
		return console_gate(req, NEED_READ, NULL, NULL, session_get);
	if (strcmp(path, "/api/overview") == 0)
		return console_gate(req, NEED_READ, NULL, NULL, overview_get);
	if (strcmp(path, "/api/projects") == 0) {
		query_param(req, "q", q, sizeof(q));
		return console_gate(req, NEED_READ, NULL, q, projects_get);
	}
	if (path_arg(path, "/api/projects/", "", ALNUM "._-", 64, arg,
	    sizeof(arg)))
		return console_gate(req, NEED_READ, arg, NULL, project_get);
	if (path_arg(path, "/api/sheets/", "", DIGITS, 18, arg, sizeof(arg))) {
		query_param(req, "offset", q, sizeof(q));
		if (!matches(q, 0, 9, DIGITS))
			q[0] = '\0';
		return console_gate(req, NEED_READ, arg, q, sheet_get);
	}
	if (strcmp(path, "/api/alerts") == 0) {
		query_param(req, "state", q, sizeof(q));
		return console_gate(req, NEED_READ, NULL, q, alerts_get);
	}
	if (strcmp(path, "/api/approvals") == 0) {
		query_param(req, "state", q, sizeof(q));
		return console_gate(req, NEED_READ, NULL, q, approvals_get);
	}
	if (strcmp(path, "/api/audit") == 0) {
		query_param(req, "before", q, sizeof(q));
		if (!matches(q, 1, 18, DIGITS))
			q[0] = '\0';
		return console_gate(req, NEED_READ, NULL, q, audit_get);
	}
	if (strcmp(path, "/api/audit/verify") == 0)
		return console_gate(req, NEED_READ, NULL, NULL, audit_verify);
	plain_error(req, 404, "no such resource");
}

static void
route_post(struct evhttp_request *req, const char *path)
{
	char	arg[128];

	if (strcmp(path, "/api/session") == 0)
		return signin(req);
	if (strcmp(path, "/api/projects") == 0)
		return console_gate(req, NEED_MAKER, NULL, NULL, project_propose);
	if (path_arg(path, "/api/projects/", "/close", ALNUM "._-", 64, arg,
	    sizeof(arg)))
		return console_gate(req, NEED_MAKER, arg, NULL, close_propose);
	if (strcmp(path, "/api/movements") == 0)
		return console_gate(req, NEED_MAKER, NULL, NULL,
		    movement_propose);
	if (path_arg(path, "/api/approvals/", "", DIGITS, 18, arg, sizeof(arg)))
		return console_gate(req, NEED_CHECKER, arg, NULL,
		    approval_decide);
	if (path_arg(path, "/api/alerts/", "/retry", UUIDSET, 36, arg,
	    sizeof(arg)) && strlen(arg) == 36)
		return console_gate(req, NEED_OPERATE, arg, NULL, alert_retry);
	plain_error(req, 404, "no such resource");
}

void
console_route(struct evhttp_request *req, void *arg)
{
	char			 path[512];
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	(void)arg;
	if (http_path(req, path, sizeof(path)) == -1) {
		plain_error(req, 404, "no such resource");
		return;
	}
	if (strcmp(path, "/healthz") == 0 && cmd == EVHTTP_REQ_GET)
		return healthz(req);
	if (strcmp(path, "/metrics") == 0 && cmd == EVHTTP_REQ_GET)
		return metrics(req);
	if (strncmp(path, "/api/", 5) == 0) {
		if (cmd == EVHTTP_REQ_GET)
			return route_get(req, path);
		if (cmd == EVHTTP_REQ_POST)
			return route_post(req, path);
		if (cmd == EVHTTP_REQ_DELETE && strcmp(path, "/api/session") == 0)
			return console_gate(req, NEED_READ, NULL, NULL, signout);
		plain_error(req, 405, "method not allowed here");
		return;
	}
	if (cmd == EVHTTP_REQ_GET && console_page(req, path))
		return;
	plain_error(req, 404, "no such resource");
}
