/*
 * client.c: one HTTPS request to the bank's contractor API with the
 * contractor's client certificate (mutual TLS, TLS 1.2 or later), the
 * bank's server certificate checked against --ca and the URL's host.
 * Blocking, one connection per request ("Connection: close"): a command
 * line tool that makes one call. Owns the reply's body.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sheettool.h"

#define REPLY_MAX	(256u * 1024u * 1024u)
#define IO_SECONDS	300

struct target {
	char	host[256];
	char	port[8];
};

static int
parse_url(const char *url, struct target *t, char *err, size_t errlen)
{
	const char	*h, *end, *colon;
	size_t		 n;

	if (strncmp(url, "https://", 8) != 0)
		return snprintf(err, errlen, "--url must be https://HOST:PORT, "
		    "not \"%s\"", url), -1;
	h = url + 8;
	end = h + strcspn(h, "/");
	if (*h == '[') {
		if ((colon = memchr(h, ']', (size_t)(end - h))) == NULL)
			return snprintf(err, errlen, "--url: unclosed [ in "
			    "\"%s\"", url), -1;
		n = (size_t)(colon - h - 1);
		h++;
		colon = colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon != NULL ? colon : end) - h);
	}
	if (n == 0 || n >= sizeof(t->host))
		return snprintf(err, errlen, "--url: no host in \"%s\"", url), -1;
	memcpy(t->host, h, n);
	t->host[n] = '\0';
	n = colon != NULL ? (size_t)(end - colon - 1) : 0;
	if (colon != NULL && (n == 0 || n >= sizeof(t->port)))
		return snprintf(err, errlen, "--url: bad port in \"%s\"", url), -1;
	snprintf(t->port, sizeof(t->port), "%.*s", (int)n,
	    colon != NULL ? colon + 1 : "443");
	if (colon == NULL)
		snprintf(t->port, sizeof(t->port), "443");
	return 0;
}

static int
dial(const struct target *t, char *err, size_t errlen)
{
	struct addrinfo	 hints = { 0 }, *res, *ai;
	struct timeval	 tv = { IO_SECONDS, 0 };
	int		 fd = -1, rc;

	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(t->host, t->port, &hints, &res)) != 0)
		return snprintf(err, errlen, "could not resolve %s: %s",
		    t->host, gai_strerror(rc)), -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "could not connect to %s port %s: %s",
		    t->host, t->port, strerror(errno));
	return fd;
}

static void
ssl_error(const char *what, char *err, size_t errlen)
{
	char	buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, buf);
}

static SSL_CTX *
context(const struct client_opts *o, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return ssl_error("TLS", err, errlen), NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* evhttp closes without close_notify; a cut reply is still caught,
	 * by its Content-Length (parse_reply) */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
		ssl_error("could not load --ca", err, errlen);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
		ssl_error("could not load --cert", err, errlen);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error("could not load --key (or it is not --cert's key)",
		    err, errlen);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The TLS session, the server's certificate checked for the host. */
static SSL *
handshake(SSL_CTX *ctx, int fd, const char *host, char *err, size_t errlen)
{
	SSL		*ssl;
	unsigned char	 ip[16];
	X509_VERIFY_PARAM *vp;

	if ((ssl = SSL_new(ctx)) == NULL)
		return ssl_error("TLS", err, errlen), NULL;
	vp = SSL_get0_param(ssl);
	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(vp, host);
	else {
		X509_VERIFY_PARAM_set1_host(vp, host, 0);
		SSL_set_tlsext_host_name(ssl, host);
	}
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		if (SSL_get_verify_result(ssl) != X509_V_OK)
			snprintf(err, errlen, "the bank's certificate is not "
			    "trusted: %s", X509_verify_cert_error_string(
			    SSL_get_verify_result(ssl)));
		else
			ssl_error("TLS handshake failed (is --cert one the "
			    "bank knows?)", err, errlen);
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

static int
write_all(SSL *ssl, const char *p, size_t n)
{
	int	w;

	while (n > 0) {
		if ((w = SSL_write(ssl, p, n > 1u << 30 ? 1 << 30 : (int)n)) <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Everything until the server closes; NULL when too large or broken. */
static char *
read_all(SSL *ssl, size_t *lenp)
{
	char	*buf = NULL, *grown;
	size_t	 cap = 0, len = 0;
	int	 r;

	for (;;) {
		if (cap - len < 16384) {
			cap = cap ? cap * 2 : 65536;
			if (cap > REPLY_MAX || (grown = realloc(buf, cap + 1)) ==
			    NULL) {
				free(buf);
				return NULL;
			}
			buf = grown;
		}
		if ((r = SSL_read(ssl, buf + len, (int)(cap - len))) > 0) {
			len += (size_t)r;
			continue;
		}
		r = SSL_get_error(ssl, r);
		if (r == SSL_ERROR_ZERO_RETURN)
			break;
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Status line, Retry-After, and the body after the blank line. */
static int
parse_reply(char *raw, size_t len, struct client_reply *reply)
{
	char	*eoh, *line, *next;
	size_t	 hlen, blen;
	long	 declared = -1;

	if (strncmp(raw, "HTTP/1.", 7) != 0 || len < 12 ||
	    (eoh = strstr(raw, "\r\n\r\n")) == NULL)
		return -1;
	reply->status = atoi(raw + 9);
	hlen = (size_t)(eoh - raw) + 4;
	*eoh = '\0';
	for (line = strstr(raw, "\r\n"); line != NULL; line = next) {
		line += 2;
		next = strstr(line, "\r\n");
		if (next != NULL)
			*next = '\0';
		if (strncasecmp(line, "Retry-After:", 12) == 0)
			snprintf(reply->retry_after, sizeof(reply->retry_after),
			    "%s", line + 12 + strspn(line + 12, " "));
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			declared = atol(line + 15);
	}
	blen = len - hlen;
	if (declared >= 0 && (size_t)declared != blen)
		return -1;	/* cut short */
	if ((reply->body = malloc(blen + 1)) == NULL)
		return -1;
	memcpy(reply->body, raw + hlen, blen);
	reply->body[blen] = '\0';
	reply->len = blen;
	return 0;
}

int
client_request(const struct client_opts *o, const char *method,
    const char *path, const char *body, size_t body_len,
    struct client_reply *reply, char *err, size_t errlen)
{
	struct target	 t;
	SSL_CTX		*ctx = NULL;
	SSL		*ssl = NULL;
	char		 head[1024], *raw = NULL;
	size_t		 len;
	int		 fd = -1, rc = -1;

	memset(reply, 0, sizeof(*reply));
	if (parse_url(o->url, &t, err, errlen) != 0 ||
	    (ctx = context(o, err, errlen)) == NULL ||
	    (fd = dial(&t, err, errlen)) == -1 ||
	    (ssl = handshake(ctx, fd, t.host, err, errlen)) == NULL)
		goto done;
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "User-Agent: wagepay-sheet\r\nAccept: application/xml\r\n"
	    "Content-Type: application/xml\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", method, path, t.host, t.port,
	    body != NULL ? body_len : 0);
	if (write_all(ssl, head, strlen(head)) != 0 ||
	    (body != NULL && write_all(ssl, body, body_len) != 0)) {
		snprintf(err, errlen, "could not send the request to %s (the "
		    "bank closed the connection)", o->url);
		goto done;
	}
	if ((raw = read_all(ssl, &len)) == NULL ||
	    parse_reply(raw, len, reply) != 0) {
		snprintf(err, errlen, "no readable answer from %s", o->url);
		goto done;
	}
	rc = 0;
done:
	free(raw);
	if (ssl != NULL)
		SSL_free(ssl);
	if (fd != -1)
		close(fd);
	SSL_CTX_free(ctx);
	return rc;
}

void
client_reply_free(struct client_reply *r)
{
	free(r->body);
	r->body = NULL;
}
