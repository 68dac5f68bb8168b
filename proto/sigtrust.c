/*
 * sigtrust.c: the trust store that subcontractors' signatures must chain to
 * (struct sigtrust, include/sigtrust.h): the CA certificates, the revocation
 * lists, and the cache of signers' chains that verified against them
 * (proto/certcache.c). The checking of a sheet's signature against it is
 * proto/sigverify.c.
 *
 * Owns the trust stores; never logs. A sigtrust is only read after loading
 * (its cache has its own lock), so worker threads may share it.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "sigtrust.h"
#include "xmlsig.h"

static STACK_OF(X509) *
read_pem_certs(const char *file, struct perr *err)
{
	STACK_OF(X509)	*certs;
	BIO		*bio;
	X509		*x;

	if ((bio = BIO_new_file(file, "r")) == NULL) {
		perr_set(err, "FF01", "could not open CA file \"%s\"", file);
		return NULL;
	}
	if ((certs = sk_X509_new_null()) == NULL) {
		BIO_free(bio);
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(certs, x) <= 0) {
			X509_free(x);
			sk_X509_pop_free(certs, X509_free);
			BIO_free(bio);
			perr_set(err, "FF01", "out of memory");
			return NULL;
		}
	BIO_free(bio);
	/* The loop ends at end of file (a "no start line" error) or at a
	 * broken certificate; only the first is fine. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE ||
	    sk_X509_num(certs) == 0) {
		sk_X509_pop_free(certs, X509_free);
		perr_set(err, "FF01", "CA file \"%s\" does not hold PEM "
		    "certificates only", file);
		return NULL;
	}
	ERR_clear_error();
	return certs;
}

struct sigtrust *
sigtrust_load(const char *ca_file, struct perr *err)
{
	struct sigtrust	*st;
	STACK_OF(X509)	*certs;
	int		 i;

	if ((certs = read_pem_certs(ca_file, err)) == NULL)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->store = X509_STORE_new()) == NULL ||
	    (st->verified = certcache_new()) == NULL) {
		perr_set(err, "FF01", "out of memory");
		goto fail;
	}
	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_STORE_add_cert(st->store, sk_X509_value(certs, i)) != 1) {
			perr_set(err, "FF01", "could not load certificate %d "
			    "of CA file \"%s\"", i + 1, ca_file);
			goto fail;
		}
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return st;
fail:
	sk_X509_pop_free(certs, X509_free);
	sigtrust_free(st);
	ERR_clear_error();
	return NULL;
}

void
sigtrust_free(struct sigtrust *st)
{
	if (st == NULL)
		return;
	X509_STORE_free(st->store);
	sk_X509_CRL_pop_free(st->crls, X509_CRL_free);
	certcache_free(st->verified);
	free(st);
}

/* The trusted CA that issued crl and whose key signed it, or NULL. */
static X509 *
crl_issuer(struct sigtrust *st, X509_CRL *crl)
{
	STACK_OF(X509_OBJECT)	*objs = X509_STORE_get0_objects(st->store);
	X509			*ca;
	int			 i;

	for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		if ((ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs,
		    i))) == NULL)
			continue;
		if (X509_NAME_cmp(X509_get_subject_name(ca),
		    X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			return ca;
	}
	return NULL;
}

int
sigtrust_load_crl(struct sigtrust *st, const char *crl_file, struct perr *err)
{
	BIO			*bio;
	X509_CRL		*crl;
	STACK_OF(X509_CRL)	*crls;
	int			 n = 0;

	if ((bio = BIO_new_file(crl_file, "r")) == NULL) {
		ERR_clear_error();
		return perr_set(err, "FF01", "could not open CRL file \"%s\"",
		    crl_file);
	}
	if ((crls = sk_X509_CRL_new_null()) == NULL) {
		BIO_free(bio);
		return perr_set(err, "FF01", "out of memory");
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		n++;
		/* a list nobody we trust signed could revoke anyone, or
		 * hide a revocation: refuse the file */
		if (crl_issuer(st, crl) == NULL) {
			X509_CRL_free(crl);
			sk_X509_CRL_pop_free(crls, X509_CRL_free);
			BIO_free(bio);
			ERR_clear_error();
			return perr_set(err, "FF01", "CRL %d of \"%s\" is not "
			    "signed by a CA of [signing] subcontractor_ca", n,
			    crl_file);
		}
		if (sk_X509_CRL_push(crls, crl) <= 0) {
			X509_CRL_free(crl);
			sk_X509_CRL_pop_free(crls, X509_CRL_free);
			BIO_free(bio);
			return perr_set(err, "FF01", "out of memory");
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	if (n == 0) {
		sk_X509_CRL_free(crls);
		return perr_set(err, "FF01", "no CRL in \"%s\"", crl_file);
	}
	sk_X509_CRL_pop_free(st->crls, X509_CRL_free);
	st->crls = crls;
	/* a chain verified before may be on these lists */
	certcache_clear(st->verified);
	return 0;
}
