/*
 * contractor.c: the contractor API's router. Every call is made by a general
 * contractor identified by its client certificate's serialNumber (a unified
 * social credit code); the handlers check, in the database, that it is the
 * general contractor of the project it names.
 *
 * Owns nothing. Must not answer anything about a project to another company:
 * 403, or 404 for a MsgId the caller never sent.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "daemon.h"
#include "log.h"

#define TEXT_CTYPE	"text/plain; charset=utf-8"
#define MAX_SEGMENTS	6

/* Splits a path into percent-decoded segments; -1 if malformed. */
static int
split_path(const char *path, char seg[MAX_SEGMENTS][128], int *nseg)
{
	const char	*p = path, *slash;
	char		 raw[128], *dec;
	size_t		 n, declen;

	*nseg = 0;
	if (*p != '/')
		return -1;
	while (*p == '/' && p[1] != '\0') {
		p++;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= sizeof(raw) || *nseg == MAX_SEGMENTS)
			return -1;
		memcpy(raw, p, n);
		raw[n] = '\0';
		if ((dec = evhttp_uridecode(raw, 0, &declen)) == NULL)
			return -1;
		/* a decoded NUL would end the segment early (the listener
		 * refuses %00 first; this keeps the split honest alone) */
		if (strlen(dec) != declen || declen >= sizeof(seg[0]) ||
		    dec[0] == '\0') {
			free(dec);
			return -1;
		}
		strcpy(seg[(*nseg)++], dec);
		free(dec);
		p += n;
	}
	return *p == '\0' || strcmp(p, "/") == 0 ? 0 : -1;
}

static void
not_found(struct evhttp_request *req)
{
	http_reply(req, 404, TEXT_CTYPE, "no such resource\n", 17);
}

static void
wrong_method(struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	http_reply(req, 405, TEXT_CTYPE, "method not allowed\n", 19);
}

void
contractor_route(struct evhttp_request *req, void *arg)
{
	char			 path[1024], seg[MAX_SEGMENTS][128];
	char			 who[WP_USCC_LEN];
	int			 nseg;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	(void)arg;
	if (http_peer_uscc(req, who) == -1) {
		/* TLS already demanded a certificate; one without a
		 * serialNumber names no company */
		http_reply(req, 401, TEXT_CTYPE, "client certificate names no "
		    "company (subject serialNumber)\n", 53);
		return;
	}
	if (http_path(req, path, sizeof(path)) == -1 ||
	    split_path(path, seg, &nseg) == -1 || nseg < 2 ||
	    strcmp(seg[0], "v1") != 0) {
		not_found(req);
		return;
	}
	if (strcmp(seg[1], "sheets") == 0) {
		if (nseg == 2) {
			if (cmd != EVHTTP_REQ_POST)
				return wrong_method(req, "POST");
			return sheetapi_submit(req, who);
		}
		if (nseg == 3) {
			if (cmd != EVHTTP_REQ_GET)
				return wrong_method(req, "GET");
			return sheetapi_status(req, who, seg[2]);
		}
		if (nseg == 4 && strcmp(seg[3], "voucher") == 0) {
			if (cmd != EVHTTP_REQ_GET)
				return wrong_method(req, "GET");
			return voucherapi_get(req, who, seg[2]);
		}
		if (nseg == 4 && strcmp(seg[3], "cancel") == 0) {
			if (cmd != EVHTTP_REQ_POST)
				return wrong_method(req, "POST");
			return sheetapi_cancel(req, who, seg[2]);
		}
	} else if (strcmp(seg[1], "accounts") == 0 && nseg == 4 &&
	    strcmp(seg[3], "statement") == 0) {
		if (cmd != EVHTTP_REQ_GET)
			return wrong_method(req, "GET");
		return statementapi_get(req, who, seg[2]);
	} else if (strcmp(seg[1], "projects") == 0 && nseg == 4 &&
	    strcmp(seg[3], "roster") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			return rosterapi_post(req, who, seg[2]);
		if (cmd == EVHTTP_REQ_GET)
			return rosterapi_get(req, who, seg[2]);
		return wrong_method(req, "GET, POST");
	}
	not_found(req);
}
