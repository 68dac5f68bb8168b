/*
 * paystatus.c: the core's pain.002.001.11 about a payment order.
 *
 * Responsible for reading, from the core's status report, what settles the
 * lines of one of the bank's payment orders (proto/payorder.c): the order's
 * MsgId, and per TxInfAndSts the line it names (OrgnlInstrId,
 * OrgnlEndToEndId) with its TxSts and first reason. Whether the order and
 * its lines exist, and what a status does, is decided in SQL
 * (wp_settlement_apply); here only the shape: all or nothing, a fault
 * refuses the whole report.
 * Pure: no I/O, no logging, no globals; the document stays the caller's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "paystatus.h"
#include "xmlsafe.h"

#define NS		PAYSTATUS_NS
/* Lines in one report: an order has at most one per line of its sheet. */
#define PAYSTATUS_MAX_LINES	200000u

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
is_code(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return i == 4;
}

/* The first StsRsnInf/Rsn's Cd or Prtry under parent, into buf. */
static int
reason(xmlNodePtr parent, char *buf, size_t len)
{
	xmlNodePtr	rsn = xmlsafe_path(parent, NS, "StsRsnInf/Rsn");

	buf[0] = '\0';
	if (rsn == NULL)
		return 0;
	if (xmlsafe_child(rsn, NS, "Cd") != NULL)
		return optional(xmlsafe_child(rsn, NS, "Cd"), buf, len);
	return optional(xmlsafe_child(rsn, NS, "Prtry"), buf, len);
}

static int
tx_parse(xmlNodePtr tx, size_t index, struct paystatus_line *l,
    struct perr *err)
{
	if (optional(xmlsafe_child(tx, NS, "OrgnlInstrId"), l->instr_id,
	    sizeof(l->instr_id)) == -1 ||
	    optional(xmlsafe_child(tx, NS, "OrgnlEndToEndId"),
	    l->end_to_end_id, sizeof(l->end_to_end_id)) == -1 ||
	    optional(xmlsafe_child(tx, NS, "TxSts"), l->status,
	    sizeof(l->status)) == -1 || reason(tx, l->reason,
	    sizeof(l->reason)) == -1)
		return perr_set(err, "FF01", "status of line %zu: a field is "
		    "too long", index + 1);
	if (l->instr_id[0] == '\0' && l->end_to_end_id[0] == '\0')
		return perr_set(err, "FF01", "status of line %zu names no line "
		    "(OrgnlInstrId or OrgnlEndToEndId)", index + 1);
	if (!is_code(l->status))
		return perr_set(err, "FF01", "status of line %zu has no TxSts",
		    index + 1);
	return 0;
}

static size_t
count_lines(xmlNodePtr cstmr)
{
	xmlNodePtr	p, t;
	size_t		n = 0;

	for (p = cstmr->children; p != NULL; p = p->next)
		if (xmlsafe_is(p, NS, "OrgnlPmtInfAndSts"))
			for (t = p->children; t != NULL; t = t->next)
				if (xmlsafe_is(t, NS, "TxInfAndSts"))
					n++;
	return n;
}

static int
lines_parse(xmlNodePtr cstmr, struct paystatus *ps, struct perr *err)
{
	xmlNodePtr	p, t;
	size_t		n = count_lines(cstmr);

	if (n > PAYSTATUS_MAX_LINES)
		return perr_set(err, "FF01", "more than %u line statuses",
		    PAYSTATUS_MAX_LINES);
	if (n > 0 && (ps->lines = calloc(n, sizeof(*ps->lines))) == NULL)
		return perr_set(err, "WP90", "out of memory");
	for (p = cstmr->children; p != NULL; p = p->next) {
		if (!xmlsafe_is(p, NS, "OrgnlPmtInfAndSts"))
			continue;
		for (t = p->children; t != NULL; t = t->next) {
			if (!xmlsafe_is(t, NS, "TxInfAndSts"))
				continue;
			if (tx_parse(t, ps->nlines, &ps->lines[ps->nlines],
			    err) == -1)
				return -1;
			ps->nlines++;
		}
	}
	return 0;
}

static int
group_parse(xmlNodePtr cstmr, struct paystatus *ps, struct perr *err)
{
	xmlNodePtr	grp = xmlsafe_child(cstmr, NS, "OrgnlGrpInfAndSts");
	char		name[WP_MAX35_LEN];

	if (xmlsafe_text(xmlsafe_path(cstmr, NS, "GrpHdr/MsgId"), ps->msg_id,
	    sizeof(ps->msg_id)) == -1 || ps->msg_id[0] == '\0')
		return perr_set(err, "FF01", "GrpHdr/MsgId is missing");
	if (grp == NULL || xmlsafe_text(xmlsafe_child(grp, NS, "OrgnlMsgId"),
	    ps->orgnl_msg_id, sizeof(ps->orgnl_msg_id)) == -1 ||
	    ps->orgnl_msg_id[0] == '\0')
		return perr_set(err, "FF01", "OrgnlGrpInfAndSts/OrgnlMsgId "
		    "(the payment order's MsgId) is missing");
	if (xmlsafe_text(xmlsafe_child(grp, NS, "OrgnlMsgNmId"), name,
	    sizeof(name)) == -1 || strncmp(name, "pain.001", 8) != 0)
		return perr_set(err, "FF01", "OrgnlMsgNmId must name a pain.001 "
		    "payment order");
	if (optional(xmlsafe_child(grp, NS, "GrpSts"), ps->group_status,
	    sizeof(ps->group_status)) == -1 || (ps->group_status[0] != '\0' &&
	    !is_code(ps->group_status)) || reason(grp, ps->group_reason,
	    sizeof(ps->group_reason)) == -1)
		return perr_set(err, "FF01", "GrpSts or its reason is not a "
		    "status code");
	return 0;
}

struct paystatus *
paystatus_parse(xmlDocPtr doc, struct perr *err)
{
	struct paystatus	*ps;
	xmlNodePtr		 root, cstmr;

	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (!xmlsafe_is(root, NS, "Document") ||
	    (cstmr = xmlsafe_child(root, NS, "CstmrPmtStsRpt")) == NULL) {
		perr_set(err, "FF01", "expected a pain.002.001.11 "
		    "CstmrPmtStsRpt");
		return NULL;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	if (group_parse(cstmr, ps, err) == -1 ||
	    lines_parse(cstmr, ps, err) == -1) {
		paystatus_free(ps);
		return NULL;
	}
	if (ps->nlines == 0 && ps->group_status[0] == '\0') {
		perr_set(err, "FF01", "a status report with no line status "
		    "must carry GrpSts");
		paystatus_free(ps);
		return NULL;
	}
	return ps;
}

void
paystatus_free(struct paystatus *ps)
{
	if (ps == NULL)
		return;
	free(ps->lines);
	free(ps);
}
