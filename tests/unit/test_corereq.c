/*
 * test_corereq.c: corereq_debit_parse and corereq_order_parse on the core's
 * DebitRequest and LegalOrder. Every input is first checked against
 * proto/xsd/core.xsd, as the daemon does, so each refusal here is the
 * parser's own.
 */
#include <libxml/tree.h>

#include "corereq.h"
#include "xmlsafe.h"
#include "unit.h"

static xmlDocPtr
load_valid(const char *name)
{
	struct schemas	*s;
	struct perr	 err;
	xmlDocPtr	 doc;
	char		*buf;
	size_t		 len;

	buf = unit_read_data(name, &len);
	CHECK((doc = xmlsafe_parse(buf, len, &err)) != NULL);
	free(buf);
	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_CORE, doc, &err) != 0) {
		fprintf(stderr, "  %s: %s\n", name, err.msg);
		exit(1);
	}
	schemas_free(s);
	return doc;
}

static void
debit(void)
{
	struct debit_request	d;
	struct legal_order	o;
	struct perr		err;
	xmlDocPtr		doc = load_valid("corereq/debit.xml");

	CHECK(corereq_debit_parse(doc, &d, &err) == 0);
	CHECK_STR(d.ref, "CORE-DR-20261105-0001");
	CHECK_STR(d.account, "6228480000000000001");
	CHECK_INT(d.amount, 12000050);
	CHECK_STR(d.beneficiary, "6222021001122334458");
	CHECK_STR(d.beneficiary_name, "郑州建材贸易有限公司 & Co");
	CHECK_STR(d.purpose, "材料款");
	CHECK_STR(d.channel, "COUNTER");
	/* a debit request is not an order */
	CHECK(corereq_order_parse(doc, &o, &err) == -1);
	CHECK(strstr(err.msg, "expected a LegalOrder") != NULL);
	xmlFreeDoc(doc);
}

static void
orders(void)
{
	struct legal_order	o;
	struct debit_request	d;
	struct perr		err;
	xmlDocPtr		doc;

	doc = load_valid("xsd/legalorder-good.xml");
	CHECK(corereq_order_parse(doc, &o, &err) == 0);
	CHECK_STR(o.ref, "CORE-LO-20240416-0001");
	CHECK_STR(o.authority, "郑州市中原区人民法院");
	CHECK_STR(o.order_no, "(2024)豫0102执123号");
	CHECK_INT(o.kind, LEGAL_FREEZE);
	CHECK_INT(o.amount, 50000000);
	CHECK_INT(o.reason, LEGAL_OTHER);
	CHECK_STR(o.detail, "诉前财产保全");
	CHECK(corereq_debit_parse(doc, &d, &err) == -1);
	xmlFreeDoc(doc);

	doc = load_valid("corereq/order-wages.xml");
	CHECK(corereq_order_parse(doc, &o, &err) == 0);
	CHECK_INT(o.kind, LEGAL_DEDUCT);
	CHECK_INT(o.reason, LEGAL_WAGES);
	CHECK_INT(o.amount, 500000);
	CHECK_STR(o.detail, "");
	CHECK_STR(corereq_kind_name(o.kind), "DEDUCT");
	CHECK_STR(corereq_reason_name(o.reason), "WAGES");
	xmlFreeDoc(doc);

	/* UNFREEZE lifts a freeze by its OrderNo (021) */
	doc = load_valid("corereq/order-unfreeze.xml");
	CHECK(corereq_order_parse(doc, &o, &err) == 0);
	CHECK_INT(o.kind, LEGAL_UNFREEZE);
	CHECK_STR(o.order_no, "(2026)豫0183执77号");
	CHECK_INT(o.amount, 500000);
	CHECK_STR(corereq_kind_name(o.kind), "UNFREEZE");
	xmlFreeDoc(doc);
}

static void
zero_amount(void)
{
	struct legal_order	o;
	struct perr		err;
	xmlDocPtr		doc = load_valid("corereq/bad-zero.xml");

	CHECK(corereq_order_parse(doc, &o, &err) == -1);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "Amount \"0.00\"") != NULL);
	xmlFreeDoc(doc);
}

const struct unit_case corereq_cases[] = {
	{ "debit", debit },
	{ "orders", orders },
	{ "zero_amount", zero_amount },
	{ NULL, NULL }
};
