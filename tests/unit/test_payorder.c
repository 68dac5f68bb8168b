/*
 * test_payorder.c: payorder_write. The bytes are parsed and checked
 * against the official pain.001.001.10 schema (the daemon does not check
 * them again at run time: these tests are the proof), and every field the core reads is
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

/* The bytes parse, and are valid against the official schema. */
static void
valid(const char *bytes, size_t len)
{
	struct schemas	*s;
	struct perr	 err;
	xmlDocPtr	 doc;

	CHECK((doc = xmlReadMemory(bytes, (int)len, NULL, "UTF-8",
	    XML_PARSE_NONET)) != NULL);
	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_PAIN001, doc, &err) != 0) {
		fprintf(stderr, "  %s\n", err.msg);
		exit(1);
	}
	schemas_free(s);
	xmlFreeDoc(doc);
}

static void
good(void)
{
	struct payorder	 o = order1();
	struct perr	 err;
	char		*got;
	size_t		 len = 0;

	CHECK((got = payorder_write(&o, &len, &err)) != NULL);
	CHECK(len == strlen(got));
	valid(got, len);
	CHECK(strncmp(got, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.10\">",
	    101) == 0);
	CHECK(strstr(got, "<InitgPty><Nm>wagepay</Nm></InitgPty>") != NULL);
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
}

/* The same rows give the same bytes: a retry sends the same order. */
static void
stable(void)
{
	struct payorder	 o = order1();
	struct perr	 err;
	char		*x, *y;
	size_t		 xl = 0, yl = 0;

	CHECK((x = payorder_write(&o, &xl, &err)) != NULL);
	CHECK((y = payorder_write(&o, &yl, &err)) != NULL);
	CHECK(xl == yl && memcmp(x, y, xl) == 0);
	free(x);
	free(y);
}

static int
many(void)
{
	enum { N = 5000 };
	struct payorder		 o = order1();
	struct payorder_line	*l;
	struct perr		 err;
	char			(*ids)[40], *got;
	size_t			 len = 0, i;

	CHECK((l = calloc(N, sizeof(*l))) != NULL);
	CHECK((ids = calloc(N, sizeof(*ids))) != NULL);
	for (i = 0; i < N; i++) {
		l[i] = lines[i % 2];
		snprintf(ids[i], sizeof(ids[i]), "WPPO1-%zu", i + 1);
		l[i].instr_id = ids[i];
	}
	o.lines = l;
	o.nlines = N;
	CHECK((got = payorder_write(&o, &len, &err)) != NULL);
	valid(got, len);
	/* 2,500 x 5,200.00 + 2,500 x 4,860.50 */
	CHECK(strstr(got, "<NbOfTxs>5000</NbOfTxs><CtrlSum>25151250.00</CtrlSum>")
	    != NULL);
	CHECK(strstr(got, "<InstrId>WPPO1-5000</InstrId>") != NULL);
	free(got);
	free(ids);
	free(l);
	return 0;
}

static void
refused(void)
{
	struct payorder		o;
	struct payorder_line	l[2];
	struct perr		err;
	char			*got;
	size_t			 len = 0;

	o = order1();
	o.nlines = 0;
	CHECK(payorder_write(&o, &len, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	o = order1();
	o.account = " ";
	CHECK(payorder_write(&o, &len, &err) == NULL);
	memcpy(l, lines, sizeof(l));
	l[1].card_bank = NULL;
	o = order1();
	o.lines = l;
	CHECK(payorder_write(&o, &len, &err) == NULL);
	CHECK(strstr(err.msg, "line 2") != NULL);
	memcpy(l, lines, sizeof(l));
	l[0].amount = 0;
	CHECK(payorder_write(&o, &len, &err) == NULL);
	CHECK(strstr(err.msg, "line 1") != NULL);
	memcpy(l, lines, sizeof(l));
	l[0].amount = l[1].amount = INT64_C(600000000000000000);
	CHECK(payorder_write(&o, &len, &err) == NULL);
	/* hostile text is made safe and cut, never invalid */
	memcpy(l, lines, sizeof(l));
	l[0].name = "<x>&\x01\xff a name far too long for anything but cut to 140 "
	    "characters by the encoder, so that the schema still holds; "
	    "and some more characters to pass one hundred and forty";
	l[1].name = "  \xe5\xbc\xa0 \"quoted\" \r\n\t  ";
	l[1].remittance = "WAGE/2026-09 ]]> <!-- -->";
	CHECK((got = payorder_write(&o, &len, &err)) != NULL);
	valid(got, len);
	CHECK(strstr(got, "<Nm>&lt;x&gt;&amp;?? a name far") != NULL);
	/* cut at 140 characters: "...one hundred and forty" is not all there */
	CHECK(strstr(got, "one hundred and forty") == NULL);
	/* blanks trimmed at both ends, CR kept as a reference */
	CHECK(strstr(got, "<Nm>\xe5\xbc\xa0 &quot;quoted&quot;</Nm>") != NULL);
	CHECK(strstr(got, "<Ustrd>WAGE/2026-09 ]]&gt; &lt;!-- --&gt;</Ustrd>") != NULL);
	free(got);
	/* a whole sheet's order: every line there, the sum exact */
	CHECK(many() == 0);
}

const struct unit_case payorder_cases[] = {
	{ "good", good },
	{ "stable", stable },
	{ "refused", refused },
	{ NULL, NULL }
};
