/*
 * test_corestmt.c: corestmt_parse, the core's end-of-day camt.053.001.08
 * of a dedicated account. The golden statement is valid against the
 * official schema and read whole (balances signed, the day the CLBD's,
 * a pending entry skipped, an entry's EndToEndId); a statement wagepay
 * writes itself (camt053_build) reads back the same; bad ones (no CLBD,
 * two OPBD, another currency, an entry without reference, a reversal, two
 * Stmt) and hostile ones (too long, foreign namespace, another message)
 * are refused with FF01, and those the schema refuses are refused by it
 * first.
 */
#include <libxml/tree.h>

#include "camt053.h"
#include "corestmt.h"
#include "xmlsafe.h"
#include "unit.h"

static struct corestmt *
parse_text(const char *text, struct perr *err)
{
	xmlDocPtr	 doc;
	struct corestmt	*s;

	CHECK((doc = xmlsafe_parse(text, strlen(text), err)) != NULL);
	s = corestmt_parse(doc, err);
	xmlFreeDoc(doc);
	return s;
}

static void
good(void)
{
	struct schemas	*sc;
	struct perr	 err;
	struct corestmt	*s;
	xmlDocPtr	 doc;
	char		*text;
	size_t		 len;

	text = unit_read_data("corestmt/good.xml", &len);
	CHECK((doc = xmlsafe_parse(text, len, &err)) != NULL);
	CHECK((sc = schemas_load(&err)) != NULL);
	CHECK(schemas_validate(sc, XSD_CAMT053, doc, &err) == 0);
	CHECK((s = corestmt_parse(doc, &err)) != NULL);
	CHECK_STR(s->msg_id, "CORE053-20261020-1");
	CHECK_STR(s->stmt_id, "STMT-6228480000000000001-20261020");
	CHECK_STR(s->account, "6228480000000000001");
	CHECK_STR(s->day, "2026-10-20");
	CHECK(s->opening == 100000);
	CHECK(s->closing == 192950);
	CHECK(s->nentries == 2);
	CHECK_STR(s->entries[0].ref, "DEP-1");
	CHECK_STR(s->entries[0].svcr_ref, "CORE-T-1");
	CHECK(s->entries[0].credit && s->entries[0].amount == 100000);
	CHECK_STR(s->entries[0].end_to_end_id, "");
	CHECK_STR(s->entries[1].ref, "WPPO202610200000000001");
	CHECK(!s->entries[1].credit && s->entries[1].amount == 7050);
	CHECK_STR(s->entries[1].end_to_end_id, "E2E-1");
	CHECK_STR(s->entries[1].booked, "2026-10-20");
	corestmt_free(s);
	schemas_free(sc);
	xmlFreeDoc(doc);
	free(text);
}

/* What wagepay writes for a contractor reads back as written: a DBIT
 * opening balance negative, an entry by its NtryRef. */
static void
round_trip(void)
{
	struct camt053_entry	 e[2] = {
		{ .kind = CAMT053_DEPOSIT, .ref = "D1", .svcr_ref = "T1",
		  .amount = 500, .credit = true, .booked = "2026-10-05" },
		{ .kind = CAMT053_WAGE, .ref = "W1", .svcr_ref = "T2",
		  .amount = 200, .credit = false, .booked = "2026-10-06",
		  .msg_id = "S1", .end_to_end_id = "E1" },
	};
	struct camt053		 c = { .msg_id = "M1", .created_at =
	    "2026-10-07T10:00:00+08:00", .account = "6228480000000000001",
	    .from = "2026-10-05", .to = "2026-10-06", .opening = -100,
	    .closing = 200, .entries = e, .nentries = 2 };
	struct schemas		*sc;
	struct perr		 err;
	struct corestmt		*s;
	xmlDocPtr		 doc;

	CHECK((doc = camt053_build(&c, &err)) != NULL);
	CHECK((sc = schemas_load(&err)) != NULL);
	CHECK(schemas_validate(sc, XSD_CAMT053, doc, &err) == 0);
	CHECK((s = corestmt_parse(doc, &err)) != NULL);
	CHECK(s->opening == -100 && s->closing == 200);
	CHECK_STR(s->day, "2026-10-06");
	CHECK(s->nentries == 2);
	CHECK_STR(s->entries[1].ref, "W1");
	CHECK_STR(s->entries[1].end_to_end_id, "E1");
	CHECK(!s->entries[1].credit && s->entries[1].amount == 200);
	corestmt_free(s);
	schemas_free(sc);
	xmlFreeDoc(doc);
}

#define HEAD "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">" \
	"<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-10-20T23:00:00" \
	"</CreDtTm></GrpHdr>"
#define STMT "<Stmt><Id>S1</Id><Acct><Id><Othr><Id>6228480000000000001</Id>" \
	"</Othr></Id></Acct>"
#define BAL(tp, amt, ccy) "<Bal><Tp><CdOrPrtry><Cd>" tp "</Cd></CdOrPrtry>" \
	"</Tp><Amt Ccy=\"" ccy "\">" amt "</Amt><CdtDbtInd>CRDT</CdtDbtInd>" \
	"<Dt><Dt>2026-10-20</Dt></Dt></Bal>"
#define BALS BAL("OPBD", "1.00", "CNY") BAL("CLBD", "2.00", "CNY")
#define NTRY(x) "<Ntry>" x "<Sts><Cd>BOOK</Cd></Sts><BkTxCd/></Ntry>"
#define AMT "<Amt Ccy=\"CNY\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
#define TAIL "</Stmt></BkToCstmrStmt></Document>"

static void
minimal(void)
{
	struct perr	 err;
	struct corestmt	*s;

	CHECK((s = parse_text(HEAD STMT BALS NTRY("<AcctSvcrRef>T9"
	    "</AcctSvcrRef>" AMT) TAIL, &err)) != NULL);
	CHECK(s->nentries == 1);
	CHECK_STR(s->entries[0].ref, "T9");
	CHECK_STR(s->entries[0].booked, "");
	corestmt_free(s);
}

static void
bad(void)
{
	static const char *const docs[] = {
		/* no closing balance */
		HEAD STMT BAL("OPBD", "1.00", "CNY") TAIL,
		/* two opening balances */
		HEAD STMT BAL("OPBD", "1.00", "CNY") BALS TAIL,
		/* a balance in another currency */
		HEAD STMT BAL("OPBD", "1.00", "USD") BAL("CLBD", "1.00", "CNY")
		    TAIL,
		/* an amount with three decimals */
		HEAD STMT BAL("OPBD", "1.001", "CNY") BAL("CLBD", "1.00", "CNY")
		    TAIL,
		/* an entry named by nothing */
		HEAD STMT BALS NTRY(AMT) TAIL,
		/* an entry of zero */
		HEAD STMT BALS NTRY("<NtryRef>R</NtryRef><Amt Ccy=\"CNY\">0"
		    "</Amt><CdtDbtInd>CRDT</CdtDbtInd>") TAIL,
		/* a reversal */
		HEAD STMT BALS NTRY("<NtryRef>R</NtryRef>" AMT "<RvslInd>true"
		    "</RvslInd>") TAIL,
		/* a NtryRef longer than 35 */
		HEAD STMT BALS NTRY("<NtryRef>012345678901234567890123456789"
		    "012345</NtryRef>" AMT) TAIL,
		/* no account */
		HEAD "<Stmt><Id>S1</Id>" BALS TAIL,
		/* two statements in one message */
		HEAD STMT BALS "</Stmt>" STMT BALS TAIL,
		/* the right names in another namespace */
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
		    "<BkToCstmrStmt/></Document>",
		/* a notification, not a statement */
		"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">"
		    "<BkToCstmrDbtCdtNtfctn/></Document>",
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
	CHECK(corestmt_parse(NULL, &err) == NULL);
	corestmt_free(NULL);
}

/* The official schema refuses, before the parser sees it, what the daemon
 * must never read: a foreign element, a statement with no balance type. */
static void
schema_first(void)
{
	static const char *const docs[] = {
		HEAD STMT BALS "<Evil/>" TAIL,
		HEAD STMT "<Bal><Amt Ccy=\"CNY\">1.00</Amt></Bal>" TAIL,
		HEAD STMT BALS NTRY("<NtryRef>R</NtryRef><Amt Ccy=\"CNY\">-1.00"
		    "</Amt><CdtDbtInd>CRDT</CdtDbtInd>") TAIL,
		NULL
	};
	struct schemas	*sc;
	struct perr	 err;
	xmlDocPtr	 doc;
	size_t		 i;

	CHECK((sc = schemas_load(&err)) != NULL);
	for (i = 0; docs[i] != NULL; i++) {
		CHECK((doc = xmlsafe_parse(docs[i], strlen(docs[i]), &err)) !=
		    NULL);
		CHECK(schemas_validate(sc, XSD_CAMT053, doc, &err) == -1);
		CHECK_STR(err.code, "FF01");
		xmlFreeDoc(doc);
	}
	schemas_free(sc);
}

/* A DOCTYPE (entities) never reaches the parser. */
static void
hostile(void)
{
	static const char doc[] = "<!DOCTYPE d [<!ENTITY x \"y\">]>" HEAD STMT
	    BALS TAIL;
	struct perr	err;

	CHECK(xmlsafe_parse(doc, strlen(doc), &err) == NULL);
	CHECK_STR(err.code, "FF01");
}

const struct unit_case corestmt_cases[] = {
	{ "good", good },
	{ "round_trip", round_trip },
	{ "minimal", minimal },
	{ "bad", bad },
	{ "schema_first", schema_first },
	{ "hostile", hostile },
	{ NULL, NULL }
};
