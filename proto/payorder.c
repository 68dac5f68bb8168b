/*
 * payorder.c: the payment order to the bank's core, pain.001.001.10.
 *
 * Responsible for writing, from the rows of one payment order (a paid
 * sheet's accepted lines, schema/functions/settlement.sql), the document
 * the core executes: the dedicated account as debtor, one CdtTrfTxInf per
 * line with its bank-wide InstrId, the sheet's EndToEndId, the amount, the
 * worker's name, card and card bank, Purp SALA and the month in RmtInf.
 * The order is rebuilt on every delivery attempt from the same rows, so it
 * is the same document every time (the MsgId, the CreDtTm, everything).
 * Written straight into memory (xmlout_buf), not as a tree: an order is as
 * long as its sheet, one a paid sheet, and leaves unsigned. Every text is
 * made safe and cut as in a tree; that the bytes are valid against the
 * official schema is proven by the tests (tests/unit/test_payorder.c with
 * hostile texts, and every order the integration tests' fake core
 * receives), not re-checked per order at run time: the values come from
 * sheets that passed the same schema on their way in.
 * Pure: no I/O, no logging, no globals.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "payorder.h"
#include "xmlout.h"

#define MAX35		35
#define MAX140		140
#define MAX34		34
/* a literal, its length counted by the compiler */
#define RAW(b, s)	xmlout_buf_raw((b), (s), sizeof(s) - 1)
#define AMOUNT_MAX	INT64_C(999999999999999999)	/* 18 digits of fen */

static bool
set(const char *s)
{
	return s != NULL && s[strspn(s, " \t\r\n")] != '\0';
}

static int
check(const struct payorder *o, int64_t *total, struct perr *err)
{
	const struct payorder_line *l;
	size_t	i;

	if (!set(o->msg_id) || !set(o->created_at) || strlen(o->created_at) < 10 ||
	    !set(o->account) || !set(o->debtor))
		return perr_set(err, "FF01", "payment order: MsgId, creation "
		    "time, account and debtor are required");
	if (o->nlines == 0 || o->lines == NULL)
		return perr_set(err, "FF01", "payment order %s: no line",
		    o->msg_id);
	*total = 0;
	for (i = 0; i < o->nlines; i++) {
		l = &o->lines[i];
		if (!set(l->instr_id) || !set(l->end_to_end_id) ||
		    !set(l->name) || !set(l->card) || !set(l->card_bank) ||
		    !set(l->remittance))
			return perr_set(err, "FF01", "payment order %s: line "
			    "%zu is incomplete", o->msg_id, i + 1);
		if (l->amount <= 0 || l->amount > AMOUNT_MAX - *total)
			return perr_set(err, "FF01", "payment order %s: line "
			    "%zu: amount out of range", o->msg_id, i + 1);
		*total += l->amount;
	}
	return 0;
}

/* <InstrId>..</InstrId> and the rest of one CdtTrfTxInf. */
static void
line(struct xmlout_buf *b, const struct payorder_line *l)
{
	RAW(b, "<CdtTrfTxInf><PmtId>");
	xmlout_buf_text(b, "InstrId", l->instr_id, MAX35, NULL);
	xmlout_buf_text(b, "EndToEndId", l->end_to_end_id, MAX35, NULL);
	RAW(b, "</PmtId><Amt>");
	xmlout_buf_amount(b, "InstdAmt", l->amount, "CNY");
	RAW(b, "</Amt><CdtrAgt><FinInstnId><ClrSysMmbId>");
	xmlout_buf_text(b, "MmbId", l->card_bank, MAX35, NULL);
	RAW(b, "</ClrSysMmbId></FinInstnId></CdtrAgt><Cdtr>");
	xmlout_buf_text(b, "Nm", l->name, MAX140, NULL);
	RAW(b, "</Cdtr><CdtrAcct><Id><Othr>");
	xmlout_buf_text(b, "Id", l->card, MAX34, NULL);
	RAW(b, "</Othr></Id></CdtrAcct><Purp><Cd>SALA</Cd></Purp>"
	    "<RmtInf>");
	xmlout_buf_text(b, "Ustrd", l->remittance, MAX140, NULL);
	RAW(b, "</RmtInf></CdtTrfTxInf>");
}

/* The document up to the PmtInf's first CdtTrfTxInf. */
static void
header(struct xmlout_buf *b, const struct payorder *o, int64_t total)
{
	char	count[24], date[11];
	int	n;

	n = snprintf(count, sizeof(count), "%zu", o->nlines);
	memcpy(date, o->created_at, 10);
	date[10] = '\0';
	RAW(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Document xmlns=\"" PAYORDER_NS "\"><CstmrCdtTrfInitn><GrpHdr>");
	xmlout_buf_text(b, "MsgId", o->msg_id, MAX35, NULL);
	xmlout_buf_text(b, "CreDtTm", o->created_at, 40, NULL);
	xmlout_buf_text(b, "NbOfTxs", count, 15, NULL);
	xmlout_buf_amount(b, "CtrlSum", total, NULL);
	RAW(b, "<InitgPty>");
	xmlout_buf_text(b, "Nm", o->initiator, MAX140, "wagepay");
	RAW(b, "</InitgPty></GrpHdr><PmtInf>");
	xmlout_buf_text(b, "PmtInfId", o->msg_id, MAX35, NULL);
	RAW(b, "<PmtMtd>TRF</PmtMtd><BtchBookg>false</BtchBookg>");
	RAW(b, "<NbOfTxs>");
	xmlout_buf_raw(b, count, (size_t)n);
	RAW(b, "</NbOfTxs>");
	xmlout_buf_amount(b, "CtrlSum", total, NULL);
	RAW(b, "<PmtTpInf><CtgyPurp><Cd>SALA</Cd></CtgyPurp>"
	    "</PmtTpInf><ReqdExctnDt>");
	xmlout_buf_text(b, "Dt", date, 10, NULL);
	RAW(b, "</ReqdExctnDt><Dbtr>");
	xmlout_buf_text(b, "Nm", o->debtor, MAX140, NULL);
	RAW(b, "</Dbtr><DbtrAcct><Id><Othr>");
	xmlout_buf_text(b, "Id", o->account, MAX34, NULL);
	RAW(b, "</Othr></Id><Ccy>CNY</Ccy></DbtrAcct>"
	    "<DbtrAgt><FinInstnId/></DbtrAgt>");
}

char *
payorder_write(const struct payorder *o, size_t *len, struct perr *err)
{
	struct xmlout_buf	b;
	int64_t			total = 0;
	size_t			i;
	char			*out;

	if (check(o, &total, err) == -1)
		return NULL;
	/* about 560 bytes a line with a Chinese name: one allocation */
	xmlout_buf_init(&b, 1024 + o->nlines * 640);
	header(&b, o, total);
	for (i = 0; i < o->nlines; i++)
		line(&b, &o->lines[i]);
	RAW(&b, "</PmtInf></CstmrCdtTrfInitn></Document>\n");
	if ((out = xmlout_buf_finish(&b, len)) == NULL)
		perr_set(err, "WP90", "payment order: out of memory");
	return out;
}
