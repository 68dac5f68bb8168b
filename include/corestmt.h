/*
 * corestmt.h: the core's end-of-day statement of a dedicated account
 * (camt.053.001.08 from the core, POST /v1/core/statements), read for
 * reconciliation against the ledger (schema/functions/reconcile.sql).
 */
#ifndef CORESTMT_H
#define CORESTMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define CORESTMT_NS	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
/* Entries in one day's statement of one account. */
#define CORESTMT_MAX_ENTRIES	200000u

/* One booked Ntry. ref is its NtryRef, or its AcctSvcrRef when it has no
 * NtryRef: the key it is matched by. "" for what is absent. */
struct corestmt_entry {
	char	ref[WP_MAX35_LEN];
	char	svcr_ref[WP_MAX35_LEN];		/* AcctSvcrRef */
	char	end_to_end_id[WP_MAX35_LEN];	/* first TxDtls/Refs/EndToEndId */
	char	booked[WP_DATE_LEN];		/* BookgDt, YYYY-MM-DD ("" absent) */
	int64_t	amount;				/* fen, > 0 */
	bool	credit;				/* CRDT, else DBIT */
};

struct corestmt {
	char			 msg_id[WP_MAX35_LEN];	/* GrpHdr/MsgId */
	char			 stmt_id[WP_MAX35_LEN];	/* Stmt/Id */
	char			 account[WP_CARD_LEN];	/* Stmt/Acct/Id/Othr/Id */
	char			 day[WP_DATE_LEN];	/* the CLBD's date */
	int64_t			 opening;		/* OPBD, fen, DBIT negative */
	int64_t			 closing;		/* CLBD */
	size_t			 nentries;
	struct corestmt_entry	*entries;		/* owned */
};

/*
 * Reads a camt.053.001.08 (validate it against XSD_CAMT053 first; every
 * element used is looked up and bounded here again) holding exactly one
 * Stmt: the account in Acct/Id/Othr/Id, exactly one OPBD and one CLBD
 * balance in CNY (the day is the CLBD's Dt/Dt, or its Dt/DtTm's date), and
 * its entries: those with Sts/Cd BOOK are read (others are not yet on the
 * account and skipped), each in CNY, greater than zero, named by NtryRef or
 * AcctSvcrRef, not a reversal (RvslInd true is refused). NULL with FF01
 * naming the first fault (WP90 on out-of-memory). The caller owns the
 * result (corestmt_free); the document stays the caller's.
 */
struct corestmt	*corestmt_parse(xmlDocPtr doc, struct perr *err);
void		 corestmt_free(struct corestmt *);

#endif
