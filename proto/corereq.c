/*
 * corereq.c: reads the core's DebitRequest and LegalOrder
 * (urn:wagepay:core:1).
 *
 * Responsible for turning a schema-valid document into plain C: texts
 * copied within their bounds, amounts from decimal yuan into exact fen
 * (money_parse; zero refused: an order for nothing is not an order), the
 * kinds as enums. What is decided about them is the database's
 * (schema/functions/core.sql); this file decides nothing.
 * Pure: no I/O, no logging, no globals; the document stays the caller's.
 */
#include <string.h>

#include <libxml/tree.h>

#include "coreack.h"
#include "corereq.h"
#include "money.h"
#include "xmlsafe.h"

static bool
root_is(xmlDocPtr doc, const char *name)
{
	xmlNodePtr	r = xmlDocGetRootElement(doc);

	return r != NULL && r->ns != NULL &&
	    strcmp((const char *)r->ns->href, CORE_NS) == 0 &&
	    strcmp((const char *)r->name, name) == 0;
}

/* Copies the required child's text; -1 if absent, empty or too long. */
static int
field(xmlNodePtr root, const char *name, char *buf, size_t len,
    struct perr *err)
{
	if (xmlsafe_text(xmlsafe_child(root, CORE_NS, name), buf, len) == -1 ||
	    buf[0] == '\0')
		return perr_set(err, "FF01", "%s: %s is missing or too long",
		    (const char *)root->name, name);
	return 0;
}

static int
amount(xmlNodePtr root, int64_t *fen, struct perr *err)
{
	char	buf[40];

	if (field(root, "Amount", buf, sizeof(buf), err) == -1)
		return -1;
	if (money_parse(buf, fen) == -1 || *fen <= 0)
		return perr_set(err, "FF01", "%s: Amount \"%s\" is not a "
		    "positive amount in yuan", (const char *)root->name, buf);
	return 0;
}

int
corereq_debit_parse(xmlDocPtr doc, struct debit_request *d, struct perr *err)
{
	xmlNodePtr	root = xmlDocGetRootElement(doc);

	memset(d, 0, sizeof(*d));
	if (!root_is(doc, "DebitRequest"))
		return perr_set(err, "FF01", "expected a DebitRequest (%s)",
		    CORE_NS);
	if (field(root, "Ref", d->ref, sizeof(d->ref), err) == -1 ||
	    field(root, "Account", d->account, sizeof(d->account), err) == -1 ||
	    amount(root, &d->amount, err) == -1 ||
	    field(root, "Beneficiary", d->beneficiary, sizeof(d->beneficiary),
	    err) == -1 ||
	    field(root, "BeneficiaryName", d->beneficiary_name,
	    sizeof(d->beneficiary_name), err) == -1 ||
	    field(root, "Purpose", d->purpose, sizeof(d->purpose), err) == -1 ||
	    field(root, "Channel", d->channel, sizeof(d->channel), err) == -1)
		return -1;
	return 0;
}

int
corereq_order_parse(xmlDocPtr doc, struct legal_order *o, struct perr *err)
{
	xmlNodePtr	root = xmlDocGetRootElement(doc), n;
	char		kind[16], reason[16];

	memset(o, 0, sizeof(*o));
	if (!root_is(doc, "LegalOrder"))
		return perr_set(err, "FF01", "expected a LegalOrder (%s)",
		    CORE_NS);
	if (field(root, "Ref", o->ref, sizeof(o->ref), err) == -1 ||
	    field(root, "Authority", o->authority, sizeof(o->authority),
	    err) == -1 ||
	    field(root, "OrderNo", o->order_no, sizeof(o->order_no), err) == -1 ||
	    field(root, "Kind", kind, sizeof(kind), err) == -1 ||
	    field(root, "Account", o->account, sizeof(o->account), err) == -1 ||
	    amount(root, &o->amount, err) == -1 ||
	    field(root, "Reason", reason, sizeof(reason), err) == -1)
		return -1;
	if (strcmp(kind, "FREEZE") == 0)
		o->kind = LEGAL_FREEZE;
	else if (strcmp(kind, "SEIZE") == 0)
		o->kind = LEGAL_SEIZE;
	else if (strcmp(kind, "DEDUCT") == 0)
		o->kind = LEGAL_DEDUCT;
	else if (strcmp(kind, "UNFREEZE") == 0)
		o->kind = LEGAL_UNFREEZE;
	else
		return perr_set(err, "FF01", "LegalOrder: Kind must be FREEZE, "
		    "SEIZE, DEDUCT or UNFREEZE");
	if (strcmp(reason, "WAGES") == 0)
		o->reason = LEGAL_WAGES;
	else if (strcmp(reason, "OTHER") == 0)
		o->reason = LEGAL_OTHER;
	else
		return perr_set(err, "FF01", "LegalOrder: Reason must be WAGES "
		    "or OTHER");
	if ((n = xmlsafe_child(root, CORE_NS, "Detail")) != NULL &&
	    xmlsafe_text(n, o->detail, sizeof(o->detail)) == -1)
		return perr_set(err, "FF01", "LegalOrder: Detail is too long");
	return 0;
}

const char *
corereq_kind_name(enum legal_kind k)
{
	switch (k) {
	case LEGAL_FREEZE: return "FREEZE";
	case LEGAL_SEIZE: return "SEIZE";
	case LEGAL_DEDUCT: return "DEDUCT";
	case LEGAL_UNFREEZE: return "UNFREEZE";
	}
	return "?";
}

const char *
corereq_reason_name(enum legal_reason r)
{
	return r == LEGAL_WAGES ? "WAGES" : "OTHER";
}
