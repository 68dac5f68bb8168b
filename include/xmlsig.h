/*
 * xmlsig.h: XML signatures: the trust store (proto/sigtrust.c), verification
 * of the subcontractor's enveloped signature on a wage sheet against it
 * (proto/sigverify.c), and the bank's own signature on vouchers and alerts
 * with xmlsec1 (proto/xmlsig.c).
 *
 * Verification is strict (STYLE.md "sharp edges"): exactly one ds:Signature
 * in the document, placed in CstmrCdtTrfInitn/SplmtryData/Envlp; exactly one
 * Reference with URI=""; transforms exactly enveloped-signature then
 * exclusive C14N; RSA-SHA256 or ECDSA-SHA256; no ds:Object, no Manifest;
 * same-document references only; the certificate in KeyInfo/X509Data must
 * chain to the trusted CA and be within its validity period.
 */
#ifndef XMLSIG_H
#define XMLSIG_H

#include <libxml/tree.h>
#include "wagepay.h"

/* Call once at start-up before any other xmlsig_ call (initialises xmlsec
 * and its OpenSSL crypto); -1 on failure. */
int		 xmlsig_init(void) WUR;
void		 xmlsig_shutdown(void);

/* proto/sigtrust.c: the trust store (struct sigtrust, sigtrust.h). */
struct sigtrust;

/* Loads a PEM CA file (one or more certificates) that signatures must chain
 * to. NULL with err set on failure. */
struct sigtrust	*sigtrust_load(const char *ca_file, struct perr *err);
/* Adds the revocation lists of a PEM file (one or more CRLs), each of which
 * must be signed by a CA of the trust store (else FF01, nothing changed). A
 * signer whose certificate is listed is then refused with WP32. Replaces
 * lists loaded before. 0 or -1 with err set. */
int		 sigtrust_load_crl(struct sigtrust *, const char *crl_file,
		    struct perr *err) WUR;
void		 sigtrust_free(struct sigtrust *);

/*
 * proto/sigverify.c.
 * Verifies the sheet's signature as described above. On success returns 0
 * and copies the signer certificate's subject serialNumber (the company's
 * unified social credit code) into signer. On failure -1 with err set:
 * WP30 no or malformed signature, WP31 signature does not verify (tampered),
 * WP32 certificate not trusted (wrong CA, expired, not yet valid, revoked).
 */
int		 sigverify_sheet(struct sigtrust *, xmlDocPtr doc,
		    char signer[WP_USCC_LEN], struct perr *err) WUR;

#define SHA256_LEN	32

/*
 * The same, for a document whose transactions were canonicalised, hashed
 * and freed while it was parsed (proto/sheetstream.c): md is the SHA-256 of
 * the whole document's exclusive canonical form without its ds:Signature,
 * and elsewhere the number of ds:Signature elements found in the freed
 * parts (sigverify_scan), which must be 0 for the sheet to pass.
 */
int		 sigverify_digest(struct sigtrust *, xmlDocPtr doc,
		    const unsigned char md[SHA256_LEN], size_t elsewhere,
		    char signer[WP_USCC_LEN], struct perr *err) WUR;
/* md of a document whole, as sigverify_sheet computes it. 0 or -1. */
int		 sigverify_doc_digest(xmlDocPtr doc,
		    unsigned char md[SHA256_LEN]) WUR;
/* Counts ds:Signature elements under subtree into *signatures; -1 with WP30
 * in err if it holds a ds:Object or ds:Manifest. */
int		 sigverify_scan(xmlNodePtr subtree, size_t *signatures,
		    struct perr *err) WUR;

/* proto/xmlsig.c: the bank's own signature. */
struct signer;

/* Loads the bank's PEM key and certificate for signing. */
struct signer	*xmlsig_signer_load(const char *key_file, const char *cert_file,
		    struct perr *err);
/* The same from a PKCS#12 file (key, its certificate, and any chain),
 * password may be NULL or "" for none. */
struct signer	*xmlsig_signer_load_p12(const char *p12_file,
		    const char *password, struct perr *err);
void		 xmlsig_signer_free(struct signer *);

/*
 * Appends an enveloped signature (URI="", enveloped + exclusive C14N,
 * RSA-SHA256 or ECDSA-SHA256 following the key, X509Data with the bank's
 * certificate) as the last child of the document's root element and signs.
 * 0 on success, -1 with err set.
 */
int		 xmlsig_sign(struct signer *, xmlDocPtr doc, struct perr *err) WUR;
/* The same signature as the last child of parent, an element of doc: a
 * wage sheet's goes into CstmrCdtTrfInitn/SplmtryData/Envlp, where
 * sigverify_sheet looks for it (tools/sheet, the contractor's side). */
int		 xmlsig_sign_under(struct signer *, xmlDocPtr doc,
		    xmlNodePtr parent, struct perr *err) WUR;

#endif
