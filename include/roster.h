/*
 * roster.h: the project's real-name roster (urn:wagepay:roster:1) and its
 * receipt, as plain C data. Pure: no I/O.
 */
#ifndef ROSTER_H
#define ROSTER_H

#include <stddef.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define ROSTER_NS "urn:wagepay:roster:1"

struct roster_sub {
	char		 uscc[WP_USCC_LEN];
	char		*name;			/* owned */
};

struct roster_worker {
	char		 id_number[WP_ID_NUMBER_LEN];
	char		*name;			/* owned */
	char		 employer[WP_USCC_LEN];
	char		 card[WP_CARD_LEN];
	char		 card_bank[WP_BANK_CODE_LEN];
	char		 contract_signed[WP_DATE_LEN];
	char		 entered[WP_DATE_LEN];
	char		 left[WP_DATE_LEN];	/* "" while on site */
	/* Set when the entry is refused by a check that needs no database:
	 * WP11 ID check digit, WP12 card check digit, WP14 contract signed
	 * after entering, WP16 left before entering, WP17 ID twice in one
	 * upload, WP18 bad bank code. */
	struct perr	 err;
};

struct roster {
	char		 project[WP_PROJECT_LEN];
	size_t		 nsubs;
	struct roster_sub *subs;		/* owned */
	size_t		 nworkers;
	struct roster_worker *workers;		/* owned */
};

/* Reads a schema-valid Roster document. NULL with err (FF01) on failure. */
struct roster	*roster_parse(xmlDocPtr doc, struct perr *err);
void		 roster_free(struct roster *);

/* Serialises a roster (for GET) as a malloc'd document valid against
 * proto/xsd/roster.xsd; NULL only on out-of-memory. */
char		*roster_build(const struct roster *, size_t *len);

struct roster_refusal {
	const char	*id_number;
	const char	*code;		/* WP.. */
	const char	*message;
};

/* Builds a RosterReceipt document (malloc'd); NULL only on out-of-memory. */
char		*roster_receipt_build(const char *project, size_t accepted,
		    const struct roster_refusal *refused, size_t nrefused,
		    size_t *len);

#endif
