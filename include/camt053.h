/*
 * camt053.h: the account statement a general contractor fetches for its
 * project's dedicated account (camt.053.001.08, valid against the official
 * schema in proto/iso20022/).
 */
#ifndef CAMT053_H
#define CAMT053_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define CAMT053_NS "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"

enum camt053_kind {
	CAMT053_DEPOSIT = 1,	/* labour cost from the owner: RCDT/DMCT */
	CAMT053_WAGE,		/* a line paid to a worker's card: ICDT/DMCT */
	CAMT053_RETURN,		/* a wage payment sent back: ICDT/RRTN */
	CAMT053_ATTACHMENT,	/* attached by a legal order for wages */
	CAMT053_OTHER
};

/* Strings are the caller's; NULL or "" leaves an optional element out. */
struct camt053_entry {
	enum camt053_kind kind;
	const char	*ref;		/* NtryRef */
	const char	*svcr_ref;	/* AcctSvcrRef: the bank's transfer id */
	int64_t		 amount;	/* fen, > 0 */
	bool		 credit;
	const char	*booked;	/* YYYY-MM-DD */
	const char	*msg_id;	/* Refs: the sheet's MsgId */
	const char	*end_to_end_id;	/* Refs: the line's EndToEndId */
	const char	*ustrd;		/* RmtInf/Ustrd, e.g. WAGE/2026-10 */
	const char	*party;		/* debtor's (credits) or creditor's name */
	const char	*return_reason;	/* RtrInf/Rsn/Cd */
};

struct camt053 {
	const char	*msg_id;	/* our message id */
	const char	*created_at;	/* ISO dateTime with offset */
	const char	*account;	/* the dedicated account */
	const char	*from;		/* YYYY-MM-DD, China time */
	const char	*to;		/* YYYY-MM-DD, inclusive */
	int64_t		 opening;	/* fen; negative writes DBIT */
	int64_t		 closing;
	const struct camt053_entry *entries;
	size_t		 nentries;
};

/*
 * Builds the statement: GrpHdr, one Stmt with FrToDt, the opening (OPBD)
 * and closing (CLBD) booked balances, TxsSummry, and one booked Ntry per
 * entry with its details. Refuses (NULL, err FF01) a missing field, an
 * amount <= 0, a closing balance that the entries do not explain, or sums
 * out of range. The caller owns the document.
 */
xmlDocPtr	 camt053_build(const struct camt053 *, struct perr *err);

#endif
