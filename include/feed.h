/*
 * feed.h: the provincial platform feed's document and its cryptography
 * (API.md "Provincial platform feed"), pure: proto/feed.c. The body
 * {"records":[...]}, SM4-CBC of the personal fields, the body's signature
 * (SM2 with SM3 and the default distinguishing id, or RSA-SHA256).
 */
#ifndef FEED_H
#define FEED_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "wagepay.h"

enum feed_crypto {
	FEED_SM = 1,		/* crypto = sm: SM2-SM3 signature, SM4 fields */
	FEED_RSA		/* crypto = rsa: RSA-SHA256 signature, fields in clear */
};

#define FEED_KEY_LEN	16	/* an SM4 key, and its IV */
/* GM/T 0009's default user id, the one `openssl dgst -sigopt distid:` names */
#define FEED_SM2_ID	"1234567812345678"

/* One record of a batch, as wp_platform_claim returns it: fields is the
 * record's other fields as a JSON object, in clear. Borrowed pointers. */
struct feed_record {
	long long	 seq;
	const char	*id;
	const char	*kind;
	const char	*at;
	const char	*fields;
};

/* "SM2-SM3" or "RSA-SHA256": the X-Wagepay-Sign-Alg header. */
const char	*feed_sign_alg(enum feed_crypto);

/* A data_key file's text: 32 hexadecimal digits, blanks around them
 * allowed, into key. -1 with err (FF01) otherwise. */
int		 feed_data_key_parse(const char *text, size_t len,
		    unsigned char key[FEED_KEY_LEN], struct perr *err)
		    __attribute__((warn_unused_result));

/* SM4-CBC of plain under key: base64 of iv followed by the PKCS#7-padded
 * ciphertext (malloc'd, NUL-terminated; the caller frees it). iv NULL: a
 * random one. NULL with err on failure. */
char		*feed_sm4_encrypt(const unsigned char key[FEED_KEY_LEN],
		    const unsigned char *iv, const char *plain, size_t len,
		    struct perr *err);
/* The inverse: the plaintext (malloc'd, NUL-terminated, its length in
 * *len), or NULL with err for what is not base64 of an IV and whole
 * blocks, or whose padding is wrong (another key). */
char		*feed_sm4_decrypt(const unsigned char key[FEED_KEY_LEN],
		    const char *b64, size_t *len, struct perr *err);

/* The signature of the len bytes at body, base64 (malloc'd): SM2 with SM3
 * and the default distinguishing id (FEED_SM; key must be an SM2 key), or
 * RSA PKCS#1 v1.5 with SHA-256 (FEED_RSA; an RSA key). NULL with err. */
char		*feed_sign(EVP_PKEY *key, enum feed_crypto, const void *body,
		    size_t len, struct perr *err);
/* true when sig_b64 is key's signature of body, as feed_sign makes it. */
bool		 feed_verify(EVP_PKEY *key, enum feed_crypto, const void *body,
		    size_t len, const char *sig_b64);

/* The body {"records":[...]}: each record {"id","seq","kind","at", then its
 * fields in their order}, compact UTF-8; with FEED_SM the fields idNumber,
 * name and card SM4-encrypted under key (a fresh IV each). malloc'd, its
 * length in *len; NULL with err (a fields text that is not a JSON object). */
char		*feed_body(const struct feed_record *, size_t n, enum feed_crypto,
		    const unsigned char key[FEED_KEY_LEN], size_t *len,
		    struct perr *err);

#endif
