/*
 * peerpin.c: a client certificate pinned by its subject or its SHA-256
 * fingerprint ([core] client_subject), and the test of a certificate
 * against the pin.
 *
 * Owns each pin it returns (peerpin_free). Pure: no sockets, no logging;
 * the daemon hands it the peer's certificate. It must fail closed: what it
 * cannot parse exactly is refused, never read loosely into a pin that
 * something else could match. There is no RFC 4514 parser in OpenSSL, so
 * the subject is parsed here and compared attribute by attribute with the
 * certificate's, not as printed text (two spellings of one name match, and
 * a value holding an escaped "," cannot pass for two attributes).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "peerpin.h"

#define PEERPIN_MAX_RDNS	32
#define PEERPIN_MAX_VALUE	256

struct peerpin_ava {
	ASN1_OBJECT	*type;
	char		*value;		/* UTF-8, unescaped */
	size_t		 len;
};

struct peerpin {
	bool			 by_fingerprint;
	unsigned char		 sha256[32];
	size_t			 navas;
	struct peerpin_ava	 avas[PEERPIN_MAX_RDNS];	/* most specific first */
};

/* RFC 4514's names, which it says are case-insensitive, and the two
 * OpenSSL prints for the company identity and mail. */
static const struct {
	const char	*name;
	int		 nid;
} peerpin_names[] = {
	{ "CN", NID_commonName }, { "L", NID_localityName },
	{ "ST", NID_stateOrProvinceName }, { "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName }, { "C", NID_countryName },
	{ "STREET", NID_streetAddress }, { "DC", NID_domainComponent },
	{ "UID", NID_userId }, { "serialNumber", NID_serialNumber },
	{ "emailAddress", NID_pkcs9_emailAddress },
};

void
peerpin_free(struct peerpin *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->navas; i++) {
		ASN1_OBJECT_free(p->avas[i].type);
		free(p->avas[i].value);
	}
	free(p);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_fingerprint(struct peerpin *p, const char *hex, struct perr *err)
{
	size_t	i;

	if (strlen(hex) != 64)
		return perr_set(err, "FF01", "sha256: must be followed by 64 "
		    "hex digits");
	for (i = 0; i < 32; i++) {
		if (hexval(hex[2 * i]) < 0 || hexval(hex[2 * i + 1]) < 0)
			return perr_set(err, "FF01", "sha256: must be followed "
			    "by 64 hex digits");
		p->sha256[i] = (unsigned char)(hexval(hex[2 * i]) * 16 +
		    hexval(hex[2 * i + 1]));
	}
	p->by_fingerprint = true;
	return 0;
}

/* The attribute type of s[0..n): a name of the table (any case), another
 * name OpenSSL knows (its spelling), or a dotted OID. */
static ASN1_OBJECT *
parse_type(const char *s, size_t n)
{
	char	name[64];
	size_t	i;

	if (n == 0 || n >= sizeof(name))
		return NULL;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return NULL;
	memcpy(name, s, n);
	name[n] = '\0';
	for (i = 0; i < sizeof(peerpin_names) / sizeof(peerpin_names[0]); i++)
		if (strcasecmp(name, peerpin_names[i].name) == 0)
			return OBJ_dup(OBJ_nid2obj(peerpin_names[i].nid));
	return OBJ_txt2obj(name, 0);
}

/*
 * Reads one attribute value from *sp up to an unescaped "," or the end,
 * unescaping it into out (at most PEERPIN_MAX_VALUE bytes); spaces around
 * it that are not escaped are dropped. Leaves *sp at the "," or the NUL.
 */
static int
parse_value(const char **sp, char *out, size_t *outlen, struct perr *err)
{
	const char	*s = *sp;
	size_t		 n = 0, keep = 0;	/* keep: length up to the last
						 * escaped or non-space byte */
	int		 hi, lo;

	while (*s == ' ')
		s++;
	if (*s == '#')
		return perr_set(err, "FF01", "a value given as #hex is not "
		    "supported: write it as text, or pin by sha256:");
	for (; *s != '\0' && *s != ','; s++) {
		if (n >= PEERPIN_MAX_VALUE)
			return perr_set(err, "FF01", "a value is longer than %d "
			    "bytes", PEERPIN_MAX_VALUE);
		if (*s == '+')
			return perr_set(err, "FF01", "multi-valued RDNs (\"+\") "
			    "are not supported: pin by sha256:");
		if (strchr("\";<>", *s) != NULL)
			return perr_set(err, "FF01", "'%c' must be escaped as "
			    "\\%c", *s, *s);
		if (*s != '\\') {
			out[n++] = *s;
			if (*s != ' ')
				keep = n;
			continue;
		}
		s++;
		if (*s != '\0' && strchr("\"+,;<>\\ #=", *s) != NULL)
			out[n++] = *s;
		else if ((hi = hexval(s[0])) >= 0 && (lo = hexval(s[1])) >= 0 &&
		    hi * 16 + lo != 0) {
			out[n++] = (char)(hi * 16 + lo);
			s++;
		} else
			return perr_set(err, "FF01", "a \"\\\" must be followed by "
			    "one of \"+,;<>\\ #= or two hex digits (not 00)");
		keep = n;
	}
	if (keep == 0)
		return perr_set(err, "FF01", "an attribute has an empty value");
	*outlen = keep;
	*sp = s;
	return 0;
}

static int
parse_subject(struct peerpin *p, const char *s, struct perr *err)
{
	const char		*eq, *end;
	char			 value[PEERPIN_MAX_VALUE];
	struct peerpin_ava	*a;

	for (;;) {
		if (p->navas == PEERPIN_MAX_RDNS)
			return perr_set(err, "FF01", "more than %d attributes",
			    PEERPIN_MAX_RDNS);
		while (*s == ' ')
			s++;
		if ((eq = strchr(s, '=')) == NULL)
			return perr_set(err, "FF01", "expected an RFC 4514 "
			    "subject (\"CN=core,O=Bank\") or sha256: and 64 hex "
			    "digits");
		for (end = eq; end > s && end[-1] == ' '; end--)
			;
		a = &p->avas[p->navas];
		if ((a->type = parse_type(s, (size_t)(end - s))) == NULL)
			return perr_set(err, "FF01", "unknown attribute type "
			    "\"%.*s\"", (int)(end - s > 40 ? 40 : end - s), s);
		p->navas++;
		s = eq + 1;
		if (parse_value(&s, value, &a->len, err) == -1)
			return -1;
		if ((a->value = malloc(a->len + 1)) == NULL)
			return perr_set(err, "FF01", "out of memory");
		memcpy(a->value, value, a->len);
		a->value[a->len] = '\0';
		if (*s == '\0')
			return 0;
		s++;	/* the "," */
	}
}

struct peerpin *
peerpin_parse(const char *text, struct perr *err)
{
	struct peerpin	*p;
	int		 rc;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	if (strncasecmp(text, "sha256:", 7) == 0)
		rc = parse_fingerprint(p, text + 7, err);
	else
		rc = parse_subject(p, text, err);
	if (rc == -1) {
		peerpin_free(p);
		return NULL;
	}
	return p;
}

static bool
subject_matches(const struct peerpin *p, const X509_NAME *name)
{
	const X509_NAME_ENTRY	*e;
	unsigned char		*utf8;
	int			 n = X509_NAME_entry_count(name), i, len;
	bool			 same;

	if (n < 0 || (size_t)n != p->navas)
		return false;
	for (i = 0; i < n; i++) {
		/* RFC 4514 writes the last RDN first */
		e = X509_NAME_get_entry(name, n - 1 - i);
		/* one attribute per RDN, as in the pin */
		if (i > 0 && X509_NAME_ENTRY_set(e) ==
		    X509_NAME_ENTRY_set(X509_NAME_get_entry(name, n - i)))
			return false;
		if (OBJ_cmp(X509_NAME_ENTRY_get_object(e), p->avas[i].type) != 0)
			return false;
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		if (len < 0)
			return false;
		same = (size_t)len == p->avas[i].len &&
		    memcmp(utf8, p->avas[i].value, p->avas[i].len) == 0;
		OPENSSL_free(utf8);
		if (!same)
			return false;
	}
	return true;
}

bool
peerpin_matches(const struct peerpin *p, X509 *cert)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (p == NULL || cert == NULL)
		return false;
	if (p->by_fingerprint)
		return X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 &&
		    mdlen == sizeof(p->sha256) &&
		    CRYPTO_memcmp(md, p->sha256, mdlen) == 0;
	return subject_matches(p, X509_get_subject_name(cert));
}

void
peerpin_subject(X509 *cert, char *buf, size_t len)
{
	BIO	*b;
	int	 n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (cert == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	/* UTF-8 as it is (not \XX), controls and specials escaped */
	if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_read(b, buf, (int)(len - 1 > 65535 ? 65535 : len - 1))) > 0)
		buf[n] = '\0';
	BIO_free(b);
}

int
peerpin_fingerprint(X509 *cert, char out[PEERPIN_FINGERPRINT_LEN])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;

	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 ||
	    mdlen != 32)
		return -1;
	memcpy(out, "sha256:", 7);
	for (i = 0; i < mdlen; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[7 + 2 * i + 1] = hex[md[i] & 15];
	}
	out[7 + 64] = '\0';
	return 0;
}
