/*
 * tls.c: OpenSSL contexts for the listeners and for outbound alert
 * delivery, and the company identity carried by a peer certificate.
 *
 * Owns nothing after it returns: the caller owns each SSL_CTX. Must not
 * accept a peer without a certificate where one is required: with
 * SSL_VERIFY_PEER alone, a client that sends none gets in (STYLE.md).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "daemon.h"
#include "peerpin.h"

static void
tls_error(struct perr *err, const char *what, const char *file)
{
	char		buf[200] = "";
	unsigned long	e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	perr_set(err, "WP90", "could not %s \"%s\": %s", what, file,
	    buf[0] ? buf : "unknown error");
}

static int
load_pair(SSL_CTX *ctx, const char *cert, const char *key, struct perr *err)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_error(err, "load certificate", cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_error(err, "load private key", key);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		/* name the key: it is the file a reader will look at */
		tls_error(err, "match certificate with private key", key);
		return -1;
	}
	return 0;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, const char *client_ca,
    struct perr *err)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_error(err, "create TLS context for", cert);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (load_pair(ctx, cert, key, err) == -1)
		goto fail;
	if (client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
			tls_error(err, "load client CA", client_ca);
			goto fail;
		}
		if ((names = SSL_load_client_CA_file(client_ca)) == NULL) {
			tls_error(err, "read client CA names from", client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_verify_depth(ctx, 4);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx(const char *ca, const char *cert, const char *key,
    struct perr *err)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_error(err, "create TLS context for", cert);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (load_pair(ctx, cert, key, err) == -1)
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_error(err, "load CA", ca);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_peer_uscc(SSL *ssl, char out[WP_USCC_LEN])
{
	X509		*peer;
	X509_NAME	*subject;
	ASN1_STRING	*data;
	int		 idx, rc = -1;

	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	subject = X509_get_subject_name(peer);
	/* exactly one serialNumber, exactly 18 characters: a longer value must
	 * not be cut down to somebody else's code */
	idx = X509_NAME_get_index_by_NID(subject, NID_serialNumber, -1);
	if (idx >= 0 &&
	    X509_NAME_get_index_by_NID(subject, NID_serialNumber, idx) < 0) {
		data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
		if (ASN1_STRING_length(data) == WP_USCC_LEN - 1) {
			memcpy(out, ASN1_STRING_get0_data(data), WP_USCC_LEN - 1);
			out[WP_USCC_LEN - 1] = '\0';
			rc = strlen(out) == WP_USCC_LEN - 1 ? 0 : -1;
		}
	}
	X509_free(peer);
	return rc;
}

bool
tls_peer_pinned(SSL *ssl, const struct peerpin *pin, char *who, size_t len)
{
	X509	*peer;
	char	 fp[PEERPIN_FINGERPRINT_LEN];
	size_t	 n;
	bool	 ok;

	if (len > 0)
		who[0] = '\0';
	if (ssl == NULL || (peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return false;
	peerpin_subject(peer, who, len);
	n = strlen(who);
	if (peerpin_fingerprint(peer, fp) == 0 && n + 1 + sizeof(fp) <= len)
		snprintf(who + n, len - n, " %s", fp);
	ok = SSL_get_verify_result(ssl) == X509_V_OK &&
	    (pin == NULL || peerpin_matches(pin, peer));
	X509_free(peer);
	return ok;
}

/* The certificates of a PEM file; NULL with err set. */
static STACK_OF(X509) *
read_certs(const char *file, struct perr *err)
{
	STACK_OF(X509)	*certs;
	BIO		*b;
	X509		*x;

	if ((certs = sk_X509_new_null()) == NULL ||
	    (b = BIO_new_file(file, "r")) == NULL) {
		sk_X509_free(certs);
		tls_error(err, "read CA certificates from", file);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(certs, x) == 0) {
			X509_free(x);
			break;
		}
	ERR_clear_error();	/* the end of the file */
	BIO_free(b);
	if (sk_X509_num(certs) == 0) {
		sk_X509_free(certs);
		perr_set(err, "WP90", "no certificate in \"%s\"", file);
		return NULL;
	}
	return certs;
}

/*
 * A CA of `other` that chains to `trusted`'s (the same certificate, or one
 * it issued, directly or through other's own intermediates) makes every
 * certificate it issues acceptable where `trusted` is the client CA. Times
 * are not checked: an expired CA in both files is still a shared one.
 */
int
tls_ca_shared(const char *trusted, const char *other, struct perr *err)
{
	STACK_OF(X509)	*mine, *theirs;
	X509_STORE	*store = NULL;
	X509_STORE_CTX	*vctx = NULL;
	int		 i, shared = -1;

	if ((theirs = read_certs(other, err)) == NULL)
		return -1;
	if ((mine = read_certs(trusted, err)) == NULL)
		goto done;
	if ((store = X509_STORE_new()) == NULL ||
	    (vctx = X509_STORE_CTX_new()) == NULL)
		goto oom;
	X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
	for (i = 0; i < sk_X509_num(mine); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(mine, i)) != 1)
			goto oom;
	shared = 0;
	for (i = 0; i < sk_X509_num(theirs) && shared == 0; i++) {
		if (X509_STORE_CTX_init(vctx, store, sk_X509_value(theirs, i),
		    theirs) != 1)
			goto oom;
		if (X509_verify_cert(vctx) == 1)
			shared = 1;
		X509_STORE_CTX_cleanup(vctx);
	}
	ERR_clear_error();
	goto done;
oom:
	shared = -1;
	tls_error(err, "compare the client CAs of", trusted);
done:
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	sk_X509_pop_free(mine, X509_free);
	sk_X509_pop_free(theirs, X509_free);
	return shared;
}

int
tls_peer_cert(SSL *ssl, char *subject, size_t subjectlen, char *fingerprint,
    size_t fingerprintlen)
{
	X509	*peer;
	int	 rc;

	if (subjectlen == 0 || fingerprintlen < PEERPIN_FINGERPRINT_LEN)
		return -1;
	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    (peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	/* a subject longer than the buffer is cut: it is a record, the
	 * fingerprint is what identifies the certificate */
	peerpin_subject(peer, subject, subjectlen);
	rc = peerpin_fingerprint(peer, fingerprint);
	X509_free(peer);
	return rc;
}
