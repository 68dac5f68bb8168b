/*
 * alert.c: builds the Alert a regulator receives (urn:wagepay:alert:1).
 *
 * Responsible for the document's shape: the elements in the schema's order,
 * each text safe and within its length, amounts exact from fen, and the
 * rules the schema leaves to the daemon (every kind but ACCOUNTS_OPENED and
 * the GUARANTEES ledger names its project and account). It does not sign (the daemon's signer
 * does, once the tree is built) and it does not mask: the Detail it is
 * given must already be free of full ID and card numbers.
 * Pure: no I/O, no logging, no globals.
 */
#include <string.h>

#include <libxml/tree.h>

#include "alert.h"
#include "xmlout.h"

#define MAX35		35
#define MAX200		200
#define MAX2000		2000

static const char *const kinds[] = {
	"BALANCE_SHORT", "DEPOSIT_SHORT", "WAGES_OVERDUE", "MISUSE_ATTEMPT",
	"SEIZURE_REFUSED", "CARD_CONCENTRATION", "ACCOUNTS_OPENED",
	"LEGAL_ORDER_APPLIED", "PAYMENT_FAILED", "SETTLEMENT_OVERDUE",
	"CARD_CHANGED", "MANUAL_DEBIT", "ACCOUNT_CLOSED", "RECONCILIATION_BREAK",
	"GUARANTEE_SHORT", "GUARANTEE_EXPIRING", "GUARANTEE_RELEASED", "GUARANTEES",
	NULL
};

bool
alert_kind_valid(const char *kind)
{
	size_t	i;

	for (i = 0; kind != NULL && kinds[i] != NULL; i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static bool
id_valid(const char *s)
{
	size_t	n;

	if (!set(s) || (n = strlen(s)) > 64)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") == n;
}

static int
check(const struct alert_msg *m, struct perr *err)
{
	bool	opened = m->kind != NULL && strcmp(m->kind, "ACCOUNTS_OPENED") == 0;
	bool	ledger = m->kind != NULL && strcmp(m->kind, "GUARANTEES") == 0;
	size_t	i;
	int	nproject;

	if (!id_valid(m->id))
		return perr_set(err, "FF01", "alert Id must be 1 to 64 of "
		    "[A-Za-z0-9._:-]");
	if (!alert_kind_valid(m->kind))
		return perr_set(err, "FF01", "alert %s: unknown kind", m->id);
	if (!set(m->raised_at) || !set(m->detail))
		return perr_set(err, "FF01", "alert %s: RaisedAt and Detail are "
		    "required", m->id);
	nproject = set(m->project_code) + set(m->project_name) +
	    set(m->region) + set(m->industry);
	if (nproject != 0 && nproject != 4)
		return perr_set(err, "FF01", "alert %s: a project needs code, "
		    "name, region and industry", m->id);
	if (!opened && !ledger && (nproject == 0 || !set(m->account)))
		return perr_set(err, "FF01", "alert %s: a %s alert names its "
		    "project and account", m->id, m->kind);
	if (!opened && m->nopened > 0)
		return perr_set(err, "FF01", "alert %s: only ACCOUNTS_OPENED "
		    "lists opened accounts", m->id);
	if (!ledger && m->nguarantees > 0)
		return perr_set(err, "FF01", "alert %s: only GUARANTEES lists "
		    "guarantees", m->id);
	for (i = 0; i < m->nguarantees; i++)
		if (m->guarantees[i].required < 0 || m->guarantees[i].held < 0 ||
		    m->guarantees[i].drawn < 0)
			return perr_set(err, "FF01", "alert %s: amounts are "
			    "never negative", m->id);
	if ((m->has_balance && m->balance < 0) ||
	    (m->has_required && m->required < 0) ||
	    (m->has_shortfall && m->shortfall < 0))
		return perr_set(err, "FF01", "alert %s: amounts are never "
		    "negative", m->id);
	return 0;
}

static int
project(xmlNodePtr root, const struct alert_msg *m)
{
	xmlNodePtr	p;

	if (!set(m->project_code))
		return 0;
	if ((p = xmlout_node(root, "Project")) == NULL ||
	    xmlout_text(p, "Code", m->project_code, 64, NULL) == NULL ||
	    xmlout_text(p, "Name", m->project_name, MAX200, NULL) == NULL ||
	    xmlout_text(p, "Region", m->region, 6, NULL) == NULL ||
	    xmlout_text(p, "Industry", m->industry, 16, NULL) == NULL)
		return -1;
	return 0;
}

static int
opened_list(xmlNodePtr root, const struct alert_msg *m)
{
	xmlNodePtr	o;
	size_t		i;

	for (i = 0; i < m->nopened; i++) {
		if ((o = xmlout_node(root, "Opened")) == NULL ||
		    xmlout_text(o, "Code", m->opened[i].code, 64, NULL) == NULL ||
		    xmlout_text(o, "Name", m->opened[i].name, MAX200, NULL) == NULL ||
		    xmlout_text(o, "Account", m->opened[i].account, 34, NULL) == NULL ||
		    xmlout_text(o, "OpenedAt", m->opened[i].opened_at, 40,
		    NULL) == NULL)
			return -1;
	}
	return 0;
}

/* The GUARANTEES ledger's rows, after Opened. */
static int
guarantee_list(xmlNodePtr root, const struct alert_msg *m)
{
	const struct alert_guarantee	*g;
	xmlNodePtr			 o;
	size_t				 i;

	for (i = 0; i < m->nguarantees; i++) {
		g = &m->guarantees[i];
		if ((o = xmlout_node(root, "Guarantee")) == NULL ||
		    xmlout_text(o, "Code", g->code, 64, NULL) == NULL ||
		    xmlout_text(o, "Name", g->name, MAX200, NULL) == NULL ||
		    xmlout_text(o, "Contractor", g->contractor, 18, NULL) == NULL ||
		    xmlout_text(o, "Kind", g->kind, 16, NULL) == NULL ||
		    xmlout_amount(o, "Required", g->required) == -1 ||
		    xmlout_amount(o, "Held", g->held) == -1 ||
		    xmlout_amount(o, "Drawn", g->drawn) == -1 ||
		    xmlout_text(o, "Expires", g->expires, 10, NULL) == NULL)
			return -1;
	}
	return 0;
}

xmlDocPtr
alert_build(const struct alert_msg *m, struct perr *err)
{
	xmlDocPtr	doc;
	xmlNodePtr	root;

	if (check(m, err) == -1)
		return NULL;
	if ((doc = xmlout_doc(ALERT_NS, "Alert")) == NULL)
		goto oom;
	root = xmlDocGetRootElement(doc);
	if (xmlout_text(root, "Id", m->id, 64, NULL) == NULL ||
	    xmlout_text(root, "Kind", m->kind, 32, NULL) == NULL ||
	    xmlout_text(root, "RaisedAt", m->raised_at, 40, NULL) == NULL ||
	    project(root, m) == -1 ||
	    xmlout_text(root, "Account", m->account, 34, NULL) == NULL ||
	    (m->has_balance && xmlout_amount(root, "Balance", m->balance) == -1) ||
	    (m->has_required && xmlout_amount(root, "Required",
	    m->required) == -1) ||
	    (m->has_shortfall && xmlout_amount(root, "Shortfall",
	    m->shortfall) == -1) ||
	    xmlout_text(root, "Month", m->month, 7, NULL) == NULL ||
	    xmlout_text(root, "MsgId", m->msg_id, MAX35, NULL) == NULL ||
	    xmlout_text(root, "EndToEndId", m->end_to_end_id, MAX35,
	    NULL) == NULL ||
	    xmlout_text(root, "Detail", m->detail, MAX2000, NULL) == NULL ||
	    opened_list(root, m) == -1 || guarantee_list(root, m) == -1)
		goto oom;
	return doc;
oom:
	xmlFreeDoc(doc);
	perr_set(err, "FF01", "out of memory building alert");
	return NULL;
}
