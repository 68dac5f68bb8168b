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
 * Pure: no I/O, no logging, no globals; the caller validates the tree
 * against the official schema before it is sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "payorder.h"
#include "xmlout.h"

#define MAX35		35
#define MAX140		140
#define MAX34		34
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

/* <name>/.../<last>text</last>: a chain of new elements ending in text. */
static xmlNodePtr
chain(xmlNodePtr parent, const char *const *names, const char *text,
    size_t max)
{
	xmlNodePtr	n = parent;

	for (; names[1] != NULL; names++)
		if ((n = xmlout_node(n, names[0])) == NULL)
			return NULL;
	return xmlout_text(n, names[0], text, max, NULL);
}

/* <InstdAmt Ccy="CNY">123.45</InstdAmt> */
static int
amount(xmlNodePtr parent, const char *name, int64_t fen)
{
	xmlNodePtr	n;

	if (xmlout_amount(parent, name, fen) == -1 ||
	    (n = xmlGetLastChild(parent)) == NULL ||
	    xmlout_attr(n, "Ccy", "CNY", 3) == -1)
		return -1;
	return 0;
}

static int
line(xmlNodePtr pmt, const struct payorder_line *l)
{
	static const char *const agent[] = { "CdtrAgt", "FinInstnId",
	    "ClrSysMmbId", "MmbId", NULL };
	static const char *const acct[] = { "CdtrAcct", "Id", "Othr", "Id",
	    NULL };
	static const char *const purp[] = { "Purp", "Cd", NULL };
	static const char *const rmt[] = { "RmtInf", "Ustrd", NULL };
	xmlNodePtr	tx, n;

	if ((tx = xmlout_node(pmt, "CdtTrfTxInf")) == NULL ||
	    (n = xmlout_node(tx, "PmtId")) == NULL ||
	    xmlout_text(n, "InstrId", l->instr_id, MAX35, NULL) == NULL ||
	    xmlout_text(n, "EndToEndId", l->end_to_end_id, MAX35, NULL) == NULL ||
	    (n = xmlout_node(tx, "Amt")) == NULL ||
	    amount(n, "InstdAmt", l->amount) == -1 ||
	    chain(tx, agent, l->card_bank, MAX35) == NULL ||
	    (n = xmlout_node(tx, "Cdtr")) == NULL ||
	    xmlout_text(n, "Nm", l->name, MAX140, NULL) == NULL ||
	    chain(tx, acct, l->card, MAX34) == NULL ||
	    chain(tx, purp, "SALA", 4) == NULL ||
	    chain(tx, rmt, l->remittance, MAX140) == NULL)
		return -1;
	return 0;
}

/* GrpHdr, and PmtInf up to its first CdtTrfTxInf; the PmtInf, or NULL. */
static xmlNodePtr
header(xmlNodePtr root, const struct payorder *o, int64_t total)
{
	static const char *const ctgy[] = { "PmtTpInf", "CtgyPurp", "Cd", NULL };
	static const char *const acct[] = { "Id", "Othr", "Id", NULL };
	xmlNodePtr	hdr, pmt, n;
	char		count[24], date[11];

	snprintf(count, sizeof(count), "%zu", o->nlines);
	memcpy(date, o->created_at, 10);
	date[10] = '\0';
	if ((hdr = xmlout_node(root, "GrpHdr")) == NULL ||
	    xmlout_text(hdr, "MsgId", o->msg_id, MAX35, NULL) == NULL ||
	    xmlout_text(hdr, "CreDtTm", o->created_at, 40, NULL) == NULL ||
	    xmlout_text(hdr, "NbOfTxs", count, 15, NULL) == NULL ||
	    xmlout_amount(hdr, "CtrlSum", total) == -1 ||
	    (n = xmlout_node(hdr, "InitgPty")) == NULL ||
	    xmlout_text(n, "Nm", o->initiator, MAX140, "wagepay") == NULL)
		return NULL;
	if ((pmt = xmlout_node(root, "PmtInf")) == NULL ||
	    xmlout_text(pmt, "PmtInfId", o->msg_id, MAX35, NULL) == NULL ||
	    xmlout_text(pmt, "PmtMtd", "TRF", 3, NULL) == NULL ||
	    xmlout_text(pmt, "BtchBookg", "false", 5, NULL) == NULL ||
	    xmlout_text(pmt, "NbOfTxs", count, 15, NULL) == NULL ||
	    xmlout_amount(pmt, "CtrlSum", total) == -1 ||
	    chain(pmt, ctgy, "SALA", 4) == NULL ||
	    (n = xmlout_node(pmt, "ReqdExctnDt")) == NULL ||
	    xmlout_text(n, "Dt", date, 10, NULL) == NULL ||
	    (n = xmlout_node(pmt, "Dbtr")) == NULL ||
	    xmlout_text(n, "Nm", o->debtor, MAX140, NULL) == NULL ||
	    (n = xmlout_node(pmt, "DbtrAcct")) == NULL ||
	    chain(n, acct, o->account, MAX34) == NULL ||
	    xmlout_text(n, "Ccy", "CNY", 3, NULL) == NULL ||
	    (n = xmlout_node(pmt, "DbtrAgt")) == NULL ||
	    xmlout_node(n, "FinInstnId") == NULL)
		return NULL;
	return pmt;
}

xmlDocPtr
payorder_build(const struct payorder *o, struct perr *err)
{
	xmlDocPtr	doc;
	xmlNodePtr	root, pmt;
	int64_t		total = 0;
	size_t		i;

	if (check(o, &total, err) == -1)
		return NULL;
	if ((doc = xmlout_doc(PAYORDER_NS, "Document")) == NULL)
		goto oom;
	root = xmlDocGetRootElement(doc);
	if ((root = xmlout_node(root, "CstmrCdtTrfInitn")) == NULL ||
	    (pmt = header(root, o, total)) == NULL)
		goto oom;
	for (i = 0; i < o->nlines; i++)
		if (line(pmt, &o->lines[i]) == -1)
			goto oom;
	return doc;
oom:
	xmlFreeDoc(doc);
	perr_set(err, "WP90", "payment order: out of memory");
	return NULL;
}
