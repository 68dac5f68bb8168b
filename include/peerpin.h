/*
 * peerpin.h: one client certificate pinned by its subject (an RFC 4514
 * string, "CN=core,O=Bank") or by the SHA-256 of its DER ("sha256:" and 64
 * hex digits), as [core] client_subject names the core's (API.md). Pure:
 * parsing and matching only (proto/peerpin.c).
 */
#ifndef PEERPIN_H
#define PEERPIN_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "wagepay.h"

/* "sha256:" + 64 hex digits + NUL */
#define PEERPIN_FINGERPRINT_LEN	(7 + 64 + 1)

struct peerpin;

/*
 * Parses text: "sha256:" and 64 hex digits (either case), or an RFC 4514
 * distinguished name, most specific RDN first as RFC 4514 writes it
 * ("CN=core,O=Bank"; attribute names case-insensitive, spaces around "," and
 * "=" allowed, values escaped as RFC 4514 says). Refused: multi-valued RDNs
 * ("+"), "#" BER values, unknown attribute names, an empty value. NULL with
 * err set (FF01, what is wrong, without the value); the caller owns the
 * result (peerpin_free).
 */
struct peerpin	*peerpin_parse(const char *text, struct perr *err);
void		 peerpin_free(struct peerpin *);
/*
 * True if cert is the pinned one: its DER's SHA-256 is the pin's, or its
 * subject has exactly the pin's attributes, in the pin's order, each value
 * (as UTF-8) byte for byte equal. A NULL pin or cert matches nothing.
 */
bool		 peerpin_matches(const struct peerpin *, X509 *cert);
/* cert's subject as RFC 4514 text (UTF-8, controls escaped) into buf,
 * truncated to len; "" on failure. */
void		 peerpin_subject(X509 *cert, char *buf, size_t len);
/* "sha256:" and the lower-case hex of cert's DER SHA-256; -1 on failure. */
int		 peerpin_fingerprint(X509 *cert,
		    char out[PEERPIN_FINGERPRINT_LEN]) WUR;

#endif
