/*
 * test_paystatus.c: paystatus_parse, the core's pain.002.001.11 about a
 * payment order. The golden report is valid against the official schema;
 * bad ones (no order, no line name, no status, a pain.002 about something
 * else) and hostile ones (too long, foreign namespace, a document of
 * another kind) are refused with FF01 and nothing read.
 */
#include <libxml/tree.h>

#include "paystatus.h"
#include "xmlsafe.h"
#include "unit.h"

static struct paystatus *
parse_text(const char *text, struct perr *err)
{
	xmlDocPtr		 doc;
	struct paystatus	*ps;

	CHECK((doc = xmlsafe_parse(text, strlen(text), err)) != NULL);
	ps = paystatus_parse(doc, err);
	xmlFreeDoc(doc);
	return ps;
}

static void
good(void)
{
	struct schemas		*s;
	struct perr		 err;
	struct paystatus	*ps;
	xmlDocPtr		 doc;
	char			*text;
	size_t			 len;

	text = unit_read_data("paystatus/good.xml", &len);
	CHECK((doc = xmlsafe_parse(text, len, &err)) != NULL);
	CHECK((s = schemas_load(&err)) != NULL);
	CHECK(schemas_validate(s, XSD_PAIN002, doc, &err) == 0);
	CHECK((ps = paystatus_parse(doc, &err)) != NULL);
	CHECK_STR(ps->msg_id, "CORE-STS-0001");
	CHECK_STR(ps->orgnl_msg_id, "WPPO202610200000000001");
	CHECK_STR(ps->group_status, "PART");
	CHECK(ps->nlines == 2);
	CHECK_STR(ps->lines[0].instr_id, "WPPO202610200000000001-1");
	CHECK_STR(ps->lines[0].end_to_end_id, "E2E-1");
	CHECK_STR(ps->lines[0].status, "ACCC");
	CHECK_STR(ps->lines[0].reason, "");
	CHECK_STR(ps->lines[1].instr_id, "");
	CHECK_STR(ps->lines[1].end_to_end_id, "E2E-3");
	CHECK_STR(ps->lines[1].status, "RJCT");
	CHECK_STR(ps->lines[1].reason, "AC04");
	paystatus_free(ps);
	schemas_free(s);
	xmlFreeDoc(doc);
	free(text);
}

#define HEAD "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.11\">" \
	"<CstmrPmtStsRpt><GrpHdr><MsgId>S1</MsgId><CreDtTm>2026-10-20T10:05:00" \
	"</CreDtTm></GrpHdr>"
#define GRP(sts) "<OrgnlGrpInfAndSts><OrgnlMsgId>WPPO1</OrgnlMsgId>" \
	"<OrgnlMsgNmId>pain.001.001.10</OrgnlMsgNmId>" sts "</OrgnlGrpInfAndSts>"
#define TAIL "</CstmrPmtStsRpt></Document>"
#define TX(x) "<OrgnlPmtInfAndSts><TxInfAndSts>" x "</TxInfAndSts></OrgnlPmtInfAndSts>"

static void
group_only(void)
{
	struct perr		 err;
	struct paystatus	*ps;

	CHECK((ps = parse_text(HEAD GRP("<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn>"
	    "<Prtry>CORE9</Prtry></Rsn></StsRsnInf>") TAIL, &err)) != NULL);
	CHECK(ps->nlines == 0);
	CHECK_STR(ps->group_status, "RJCT");
	CHECK_STR(ps->group_reason, "CORE9");
	paystatus_free(ps);
}

static void
bad(void)
{
	static const char *const docs[] = {
		/* no line status and no group status */
		HEAD GRP("") TAIL,
		/* a line that names nothing */
		HEAD GRP("") TX("<TxSts>ACCC</TxSts>") TAIL,
		/* a line without a status */
		HEAD GRP("") TX("<OrgnlEndToEndId>E1</OrgnlEndToEndId>") TAIL,
		/* a status that is not a code */
		HEAD GRP("") TX("<OrgnlEndToEndId>E1</OrgnlEndToEndId><TxSts>ok"
		    "</TxSts>") TAIL,
		/* about something else than a payment order */
		HEAD "<OrgnlGrpInfAndSts><OrgnlMsgId>WPPO1</OrgnlMsgId>"
		    "<OrgnlMsgNmId>camt.054.001.08</OrgnlMsgNmId><GrpSts>ACCC"
		    "</GrpSts></OrgnlGrpInfAndSts>" TAIL,
		/* no order named */
		HEAD "<OrgnlGrpInfAndSts><OrgnlMsgNmId>pain.001.001.10"
		    "</OrgnlMsgNmId><GrpSts>ACCC</GrpSts></OrgnlGrpInfAndSts>" TAIL,
		/* an InstrId longer than 35 */
		HEAD GRP("") TX("<OrgnlInstrId>0123456789012345678901234567890123456"
		    "</OrgnlInstrId><TxSts>ACCC</TxSts>") TAIL,
		/* the right names in another namespace */
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">"
		    "<CstmrPmtStsRpt/></Document>",
		/* a sheet's answer shape without the header */
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.11\">"
		    "<CstmrPmtStsRpt>" GRP("<GrpSts>ACCC</GrpSts>") TAIL,
		"<x/>",
		NULL
	};
	struct perr	err;
	size_t		i;

	for (i = 0; docs[i] != NULL; i++) {
		perr_clear(&err);
		if (parse_text(docs[i], &err) != NULL) {
			fprintf(stderr, "  document %zu was read\n", i);
			exit(1);
		}
		CHECK_STR(err.code, "FF01");
	}
	CHECK(paystatus_parse(NULL, &err) == NULL);
	paystatus_free(NULL);
}

/* Lines spread over several OrgnlPmtInfAndSts are all read, in order. */
static void
many(void)
{
	struct perr		 err;
	struct paystatus	*ps;

	CHECK((ps = parse_text(HEAD GRP("") TX("<OrgnlEndToEndId>E1"
	    "</OrgnlEndToEndId><TxSts>ACCC</TxSts>") TX("<OrgnlInstrId>I2"
	    "</OrgnlInstrId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC06</Cd>"
	    "</Rsn></StsRsnInf><StsRsnInf><Rsn><Cd>MD07</Cd></Rsn></StsRsnInf>")
	    TAIL, &err)) != NULL);
	CHECK(ps->nlines == 2);
	CHECK_STR(ps->lines[0].end_to_end_id, "E1");
	CHECK_STR(ps->lines[1].instr_id, "I2");
	CHECK_STR(ps->lines[1].reason, "AC06");
	paystatus_free(ps);
}

const struct unit_case paystatus_cases[] = {
	{ "good", good },
	{ "group_only", group_only },
	{ "bad", bad },
	{ "many", many },
	{ NULL, NULL }
};
