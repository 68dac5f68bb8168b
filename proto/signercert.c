/*
 * signercert.c: the signer's certificates of a sheet's signature
 * (proto/signercert.h): decoded or found in the cache, revocation, the
 * chain to the CAs and why it fails, the company named.
 *
 * Split from proto/sigverify.c, which checks the signature's XML and calls
 * these with what KeyInfo carries. Thread-safe (a fresh X509_STORE_CTX per
 * call; the cache has its own lock).
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ids.h"
#include "signercert.h"

/* The cache's name for a set of certificates: SHA-256 over each one's
 * length (4 bytes, big-endian) and DER, in order. */
static int
ders_key(const struct signer_ders *d, unsigned char key[CERTCACHE_KEY_LEN])
{
	EVP_MD_CTX	*h;
	unsigned char	 be[4];
	int		 i, ok;

	if ((h = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1;
	for (i = 0; ok && i < d->n; i++) {
		be[0] = (unsigned char)(d->len[i] >> 24);
		be[1] = (unsigned char)(d->len[i] >> 16);
		be[2] = (unsigned char)(d->len[i] >> 8);
		be[3] = (unsigned char)d->len[i];
		ok = EVP_DigestUpdate(h, be, sizeof(be)) == 1 &&
		    EVP_DigestUpdate(h, d->der[i], d->len[i]) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(h, key, NULL) == 1;
	EVP_MD_CTX_free(h);
	return ok ? 0 : -1;
}

int
signercert_load(struct sigtrust *st, const struct signer_ders *d,
    struct signer_certs *sc, struct perr *err)
{
	const unsigned char	*p;
	X509			*x;
	int			 i;

	sc->known = false;
	if (ders_key(d, sc->key) == -1)
		return perr_set(err, "WP30", "out of memory");
	if ((sc->certs = certcache_get(st->verified, sc->key,
	    time(NULL))) != NULL) {
		sc->known = true;
		return 0;
	}
	if ((sc->certs = sk_X509_new_null()) == NULL)
		return perr_set(err, "WP30", "out of memory");
	for (i = 0; i < d->n; i++) {
		p = d->der[i];
		if ((x = d2i_X509(NULL, &p, (long)d->len[i])) == NULL ||
		    sk_X509_push(sc->certs, x) <= 0) {
			X509_free(x);
			signercert_free(sc);
			return perr_set(err, "WP30", "signature X509Certificate "
			    "is not a base64 DER certificate");
		}
	}
	return 0;
}

void
signercert_free(struct signer_certs *sc)
{
	sk_X509_pop_free(sc->certs, X509_free);
	sc->certs = NULL;
}

/* The signing certificate: the first that is not a CA; NULL if none. */
static X509 *
leaf_of(STACK_OF(X509) *certs)
{
	int	i;

	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_check_ca(sk_X509_value(certs, i)) == 0)
			return sk_X509_value(certs, i);
	return NULL;
}

/* Copies the certificate's notBefore or notAfter as text. */
static void
cert_time(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO	*bio;
	int	 n = 0;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (ASN1_TIME_print(bio, t) == 1)
		n = BIO_read(bio, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

int
signercert_revocation(struct sigtrust *st, const struct signer_certs *sc,
    struct perr *err)
{
	X509		*leaf;
	X509_REVOKED	*rev;
	X509_CRL	*crl;
	char		 when[64];
	int		 i;

	if (st->crls == NULL || (leaf = leaf_of(sc->certs)) == NULL)
		return 0;
	for (i = 0; i < sk_X509_CRL_num(st->crls); i++) {
		crl = sk_X509_CRL_value(st->crls, i);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		    X509_get_issuer_name(leaf)) != 0)
			continue;
		if (X509_CRL_get0_by_cert(crl, &rev, leaf) == 1) {
			cert_time(X509_REVOKED_get0_revocationDate(rev), when,
			    sizeof(when));
			return perr_set(err, "WP32", "certificate of signer was "
			    "revoked on %s", when);
		}
	}
	return 0;
}

/* When the verdict on a verified chain holds: from its last notBefore
 * until its first notAfter, as time_t; -1 if a time cannot be read (then
 * it is not cached). */
static int
chain_window(STACK_OF(X509) *chain, time_t *from, time_t *until)
{
	struct tm	 tm;
	time_t		 b, a;
	int		 i;

	*from = *until = -1;
	for (i = 0; i < sk_X509_num(chain); i++) {
		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(X509_get0_notBefore(sk_X509_value(chain,
		    i)), &tm) != 1 || (b = timegm(&tm)) == (time_t)-1)
			return -1;
		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(X509_get0_notAfter(sk_X509_value(chain, i)),
		    &tm) != 1 || (a = timegm(&tm)) == (time_t)-1)
			return -1;
		if (i == 0 || b > *from)
			*from = b;
		if (i == 0 || a < *until)
			*until = a;
	}
	return sk_X509_num(chain) > 0 ? 0 : -1;
}

/* Why the chain of cert failed (OpenSSL's verify error e), in the
 * sender's terms (WP32). */
static void
explain_chain(X509 *cert, int e, struct perr *err)
{
	char	when[64];

	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		perr_set(err, "WP32", "certificate of signer is not issued by "
		    "the subcontractor CA");
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		cert_time(X509_get0_notAfter(cert), when, sizeof(when));
		perr_set(err, "WP32", "certificate of signer expired on %s",
		    when);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		cert_time(X509_get0_notBefore(cert), when, sizeof(when));
		perr_set(err, "WP32", "certificate of signer is not valid "
		    "before %s", when);
		break;
	case X509_V_OK:
		perr_set(err, "WP32", "certificate of signer could not be used "
		    "to verify the signature");
		break;
	default:
		perr_set(err, "WP32", "certificate of signer is not trusted: "
		    "%s", X509_verify_cert_error_string(e));
		break;
	}
}

EVP_PKEY *
signercert_key(struct sigtrust *st, struct signer_certs *sc, bool is_ec,
    X509 **leafp, struct perr *err)
{
	X509_STORE_CTX	*xs = NULL;
	X509		*leaf = leaf_of(sc->certs), *cert = leaf;
	EVP_PKEY	*pkey;
	time_t		 from, until;
	int		 e = X509_V_OK;
	bool		 key_is_ec, usable, chained = false;

	/* no signing certificate: the first one is the one explained */
	if (cert == NULL && sk_X509_num(sc->certs) > 0)
		cert = sk_X509_value(sc->certs, 0);
	if (cert == NULL) {
		perr_set(err, "WP30", "signature KeyInfo/X509Data carries no "
		    "certificate");
		return NULL;
	}
	pkey = X509_get0_pubkey(cert);
	key_is_ec = pkey != NULL && EVP_PKEY_base_id(pkey) == EVP_PKEY_EC;
	if (pkey != NULL && key_is_ec != is_ec) {
		perr_set(err, "WP30", "SignatureMethod %s does not match the "
		    "signer's %s key", is_ec ? "ecdsa-sha256" : "rsa-sha256",
		    key_is_ec ? "EC" : "non-EC");
		return NULL;
	}
	usable = leaf != NULL && pkey != NULL &&
	    EVP_PKEY_base_id(pkey) == (is_ec ? EVP_PKEY_EC : EVP_PKEY_RSA);
	if (usable && sc->known) {
		*leafp = leaf;
		return pkey;
	}
	if ((xs = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(xs, st->store, cert, sc->certs) == 1) {
		if (X509_verify_cert(xs) == 1)
			chained = true;
		else
			e = X509_STORE_CTX_get_error(xs);
	}
	if (chained && usable) {
		/* and not revoked: sigverify.c asked first */
		if (chain_window(X509_STORE_CTX_get0_chain(xs), &from,
		    &until) == 0)
			certcache_put(st->verified, sc->key, sc->certs, from,
			    until);
		*leafp = leaf;
	} else {
		explain_chain(cert, e, err);
		pkey = NULL;
	}
	X509_STORE_CTX_free(xs);
	return pkey;
}

int
signercert_uscc(X509 *cert, char signer[WP_USCC_LEN], struct perr *err)
{
	X509_NAME		*name = X509_get_subject_name(cert);
	const ASN1_STRING	*s;
	int			 i, len;
	uint32_t		 ku;

	if (X509_check_ca(cert) != 0)
		return perr_set(err, "WP32", "certificate of signer is a CA "
		    "certificate, not a company's signing certificate");
	ku = X509_get_key_usage(cert);
	if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 &&
	    (ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0)
		return perr_set(err, "WP32", "certificate of signer is not "
		    "for signing (key usage)");
	if ((i = X509_NAME_get_index_by_NID(name, NID_serialNumber, -1)) < 0)
		return perr_set(err, "WP32", "certificate of signer has no "
		    "serialNumber (credit code) in its subject");
	if (X509_NAME_get_index_by_NID(name, NID_serialNumber, i) >= 0)
		return perr_set(err, "WP32", "certificate of signer has more "
		    "than one serialNumber in its subject");
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	len = ASN1_STRING_length(s);
	if (len != WP_USCC_LEN - 1)
		return perr_set(err, "WP32", "certificate of signer has a "
		    "serialNumber that is not an 18-character credit code");
	memcpy(signer, ASN1_STRING_get0_data(s), (size_t)len);
	signer[len] = '\0';
	if (!ids_uscc_valid(signer)) {
		signer[0] = '\0';
		return perr_set(err, "WP32", "certificate of signer has a "
		    "serialNumber that is not a valid credit code");
	}
	return 0;
}
