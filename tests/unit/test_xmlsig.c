/*
 * test_xmlsig.c: strict verification of the subcontractor's signature on a
 * sheet, and the bank's signer.
 *
 * The golden sheets in tests/data/xmlsig/ were made once by regen.sh there
 * (mksheet | sign-xml with keys of a scripts/devpki run) and chain to the
 * committed sub-ca.pem. Most bad-*.xml files carry a complete signature that
 * xmlsec1 on its own accepts (regen.sh prints which): those cases prove that
 * the structural checks of xmlsig.c, not a broken digest, refuse them. Each
 * case checks the code and a fragment of the message, so that a refusal for
 * the wrong reason fails the test.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/tree.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/crypto.h>

#include "certcache.h"
#include "sigtrust.h"
#include "unit.h"
#include "xmlsafe.h"
#include "xmlsig.h"

#define DATA		"tests/data/xmlsig/"
#define SUB_CA		DATA "sub-ca.pem"
#define ROGUE_CA	DATA "rogue-ca.pem"
#define DEV_CA		DATA "ca.pem"
/* From tests/data/demo.env. */
#define SUB1_USCC	"91410105052839828U"
#define SUB2_USCC	"914101220538871198"
#define DS_NS		"http://www.w3.org/2000/09/xmldsig#"

static void
setup(void)
{
	CHECK(xmlsig_init() == 0);
}

static xmlDocPtr
parse_buf(const char *buf, size_t len)
{
	struct perr	 err;
	xmlDocPtr	 doc;

	perr_clear(&err);
	doc = xmlsafe_parse(buf, len, &err);
	if (doc == NULL)
		fprintf(stderr, "  parse: %s %s\n", err.code, err.msg);
	CHECK(doc != NULL);
	return doc;
}

static xmlDocPtr
parse_file(const char *name)
{
	xmlDocPtr	 doc;
	char		*buf;
	size_t		 len;

	buf = unit_read_data(name, &len);
	doc = parse_buf(buf, len);
	free(buf);
	return doc;
}

/* Verifies doc against ca; returns the result, err and signer filled. */
static int
verify_doc(xmlDocPtr doc, const char *ca, char signer[WP_USCC_LEN],
    struct perr *err)
{
	struct sigtrust	*st;
	int		 rc;

	perr_clear(err);
	st = sigtrust_load(ca, err);
	CHECK(st != NULL);
	memset(signer, 'z', WP_USCC_LEN);
	rc = sigverify_sheet(st, doc, signer, err);
	sigtrust_free(st);
	return rc;
}

static void
expect_ok(const char *file, const char *ca, const char *uscc)
{
	struct perr	 err;
	char		 signer[WP_USCC_LEN];
	xmlDocPtr	 doc = parse_file(file);

	if (verify_doc(doc, ca, signer, &err) != 0)
		fprintf(stderr, "  %s: %s %s\n", file, err.code, err.msg);
	CHECK_STR(err.code, "");
	CHECK_STR(signer, uscc);
	xmlFreeDoc(doc);
}

static void
expect_refused_doc(xmlDocPtr doc, const char *ca, const char *code,
    const char *fragment)
{
	struct perr	 err;
	char		 signer[WP_USCC_LEN];

	CHECK_INT(verify_doc(doc, ca, signer, &err), -1);
	if (strcmp(err.code, code) != 0 || strstr(err.msg, fragment) == NULL)
		fprintf(stderr, "  got %s \"%s\", want %s \"...%s...\"\n",
		    err.code, err.msg, code, fragment);
	CHECK_STR(err.code, code);
	CHECK(strstr(err.msg, fragment) != NULL);
	/* Nothing of a refused signer may leak to the caller. */
	CHECK_STR(signer, "");
}

static void
expect_refused(const char *file, const char *code, const char *fragment)
{
	xmlDocPtr	doc = parse_file(file);

	expect_refused_doc(doc, SUB_CA, code, fragment);
	xmlFreeDoc(doc);
}

/*
 * Applies one textual edit (the first occurrence of from -> to) to a golden
 * file and expects the result to be refused. The edit must apply: a test
 * whose edit silently missed would prove nothing.
 */
static void
expect_edit_refused(const char *file, const char *from, const char *to,
    const char *code, const char *fragment)
{
	char		*buf, *out, *p;
	size_t		 len, flen = strlen(from), tlen = strlen(to);
	xmlDocPtr	 doc;

	buf = unit_read_data(file, &len);
	p = strstr(buf, from);
	CHECK(p != NULL);
	CHECK((out = malloc(len - flen + tlen + 1)) != NULL);
	memcpy(out, buf, (size_t)(p - buf));
	memcpy(out + (p - buf), to, tlen);
	memcpy(out + (p - buf) + tlen, p + flen, len - (size_t)(p - buf) - flen);
	len = len - flen + tlen;
	out[len] = '\0';
	doc = parse_buf(out, len);
	expect_refused_doc(doc, SUB_CA, code, fragment);
	xmlFreeDoc(doc);
	free(out);
	free(buf);
}

/* ---- good ---- */

static void
good_rsa(void)
{
	setup();
	expect_ok("xmlsig/good-rsa.xml", SUB_CA, SUB1_USCC);
}

static void
good_ec(void)
{
	setup();
	expect_ok("xmlsig/good-ec.xml", SUB_CA, SUB2_USCC);
}

/* A CA file with several certificates: every one is trusted, not only the
 * first (xmlsec's own file loader reads just one). */
static void
good_ca_bundle(void)
{
	char		 path[] = "/tmp/wagepay-cabundle-XXXXXX";
	char		*a, *b;
	size_t		 alen, blen;
	int		 fd;

	setup();
	a = unit_read_data("xmlsig/rogue-ca.pem", &alen);
	b = unit_read_data("xmlsig/sub-ca.pem", &blen);
	CHECK((fd = mkstemp(path)) != -1);
	CHECK(write(fd, a, alen) == (ssize_t)alen);
	CHECK(write(fd, b, blen) == (ssize_t)blen);
	close(fd);
	expect_ok("xmlsig/good-rsa.xml", path, SUB1_USCC);
	expect_ok("xmlsig/good-ec.xml", path, SUB2_USCC);
	unlink(path);
	free(a);
	free(b);
}

/* ---- WP31: does not verify ---- */

static void
tampered_amount(void)
{
	setup();
	expect_refused("xmlsig/tampered.xml", "WP31", "changed after");
}

static void
tampered_name(void)
{
	setup();
	/* One worker's name changed: the digest covers every line. */
	expect_edit_refused("xmlsig/good-ec.xml", "<Cdtr><Nm>",
	    "<Cdtr><Nm>X", "WP31", "changed after");
}

/*
 * Sets the text of the first ds:NAME of a golden file: with flip, replaces
 * its first character by another base64 character (same length, so the
 * value still decodes to as many bytes); without, empties it.
 */
static xmlDocPtr
edit_ds_text(const char *file, const char *name, bool flip)
{
	xmlDocPtr	 doc = parse_file(file);
	xmlNodePtr	 n;
	xmlChar		*text;

	n = xmlSecFindNode(xmlDocGetRootElement(doc), BAD_CAST name,
	    BAD_CAST DS_NS);
	CHECK(n != NULL);
	text = xmlNodeGetContent(n);
	CHECK(text != NULL && text[0] != '\0');
	if (flip)
		text[0] = text[0] == 'A' ? 'B' : 'A';
	else
		text[0] = '\0';
	xmlNodeSetContent(n, text);
	xmlFree(text);
	return doc;
}

static void
tampered_signature_value(void)
{
	xmlDocPtr	doc;

	setup();
	/* The digest still matches; the signature over SignedInfo does not. */
	doc = edit_ds_text("xmlsig/good-rsa.xml", "SignatureValue", true);
	expect_refused_doc(doc, SUB_CA, "WP31",
	    "SignatureValue does not match");
	xmlFreeDoc(doc);
}

static void
tampered_digest_value(void)
{
	xmlDocPtr	doc;

	setup();
	doc = edit_ds_text("xmlsig/good-ec.xml", "DigestValue", true);
	expect_refused_doc(doc, SUB_CA, "WP31", "does not verify");
	xmlFreeDoc(doc);
}

static void
stolen_certificate(void)
{
	setup();
	/* SUB1's real certificate on a signature made with another key. */
	expect_refused("xmlsig/bad-stolen-cert.xml", "WP31",
	    "SignatureValue does not match");
}

/* ---- WP30: missing, malformed, misplaced, disallowed structure ---- */

static void
unsigned_template(void)
{
	setup();
	expect_refused("xmlsig/unsigned.xml", "WP30", "not filled in");
}

static void
no_signature(void)
{
	setup();
	expect_refused("xmlsig/nosig.xml", "WP30", "no ds:Signature");
}

static void
moved_to_root(void)
{
	setup();
	expect_refused("xmlsig/bad-moved-root.xml", "WP30",
	    "CstmrCdtTrfInitn/SplmtryData/Envlp");
}

static void
moved_to_line(void)
{
	setup();
	expect_refused("xmlsig/bad-moved-line.xml", "WP30",
	    "CstmrCdtTrfInitn/SplmtryData/Envlp");
}

static void
two_signatures(void)
{
	setup();
	expect_refused("xmlsig/bad-two-sigs.xml", "WP30",
	    "2 ds:Signature elements");
}

static void
reference_fragment(void)
{
	setup();
	expect_refused("xmlsig/bad-ref-fragment.xml", "WP30",
	    "URI=\"\", not a fragment");
}

static void
reference_file(void)
{
	setup();
	expect_refused("xmlsig/bad-ref-file.xml", "WP30",
	    "URI=\"\", not an external URI");
}

static void
reference_without_uri(void)
{
	setup();
	expect_edit_refused("xmlsig/good-rsa.xml", "<ds:Reference URI=\"\">",
	    "<ds:Reference>", "WP30", "must have URI=\"\"");
}

static void
object_wrapping(void)
{
	setup();
	expect_refused("xmlsig/bad-object-wrap.xml", "WP30", "ds:Object");
}

static void
manifest_anywhere(void)
{
	setup();
	expect_edit_refused("xmlsig/good-rsa.xml", "<PmtMtd>",
	    "<Manifest xmlns=\"" DS_NS "\"/><PmtMtd>", "WP30", "ds:Manifest");
}

static void
old_signature_method(void)
{
	setup();
	expect_refused("xmlsig/bad-rsa-sha1.xml", "WP30",
	    "SignatureMethod must be rsa-sha256 or ecdsa-sha256, not rsa-sha1");
}

static void
old_digest_method(void)
{
	setup();
	expect_edit_refused("xmlsig/good-rsa.xml",
	    "http://www.w3.org/2001/04/xmlenc#sha256",
	    DS_NS "sha1", "WP30", "DigestMethod must be sha256, not sha1");
}

static void
inclusive_c14n(void)
{
	setup();
	expect_edit_refused("xmlsig/good-rsa.xml",
	    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
	    "WP30", "CanonicalizationMethod must be exc-c14n, not c14n");
}

static void
xpath_transform(void)
{
	setup();
	expect_refused("xmlsig/bad-xpath.xml", "WP30",
	    "exactly two transforms");
}

static void
transforms_swapped(void)
{
	setup();
	expect_edit_refused("xmlsig/good-rsa.xml",
	    "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\n"
	    "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	    "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\n"
	    "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
	    "WP30", "first transform must be enveloped-signature, not exc-c14n");
}

static void
key_value_not_certificate(void)
{
	setup();
	/* xmlsec1 alone accepts this one: a bare key that nobody vouches
	 * for. */
	expect_refused("xmlsig/bad-keyvalue.xml", "WP30",
	    "exactly one X509Data");
}

static void
retrieval_method(void)
{
	setup();
	expect_edit_refused("xmlsig/good-rsa.xml", "<ds:X509Data>",
	    "<ds:RetrievalMethod URI=\"file:///etc/passwd\"/><ds:X509Data>",
	    "WP30", "exactly one X509Data");
}

static void
empty_signature_value(void)
{
	xmlDocPtr	doc;

	setup();
	doc = edit_ds_text("xmlsig/good-rsa.xml", "SignatureValue", false);
	expect_refused_doc(doc, SUB_CA, "WP30", "SignatureValue is empty");
	xmlFreeDoc(doc);
}

static void
method_does_not_match_key(void)
{
	setup();
	/* An EC certificate with an RSA SignatureMethod. */
	expect_edit_refused("xmlsig/good-ec.xml",
	    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
	    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	    "WP30", "does not match the signer's EC key");
}

static void
not_a_sheet(void)
{
	xmlDocPtr	doc;
	const char	*x = "<Voucher xmlns=\"urn:wagepay:voucher:1\">"
	    "<Signature xmlns=\"" DS_NS "\"/></Voucher>";

	setup();
	doc = parse_buf(x, strlen(x));
	expect_refused_doc(doc, SUB_CA, "WP30", "not a pain.001.001.10");
	xmlFreeDoc(doc);
}

/* ---- WP32: certificate not trusted ---- */

static void
rogue_ca(void)
{
	setup();
	expect_refused("xmlsig/bad-rogue.xml", "WP32",
	    "not issued by the subcontractor CA");
}

static void
trusting_another_ca(void)
{
	xmlDocPtr	doc;

	setup();
	doc = parse_file("xmlsig/good-rsa.xml");
	expect_refused_doc(doc, ROGUE_CA, "WP32",
	    "not issued by the subcontractor CA");
	xmlFreeDoc(doc);
}

static void
expired_certificate(void)
{
	setup();
	expect_refused("xmlsig/bad-expired.xml", "WP32", "expired on");
}

static void
ca_file_missing(void)
{
	struct perr	err;

	setup();
	perr_clear(&err);
	CHECK(sigtrust_load(DATA "no-such-ca.pem", &err) == NULL);
	CHECK(perr_isset(&err));
	CHECK(strstr(err.msg, "no-such-ca.pem") != NULL);
	perr_clear(&err);
	/* A file with no certificate in it. */
	CHECK(sigtrust_load(DATA "good-rsa.xml", &err) == NULL);
	CHECK(perr_isset(&err));
	sigtrust_free(NULL);
	xmlsig_signer_free(NULL);
}

/* ---- the cache of verified signers (certcache.h) ---- */

/* Verifies file with st, a trust store kept between calls. */
static int
verify_with(struct sigtrust *st, const char *file, char signer[WP_USCC_LEN],
    struct perr *err)
{
	xmlDocPtr	doc = parse_file(file);
	int		rc;

	perr_clear(err);
	memset(signer, 'z', WP_USCC_LEN);
	rc = sigverify_sheet(st, doc, signer, err);
	xmlFreeDoc(doc);
	return rc;
}

/* A signer's second sheet is answered from the cache, with the same
 * signer; a refused chain is never remembered. */
static void
cache_remembers_verified_signers(void)
{
	struct sigtrust	*st;
	struct perr	 err;
	char		 signer[WP_USCC_LEN];
	int		 i;

	setup();
	CHECK((st = sigtrust_load(SUB_CA, &err)) != NULL);
	for (i = 0; i < 3; i++) {
		CHECK_INT(verify_with(st, "xmlsig/good-rsa.xml", signer, &err), 0);
		CHECK_STR(signer, SUB1_USCC);
		CHECK_INT(certcache_hits(st->verified), i);
	}
	CHECK_INT(verify_with(st, "xmlsig/good-ec.xml", signer, &err), 0);
	CHECK_STR(signer, SUB2_USCC);
	CHECK_INT(certcache_hits(st->verified), 2);	/* another signer */
	for (i = 0; i < 2; i++) {
		CHECK_INT(verify_with(st, "xmlsig/bad-expired.xml", signer,
		    &err), -1);
		CHECK_STR(err.code, "WP32");
		CHECK(strstr(err.msg, "expired on") != NULL);
		CHECK_INT(verify_with(st, "xmlsig/bad-rogue.xml", signer,
		    &err), -1);
		CHECK_STR(err.code, "WP32");
	}
	CHECK_INT(certcache_hits(st->verified), 2);
	sigtrust_free(st);
}

/* What the cache skips is the certificates' decoding and chaining, never
 * the sheet's own checks: with the signer's chain remembered, a changed
 * sheet, a signature by another key under the same certificate and a
 * SignatureMethod that does not go with the key are still refused, each
 * for its own reason. */
static void
cache_keeps_the_sheets_checks(void)
{
	struct sigtrust	*st;
	struct perr	 err;
	char		 signer[WP_USCC_LEN];
	char		*buf, *p;
	size_t		 len;
	xmlDocPtr	 doc;

	setup();
	CHECK((st = sigtrust_load(SUB_CA, &err)) != NULL);
	CHECK_INT(verify_with(st, "xmlsig/good-rsa.xml", signer, &err), 0);
	CHECK_INT(verify_with(st, "xmlsig/good-ec.xml", signer, &err), 0);

	CHECK_INT(verify_with(st, "xmlsig/tampered.xml", signer, &err), -1);
	CHECK_STR(err.code, "WP31");
	CHECK(strstr(err.msg, "changed after it was signed") != NULL);
	CHECK_STR(signer, "");
	CHECK_INT(verify_with(st, "xmlsig/bad-stolen-cert.xml", signer, &err),
	    -1);
	CHECK_STR(err.code, "WP31");
	CHECK(strstr(err.msg, "SignatureValue does not match") != NULL);
	CHECK_STR(signer, "");

	buf = unit_read_data("xmlsig/good-ec.xml", &len);
	CHECK((p = strstr(buf, "xmldsig-more#ecdsa-sha256")) != NULL);
	memcpy(p + strlen("xmldsig-more#"), "rsa  ", 5);	/* padded below */
	memmove(p + strlen("xmldsig-more#rsa"), p + strlen("xmldsig-more#rsa  "),
	    len - (size_t)(p - buf) - strlen("xmldsig-more#rsa  ") + 1);
	CHECK((p = strstr(buf, "xmldsig-more#rsa-sha256")) != NULL);
	doc = parse_buf(buf, strlen(buf));
	perr_clear(&err);
	CHECK_INT(sigverify_sheet(st, doc, signer, &err), -1);
	CHECK_STR(err.code, "WP30");
	CHECK(strstr(err.msg, "does not match the signer's EC key") != NULL);
	xmlFreeDoc(doc);
	free(buf);
	/* the last two found their signer's chain in the cache (the changed
	 * sheet is refused on its digest, before its certificates) */
	CHECK_INT(certcache_hits(st->verified), 2);
	sigtrust_free(st);
}

/* A verdict holds from the last notBefore of the chain until its first
 * notAfter: asked outside that window, the cache has forgotten the set,
 * and the chain is checked again. */
static void
cache_verdict_runs_out(void)
{
	struct certcache	*cc;
	STACK_OF(X509)		*certs, *got;
	unsigned char		 key[CERTCACHE_KEY_LEN], other[CERTCACHE_KEY_LEN];
	int			 i;

	setup();
	CHECK((cc = certcache_new()) != NULL);
	CHECK((certs = sk_X509_new_null()) != NULL);
	memset(key, 1, sizeof(key));
	memset(other, 2, sizeof(other));
	certcache_put(cc, key, certs, 5, 1000);
	CHECK(certcache_get(cc, other, 10) == NULL);
	CHECK((got = certcache_get(cc, key, 999)) != NULL);
	sk_X509_pop_free(got, X509_free);
	CHECK((got = certcache_get(cc, key, 5)) != NULL);
	sk_X509_pop_free(got, X509_free);
	CHECK(certcache_get(cc, key, 1000) == NULL);	/* ran out */
	CHECK(certcache_get(cc, key, 10) == NULL);	/* and forgotten */
	certcache_put(cc, key, certs, 5, 1000);
	CHECK(certcache_get(cc, key, 4) == NULL);	/* before it began */
	CHECK(certcache_get(cc, key, 10) == NULL);	/* and forgotten */
	CHECK_INT(certcache_hits(cc), 2);
	/* full: the set looked up longest ago goes first */
	for (i = 0; i < CERTCACHE_SLOTS; i++) {
		memset(key, 0, sizeof(key));
		key[0] = (unsigned char)i;
		key[1] = 1;
		certcache_put(cc, key, certs, 0, 1000);
	}
	memset(key, 0, sizeof(key));
	key[1] = 1;				/* set 0: used again */
	CHECK((got = certcache_get(cc, key, 10)) != NULL);
	sk_X509_pop_free(got, X509_free);
	certcache_put(cc, other, certs, 0, 1000);	/* evicts set 1 */
	CHECK((got = certcache_get(cc, key, 10)) != NULL);
	sk_X509_pop_free(got, X509_free);
	key[0] = 1;
	CHECK(certcache_get(cc, key, 10) == NULL);
	CHECK((got = certcache_get(cc, other, 10)) != NULL);
	sk_X509_pop_free(got, X509_free);
	certcache_clear(cc);
	CHECK(certcache_get(cc, other, 10) == NULL);
	sk_X509_free(certs);
	certcache_free(cc);
}

/* ---- the bank's signer ---- */

/* Verifies an enveloped signature anywhere with plain xmlsec and ca as the
 * trust anchor: an independent check of what xmlsig_sign produced. */
static bool
xmlsec_verifies(xmlDocPtr doc, const char *ca)
{
	xmlSecKeysMngrPtr	 mngr;
	xmlSecDSigCtxPtr	 ctx;
	xmlNodePtr		 sig;
	bool			 ok;

	CHECK((mngr = xmlSecKeysMngrCreate()) != NULL);
	CHECK(xmlSecCryptoAppDefaultKeysMngrInit(mngr) == 0);
	CHECK(xmlSecCryptoAppKeysMngrCertLoad(mngr, ca, xmlSecKeyDataFormatPem,
	    xmlSecKeyDataTypeTrusted) == 0);
	sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature,
	    xmlSecDSigNs);
	CHECK(sig != NULL);
	CHECK((ctx = xmlSecDSigCtxCreate(mngr)) != NULL);
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	ok = xmlSecDSigCtxVerify(ctx, sig) == 0 &&
	    ctx->status == xmlSecDSigStatusSucceeded;
	xmlSecDSigCtxDestroy(ctx);
	xmlSecKeysMngrDestroy(mngr);
	return ok;
}

static xmlDocPtr
small_voucher(void)
{
	const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Voucher xmlns=\"urn:wagepay:voucher:1\"><MsgId>SIG-1</MsgId>"
	    "<Total>12345.67</Total></Voucher>";

	return parse_buf(x, strlen(x));
}

static char *
attr_of(xmlNodePtr n, const char *path_name, const char *attr)
{
	for (n = n->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, path_name) == 0)
			return (char *)xmlGetNoNsProp(n, BAD_CAST attr);
	return NULL;
}

static void
sign_round_trip(const char *key, const char *cert, const char *ca,
    const char *method)
{
	struct perr	 err;
	struct signer	*s;
	xmlDocPtr	 doc;
	xmlNodePtr	 sig, si, total;
	char		*alg;

	perr_clear(&err);
	s = xmlsig_signer_load(key, cert, &err);
	if (s == NULL)
		fprintf(stderr, "  %s\n", err.msg);
	CHECK(s != NULL);
	doc = small_voucher();
	CHECK(xmlsig_sign(s, doc, &err) == 0);

	/* The signature is the root's last child, in the ds namespace,
	 * with the algorithm that follows the key and URI="". */
	sig = xmlGetLastChild(xmlDocGetRootElement(doc));
	CHECK(sig != NULL && sig->ns != NULL);
	CHECK_STR((const char *)sig->name, "Signature");
	CHECK_STR((const char *)sig->ns->href, DS_NS);
	si = xmlSecGetNextElementNode(sig->children);
	alg = attr_of(si, "SignatureMethod", "Algorithm");
	CHECK_STR(alg, method);
	xmlFree(alg);
	alg = attr_of(si, "Reference", "URI");
	CHECK_STR(alg, "");
	xmlFree(alg);
	CHECK(xmlSecFindNode(sig, BAD_CAST "X509Certificate", xmlSecDSigNs) !=
	    NULL);
	CHECK(xmlsec_verifies(doc, ca));

	/* Changing signed content breaks it: the check above can fail. */
	total = xmlSecFindNode(xmlDocGetRootElement(doc), BAD_CAST "Total",
	    BAD_CAST "urn:wagepay:voucher:1");
	CHECK(total != NULL);
	xmlNodeSetContent(total, BAD_CAST "99999.99");
	CHECK(!xmlsec_verifies(doc, ca));
	xmlFreeDoc(doc);
	xmlsig_signer_free(s);
}

static void
sign_rsa(void)
{
	setup();
	sign_round_trip(DATA "bank-sign.key", DATA "bank-sign.pem", DEV_CA,
	    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
}

static void
sign_ec(void)
{
	setup();
	sign_round_trip(DATA "ec-sign.key", DATA "ec-sign.pem", SUB_CA,
	    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256");
}

static void
sign_twice(void)
{
	struct perr	 err;
	struct signer	*s;
	xmlDocPtr	 a, b;

	setup();
	/* One signer signs many documents (vouchers and alerts). */
	CHECK((s = xmlsig_signer_load(DATA "bank-sign.key", DATA "bank-sign.pem",
	    &err)) != NULL);
	a = small_voucher();
	b = small_voucher();
	CHECK(xmlsig_sign(s, a, &err) == 0);
	CHECK(xmlsig_sign(s, b, &err) == 0);
	CHECK(xmlsec_verifies(a, DEV_CA));
	CHECK(xmlsec_verifies(b, DEV_CA));
	xmlFreeDoc(a);
	xmlFreeDoc(b);
	xmlsig_signer_free(s);
}

static void
signer_key_cert_mismatch(void)
{
	struct perr	err;

	setup();
	perr_clear(&err);
	CHECK(xmlsig_signer_load(DATA "bank-sign.key", DATA "ec-sign.pem", &err) ==
	    NULL);
	CHECK(strstr(err.msg, "is not for the key") != NULL);
	perr_clear(&err);
	CHECK(xmlsig_signer_load(DATA "missing.key", DATA "bank-sign.pem", &err) ==
	    NULL);
	CHECK(strstr(err.msg, "could not load signing key") != NULL);
}

/*
 * The daemon verifies and signs on a few worker threads that share one
 * sigtrust and one signer: each thread checks a good and a bad sheet and
 * signs a voucher, many times over, and every answer must stay right.
 */
struct shared {
	struct sigtrust	*st;
	struct signer	*signer;
	char		*good, *bad;
	size_t		 goodlen, badlen;
	int		 failures;	/* written by its own thread only */
};

static void *
shared_worker(void *arg)
{
	struct shared	*sh = arg;
	struct perr	 err;
	char		 signer[WP_USCC_LEN];
	xmlDocPtr	 doc;
	int		 i;

	for (i = 0; i < 25; i++) {
		perr_clear(&err);
		doc = xmlsafe_parse(sh->good, sh->goodlen, &err);
		if (doc == NULL || sigverify_sheet(sh->st, doc, signer,
		    &err) != 0 || strcmp(signer, SUB1_USCC) != 0)
			sh->failures++;
		xmlFreeDoc(doc);
		doc = xmlsafe_parse(sh->bad, sh->badlen, &err);
		if (doc == NULL || sigverify_sheet(sh->st, doc, signer,
		    &err) != -1 || strcmp(err.code, "WP32") != 0)
			sh->failures++;
		xmlFreeDoc(doc);
		doc = small_voucher();
		if (xmlsig_sign(sh->signer, doc, &err) != 0)
			sh->failures++;
		xmlFreeDoc(doc);
	}
	return NULL;
}

static void
shared_by_threads(void)
{
	struct shared	 sh[4];
	pthread_t	 t[4];
	struct perr	 err;
	struct sigtrust	*st;
	struct signer	*s;
	size_t		 i;

	setup();
	CHECK((st = sigtrust_load(SUB_CA, &err)) != NULL);
	CHECK((s = xmlsig_signer_load(DATA "bank-sign.key", DATA "bank-sign.pem",
	    &err)) != NULL);
	for (i = 0; i < 4; i++) {
		sh[i].st = st;
		sh[i].signer = s;
		sh[i].good = unit_read_data("xmlsig/good-rsa.xml",
		    &sh[i].goodlen);
		sh[i].bad = unit_read_data("xmlsig/bad-expired.xml",
		    &sh[i].badlen);
		sh[i].failures = 0;
		CHECK(pthread_create(&t[i], NULL, shared_worker, &sh[i]) == 0);
	}
	for (i = 0; i < 4; i++) {
		CHECK(pthread_join(t[i], NULL) == 0);
		CHECK_INT(sh[i].failures, 0);
		free(sh[i].good);
		free(sh[i].bad);
	}
	xmlsig_signer_free(s);
	sigtrust_free(st);
}

const struct unit_case xmlsig_cases[] = {
	{ "good_rsa", good_rsa },
	{ "good_ec", good_ec },
	{ "good_ca_bundle", good_ca_bundle },
	{ "tampered_amount", tampered_amount },
	{ "tampered_name", tampered_name },
	{ "tampered_signature_value", tampered_signature_value },
	{ "tampered_digest_value", tampered_digest_value },
	{ "stolen_certificate", stolen_certificate },
	{ "unsigned_template", unsigned_template },
	{ "no_signature", no_signature },
	{ "moved_to_root", moved_to_root },
	{ "moved_to_line", moved_to_line },
	{ "two_signatures", two_signatures },
	{ "reference_fragment", reference_fragment },
	{ "reference_file", reference_file },
	{ "reference_without_uri", reference_without_uri },
	{ "object_wrapping", object_wrapping },
	{ "manifest_anywhere", manifest_anywhere },
	{ "old_signature_method", old_signature_method },
	{ "old_digest_method", old_digest_method },
	{ "inclusive_c14n", inclusive_c14n },
	{ "xpath_transform", xpath_transform },
	{ "transforms_swapped", transforms_swapped },
	{ "key_value_not_certificate", key_value_not_certificate },
	{ "retrieval_method", retrieval_method },
	{ "empty_signature_value", empty_signature_value },
	{ "method_does_not_match_key", method_does_not_match_key },
	{ "not_a_sheet", not_a_sheet },
	{ "rogue_ca", rogue_ca },
	{ "trusting_another_ca", trusting_another_ca },
	{ "expired_certificate", expired_certificate },
	{ "ca_file_missing", ca_file_missing },
	{ "sign_rsa", sign_rsa },
	{ "sign_ec", sign_ec },
	{ "sign_twice", sign_twice },
	{ "signer_key_cert_mismatch", signer_key_cert_mismatch },
	{ "shared_by_threads", shared_by_threads },
	{ "cache_remembers_verified_signers", cache_remembers_verified_signers },
	{ "cache_keeps_the_sheets_checks", cache_keeps_the_sheets_checks },
	{ "cache_verdict_runs_out", cache_verdict_runs_out },
	{ NULL, NULL }
};
