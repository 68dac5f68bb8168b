/*
 * xmlsig.c: the bank's own enveloped signature, with xmlsec1 (OpenSSL
 * backend), on vouchers and alerts. The trust store that subcontractors'
 * signatures must chain to is proto/sigtrust.c; the checking of a sheet's
 * signature is proto/sigverify.c.
 *
 * Owns the signing keys (struct signer); never logs. A signer is only read
 * after loading, so worker threads may share it. xmlsec's process-wide state is set up once by xmlsig_init, and
 * its error callback records nothing: messages are built from what failed.
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

#include "sigtrust.h"
#include "xmlsig.h"


/* A key or certificate file larger than this is not one. */
#define PEM_FILE_MAX	(256u * 1024u)

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

/* The key's kind, and its certificate (the first of the key's X509 data:
 * any others are its chain) checked to be the key's. 0 or -1 with err. */
static int
signer_check(struct signer *s, const char *key_file, const char *cert_file,
    struct perr *err)
{
	xmlSecKeyDataPtr value, x509;
	X509		*cert;
	EVP_PKEY	*pkey;

	value = xmlSecKeyGetValue(s->key);
	if (xmlSecKeyDataCheckId(value, xmlSecOpenSSLKeyDataEcdsaId))
		s->is_ec = true;
	else if (!xmlSecKeyDataCheckId(value, xmlSecOpenSSLKeyDataRsaId))
		return perr_set(err, "FF01", "signing key \"%s\" is neither RSA "
		    "nor EC", key_file);
	/* A certificate for another key would make every signature fail at
	 * the receiver: refuse it now, at start-up or reload. */
	x509 = xmlSecKeyGetData(s->key, xmlSecKeyDataX509Id);
	cert = x509 != NULL ? xmlSecOpenSSLKeyDataX509GetKeyCert(x509) : NULL;
	if (cert == NULL && x509 != NULL)
		cert = xmlSecOpenSSLKeyDataX509GetCert(x509, 0);
	pkey = xmlSecOpenSSLEvpKeyDataGetEvp(value);
	if (cert == NULL || pkey == NULL || X509_check_private_key(cert,
	    pkey) != 1)
		return perr_set(err, "FF01", "certificate \"%s\" is not for the "
		    "key \"%s\"", cert_file, key_file);
	return 0;
}

/* Reads a small key file and loads it in the given format; the buffer,
 * which holds a private key, is wiped. NULL if it cannot be loaded. */
static xmlSecKeyPtr
load_key_file(const char *path, xmlSecKeyDataFormat format,
    const char *password)
{
	xmlSecKeyPtr	 key;
	unsigned char	*buf;
	size_t		 len = 0;

	if ((buf = read_small_file(path, &len)) == NULL)
		return NULL;
	key = xmlSecCryptoAppKeyLoadMemory(buf, (xmlSecSize)len, format,
	    password, NULL, NULL);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return key;
}

struct signer *
xmlsig_signer_load(const char *key_file, const char *cert_file, struct perr *err)
{
	struct signer	*s;
	unsigned char	*buf = NULL;
	size_t		 len = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	if ((s->key = load_key_file(key_file, xmlSecKeyDataFormatPem,
	    NULL)) == NULL) {
		perr_set(err, "FF01", "could not load signing key \"%s\"",
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
	if (signer_check(s, key_file, cert_file, err) != 0)
		goto fail;
	ERR_clear_error();
	return s;
fail:
	free(buf);
	xmlsig_signer_free(s);
	ERR_clear_error();
	return NULL;
}

struct signer *
xmlsig_signer_load_p12(const char *p12_file, const char *password,
    struct perr *err)
{
	struct signer	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	if ((s->key = load_key_file(p12_file, xmlSecKeyDataFormatPkcs12,
	    password)) == NULL) {
		perr_set(err, "FF01", "could not load \"%s\" as PKCS#12 "
		    "(wrong password, or not a PKCS#12 file)", p12_file);
		goto fail;
	}
	if (signer_check(s, p12_file, p12_file, err) != 0)
		goto fail;
	ERR_clear_error();
	return s;
fail:
	xmlsig_signer_free(s);
	ERR_clear_error();
	return NULL;
}

void
xmlsig_signer_free(struct signer *s)
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
xmlsig_sign(struct signer *s, xmlDocPtr doc, struct perr *err)
{
	xmlNodePtr	root;

	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL)
		return perr_set(err, "FF01", "no document to sign");
	return xmlsig_sign_under(s, doc, root, err);
}

int
xmlsig_sign_under(struct signer *s, xmlDocPtr doc, xmlNodePtr parent,
    struct perr *err)
{
	xmlSecDSigCtxPtr	 ctx = NULL;
	xmlNodePtr		 sig;
	int			 rc = -1;

	if (doc == NULL || parent == NULL || parent->doc != doc)
		return perr_set(err, "FF01", "no document to sign");
	if ((sig = sign_template(doc, parent, s->is_ec)) == NULL)
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
