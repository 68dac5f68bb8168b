/*
 * camt054.h: debit/credit notifications from the bank's core
 * (camt.054.001.08): labour-cost deposits and returned wage payments.
 */
#ifndef CAMT054_H
#define CAMT054_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define CAMT054_NS "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"

struct camt054_entry {
	char		 account[WP_CARD_LEN];	/* Ntfctn/Acct/Id/Othr/Id */
	char		 entry_ref[WP_MAX35_LEN];	/* NtryRef: idempotency key */
	int64_t		 amount;		/* fen, > 0 */
	char		 booking_date[WP_DATE_LEN];
	char		 payer_name[141 * 4];	/* deposits: RltdPties/Dbtr/Pty/Nm */
	char		 payer_uscc[WP_USCC_LEN];	/* deposits: its OrgId/Othr/Id, may be "" */
	bool		 is_return;		/* RtrInf present */
	char		 end_to_end_id[WP_MAX35_LEN];	/* returns: original line's */
	char		 return_reason[8];	/* returns: RtrInf/Rsn/Cd */
};

struct camt054 {
	char		 msg_id[WP_MAX35_LEN];
	size_t		 nentries;
	struct camt054_entry *entries;		/* owned */
};

/*
 * Reads a schema-valid camt.054.001.08. Only CRDT entries with status BOOK
 * and currency CNY are accepted; anything else refuses the whole message
 * (NULL, err FF01 naming the entry). The caller owns the result.
 */
struct camt054	*camt054_parse(xmlDocPtr doc, struct perr *err);
void		 camt054_free(struct camt054 *);

#endif
