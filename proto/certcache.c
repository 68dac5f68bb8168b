/*
 * certcache.c: verified signer certificate chains, by the SHA-256 of their
 * DER (include/certcache.h).
 *
 * A fixed table searched in full: CERTCACHE_SLOTS entries of 32-byte keys
 * are fewer comparisons than one certificate's decoding, and a bank has
 * fewer signers active in a minute than slots.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certcache.h"

struct entry {
	unsigned char	 key[CERTCACHE_KEY_LEN];
	STACK_OF(X509)	*certs;		/* NULL: the slot is free */
	time_t		 from, until;	/* the verdict holds for from <= now < until */
	uint64_t	 used;		/* tick of the last lookup or store */
};

struct certcache {
	pthread_mutex_t	 lock;
	struct entry	 slot[CERTCACHE_SLOTS];
	uint64_t	 tick;
	size_t		 hits;
};

struct certcache *
certcache_new(void)
{
	struct certcache	*cc;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return NULL;
	if (pthread_mutex_init(&cc->lock, NULL) != 0) {
		free(cc);
		return NULL;
	}
	return cc;
}

static void
forget(struct entry *e)
{
	sk_X509_pop_free(e->certs, X509_free);
	e->certs = NULL;
}

void
certcache_clear(struct certcache *cc)
{
	size_t	i;

	if (cc == NULL)
		return;
	pthread_mutex_lock(&cc->lock);
	for (i = 0; i < CERTCACHE_SLOTS; i++)
		forget(&cc->slot[i]);
	pthread_mutex_unlock(&cc->lock);
}

void
certcache_free(struct certcache *cc)
{
	if (cc == NULL)
		return;
	certcache_clear(cc);
	pthread_mutex_destroy(&cc->lock);
	free(cc);
}

/* The entry holding key, or NULL. Called with the lock held. */
static struct entry *
find(struct certcache *cc, const unsigned char key[CERTCACHE_KEY_LEN])
{
	size_t	i;

	for (i = 0; i < CERTCACHE_SLOTS; i++)
		if (cc->slot[i].certs != NULL &&
		    memcmp(cc->slot[i].key, key, CERTCACHE_KEY_LEN) == 0)
			return &cc->slot[i];
	return NULL;
}

STACK_OF(X509) *
certcache_get(struct certcache *cc, const unsigned char key[CERTCACHE_KEY_LEN],
    time_t now)
{
	struct entry	*e;
	STACK_OF(X509)	*certs = NULL;

	if (cc == NULL)
		return NULL;
	pthread_mutex_lock(&cc->lock);
	if ((e = find(cc, key)) != NULL) {
		if (now < e->from || now >= e->until)
			forget(e);	/* a certificate of the chain expired (or
					 * the clock went back before one began) */
		else if ((certs = X509_chain_up_ref(e->certs)) != NULL) {
			e->used = ++cc->tick;
			cc->hits++;
		}
	}
	pthread_mutex_unlock(&cc->lock);
	return certs;
}

void
certcache_put(struct certcache *cc, const unsigned char key[CERTCACHE_KEY_LEN],
    STACK_OF(X509) *certs, time_t from, time_t until)
{
	struct entry	*e, *victim;
	STACK_OF(X509)	*mine;
	size_t		 i;

	if (cc == NULL || (mine = X509_chain_up_ref(certs)) == NULL)
		return;
	pthread_mutex_lock(&cc->lock);
	if (find(cc, key) != NULL) {
		/* another thread verified the same signer meanwhile: its
		 * entry stands, and these copies go */
		pthread_mutex_unlock(&cc->lock);
		sk_X509_pop_free(mine, X509_free);
		return;
	}
	/* a free slot, else the one looked up longest ago */
	victim = &cc->slot[0];
	for (i = 0; i < CERTCACHE_SLOTS; i++) {
		e = &cc->slot[i];
		if (e->certs == NULL) {
			victim = e;
			break;
		}
		if (e->used < victim->used)
			victim = e;
	}
	e = victim;
	forget(e);
	memcpy(e->key, key, CERTCACHE_KEY_LEN);
	e->certs = mine;
	e->from = from;
	e->until = until;
	e->used = ++cc->tick;
	pthread_mutex_unlock(&cc->lock);
}

size_t
certcache_hits(struct certcache *cc)
{
	size_t	n;

	pthread_mutex_lock(&cc->lock);
	n = cc->hits;
	pthread_mutex_unlock(&cc->lock);
	return n;
}
