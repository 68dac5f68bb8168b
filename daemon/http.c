/*
 * http.c: the plumbing every handler shares about one request: the reply
 * (with the headers every answer carries), the 503 of an unreachable
 * database, the body, the path, the method, and the identity in the peer's
 * client certificate.
 *
 * Owns nothing: what it returns points into the request.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "daemon.h"

void
http_reply(struct evhttp_request *req, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evbuffer		*buf;
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	const char		*reason;

	if (ctype != NULL)
		evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	buf = evbuffer_new();
	if (buf != NULL && body != NULL)
		evbuffer_add(buf, body, len);
	switch (status) {
	case 200: reason = "OK"; break;
	case 400: reason = "Bad Request"; break;
	case 401: reason = "Unauthorized"; break;
	case 403: reason = "Forbidden"; break;
	case 404: reason = "Not Found"; break;
	case 405: reason = "Method Not Allowed"; break;
	case 409: reason = "Conflict"; break;
	case 413: reason = "Payload Too Large"; break;
	case 415: reason = "Unsupported Media Type"; break;
	case 429: reason = "Too Many Requests"; break;
	case 503: reason = "Service Unavailable"; break;
	default: reason = "Error"; break;
	}
	evhttp_send_reply(req, status, reason, buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

void
http_unavailable(struct evhttp_request *req)
{
	static const char msg[] = "the service is unavailable: the database "
	    "cannot be reached; retry later with the same request\n";

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Retry-After", "5");
	http_reply(req, 503, "text/plain; charset=utf-8", msg, sizeof(msg) - 1);
}

int
http_body(struct evhttp_request *req, size_t max, const char **body,
    size_t *len)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 n = evbuffer_get_length(in);
	unsigned char	*p;

	if (n > max || n > WP_MAX_TREE)
		return -1;
	/* a NUL after the body so that parsers may treat it as a string */
	if (evbuffer_add(in, "", 1) == -1)
		return -1;
	if ((p = evbuffer_pullup(in, -1)) == NULL)
		return -1;
	*body = (const char *)p;
	*len = n;
	return 0;
}

int
http_peer_uscc(struct evhttp_request *req, char out[WP_USCC_LEN])
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent	*bev;

	if (conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL)
		return -1;
	return tls_peer_uscc(bufferevent_openssl_get_ssl(bev), out);
}

bool
http_peer_pinned(struct evhttp_request *req, const struct peerpin *pin,
    char *who, size_t len)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent	*bev;

	if (len > 0)
		who[0] = '\0';
	if (conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL)
		return false;
	return tls_peer_pinned(bufferevent_openssl_get_ssl(bev), pin, who, len);
}

int
http_peer_cert(struct evhttp_request *req, char *subject, size_t subjectlen,
    char *fingerprint, size_t fingerprintlen)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent	*bev;

	if (conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL)
		return -1;
	return tls_peer_cert(bufferevent_openssl_get_ssl(bev), subject,
	    subjectlen, fingerprint, fingerprintlen);
}

bool
http_target_nul(struct evhttp_request *req)
{
	const char	*target = evhttp_request_get_uri(req);

	/* evhttp_uridecode and evhttp_parse_query_str decode %00 into a NUL
	 * that ends the C string: "/v1/sheets/A%00B" would be read as A */
	return target != NULL && strstr(target, "%00") != NULL;
}

int
http_path(struct evhttp_request *req, char *buf, size_t len)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri ? evhttp_uri_get_path(uri) : NULL;

	if (path == NULL || strlen(path) >= len)
		return -1;
	strcpy(buf, path);
	return 0;
}

const char *
http_method_name(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "OTHER";
	}
}
