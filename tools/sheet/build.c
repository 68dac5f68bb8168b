/*
 * build.c: the payroll as a wage sheet, pain.001.001.10 in the bank
 * profile (API.md "The wage sheet"): one PmtInf, TRF, CtgyPurp SALA, the
 * dedicated account, the subcontractor as UltmtDbtr (USCC under
 * SchmeNm/Prtry, as ISO wants a code outside its list), NbOfTxs and
 * CtrlSum computed here, and per row a CdtTrfTxInf with the worker, the
 * card, Purp SALA, RmtInf WAGE/ or BACKPAY/ and the month, and the
 * wp:Line (gross pay, days, confirmation). Unsigned: sign.c adds the
 * signature. Built as a tree with proto/xmlout.c, so text is made safe
 * and cut to its ISO length there.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "sheet.h"
#include "sheettool.h"
#include "xmlout.h"

void
build_end_to_end(const char *msg_id, size_t row, char *out, size_t len)
{
	snprintf(out, len, "%.27s-R%zu", msg_id, row);
}

/* Othr/Id + SchmeNm/Prtry scheme under parent. */
static int
othr_id(xmlNodePtr parent, const char *id, const char *scheme, int prtry)
{
	xmlNodePtr	o, sn;

	return (o = xmlout_node(parent, "Othr")) == NULL ||
	    xmlout_text(o, "Id", id, 35, NULL) == NULL ||
	    (sn = xmlout_node(o, "SchmeNm")) == NULL ||
	    xmlout_text(sn, prtry ? "Prtry" : "Cd", scheme, 35, NULL) ==
	    NULL ? -1 : 0;
}

/* A party identified by its credit code: Nm (if any), Id/OrgId/Othr. */
static int
company(xmlNodePtr parent, const char *name, const char *uscc)
{
	xmlNodePtr	id;

	if (name != NULL && xmlout_text(parent, "Nm", name, 140, NULL) == NULL)
		return -1;
	return (id = xmlout_node(parent, "Id")) == NULL ||
	    (id = xmlout_node(id, "OrgId")) == NULL ||
	    othr_id(id, uscc, "USCC", 1) != 0 ? -1 : 0;
}

static xmlNodePtr
path_node(xmlNodePtr parent, const char *a, const char *b)
{
	xmlNodePtr	n = xmlout_node(parent, a);

	return n != NULL && b != NULL ? xmlout_node(n, b) : n;
}

static int
account(xmlNodePtr parent, const char *name, const char *number)
{
	xmlNodePtr	o;

	return (o = path_node(xmlout_node(parent, name), "Id", "Othr")) ==
	    NULL || xmlout_text(o, "Id", number, 34, NULL) == NULL ? -1 : 0;
}

/* The wp:Line of a row, in its own namespace. */
static int
wp_line(xmlNodePtr tx, const struct payroll_row *r)
{
	xmlNodePtr	env, line, conf;
	xmlNsPtr	ns;
	char		days[8];

	if ((env = path_node(tx, "SplmtryData", "Envlp")) == NULL ||
	    (line = xmlNewChild(env, NULL, BAD_CAST "Line", NULL)) == NULL ||
	    (ns = xmlNewNs(line, BAD_CAST LINE_NS, BAD_CAST "wp")) == NULL)
		return -1;
	xmlSetNs(line, ns);
	snprintf(days, sizeof(days), "%d", r->days);
	if (xmlout_amount(line, "GrossPay", r->gross) != 0 ||
	    xmlout_text(line, "DaysWorked", days, 2, NULL) == NULL ||
	    (conf = xmlout_node(line, "Confirmation")) == NULL ||
	    xmlout_text(conf, "At", r->at, 40, NULL) == NULL ||
	    xmlout_text(conf, "Method", r->method, 4, NULL) == NULL ||
	    xmlout_text(conf, "Ref", r->ref, 70, NULL) == NULL)
		return -1;
	return 0;
}

static int
transaction(xmlNodePtr pmt, const struct build_opts *o,
    const struct payroll_row *r)
{
	xmlNodePtr	tx, n;
	char		e2e[40], ustrd[24];

	build_end_to_end(o->msg_id, r->row, e2e, sizeof(e2e));
	snprintf(ustrd, sizeof(ustrd), "%s/%s", o->backpay ? "BACKPAY" :
	    "WAGE", o->month);
	if ((tx = xmlout_node(pmt, "CdtTrfTxInf")) == NULL ||
	    xmlout_text(xmlout_node(tx, "PmtId"), "EndToEndId", e2e, 35,
	    NULL) == NULL ||
	    (n = xmlout_node(tx, "Amt")) == NULL ||
	    xmlout_amount(n, "InstdAmt", r->net) != 0 ||
	    xmlout_attr(xmlGetLastChild(n), "Ccy", "CNY", 3) != 0 ||
	    (n = path_node(xmlout_node(tx, "CdtrAgt"), "FinInstnId",
	    "ClrSysMmbId")) == NULL ||
	    xmlout_text(n, "MmbId", r->card_bank, 35, NULL) == NULL ||
	    (n = xmlout_node(tx, "Cdtr")) == NULL ||
	    xmlout_text(n, "Nm", r->name, 140, NULL) == NULL ||
	    (n = path_node(n, "Id", "PrvtId")) == NULL ||
	    othr_id(n, r->id_number, "NIDN", 0) != 0 ||
	    account(tx, "CdtrAcct", r->card) != 0 ||
	    xmlout_text(xmlout_node(tx, "Purp"), "Cd", "SALA", 4,
	    NULL) == NULL ||
	    xmlout_text(xmlout_node(tx, "RmtInf"), "Ustrd", ustrd, 140,
	    NULL) == NULL)
		return -1;
	return wp_line(tx, r);
}

/* GrpHdr: MsgId, CreDtTm, NbOfTxs, CtrlSum, the subcontractor as the
 * initiating party. */
static int
group_header(xmlNodePtr cct, const struct build_opts *o,
    const struct payroll *p, const char *created)
{
	xmlNodePtr	hdr;
	char		nb[24];

	snprintf(nb, sizeof(nb), "%zu", p->nrows);
	return (hdr = xmlout_node(cct, "GrpHdr")) == NULL ||
	    xmlout_text(hdr, "MsgId", o->msg_id, 35, NULL) == NULL ||
	    xmlout_text(hdr, "CreDtTm", created, 40, NULL) == NULL ||
	    xmlout_text(hdr, "NbOfTxs", nb, 15, NULL) == NULL ||
	    xmlout_amount(hdr, "CtrlSum", p->total) != 0 ||
	    company(xmlout_node(hdr, "InitgPty"), o->sub_name,
	    o->subcontractor) != 0 ? -1 : 0;
}

static int
payment_info(xmlNodePtr cct, const struct build_opts *o,
    const struct payroll *p, const char *created)
{
	xmlNodePtr	pmt;
	char		nb[24], date[11];
	size_t		i;

	snprintf(nb, sizeof(nb), "%zu", p->nrows);
	snprintf(date, sizeof(date), "%.10s", created);
	if ((pmt = xmlout_node(cct, "PmtInf")) == NULL ||
	    xmlout_text(pmt, "PmtInfId", o->msg_id, 35, NULL) == NULL ||
	    xmlout_text(pmt, "PmtMtd", "TRF", 3, NULL) == NULL ||
	    xmlout_text(pmt, "NbOfTxs", nb, 15, NULL) == NULL ||
	    xmlout_amount(pmt, "CtrlSum", p->total) != 0 ||
	    xmlout_text(path_node(pmt, "PmtTpInf", "CtgyPurp"), "Cd", "SALA",
	    4, NULL) == NULL ||
	    xmlout_text(xmlout_node(pmt, "ReqdExctnDt"), "Dt", date, 10,
	    NULL) == NULL ||
	    xmlout_node(pmt, "Dbtr") == NULL ||
	    account(pmt, "DbtrAcct", o->account) != 0 ||
	    xmlout_node(xmlout_node(pmt, "DbtrAgt"), "FinInstnId") == NULL ||
	    company(xmlout_node(pmt, "UltmtDbtr"), o->sub_name,
	    o->subcontractor) != 0)
		return -1;
	for (i = 0; i < p->nrows; i++)
		if (transaction(pmt, o, &p->rows[i]) != 0)
			return -1;
	return 0;
}

char *
build_sheet(const struct build_opts *o, const struct payroll *p, size_t *len,
    char *err, size_t errlen)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 cct;
	char		 now[40], *out = NULL;
	time_t		 t;
	struct tm	 tm;

	if (o->created == NULL) {
		/* China time, whatever the machine's zone */
		t = time(NULL) + 8 * 3600;
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S+08:00", &tm);
	} else
		snprintf(now, sizeof(now), "%s", o->created);
	if ((doc = xmlout_doc(PAIN001_NS, "Document")) == NULL ||
	    (cct = xmlout_node(xmlDocGetRootElement(doc),
	    "CstmrCdtTrfInitn")) == NULL ||
	    group_header(cct, o, p, now) != 0 ||
	    payment_info(cct, o, p, now) != 0 ||
	    (out = xmlout_dump(doc, len)) == NULL)
		snprintf(err, errlen, "out of memory building the sheet");
	xmlFreeDoc(doc);
	return out;
}
