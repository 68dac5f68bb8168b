/*
 * jsonreply.c: the answers of the console's JSON API and the database calls
 * its handlers (session.c, consoleapi.c) share: a JSON body, an error as
 * {"error": ...}, a failed database call as 503 or 500, a query whose
 * failure to be sent is answered 503.
 *
 * Owns nothing: each answer frees its struct pending. Must not log a
 * password, a session token, or a worker's data (the database's own error
 * text may carry them: it is logged only for 500s, which no operator input
 * can cause by design).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon.h"
#include "log.h"

#define JSON_CTYPE	"application/json; charset=utf-8"

/* Sends j (consumed) as the answer. */
void
jsonreply_send(struct pending *p, int status, json_t *j)
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

void
jsonreply_error(struct pending *p, int status, const char *msg)
{
	jsonreply_send(p, status, json_pack("{s:s}", "error", msg));
}

/* An error answered before a pending request exists. */
void
jsonreply_plain_error(struct evhttp_request *req, int status, const char *msg)
{
	json_t	*j = json_pack("{s:s}", "error", msg);
	char	*s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	http_reply(req, status, JSON_CTYPE, s, s ? strlen(s) : 0);
	free(s);
}

/* True (and answered) if the database call failed. */
bool
jsonreply_db_failed(struct console_call *c, PGresult *res, const char *error,
    const char *what)
{
	if (res == NULL) {
		log_warnx("console %s: database: %s", what, error);
		pending_unavailable(c->p);
		return true;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("console %s: database refused: %s", what,
		    db_error(res));
		jsonreply_error(c->p, 500,
		    "internal error; nothing was changed");
		return true;
	}
	return false;
}

void
jsonreply_query(struct console_call *c, const char *sql, int n,
    const char *const *v, db_cb *cb)
{
	if (db_query(wpd->db, sql, n, v, cb, c) == -1)
		pending_unavailable(c->p);
}
