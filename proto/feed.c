/*
 * feed.c: the provincial platform feed's body and its national
 * cryptography (API.md "Provincial platform feed"), through OpenSSL 3's
 * SM2, SM3 and SM4 (GM/T 0003, 0004, 0002).
 *
 * Responsible for: the body {"records":[...]} built from the records the
 * database numbered (each record's fields arrive as a JSON object in
 * clear); SM4-CBC of idNumber, name and card (base64 of a random IV and
 * the PKCS#7-padded ciphertext); the signature of the exact body bytes,
 * SM2 with SM3 and GM/T 0009's default distinguishing id "1234567812345678"
 * set explicitly (OpenSSL 3.0's `openssl dgst` uses none unless told
 * -sigopt distid:1234567812345678: measured, the two do not verify each
 * other), or RSA-SHA256. Owns nothing between calls. Must not: log, touch
 * a socket, or keep a key.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "feed.h"

/* The fields SM4 encrypts when crypto = sm (API.md). */
static const char *const sealed[] = { "idNumber", "name", "card" };

const char *
feed_sign_alg(enum feed_crypto c)
{
	return c == FEED_SM ? "SM2-SM3" : "RSA-SHA256";
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
feed_data_key_parse(const char *text, size_t len, unsigned char key[FEED_KEY_LEN],
    struct perr *err)
{
	size_t	i = 0, n = 0;
	int	hi, lo;

	while (i < len && isspace((unsigned char)text[i]))
		i++;
	while (i + 1 < len && n < FEED_KEY_LEN &&
	    (hi = hexval((unsigned char)text[i])) >= 0 &&
	    (lo = hexval((unsigned char)text[i + 1])) >= 0) {
		key[n++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (n != FEED_KEY_LEN || i != len)
		return perr_set(err, "FF01", "a data key is 32 hexadecimal digits "
		    "(16 bytes), nothing else");
	return 0;
}

/* base64 of len bytes, no line breaks (malloc'd). */
static char *
b64_encode(const unsigned char *in, size_t len)
{
	char	*out;

	if (len > (size_t)1 << 28 || (out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* The bytes of base64 text (malloc'd, *len), NULL if it is not base64. */
static unsigned char *
b64_decode(const char *in, size_t *len)
{
	size_t		 n = strlen(in), pad = 0;
	unsigned char	*out;
	int		 got;

	if (n == 0 || n % 4 != 0 || n > (size_t)1 << 28)
		return NULL;
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((got = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n)) < 0 ||
	    (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*len = (size_t)got - pad;
	return out;
}

char *
feed_sm4_encrypt(const unsigned char key[FEED_KEY_LEN], const unsigned char *iv,
    const char *plain, size_t len, struct perr *err)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	unsigned char	*buf;
	char		*out = NULL;
	int		 n1 = 0, n2 = 0;

	if (len > (size_t)1 << 20 ||
	    (buf = malloc(FEED_KEY_LEN + len + FEED_KEY_LEN)) == NULL) {
		perr_set(err, "WP90", "a field too long to encrypt, or out of memory");
		return NULL;
	}
	if (iv != NULL)
		memcpy(buf, iv, FEED_KEY_LEN);
	if ((iv == NULL && RAND_bytes(buf, FEED_KEY_LEN) != 1) ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_sm4_cbc(), NULL, key, buf) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + FEED_KEY_LEN, &n1,
	    (const unsigned char *)plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + FEED_KEY_LEN + n1, &n2) != 1)
		perr_set(err, "WP90", "SM4-CBC failed (is SM4 in this OpenSSL?)");
	else if ((out = b64_encode(buf, FEED_KEY_LEN + (size_t)n1 + (size_t)n2)) == NULL)
		perr_set(err, "WP90", "out of memory");
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return out;
}

char *
feed_sm4_decrypt(const unsigned char key[FEED_KEY_LEN], const char *b64,
    size_t *len, struct perr *err)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	unsigned char	*in;
	char		*out = NULL;
	size_t		 n;
	int		 n1 = 0, n2 = 0;

	if ((in = b64_decode(b64, &n)) == NULL || n < 2 * FEED_KEY_LEN ||
	    n % FEED_KEY_LEN != 0) {
		free(in);
		perr_set(err, "FF01", "not base64 of a 16-byte IV and whole SM4 blocks");
		return NULL;
	}
	if ((out = malloc(n)) == NULL || (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_sm4_cbc(), NULL, key, in) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)out, &n1, in + FEED_KEY_LEN,
	    (int)(n - FEED_KEY_LEN)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + n1, &n2) != 1) {
		perr_set(err, "FF01", "SM4-CBC does not decrypt it (another key, "
		    "or the padding is wrong)");
		free(out);
		out = NULL;
	} else {
		out[n1 + n2] = '\0';
		*len = (size_t)(n1 + n2);
	}
	EVP_CIPHER_CTX_free(ctx);
	free(in);
	return out;
}

/* A digest-sign or -verify context for key and crypto: for SM2 with the
 * default distinguishing id on its own EVP_PKEY_CTX (*pctx, the caller
 * frees it after mctx), as EVP_PKEY-SM2(7) shows. NULL on failure,
 * including a key that is not of the kind crypto names. */
static EVP_MD_CTX *
feed_md_ctx(EVP_PKEY *key, enum feed_crypto c, bool sign, EVP_PKEY_CTX **pctx)
{
	EVP_MD_CTX	*m;
	int		 ok;

	*pctx = NULL;
	if (key == NULL || !EVP_PKEY_is_a(key, c == FEED_SM ? "SM2" : "RSA") ||
	    (m = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (c == FEED_SM) {
		if ((*pctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
		    EVP_PKEY_CTX_set1_id(*pctx, FEED_SM2_ID, strlen(FEED_SM2_ID)) != 1) {
			EVP_MD_CTX_free(m);
			return NULL;
		}
		EVP_MD_CTX_set_pkey_ctx(m, *pctx);
	}
	ok = sign ? EVP_DigestSignInit(m, NULL, c == FEED_SM ? EVP_sm3() :
	    EVP_sha256(), NULL, key) : EVP_DigestVerifyInit(m, NULL, c == FEED_SM ?
	    EVP_sm3() : EVP_sha256(), NULL, key);
	if (ok != 1) {
		EVP_MD_CTX_free(m);
		return NULL;
	}
	return m;
}

char *
feed_sign(EVP_PKEY *key, enum feed_crypto c, const void *body, size_t len,
    struct perr *err)
{
	EVP_PKEY_CTX	*pctx;
	EVP_MD_CTX	*m;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	char		*out = NULL;

	if ((m = feed_md_ctx(key, c, true, &pctx)) == NULL) {
		perr_set(err, "WP90", "the signing key is not an %s key",
		    c == FEED_SM ? "SM2" : "RSA");
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	if (EVP_DigestSign(m, NULL, &siglen, body, len) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(m, sig, &siglen, body, len) != 1)
		perr_set(err, "WP90", "could not sign the body (%s)", feed_sign_alg(c));
	else if ((out = b64_encode(sig, siglen)) == NULL)
		perr_set(err, "WP90", "out of memory");
	EVP_MD_CTX_free(m);
	EVP_PKEY_CTX_free(pctx);
	free(sig);
	return out;
}

bool
feed_verify(EVP_PKEY *key, enum feed_crypto c, const void *body, size_t len,
    const char *sig_b64)
{
	EVP_PKEY_CTX	*pctx;
	EVP_MD_CTX	*m;
	unsigned char	*sig;
	size_t		 siglen;
	bool		 ok = false;

	if ((sig = b64_decode(sig_b64, &siglen)) == NULL)
		return false;
	if ((m = feed_md_ctx(key, c, false, &pctx)) != NULL)
		ok = EVP_DigestVerify(m, sig, siglen, body, len) == 1;
	EVP_MD_CTX_free(m);
	EVP_PKEY_CTX_free(pctx);
	free(sig);
	return ok;
}

/* One record as a JSON object: id, seq, kind, at, then the fields in
 * their order, the sealed ones encrypted under key with FEED_SM. */
static json_t *
record_json(const struct feed_record *r, enum feed_crypto c,
    const unsigned char *key, struct perr *err)
{
	json_t		*o, *f, *v;
	json_error_t	 jerr;
	const char	*k;
	char		*sealedv;
	size_t		 i;
	bool		 seal;

	if ((f = json_loads(r->fields, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(f)) {
		json_decref(f);
		perr_set(err, "WP90", "record %s: its fields are not a JSON object", r->id);
		return NULL;
	}
	o = json_object();
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "seq", json_integer(r->seq));
	json_object_set_new(o, "kind", json_string(r->kind));
	json_object_set_new(o, "at", json_string(r->at));
	json_object_foreach(f, k, v) {
		seal = false;
		for (i = 0; c == FEED_SM && i < sizeof(sealed) / sizeof(sealed[0]); i++)
			seal |= strcmp(k, sealed[i]) == 0;
		if (!seal || !json_is_string(v)) {
			json_object_set(o, k, v);
			continue;
		}
		if ((sealedv = feed_sm4_encrypt(key, NULL, json_string_value(v),
		    json_string_length(v), err)) == NULL) {
			json_decref(f);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, k, json_string(sealedv));
		free(sealedv);
	}
	json_decref(f);
	return o;
}

char *
feed_body(const struct feed_record *r, size_t n, enum feed_crypto c,
    const unsigned char key[FEED_KEY_LEN], size_t *len, struct perr *err)
{
	json_t	*body, *records, *o;
	char	*out;
	size_t	 i;

	body = json_object();
	records = json_array();
	json_object_set_new(body, "records", records);
	for (i = 0; i < n; i++) {
		if ((o = record_json(&r[i], c, key, err)) == NULL) {
			json_decref(body);
			return NULL;
		}
		json_array_append_new(records, o);
	}
	out = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (out == NULL) {
		perr_set(err, "WP90", "out of memory, or a field not UTF-8");
		return NULL;
	}
	*len = strlen(out);
	return out;
}
