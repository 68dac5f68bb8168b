/*
 * signercert.h: the signer's certificates of a sheet's signature, for
 * proto/sigverify.c and nothing else: decoded from the DER that KeyInfo
 * carries (or found in the trust store's cache, include/certcache.h),
 * checked against the revocation lists and chained to the CAs, every
 * refusal said in the sender's terms (WP30, WP32), and the company the
 * signing certificate names. sigverify.c walks the XML; this file never
 * sees it.
 */
#ifndef SIGNERCERT_H
#define SIGNERCERT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certcache.h"
#include "sigtrust.h"
#include "wagepay.h"

/* More certificates than a leaf and a few intermediates is not a signer's
 * chain but work for an attacker: each one is parsed and tried. */
#define MAX_X509_CERTS	8

/* The DER of each X509Certificate of KeyInfo/X509Data, in order. */
struct signer_ders {
	unsigned char	*der[MAX_X509_CERTS];
	size_t		 len[MAX_X509_CERTS];
	int		 n;
};

/* The certificates of a signature's KeyInfo, the name of the set in the
 * trust store's cache, and whether the set verified before (then its chain
 * and revocation are not checked again). */
struct signer_certs {
	STACK_OF(X509)	*certs;
	unsigned char	 key[CERTCACHE_KEY_LEN];
	bool		 known;
};

/* sc from the cache if the set verified before and its verdict holds,
 * else decoded (WP30 if one is not a DER certificate). */
int		 signercert_load(struct sigtrust *, const struct signer_ders *,
		    struct signer_certs *, struct perr *);
void		 signercert_free(struct signer_certs *);

/* WP32 if the signer's certificate is on a revocation list of its CA. */
int		 signercert_revocation(struct sigtrust *,
		    const struct signer_certs *, struct perr *);

/* The signing certificate (*leaf) and its key, of the kind the
 * SignatureMethod names, chained to the trust store (a set that verified
 * is remembered); NULL with WP30 or WP32 saying precisely why not. */
EVP_PKEY	*signercert_key(struct sigtrust *, struct signer_certs *,
		    bool is_ec, X509 **leaf, struct perr *);

/* The signing certificate's subject serialNumber: the company's USCC. */
int		 signercert_uscc(X509 *, char signer[WP_USCC_LEN],
		    struct perr *);

#endif
