/*
 * sigverify.c: the subcontractor's enveloped signature on a wage sheet,
 * checked strictly (include/xmlsig.h).
 *
 * Responsible for deciding whether a sheet carries exactly one acceptable
 * signature and whose it is. A general XML signature library is not enough
 * (STYLE.md "sharp edges"): with Reference URI="" and the enveloped transform
 * nothing inside ds:Signature is covered by the digest, so a ds:Object
 * carrying a forged PmtInf still verifies, and by default xmlsec follows
 * file:// references. So the structure is checked first, element by element,
 * against the one shape the bank profile allows: one Reference, URI="",
 * enveloped then exclusive C14N, SHA-256, RSA-SHA256 or ECDSA-SHA256. That
 * shape leaves nothing for a library to interpret, and the check is then
 * done directly: the document without its signature, canonicalised
 * (proto/c14n.c) and hashed, against DigestValue; the certificate of
 * KeyInfo chained to the trust store (validity and revocation included);
 * SignedInfo, canonicalised alone, against SignatureValue with the
 * certificate's key; the signer's own checks. The certificates themselves
 * (decoding, the cache of chains that verified, revocation, the chain,
 * the company named) are proto/signercert.c's. xmlsec's own
 * verification built XPath node sets for the enveloped transform that cost
 * more than everything else a sheet needs (tests/bench/RESULTS.md), and
 * needs the whole document as a tree, which a 100,000-line sheet read as a
 * stream never is (proto/sheetstream.c hashes its canonical form as it
 * parses and calls sigverify_digest).
 *
 * Never owns or changes a document, never logs; thread-safe (what calls
 * share is the trust store, and signercert.c locks its cache).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/tree.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/base64.h>

#include "c14n.h"
#include "sheet.h"
#include "signercert.h"
#include "sigtrust.h"
#include "xmlsig.h"

#define DS_NS		"http://www.w3.org/2000/09/xmldsig#"
#define ALG_EXC_C14N	"http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_ENVELOPED	"http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_RSA_SHA256	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_SHA256	"http://www.w3.org/2001/04/xmlenc#sha256"

/* ------------------------------------------------------------------ */
/* Small DOM helpers: element tests by namespace and local name.       */

static bool
is_elem(xmlNodePtr n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

static bool
is_ds(xmlNodePtr n, const char *name)
{
	return is_elem(n, DS_NS, name);
}

static xmlNodePtr
next_elem(xmlNodePtr n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static xmlNodePtr
first_elem(xmlNodePtr parent)
{
	return next_elem(parent->children);
}

static xmlNodePtr
after_elem(xmlNodePtr n)
{
	return next_elem(n->next);
}

/* True if the (whitespace-trimmed) text content of n is not empty. */
static bool
has_text(xmlNodePtr n)
{
	xmlChar		*s;
	const xmlChar	*p;
	bool		 found = false;

	if ((s = xmlNodeGetContent(n)) == NULL)
		return false;
	for (p = s; *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			found = true;
			break;
		}
	xmlFree(s);
	return found;
}

/* A short name for an algorithm URI, for messages. The URI itself is not
 * echoed: it is sender-controlled text of any length and content. */
static const char *
alg_name(const char *uri)
{
	static const struct {
		const char	*uri;
		const char	*name;
	} known[] = {
		{ ALG_EXC_C14N, "exc-c14n" },
		{ ALG_EXC_C14N "WithComments", "exc-c14n with comments" },
		{ "http://www.w3.org/TR/2001/REC-xml-c14n-20010315", "c14n" },
		{ "http://www.w3.org/2006/12/xml-c14n11", "c14n 1.1" },
		{ ALG_ENVELOPED, "enveloped-signature" },
		{ ALG_RSA_SHA256, "rsa-sha256" },
		{ ALG_ECDSA_SHA256, "ecdsa-sha256" },
		{ ALG_SHA256, "sha256" },
		{ DS_NS "rsa-sha1", "rsa-sha1" },
		{ DS_NS "dsa-sha1", "dsa-sha1" },
		{ DS_NS "hmac-sha1", "hmac-sha1" },
		{ DS_NS "sha1", "sha1" },
		{ DS_NS "base64", "base64" },
		{ "http://www.w3.org/TR/1999/REC-xpath-19991116", "xpath" },
		{ "http://www.w3.org/2002/06/xmldsig-filter2", "xpath filter 2" },
		{ "http://www.w3.org/TR/1999/REC-xslt-19991116", "xslt" },
	};
	size_t	i;

	if (uri == NULL)
		return "(none)";
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(uri, known[i].uri) == 0)
			return known[i].name;
	return "an unsupported algorithm";
}

/*
 * Checks that element n has Algorithm equal to one of want[0..nwant).
 * Returns the index matched, or -1 with WP30 naming what (e.g.
 * "SignatureMethod").
 */
static int
check_alg(xmlNodePtr n, const char *what, const char *const *want,
    size_t nwant, struct perr *err)
{
	xmlChar	*alg;
	size_t	 i;
	int	 found = -1;

	alg = xmlGetNoNsProp(n, BAD_CAST "Algorithm");
	for (i = 0; alg != NULL && i < nwant; i++)
		if (strcmp((const char *)alg, want[i]) == 0) {
			found = (int)i;
			break;
		}
	if (found < 0) {
		if (nwant == 1)
			perr_set(err, "WP30", "signature %s must be %s, not %s",
			    what, alg_name(want[0]), alg_name((const char *)alg));
		else
			perr_set(err, "WP30", "signature %s must be %s or %s, "
			    "not %s", what, alg_name(want[0]),
			    alg_name(want[1]), alg_name((const char *)alg));
	}
	xmlFree(alg);
	return found;
}

/* An algorithm element with no children, or (exc-c14n only) an
 * ec:InclusiveNamespaces, which changes no coverage. */
static int
check_alg_children(xmlNodePtr n, const char *what, bool c14n,
    struct perr *err)
{
	xmlNodePtr	c = first_elem(n);

	if (c != NULL && c14n && is_elem(c, ALG_EXC_C14N, "InclusiveNamespaces"))
		c = after_elem(c);
	if (c != NULL)
		return perr_set(err, "WP30", "signature %s must not have child "
		    "elements (found %s)", what, (const char *)c->name);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The structure of the one allowed signature.                          */

/*
 * Walks a subtree (not only where a signature should be, since a second
 * one or a ds:Object anywhere is a sign of a wrapping attempt), counting
 * ds:Signature elements and refusing ds:Object and ds:Manifest.
 */
static int
scan_ds(xmlNodePtr top, size_t *count, xmlNodePtr *first, struct perr *err)
{
	xmlNodePtr	n = top;

	while (n != NULL) {
		/* the namespace first: asked of every element of a sheet,
		 * and almost none is in ds */
		if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
		    n->ns->href != NULL && strcmp((const char *)n->ns->href,
		    DS_NS) == 0) {
			if (is_ds(n, "Signature")) {
				if ((*count)++ == 0 && first != NULL)
					*first = n;
			} else if (is_ds(n, "Object"))
				return perr_set(err, "WP30", "ds:Object is not "
				    "allowed in a signed sheet");
			else if (is_ds(n, "Manifest"))
				return perr_set(err, "WP30", "ds:Manifest is not "
				    "allowed in a signed sheet");
		}
		/* Depth-first, iteratively: the depth is bounded by the
		 * parser, but recursion is not needed. */
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != top && n->next == NULL)
			n = n->parent;
		n = n == top ? NULL : n->next;
	}
	return 0;
}

int
sigverify_scan(xmlNodePtr subtree, size_t *signatures, struct perr *err)
{
	return scan_ds(subtree, signatures, NULL, err);
}

/* The one signature of the document; elsewhere counts the ds:Signature
 * elements of parts of it already freed (sigverify_scan). */
static int
find_signature(xmlDocPtr doc, size_t elsewhere, xmlNodePtr *sigp,
    struct perr *err)
{
	xmlNodePtr	sig = NULL;
	size_t		count = elsewhere;

	if (scan_ds(xmlDocGetRootElement(doc), &count, &sig, err) == -1)
		return -1;
	if (count == 0)
		return perr_set(err, "WP30", "sheet is not signed: no "
		    "ds:Signature element");
	if (count > 1)
		return perr_set(err, "WP30", "sheet carries %zu ds:Signature "
		    "elements; exactly one is allowed", count);
	if (sig == NULL)	/* the one there was, inside a transaction */
		return perr_set(err, "WP30", "signature must be placed in "
		    "CstmrCdtTrfInitn/SplmtryData/Envlp");
	*sigp = sig;
	return 0;
}

/* The signature must sit in the sheet's own
 * Document/CstmrCdtTrfInitn/SplmtryData/Envlp, alone. */
static int
check_placement(xmlDocPtr doc, xmlNodePtr sig, struct perr *err)
{
	xmlNodePtr	root = xmlDocGetRootElement(doc);
	xmlNodePtr	envlp = sig->parent, sd, init;

	if (!is_elem(root, PAIN001_NS, "Document") ||
	    !is_elem(first_elem(root), PAIN001_NS, "CstmrCdtTrfInitn"))
		return perr_set(err, "WP30", "document is not a pain.001.001.10 "
		    "CstmrCdtTrfInitn");
	if (!is_elem(envlp, PAIN001_NS, "Envlp") ||
	    !is_elem((sd = envlp->parent), PAIN001_NS, "SplmtryData") ||
	    !is_elem((init = sd->parent), PAIN001_NS, "CstmrCdtTrfInitn") ||
	    init->parent != root)
		return perr_set(err, "WP30", "signature must be placed in "
		    "CstmrCdtTrfInitn/SplmtryData/Envlp");
	if (first_elem(envlp) != sig || after_elem(sig) != NULL)
		return perr_set(err, "WP30", "signature must be the only "
		    "element in its SplmtryData/Envlp");
	return 0;
}

static int
check_reference(xmlNodePtr ref, struct perr *err)
{
	static const char *const enveloped[] = { ALG_ENVELOPED };
	static const char *const c14n[] = { ALG_EXC_C14N };
	static const char *const sha256[] = { ALG_SHA256 };
	xmlNodePtr	 transforms, t1, t2, dm, dv;
	xmlChar		*uri;
	int		 rc;

	if (xmlHasNsProp(ref, BAD_CAST "URI", NULL) == NULL)
		return perr_set(err, "WP30", "signature reference must have "
		    "URI=\"\"");
	uri = xmlGetNoNsProp(ref, BAD_CAST "URI");
	rc = uri != NULL && uri[0] == '\0' ? 0 : uri != NULL && uri[0] == '#' ?
	    perr_set(err, "WP30", "signature reference must have URI=\"\", "
	    "not a fragment of the document") :
	    perr_set(err, "WP30", "signature reference must have URI=\"\", "
	    "not an external URI");
	xmlFree(uri);
	if (rc == -1)
		return -1;

	transforms = first_elem(ref);
	if (!is_ds(transforms, "Transforms"))
		return perr_set(err, "WP30", "signature reference must have "
		    "Transforms: enveloped-signature, then exc-c14n");
	t1 = first_elem(transforms);
	t2 = t1 != NULL ? after_elem(t1) : NULL;
	if (!is_ds(t1, "Transform") || !is_ds(t2, "Transform") ||
	    after_elem(t2) != NULL)
		return perr_set(err, "WP30", "signature reference must have "
		    "exactly two transforms: enveloped-signature, then "
		    "exc-c14n");
	if (check_alg(t1, "first transform", enveloped, 1, err) < 0 ||
	    check_alg_children(t1, "first transform", false, err) == -1 ||
	    check_alg(t2, "second transform", c14n, 1, err) < 0 ||
	    check_alg_children(t2, "second transform", true, err) == -1)
		return -1;

	dm = after_elem(transforms);
	if (!is_ds(dm, "DigestMethod"))
		return perr_set(err, "WP30", "signature reference must have "
		    "a DigestMethod after its Transforms");
	if (check_alg(dm, "DigestMethod", sha256, 1, err) < 0 ||
	    check_alg_children(dm, "DigestMethod", false, err) == -1)
		return -1;
	dv = after_elem(dm);
	if (!is_ds(dv, "DigestValue") || after_elem(dv) != NULL)
		return perr_set(err, "WP30", "signature reference must end "
		    "with one DigestValue");
	if (!has_text(dv))
		return perr_set(err, "WP30", "signature is not filled in: "
		    "DigestValue is empty");
	return 0;
}

/* Returns 1 for ECDSA, 0 for RSA, -1 with err set. */
static int
check_signed_info(xmlNodePtr si, struct perr *err)
{
	static const char *const c14n[] = { ALG_EXC_C14N };
	static const char *const methods[] = { ALG_RSA_SHA256,
	    ALG_ECDSA_SHA256 };
	xmlNodePtr	cm, sm, ref;
	int		method;

	cm = first_elem(si);
	if (!is_ds(cm, "CanonicalizationMethod"))
		return perr_set(err, "WP30", "SignedInfo must start with "
		    "CanonicalizationMethod");
	if (check_alg(cm, "CanonicalizationMethod", c14n, 1, err) < 0 ||
	    check_alg_children(cm, "CanonicalizationMethod", true, err) == -1)
		return -1;
	sm = after_elem(cm);
	if (!is_ds(sm, "SignatureMethod"))
		return perr_set(err, "WP30", "SignedInfo must have "
		    "SignatureMethod after CanonicalizationMethod");
	if ((method = check_alg(sm, "SignatureMethod", methods, 2, err)) < 0 ||
	    check_alg_children(sm, "SignatureMethod", false, err) == -1)
		return -1;
	ref = after_elem(sm);
	if (!is_ds(ref, "Reference"))
		return perr_set(err, "WP30", "SignedInfo must have one "
		    "Reference");
	if (after_elem(ref) != NULL)
		return perr_set(err, "WP30", "SignedInfo must have exactly one "
		    "Reference");
	if (check_reference(ref, err) == -1)
		return -1;
	return method;
}

/* KeyInfo: exactly one X509Data holding at least one certificate. Nothing
 * else: a KeyValue or KeyName would let a key be used that no CA vouches
 * for, a RetrievalMethod would fetch. */
static int
check_key_info(xmlNodePtr ki, struct perr *err)
{
	xmlNodePtr	xd, c;
	size_t		ncerts = 0;

	xd = first_elem(ki);
	if (!is_ds(xd, "X509Data") || after_elem(xd) != NULL)
		return perr_set(err, "WP30", "signature KeyInfo must hold "
		    "exactly one X509Data and nothing else");
	for (c = first_elem(xd); c != NULL; c = after_elem(c)) {
		if (is_ds(c, "X509Certificate")) {
			if (!has_text(c))
				return perr_set(err, "WP30", "signature "
				    "X509Certificate is empty");
			ncerts++;
		} else if (!is_ds(c, "X509IssuerSerial") &&
		    !is_ds(c, "X509SubjectName") && !is_ds(c, "X509SKI"))
			return perr_set(err, "WP30", "signature X509Data may "
			    "hold only certificates (found %s)",
			    (const char *)c->name);
	}
	if (ncerts == 0)
		return perr_set(err, "WP30", "signature KeyInfo/X509Data "
		    "carries no certificate");
	if (ncerts > MAX_X509_CERTS)
		return perr_set(err, "WP30", "signature X509Data carries %zu "
		    "certificates; at most %d are accepted", ncerts,
		    MAX_X509_CERTS);
	return 0;
}

/* Returns 1 for ECDSA, 0 for RSA, -1 with err set. */
static int
check_structure(xmlNodePtr sig, struct perr *err)
{
	xmlNodePtr	si, sv, ki;
	int		method;

	si = first_elem(sig);
	if (!is_ds(si, "SignedInfo"))
		return perr_set(err, "WP30", "signature must start with "
		    "SignedInfo");
	if ((method = check_signed_info(si, err)) == -1)
		return -1;
	sv = after_elem(si);
	if (!is_ds(sv, "SignatureValue"))
		return perr_set(err, "WP30", "signature must have a "
		    "SignatureValue after SignedInfo");
	if (!has_text(sv))
		return perr_set(err, "WP30", "signature is not filled in: "
		    "SignatureValue is empty");
	ki = after_elem(sv);
	if (!is_ds(ki, "KeyInfo"))
		return perr_set(err, "WP30", "signature must carry the "
		    "signer's certificate in KeyInfo/X509Data");
	if (after_elem(ki) != NULL)
		return perr_set(err, "WP30", "signature must end with KeyInfo "
		    "(found %s)", (const char *)after_elem(ki)->name);
	if (check_key_info(ki, err) == -1)
		return -1;
	return method;
}

/* The DER of each X509Certificate of KeyInfo/X509Data, base64-decoded in
 * place (check_key_info allows at most MAX_X509_CERTS); WP30 if one is
 * not base64. */
static void
ders_free(struct signer_ders *d)
{
	while (d->n > 0)
		xmlFree(d->der[--d->n]);
}

static int
doc_ders(xmlNodePtr sig, struct signer_ders *d, struct perr *err)
{
	xmlNodePtr	 ki, c;
	xmlChar		*b64;
	xmlSecSize	 n;

	d->n = 0;
	for (ki = first_elem(sig); ki != NULL && !is_ds(ki, "KeyInfo");)
		ki = after_elem(ki);
	c = ki != NULL && first_elem(ki) != NULL ?
	    first_elem(first_elem(ki)) : NULL;
	for (; c != NULL; c = after_elem(c)) {
		if (!is_ds(c, "X509Certificate"))
			continue;
		if (d->n == MAX_X509_CERTS ||
		    (b64 = xmlNodeGetContent(c)) == NULL) {
			ders_free(d);
			return perr_set(err, "WP30", "signature X509Data could "
			    "not be read");
		}
		if (xmlSecBase64DecodeInPlace(b64, &n) != 0 || n == 0) {
			xmlFree(b64);
			ders_free(d);
			return perr_set(err, "WP30", "signature X509Certificate "
			    "is not a base64 DER certificate");
		}
		d->der[d->n] = b64;
		d->len[d->n++] = (size_t)n;
	}
	return 0;
}

/* The certificates of the signature's KeyInfo into sc (signercert.h). */
static int
load_certs(struct sigtrust *st, xmlNodePtr sig, struct signer_certs *sc,
    struct perr *err)
{
	struct signer_ders	d;
	int			rc;

	if (doc_ders(sig, &d, err) == -1)
		return -1;
	rc = signercert_load(st, &d, sc, err);
	ders_free(&d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The check itself.                                                    */

static int
verify_update_cb(void *ctx, const char *data, int len)
{
	return EVP_DigestVerifyUpdate(ctx, data, (size_t)len) == 1 ? len : -1;
}

static int
close_cb(void *ctx)
{
	(void)ctx;
	return 0;
}

static int
b64_value(xmlNodePtr n, unsigned char *out, size_t cap)
{
	xmlChar		*t = n ? xmlNodeGetContent(n) : NULL;
	xmlSecSize	 len;

	if (t == NULL || xmlSecBase64DecodeInPlace(t, &len) != 0 || len > cap) {
		xmlFree(t);
		return -1;
	}
	memcpy(out, t, len);
	xmlFree(t);
	return (int)len;
}

static xmlNodePtr
ds_child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	n;

	for (n = parent ? first_elem(parent) : NULL; n != NULL; n = after_elem(n))
		if (is_ds(n, name))
			return n;
	return NULL;
}

/*
 * An XML signature's ECDSA value is r||s, each as long as the curve's
 * order; OpenSSL verifies the DER form. NULL if the length is wrong.
 */
static unsigned char *
ecdsa_der(EVP_PKEY *pkey, const unsigned char *rs, size_t len, size_t *derlen)
{
	ECDSA_SIG	*s;
	BIGNUM		*r, *ss;
	unsigned char	*der = NULL;
	size_t		 half = ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
	int		 n;

	if (half == 0 || len != 2 * half || (s = ECDSA_SIG_new()) == NULL)
		return NULL;
	r = BN_bin2bn(rs, (int)half, NULL);
	ss = BN_bin2bn(rs + half, (int)half, NULL);
	if (r == NULL || ss == NULL || ECDSA_SIG_set0(s, r, ss) != 1) {
		BN_free(r);
		BN_free(ss);
		ECDSA_SIG_free(s);
		return NULL;
	}
	n = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return NULL;
	*derlen = (size_t)n;
	return der;
}

/* SignedInfo, canonicalised alone (exclusive, as its CanonicalizationMethod
 * says: check_signed_info allows no other), against SignatureValue. */
static int
check_signature_value(xmlNodePtr sig, EVP_PKEY *pkey, bool is_ec,
    struct perr *err)
{
	xmlNodePtr		 si = ds_child(sig, "SignedInfo"), copy;
	xmlDocPtr		 sidoc = NULL;
	xmlOutputBufferPtr	 ob;
	EVP_MD_CTX		*h = NULL;
	unsigned char		 sv[1024], *der = NULL;
	size_t			 derlen = 0;
	int			 svlen, n, rc = -1;

	if ((svlen = b64_value(ds_child(sig, "SignatureValue"), sv,
	    sizeof(sv))) <= 0 ||
	    (is_ec && (der = ecdsa_der(pkey, sv, (size_t)svlen,
	    &derlen)) == NULL)) {
		perr_set(err, "WP30", "malformed SignatureValue");
		goto done;
	}
	if ((sidoc = xmlNewDoc(BAD_CAST "1.0")) == NULL ||
	    (copy = xmlDocCopyNode(si, sidoc, 1)) == NULL) {
		perr_set(err, "WP30", "out of memory");
		goto done;
	}
	xmlDocSetRootElement(sidoc, copy);
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(h, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    (ob = xmlOutputBufferCreateIO(verify_update_cb, close_cb, h,
	    NULL)) == NULL) {
		perr_set(err, "WP30", "could not set up signature verification");
		goto done;
	}
	n = xmlC14NDocSaveTo(sidoc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, ob);
	if (xmlOutputBufferClose(ob) < 0 || n < 0 ||
	    EVP_DigestVerifyFinal(h, is_ec ? der : sv, is_ec ? derlen :
	    (size_t)svlen) != 1) {
		perr_set(err, "WP31", "signature does not verify: SignatureValue "
		    "does not match SignedInfo and the signer's key");
		goto done;
	}
	rc = 0;
done:
	OPENSSL_free(der);
	EVP_MD_CTX_free(h);
	xmlFreeDoc(sidoc);
	return rc;
}

/* After the structure checks: digest, certificate, signature value. sc
 * holds the certificates if the revocation check loaded them. */
static int
check_signature(struct sigtrust *st, xmlNodePtr sig, bool is_ec,
    const unsigned char md[SHA256_LEN], struct signer_certs *sc,
    char signer[WP_USCC_LEN], struct perr *err)
{
	unsigned char	 want[64];
	X509		*leaf = NULL;
	EVP_PKEY	*pkey;
	int		 rc = -1;

	if (b64_value(ds_child(ds_child(ds_child(sig, "SignedInfo"),
	    "Reference"), "DigestValue"), want, sizeof(want)) != SHA256_LEN ||
	    CRYPTO_memcmp(md, want, SHA256_LEN) != 0) {
		perr_set(err, "WP31", "signature does not verify: the sheet was "
		    "changed after it was signed");
		goto done;
	}
	if ((sc->certs == NULL && load_certs(st, sig, sc, err) == -1) ||
	    (pkey = signercert_key(st, sc, is_ec, &leaf, err)) == NULL ||
	    check_signature_value(sig, pkey, is_ec, err) == -1)
		goto done;
	rc = signercert_uscc(leaf, signer, err);
done:
	ERR_clear_error();
	return rc;
}

int
sigverify_digest(struct sigtrust *st, xmlDocPtr doc,
    const unsigned char md[SHA256_LEN], size_t elsewhere,
    char signer[WP_USCC_LEN], struct perr *err)
{
	struct signer_certs	 sc = { .certs = NULL };
	xmlNodePtr		 sig = NULL;
	int			 method, rc = -1;

	signer[0] = '\0';
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL)
		return perr_set(err, "WP30", "no document to verify");
	if (find_signature(doc, elsewhere, &sig, err) == -1 ||
	    check_placement(doc, sig, err) == -1 ||
	    (method = check_structure(sig, err)) == -1)
		return -1;
	/* revocation first, as before the digest: a revoked signer is told
	 * so whatever the sheet says */
	if (st->crls != NULL && (load_certs(st, sig, &sc, err) == -1 ||
	    (!sc.known && signercert_revocation(st, &sc, err) == -1)))
		goto done;
	rc = check_signature(st, sig, method == 1, md, &sc, signer, err);
done:
	signercert_free(&sc);
	ERR_clear_error();	/* a refused certificate's decoding errors too */
	return rc;
}

static int
digest_cb(void *arg, const unsigned char *buf, size_t len)
{
	return EVP_DigestUpdate(arg, buf, len) == 1 ? 0 : -1;
}

int
sigverify_doc_digest(xmlDocPtr doc, unsigned char md[SHA256_LEN])
{
	EVP_MD_CTX	*h;
	struct c14n	*c = NULL;
	xmlNodePtr	 n;
	bool		 after_root = false;
	int		 rc = -1;

	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
	    (c = c14n_new(digest_cb, h)) == NULL)
		goto done;
	for (n = doc->children; n != NULL; n = n->next) {
		if (c14n_node(c, n, after_root) == -1)
			goto done;
		if (n->type == XML_ELEMENT_NODE)
			after_root = true;
	}
	if (c14n_flush(c) == 0 && EVP_DigestFinal_ex(h, md, NULL) == 1)
		rc = 0;
done:
	c14n_free(c);
	EVP_MD_CTX_free(h);
	return rc;
}

int
sigverify_sheet(struct sigtrust *st, xmlDocPtr doc,
    char signer[WP_USCC_LEN], struct perr *err)
{
	unsigned char	md[SHA256_LEN];

	signer[0] = '\0';
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL)
		return perr_set(err, "WP30", "no document to verify");
	if (sigverify_doc_digest(doc, md) == -1)
		return perr_set(err, "WP30", "could not canonicalise the sheet");
	return sigverify_digest(st, doc, md, 0, signer, err);
}
