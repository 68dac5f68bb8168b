/*
 * alert.h: the Alert the bank sends to regulators (urn:wagepay:alert:1,
 * proto/xsd/alert.xsd), built as a tree so that the daemon can sign it.
 */
#ifndef ALERT_H
#define ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define ALERT_NS	"urn:wagepay:alert:1"

/* One account of an ACCOUNTS_OPENED report. */
struct alert_opened {
	const char	*code;		/* project code */
	const char	*name;		/* project name */
	const char	*account;	/* the dedicated account's number */
	const char	*opened_at;	/* ISO dateTime with offset */
};

/* One guarantee of a GUARANTEES ledger (004 第六条 台账, issue #21). */
struct alert_guarantee {
	const char	*code;		/* project code */
	const char	*name;		/* project name */
	const char	*contractor;	/* the general contractor's credit code */
	const char	*kind;		/* ACCOUNT, LETTER or ACCOUNT+LETTER */
	int64_t		 required, held, drawn;	/* fen, >= 0 */
	const char	*expires;	/* YYYY-MM-DD of the latest letter, or NULL */
};

/* Strings are the caller's; NULL (or "") leaves an optional element out. */
struct alert_msg {
	const char	*id;		/* stable across retries: the alert row's uuid */
	const char	*kind;		/* BALANCE_SHORT ... ACCOUNTS_OPENED */
	const char	*raised_at;	/* ISO dateTime with offset */
	const char	*project_code;	/* the four of Project: all or none */
	const char	*project_name;
	const char	*region;
	const char	*industry;
	const char	*account;
	bool		 has_balance, has_required, has_shortfall;
	int64_t		 balance, required, shortfall;	/* fen, >= 0 */
	const char	*month;		/* YYYY-MM */
	const char	*msg_id;
	const char	*end_to_end_id;
	const char	*detail;	/* required; never a full ID or card number */
	const struct alert_opened *opened;	/* ACCOUNTS_OPENED only */
	size_t		 nopened;
	const struct alert_guarantee *guarantees;	/* GUARANTEES only */
	size_t		 nguarantees;
};

/* True for the kinds of API.md. */
bool		 alert_kind_valid(const char *kind);

/*
 * Builds the unsigned Alert. Texts are cut to their schema lengths; an Id
 * outside [A-Za-z0-9._:-]{1,64}, an unknown kind, a missing RaisedAt or
 * Detail, a Project given in part, a kind other than ACCOUNTS_OPENED and
 * GUARANTEES without Project and Account, a negative amount, Opened on
 * another kind than ACCOUNTS_OPENED or Guarantee on another than GUARANTEES
 * refuse it: NULL with err (FF01). The caller owns the document
 * (xmlFreeDoc) and signs it (xmlsig_sign appends the signature last, where
 * the schema expects it).
 */
xmlDocPtr	 alert_build(const struct alert_msg *, struct perr *err);

#endif
