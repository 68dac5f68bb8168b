/*
 * console.c: the operations console's listener: routes /healthz and
 * /metrics (metrics.c), the JSON API under /api/ (session.c, consoleapi.c,
 * guaranteeapi.c)
 * and the web page (page.c). The JSON answers and database calls the
 * console's handlers share are jsonreply.c's.
 *
 * Every /api/ call but sign-in goes through one gate, session_gate() in
 * session.c. The routes below say which role each call needs and which
 * characters each path parameter may hold; a path that matches none is
 * answered 404 before any handler or the database sees it. The handlers
 * validate input and map outcomes to HTTP; one SQL call does the work, and
 * none of them builds money figures.
 *
 * Owns nothing. Must not log a password, a session token, or a worker's
 * data (the database's own error text may carry them: it is logged only
 * for 500s, which no operator input can cause by design).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "daemon.h"
#include "log.h"

#define DIGITS	"0123456789"
#define ALNUM	DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define UUIDSET	DIGITS "abcdef-"
/* a path segment as RFC 3986 allows it (pchar), still percent-encoded */
#define PCHAR	ALNUM "-._~%!$&'()*+,;=:@"

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
		return session_gate(req, NEED_READ, NULL, NULL, session_get);
	if (strcmp(path, "/api/overview") == 0)
		return session_gate(req, NEED_READ, NULL, NULL,
		    consoleapi_overview_get);
	if (strcmp(path, "/api/projects") == 0) {
		query_param(req, "q", q, sizeof(q));
		return session_gate(req, NEED_READ, NULL, q,
		    consoleapi_projects_get);
	}
	if (path_arg(path, "/api/projects/", "", ALNUM "._-", 64, arg,
	    sizeof(arg)))
		return session_gate(req, NEED_READ, arg, NULL,
		    consoleapi_project_get);
	if (path_arg(path, "/api/sheets/", "/lines.csv", PCHAR, 105, arg,
	    sizeof(arg))) {
		/* a MsgId (35 characters, percent-encoded) */
		query_param(req, "contractor", q, sizeof(q));
		return session_gate(req, NEED_READ, arg, q,
		    consoleapi_sheet_csv_get);
	}
	if (path_arg(path, "/api/sheets/", "", DIGITS, 18, arg, sizeof(arg))) {
		query_param(req, "offset", q, sizeof(q));
		if (!util_matches(q, 0, 9, DIGITS))
			q[0] = '\0';
		return session_gate(req, NEED_READ, arg, q,
		    consoleapi_sheet_get);
	}
	if (strcmp(path, "/api/alerts") == 0) {
		query_param(req, "state", q, sizeof(q));
		return session_gate(req, NEED_READ, NULL, q,
		    consoleapi_alerts_get);
	}
	if (strcmp(path, "/api/approvals") == 0) {
		query_param(req, "state", q, sizeof(q));
		return session_gate(req, NEED_READ, NULL, q,
		    consoleapi_approvals_get);
	}
	if (strcmp(path, "/api/audit") == 0) {
		query_param(req, "before", q, sizeof(q));
		if (!util_matches(q, 1, 18, DIGITS))
			q[0] = '\0';
		return session_gate(req, NEED_READ, NULL, q,
		    consoleapi_audit_get);
	}
	if (path_arg(path, "/api/workers/", "/cards", DIGITS "X", 18, arg,
	    sizeof(arg)))
		return session_gate(req, NEED_READ, arg, NULL,
		    consoleapi_worker_cards_get);
	if (path_arg(path, "/api/workers/", "/payments", DIGITS "X", 18, arg,
	    sizeof(arg)))
		return session_gate(req, NEED_READ, arg, NULL,
		    consoleapi_worker_payments_get);
	if (strcmp(path, "/api/audit/verify") == 0)
		return session_gate(req, NEED_READ, NULL, NULL,
		    consoleapi_audit_verify);
	if (strcmp(path, "/api/platforms") == 0)
		return session_gate(req, NEED_READ, NULL, NULL,
		    consoleapi_platforms_get);
	jsonreply_plain_error(req, 404, "no such resource");
}

static void
route_post(struct evhttp_request *req, const char *path)
{
	char	arg[128];

	if (strcmp(path, "/api/session") == 0)
		return session_signin(req);
	if (strcmp(path, "/api/projects") == 0)
		return session_gate(req, NEED_MAKER, NULL, NULL,
		    consoleapi_project_propose);
	if (path_arg(path, "/api/projects/", "/close", ALNUM "._-", 64, arg,
	    sizeof(arg)))
		return session_gate(req, NEED_MAKER, arg, NULL,
		    consoleapi_close_propose);
	if (path_arg(path, "/api/projects/", "/complete", ALNUM "._-", 64, arg,
	    sizeof(arg)))
		return session_gate(req, NEED_MAKER, arg, NULL,
		    consoleapi_complete_propose);
	if (strcmp(path, "/api/movements") == 0)
		return session_gate(req, NEED_MAKER, NULL, NULL,
		    consoleapi_movement_propose);
	if (path_arg(path, "/api/platforms/", "/replay", ALNUM "._-", 64, arg,
	    sizeof(arg)))
		return session_gate(req, NEED_MAKER, arg, NULL,
		    consoleapi_replay_propose);
	if (path_arg(path, "/api/projects/", "/guarantee", ALNUM "._-", 64,
	    arg, sizeof(arg)))
		return session_gate(req, NEED_MAKER, arg, NULL,
		    guaranteeapi_register);
	if (path_arg(path, "/api/projects/", "/guarantee/draws", ALNUM "._-",
	    64, arg, sizeof(arg)))
		return session_gate(req, NEED_MAKER, arg, NULL,
		    guaranteeapi_draw);
	if (path_arg(path, "/api/projects/", "/guarantee/release",
	    ALNUM "._-", 64, arg, sizeof(arg)))
		return session_gate(req, NEED_MAKER, arg, NULL,
		    guaranteeapi_release);
	if (path_arg(path, "/api/operators/", "/second-factor/reset",
	    ALNUM "._-", 64, arg, sizeof(arg)))
		return session_gate(req, NEED_MAKER, arg, NULL,
		    consoleapi_factor_reset_propose);
	if (path_arg(path, "/api/approvals/", "", DIGITS, 18, arg, sizeof(arg)))
		return session_gate(req, NEED_CHECKER, arg, NULL,
		    consoleapi_approval_decide);
	if (path_arg(path, "/api/alerts/", "/retry", UUIDSET, 36, arg,
	    sizeof(arg)) && strlen(arg) == 36)
		return session_gate(req, NEED_OPERATE, arg, NULL,
		    consoleapi_alert_retry);
	jsonreply_plain_error(req, 404, "no such resource");
}

void
console_route(struct evhttp_request *req, void *arg)
{
	char			 path[512];
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	(void)arg;
	if (http_path(req, path, sizeof(path)) == -1) {
		jsonreply_plain_error(req, 404, "no such resource");
		return;
	}
	if (strcmp(path, "/healthz") == 0 && cmd == EVHTTP_REQ_GET)
		return metrics_healthz(req);
	if (strcmp(path, "/metrics") == 0 && cmd == EVHTTP_REQ_GET)
		return metrics_get(req);
	if (strncmp(path, "/api/", 5) == 0) {
		if (cmd == EVHTTP_REQ_GET)
			return route_get(req, path);
		if (cmd == EVHTTP_REQ_POST)
			return route_post(req, path);
		if (cmd == EVHTTP_REQ_DELETE &&
		    strcmp(path, "/api/session") == 0)
			return session_gate(req, NEED_READ, NULL, NULL,
			    session_signout);
		jsonreply_plain_error(req, 405, "method not allowed here");
		return;
	}
	if (cmd == EVHTTP_REQ_GET && page_serve(req, path))
		return;
	jsonreply_plain_error(req, 404, "no such resource");
}

