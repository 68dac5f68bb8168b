/*
 * sigtrust.h: the trust store behind struct sigtrust, shared by the two
 * files that use it and by no one else: proto/sigtrust.c loads it,
 * proto/sigverify.c verifies sheets against it.
 */
#ifndef SIGTRUST_H
#define SIGTRUST_H

#include <openssl/x509.h>

#include "certcache.h"

struct sigtrust {
	X509_STORE		*store;	/* owned: the trusted CA certificates */
	STACK_OF(X509_CRL)	*crls;	/* owned: revocation lists, each verified
					 * against a trusted CA; NULL if none */
	struct certcache	*verified; /* owned: the signers' chains that
					 * verified against these (certcache.h) */
};

#endif
