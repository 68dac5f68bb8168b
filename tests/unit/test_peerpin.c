/*
 * test_peerpin.c: [core] client_subject's pin: RFC 4514 subjects parsed and
 * matched attribute by attribute, sha256: fingerprints, and what is refused.
 */
#include <ctype.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "unit.h"
#include "peerpin.h"

/* A self-signed certificate whose subject has the given attributes, in
 * X.509 order (most general first); same_rdn -1 puts an attribute in the
 * previous one's RDN (multi-valued). */
struct attr {
	const char	*type;
	const char	*value;
	int		 same_rdn;
};

static X509 *
cert_with(const struct attr *attrs)
{
	EVP_PKEY	*key = EVP_EC_gen("P-256");
	X509		*x = X509_new();
	X509_NAME	*n = X509_NAME_new();
	int		 i;

	CHECK(key != NULL && x != NULL && n != NULL);
	for (i = 0; attrs[i].type != NULL; i++)
		CHECK(X509_NAME_add_entry_by_txt(n, attrs[i].type, MBSTRING_UTF8,
		    (const unsigned char *)attrs[i].value, -1, -1,
		    attrs[i].same_rdn) == 1);
	CHECK(X509_set_version(x, 2) == 1);
	CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), 7) == 1);
	CHECK(X509_set_subject_name(x, n) == 1);
	CHECK(X509_set_issuer_name(x, n) == 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	CHECK(X509_set_pubkey(x, key) == 1);
	CHECK(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	EVP_PKEY_free(key);
	return x;
}

static const struct attr core_attrs[] = {
	{ "O", "Demo Bank", 0 }, { "serialNumber", "9141018104865066X4", 0 },
	{ "CN", "core-feed", 0 }, { NULL, NULL, 0 }
};

/* pin text against cert: parsed, and matching as expected */
static void
expect(const char *text, X509 *x, bool want)
{
	struct perr	 err;
	struct peerpin	*p;

	perr_clear(&err);
	if ((p = peerpin_parse(text, &err)) == NULL) {
		fprintf(stderr, "  \"%s\" refused: %s\n", text, err.msg);
		exit(1);
	}
	if (peerpin_matches(p, x) != want) {
		fprintf(stderr, "  \"%s\" %s\n", text, want ? "does not match" :
		    "matches");
		exit(1);
	}
	peerpin_free(p);
}

static void
expect_refused(const char *text, const char *want)
{
	struct perr	 err;
	struct peerpin	*p;

	perr_clear(&err);
	p = peerpin_parse(text, &err);
	if (p != NULL || strstr(err.msg, want) == NULL) {
		fprintf(stderr, "  \"%s\": got \"%s\", want \"...%s...\"\n", text,
		    p != NULL ? "(accepted)" : err.msg, want);
		exit(1);
	}
}

static void
subject_matches(void)
{
	X509	*x = cert_with(core_attrs);
	char	 buf[256];

	peerpin_subject(x, buf, sizeof(buf));
	CHECK_STR(buf, "CN=core-feed,serialNumber=9141018104865066X4,O=Demo Bank");
	expect(buf, x, true);
	/* attribute names in any case, spaces around the separators */
	expect("cn = core-feed , SERIALNUMBER=9141018104865066X4, o=Demo Bank",
	    x, true);
	/* by OID */
	expect("2.5.4.3=core-feed,2.5.4.5=9141018104865066X4,2.5.4.10=Demo Bank",
	    x, true);
	expect("CN=core-feed,serialNumber=9141018104865066X4,O=Demo\\20Bank",
	    x, true);
	expect("CN=core-feed,serialNumber=9141018104865066X4,O=Demo Bank\\ ",
	    x, false);
	X509_free(x);
}

static void
subject_mismatches(void)
{
	X509	*x = cert_with(core_attrs);

	/* another order, one missing, one more, a value in another case, a
	 * value cut short, another attribute type */
	expect("O=Demo Bank,serialNumber=9141018104865066X4,CN=core-feed", x, false);
	expect("CN=core-feed,O=Demo Bank", x, false);
	expect("CN=core-feed,serialNumber=9141018104865066X4,O=Demo Bank,C=CN",
	    x, false);
	expect("CN=Core-feed,serialNumber=9141018104865066X4,O=Demo Bank", x, false);
	expect("CN=core,serialNumber=9141018104865066X4,O=Demo Bank", x, false);
	expect("OU=core-feed,serialNumber=9141018104865066X4,O=Demo Bank", x, false);
	CHECK(!peerpin_matches(NULL, x));
	X509_free(x);
}

/* an escaped "," is one value, never two attributes; UTF-8 as text or as
 * \XX pairs; a multi-valued RDN in the certificate matches no pin */
static void
escapes_and_utf8(void)
{
	static const struct attr comma[] = {
		{ "O", "Bank", 0 }, { "CN", "core,O=Bank", 0 }, { NULL, NULL, 0 }
	};
	static const struct attr utf8[] = {
		{ "O", "\xe4\xb8\xad\xe5\x9b\xbd\xe9\x93\xb6\xe8\xa1\x8c", 0 },
		{ "CN", "core", 0 }, { NULL, NULL, 0 }
	};
	static const struct attr multi[] = {
		{ "O", "Bank", 0 }, { "CN", "core", -1 }, { NULL, NULL, 0 }
	};
	X509	*x = cert_with(comma), *u = cert_with(utf8), *m = cert_with(multi);
	char	 buf[256];

	expect("CN=core\\,O=Bank,O=Bank", x, true);
	expect("CN=core\\2cO\\3dBank,O=Bank", x, true);
	peerpin_subject(x, buf, sizeof(buf));
	expect(buf, x, true);
	expect("CN=core,O=\xe4\xb8\xad\xe5\x9b\xbd\xe9\x93\xb6\xe8\xa1\x8c", u, true);
	expect("CN=core,O=\\E4\\B8\\AD\\E5\\9B\\BD\\E9\\93\\B6\\E8\\A1\\8C", u, true);
	peerpin_subject(u, buf, sizeof(buf));
	CHECK_STR(buf, "CN=core,O=\xe4\xb8\xad\xe5\x9b\xbd\xe9\x93\xb6\xe8\xa1\x8c");
	expect("CN=core,O=Bank", m, false);
	expect("O=Bank,CN=core", m, false);
	X509_free(x);
	X509_free(u);
	X509_free(m);
}

static void
fingerprint_matches(void)
{
	X509	*x = cert_with(core_attrs), *y = cert_with(core_attrs);
	char	 fp[PEERPIN_FINGERPRINT_LEN], upper[PEERPIN_FINGERPRINT_LEN];
	size_t	 i;

	CHECK(peerpin_fingerprint(x, fp) == 0);
	CHECK(strncmp(fp, "sha256:", 7) == 0 && strlen(fp) == 71);
	expect(fp, x, true);
	/* the same subject, another key: another certificate */
	expect(fp, y, false);
	for (i = 0; i < sizeof(fp); i++)
		upper[i] = (char)(i < 7 ? fp[i] : toupper((unsigned char)fp[i]));
	upper[0] = 'S';
	expect(upper, x, true);
	X509_free(x);
	X509_free(y);
}

static void
malformed_refused(void)
{
	expect_refused("", "expected an RFC 4514 subject");
	expect_refused("core", "expected an RFC 4514 subject");
	expect_refused("sha256:", "64 hex digits");
	expect_refused("sha256:0123", "64 hex digits");
	expect_refused("sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdeZ", "64 hex digits");
	expect_refused("sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef00", "64 hex digits");
	expect_refused("CN=core+O=Bank", "multi-valued");
	expect_refused("CN=#04046b657931", "#hex");
	expect_refused("CN=core,", "expected an RFC 4514 subject");
	expect_refused("CN=", "empty value");
	expect_refused("CN=  ", "empty value");
	expect_refused("=core", "unknown attribute type");
	expect_refused("Common Name=core", "unknown attribute type");
	expect_refused("XYZ=core", "unknown attribute type");
	expect_refused("CN=a\\q", "must be followed");
	expect_refused("CN=a\\00b", "must be followed");
	expect_refused("CN=a\\", "must be followed");
	expect_refused("CN=a;O=b", "must be escaped");
	expect_refused("CN=\"core\"", "must be escaped");
}

const struct unit_case peerpin_cases[] = {
	{ "subject_matches", subject_matches },
	{ "subject_mismatches", subject_mismatches },
	{ "escapes_and_utf8", escapes_and_utf8 },
	{ "fingerprint_matches", fingerprint_matches },
	{ "malformed_refused", malformed_refused },
	{ NULL, NULL }
};
