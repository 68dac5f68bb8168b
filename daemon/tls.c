/*
 * tls.c: OpenSSL contexts for the listeners and for outbound alert
 * delivery, and the company identity carried by a peer certificate.
 *
 * Owns nothing after it returns: the caller owns each SSL_CTX. Must not
 * accept a peer without a certificate where one is required: with
 * SSL_VERIFY_PEER alone, a client that sends none gets in (STYLE.md).
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "daemon.h"

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
		tls_error(err, "match private key with certificate", cert);
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

int
tls_peer_cert(SSL *ssl, char *subject, size_t subjectlen, char *fingerprint,
    size_t fingerprintlen)
{
	X509		*peer;
	BIO		*bio = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	int		 n, rc = -1;

	if (subjectlen == 0 || fingerprintlen < 7 + 2 * 32 + 1)
		return -1;
	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	if (X509_digest(peer, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		goto done;
	memcpy(fingerprint, "sha256:", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(fingerprint + 7 + 2 * i, 3, "%02x", md[i]);
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto done;
	/* a subject longer than the buffer is cut: it is a record, the
	 * fingerprint is what identifies the certificate */
	n = BIO_read(bio, subject, (int)(subjectlen - 1));
	subject[n > 0 ? n : 0] = '\0';
	rc = 0;
done:
	BIO_free(bio);
	X509_free(peer);
	return rc;
}
