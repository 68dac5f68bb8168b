/*
 * test_pain002.c: pain002_build, every output checked against the official
 * pain.002.001.11 schema and read back; and struct perr, whose codes decide
 * between Rsn/Cd and Rsn/Prtry.
 */
#include <libxml/tree.h>

#include "pain002.h"
#include "xmlsafe.h"
#include "unit.h"

#define NS	PAIN002_NS

/* Builds, parses with xmlsafe_parse, validates against the official XSD;
 * returns the document for the case to read. */
static xmlDocPtr
build_valid(const struct status_report *r)
{
	struct schemas	*s;
	struct perr	 err;
	xmlDocPtr	 doc;
	char		*xml;
	size_t		 len = 0;

	CHECK((xml = pain002_build(r, &len)) != NULL);
	CHECK_INT(len, strlen(xml));
	if ((doc = xmlsafe_parse(xml, len, &err)) == NULL) {
		fprintf(stderr, "  %s\n%s\n", err.msg, xml);
		exit(1);
	}
	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_PAIN002, doc, &err) != 0) {
		fprintf(stderr, "  %s\n%s\n", err.msg, xml);
		exit(1);
	}
	schemas_free(s);
	free(xml);
	return doc;
}

static xmlNodePtr
at(xmlDocPtr doc, const char *path)
{
	return xmlsafe_path(xmlDocGetRootElement(doc), NS, path);
}

static const char *
text(xmlNodePtr n)
{
	static char	buf[1024];

	if (xmlsafe_text(n, buf, sizeof(buf)) != 0)
		return NULL;
	return buf;
}

static void
partial(void)
{
	static const struct status_line lines[] = {
		{ "E2E-0002", "AM05", "WAGE/2026-10 already paid to this worker", NULL },
		{ "E2E-0005", "WP05", "ID number 4101**********5617 fails its check", NULL },
		{ "E2E-0007", "AC01", NULL, NULL },
	};
	struct status_report r = {
		.msg_id = "RPT-SUB1-202610-001",
		.created_at = "2026-11-21T08:00:00+08:00",
		.orig_msg_id = "SUB1-202610-001",
		.orig_msg_nm_id = "pain.001.001.10",
		.orig_pmt_inf_id = "PI-202610-01",
		.group_status = "PART",
		.nlines = 3,
		.lines = lines,
	};
	xmlDocPtr	doc = build_valid(&r);
	xmlNodePtr	tx;

	CHECK_STR(xmlsafe_root_ns(doc), NS);
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/GrpHdr/MsgId")), "RPT-SUB1-202610-001");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/GrpHdr/CreDtTm")),
	    "2026-11-21T08:00:00+08:00");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId")),
	    "SUB1-202610-001");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgNmId")),
	    "pain.001.001.10");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts")), "PART");
	/* No group reason given: none written. */
	CHECK(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf") == NULL);
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/OrgnlPmtInfId")),
	    "PI-202610-01");

	tx = at(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts");
	CHECK_STR(text(xmlsafe_child(tx, NS, "OrgnlEndToEndId")), "E2E-0002");
	CHECK_STR(text(xmlsafe_child(tx, NS, "TxSts")), "RJCT");
	CHECK_STR(text(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Cd")), "AM05");
	CHECK(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Prtry") == NULL);
	CHECK_STR(text(xmlsafe_path(tx, NS, "StsRsnInf/AddtlInf")),
	    "WAGE/2026-10 already paid to this worker");

	/* The bank's own code travels as Prtry. */
	tx = xmlNextElementSibling(tx);
	CHECK_STR(text(xmlsafe_child(tx, NS, "OrgnlEndToEndId")), "E2E-0005");
	CHECK_STR(text(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Prtry")), "WP05");
	CHECK(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Cd") == NULL);

	/* No message: no AddtlInf, which may not be empty. */
	tx = xmlNextElementSibling(tx);
	CHECK_STR(text(xmlsafe_child(tx, NS, "OrgnlEndToEndId")), "E2E-0007");
	CHECK_STR(text(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Cd")), "AC01");
	CHECK(xmlsafe_path(tx, NS, "StsRsnInf/AddtlInf") == NULL);
	CHECK(xmlNextElementSibling(tx) == NULL);
	xmlFreeDoc(doc);
}

/* A sheet that could not be read: no MsgId known, no lines. */
static void
rejected_unreadable(void)
{
	struct status_report r = {
		.msg_id = "RPT-0001",
		.created_at = "2026-11-21T08:00:00Z",
		.orig_msg_id = "",
		.orig_msg_nm_id = "pain.001.001.10",
		.group_status = "RJCT",
		.group_code = "FF01",
		.group_message = "XML not well-formed at line 3: Opening and "
		    "ending tag mismatch: b line 2 and a",
	};
	xmlDocPtr	doc = build_valid(&r);

	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId")),
	    "UNKNOWN");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts")), "RJCT");
	CHECK_STR(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd")), "FF01");
	CHECK(strncmp(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf/AddtlInf")),
	    "XML not well-formed at line 3", 29) == 0);
	CHECK(at(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts") == NULL);
	xmlFreeDoc(doc);

	/* NULL as well as "". */
	r.orig_msg_id = NULL;
	doc = build_valid(&r);
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId")),
	    "UNKNOWN");
	xmlFreeDoc(doc);
}

/* A WP code for the group (a signature refusal) and the lines' PmtInfId
 * unknown. */
static void
group_proprietary(void)
{
	static const struct status_line line = { "E2E-1", "WP13", "not on the roster", NULL };
	struct status_report r = {
		.msg_id = "RPT-0002",
		.created_at = "2026-11-21T08:00:00Z",
		.orig_msg_id = "M-1",
		.orig_msg_nm_id = "pain.001.001.10",
		.group_status = "RJCT",
		.group_code = "WP31",
		.group_message = "signature does not verify",
		.nlines = 1,
		.lines = &line,
	};
	xmlDocPtr	doc = build_valid(&r);

	CHECK_STR(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf/Rsn/Prtry")), "WP31");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/OrgnlPmtInfId")),
	    "UNKNOWN");
	xmlFreeDoc(doc);
}

/* Markup in any text is escaped, never interpreted. */
static void
escaped(void)
{
	static const struct status_line line = {
		"E2E<&>\"'", "BE01", "name <b>&amp;</b> ]]> \"x\"", NULL
	};
	struct status_report r = {
		.msg_id = "R&D<1>",
		.created_at = "2026-11-21T08:00:00Z",
		.orig_msg_id = "</OrgnlMsgId><GrpSts>ACSC</GrpSts>",
		.orig_msg_nm_id = "pain.001.001.10",
		.group_status = "PART",
		.nlines = 1,
		.lines = &line,
	};
	xmlDocPtr	doc = build_valid(&r);

	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/GrpHdr/MsgId")), "R&D<1>");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId")),
	    "</OrgnlMsgId><GrpSts>ACSC</GrpSts>");
	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts")), "PART");
	CHECK_STR(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/OrgnlEndToEndId")),
	    "E2E<&>\"'");
	CHECK_STR(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/AddtlInf")),
	    "name <b>&amp;</b> ]]> \"x\"");
	xmlFreeDoc(doc);
}

/* AddtlInf is Max105Text: 105 characters, not bytes, and never half a
 * character. */
static void
cut_utf8(void)
{
	char			 msg[600], want[600];
	struct status_line	 line = { "E2E-1", "FF01", msg, NULL };
	struct status_report	 r = {
		.msg_id = "R-1", .created_at = "2026-11-21T08:00:00Z",
		.orig_msg_id = "M-1", .orig_msg_nm_id = "pain.001.001.10",
		.group_status = "RJCT", .nlines = 1, .lines = &line,
	};
	xmlDocPtr		 doc;
	const char		*got;
	int			 i;

	/* 104 ASCII characters, then "中文": the 105th is 中 (3 bytes). */
	memset(msg, 'a', 104);
	strcpy(msg + 104, "\xe4\xb8\xad\xe6\x96\x87");
	doc = build_valid(&r);
	got = text(at(doc,
	    "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/AddtlInf"));
	memcpy(want, msg, 104 + 3);
	want[107] = '\0';
	CHECK_STR(got, want);
	xmlFreeDoc(doc);

	/* 150 times 中: 105 of them, 315 bytes. */
	for (i = 0; i < 150; i++)
		memcpy(msg + 3 * i, "\xe4\xb8\xad", 3);
	msg[450] = '\0';
	doc = build_valid(&r);
	got = text(at(doc,
	    "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/AddtlInf"));
	CHECK_INT(strlen(got), 315);
	CHECK(memcmp(got, msg, 315) == 0);
	xmlFreeDoc(doc);

	/* A 40-character EndToEndId is cut to Max35Text. */
	line.end_to_end_id = "0123456789012345678901234567890123456789";
	line.message = NULL;
	doc = build_valid(&r);
	CHECK_STR(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/OrgnlEndToEndId")),
	    "01234567890123456789012345678901234");
	xmlFreeDoc(doc);
}

/* Bytes that are not XML characters, or not UTF-8, become '?': the report
 * stays well-formed and valid. */
static void
bad_bytes(void)
{
	static const struct status_line line = {
		"E2E-\x01-1", "FF01",
		"bad \xff\xfe utf8, \xc0\xaf overlong, \xed\xa0\x80 surrogate, "
		"\x1b[31m escape, cut \xe4\xb8", NULL
	};
	struct status_report r = {
		.msg_id = "R-1", .created_at = "2026-11-21T08:00:00Z",
		.orig_msg_id = "M-1", .orig_msg_nm_id = "pain.001.001.10",
		.group_status = "RJCT", .nlines = 1, .lines = &line,
	};
	xmlDocPtr	doc = build_valid(&r);

	CHECK_STR(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/OrgnlEndToEndId")),
	    "E2E-?-1");
	CHECK_STR(text(at(doc,
	    "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/AddtlInf")),
	    "bad ?? utf8, ?? overlong, ??? surrogate, ?[31m escape, cut ??");
	xmlFreeDoc(doc);
}

/* Every line of a large sheet, in order. */
static void
many_lines(void)
{
	enum { N = 20000 };
	struct status_line	*lines;
	char			(*ids)[16];
	struct status_report	 r = {
		.msg_id = "R-1", .created_at = "2026-11-21T08:00:00Z",
		.orig_msg_id = "M-1", .orig_msg_nm_id = "pain.001.001.10",
		.orig_pmt_inf_id = "P-1", .group_status = "RJCT",
		.group_code = "AM04", .group_message = "balance short",
		.nlines = N,
	};
	xmlDocPtr		 doc;
	xmlNodePtr		 tx;
	int			 i;

	CHECK((lines = calloc(N, sizeof(*lines))) != NULL);
	CHECK((ids = calloc(N, sizeof(*ids))) != NULL);
	for (i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "E2E-%d", i);
		lines[i].end_to_end_id = ids[i];
		lines[i].code = "AM04";
		lines[i].message = "balance short";
	}
	r.lines = lines;
	doc = build_valid(&r);
	tx = at(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts");
	for (i = 0; tx != NULL; i++, tx = xmlNextElementSibling(tx))
		CHECK_STR(text(xmlsafe_child(tx, NS, "OrgnlEndToEndId")), ids[i]);
	CHECK_INT(i, N);
	xmlFreeDoc(doc);
	free(lines);
	free(ids);
}

static void
perr_codes(void)
{
	CHECK(perr_code_is_iso("AM04"));
	CHECK(perr_code_is_iso("FF01"));
	CHECK(perr_code_is_iso("DU01"));
	CHECK(perr_code_is_iso("AC01"));
	CHECK(!perr_code_is_iso("WP05"));
	CHECK(!perr_code_is_iso("WP31"));
	CHECK(!perr_code_is_iso("am04"));
	CHECK(!perr_code_is_iso("AM0"));
	CHECK(!perr_code_is_iso("AM045"));
	CHECK(!perr_code_is_iso("1M04"));
	CHECK(!perr_code_is_iso("AM-4"));
	CHECK(!perr_code_is_iso(""));
	CHECK(!perr_code_is_iso(NULL));
}

static void
perr_basics(void)
{
	struct perr	err;
	char		big[600];

	memset(&err, 'x', sizeof(err));
	perr_clear(&err);
	CHECK(!perr_isset(&err));
	CHECK_STR(err.msg, "");
	CHECK_INT(perr_set(&err, "AM04", "sheet %s: short by %d", "M-1", 12), -1);
	CHECK(perr_isset(&err));
	CHECK_STR(err.code, "AM04");
	CHECK_STR(err.msg, "sheet M-1: short by 12");
	/* Too long: cut, NUL-terminated. */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	perr_set(&err, "TOOLONGCODE", "%s", big);
	CHECK_INT(strlen(err.code), sizeof(err.code) - 1);
	CHECK_INT(strlen(err.msg), sizeof(err.msg) - 1);
	CHECK_INT(perr_set(NULL, "FF01", "ignored"), -1);
	CHECK(!perr_isset(NULL));
	perr_clear(NULL);
}

/* GET after the settlement (026): a refused line, then the paid lines'
 * outcomes (ACCC; RJCT with the core's reason; RJCT with a return's reason
 * and AddtlInf RETURNED), all in one OrgnlPmtInfAndSts. */
static void
settled(void)
{
	static const struct status_line lines[] = {
		{ "E2E-0002", "AM05", "WAGE/2026-10 already paid", NULL },
		{ "E2E-0001", "", "", "ACCC" },
		{ "E2E-0003", "AC04", "refused by the core: back on the "
		    "dedicated account, earmarked for 2026-10", "RJCT" },
		{ "E2E-0004", "AC06", "RETURNED by the card's bank, booked "
		    "2026-11-02", "RJCT" },
	};
	struct status_report r = {
		.msg_id = "WP002-1",
		.created_at = "2026-11-21T08:00:00+08:00",
		.orig_msg_id = "SUB1-202610-001",
		.orig_msg_nm_id = "pain.001.001.10",
		.group_status = "PART",
		.nlines = 4,
		.lines = lines,
	};
	xmlDocPtr	doc = build_valid(&r);
	xmlNodePtr	tx;

	tx = at(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts");
	CHECK_STR(text(xmlsafe_child(tx, NS, "TxSts")), "RJCT");
	CHECK_STR(text(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Cd")), "AM05");
	tx = xmlNextElementSibling(tx);
	CHECK_STR(text(xmlsafe_child(tx, NS, "OrgnlEndToEndId")), "E2E-0001");
	CHECK_STR(text(xmlsafe_child(tx, NS, "TxSts")), "ACCC");
	/* no reason, no text: no StsRsnInf at all */
	CHECK(xmlsafe_child(tx, NS, "StsRsnInf") == NULL);
	tx = xmlNextElementSibling(tx);
	CHECK_STR(text(xmlsafe_child(tx, NS, "TxSts")), "RJCT");
	CHECK_STR(text(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Cd")), "AC04");
	tx = xmlNextElementSibling(tx);
	CHECK_STR(text(xmlsafe_child(tx, NS, "OrgnlEndToEndId")), "E2E-0004");
	CHECK_STR(text(xmlsafe_path(tx, NS, "StsRsnInf/Rsn/Cd")), "AC06");
	CHECK(strncmp(text(xmlsafe_path(tx, NS, "StsRsnInf/AddtlInf")),
	    "RETURNED ", 9) == 0);
	CHECK(xmlNextElementSibling(tx) == NULL);
	xmlFreeDoc(doc);
}

/* Every paid line of an ACSC sheet credited: GrpSts ACCC, each line ACCC,
 * valid against the official schema. */
static void
group_credited(void)
{
	static const struct status_line lines[] = {
		{ "E2E-0001", NULL, NULL, "ACCC" },
		{ "E2E-0002", NULL, NULL, "ACCC" },
	};
	struct status_report r = {
		.msg_id = "WP002-2",
		.created_at = "2026-11-21T08:00:00+08:00",
		.orig_msg_id = "SUB1-202610-002",
		.orig_msg_nm_id = "pain.001.001.10",
		.group_status = "ACCC",
		.nlines = 2,
		.lines = lines,
	};
	xmlDocPtr	doc = build_valid(&r);
	xmlNodePtr	tx;

	CHECK_STR(text(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts")), "ACCC");
	CHECK(at(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf") == NULL);
	tx = at(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts");
	CHECK_STR(text(xmlsafe_child(tx, NS, "TxSts")), "ACCC");
	tx = xmlNextElementSibling(tx);
	CHECK_STR(text(xmlsafe_child(tx, NS, "OrgnlEndToEndId")), "E2E-0002");
	CHECK_STR(text(xmlsafe_child(tx, NS, "TxSts")), "ACCC");
	CHECK(xmlNextElementSibling(tx) == NULL);
	xmlFreeDoc(doc);
}

const struct unit_case pain002_cases[] = {
	{ "partial", partial },
	{ "rejected_unreadable", rejected_unreadable },
	{ "group_proprietary", group_proprietary },
	{ "escaped", escaped },
	{ "cut_utf8", cut_utf8 },
	{ "bad_bytes", bad_bytes },
	{ "many_lines", many_lines },
	{ "perr_codes", perr_codes },
	{ "perr_basics", perr_basics },
	{ "settled", settled },
	{ "group_credited", group_credited },
	{ NULL, NULL }
};
