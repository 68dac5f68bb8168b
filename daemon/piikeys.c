/*
 * piikeys.c: the key files of [security] (issue 22: personal data at rest)
 * loaded into proto/pii.c's keys, and the loop thread's own context for
 * the read paths that open a sealed record (the roster read back, vouchers,
 * payment orders) or look a worker up by blind index (the console).
 *
 * Owns: the loop thread's pii context (made on first use; the keys are
 * wpd->pii's, fixed from start-up: a SIGHUP does not change them, as an
 * index key that changed would make every lookup miss).
 * Must not: log a clear value, or read a key file anyone else may read.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "daemon.h"
#include "log.h"
#include "pii.h"

static struct pii_ctx	*loop_ctx;

static int
read_key(const char *path, uint8_t key[PII_KEY_LEN], struct perr *err)
{
	char		buf[256];
	struct stat	st;
	ssize_t		n;
	int		fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return perr_set(err, "WP90", "could not open key file \"%s\": "
		    "%s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		close(fd);
		return perr_set(err, "WP90", "key file \"%s\" may be read by "
		    "others than its owner: chmod 600 it", path);
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return perr_set(err, "WP90", "could not read key file \"%s\": "
		    "%s", path, strerror(errno));
	rc = pii_key_parse(buf, (size_t)n, key, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc == -1)
		return perr_set(err, "WP90", "key file \"%s\": %s", path,
		    err->msg);
	return 0;
}

struct pii_keys *
piikeys_load(const struct config *c, struct perr *err)
{
	uint8_t		 idx[PII_KEY_LEN], data[PII_KEY_LEN], prev[PII_KEY_LEN];
	struct pii_keys	*k = NULL;

	if (c->data_key == NULL)
		return NULL;
	if (read_key(c->index_key, idx, err) == 0 &&
	    read_key(c->data_key, data, err) == 0 &&
	    (c->previous_data_key == NULL ||
	    read_key(c->previous_data_key, prev, err) == 0)) {
		if (memcmp(idx, data, PII_KEY_LEN) == 0)
			perr_set(err, "WP90", "[security] index_key and data_key "
			    "must be two different keys");
		else
			k = pii_keys_new(idx, data, c->previous_data_key != NULL ?
			    prev : NULL, err);
	}
	OPENSSL_cleanse(idx, sizeof(idx));
	OPENSSL_cleanse(data, sizeof(data));
	OPENSSL_cleanse(prev, sizeof(prev));
	return k;
}

static struct pii_ctx *
ctx(void)
{
	if (loop_ctx == NULL && wpd != NULL && wpd->pii != NULL &&
	    (loop_ctx = pii_ctx_new(wpd->pii)) == NULL)
		fatalx("out of memory");
	return loop_ctx;
}

const char *
piikeys_index(enum pii_field f, const char *value, char *out)
{
	if (ctx() == NULL)
		return value;
	pii_index(loop_ctx, f, value, strlen(value), out);
	return out;
}

int
piikeys_seal_hex(const char *idn, const char *name, const char *card,
    char *hex, size_t len, struct perr *err)
{
	static const char	d[] = "0123456789abcdef";
	uint8_t			buf[PII_SEAL_MAX];
	size_t			n, i;

	if (ctx() == NULL)
		return perr_set(err, "WP90", "no [security] keys to seal with");
	if (pii_seal(loop_ctx, idn, name, card, buf, &n, err) == -1)
		return -1;
	if (2 * n + 1 > len)
		return perr_set(err, "FF01", "a sealed record does not fit");
	for (i = 0; i < n; i++) {
		hex[2 * i] = d[buf[i] >> 4];
		hex[2 * i + 1] = d[buf[i] & 15];
	}
	hex[2 * n] = '\0';
	return 0;
}

const char *
piikeys_index_id(void)
{
	return wpd != NULL && wpd->pii != NULL ? pii_keys_index_id(wpd->pii) :
	    NULL;
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
piikeys_open_hex(const char *hex, struct pii_clear *out, struct perr *err)
{
	if (ctx() == NULL)
		return perr_set(err, "WP90", "a sealed personal record, and "
		    "no [security] keys to open it");
	return piikeys_open_hex_ctx(loop_ctx, hex, out, err);
}

int
piikeys_open_dup(const char *hex, char **name, char **card, struct perr *err)
{
	struct pii_clear	cl;
	int			rc = 0;

	if (piikeys_open_hex(hex, &cl, err) == -1)
		return -1;
	if ((name != NULL && (*name = strdup(cl.name)) == NULL) ||
	    (card != NULL && (*card = strdup(cl.card)) == NULL))
		rc = perr_set(err, "WP90", "out of memory");
	OPENSSL_cleanse(&cl, sizeof(cl));
	return rc;
}

int
piikeys_open_hex_ctx(struct pii_ctx *x, const char *hex, struct pii_clear *out,
    struct perr *err)
{
	uint8_t	buf[PII_SEAL_MAX];
	size_t	n = strlen(hex), i;
	int	hi, lo;

	if (n % 2 != 0 || n / 2 > sizeof(buf))
		return perr_set(err, "WP90", "a sealed personal record is "
		    "damaged (%zu hex digits)", n);
	for (i = 0; i < n / 2; i++) {
		if ((hi = nibble(hex[2 * i])) == -1 ||
		    (lo = nibble(hex[2 * i + 1])) == -1)
			return perr_set(err, "WP90", "a sealed personal record "
			    "is not hex");
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return pii_open(x, buf, n / 2, out, err);
}
