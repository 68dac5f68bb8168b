/*
 * session.c: the console's operators signing in and out, and the gate
 * every other /api/ call passes, session_gate(): a state-changing call
 * whose Origin (or Sec-Fetch-Site) says another site is refused, the
 * session cookie is looked up in the database, and the role is checked
 * against what the call needs (console.c's routes say what that is).
 *
 * Owns the sign-in counters of /metrics. The sign-in throttle is counted
 * in the database (wp_signin_failed, schema/functions/console.sql), so that every instance
 * sees the same failures.
 * The session token lives only in the operator's cookie: the database
 * keeps its SHA-256. A sign-in needs the password and the operator's
 * current TOTP code (totp.c; accepted once: wp_session_open). Must not log
 * a password, a code, a TOTP secret or a session token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "daemon.h"
#include "log.h"

#define COOKIE_NAME	"wp_session"
#define SESSION_SECS	(8 * 3600)
#define SESSION_IDLE_SECS	(30 * 60)	/* without a request: ended */
#define THROTTLE_FAILS	5		/* failures before 429 */
#define THROTTLE_SECS	(15 * 60)	/* window and lock-out */
#define API_BODY_MAX	(64 * 1024)

/* Sign-in outcomes since start, by enum signin_outcome, for /metrics. */
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
	if (jsonreply_db_failed(c, res, error, "session"))
		return;
	if (PQntuples(res) != 1) {
		jsonreply_error(c->p, 401,
		    "not signed in, or the session expired");
		return;
	}
	c->op_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(c->op_name, sizeof(c->op_name), "%s", PQgetvalue(res, 0, 1));
	snprintf(c->op_role, sizeof(c->op_role), "%s", PQgetvalue(res, 0, 2));
	if (!role_allows(c->need, c->op_role)) {
		log_info("console: operator %s (%s) refused a call that needs "
		    "another role", c->op_name, c->op_role);
		jsonreply_error(c->p, 403, "your role may not do this");
		return;
	}
	c->next(c);
}

/*
 * Authenticates, authorises and then runs next with arg (a path parameter)
 * and arg2 (a query parameter) copied into the call; answers the error
 * itself. A POST's body must be a JSON object.
 */
void
session_gate(struct evhttp_request *req, enum need need, const char *arg,
    const char *arg2, console_next *next)
{
	struct console_call	*c;
	char			 token[65];
	const char		*body;
	size_t			 len;
	json_error_t		 jerr;
	const char		*params[2];
	char			 idle[16];

	if (!origin_ok(req)) {
		jsonreply_plain_error(req, 403, "cross-site request refused "
		    "(Origin is not this console)");
		return;
	}
	if (!cookie_token(req, token)) {
		jsonreply_plain_error(req, 401, "not signed in");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		if (http_body(req, API_BODY_MAX, &body, &len) == -1) {
			free(c);
			jsonreply_plain_error(req, 413, "body too large");
			return;
		}
		if ((c->body = json_loadb(body, len, JSON_REJECT_DUPLICATES,
		    &jerr)) == NULL || !json_is_object(c->body)) {
			call_free(c);
			jsonreply_plain_error(req, 400,
			    "body must be a JSON object");
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
	snprintf(idle, sizeof(idle), "%d", SESSION_IDLE_SECS);
	params[0] = c->token_hex;
	params[1] = idle;
	/* a session lives 8 hours from sign-in, and ends sooner after
	 * SESSION_IDLE_SECS without a request; each request it passes
	 * counts as one (wp_session_touch, schema/functions/operators.sql) */
	jsonreply_query(c, "SELECT id, name, role FROM wp_session_touch("
	    "decode($1, 'hex'), $2::int)", 2, params, gate_cb);
}

/* --- sign-in ---------------------------------------------------------- */

struct signin {
	struct pending	*p;
	char		 name[65];
	char		*password;	/* owned; wiped when freed */
	char		 code[8];	/* the TOTP code, "" if none sent */
	char		 token[65];	/* wiped when freed */
	char		*uri;		/* owned: an enrolment's otpauth:// URI */
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
	explicit_bzero(s->code, sizeof(s->code));
	if (s->uri != NULL) {
		explicit_bzero(s->uri, strlen(s->uri));
		free(s->uri);
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
		    db_error(res));
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	/* the code's time step was not after the last one accepted, or the
	 * factor was reset meanwhile: a code signs in once */
	if (PQgetisnull(res, 0, 0)) {
		signins[SIGNIN_REFUSED]++;
		log_warnx("console: sign-in for %s refused: its second-factor "
		    "code was already used (a replay?)", s->name);
		jsonreply_error(s->p, 401, "that code was already used: wait "
		    "for the next one and sign in again");
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
	jsonreply_send(s->p, 200, json_pack("{s:s, s:s}", "name", s->name,
	    "role", PQgetvalue(res, 0, 0)));
}

/* The count of a failed sign-in is in, with whether it locked the name:
 * only now the 401, so that a client's next try sees its last one. */
static void
failure_counted_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct signin	*s = arg;

	(void)unknown;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1)
		log_warnx("console: a failed sign-in for %s was not counted: %s",
		    s->name, res == NULL ? error : db_error(res));
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		log_warnx("console: sign-in for %s locked for %d minutes after "
		    "%d failures", s->name, THROTTLE_SECS / 60, THROTTLE_FAILS);
	jsonreply_error(s->p, 401, "wrong name, password or code");
}

/*
 * Counts a failed sign-in in the database, where every instance counts,
 * then answers 401; wp_signin_failed (schema/functions/console.sql) also puts an existing
 * operator's failure, and the lock it may cause, into the audit trail.
 */
static void
signin_count_failure(struct signin *s, bool known)
{
	char		 fails[16], secs[16];
	const char	*params[4];

	snprintf(fails, sizeof(fails), "%d", THROTTLE_FAILS);
	snprintf(secs, sizeof(secs), "%d", THROTTLE_SECS);
	params[0] = s->name;
	params[1] = fails;
	params[2] = secs;
	params[3] = known ? "true" : "false";
	if (db_query(wpd->db, "SELECT wp_signin_failed($1, $2::int, $3::int, "
	    "$4::boolean)", 4, params, failure_counted_cb, s) == -1) {
		log_warnx("console: a failed sign-in for %s was not counted",
		    s->name);
		jsonreply_error(s->p, 401, "wrong name, password or code");
	}
}

/* An enrolment stored (wp_totp_enrol): the operator gets the new factor
 * and signs in again with its code. */
static void
enrolled_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct signin	*s = arg;

	(void)unknown;
	if (res == NULL) {
		log_warnx("console sign-in: database: %s", error);
		pending_unavailable(s->p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		jsonreply_error(s->p, 401, "a second factor was enrolled for "
		    "this operator meanwhile: sign in with its code");
		return;
	}
	log_info("console: operator %s enrolled a new second factor at "
	    "sign-in", s->name);
	jsonreply_send(s->p, 401, json_pack("{s:s, s:s}", "error", "no second "
	    "factor yet: add this one to an authenticator app, then sign in "
	    "again with its code", "otpauth", s->uri));
}

/* The password was right and the operator has no second factor (a
 * checker approved its reset, or it predates 031): one is made now and
 * stored if there still is none. */
static void
signin_enrol(struct signin *s, const char *id)
{
	unsigned char	 secret[TOTP_SECRET_LEN];
	char		 sealed[TOTP_BLOB_HEX + 1];
	const char	*params[2];

	if (totp_secret_new(secret) == -1 ||
	    totp_seal(wpd->totp_key, s->name, secret, sealed) == -1 ||
	    (s->uri = totp_uri(s->name, secret)) == NULL) {
		explicit_bzero(secret, sizeof(secret));
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	explicit_bzero(secret, sizeof(secret));
	params[0] = id;
	params[1] = sealed;
	if (db_query(wpd->db, "SELECT wp_totp_enrol($1::bigint, decode($2, "
	    "'hex'))", 2, params, enrolled_cb, s) == -1)
		pending_unavailable(s->p);
}

/*
 * The password was right: the code must be right for the operator's
 * secret (sealed, col 3 of the lookup), and its time step not used before
 * (wp_session_open refuses a replay). Then the session is stored.
 */
static void
signin_second_factor(struct signin *s, PGresult *res)
{
	unsigned char	 secret[TOTP_SECRET_LEN], rnd[32];
	char		 hash_hex[2 * SHA256_DIGEST_LENGTH + 1], step_s[24];
	char		 idle[16], life[16];
	const char	*params[6];
	long long	 step;
	int		 bad;

	if (PQgetisnull(res, 0, 3)) {
		signin_enrol(s, PQgetvalue(res, 0, 0));
		return;
	}
	if (totp_open(wpd->totp_key, s->name, PQgetvalue(res, 0, 3),
	    secret) == -1) {
		log_warnx("console: the second factor of operator %s does not "
		    "open under [console] totp_key (another key file?); it "
		    "cannot sign in", s->name);
		jsonreply_error(s->p, 500, "your second factor could not be "
		    "checked: tell the administrator");
		return;
	}
	bad = totp_check(secret, s->code, time(NULL), &step);
	explicit_bzero(secret, sizeof(secret));
	if (bad) {
		signins[SIGNIN_REFUSED]++;
		log_info("console: failed sign-in for %s (second factor)",
		    s->name);
		signin_count_failure(s, true);
		return;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	util_hex(rnd, sizeof(rnd), s->token);
	explicit_bzero(rnd, sizeof(rnd));
	token_hash_hex(s->token, hash_hex);
	snprintf(step_s, sizeof(step_s), "%lld", step);
	snprintf(idle, sizeof(idle), "%d", SESSION_IDLE_SECS);
	snprintf(life, sizeof(life), "%d", SESSION_SECS);
	params[0] = hash_hex;
	params[1] = PQgetvalue(res, 0, 0);
	params[2] = PQgetvalue(res, 0, 3);
	params[3] = step_s;
	params[4] = idle;
	params[5] = life;
	if (db_query(wpd->db, "SELECT wp_session_open(decode($1, 'hex'), "
	    "$2::bigint, $3::bytea, $4::bigint, $5::int, $6::int)", 6, params,
	    session_stored_cb, s) == -1)
		pending_unavailable(s->p);
}

static void
signin_lookup_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct signin	*s = arg;
	char		 retry[16];
	bool		 ok, known;

	(void)unknown;
	if (res == NULL) {
		log_warnx("console sign-in: database: %s", error);
		pending_unavailable(s->p);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pending_reply(s->p, 500, NULL, NULL, 0);
		return;
	}
	/* locked, known name or not: no password is even looked at */
	if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		signins[SIGNIN_THROTTLED]++;
		snprintf(retry, sizeof(retry), "%d", THROTTLE_SECS);
		if (s->p->req != NULL)
			evhttp_add_header(evhttp_request_get_output_headers(
			    s->p->req), "Retry-After", retry);
		jsonreply_error(s->p, 429, "too many failed sign-ins for "
		    "this name; try again later");
		return;
	}
	known = !PQgetisnull(res, 0, 0);
	if (known)
		ok = operator_password_verify(s->password, PQgetvalue(res, 0, 1));
	else {
		/* the same work for an unknown name, so timing tells nothing */
		(void)operator_password_verify(s->password, "scrypt$16384$8$1$"
		    "00000000000000000000000000000000$"
		    "0000000000000000000000000000000000000000000000000000000000000000");
		ok = false;
	}
	if (!ok) {
		signins[SIGNIN_REFUSED]++;
		log_info("console: failed sign-in for %s", s->name);
		signin_count_failure(s, known);
		return;
	}
	signin_second_factor(s, res);
}

void
session_signin(struct evhttp_request *req)
{
	const char	*body, *name, *password, *code;
	size_t		 len;
	json_t		*j;
	json_error_t	 jerr;
	struct signin	*s;
	const char	*params[1];

	if (!origin_ok(req)) {
		jsonreply_plain_error(req, 403, "cross-site request refused");
		return;
	}
	if (http_body(req, API_BODY_MAX, &body, &len) == -1 ||
	    (j = json_loadb(body, len, 0, &jerr)) == NULL) {
		jsonreply_plain_error(req, 400,
		    "body must be {\"name\":…,\"password\":…}");
		return;
	}
	name = json_string_value(json_object_get(j, "name"));
	password = json_string_value(json_object_get(j, "password"));
	code = json_string_value(json_object_get(j, "code"));
	if (name == NULL || password == NULL || strlen(name) == 0 ||
	    strlen(name) > 64 || strlen(password) > 1024 ||
	    (json_object_get(j, "code") != NULL && code == NULL)) {
		json_decref(j);
		jsonreply_plain_error(req, 400, "body must be {\"name\":…,"
		    "\"password\":…,\"code\":\"123456\"} (code: the "
		    "authenticator app's, a string)");
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
	/* a longer one is wrong anyway: cut, it fails the check */
	snprintf(s->code, sizeof(s->code), "%s", code != NULL ? code : "");
	json_decref(j);
	s->p->data = s;
	s->p->free_fn = signin_free;
	params[0] = s->name;
	/* one row whatever the name: the operator (or NULLs), whether the
	 * name is locked (signin_throttle), the sealed TOTP secret */
	if (db_query(wpd->db, "SELECT id, password_hash, locked, totp_secret "
	    "FROM wp_signin_lookup($1)", 1, params, signin_lookup_cb, s) == -1)
		pending_unavailable(s->p);
}

static void
signout_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct console_call	*c = arg;

	(void)unknown;
	if (jsonreply_db_failed(c, res, error, "sign-out"))
		return;
	if (c->p->req != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(c->p->req),
		    "Set-Cookie", COOKIE_NAME "=; Path=/; HttpOnly; Secure; "
		    "SameSite=Strict; Max-Age=0");
	log_info("console: operator %s signed out", c->op_name);
	jsonreply_send(c->p, 200, json_pack("{s:b}", "signed_out", 1));
}

void
session_signout(struct console_call *c)
{
	const char	*params[1] = { c->token_hex };

	jsonreply_query(c, "SELECT wp_console_signout(decode($1, 'hex'))", 1,
	    params, signout_cb);
}

/* GET /api/session: who is signed in (the page asks on load). */
void
session_get(struct console_call *c)
{
	jsonreply_send(c->p, 200, json_pack("{s:s, s:s}", "name",
	    c->op_name, "role", c->op_role));
}

uint64_t
session_signins(enum signin_outcome outcome)
{
	return signins[outcome];
}
