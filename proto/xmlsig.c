/*
 * xmlsig.c: XML signatures with xmlsec1 (OpenSSL backend): strict
 * verification of the subcontractor's enveloped signature on a wage sheet,
 * and the bank's own enveloped signature on vouchers and alerts.
 *
 * Responsible for deciding whether a sheet carries exactly one acceptable
 * signature and whose it is. xmlsec alone is not enough (STYLE.md "sharp
 * edges"): with Reference URI="" and the enveloped transform nothing inside
 * ds:Signature is covered by the digest, so a ds:Object carrying a forged
 * PmtInf still verifies, and by default xmlsec follows file:// references.
 * So the structure is checked here first, element by element, against the
 * one shape the bank profile allows; only then is xmlsec run, itself
 * restricted to same-document references, the allowed transforms and keys
 * from X509Data chaining to the trusted CA.
 *
 * Owns the xmlsec keys managers (struct sigtrust) and signing keys (struct
 * signer); never owns or changes a document it verifies, never logs. A
 * sigtrust and a signer are only read after loading, so worker threads may
 * share them (xmlsec verifies certificates with a fresh X509_STORE_CTX per
 * call). xmlsec's process-wide state is set up once by xmlsig_init, and its
 * error callback records nothing: the messages given back are derived from
 * the document and the verification context instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/c14n.h>
#include <libxml/tree.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/templates.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/base64.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>

#include "ids.h"
#include "sheet.h"
#include "xmlsig.h"

#define DS_NS		"http://www.w3.org/2000/09/xmldsig#"
#define ALG_EXC_C14N	"http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_ENVELOPED	"http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_RSA_SHA256	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_SHA256	"http://www.w3.org/2001/04/xmlenc#sha256"

/* More certificates than a leaf and a few intermediates is not a signer's
 * chain but work for an attacker: each one is parsed and tried. */
#define MAX_X509_CERTS	8

/* A key or certificate file larger than this is not one. */
#define PEM_FILE_MAX	(256u * 1024u)

struct sigtrust {
	xmlSecKeysMngrPtr	 mngr;	/* owned: the trusted CA certificates */
	X509_STORE		*store;	/* owned: the same CAs (fast path, explanations) */
	STACK_OF(X509_CRL)	*crls;	/* owned: revocation lists, each verified
					 * against a trusted CA; NULL if none */
};

struct signer {
	xmlSecKeyPtr		 key;	/* owned: private key + its certificate */
	bool			 is_ec;	/* else RSA */
};

/*
 * xmlsec reports every error through one process-wide callback, by default
 * printing to stderr. proto/ does not log and must stay thread-safe, so the
 * callback drops the text; callers get a message built from what failed.
 */
static void
xmlsig_errors_cb(const char *file, int line, const char *func,
    const char *object, const char *subject, int reason, const char *msg)
{
	(void)file; (void)line; (void)func; (void)object; (void)subject;
	(void)reason; (void)msg;
}

int
xmlsig_init(void)
{
	xmlInitParser();
	if (xmlSecInit() < 0)
		return -1;
	if (xmlSecCheckVersion() != 1)
		goto fail_xmlsec;
	if (xmlSecCryptoAppInit(NULL) < 0)
		goto fail_xmlsec;
	if (xmlSecCryptoInit() < 0)
		goto fail_app;
	/* Last: the crypto initialisation installs its own callback. */
	xmlSecErrorsSetCallback(xmlsig_errors_cb);
	return 0;
fail_app:
	xmlSecCryptoAppShutdown();
fail_xmlsec:
	xmlSecShutdown();
	return -1;
}

void
xmlsig_shutdown(void)
{
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
}

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
 * Walks the whole document (not only where a signature should be, since a
 * second one or a ds:Object anywhere is a sign of a wrapping attempt),
 * counting ds:Signature elements and refusing ds:Object and ds:Manifest.
 */
static int
find_signature(xmlDocPtr doc, xmlNodePtr *sigp, struct perr *err)
{
	xmlNodePtr	n = xmlDocGetRootElement(doc);
	xmlNodePtr	sig = NULL;
	size_t		count = 0;

	while (n != NULL) {
		if (n->type == XML_ELEMENT_NODE) {
			if (is_ds(n, "Signature")) {
				if (count++ == 0)
					sig = n;
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
		while (n != NULL && n->next == NULL)
			n = n->parent != NULL && n->parent->type ==
			    XML_ELEMENT_NODE ? n->parent : NULL;
		if (n != NULL)
			n = n->next;
	}
	if (count == 0)
		return perr_set(err, "WP30", "sheet is not signed: no "
		    "ds:Signature element");
	if (count > 1)
		return perr_set(err, "WP30", "sheet carries %zu ds:Signature "
		    "elements; exactly one is allowed", count);
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

/* ------------------------------------------------------------------ */
/* Certificates.                                                        */

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
	unsigned char	*der;
	int		 i, len;

	if ((certs = read_pem_certs(ca_file, err)) == NULL)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->store = X509_STORE_new()) == NULL ||
	    (st->mngr = xmlSecKeysMngrCreate()) == NULL ||
	    xmlSecCryptoAppDefaultKeysMngrInit(st->mngr) < 0) {
		perr_set(err, "FF01", "could not set up a keys manager");
		goto fail;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509	*x = sk_X509_value(certs, i);

		/* One certificate at a time, as DER: xmlsec's file loader
		 * reads only the first certificate of a PEM file. */
		der = NULL;
		if ((len = i2d_X509(x, &der)) <= 0 ||
		    xmlSecCryptoAppKeysMngrCertLoadMemory(st->mngr, der,
		    (xmlSecSize)len, xmlSecKeyDataFormatDer,
		    xmlSecKeyDataTypeTrusted) < 0 ||
		    X509_STORE_add_cert(st->store, x) != 1) {
			OPENSSL_free(der);
			perr_set(err, "FF01", "could not load certificate %d "
			    "of CA file \"%s\"", i + 1, ca_file);
			goto fail;
		}
		OPENSSL_free(der);
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
	if (st->mngr != NULL)
		xmlSecKeysMngrDestroy(st->mngr);
	X509_STORE_free(st->store);
	sk_X509_CRL_pop_free(st->crls, X509_CRL_free);
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
	return 0;
}

static STACK_OF(X509)	*doc_certs(xmlNodePtr, struct perr *);
static void		 cert_time(const ASN1_TIME *, char *, size_t);

/* WP32 if the signer's certificate is on a revocation list of its CA. */
static int
check_revocation(struct sigtrust *st, xmlNodePtr sig, struct perr *err)
{
	STACK_OF(X509)	*certs;
	X509		*leaf = NULL;
	X509_REVOKED	*rev;
	X509_CRL	*crl;
	char		 when[64];
	int		 i, rc = 0;

	if (st->crls == NULL)
		return 0;
	if ((certs = doc_certs(sig, err)) == NULL)
		return -1;
	for (i = 0; i < sk_X509_num(certs) && leaf == NULL; i++)
		if (X509_check_ca(sk_X509_value(certs, i)) == 0)
			leaf = sk_X509_value(certs, i);
	for (i = 0; leaf != NULL && i < sk_X509_CRL_num(st->crls); i++) {
		crl = sk_X509_CRL_value(st->crls, i);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		    X509_get_issuer_name(leaf)) != 0)
			continue;
		if (X509_CRL_get0_by_cert(crl, &rev, leaf) == 1) {
			cert_time(X509_REVOKED_get0_revocationDate(rev), when,
			    sizeof(when));
			rc = perr_set(err, "WP32", "certificate of signer was "
			    "revoked on %s", when);
			break;
		}
	}
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* The certificates of KeyInfo/X509Data, decoded; NULL with WP30 if one is
 * not base64 DER. */
static STACK_OF(X509) *
doc_certs(xmlNodePtr sig, struct perr *err)
{
	STACK_OF(X509)		*certs;
	xmlNodePtr		 ki, c;
	xmlChar			*b64;
	xmlSecSize		 n;
	const unsigned char	*p;
	X509			*x;

	if ((certs = sk_X509_new_null()) == NULL) {
		perr_set(err, "WP30", "out of memory");
		return NULL;
	}
	for (ki = first_elem(sig); ki != NULL && !is_ds(ki, "KeyInfo");)
		ki = after_elem(ki);
	c = ki != NULL && first_elem(ki) != NULL ?
	    first_elem(first_elem(ki)) : NULL;
	for (; c != NULL; c = after_elem(c)) {
		if (!is_ds(c, "X509Certificate"))
			continue;
		x = NULL;
		if ((b64 = xmlNodeGetContent(c)) != NULL &&
		    xmlSecBase64DecodeInPlace(b64, &n) == 0) {
			p = b64;
			x = d2i_X509(NULL, &p, (long)n);
		}
		xmlFree(b64);
		if (x == NULL || sk_X509_push(certs, x) <= 0) {
			X509_free(x);
			sk_X509_pop_free(certs, X509_free);
			perr_set(err, "WP30", "signature X509Certificate is not "
			    "a base64 DER certificate");
			return NULL;
		}
	}
	return certs;
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

/*
 * xmlsec found no usable key. Says why, in the sender's terms: run the
 * certificate of the signer through OpenSSL against the same CAs and name
 * the failure (WP32), or a key that cannot go with the SignatureMethod
 * (WP30). Never accepts anything: it only explains a refusal.
 */
static int
explain_key_failure(struct sigtrust *st, xmlNodePtr sig, bool is_ec,
    struct perr *err)
{
	STACK_OF(X509)	*certs;
	X509_STORE_CTX	*xsc = NULL;
	X509		*leaf = NULL;
	EVP_PKEY	*pkey;
	char		 when[64];
	int		 i, e = X509_V_OK;
	bool		 key_is_ec;

	if ((certs = doc_certs(sig, err)) == NULL)
		return -1;
	for (i = 0; i < sk_X509_num(certs) && leaf == NULL; i++)
		if (X509_check_ca(sk_X509_value(certs, i)) == 0)
			leaf = sk_X509_value(certs, i);
	if (leaf == NULL && sk_X509_num(certs) > 0)
		leaf = sk_X509_value(certs, 0);
	if (leaf == NULL) {
		sk_X509_pop_free(certs, X509_free);
		return perr_set(err, "WP30", "signature KeyInfo/X509Data "
		    "carries no certificate");
	}
	pkey = X509_get0_pubkey(leaf);
	key_is_ec = pkey != NULL && EVP_PKEY_base_id(pkey) == EVP_PKEY_EC;
	if (pkey != NULL && key_is_ec != is_ec) {
		sk_X509_pop_free(certs, X509_free);
		return perr_set(err, "WP30", "SignatureMethod %s does not match "
		    "the signer's %s key", is_ec ? "ecdsa-sha256" : "rsa-sha256",
		    key_is_ec ? "EC" : "non-EC");
	}
	if ((xsc = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(xsc, st->store, leaf, certs) == 1 &&
	    X509_verify_cert(xsc) != 1)
		e = X509_STORE_CTX_get_error(xsc);
	X509_STORE_CTX_free(xsc);

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
		cert_time(X509_get0_notAfter(leaf), when, sizeof(when));
		perr_set(err, "WP32", "certificate of signer expired on %s",
		    when);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		cert_time(X509_get0_notBefore(leaf), when, sizeof(when));
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
	sk_X509_pop_free(certs, X509_free);
	return -1;
}

/* The signer certificate's subject serialNumber: the company's USCC. */
static int
signer_uscc(X509 *cert, char signer[WP_USCC_LEN], struct perr *err)
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

/* After a failed verification: did the digest or the SignatureValue fail? */
static bool
reference_failed(xmlSecDSigCtxPtr ctx)
{
	xmlSecSize		 i, n;
	xmlSecDSigReferenceCtxPtr r;

	n = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
	for (i = 0; i < n; i++) {
		r = (xmlSecDSigReferenceCtxPtr)xmlSecPtrListGetItem(
		    &ctx->signedInfoReferences, i);
		if (r != NULL && r->status != xmlSecDSigStatusSucceeded)
			return true;
	}
	return false;
}

/* Restricts a verification context to what the bank profile allows. */
static int
restrict_ctx(xmlSecDSigCtxPtr ctx)
{
	/* xmlsec keeps key data ids in a list of untyped pointers; the
	 * klass is const, the list is not: go through uintptr_t to keep
	 * -Wcast-qual quiet without a lie in a cast. */
	if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData,
	    (xmlSecPtr)(uintptr_t)xmlSecKeyDataX509Id) < 0)
		return -1;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty |
	    xmlSecTransformUriTypeSameDocument;
	/* Certificates must chain to the trusted CA at the current time:
	 * xmlsec's defaults, stated so that nobody turns them off. */
	ctx->keyInfoReadCtx.flags &= ~(unsigned int)
	    (XMLSEC_KEYINFO_FLAGS_X509DATA_DONT_VERIFY_CERTS |
	    XMLSEC_KEYINFO_FLAGS_X509DATA_SKIP_STRICT_CHECKS);
	ctx->keyInfoReadCtx.flags |=
	    XMLSEC_KEYINFO_FLAGS_X509DATA_STOP_ON_INVALID_CERT;
	ctx->keyInfoReadCtx.certsVerificationTime = 0;
	if (xmlSecDSigCtxEnableReferenceTransform(ctx,
	    xmlSecTransformEnvelopedId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx,
	    xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx,
	    xmlSecTransformSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx,
	    xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx,
	    xmlSecTransformRsaSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx,
	    xmlSecTransformEcdsaSha256Id) < 0)
		return -1;
	return 0;
}

/*
 * The RSA-SHA256 check without xmlsec's node sets. xmlsec applies the
 * enveloped-signature transform by building XPath node sets, which cost more
 * than everything else a sheet needs (tests/bench/RESULTS.md: 20.1 -> 7.4 ms
 * per 1,000 lines). The structure has already been checked to be exactly the
 * one form we accept (check_structure, check_placement): one Reference,
 * URI="", enveloped then exclusive C14N, SHA-256. So the same result is had
 * directly: the document without the signature element, canonicalised
 * (exclusive, no comments) and hashed, compared with DigestValue; the
 * certificate chained to the trusted store (time validity included); then
 * SignedInfo, canonicalised alone, verified against SignatureValue with the
 * certificate's key; then the signer's own checks (signer_uscc: no CA, key
 * usage, one valid credit code). ECDSA stays with xmlsec (its XML signature
 * value is r||s, not DER).
 */

static int
fx_write_cb(void *ctx, const char *data, int len)
{
	return EVP_DigestUpdate(ctx, data, (size_t)len) == 1 ? len : -1;
}

static int
fx_verify_cb(void *ctx, const char *data, int len)
{
	return EVP_DigestVerifyUpdate(ctx, data, (size_t)len) == 1 ? len : -1;
}

static int
fx_close_cb(void *ctx)
{
	(void)ctx;
	return 0;
}

static int
fx_b64(xmlNodePtr n, unsigned char *out, size_t cap)
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
fx_child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	n;

	for (n = parent ? first_elem(parent) : NULL; n != NULL; n = after_elem(n))
		if (is_ds(n, name))
			return n;
	return NULL;
}

static int
fast_verify(struct sigtrust *st, xmlNodePtr sig, char signer[WP_USCC_LEN],
    struct perr *err)
{
	xmlDocPtr		 doc = sig->doc, sidoc = NULL;
	xmlNodePtr		 parent = sig->parent, prev = sig->prev, si, copy;
	unsigned char		 md[32], want[64], sv[1024];
	EVP_MD_CTX		*h = NULL;
	xmlOutputBufferPtr	 ob;
	STACK_OF(X509)		*certs = NULL;
	X509_STORE_CTX		*xs = NULL;
	X509			*leaf = NULL;
	EVP_PKEY		*pkey = NULL;
	int			 rc = -1, n, svlen;

	si = fx_child(sig, "SignedInfo");
	/* the enveloped-signature transform: the document without sig */
	xmlUnlinkNode(sig);
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
	    (ob = xmlOutputBufferCreateIO(fx_write_cb, fx_close_cb, h, NULL)) == NULL)
		n = -1;
	else {
		n = xmlC14NDocSaveTo(doc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, ob);
		if (xmlOutputBufferClose(ob) < 0 || EVP_DigestFinal_ex(h, md, NULL) != 1)
			n = -1;
	}
	if (prev != NULL)
		xmlAddNextSibling(prev, sig);
	else
		xmlAddChild(parent, sig);
	EVP_MD_CTX_free(h);
	h = NULL;
	if (n < 0) {
		perr_set(err, "WP30", "could not canonicalise the sheet");
		goto done;
	}
	if (fx_b64(fx_child(fx_child(si, "Reference"), "DigestValue"), want,
	    sizeof(want)) != 32 || CRYPTO_memcmp(md, want, 32) != 0) {
		perr_set(err, "WP31", "signature does not verify: the sheet was "
		    "changed after it was signed");
		goto done;
	}
	if ((certs = doc_certs(sig, err)) == NULL)
		goto done;
	/* the leaf: the first certificate that is not a CA, as
	 * explain_key_failure picks it */
	for (n = 0; n < sk_X509_num(certs) && leaf == NULL; n++)
		if (X509_check_ca(sk_X509_value(certs, n)) == 0)
			leaf = sk_X509_value(certs, n);
	if (leaf == NULL || (pkey = X509_get0_pubkey(leaf)) == NULL ||
	    EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA ||
	    (xs = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(xs, st->store, leaf, certs) != 1 ||
	    X509_verify_cert(xs) != 1) {
		/* says precisely why: no certificate, a key that is not
		 * RSA, another CA, expired, ... */
		explain_key_failure(st, sig, false, err);
		goto done;
	}
	if ((svlen = fx_b64(fx_child(sig, "SignatureValue"), sv, sizeof(sv))) <= 0 ||
	    (sidoc = xmlNewDoc(BAD_CAST "1.0")) == NULL ||
	    (copy = xmlDocCopyNode(si, sidoc, 1)) == NULL) {
		perr_set(err, "WP30", "malformed SignatureValue");
		goto done;
	}
	xmlDocSetRootElement(sidoc, copy);
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(h, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    (ob = xmlOutputBufferCreateIO(fx_verify_cb, fx_close_cb, h, NULL)) == NULL) {
		perr_set(err, "WP30", "could not set up signature verification");
		goto done;
	}
	n = xmlC14NDocSaveTo(sidoc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, ob);
	if (xmlOutputBufferClose(ob) < 0 || n < 0 ||
	    EVP_DigestVerifyFinal(h, sv, (size_t)svlen) != 1) {
		perr_set(err, "WP31", "signature does not verify: SignatureValue "
		    "does not match SignedInfo and the signer's key");
		goto done;
	}
	rc = signer_uscc(leaf, signer, err);
done:
	EVP_MD_CTX_free(h);
	X509_STORE_CTX_free(xs);
	sk_X509_pop_free(certs, X509_free);
	xmlFreeDoc(sidoc);
	ERR_clear_error();
	return rc;
}

int
sigtrust_verify_sheet(struct sigtrust *st, xmlDocPtr doc,
    char signer[WP_USCC_LEN], struct perr *err)
{
	xmlSecDSigCtxPtr	 ctx = NULL;
	xmlSecKeyDataPtr	 x509;
	X509			*cert;
	xmlNodePtr		 sig = NULL;
	int			 method, rc = -1;

	signer[0] = '\0';
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL)
		return perr_set(err, "WP30", "no document to verify");
	if (find_signature(doc, &sig, err) == -1 ||
	    check_placement(doc, sig, err) == -1 ||
	    (method = check_structure(sig, err)) == -1 ||
	    check_revocation(st, sig, err) == -1)
		return -1;
	if (method == 0)	/* RSA-SHA256 */
		return fast_verify(st, sig, signer, err);

	if ((ctx = xmlSecDSigCtxCreate(st->mngr)) == NULL ||
	    restrict_ctx(ctx) == -1) {
		perr_set(err, "WP30", "could not set up signature verification");
		goto done;
	}
	if (xmlSecDSigCtxVerify(ctx, sig) < 0) {
		if (ctx->signKey == NULL)
			explain_key_failure(st, sig, method == 1, err);
		else
			perr_set(err, "WP30", "signature could not be processed "
			    "(malformed SignatureValue or DigestValue)");
		goto done;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		if (reference_failed(ctx))
			perr_set(err, "WP31", "signature does not verify: the "
			    "sheet was changed after it was signed");
		else
			perr_set(err, "WP31", "signature does not verify: "
			    "SignatureValue does not match SignedInfo and the "
			    "signer's key");
		goto done;
	}
	if (ctx->signKey == NULL ||
	    (x509 = xmlSecKeyGetData(ctx->signKey, xmlSecKeyDataX509Id)) ==
	    NULL || (cert = xmlSecOpenSSLKeyDataX509GetKeyCert(x509)) == NULL) {
		perr_set(err, "WP32", "signature key does not come from a "
		    "certificate");
		goto done;
	}
	rc = signer_uscc(cert, signer, err);
done:
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	/* xmlsec leaves its OpenSSL errors on this thread's queue, where a
	 * later TLS call on the same thread would find them. */
	ERR_clear_error();
	return rc;
}

/* ------------------------------------------------------------------ */
/* The bank's signature.                                               */

/*
 * Reads a small PEM file whole. xmlsec's own file loaders are not used:
 * in 1.2.37 they leak their BIO when the file cannot be opened, which a
 * SIGHUP with a wrong path would repeat.
 */
static unsigned char *
read_small_file(const char *path, size_t *lenp)
{
	unsigned char	*buf;
	FILE		*f;
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(PEM_FILE_MAX)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, PEM_FILE_MAX, f);
	if (ferror(f) || n == 0 || n == PEM_FILE_MAX) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*lenp = n;
	return buf;
}

struct signer *
signer_load(const char *key_file, const char *cert_file, struct perr *err)
{
	struct signer	*s;
	xmlSecKeyDataPtr value, x509;
	X509		*cert;
	EVP_PKEY	*pkey;
	unsigned char	*buf = NULL;
	size_t		 len = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	if ((buf = read_small_file(key_file, &len)) == NULL ||
	    (s->key = xmlSecCryptoAppKeyLoadMemory(buf, (xmlSecSize)len,
	    xmlSecKeyDataFormatPem, NULL, NULL, NULL)) == NULL) {
		perr_set(err, "FF01", "could not load signing key \"%s\"",
		    key_file);
		goto fail;
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	buf = NULL;
	value = xmlSecKeyGetValue(s->key);
	if (xmlSecKeyDataCheckId(value, xmlSecOpenSSLKeyDataEcdsaId))
		s->is_ec = true;
	else if (!xmlSecKeyDataCheckId(value, xmlSecOpenSSLKeyDataRsaId)) {
		perr_set(err, "FF01", "signing key \"%s\" is neither RSA nor EC",
		    key_file);
		goto fail;
	}
	if ((buf = read_small_file(cert_file, &len)) == NULL ||
	    xmlSecCryptoAppKeyCertLoadMemory(s->key, buf, (xmlSecSize)len,
	    xmlSecKeyDataFormatPem) < 0) {
		perr_set(err, "FF01", "could not load certificate \"%s\"",
		    cert_file);
		goto fail;
	}
	free(buf);
	buf = NULL;
	/* A certificate for another key would make every signature fail at
	 * the receiver: refuse it now, at start-up or reload. The file's
	 * first certificate is the signer's (any others are its chain). */
	x509 = xmlSecKeyGetData(s->key, xmlSecKeyDataX509Id);
	cert = x509 != NULL ? xmlSecOpenSSLKeyDataX509GetCert(x509, 0) : NULL;
	pkey = xmlSecOpenSSLEvpKeyDataGetEvp(value);
	if (cert == NULL || pkey == NULL || X509_check_private_key(cert,
	    pkey) != 1) {
		perr_set(err, "FF01", "certificate \"%s\" is not for the key "
		    "\"%s\"", cert_file, key_file);
		goto fail;
	}
	ERR_clear_error();
	return s;
fail:
	if (buf != NULL) {
		/* It may hold the private key. */
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	signer_free(s);
	ERR_clear_error();
	return NULL;
}

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	if (s->key != NULL)
		xmlSecKeyDestroy(s->key);
	free(s);
}

/* Builds the ds:Signature template as the last child of root. */
static xmlNodePtr
sign_template(xmlDocPtr doc, xmlNodePtr root, bool is_ec)
{
	xmlNodePtr	sig, ref, ki;

	sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId,
	    is_ec ? xmlSecTransformEcdsaSha256Id : xmlSecTransformRsaSha256Id,
	    NULL, BAD_CAST "ds");
	if (sig == NULL)
		return NULL;
	if (xmlAddChild(root, sig) == NULL) {
		xmlFreeNode(sig);
		return NULL;
	}
	if ((ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id,
	    NULL, BAD_CAST "", NULL)) == NULL ||
	    xmlSecTmplReferenceAddTransform(ref,
	    xmlSecTransformEnvelopedId) == NULL ||
	    xmlSecTmplReferenceAddTransform(ref,
	    xmlSecTransformExclC14NId) == NULL ||
	    (ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL)) == NULL ||
	    xmlSecTmplKeyInfoAddX509Data(ki) == NULL) {
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
		return NULL;
	}
	return sig;
}

int
signer_sign(struct signer *s, xmlDocPtr doc, struct perr *err)
{
	xmlSecDSigCtxPtr	 ctx;
	xmlNodePtr		 root, sig;
	int			 rc = -1;

	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL)
		return perr_set(err, "FF01", "no document to sign");
	if ((sig = sign_template(doc, root, s->is_ec)) == NULL)
		return perr_set(err, "FF01", "could not build the signature "
		    "template");
	if ((ctx = xmlSecDSigCtxCreate(NULL)) == NULL ||
	    (ctx->signKey = xmlSecKeyDuplicate(s->key)) == NULL) {
		perr_set(err, "FF01", "could not set up signing");
		goto done;
	}
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	if (xmlSecDSigCtxSign(ctx, sig) < 0) {
		perr_set(err, "FF01", "could not sign the document");
		goto done;
	}
	rc = 0;
done:
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	if (rc == -1) {
		/* Leave the document as it was given. */
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	ERR_clear_error();
	return rc;
}
