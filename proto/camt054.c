/*
 * camt054.c: credit notifications from the bank's core (camt.054.001.08).
 *
 * Responsible for reading, from a schema-valid notification, what the daemon
 * books on a dedicated account: labour-cost deposits (with their payer) and
 * wage payments returned by the receiving bank (with the original line's
 * EndToEndId). The profile is API.md's last paragraph: one account per
 * Ntfctn in Acct/Id/Othr/Id; per Ntry NtryRef, Amt in CNY, CdtDbtInd CRDT,
 * Sts/Cd BOOK, BookgDt.
 * All or nothing: an entry outside that profile refuses the whole message,
 * so that the core sees the refusal and nothing is half booked. Debits never
 * come this way (they are DebitRequests, refused as misuse).
 * Pure: no I/O, no logging, no globals; the document stays the caller's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "camt054.h"
#include "ids.h"
#include "money.h"
#include "xmlsafe.h"

/* Entries in one notification message; a month-end batch of returns stays
 * well below this. */
#define CAMT054_MAX_ENTRIES	100000u

/* The next sibling element from n onwards (n included) named name. */
static xmlNodePtr
next_named(xmlNodePtr n, const char *name)
{
	for (; n != NULL; n = n->next)
		if (xmlsafe_is(n, CAMT054_NS, name))
			return n;
	return NULL;
}

/* Like xmlsafe_text, but empty text counts as missing: every element read
 * here has a minimum length of one. */
static int
text_required(xmlNodePtr n, char *buf, size_t len)
{
	if (xmlsafe_text(n, buf, len) == -1 || buf[0] == '\0')
		return -1;
	return 0;
}

/* Where an entry is, for messages: its NtryRef once known, else its
 * position. */
struct where {
	char	text[64];
};

static void
where_set(struct where *w, size_t ntfctn, size_t ntry, const char *ref)
{
	if (ref != NULL && ref[0] != '\0')
		snprintf(w->text, sizeof(w->text), "entry %s", ref);
	else
		snprintf(w->text, sizeof(w->text),
		    "entry %zu of notification %zu", ntry + 1, ntfctn + 1);
}

static int
entry_amount(xmlNodePtr ntry, const struct where *w, int64_t *fen,
    struct perr *err)
{
	xmlNodePtr	 amt;
	xmlChar		*ccy;
	char		 text[64];
	bool		 cny;

	if ((amt = xmlsafe_child(ntry, CAMT054_NS, "Amt")) == NULL ||
	    xmlsafe_text(amt, text, sizeof(text)) == -1)
		return perr_set(err, "FF01", "camt.054: %s: Amt is missing",
		    w->text);
	ccy = xmlGetNoNsProp(amt, (const xmlChar *)"Ccy");
	cny = ccy != NULL && strcmp((const char *)ccy, "CNY") == 0;
	xmlFree(ccy);
	if (!cny)
		return perr_set(err, "FF01", "camt.054: %s: currency must be"
		    " CNY: a dedicated wage account is held in yuan", w->text);
	if (money_parse(text, fen) == -1)
		return perr_set(err, "FF01", "camt.054: %s: amount \"%s\" is"
		    " not a yuan amount with at most two decimals", w->text,
		    text);
	if (*fen <= 0)
		return perr_set(err, "FF01", "camt.054: %s: amount must be"
		    " greater than zero", w->text);
	return 0;
}

/* CdtDbtInd CRDT, not a reversal, Sts/Cd BOOK. */
static int
entry_kind(xmlNodePtr ntry, const struct where *w, struct perr *err)
{
	char	text[16];

	if (xmlsafe_text(xmlsafe_child(ntry, CAMT054_NS, "CdtDbtInd"), text,
	    sizeof(text)) == -1 ||
	    (strcmp(text, "CRDT") != 0 && strcmp(text, "DBIT") != 0))
		return perr_set(err, "FF01", "camt.054: %s: CdtDbtInd must be"
		    " CRDT", w->text);
	if (strcmp(text, "DBIT") == 0)
		return perr_set(err, "FF01", "camt.054: %s: is a debit; debits"
		    " of a dedicated account do not come through notifications"
		    " (send a DebitRequest)", w->text);
	/* A reversal booked as a credit undoes an earlier debit, and no
	 * debit of a dedicated account is ever booked from this feed. */
	if (xmlsafe_text(xmlsafe_child(ntry, CAMT054_NS, "RvslInd"), text,
	    sizeof(text)) == 0 && (strcmp(text, "true") == 0 ||
	    strcmp(text, "1") == 0))
		return perr_set(err, "FF01", "camt.054: %s: reversals are not"
		    " accepted on a dedicated account", w->text);
	if (xmlsafe_text(xmlsafe_path(ntry, CAMT054_NS, "Sts/Cd"), text,
	    sizeof(text)) == -1 || strcmp(text, "BOOK") != 0)
		return perr_set(err, "FF01", "camt.054: %s: status must be BOOK"
		    " (Sts/Cd): only booked entries move the ledger", w->text);
	return 0;
}

/* BookgDt/Dt, or the date part of BookgDt/DtTm as the core wrote it. */
static int
entry_booking_date(xmlNodePtr ntry, const struct where *w, char *out,
    struct perr *err)
{
	xmlNodePtr	bookg;
	char		text[WP_DATETIME_LEN];

	bookg = xmlsafe_child(ntry, CAMT054_NS, "BookgDt");
	if (xmlsafe_text(xmlsafe_child(bookg, CAMT054_NS, "Dt"), text,
	    sizeof(text)) == -1 &&
	    xmlsafe_text(xmlsafe_child(bookg, CAMT054_NS, "DtTm"), text,
	    sizeof(text)) == -1)
		return perr_set(err, "FF01", "camt.054: %s: a booked entry"
		    " needs its booking date (BookgDt)", w->text);
	if (strlen(text) < WP_DATE_LEN - 1 || text[4] != '-' ||
	    text[7] != '-')
		return perr_set(err, "FF01", "camt.054: %s: booking date is"
		    " not YYYY-MM-DD", w->text);
	memcpy(out, text, WP_DATE_LEN - 1);
	out[WP_DATE_LEN - 1] = '\0';
	return 0;
}

/* The payer of a deposit: RltdPties/Dbtr/Pty, name and credit code, both
 * optional; a credit code that is there must be a valid one. */
static int
entry_payer(xmlNodePtr tx, const struct where *w, struct camt054_entry *e,
    struct perr *err)
{
	xmlNodePtr	pty, id;
	char		uscc[64];

	pty = xmlsafe_path(tx, CAMT054_NS, "RltdPties/Dbtr/Pty");
	if (pty == NULL)
		return 0;
	if (xmlsafe_child(pty, CAMT054_NS, "Nm") != NULL &&
	    text_required(xmlsafe_child(pty, CAMT054_NS, "Nm"), e->payer_name,
	    sizeof(e->payer_name)) == -1)
		return perr_set(err, "FF01", "camt.054: %s: payer name is"
		    " empty or too long", w->text);
	id = xmlsafe_path(pty, CAMT054_NS, "Id/OrgId/Othr/Id");
	if (id == NULL)
		return 0;
	if (xmlsafe_text(id, uscc, sizeof(uscc)) == -1 ||
	    !ids_uscc_valid(uscc))
		return perr_set(err, "FF01", "camt.054: %s: payer's"
		    " Id/OrgId/Othr/Id must be a unified social credit code",
		    w->text);
	memcpy(e->payer_uscc, uscc, strlen(uscc) + 1);
	return 0;
}

/* A returned wage payment: RtrInf present, matched by the original
 * line's EndToEndId. */
static int
entry_return(xmlNodePtr tx, const struct where *w, struct camt054_entry *e,
    struct perr *err)
{
	xmlNodePtr	rtr;

	if ((rtr = xmlsafe_child(tx, CAMT054_NS, "RtrInf")) == NULL)
		return 0;
	e->is_return = true;
	/* NOTPROVIDED is ISO's placeholder for "no EndToEndId": it matches
	 * no line, so it is as good as none. */
	if (text_required(xmlsafe_path(tx, CAMT054_NS, "Refs/EndToEndId"),
	    e->end_to_end_id, sizeof(e->end_to_end_id)) == -1 ||
	    strcmp(e->end_to_end_id, "NOTPROVIDED") == 0)
		return perr_set(err, "FF01", "camt.054: %s: a returned payment"
		    " must carry the original EndToEndId (Refs/EndToEndId)",
		    w->text);
	/* The reason is kept for the record only; a proprietary one
	 * (Rsn/Prtry) leaves it empty. */
	if (xmlsafe_text(xmlsafe_path(rtr, CAMT054_NS, "Rsn/Cd"),
	    e->return_reason, sizeof(e->return_reason)) == -1)
		e->return_reason[0] = '\0';
	return 0;
}

/* NtryDtls/TxDtls: the first one names the payer or the returned line. A
 * return must be alone in its entry, else one amount would stand for
 * several lines. */
static int
entry_details(xmlNodePtr ntry, const struct where *w, struct camt054_entry *e,
    struct perr *err)
{
	xmlNodePtr	dtls, tx, first = NULL;
	size_t		ntx = 0, nrtr = 0;

	for (dtls = next_named(ntry->children, "NtryDtls"); dtls != NULL;
	    dtls = next_named(dtls->next, "NtryDtls"))
		for (tx = next_named(dtls->children, "TxDtls"); tx != NULL;
		    tx = next_named(tx->next, "TxDtls")) {
			if (first == NULL)
				first = tx;
			ntx++;
			if (xmlsafe_child(tx, CAMT054_NS, "RtrInf") != NULL)
				nrtr++;
		}
	if (nrtr > 0 && ntx > 1)
		return perr_set(err, "FF01", "camt.054: %s: a returned payment"
		    " must be booked as an entry of its own", w->text);
	if (first == NULL)
		return 0;
	if (entry_payer(first, w, e, err) == -1 ||
	    entry_return(first, w, e, err) == -1)
		return -1;
	return 0;
}

static int
entry_parse(xmlNodePtr ntry, size_t ntfctn, size_t index, const char *account,
    struct camt054_entry *e, struct perr *err)
{
	struct where	w;

	where_set(&w, ntfctn, index, NULL);
	memcpy(e->account, account, strlen(account) + 1);
	if (text_required(xmlsafe_child(ntry, CAMT054_NS, "NtryRef"),
	    e->entry_ref, sizeof(e->entry_ref)) == -1)
		return perr_set(err, "FF01", "camt.054: %s: NtryRef is"
		    " required (it makes a replay harmless)", w.text);
	where_set(&w, ntfctn, index, e->entry_ref);
	if (entry_kind(ntry, &w, err) == -1 ||
	    entry_amount(ntry, &w, &e->amount, err) == -1 ||
	    entry_booking_date(ntry, &w, e->booking_date, err) == -1 ||
	    entry_details(ntry, &w, e, err) == -1)
		return -1;
	return 0;
}

static int
by_entry_ref(const void *a, const void *b)
{
	const struct camt054_entry *const	*ea = a, *const *eb = b;

	return strcmp((*ea)->entry_ref, (*eb)->entry_ref);
}

/* NtryRef is the idempotency key: the same one twice in a message would
 * make the second entry a silent no-op, so it refuses the message. */
static int
check_unique_refs(const struct camt054 *c, struct perr *err)
{
	const struct camt054_entry	**sorted;
	size_t				  i;
	int				  rc = 0;

	if (c->nentries < 2)
		return 0;
	if ((sorted = calloc(c->nentries, sizeof(*sorted))) == NULL)
		return perr_set(err, "FF01", "camt.054: out of memory");
	for (i = 0; i < c->nentries; i++)
		sorted[i] = &c->entries[i];
	qsort(sorted, c->nentries, sizeof(*sorted), by_entry_ref);
	for (i = 1; i < c->nentries; i++)
		if (strcmp(sorted[i - 1]->entry_ref, sorted[i]->entry_ref) == 0) {
			rc = perr_set(err, "FF01", "camt.054: entry %s: NtryRef"
			    " appears more than once in this message",
			    sorted[i]->entry_ref);
			break;
		}
	free(sorted);
	return rc;
}

/*
 * Reads a schema-valid camt.054.001.08 (see camt054.h). Every entry must
 * be a booked CNY credit with a NtryRef unique in the message; a return
 * (RtrInf) must name the original EndToEndId. Anything else, more than
 * 100,000 entries, or an account not given as Acct/Id/Othr/Id refuses the
 * whole message: NULL with FF01 naming the entry. A message with no entry
 * is returned with nentries 0. The caller owns the result (camt054_free).
 */
struct camt054 *
camt054_parse(xmlDocPtr doc, struct perr *err)
{
	struct camt054	*c;
	xmlNodePtr	 root, msg, ntfctn, ntry;
	char		 account[WP_CARD_LEN];
	size_t		 count = 0, nn;

	perr_clear(err);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (!xmlsafe_is(root, CAMT054_NS, "Document") ||
	    (msg = next_named(root->children, "BkToCstmrDbtCdtNtfctn")) ==
	    NULL) {
		perr_set(err, "FF01", "camt.054: the document is not a"
		    " camt.054.001.08 notification");
		return NULL;
	}
	/* Count first so that the bound is checked before any work. */
	for (ntfctn = next_named(msg->children, "Ntfctn"); ntfctn != NULL;
	    ntfctn = next_named(ntfctn->next, "Ntfctn"))
		for (ntry = next_named(ntfctn->children, "Ntry"); ntry != NULL;
		    ntry = next_named(ntry->next, "Ntry"))
			if (++count > CAMT054_MAX_ENTRIES) {
				perr_set(err, "FF01", "camt.054: more than %u"
				    " entries in one message",
				    CAMT054_MAX_ENTRIES);
				return NULL;
			}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (count > 0 && (c->entries = calloc(count,
	    sizeof(*c->entries))) == NULL)) {
		camt054_free(c);
		perr_set(err, "FF01", "camt.054: out of memory");
		return NULL;
	}
	if (text_required(xmlsafe_path(msg, CAMT054_NS, "GrpHdr/MsgId"),
	    c->msg_id, sizeof(c->msg_id)) == -1) {
		perr_set(err, "FF01", "camt.054: GrpHdr/MsgId is missing or"
		    " longer than 35 bytes");
		goto fail;
	}
	nn = 0;
	for (ntfctn = next_named(msg->children, "Ntfctn"); ntfctn != NULL;
	    ntfctn = next_named(ntfctn->next, "Ntfctn"), nn++) {
		size_t	i = 0;

		if (text_required(xmlsafe_path(ntfctn, CAMT054_NS,
		    "Acct/Id/Othr/Id"), account, sizeof(account)) == -1) {
			perr_set(err, "FF01", "camt.054: notification %zu: the"
			    " account must be given in Acct/Id/Othr/Id (at most"
			    " %zu characters)", nn + 1, sizeof(account) - 1);
			goto fail;
		}
		for (ntry = next_named(ntfctn->children, "Ntry"); ntry != NULL;
		    ntry = next_named(ntry->next, "Ntry"), i++) {
			if (entry_parse(ntry, nn, i, account,
			    &c->entries[c->nentries], err) == -1)
				goto fail;
			c->nentries++;
		}
	}
	if (check_unique_refs(c, err) == -1)
		goto fail;
	return c;
fail:
	camt054_free(c);
	return NULL;
}

/* Frees c and its entries; NULL is a no-op. */
void
camt054_free(struct camt054 *c)
{
	if (c == NULL)
		return;
	free(c->entries);
	free(c);
}
