/*
 * pii.c: personal data at rest (issue 22). A worker's ID number, name and
 * card number are sealed together, one AES-256-GCM record per row (one
 * nonce, one tag: a third of the cost of sealing each field), under the
 * data key; the record carries the key's id, so a rotation can tell what
 * is left under the old one. Equality in SQL (roster match, one person one
 * card, worker-months, returns, wages owed) reads keyed blind indexes:
 * HMAC-SHA256 under the index key, a separate key, the field's name mixed
 * in, cut to 104 bits and written as 18 base64url characters.
 *
 * The HMAC's inner and outer hash states are keyed once (pii_keys_new) and
 * copied per value, so an index costs two SHA-256 blocks, not four, and no
 * key schedule; the AES key schedule is made once per context.
 *
 * Owns: the keys (wiped when freed), the contexts' OpenSSL state.
 * Must not: log, or keep a clear value after returning.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pii.h"

#define SEAL_VERSION	1
#define NONCE_LEN	12
#define TAG_LEN		16
#define HMAC_BLOCK	64
#define INDEX_BYTES	13

struct pii_keys {
	uint8_t		 data[PII_KEY_LEN];
	uint8_t		 data_id[PII_KEYID_LEN];
	uint8_t		 prev[PII_KEY_LEN];
	uint8_t		 prev_id[PII_KEYID_LEN];
	bool		 has_prev;
	char		 data_hex[9];
	char		 index_hex[9];
	EVP_MD		*sha256;
	EVP_CIPHER	*gcm;
	EVP_MD_CTX	*inner;		/* SHA-256 that has read key ^ ipad */
	EVP_MD_CTX	*outer;		/* and key ^ opad */
};

/* Nonces drawn NONCE_BATCH at a time: RAND_bytes costs 0.7 us a call,
 * twice what the seal's AES-GCM does (measured); a nonce is public, so
 * holding a few ahead in memory gives nothing away. */
#define NONCE_BATCH	64

struct pii_ctx {
	const struct pii_keys	*keys;
	uint8_t			 nonces[NONCE_BATCH * NONCE_LEN];
	int			 nonces_left;
	EVP_MD_CTX		*md;
	EVP_CIPHER_CTX		*enc;	/* keyed with the data key */
	EVP_CIPHER_CTX		*dec;
	const uint8_t		*dec_key;	/* the key dec is keyed with */
};

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

int
pii_key_parse(const char *text, size_t len, uint8_t key[PII_KEY_LEN],
    struct perr *err)
{
	size_t	i = 0, n = 0;
	int	hi, lo;

	while (i < len && strchr(" \t\r\n", text[i]) != NULL)
		i++;
	while (len > i && strchr(" \t\r\n", text[len - 1]) != NULL)
		len--;
	if (len - i != 2 * PII_KEY_LEN)
		return perr_set(err, "WP90", "a key file must hold 64 "
		    "hexadecimal digits (32 bytes), not %zu characters",
		    len - i);
	for (; n < PII_KEY_LEN; n++, i += 2) {
		if ((hi = hexval((unsigned char)text[i])) == -1 ||
		    (lo = hexval((unsigned char)text[i + 1])) == -1)
			return perr_set(err, "WP90", "a key file must hold "
			    "hexadecimal digits only");
		key[n] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
key_id_raw(const uint8_t key[PII_KEY_LEN], uint8_t id[PII_KEYID_LEN])
{
	static const char	tag[] = "wagepay data key";
	uint8_t			md[32];
	unsigned int		mdlen = 0;
	EVP_MD_CTX		*c = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, tag, sizeof(tag) - 1) == 1 &&
	    EVP_DigestUpdate(c, key, PII_KEY_LEN) == 1)
		(void)EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	memcpy(id, md, PII_KEYID_LEN);
}

static void
hex4(const uint8_t id[PII_KEYID_LEN], char out[9])
{
	static const char	digits[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < PII_KEYID_LEN; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[8] = '\0';
}

void
pii_key_id(const uint8_t key[PII_KEY_LEN], char out[9])
{
	uint8_t	id[PII_KEYID_LEN];

	key_id_raw(key, id);
	hex4(id, out);
}

/* The HMAC's two keyed states (RFC 2104; a 32-byte key needs no hash). */
static int
hmac_states(struct pii_keys *k, const uint8_t key[PII_KEY_LEN])
{
	uint8_t	ipad[HMAC_BLOCK], opad[HMAC_BLOCK];
	int	i, rc;

	for (i = 0; i < HMAC_BLOCK; i++) {
		ipad[i] = (uint8_t)((i < PII_KEY_LEN ? key[i] : 0) ^ 0x36);
		opad[i] = (uint8_t)((i < PII_KEY_LEN ? key[i] : 0) ^ 0x5c);
	}
	rc = (k->inner = EVP_MD_CTX_new()) != NULL &&
	    (k->outer = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(k->inner, k->sha256, NULL) == 1 &&
	    EVP_DigestUpdate(k->inner, ipad, sizeof(ipad)) == 1 &&
	    EVP_DigestInit_ex(k->outer, k->sha256, NULL) == 1 &&
	    EVP_DigestUpdate(k->outer, opad, sizeof(opad)) == 1 ? 0 : -1;
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	return rc;
}

struct pii_keys *
pii_keys_new(const uint8_t index_key[PII_KEY_LEN],
    const uint8_t data_key[PII_KEY_LEN], const uint8_t *previous_data_key,
    struct perr *err)
{
	struct pii_keys	*k;
	char		 hex[9];

	if ((k = OPENSSL_zalloc(sizeof(*k))) == NULL) {
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	memcpy(k->data, data_key, PII_KEY_LEN);
	key_id_raw(data_key, k->data_id);
	hex4(k->data_id, k->data_hex);
	pii_key_id(index_key, hex);
	memcpy(k->index_hex, hex, sizeof(hex));
	if (previous_data_key != NULL) {
		memcpy(k->prev, previous_data_key, PII_KEY_LEN);
		key_id_raw(previous_data_key, k->prev_id);
		k->has_prev = true;
	}
	if ((k->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (k->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL ||
	    hmac_states(k, index_key) == -1) {
		pii_keys_free(k);
		perr_set(err, "WP90", "OpenSSL has no SHA-256 or AES-256-GCM");
		return NULL;
	}
	return k;
}

void
pii_keys_free(struct pii_keys *k)
{
	if (k == NULL)
		return;
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	EVP_MD_free(k->sha256);
	EVP_CIPHER_free(k->gcm);
	OPENSSL_clear_free(k, sizeof(*k));
}

const char *
pii_keys_data_id(const struct pii_keys *k)
{
	return k->data_hex;
}

const char *
pii_keys_index_id(const struct pii_keys *k)
{
	return k->index_hex;
}

struct pii_ctx *
pii_ctx_new(const struct pii_keys *k)
{
	struct pii_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->keys = k;
	if ((c->md = EVP_MD_CTX_new()) == NULL ||
	    (c->enc = EVP_CIPHER_CTX_new()) == NULL ||
	    (c->dec = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(c->enc, k->gcm, k->data, NULL, NULL) != 1) {
		pii_ctx_free(c);
		return NULL;
	}
	return c;
}

void
pii_ctx_free(struct pii_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	free(c);
}

/* Unpadded base64url of n bytes. */
static void
b64url(const uint8_t *in, size_t n, char *out)
{
	static const char	alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t		acc = 0;
	int			bits = 0;
	size_t			i;

	for (i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = alpha[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		*out++ = alpha[(acc << (6 - bits)) & 63];
	*out = '\0';
}

void
pii_index(struct pii_ctx *c, enum pii_field f, const char *value, size_t len,
    char out[PII_INDEX_LEN + 1])
{
	uint8_t		tag[2] = { (uint8_t)f, 0 }, in[32], mac[32];
	unsigned int	n = 0;

	memset(in, 0, sizeof(in));
	memset(mac, 0, sizeof(mac));
	if (EVP_MD_CTX_copy_ex(c->md, c->keys->inner) != 1 ||
	    EVP_DigestUpdate(c->md, tag, sizeof(tag)) != 1 ||
	    EVP_DigestUpdate(c->md, value, len) != 1 ||
	    EVP_DigestFinal_ex(c->md, in, &n) != 1 ||
	    EVP_MD_CTX_copy_ex(c->md, c->keys->outer) != 1 ||
	    EVP_DigestUpdate(c->md, in, sizeof(in)) != 1 ||
	    EVP_DigestFinal_ex(c->md, mac, &n) != 1)
		abort();	/* SHA-256 over memory does not fail */
	b64url(mac, INDEX_BYTES, out);
}

static size_t
put_field(uint8_t *p, const char *s)
{
	size_t	n = s != NULL ? strlen(s) : 0;

	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	if (n > 0)
		memcpy(p + 2, s, n);
	return 2 + n;
}

/* A fresh random nonce, never handed out twice (taken out of the pool). */
static int
next_nonce(struct pii_ctx *c, uint8_t *out)
{
	if (c->nonces_left == 0) {
		if (RAND_bytes(c->nonces, sizeof(c->nonces)) != 1)
			return -1;
		c->nonces_left = NONCE_BATCH;
	}
	c->nonces_left--;
	memcpy(out, c->nonces + c->nonces_left * NONCE_LEN, NONCE_LEN);
	OPENSSL_cleanse(c->nonces + c->nonces_left * NONCE_LEN, NONCE_LEN);
	return 0;
}

int
pii_seal(struct pii_ctx *c, const char *idn, const char *name,
    const char *card, uint8_t *out, size_t *outlen, struct perr *err)
{
	uint8_t	clear[3 * (2 + PII_FIELD_MAX)], *hdr = out;
	size_t	n = 0;
	int	len = 0, fin = 0;

	if ((idn != NULL && strlen(idn) > PII_FIELD_MAX) ||
	    (name != NULL && strlen(name) > PII_FIELD_MAX) ||
	    (card != NULL && strlen(card) > PII_FIELD_MAX))
		return perr_set(err, "FF01", "a personal field is longer "
		    "than %d bytes", PII_FIELD_MAX);
	n += put_field(clear + n, idn);
	n += put_field(clear + n, name);
	n += put_field(clear + n, card);
	hdr[0] = SEAL_VERSION;
	memcpy(hdr + 1, c->keys->data_id, PII_KEYID_LEN);
	if (next_nonce(c, hdr + 1 + PII_KEYID_LEN) == -1 ||
	    EVP_EncryptInit_ex2(c->enc, NULL, NULL, hdr + 1 + PII_KEYID_LEN,
	    NULL) != 1 ||
	    EVP_EncryptUpdate(c->enc, NULL, &len, hdr, 1 + PII_KEYID_LEN) != 1 ||
	    EVP_EncryptUpdate(c->enc, out + PII_SEAL_OVERHEAD - TAG_LEN, &len,
	    clear, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(c->enc, out + PII_SEAL_OVERHEAD - TAG_LEN + len,
	    &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->enc, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    out + PII_SEAL_OVERHEAD - TAG_LEN + len + fin) != 1) {
		OPENSSL_cleanse(clear, n);
		return perr_set(err, "FF01", "could not seal a personal record");
	}
	OPENSSL_cleanse(clear, n);
	*outlen = PII_SEAL_OVERHEAD + (size_t)(len + fin);
	return 0;
}

static int
get_field(const uint8_t **p, const uint8_t *end, char *out)
{
	size_t	n;

	if (end - *p < 2)
		return -1;
	n = (size_t)(*p)[0] << 8 | (*p)[1];
	if (n > PII_FIELD_MAX || (size_t)(end - *p - 2) < n)
		return -1;
	memcpy(out, *p + 2, n);
	out[n] = '\0';
	*p += 2 + n;
	return 0;
}

void
pii_sealed_key_id(const uint8_t *sealed, size_t len, char out[9])
{
	out[0] = '\0';
	if (len >= PII_SEAL_OVERHEAD && sealed[0] == SEAL_VERSION)
		hex4(sealed + 1, out);
}

bool
pii_sealed_current(const struct pii_keys *k, const uint8_t *sealed, size_t len)
{
	return len >= PII_SEAL_OVERHEAD && sealed[0] == SEAL_VERSION &&
	    memcmp(sealed + 1, k->data_id, PII_KEYID_LEN) == 0;
}

/* The key a record's id names, or NULL. */
static const uint8_t *
key_for(const struct pii_keys *k, const uint8_t *id)
{
	if (memcmp(id, k->data_id, PII_KEYID_LEN) == 0)
		return k->data;
	if (k->has_prev && memcmp(id, k->prev_id, PII_KEYID_LEN) == 0)
		return k->prev;
	return NULL;
}

int
pii_open(struct pii_ctx *c, const uint8_t *sealed, size_t len,
    struct pii_clear *out, struct perr *err)
{
	uint8_t		clear[3 * (2 + PII_FIELD_MAX)];
	const uint8_t	*key, *p, *body = sealed + PII_SEAL_OVERHEAD - TAG_LEN;
	size_t		n;
	int		outl = 0, fin = 0, rc = -1;
	char		id[9];

	if (len < PII_SEAL_OVERHEAD || sealed[0] != SEAL_VERSION ||
	    len - PII_SEAL_OVERHEAD > sizeof(clear))
		return perr_set(err, "WP90", "a sealed personal record is "
		    "damaged (%zu bytes)", len);
	if ((key = key_for(c->keys, sealed + 1)) == NULL) {
		pii_sealed_key_id(sealed, len, id);
		return perr_set(err, "WP90", "a personal record is sealed "
		    "under data key %s, which is neither [security] data_key "
		    "nor previous_data_key", id);
	}
	n = len - PII_SEAL_OVERHEAD;
	/* the key schedule once per key, then only the nonce */
	if (EVP_DecryptInit_ex2(c->dec, key == c->dec_key ? NULL : c->keys->gcm,
	    key == c->dec_key ? NULL : key, sealed + 1 + PII_KEYID_LEN,
	    NULL) == 1 && (c->dec_key = key) != NULL &&
	    EVP_DecryptUpdate(c->dec, NULL, &outl, sealed,
	    1 + PII_KEYID_LEN) == 1 &&
	    EVP_DecryptUpdate(c->dec, clear, &outl, body, (int)n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c->dec, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    (void *)(sealed + len - TAG_LEN)) == 1 &&
	    EVP_DecryptFinal_ex(c->dec, clear + outl, &fin) == 1) {
		p = clear;
		if (get_field(&p, clear + n, out->idn) == 0 &&
		    get_field(&p, clear + n, out->name) == 0 &&
		    get_field(&p, clear + n, out->card) == 0 && p == clear + n)
			rc = 0;
	}
	OPENSSL_cleanse(clear, n);
	if (rc == -1)
		perr_set(err, "WP90", "a sealed personal record does not "
		    "verify: damaged, or not this key's");
	return rc;
}

void
pii_mask_name(const char *name, char *out, size_t outlen)
{
	size_t	n = 0, first;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (name == NULL || *name == '\0')
		return;
	/* the first UTF-8 character whole, then a star per character */
	first = 1;
	while (name[first] != '\0' && ((unsigned char)name[first] & 0xc0) == 0x80)
		first++;
	if (first >= outlen)
		return;
	memcpy(out, name, first);
	n = first;
	for (name += first; *name != '\0'; name++)
		if (((unsigned char)*name & 0xc0) != 0x80 && n + 1 < outlen)
			out[n++] = '*';
	out[n] = '\0';
}
