/*
 * certcache.h: the signers' certificate chains a trust store has verified,
 * so that a subcontractor's hundredth sheet does not pay for its first.
 *
 * Decoding a certificate (OpenSSL 3's key decoders) and chaining it to the
 * CAs cost more than everything else a ten-line sheet needs
 * (tests/bench/RESULTS.md). Every sheet of a signer carries the same
 * KeyInfo, so proto/sigverify.c names the certificates of a KeyInfo by the
 * SHA-256 of their DER and keeps, for a set that verified, the decoded
 * certificates and when the verdict holds: from the last notBefore of the
 * chain until its first notAfter. Nothing else can change it while the cache lives: the CAs and
 * revocation lists of a struct sigtrust are fixed once loaded (SIGHUP
 * loads a new one, with a new cache). Only sets that verified are kept; a
 * refusal is always worked out afresh, with its exact reason.
 *
 * Thread-safe (one mutex): sheets are verified on worker threads.
 */
#ifndef CERTCACHE_H
#define CERTCACHE_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#define CERTCACHE_KEY_LEN	32	/* SHA-256 of the KeyInfo's certificates */
#define CERTCACHE_SLOTS		64	/* signers remembered; the least
					 * recently used is forgotten first */

struct certcache;

struct certcache	*certcache_new(void);
void			 certcache_free(struct certcache *);
void			 certcache_clear(struct certcache *);

/* The certificates of key, verified and valid at now, each up-referenced
 * for the caller (free with sk_X509_pop_free); NULL if the set is not
 * known, or now is outside its verdict's window (then it is forgotten). */
STACK_OF(X509)		*certcache_get(struct certcache *,
			    const unsigned char key[CERTCACHE_KEY_LEN],
			    time_t now);

/* Remembers certs (as KeyInfo gave them, in order; up-referenced, the
 * caller keeps its own) as verified for from <= now < until. Out of memory,
 * it remembers nothing: the next sheet is verified in full. */
void			 certcache_put(struct certcache *,
			    const unsigned char key[CERTCACHE_KEY_LEN],
			    STACK_OF(X509) *certs, time_t from, time_t until);

/* Lookups answered from the cache since it was made (for the tests). */
size_t			 certcache_hits(struct certcache *);

#endif
