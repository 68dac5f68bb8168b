/*
 * pii.h: a worker's ID number, name and card number at rest (issue 22):
 * sealed with AES-256-GCM under the data key, found by keyed blind indexes
 * (HMAC-SHA256 under the index key), masked for display. Pure: no I/O but
 * what the caller passes, no libpq, no logging (proto/pii.c).
 */
#ifndef PII_H
#define PII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wagepay.h"

#define PII_KEY_LEN	32
/* A blind index: 13 bytes of HMAC-SHA256 as unpadded base64url, 18
 * characters (104 bits), so that it fits the char(18) columns that held
 * the ID number. */
#define PII_INDEX_LEN	18
/* A key id: the first 4 bytes of SHA-256("wagepay data key" || key). */
#define PII_KEYID_LEN	4
/* version 1 || key id || 12-byte nonce || ciphertext || 16-byte tag */
#define PII_SEAL_OVERHEAD	(1 + PII_KEYID_LEN + 12 + 16)
/* the largest clear record: three fields with 2-byte lengths */
#define PII_FIELD_MAX	600
#define PII_SEAL_MAX	(PII_SEAL_OVERHEAD + 3 * (2 + PII_FIELD_MAX))

/* Domain separation: the same text as a name and as a card gives two
 * unrelated indexes. */
enum pii_field {
	PII_IDN = 1,
	PII_NAME,
	PII_CARD
};

/* One worker's clear fields, each NUL-terminated. */
struct pii_clear {
	char	idn[PII_FIELD_MAX + 1];
	char	name[PII_FIELD_MAX + 1];
	char	card[PII_FIELD_MAX + 1];
};

struct pii_keys;	/* immutable once made: share it across threads */
struct pii_ctx;		/* one thread's working state over a pii_keys */

/*
 * Reads a key file's text: 64 hexadecimal digits, surrounding white space
 * allowed, nothing else. -1 with err (WP90) otherwise.
 */
int		 pii_key_parse(const char *text, size_t len,
		    uint8_t key[PII_KEY_LEN], struct perr *err) WUR;
/* The key id of a data or index key, as 8 lower-case hex digits. */
void		 pii_key_id(const uint8_t key[PII_KEY_LEN], char out[9]);

/*
 * The keys: the index key, the data key values are sealed under, and
 * optionally a previous data key that is only opened (a rotation under
 * way). NULL with err on out of memory or a missing cipher. The caller
 * owns the result (pii_keys_free); the keys are copied.
 */
struct pii_keys	*pii_keys_new(const uint8_t index_key[PII_KEY_LEN],
		    const uint8_t data_key[PII_KEY_LEN],
		    const uint8_t *previous_data_key, struct perr *err) WUR;
void		 pii_keys_free(struct pii_keys *);
/* The data key's id (what pii_seal writes), 8 hex digits. */
const char	*pii_keys_data_id(const struct pii_keys *);
/* The index key's id, 8 hex digits: the database records it, so a daemon
 * with another index key is refused (every lookup would miss). */
const char	*pii_keys_index_id(const struct pii_keys *);

/* A working context for one thread (or one sheet) at a time; NULL on out
 * of memory. Owned by the caller (pii_ctx_free). */
struct pii_ctx	*pii_ctx_new(const struct pii_keys *) WUR;
void		 pii_ctx_free(struct pii_ctx *);

/* The blind index of len bytes of value as field f, NUL-terminated. */
void		 pii_index(struct pii_ctx *, enum pii_field f,
		    const char *value, size_t len, char out[PII_INDEX_LEN + 1]);

/*
 * Seals the three fields (NULL as empty) under the data key with a fresh
 * random nonce into out (PII_SEAL_MAX bytes fit any); *outlen its length.
 * -1 with err (FF01) for a field over PII_FIELD_MAX bytes or a failed
 * random source or cipher.
 */
int		 pii_seal(struct pii_ctx *, const char *idn, const char *name,
		    const char *card, uint8_t *out, size_t *outlen,
		    struct perr *err) WUR;
/*
 * Opens a sealed record under the key its id names (data or previous key).
 * -1 with err (WP90) for an unknown key id, a damaged or forged record.
 */
int		 pii_open(struct pii_ctx *, const uint8_t *sealed, size_t len,
		    struct pii_clear *out, struct perr *err) WUR;
/* The key id a sealed record names (8 hex digits), or "" if unreadable. */
void		 pii_sealed_key_id(const uint8_t *sealed, size_t len,
		    char out[9]);
/* Whether a sealed record is under the current data key. */
bool		 pii_sealed_current(const struct pii_keys *,
		    const uint8_t *sealed, size_t len);

/* A name for display: its first character, then one '*' per other
 * character ("张**"); empty for NULL or "". out of outlen bytes. */
void		 pii_mask_name(const char *name, char *out, size_t outlen);

#endif
