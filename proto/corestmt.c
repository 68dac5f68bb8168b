/*
 * corestmt.c: the core's end-of-day camt.053.001.08 of a dedicated account.
 *
 * Responsible for reading, from the statement the core sends at the end of
 * each day (POST /v1/core/statements), what reconciliation compares with
 * the ledger: the account, the day, the opening and closing booked balances
 * (OPBD, CLBD) and the booked entries with their amount, side, references
 * and EndToEndId. Whether they agree with the ledger is decided in SQL
 * (wp_core_statement, schema/functions/reconcile.sql); here only the shape:
 * all or nothing, a fault refuses the whole statement. wagepay writes
 * camt.053 for contractors in proto/camt053.c; this is the other way.
 * Pure: no I/O, no logging, no globals; the document stays the caller's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "corestmt.h"
#include "money.h"
#include "xmlsafe.h"

#define NS	CORESTMT_NS

/* Text of an optional element into buf ("" when absent); -1 when present
 * but too long. */
static int
optional(xmlNodePtr n, char *buf, size_t len)
{
	buf[0] = '\0';
	if (n == NULL)
		return 0;
	return xmlsafe_text(n, buf, len);
}

static bool
is_date(const char *s)
{
	size_t	i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* An Amt in CNY into fen (>= 0); -1 with FF01 naming what. */
static int
amount(xmlNodePtr parent, const char *what, int64_t *fen, struct perr *err)
{
	xmlNodePtr	 amt = xmlsafe_child(parent, NS, "Amt");
	xmlChar		*ccy;
	char		 text[64];
	bool		 cny;

	if (amt == NULL || xmlsafe_text(amt, text, sizeof(text)) == -1)
		return perr_set(err, "FF01", "camt.053: %s: Amt is missing",
		    what);
	ccy = xmlGetNoNsProp(amt, (const xmlChar *)"Ccy");
	cny = ccy != NULL && strcmp((const char *)ccy, "CNY") == 0;
	xmlFree(ccy);
	if (!cny)
		return perr_set(err, "FF01", "camt.053: %s: currency must be "
		    "CNY", what);
	if (money_parse(text, fen) == -1)
		return perr_set(err, "FF01", "camt.053: %s: amount \"%.24s\" is "
		    "not a yuan amount with at most two decimals", what, text);
	return 0;
}

/* CdtDbtInd under parent: 1 CRDT, 0 DBIT, -1 anything else. */
static int
credit(xmlNodePtr parent)
{
	char	text[8];

	if (xmlsafe_text(xmlsafe_child(parent, NS, "CdtDbtInd"), text,
	    sizeof(text)) == -1)
		return -1;
	if (strcmp(text, "CRDT") == 0)
		return 1;
	return strcmp(text, "DBIT") == 0 ? 0 : -1;
}

/* One Bal of type OPBD or CLBD: its signed amount and date. */
static int
balance(xmlNodePtr bal, const char *type, int64_t *fen, char *day,
    struct perr *err)
{
	xmlNodePtr	dt = xmlsafe_child(bal, NS, "Dt");
	char		text[WP_DATETIME_LEN];
	int		c;

	if (amount(bal, type, fen, err) == -1)
		return -1;
	if ((c = credit(bal)) == -1)
		return perr_set(err, "FF01", "camt.053: %s: CdtDbtInd must be "
		    "CRDT or DBIT", type);
	if (c == 0)
		*fen = -*fen;
	if (optional(xmlsafe_child(dt, NS, "Dt"), text, sizeof(text)) == -1 ||
	    (text[0] == '\0' && optional(xmlsafe_child(dt, NS, "DtTm"), text,
	    sizeof(text)) == -1) || strlen(text) < 10 || !is_date(text))
		return perr_set(err, "FF01", "camt.053: %s: Dt is missing or "
		    "not a date", type);
	snprintf(day, WP_DATE_LEN, "%.10s", text);
	return 0;
}

static int
balances(xmlNodePtr stmt, struct corestmt *s, struct perr *err)
{
	xmlNodePtr	b;
	char		type[8], day[WP_DATE_LEN];
	int		nopen = 0, nclose = 0;

	for (b = stmt->children; b != NULL; b = b->next) {
		if (!xmlsafe_is(b, NS, "Bal"))
			continue;
		if (optional(xmlsafe_path(b, NS, "Tp/CdOrPrtry/Cd"), type,
		    sizeof(type)) == -1)
			type[0] = '\0';
		if (strcmp(type, "OPBD") == 0 && nopen++ == 0 &&
		    balance(b, type, &s->opening, day, err) == -1)
			return -1;
		if (strcmp(type, "CLBD") == 0 && nclose++ == 0 &&
		    balance(b, type, &s->closing, s->day, err) == -1)
			return -1;
	}
	if (nopen != 1 || nclose != 1)
		return perr_set(err, "FF01", "camt.053: a statement has exactly "
		    "one opening (OPBD) and one closing (CLBD) booked balance");
	return 0;
}

/* Fills e from a booked Ntry; -1 with FF01. */
static int
entry_parse(xmlNodePtr n, size_t index, struct corestmt_entry *e,
    struct perr *err)
{
	char	what[32], text[WP_DATETIME_LEN];
	int	c;

	snprintf(what, sizeof(what), "entry %zu", index + 1);
	if (amount(n, what, &e->amount, err) == -1)
		return -1;
	if (e->amount <= 0)
		return perr_set(err, "FF01", "camt.053: %s: amount must be "
		    "greater than zero", what);
	if ((c = credit(n)) == -1)
		return perr_set(err, "FF01", "camt.053: %s: CdtDbtInd must be "
		    "CRDT or DBIT", what);
	e->credit = c == 1;
	if (optional(xmlsafe_child(n, NS, "RvslInd"), text, sizeof(text)) ==
	    -1 || strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
		return perr_set(err, "FF01", "camt.053: %s: a reversal is not "
		    "read; the core books its correction as an entry", what);
	if (optional(xmlsafe_child(n, NS, "NtryRef"), e->ref,
	    sizeof(e->ref)) == -1 || optional(xmlsafe_child(n, NS,
	    "AcctSvcrRef"), e->svcr_ref, sizeof(e->svcr_ref)) == -1 ||
	    optional(xmlsafe_path(n, NS, "NtryDtls/TxDtls/Refs/EndToEndId"),
	    e->end_to_end_id, sizeof(e->end_to_end_id)) == -1)
		return perr_set(err, "FF01", "camt.053: %s: a reference is "
		    "longer than 35", what);
	if (e->ref[0] == '\0')
		memcpy(e->ref, e->svcr_ref, sizeof(e->ref));
	if (e->ref[0] == '\0')
		return perr_set(err, "FF01", "camt.053: %s has neither NtryRef "
		    "nor AcctSvcrRef", what);
	if (optional(xmlsafe_path(n, NS, "BookgDt/Dt"), text,
	    sizeof(text)) == -1 || (text[0] == '\0' && optional(xmlsafe_path(n,
	    NS, "BookgDt/DtTm"), text, sizeof(text)) == -1) ||
	    (text[0] != '\0' && (strlen(text) < 10 || !is_date(text))))
		return perr_set(err, "FF01", "camt.053: %s: BookgDt is not a "
		    "date", what);
	snprintf(e->booked, sizeof(e->booked), "%.10s", text);
	return 0;
}

static bool
booked(xmlNodePtr n)
{
	char	sts[8];

	return optional(xmlsafe_path(n, NS, "Sts/Cd"), sts, sizeof(sts)) == 0 &&
	    strcmp(sts, "BOOK") == 0;
}

static int
entries(xmlNodePtr stmt, struct corestmt *s, struct perr *err)
{
	xmlNodePtr	n;
	size_t		count = 0;

	for (n = stmt->children; n != NULL; n = n->next)
		if (xmlsafe_is(n, NS, "Ntry") && booked(n))
			count++;
	if (count > CORESTMT_MAX_ENTRIES)
		return perr_set(err, "FF01", "camt.053: more than %u entries",
		    CORESTMT_MAX_ENTRIES);
	if (count > 0 && (s->entries = calloc(count, sizeof(*s->entries))) ==
	    NULL)
		return perr_set(err, "WP90", "out of memory");
	for (n = stmt->children; n != NULL; n = n->next) {
		if (!xmlsafe_is(n, NS, "Ntry") || !booked(n))
			continue;
		if (entry_parse(n, s->nentries, &s->entries[s->nentries],
		    err) == -1)
			return -1;
		s->nentries++;
	}
	return 0;
}

static int
header(xmlNodePtr root, xmlNodePtr *stmt, struct corestmt *s,
    struct perr *err)
{
	xmlNodePtr	n;
	int		nstmt = 0;

	*stmt = NULL;
	for (n = root->children; n != NULL; n = n->next)
		if (xmlsafe_is(n, NS, "Stmt") && nstmt++ == 0)
			*stmt = n;
	if (nstmt != 1)
		return perr_set(err, "FF01", "camt.053: one statement (Stmt) "
		    "per message: one account, one day");
	if (optional(xmlsafe_path(root, NS, "GrpHdr/MsgId"), s->msg_id,
	    sizeof(s->msg_id)) == -1 || s->msg_id[0] == '\0')
		return perr_set(err, "FF01", "camt.053: GrpHdr/MsgId is missing");
	if (optional(xmlsafe_child(*stmt, NS, "Id"), s->stmt_id,
	    sizeof(s->stmt_id)) == -1 || s->stmt_id[0] == '\0')
		return perr_set(err, "FF01", "camt.053: Stmt/Id is missing");
	if (optional(xmlsafe_path(*stmt, NS, "Acct/Id/Othr/Id"), s->account,
	    sizeof(s->account)) == -1 || s->account[0] == '\0')
		return perr_set(err, "FF01", "camt.053: Acct/Id/Othr/Id (the "
		    "dedicated account) is missing");
	return 0;
}

struct corestmt *
corestmt_parse(xmlDocPtr doc, struct perr *err)
{
	struct corestmt	*s;
	xmlNodePtr	 root, stmt;

	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (!xmlsafe_is(root, NS, "Document") ||
	    (root = xmlsafe_child(root, NS, "BkToCstmrStmt")) == NULL) {
		perr_set(err, "FF01", "expected a camt.053.001.08 "
		    "BkToCstmrStmt");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	if (header(root, &stmt, s, err) == -1 ||
	    balances(stmt, s, err) == -1 || entries(stmt, s, err) == -1) {
		corestmt_free(s);
		return NULL;
	}
	return s;
}

void
corestmt_free(struct corestmt *s)
{
	if (s == NULL)
		return;
	free(s->entries);
	free(s);
}
