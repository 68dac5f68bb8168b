/*
 * operator.c: bank operators' passwords and the --add-operator command.
 *
 * Passwords are hashed with scrypt (OpenSSL EVP_PBE_scrypt), N=2^14, r=8,
 * p=1, a 16-byte random salt, into "scrypt$N$r$p$salt$hash". Comparison is
 * constant-time. --add-operator also enrols the operator's second factor
 * (totp.c) and prints it once, on standard output, never in a log. Owns
 * nothing; never logs a password or a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "daemon.h"
#include "log.h"

#define SCRYPT_N	16384
#define SCRYPT_R	8
#define SCRYPT_P	1
#define SALT_LEN	16
#define HASH_LEN	32

static int
derive(const char *password, const unsigned char *salt, size_t saltlen,
    uint64_t n, uint64_t r, uint64_t p, unsigned char *out, size_t outlen)
{
	/* memory bound: 128 * r * n bytes, plus slack */
	if (EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, r, p,
	    128 * r * n + 1024 * 1024, out, outlen) != 1)
		return -1;
	return 0;
}

char *
operator_password_hash(const char *password)
{
	unsigned char	salt[SALT_LEN], hash[HASH_LEN];
	char		salthex[2 * SALT_LEN + 1], hashhex[2 * HASH_LEN + 1];
	char		*out;

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    derive(password, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P,
	    hash, sizeof(hash)) == -1)
		return NULL;
	util_hex(salt, sizeof(salt), salthex);
	util_hex(hash, sizeof(hash), hashhex);
	if (asprintf(&out, "scrypt$%d$%d$%d$%s$%s", SCRYPT_N, SCRYPT_R,
	    SCRYPT_P, salthex, hashhex) == -1)
		return NULL;
	OPENSSL_cleanse(hash, sizeof(hash));
	return out;
}

static int
unhex(const char *s, unsigned char *out, size_t outlen)
{
	size_t	i;
	unsigned int v;

	if (strlen(s) != 2 * outlen)
		return -1;
	for (i = 0; i < outlen; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

bool
operator_password_verify(const char *password, const char *stored)
{
	unsigned long	n, r, p;
	char		salthex[2 * SALT_LEN + 1], hashhex[2 * HASH_LEN + 1];
	unsigned char	salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	bool		ok;

	if (sscanf(stored, "scrypt$%lu$%lu$%lu$%32[0-9a-f]$%64[0-9a-f]", &n, &r,
	    &p, salthex, hashhex) != 5)
		return false;
	/* refuse parameters that would let a stored row exhaust memory */
	if (n < 1024 || n > 1048576 || r < 1 || r > 16 || p < 1 || p > 4)
		return false;
	if (unhex(salthex, salt, sizeof(salt)) == -1 ||
	    unhex(hashhex, want, sizeof(want)) == -1)
		return false;
	if (derive(password, salt, sizeof(salt), n, r, p, got, sizeof(got)) == -1)
		return false;
	ok = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

/* Prints the operator's second factor: the URI, and a QR code of it when
 * standard output is a terminal (an authenticator app scans it). */
static void
print_factor(const char *name, const char *uri)
{
	printf("operator %s: second factor (TOTP, RFC 6238); add it to an "
	    "authenticator app, then sign in with its code:\n%s\n", name, uri);
	if (isatty(fileno(stdout)))
		totp_qr_print(stdout, uri);
	fflush(stdout);
}

/* The operator stored by wp_operator_add (schema/functions/operators.sql). */
static int
store(const char *dsn, const char *name, const char *role, const char *hash,
    const char *sealed)
{
	PGconn		*conn;
	PGresult	*res;
	const char	*params[4] = { name, role, hash, sealed };
	int		 rc = -1;

	conn = PQconnectdb(dsn);
	if (PQstatus(conn) != CONNECTION_OK) {
		log_warnx("could not connect to the database: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	res = PQexecParams(conn, "SELECT wp_operator_add($1, $2, $3, "
	    "decode($4, 'hex'))", 4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warnx("operator %s: could not be stored: %s", name,
		    PQresultErrorMessage(res));
	else
		rc = 0;
	PQclear(res);
	PQfinish(conn);
	return rc;
}

int
operator_add(const char *dsn, const unsigned char *key, const char *name,
    const char *role, const char *password)
{
	unsigned char	 secret[TOTP_SECRET_LEN];
	char		 sealed[TOTP_BLOB_HEX + 1];
	char		*hash = NULL, *uri = NULL;
	int		 rc = -1;

	if (strcmp(role, "viewer") != 0 && strcmp(role, "maker") != 0 &&
	    strcmp(role, "checker") != 0 && strcmp(role, "admin") != 0) {
		log_warnx("operator %s: role must be viewer, maker, checker or "
		    "admin, not \"%s\"", name, role);
		return -1;
	}
	if (strlen(password) < 12) {
		log_warnx("operator %s: password must have at least 12 characters",
		    name);
		return -1;
	}
	if ((hash = operator_password_hash(password)) == NULL) {
		log_warnx("operator %s: could not hash the password", name);
		return -1;
	}
	if (totp_secret_new(secret) == -1 ||
	    totp_seal(key, name, secret, sealed) == -1 ||
	    (uri = totp_uri(name, secret)) == NULL)
		log_warnx("operator %s: could not make a second factor", name);
	else if ((rc = store(dsn, name, role, hash, sealed)) == 0)
		print_factor(name, uri);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(hash, strlen(hash));
	free(hash);
	if (uri != NULL) {
		OPENSSL_cleanse(uri, strlen(uri));
		free(uri);
	}
	return rc;
}
