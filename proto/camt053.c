/*
 * camt053.c: builds the statement of a dedicated account, camt.053.001.08.
 *
 * Responsible for a document valid against the official schema: the
 * elements in ISO's order, amounts exact from fen, texts safe and cut to
 * their ISO lengths, and the balances consistent with the entries (opening
 * plus credits less debits is closing, checked before anything is
 * written, so a statement never contradicts itself). Dates are China
 * time, as the ledger's booking dates are.
 * Pure: no I/O, no logging, no globals.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "camt053.h"
#include "xmlout.h"

#define MAX35		35
#define MAX140		140
#define SUM_MAX		INT64_C(999999999999999999)	/* 18 digits */

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
check(const struct camt053 *s, int64_t *credits, int64_t *debits,
    struct perr *err)
{
	size_t	i;
	const struct camt053_entry *e;

	if (!set(s->msg_id) || !set(s->created_at) || !set(s->account) ||
	    !set(s->from) || !set(s->to))
		return perr_set(err, "FF01", "statement: message id, time, "
		    "account and period are required");
	*credits = *debits = 0;
	for (i = 0; i < s->nentries; i++) {
		e = &s->entries[i];
		if (!set(e->ref) || !set(e->booked))
			return perr_set(err, "FF01", "statement: entry %zu has "
			    "no reference or booking date", i + 1);
		if (e->amount <= 0 || e->amount > SUM_MAX - (e->credit ?
		    *credits : *debits))
			return perr_set(err, "FF01", "statement: entry %s: "
			    "amount out of range", e->ref);
		if (e->credit)
			*credits += e->amount;
		else
			*debits += e->amount;
	}
	if (*credits > SUM_MAX - *debits ||
	    s->opening < -SUM_MAX || s->opening > SUM_MAX ||
	    s->closing < -SUM_MAX || s->closing > SUM_MAX ||
	    s->opening + *credits - *debits != s->closing)
		return perr_set(err, "FF01", "statement: the entries do not "
		    "take the opening balance to the closing one");
	return 0;
}

/* <Amt Ccy="CNY">123.45</Amt> */
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

/* A NumberAndSumOfTransactions: NbOfNtries and Sum (a plain decimal). */
static xmlNodePtr
number_and_sum(xmlNodePtr parent, const char *name, size_t n, int64_t sum)
{
	xmlNodePtr	t;
	char		buf[24];

	snprintf(buf, sizeof(buf), "%zu", n);
	if ((t = xmlout_node(parent, name)) == NULL ||
	    xmlout_text(t, "NbOfNtries", buf, 15, NULL) == NULL ||
	    xmlout_amount(t, "Sum", sum) == -1)
		return NULL;
	return t;
}

static int
balance(xmlNodePtr stmt, const char *type, int64_t fen, const char *date)
{
	xmlNodePtr	b, t, d;

	if ((b = xmlout_node(stmt, "Bal")) == NULL ||
	    (t = xmlout_node(b, "Tp")) == NULL ||
	    (t = xmlout_node(t, "CdOrPrtry")) == NULL ||
	    xmlout_text(t, "Cd", type, 4, NULL) == NULL ||
	    amount(b, "Amt", fen < 0 ? -fen : fen) == -1 ||
	    xmlout_text(b, "CdtDbtInd", fen < 0 ? "DBIT" : "CRDT", 4,
	    NULL) == NULL ||
	    (d = xmlout_node(b, "Dt")) == NULL ||
	    xmlout_text(d, "Dt", date, 10, NULL) == NULL)
		return -1;
	return 0;
}

static int
summary(xmlNodePtr stmt, const struct camt053 *s, int64_t credits,
    int64_t debits)
{
	xmlNodePtr	t, all, net;
	size_t		i, ncredit = 0;
	int64_t		diff = credits - debits;

	for (i = 0; i < s->nentries; i++)
		ncredit += s->entries[i].credit;
	if ((t = xmlout_node(stmt, "TxsSummry")) == NULL ||
	    (all = number_and_sum(t, "TtlNtries", s->nentries,
	    credits + debits)) == NULL ||
	    (net = xmlout_node(all, "TtlNetNtry")) == NULL ||
	    xmlout_amount(net, "Amt", diff < 0 ? -diff : diff) == -1 ||
	    xmlout_text(net, "CdtDbtInd", diff < 0 ? "DBIT" : "CRDT", 4,
	    NULL) == NULL ||
	    number_and_sum(t, "TtlCdtNtries", ncredit, credits) == NULL ||
	    number_and_sum(t, "TtlDbtNtries", s->nentries - ncredit,
	    debits) == NULL)
		return -1;
	return 0;
}

/* BkTxCd: the ISO domain/family/sub-family where one fits. */
static int
bank_code(xmlNodePtr entry, enum camt053_kind kind)
{
	xmlNodePtr	c, d, f;
	const char	*fam, *sub;

	if ((c = xmlout_node(entry, "BkTxCd")) == NULL)
		return -1;
	switch (kind) {
	case CAMT053_DEPOSIT: fam = "RCDT"; sub = "DMCT"; break;
	case CAMT053_WAGE: fam = "ICDT"; sub = "DMCT"; break;
	case CAMT053_RETURN: fam = "ICDT"; sub = "RRTN"; break;
	default:
		/* an attachment has no ISO code of its own here */
		if ((d = xmlout_node(c, "Prtry")) == NULL ||
		    xmlout_text(d, "Cd", kind == CAMT053_ATTACHMENT ?
		    "ATTACHMENT" : "OTHER", MAX35, NULL) == NULL ||
		    xmlout_text(d, "Issr", "wagepay", MAX35, NULL) == NULL)
			return -1;
		return 0;
	}
	if ((d = xmlout_node(c, "Domn")) == NULL ||
	    xmlout_text(d, "Cd", "PMNT", 4, NULL) == NULL ||
	    (f = xmlout_node(d, "Fmly")) == NULL ||
	    xmlout_text(f, "Cd", fam, 4, NULL) == NULL ||
	    xmlout_text(f, "SubFmlyCd", sub, 4, NULL) == NULL)
		return -1;
	return 0;
}

/* NtryDtls/TxDtls: references, the other party, remittance, return. */
static int
details(xmlNodePtr entry, const struct camt053_entry *e)
{
	xmlNodePtr	tx, n, p;

	if (!set(e->msg_id) && !set(e->end_to_end_id) && !set(e->party) &&
	    !set(e->ustrd) && !set(e->return_reason))
		return 0;
	if ((n = xmlout_node(entry, "NtryDtls")) == NULL ||
	    (tx = xmlout_node(n, "TxDtls")) == NULL)
		return -1;
	if (set(e->msg_id) || set(e->end_to_end_id)) {
		if ((n = xmlout_node(tx, "Refs")) == NULL ||
		    xmlout_text(n, "MsgId", e->msg_id, MAX35, NULL) == NULL ||
		    xmlout_text(n, "EndToEndId", e->end_to_end_id, MAX35,
		    NULL) == NULL)
			return -1;
	}
	if (amount(tx, "Amt", e->amount) == -1 ||
	    xmlout_text(tx, "CdtDbtInd", e->credit ? "CRDT" : "DBIT", 4,
	    NULL) == NULL)
		return -1;
	if (set(e->party)) {
		/* a deposit's payer is the debtor; a worker paid (or whose pay
		 * came back) the creditor */
		if ((n = xmlout_node(tx, "RltdPties")) == NULL ||
		    (p = xmlout_node(n, e->kind == CAMT053_DEPOSIT ? "Dbtr" :
		    "Cdtr")) == NULL || (p = xmlout_node(p, "Pty")) == NULL ||
		    xmlout_text(p, "Nm", e->party, MAX140, NULL) == NULL)
			return -1;
	}
	if (set(e->ustrd) && ((n = xmlout_node(tx, "RmtInf")) == NULL ||
	    xmlout_text(n, "Ustrd", e->ustrd, MAX140, NULL) == NULL))
		return -1;
	if (set(e->return_reason) && ((n = xmlout_node(tx, "RtrInf")) == NULL ||
	    (n = xmlout_node(n, "Rsn")) == NULL ||
	    xmlout_text(n, "Cd", e->return_reason, 4, NULL) == NULL))
		return -1;
	return 0;
}

static int
entry(xmlNodePtr stmt, const struct camt053_entry *e)
{
	xmlNodePtr	n, d;

	if ((n = xmlout_node(stmt, "Ntry")) == NULL ||
	    xmlout_text(n, "NtryRef", e->ref, MAX35, NULL) == NULL ||
	    amount(n, "Amt", e->amount) == -1 ||
	    xmlout_text(n, "CdtDbtInd", e->credit ? "CRDT" : "DBIT", 4,
	    NULL) == NULL ||
	    (d = xmlout_node(n, "Sts")) == NULL ||
	    xmlout_text(d, "Cd", "BOOK", 4, NULL) == NULL ||
	    (d = xmlout_node(n, "BookgDt")) == NULL ||
	    xmlout_text(d, "Dt", e->booked, 10, NULL) == NULL ||
	    xmlout_text(n, "AcctSvcrRef", e->svcr_ref, MAX35, NULL) == NULL ||
	    bank_code(n, e->kind) == -1 || details(n, e) == -1)
		return -1;
	return 0;
}

xmlDocPtr
camt053_build(const struct camt053 *s, struct perr *err)
{
	xmlDocPtr	doc;
	xmlNodePtr	root, stmt, n;
	int64_t		credits = 0, debits = 0;
	char		from[40], to[40], id[MAX35 + 1];
	size_t		i;

	if (check(s, &credits, &debits, err) == -1)
		return NULL;
	snprintf(from, sizeof(from), "%.10sT00:00:00+08:00", s->from);
	snprintf(to, sizeof(to), "%.10sT23:59:59+08:00", s->to);
	snprintf(id, sizeof(id), "%s", s->msg_id);
	if ((doc = xmlout_doc(CAMT053_NS, "Document")) == NULL)
		goto oom;
	root = xmlDocGetRootElement(doc);
	if ((root = xmlout_node(root, "BkToCstmrStmt")) == NULL ||
	    (n = xmlout_node(root, "GrpHdr")) == NULL ||
	    xmlout_text(n, "MsgId", s->msg_id, MAX35, NULL) == NULL ||
	    xmlout_text(n, "CreDtTm", s->created_at, 40, NULL) == NULL ||
	    (stmt = xmlout_node(root, "Stmt")) == NULL ||
	    xmlout_text(stmt, "Id", id, MAX35, NULL) == NULL ||
	    xmlout_text(stmt, "CreDtTm", s->created_at, 40, NULL) == NULL ||
	    (n = xmlout_node(stmt, "FrToDt")) == NULL ||
	    xmlout_text(n, "FrDtTm", from, 40, NULL) == NULL ||
	    xmlout_text(n, "ToDtTm", to, 40, NULL) == NULL ||
	    (n = xmlout_node(stmt, "Acct")) == NULL ||
	    (n = xmlout_node(n, "Id")) == NULL ||
	    (n = xmlout_node(n, "Othr")) == NULL ||
	    xmlout_text(n, "Id", s->account, 34, NULL) == NULL ||
	    xmlout_text(xmlGetLastChild(stmt), "Ccy", "CNY", 3, NULL) == NULL ||
	    balance(stmt, "OPBD", s->opening, s->from) == -1 ||
	    balance(stmt, "CLBD", s->closing, s->to) == -1 ||
	    summary(stmt, s, credits, debits) == -1)
		goto oom;
	for (i = 0; i < s->nentries; i++)
		if (entry(stmt, &s->entries[i]) == -1)
			goto oom;
	return doc;
oom:
	xmlFreeDoc(doc);
	perr_set(err, "FF01", "out of memory building statement");
	return NULL;
}
