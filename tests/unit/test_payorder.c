/*
 * test_payorder.c: payorder_build. The order is checked against the
 * official pain.001.001.10 schema, and every field the core reads is
 * looked for in the bytes: MsgId (also as PmtInfId), counts and sums, the
 * dedicated account as debtor, and per line InstrId, EndToEndId, amount,
 * name, card, card bank, Purp SALA and the month in RmtInf.
 */
#include <libxml/tree.h>

#include "payorder.h"
#include "xmlout.h"
#include "xmlsafe.h"
#include "unit.h"

static const struct payorder_line lines[] = {
	{ "WPPO202610200000000001-1", "E2E-1", 520000, "王建军",
	  "6228480999985718280", "103491000018", "WAGE/2026-10" },
	{ "WPPO202610200000000001-3", "E2E-3", 486050, "张建",
	  "6222021000005717946", "102491000013", "BACKPAY/2026-09" },
};

static struct payorder
order1(void)
{
	struct payorder o = {
		.msg_id = "WPPO202610200000000001",
		.created_at = "2026-10-20T10:00:01+08:00",
		.account = "6228480000000000001",
		.debtor = "Project XM-TAP-0001",
		.lines = lines,
		.nlines = 2,
	};

	return o;
}

static void
valid(xmlDocPtr doc)
{
	struct schemas	*s;
	struct perr	 err;

	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_PAIN001, doc, &err) != 0) {
		fprintf(stderr, "  %s\n", err.msg);
		exit(1);
	}
	schemas_free(s);
}

static void
good(void)
{
	struct payorder	 o = order1();
	struct perr	 err;
	xmlDocPtr	 doc;
	char		*got;
	size_t		 len = 0;

	CHECK((doc = payorder_build(&o, &err)) != NULL);
	valid(doc);
	CHECK((got = xmlout_dump(doc, &len)) != NULL);
	CHECK(strstr(got, "<MsgId>WPPO202610200000000001</MsgId>"
	    "<CreDtTm>2026-10-20T10:00:01+08:00</CreDtTm><NbOfTxs>2</NbOfTxs>"
	    "<CtrlSum>10060.50</CtrlSum>") != NULL);
	CHECK(strstr(got, "<PmtInfId>WPPO202610200000000001</PmtInfId>"
	    "<PmtMtd>TRF</PmtMtd>") != NULL);
	CHECK(strstr(got, "<CtgyPurp><Cd>SALA</Cd></CtgyPurp>") != NULL);
	CHECK(strstr(got, "<ReqdExctnDt><Dt>2026-10-20</Dt></ReqdExctnDt>") != NULL);
	CHECK(strstr(got, "<Dbtr><Nm>Project XM-TAP-0001</Nm></Dbtr><DbtrAcct>"
	    "<Id><Othr><Id>6228480000000000001</Id></Othr></Id><Ccy>CNY</Ccy>"
	    "</DbtrAcct>") != NULL);
	CHECK(strstr(got, "<PmtId><InstrId>WPPO202610200000000001-1</InstrId>"
	    "<EndToEndId>E2E-1</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"CNY\">"
	    "5200.00</InstdAmt></Amt><CdtrAgt><FinInstnId><ClrSysMmbId>"
	    "<MmbId>103491000018</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt>"
	    "<Cdtr><Nm>王建军</Nm></Cdtr><CdtrAcct><Id><Othr>"
	    "<Id>6228480999985718280</Id></Othr></Id></CdtrAcct>"
	    "<Purp><Cd>SALA</Cd></Purp><RmtInf><Ustrd>WAGE/2026-10</Ustrd>"
	    "</RmtInf></CdtTrfTxInf>") != NULL);
	CHECK(strstr(got, "<InstrId>WPPO202610200000000001-3</InstrId>"
	    "<EndToEndId>E2E-3</EndToEndId>") != NULL);
	CHECK(strstr(got, "4860.50</InstdAmt>") != NULL);
	CHECK(strstr(got, "<Ustrd>BACKPAY/2026-09</Ustrd>") != NULL);
	free(got);
	xmlFreeDoc(doc);
}

/* The same rows give the same bytes: a retry sends the same order. */
static void
stable(void)
{
	struct payorder	 o = order1();
	struct perr	 err;
	xmlDocPtr	 a, b;
	char		*x, *y;
	size_t		 xl = 0, yl = 0;

	CHECK((a = payorder_build(&o, &err)) != NULL);
	CHECK((b = payorder_build(&o, &err)) != NULL);
	CHECK((x = xmlout_dump(a, &xl)) != NULL);
	CHECK((y = xmlout_dump(b, &yl)) != NULL);
	CHECK(xl == yl && memcmp(x, y, xl) == 0);
	free(x);
	free(y);
	xmlFreeDoc(a);
	xmlFreeDoc(b);
}

static void
refused(void)
{
	struct payorder		o;
	struct payorder_line	l[2];
	struct perr		err;
	xmlDocPtr		doc;

	o = order1();
	o.nlines = 0;
	CHECK(payorder_build(&o, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	o = order1();
	o.account = " ";
	CHECK(payorder_build(&o, &err) == NULL);
	memcpy(l, lines, sizeof(l));
	l[1].card_bank = NULL;
	o = order1();
	o.lines = l;
	CHECK(payorder_build(&o, &err) == NULL);
	CHECK(strstr(err.msg, "line 2") != NULL);
	memcpy(l, lines, sizeof(l));
	l[0].amount = 0;
	CHECK(payorder_build(&o, &err) == NULL);
	CHECK(strstr(err.msg, "line 1") != NULL);
	memcpy(l, lines, sizeof(l));
	l[0].amount = l[1].amount = INT64_C(600000000000000000);
	CHECK(payorder_build(&o, &err) == NULL);
	/* hostile text is made safe and cut, never invalid */
	memcpy(l, lines, sizeof(l));
	l[0].name = "<x>&\x01\xff a name far too long for anything but cut to 140 "
	    "characters by the encoder, so that the schema still holds; "
	    "and some more characters to pass one hundred and forty";
	CHECK((doc = payorder_build(&o, &err)) != NULL);
	valid(doc);
	xmlFreeDoc(doc);
}

const struct unit_case payorder_cases[] = {
	{ "good", good },
	{ "stable", stable },
	{ "refused", refused },
	{ NULL, NULL }
};
