/*
 * voucher.c: builds the payment voucher (代发工资凭证) of a paid sheet.
 *
 * Responsible for the document the contractor hands to the subcontractor:
 * the lines that were paid with the worker's name, ID number and card
 * masked here (never by the caller: a voucher cannot leak a full number
 * whatever it is given), each marked with its settlement once known
 * (CREDITED, FAILED, RETURNED), and Count and Total added up exactly over
 * the lines that stayed paid. It does not
 * sign; the daemon does.
 * Pure: no I/O, no logging, no globals.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "ids.h"
#include "voucher.h"
#include "xmlout.h"

#define MAX35		35
#define MAX140		140
#define AMOUNT_MAX	INT64_C(99999999999999999)	/* 15 integer digits */

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* A line whose money came back: on the voucher, not in Count or Total. */
static bool
back(const struct voucher_line *l)
{
	return set(l->settlement) && (strcmp(l->settlement, "FAILED") == 0 ||
	    strcmp(l->settlement, "RETURNED") == 0);
}

static bool
settlement_known(const char *s)
{
	return !set(s) || strcmp(s, "CREDITED") == 0 ||
	    strcmp(s, "FAILED") == 0 || strcmp(s, "RETURNED") == 0;
}

static int
check(const struct voucher *v, int64_t *total, size_t *count,
    struct perr *err)
{
	size_t	i;

	if (!set(v->msg_id) || !set(v->project) || !set(v->subcontractor) ||
	    !set(v->month) || !set(v->paid_at))
		return perr_set(err, "FF01", "voucher: MsgId, project, "
		    "subcontractor, month and paid time are required");
	if (v->nlines == 0)
		return perr_set(err, "FF01", "voucher %s: no line was paid",
		    v->msg_id);
	*total = 0;
	*count = 0;
	for (i = 0; i < v->nlines; i++) {
		if (!set(v->lines[i].end_to_end_id) || !set(v->lines[i].name) ||
		    !set(v->lines[i].id_number) || !set(v->lines[i].card))
			return perr_set(err, "FF01", "voucher %s: line %zu is "
			    "incomplete", v->msg_id, i + 1);
		if (!settlement_known(v->lines[i].settlement))
			return perr_set(err, "FF01", "voucher %s: line %zu: "
			    "unknown settlement", v->msg_id, i + 1);
		if (v->lines[i].amount <= 0 ||
		    v->lines[i].amount > AMOUNT_MAX - *total)
			return perr_set(err, "FF01", "voucher %s: line %zu: "
			    "amount out of range", v->msg_id, i + 1);
		if (back(&v->lines[i]))
			continue;
		*total += v->lines[i].amount;
		(*count)++;
	}
	if (*count == 0)
		return perr_set(err, "FF01", "voucher %s: every line came "
		    "back", v->msg_id);
	return 0;
}

static int
line(xmlNodePtr root, const struct voucher_line *l)
{
	xmlNodePtr	n;
	char		id[WP_ID_NUMBER_LEN + 8], card[WP_CARD_LEN + 8];

	ids_mask(l->id_number, id, sizeof(id));
	ids_mask(l->card, card, sizeof(card));
	if ((n = xmlout_node(root, "Line")) == NULL ||
	    xmlout_text(n, "EndToEndId", l->end_to_end_id, MAX35, NULL) == NULL ||
	    xmlout_text(n, "Name", l->name, MAX140, NULL) == NULL ||
	    xmlout_text(n, "IdNumber", id, sizeof(id), NULL) == NULL ||
	    xmlout_text(n, "Card", card, sizeof(card), NULL) == NULL ||
	    xmlout_amount(n, "Amount", l->amount) == -1)
		return -1;
	if (set(l->settlement) &&
	    xmlout_text(n, "Settlement", l->settlement, 8, NULL) == NULL)
		return -1;
	return 0;
}

xmlDocPtr
voucher_build(const struct voucher *v, struct perr *err)
{
	xmlDocPtr	doc;
	xmlNodePtr	root;
	int64_t		total = 0;
	size_t		i, paid = 0;
	char		count[24];

	if (check(v, &total, &paid, err) == -1)
		return NULL;
	if ((doc = xmlout_doc(VOUCHER_NS, "Voucher")) == NULL)
		goto oom;
	root = xmlDocGetRootElement(doc);
	if (xmlout_text(root, "MsgId", v->msg_id, MAX35, NULL) == NULL ||
	    xmlout_text(root, "Project", v->project, 64, NULL) == NULL ||
	    xmlout_text(root, "Subcontractor", v->subcontractor, 18, NULL) == NULL ||
	    xmlout_text(root, "Month", v->month, 7, NULL) == NULL ||
	    xmlout_text(root, "PaidAt", v->paid_at, 40, NULL) == NULL)
		goto oom;
	for (i = 0; i < v->nlines; i++)
		if (line(root, &v->lines[i]) == -1)
			goto oom;
	snprintf(count, sizeof(count), "%zu", paid);
	if (xmlout_text(root, "Count", count, sizeof(count), NULL) == NULL ||
	    xmlout_amount(root, "Total", total) == -1)
		goto oom;
	return doc;
oom:
	xmlFreeDoc(doc);
	perr_set(err, "FF01", "out of memory building voucher");
	return NULL;
}
