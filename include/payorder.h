/*
 * payorder.h: the payment order the bank sends its core for a paid sheet
 * (pain.001.001.10, the dedicated account as debtor, one CdtTrfTxInf per
 * paid line), and the core's status report about it (pain.002.001.11) as
 * proto/paystatus.c reads it.
 */
#ifndef PAYORDER_H
#define PAYORDER_H

#include <stddef.h>
#include <stdint.h>
#include "wagepay.h"

#define PAYORDER_NS	"urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"

struct payorder_line {
	const char	*instr_id;	/* PmtId/InstrId: bank-wide unique */
	const char	*end_to_end_id;	/* the sheet's EndToEndId */
	int64_t		 amount;	/* fen, > 0 */
	const char	*name;		/* Cdtr/Nm: the worker */
	const char	*card;		/* CdtrAcct/Id/Othr/Id */
	const char	*card_bank;	/* CdtrAgt/FinInstnId/ClrSysMmbId/MmbId */
	const char	*remittance;	/* RmtInf/Ustrd: WAGE/YYYY-MM or BACKPAY/YYYY-MM */
};

struct payorder {
	const char	*msg_id;	/* GrpHdr/MsgId and PmtInfId: the same on every attempt */
	const char	*created_at;	/* CreDtTm, ISO dateTime with offset; its date is ReqdExctnDt */
	const char	*account;	/* DbtrAcct/Id/Othr/Id: the dedicated account */
	const char	*debtor;	/* Dbtr/Nm: the project's name */
	const char	*initiator;	/* InitgPty/Nm, NULL: "wagepay" */
	const struct payorder_line *lines;
	size_t		 nlines;
};

/*
 * Writes the order as a pain.001.001.10 (PmtMtd TRF, CtgyPurp SALA, Purp
 * SALA per line, amounts in CNY, NbOfTxs and CtrlSum counted here): UTF-8
 * with an XML declaration, malloc'd, NUL-terminated, its length in *len.
 * NULL with err FF01 when a required field is missing or blank, an amount
 * is not above zero, or the sum overflows 18 digits; NULL on out-of-memory
 * (WP90). Text is made safe and cut to its ISO length (as xmlout_text).
 * The same order gives the same bytes, every attempt.
 */
char		*payorder_write(const struct payorder *o, size_t *len,
		    struct perr *err);

#endif
