/*
 * daemon.h: the daemon's internals, one section per file (smtpd.h pattern).
 * Nothing here crosses into proto/.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <libpq-fe.h>

#include "config.h"
#include "wagepay.h"
#include "db.h"

/* A sheet body larger than this (about 10,000 lines) is read on the bulk
 * worker, at this niceness. */
#define BULK_BYTES	(8u * 1024u * 1024u)
#define BULK_NICE	10

struct schemas;
struct sigtrust;
struct signer;

/* The one process-wide context, owned by main.c. */
struct wpd {
	struct event_base	*base;
	struct config		*conf;
	struct db		*db;
	struct schemas		*schemas;
	struct workers		*workers;	/* CPU-heavy intake off the loop */
	struct workers		*bulk;		/* the same for sheets over
						 * BULK_BYTES, one thread, nice */
	struct signer		*bank;		/* [signing] bank_cert, bank_key */
	struct pii_keys		*pii;		/* [security] keys, NULL: in clear
						 * (piikeys.c); fixed from start-up */
	unsigned char		 totp_key[32];	/* [console] totp_key (totp.c) */
	struct listener		*contractor;
	struct listener		*core;
	struct listener		*console;
	bool			 draining;
	/* counters for /metrics */
	uint64_t		 sheets_by_state[5];	/* indexed by enum sheet_metric */
	uint64_t		 lines_paid;
	int64_t			 amount_paid;		/* fen */
	uint64_t		 db_errors;
};

enum sheet_metric {
	METRIC_ACSC, METRIC_PART, METRIC_RJCT, METRIC_PDNG, METRIC_REFUSED
};

extern struct wpd *wpd;

/* tls.c */
/* A server context: TLS 1.2+, and with client_ca a client certificate is
 * required (VERIFY_PEER | FAIL_IF_NO_PEER_CERT). NULL with err set. */
SSL_CTX	*tls_server_ctx(const char *cert, const char *key, const char *client_ca,
	    struct perr *err);
/* A client context for outbound calls (alerts): verifies the server against
 * ca, presents cert/key. */
SSL_CTX	*tls_client_ctx(const char *ca, const char *cert, const char *key,
	    struct perr *err);
/* Copies the peer certificate's subject serialNumber (a USCC) into out;
 * -1 if there is no verified peer certificate or no serialNumber. */
int	 tls_peer_uscc(SSL *ssl, char out[WP_USCC_LEN]) WUR;
struct peerpin;
/* True if the peer's certificate verified and is the pinned one (any
 * verified one when pin is NULL). who gets the certificate that spoke,
 * "SUBJECT sha256:HEX" (RFC 4514 subject), or "" when there is none. */
bool	 tls_peer_pinned(SSL *ssl, const struct peerpin *pin, char *who,
	    size_t len);
/* 1 if a CA certificate of the PEM file other chains to one of the PEM file
 * trusted (the same one, or issued under it): trusted, as a client CA,
 * would accept what other's CAs issue. 0 if none does; -1 with err set if a
 * file cannot be read. */
int	 tls_ca_shared(const char *trusted, const char *other,
	    struct perr *err) WUR;
/* Copies the verified peer certificate's subject (RFC 2253, UTF-8, cut to
 * subjectlen - 1 bytes) and its SHA-256 fingerprint ("sha256:" and 64 lower
 * case hex digits; fingerprintlen >= 72); -1 if there is none. */
int	 tls_peer_cert(SSL *ssl, char *subject, size_t subjectlen,
	    char *fingerprint, size_t fingerprintlen) WUR;

/* listener.c: TLS listeners and their limits. */
struct listener;
typedef void listener_route(struct evhttp_request *, void *arg);

/* Binds "host:port" with TLS from ctx (the listener owns ctx) and routes every
 * request to route. NULL with err set. */
struct listener	*listener_new(struct event_base *, const char *name,
		    const char *listen, SSL_CTX *ctx, listener_route *route,
		    void *arg, struct perr *err);
void		 listener_free(struct listener *);
/* Replaces the TLS context for new connections (SIGHUP). */
void		 listener_set_ctx(struct listener *, SSL_CTX *ctx);
/* Stops accepting new connections (SIGTERM drain). */
void		 listener_close(struct listener *);

/* pending.c: a request waiting for the database. If the client goes away first, req
 * becomes NULL and the answer is dropped (the work is still committed or
 * not, and a retry with the same id is answered from the database). */
struct pending {
	struct evhttp_request	*req;
	char			 peer[WP_USCC_LEN];	/* client certificate's USCC */
	void			*data;		/* the handler's, freed by its free_fn */
	void			(*free_fn)(void *);
};

struct pending	*pending_new(struct evhttp_request *);
void		 pending_free(struct pending *);
/* Sends the answer (body may be NULL) and frees p. */
void		 pending_reply(struct pending *, int status, const char *ctype,
		    const char *body, size_t len);
/* Sends 503 with Retry-After (database unreachable) and frees p. */
void		 pending_unavailable(struct pending *);
/* 503 with Retry-After for an error PostgreSQL gets over by itself (disk
 * full, out of memory, restarting): true if it answered so. */
struct pg_result;
bool		 pending_db_transient(struct pending *, const struct pg_result *,
		    const char *what, const char *ref);

/* http.c: one request's reply, body, path, method and peer. */
void		 http_reply(struct evhttp_request *, int status, const char *ctype,
		    const char *body, size_t len);
/* 503 with Retry-After. */
void		 http_unavailable(struct evhttp_request *);
/* The request body as a NUL-terminated string in *body (pointer into the
 * evbuffer, valid until the reply), for a document read whole as a tree;
 * -1 if larger than max or than WP_MAX_TREE. */
int		 http_body(struct evhttp_request *, size_t max, const char **body,
		    size_t *len) WUR;
/* The verified client certificate's USCC, or -1. */
int		 http_peer_uscc(struct evhttp_request *, char out[WP_USCC_LEN]) WUR;
/* tls_peer_pinned for the request's connection. */
bool		 http_peer_pinned(struct evhttp_request *,
		    const struct peerpin *pin, char *who, size_t len);
/* The verified client certificate's subject and fingerprint (tls_peer_cert),
 * or -1. */
int		 http_peer_cert(struct evhttp_request *, char *subject,
		    size_t subjectlen, char *fingerprint, size_t fingerprintlen) WUR;
/* True if the request's target (path or query) encodes a NUL byte, %00:
 * decoded, it would cut a string short, so the listener refuses it (400). */
bool		 http_target_nul(struct evhttp_request *);
/* Path without the query, copied into buf; -1 if too long. */
int		 http_path(struct evhttp_request *, char *buf, size_t len) WUR;
const char	*http_method_name(struct evhttp_request *);

/* contractor.c: routes the contractor API by path and checks identity. */
void	contractor_route(struct evhttp_request *, void *arg);

/* sheetapi.c */
void	sheetapi_submit(struct evhttp_request *, const char *contractor);
/* Installs the subcontractor signature trust store (owned from now on);
 * the one it replaces is freed when no worker uses it any more. NULL
 * releases the current one. */
void	sheetapi_status(struct evhttp_request *, const char *contractor,
	    const char *msg_id);
/* POST /v1/sheets/{MsgId}/cancel: a held sheet withdrawn (wp_sheet_cancel):
 * 200 CANC, 409 with the current report for a sheet not held, 403, 404. */
void	sheetapi_cancel(struct evhttp_request *, const char *contractor,
	    const char *msg_id);

/* rosterapi.c */
void	rosterapi_post(struct evhttp_request *, const char *contractor,
	    const char *project);
void	rosterapi_get(struct evhttp_request *, const char *contractor,
	    const char *project);

/* core.c */
void	core_route(struct evhttp_request *, void *arg);

/* console.c: the console listener's router; what its handlers share
 * (struct console_call here, the answers in jsonreply.c). */
void	console_route(struct evhttp_request *, void *arg);

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

/* jsonreply.c: the console handlers' JSON answers and database calls. */
/* Sends j (consumed; NULL answers 500) as the JSON answer and frees p. */
void	jsonreply_send(struct pending *p, int status, json_t *j);
/* Sends {"error": msg} and frees p. */
void	jsonreply_error(struct pending *p, int status, const char *msg);
/* {"error": msg}, for a request that has no struct pending yet. */
void	jsonreply_plain_error(struct evhttp_request *, int status,
	    const char *msg);
/* True if the database call failed, and then the request is answered:
 * 503 if the database did not answer, 500 if it refused. what names the
 * call in the log. */
bool	jsonreply_db_failed(struct console_call *, PGresult *res,
	    const char *error, const char *what);
/* Sends sql with n parameters v; cb gets the call. 503 if it cannot be
 * sent. */
void	jsonreply_query(struct console_call *, const char *sql, int n,
	    const char *const *v, db_cb *cb);

/* session.c: sign-in, sign-out, and the gate of every other /api/ call. */
/* Authenticates, authorises and then runs next with arg (a path parameter)
 * and arg2 (a query parameter) copied into the call; answers the error
 * itself. A POST's body must be a JSON object. */
void	session_gate(struct evhttp_request *, enum need need, const char *arg,
	    const char *arg2, console_next *next);
/* POST /api/session {"name","password"}: sets the session cookie. */
void	session_signin(struct evhttp_request *);
/* DELETE /api/session: ends the caller's session, clears the cookie. */
void	session_signout(struct console_call *);
/* GET /api/session: who is signed in. */
void	session_get(struct console_call *);
/* Sign-in outcomes since start, for /metrics. */
enum signin_outcome { SIGNIN_OK, SIGNIN_REFUSED, SIGNIN_THROTTLED, SIGNIN_N };
uint64_t session_signins(enum signin_outcome);

/* consoleapi.c: the JSON API behind the gate; each answers the call. */
/* GET /api/overview, /api/projects?q=, /api/projects/{code},
 * /api/sheets/{id}?offset=, /api/alerts?state=, /api/approvals?state=,
 * /api/audit?before=, /api/audit/verify */
void	consoleapi_overview_get(struct console_call *);
void	consoleapi_projects_get(struct console_call *);
void	consoleapi_project_get(struct console_call *);
void	consoleapi_sheet_get(struct console_call *);
void	consoleapi_sheet_csv_get(struct console_call *);
void	consoleapi_alerts_get(struct console_call *);
void	consoleapi_approvals_get(struct console_call *);
void	consoleapi_audit_get(struct console_call *);
void	consoleapi_audit_verify(struct console_call *);
void	consoleapi_worker_cards_get(struct console_call *);
void	consoleapi_worker_payments_get(struct console_call *);
/* GET /api/platforms; POST /api/platforms/{name}/replay (maker) */
void	consoleapi_platforms_get(struct console_call *);
void	consoleapi_replay_propose(struct console_call *);
/* POST /api/projects, /api/projects/{code}/close, /api/movements,
 * /api/approvals/{id}, /api/alerts/{uuid}/retry */
void	consoleapi_project_propose(struct console_call *);
void	consoleapi_close_propose(struct console_call *);
void	consoleapi_factor_reset_propose(struct console_call *);
void	consoleapi_movement_propose(struct console_call *);
void	consoleapi_complete_propose(struct console_call *);
void	consoleapi_approval_decide(struct console_call *);
void	consoleapi_alert_retry(struct console_call *);
/* A maker's proposal of kind with payload (consumed) through
 * wp_console_propose_json: answers {"approval":ID}, or 409 with the
 * refusal. */
void	consoleapi_propose(struct console_call *, const char *kind,
	    json_t *payload);

/* guaranteeapi.c: the wage guarantee's proposals (issue #21). POST
 * /api/projects/{code}/guarantee, .../guarantee/draws,
 * .../guarantee/release; each answers the call. */
void	guaranteeapi_register(struct console_call *);
void	guaranteeapi_draw(struct console_call *);
void	guaranteeapi_release(struct console_call *);

/* metrics.c: the console listener's GET /healthz and GET /metrics. */
void	metrics_healthz(struct evhttp_request *);
void	metrics_get(struct evhttp_request *);

/* page.c: serves the console's web page; false if path is not one of its
 * files. */
bool	page_serve(struct evhttp_request *, const char *path);

/* piikeys.c: the [security] key files, and personal data opened or
 * indexed on the loop thread */
struct pii_keys;
struct pii_clear;
enum pii_field;
/* The keys of [security] (NULL and no error when none is configured);
 * a key file readable by group or others, or not 64 hex digits, is
 * refused: NULL with err (WP90) naming the file. The caller owns them. */
struct pii_keys	*piikeys_load(const struct config *, struct perr *);
/* value's blind index into out (19 bytes), or value itself without keys:
 * what the SQL compares with. */
const char	*piikeys_index(enum pii_field, const char *value, char *out);
/* Opens a sealed record given as hex (the functions' encode(pii, 'hex')).
 * -1 with err (WP90): no keys, bad hex, an unknown key, a forged record. */
int		 piikeys_open_hex(const char *hex, struct pii_clear *,
		    struct perr *) WUR;
/* The clear name and card of a sealed record (hex), strdup'd into *name
 * and *card (either may be NULL: not wanted); the caller frees them. */
int		 piikeys_open_dup(const char *hex, char **name, char **card,
		    struct perr *) WUR;
/* The same with a context of the caller's (off the loop: --migrate). */
struct pii_ctx;
int		 piikeys_open_hex_ctx(struct pii_ctx *, const char *hex,
		    struct pii_clear *, struct perr *) WUR;
/* Seals the three fields under the data key, as hex into hex (len bytes;
 * 2 * PII_SEAL_MAX + 1 fit any). -1 with err without keys or on failure. */
int		 piikeys_seal_hex(const char *idn, const char *name,
		    const char *card, char *hex, size_t len, struct perr *) WUR;
/* The index key's id as the database must record it (pii_keyring), or
 * NULL without keys. */
const char	*piikeys_index_id(void);

/* piiconvert.c: --migrate's conversion of a database in clear, --rotate-key,
 * and the start-up check of the keys against the database (blocking, before
 * the loop). Each returns 0, or -1 having logged why. */
int	 piiconvert_migrate(const char *dsn, const struct pii_keys *);
int	 piiconvert_rotate(const char *dsn, const struct pii_keys *,
	    const char *newkey);
int	 piiconvert_check(const char *dsn, const struct pii_keys *);
/* The same on the loop, for a database that was down at start-up: fatal
 * when the keys do not fit it. */
void	 piiconvert_check_queue(void);

/* sheettrust.c: the sheets' signature trust store, reference-counted on the
 * loop thread. sheettrust_set installs a new one (or none) and takes it;
 * sheettrust_hold returns the current one held for a job (NULL if none),
 * sheettrust_release lets go of it. */
struct sheettrust;
void	sheettrust_set(struct sigtrust *);
struct sheettrust *sheettrust_hold(void);
void	sheettrust_release(struct sheettrust *);
struct sigtrust *sheettrust_sig(const struct sheettrust *);

/* migrate.c: the schema compiled into the binary (schema/migrations/,
 * schema/functions/). migrate_run applies the pending migrations and every
 * functions file in one transaction (blocking; before the loop), as the
 * schema's owner (migrate_dsn, else dsn), and then grants the daemon's role
 * (dsn's user, when migrate_dsn is set) only what it needs: 0, or -1
 * with the error logged and nothing changed. migrate_check compares what the
 * database recorded with this binary's schema (blocking): -1, logged, if
 * they differ; 0 if they are the same or the database could not be reached,
 * *reached telling which. migrate_check_result compares the answer to
 * migrate_check_sql(): 0, or -1 with the difference in why. */
int	migrate_run(const char *dsn, const char *migrate_dsn);
int	migrate_check(const char *dsn, bool *reached);
const char *migrate_check_sql(void);
int	migrate_check_result(PGresult *, char *why, size_t len);

/* operator.c */
/* Hashes a password with scrypt into a self-describing string
 * "scrypt$N$r$p$salt_hex$hash_hex" (malloc'd), NULL on failure. */
char	*operator_password_hash(const char *password);
bool	 operator_password_verify(const char *password, const char *stored);
/* --add-operator: blocking, before the loop. Stores the operator with a
 * new second factor sealed under key, and prints its otpauth:// URI on
 * standard output (and a QR code when that is a terminal). */
int	 operator_add(const char *dsn, const unsigned char *key,
	    const char *name, const char *role, const char *password);

/* totp.c: operators' second factor (RFC 6238 via liboath), the secret
 * sealed with AES-256-GCM under [console] totp_key. All return 0 or -1. */
#define TOTP_KEY_LEN	32
#define TOTP_SECRET_LEN	20
#define TOTP_BLOB_LEN	(1 + 12 + TOTP_SECRET_LEN + 16)
#define TOTP_BLOB_HEX	(2 * TOTP_BLOB_LEN)
/* Reads a key file: 64 hexadecimal digits; err names the file. */
/* Whether [console] totp_key was set (without it, secrets are stored
 * unsealed: API.md names no such key; the daemon warns at start). */
bool	 totp_key_set(const unsigned char key[32]);
int	 totp_key_load(const char *path, unsigned char key[TOTP_KEY_LEN],
	    struct perr *err) WUR;
int	 totp_secret_new(unsigned char secret[TOTP_SECRET_LEN]) WUR;
/* Seals a secret for the operator name, as hexadecimal for decode($1,'hex'). */
int	 totp_seal(const unsigned char key[TOTP_KEY_LEN], const char *name,
	    const unsigned char secret[TOTP_SECRET_LEN],
	    char hex[TOTP_BLOB_HEX + 1]) WUR;
/* Opens what totp_seal made (as bytea text, \x... or bare hex); -1 when it
 * is not the name's or not under this key. */
int	 totp_open(const unsigned char key[TOTP_KEY_LEN], const char *name,
	    const char *stored, unsigned char secret[TOTP_SECRET_LEN]) WUR;
/* 0 and the code's time step when code is valid at now (a step either
 * side); replays are the database's to refuse (wp_session_open). */
int	 totp_check(const unsigned char secret[TOTP_SECRET_LEN],
	    const char *code, time_t now, long long *step) WUR;
/* The otpauth://totp/ URI (malloc'd), NULL on failure. */
char	*totp_uri(const char *name, const unsigned char secret[TOTP_SECRET_LEN]);
void	 totp_qr_print(FILE *out, const char *uri);

/* report.c: the pain.002 answers of the contractor API. */
/* Builds a pain.002 from wp_sheet_submit/wp_sheet_status/wp_sheet_cancel
 * rows; sets *status to the HTTP status (403 FORBIDDEN, 409 CONFLICT or
 * NOT_HELD, else 200) and *outcome to the first row's outcome. */
char	*report_from_rows(PGresult *res, const char *orig_msg_id, int *status,
	    char *outcome, size_t outcome_len, size_t *len);
/* A RJCT pain.002 for a sheet refused before the database (FF01, WP3x). */
char	*report_refused(const char *orig_msg_id, const struct perr *err,
	    size_t *len);
void	 report_count_outcome(const char *xml);

/* workers.c: a fixed pool of threads for CPU-heavy work. work() runs on a
 * worker and must touch nothing shared and mutable; done() runs afterwards
 * on the loop thread. */
struct workers;
struct workers	*workers_new(struct event_base *, int nthreads, int nice);
int		 workers_submit(struct workers *, void (*work)(void *),
		    void (*done)(void *), void *arg) WUR;
int		 workers_backlog(struct workers *);	/* done() not yet run */
void		 workers_free(struct workers *);

/* util.c */
/* Formats now as an ISO dateTime with offset into buf (>= 32 bytes). */
void	 util_now_iso(char *buf, size_t len);
/* Lower-case hex of len bytes into out (2*len+1). */
void	 util_hex(const unsigned char *in, size_t len, char *out);
/* A fresh identifier for our own messages: prefix + time + random. */
void	 util_message_id(const char *prefix, char *out, size_t len);
/* True if s is min..max bytes, every one of them in charset. */
bool	 util_matches(const char *s, size_t min, size_t max,
	    const char *charset);
/* The integer in environment variable name, def when unset; out of
 * min..max or not a number: def, with a warning naming it. */
int	 util_env_int(const char *name, int def, int min, int max);
/* Free text of 1..max characters (UTF-8, not bytes), no control
 * characters. */
bool	 util_text_ok(const char *s, size_t max);

/* watchdog.c: systemd's watchdog and the database latency probe. */
struct evbuffer;
/* Starts the probe timer and, when systemd asked for a watchdog
 * (WATCHDOG_USEC), WATCHDOG=1 pings at half its interval. -1 if a timer
 * could not be made. */
int	watchdog_start(struct event_base *) WUR;
/* Frees the timers (before the event base). */
void	watchdog_stop(void);
/* Appends the probe's Prometheus families (wagepay_db_latency_*) to b. */
void	watchdog_metrics(struct evbuffer *b);

/* clock.c: "now" for the day-based rules and the legal orders' current
 * month; WAGEPAY_CLOCK (an ISO dateTime, tests only) moves it. Money is
 * always stamped by the database's clock. */
int	 clock_init(void) WUR;		/* -1: WAGEPAY_CLOCK is not a dateTime */
void	 clock_now_iso(char *buf, size_t len);	/* ...+08:00, >= 32 bytes */
void	 clock_today(char *buf, size_t len);	/* YYYY-MM-DD in China, >= 11 */

/* alerts.c: delivers the alert outbox to the [regulator] recipients. */
/* Starts the delivery loop on base (a poll timer); -1 with err. */
int	 alerts_start(struct event_base *, struct perr *) WUR;
/* Looks for due deliveries now rather than at the next poll. */
void	 alerts_kick(void);
/* Stops: in-flight POSTs are dropped (their lease makes them due again). */
void	 alerts_stop(void);
/* The configured recipients as the SQL routing and rules take them:
 * [{name, region, authority}], malloc'd; NULL on out-of-memory. */
char	*alerts_regulators_json(void);

/* payorders.c: delivers the payment orders of paid sheets to the core's
 * [core] payments_url (none: they wait in the outbox). */
/* Starts the delivery loop on base (a poll timer), delivering with ctx (the
 * payments_ca/cert/key that main.c's load_all loaded and checked; NULL
 * without payments_url), which it owns from now on, even on failure; -1
 * with err. */
int	 payorders_start(struct event_base *, SSL_CTX *ctx, struct perr *) WUR;
/* Installs a reloaded ctx (owned from now on; NULL without payments_url)
 * and frees the one it replaces: POSTs in flight keep their own reference. */
void	 payorders_set_ctx(SSL_CTX *ctx);
/* Looks for due orders now rather than at the next poll. */
/* outbound.c: the one HTTPS client (alerts, payment orders, feeds) */
struct outbound;
struct evdns_base;
/* The end of a POST: the HTTP status, or 0 and why nothing was answered. */
typedef void (*outbound_cb)(int status, const char *error, void *arg);
/* A destination: url (https://host[:port]/path), ctx (a reference is
 * taken: the CA it trusts, the client certificate), a POST's timeout,
 * at most conns_max connections kept open. NULL with err. */
struct outbound *outbound_new(struct event_base *, struct evdns_base *,
	    const char *url, SSL_CTX *ctx, int timeout_secs, int conns_max,
	    struct perr *err);
/* POSTs body (copied) as ctype with the headers (name, value, ...,
 * NULL); cb is called exactly once, from the loop, never from inside this
 * call. -1 (cb never called) only when out of memory or retired. */
int	 outbound_post(struct outbound *, const char *ctype,
	    const char *const *headers, const char *body, size_t len,
	    outbound_cb cb, void *arg);
int	 outbound_inflight(const struct outbound *);
/* No more POSTs; freed once those in flight have ended (each told). */
void	 outbound_retire(struct outbound *);
/* Freed now; no end is told (shutdown). outbound_shutdown: every one. */
void	 outbound_abort(struct outbound *);
void	 outbound_shutdown(void);

/*
 * A sheet just paid, its order sent by the daemon that paid it (no claim):
 * payorders_fresh_new writes the order from the sheet read and the rows of
 * wp_sheet_close (the last, 'O', names the order; 'L' rows the refused
 * lines), NULL when there is none to send (not paid, no payments_url, too
 * many in flight: a claim sends it after its lease); payorders_fresh_send
 * POSTs it once the COMMIT is answered, and frees it; payorders_fresh_free
 * drops it (not committed).
 */
struct payorders_fresh;
struct sheet;
struct payorders_fresh *payorders_fresh_new(PGresult *res, const struct sheet *s);
void	 payorders_fresh_send(struct payorders_fresh *);
void	 payorders_fresh_free(struct payorders_fresh *);
void	 payorders_kick(void);
/* Stops: in-flight POSTs are dropped (their lease makes them due again). */
void	 payorders_stop(void);

/* platform.c: feeds the provincial monitoring platforms ([platform NAME]),
 * each in seq order, a batch at a time, at least once. */
struct platform_set;
/* Loads every [platform] of c: its TLS client context, its signing key (of
 * the kind crypto names, matching sign_cert), its data key; NULL with err
 * naming the platform and the file (for -n, start-up and SIGHUP: all or
 * nothing). The caller owns the set (platform_free, or hands it over). */
struct platform_set *platform_load(const struct config *c, struct perr *err);
void	 platform_free(struct platform_set *);
/* Starts the delivery loop on base with s (owned from now on); -1 with err. */
int	 platform_start(struct event_base *, struct platform_set *s,
	    struct perr *) WUR;
/* Installs a reloaded set (owned from now on): POSTs in flight finish with
 * the one they started with. */
void	 platform_install(struct platform_set *s);
/* Claims now rather than at the next poll. */
void	 platform_kick(void);
/* Stops: in-flight POSTs are dropped (their lease makes them due again). */
void	 platform_stop(void);

/* rules.c: the day-based rules (DEPOSIT_SHORT, WAGES_OVERDUE,
 * ACCOUNTS_OPENED) on a timer, at clock_now(). */
int	 rules_start(struct event_base *, struct perr *) WUR;
void	 rules_stop(void);

/* voucherapi.c: GET /v1/sheets/{MsgId}/voucher */
void	 voucherapi_get(struct evhttp_request *, const char *contractor,
	    const char *msg_id);
/* statementapi.c: GET /v1/accounts/{account}/statement?from=&to= */
void	 statementapi_get(struct evhttp_request *, const char *contractor,
	    const char *account);

#endif
