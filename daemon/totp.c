/*
 * totp.c: operators' second factor, TOTP (RFC 6238: HMAC-SHA1, 6 digits,
 * 30-second steps), checked with liboath; the secret sealed for the
 * database under [console] totp_key; the otpauth:// URI an authenticator
 * app reads, and its QR code (libqrencode) for a terminal.
 *
 * The secret must be usable to verify a code, so it cannot be hashed: it
 * is stored encrypted, AES-256-GCM under the key file's 32 bytes, as
 * TOTP_BLOB_VERSION (a key id: the key it was sealed under), a 12-byte
 * random nonce, the ciphertext and the 16-byte tag; the operator's name is
 * the associated data, so a sealed secret copied to another operator's row
 * does not open. The key never enters the database. Owns nothing; never
 * logs a secret, a code or a key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include "daemon.h"
#include "log.h"

#define TOTP_BLOB_VERSION	1
#define TOTP_NONCE		12
#define TOTP_TAG		16
#define TOTP_STEP		30
#define TOTP_WINDOW		1	/* a step either side: clocks drift */
#define TOTP_ISSUER		"wagepay"

int
totp_key_load(const char *path, unsigned char key[TOTP_KEY_LEN],
    struct perr *err)
{
	FILE		*f;
	char		 buf[2 * TOTP_KEY_LEN + 4];
	size_t		 n, i;
	unsigned int	 v;

	memset(key, 0, TOTP_KEY_LEN);	/* none: totp_key_set says so */
	if (path == NULL)
		return 0;
	if ((f = fopen(path, "r")) == NULL)
		return perr_set(err, "WP90", "[console] totp_key: could not open "
		    "\"%s\": %m", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n != 2 * TOTP_KEY_LEN || strspn(buf, "0123456789abcdefABCDEF") != n) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return perr_set(err, "WP90", "[console] totp_key: \"%s\" must hold "
		    "a 32-byte key as 64 hexadecimal digits (openssl rand -hex "
		    "32)", path);
	}
	for (i = 0; i < TOTP_KEY_LEN; i++) {
		if (sscanf(buf + 2 * i, "%2x", &v) != 1)
			return perr_set(err, "WP90", "[console] totp_key: bad "
			    "hexadecimal in \"%s\"", path);
		key[i] = (unsigned char)v;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int
totp_secret_new(unsigned char secret[TOTP_SECRET_LEN])
{
	return RAND_bytes(secret, TOTP_SECRET_LEN) == 1 ? 0 : -1;
}

/* AES-256-GCM one way or the other; -1 on any failure (a bad tag too). */
static int
gcm(bool seal, const unsigned char *key, const unsigned char *nonce,
    const char *aad, const unsigned char *in, int inlen, unsigned char *out,
    unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    seal) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, TOTP_NONCE,
	    NULL) == 1 &&
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, seal) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, inlen) == 1 && n == inlen &&
	    (seal || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TOTP_TAG,
	    tag) == 1) &&
	    EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
	    (!seal || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TOTP_TAG,
	    tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Whether a key was configured: totp_key_load leaves none all zero. */
bool
totp_key_set(const unsigned char key[TOTP_KEY_LEN])
{
	unsigned char	any = 0;
	size_t		i;

	for (i = 0; i < TOTP_KEY_LEN; i++)
		any |= key[i];
	return any != 0;
}

int
totp_seal(const unsigned char key[TOTP_KEY_LEN], const char *name,
    const unsigned char secret[TOTP_SECRET_LEN], char hex[TOTP_BLOB_HEX + 1])
{
	unsigned char	blob[TOTP_BLOB_LEN];

	if (!totp_key_set(key)) {
		/* no [console] totp_key (API.md names none): the same form,
		 * version 0, the secret as it is; the daemon warned at start */
		memset(blob, 0, sizeof(blob));
		memcpy(blob + 1 + TOTP_NONCE, secret, TOTP_SECRET_LEN);
		util_hex(blob, sizeof(blob), hex);
		OPENSSL_cleanse(blob, sizeof(blob));
		return 0;
	}
	blob[0] = TOTP_BLOB_VERSION;
	if (RAND_bytes(blob + 1, TOTP_NONCE) != 1 ||
	    gcm(true, key, blob + 1, name, secret, TOTP_SECRET_LEN,
	    blob + 1 + TOTP_NONCE, blob + 1 + TOTP_NONCE + TOTP_SECRET_LEN) == -1)
		return -1;
	util_hex(blob, sizeof(blob), hex);
	return 0;
}

int
totp_open(const unsigned char key[TOTP_KEY_LEN], const char *name,
    const char *stored, unsigned char secret[TOTP_SECRET_LEN])
{
	unsigned char	blob[TOTP_BLOB_LEN];
	unsigned int	v;
	size_t		i;

	/* bytea in text form: \x and the hexadecimal digits */
	if (strncmp(stored, "\\x", 2) == 0)
		stored += 2;
	if (strlen(stored) != TOTP_BLOB_HEX)
		return -1;
	for (i = 0; i < TOTP_BLOB_LEN; i++) {
		if (sscanf(stored + 2 * i, "%2x", &v) != 1)
			return -1;
		blob[i] = (unsigned char)v;
	}
	if (blob[0] == 0) {		/* stored without a key (totp_seal) */
		memcpy(secret, blob + 1 + TOTP_NONCE, TOTP_SECRET_LEN);
		OPENSSL_cleanse(blob, sizeof(blob));
		return 0;
	}
	if (blob[0] != TOTP_BLOB_VERSION || !totp_key_set(key))
		return -1;
	return gcm(false, key, blob + 1, name, blob + 1 + TOTP_NONCE,
	    TOTP_SECRET_LEN, secret, blob + 1 + TOTP_NONCE + TOTP_SECRET_LEN);
}

int
totp_check(const unsigned char secret[TOTP_SECRET_LEN], const char *code,
    time_t now, long long *step)
{
	int		pos;
	uint64_t	counter = 0;

	if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return -1;
	if (oath_init() != OATH_OK)
		return -1;
	if (oath_totp_validate4((const char *)secret, TOTP_SECRET_LEN, now,
	    TOTP_STEP, 0, TOTP_WINDOW, &pos, &counter, 0, code) < 0)
		return -1;
	*step = (long long)counter;
	return 0;
}

char *
totp_uri(const char *name, const unsigned char secret[TOTP_SECRET_LEN])
{
	char	*b32 = NULL, *uri;
	size_t	 len;

	if (oath_init() != OATH_OK ||
	    oath_base32_encode((const char *)secret, TOTP_SECRET_LEN, &b32,
	    &len) != OATH_OK)
		return NULL;
	/* base32 of 20 bytes is 32 characters, no padding; names are
	 * [A-Za-z0-9._-] (the operator table's CHECK): nothing to escape */
	if (asprintf(&uri, "otpauth://totp/" TOTP_ISSUER ":%s?secret=%s&issuer="
	    TOTP_ISSUER "&algorithm=SHA1&digits=6&period=%d", name, b32,
	    TOTP_STEP) == -1)
		uri = NULL;
	OPENSSL_cleanse(b32, len);
	free(b32);
	return uri;
}

void
totp_qr_print(FILE *out, const char *uri)
{
	QRcode	*qr;
	int	 x, y, w;

	if ((qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) ==
	    NULL)
		return;
	w = qr->width;
	/* two rows a line with half blocks, dark on light, a 2-module border */
	for (y = -2; y < w + 2; y += 2) {
		for (x = -2; x < w + 2; x++) {
			bool top = y >= 0 && y < w && x >= 0 && x < w &&
			    (qr->data[y * w + x] & 1);
			bool bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
			    (qr->data[(y + 1) * w + x] & 1);

			fputs(top ? (bot ? " " : "\u2584") :
			    (bot ? "\u2580" : "\u2588"), out);
		}
		fputc('\n', out);
	}
	QRcode_free(qr);
}
