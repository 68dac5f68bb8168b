/*
 * test_sheet.c: sheet_parse on the golden sheets in tests/data/sheet/.
 *
 * good-*.xml are read field by field. Each bad-RULE.xml breaks one rule of
 * the bank profile; the table below gives the code and a fragment of the
 * message sheet_parse must answer, and whether the file is still valid
 * against the official pain.001.001.10 schema (most are: those rules are
 * the profile's, which the ISO schema cannot see).
 */
#include <libxml/tree.h>

#include "sheet.h"
#include "xmlsafe.h"
#include "unit.h"

static xmlDocPtr
load(const char *name)
{
	char		 path[128];
	char		*buf;
	size_t		 len;
	struct perr	 err;
	xmlDocPtr	 doc;

	snprintf(path, sizeof(path), "sheet/%s", name);
	buf = unit_read_data(path, &len);
	doc = xmlsafe_parse(buf, len, &err);
	if (doc == NULL) {
		fprintf(stderr, "  %s: %s %s\n", name, err.code, err.msg);
		exit(1);
	}
	free(buf);
	return doc;
}

/* Parses a golden file that must be accepted, after checking it against
 * the official schema as the daemon would. */
static struct sheet *
load_good(const char *name)
{
	struct schemas	*s;
	struct perr	 err;
	xmlDocPtr	 doc;
	struct sheet	*sh;

	doc = load(name);
	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_PAIN001, doc, &err) != 0) {
		fprintf(stderr, "  %s: %s\n", name, err.msg);
		exit(1);
	}
	schemas_free(s);
	sh = sheet_parse(doc, &err);
	if (sh == NULL) {
		fprintf(stderr, "  %s: %s %s\n", name, err.code, err.msg);
		exit(1);
	}
	CHECK(!perr_isset(&err));
	xmlFreeDoc(doc);
	return sh;
}

static void
good_3lines(void)
{
	struct sheet		*sh = load_good("good-3lines.xml");
	const struct sheet_line	*l;

	CHECK_STR(sh->msg_id, "SUB1-202610-001");
	CHECK_STR(sh->created_at, "2026-11-05T09:30:00+08:00");
	CHECK_INT(sh->nb_of_txs, 3);
	CHECK_INT(sh->ctrl_sum, 1406049);
	CHECK_STR(sh->pmt_inf_id, "PI-202610-01");
	CHECK_STR(sh->debtor_account, "410501000000123456");
	CHECK_STR(sh->subcontractor, "91410105MA9K000022");
	CHECK_STR(sh->month, "2026-10");
	CHECK_INT(sh->nlines, 3);

	l = &sh->lines[0];
	CHECK_STR(l->end_to_end_id, "E2E-202610-0001");
	CHECK_INT(l->amount, 520000);
	CHECK_STR(l->name, "\xe5\xbc\xa0\xe4\xb8\x89");	/* 张三 */
	CHECK_STR(l->id_number, "410102198511205616");
	CHECK_STR(l->card, "6217001234567890122");
	CHECK_STR(l->card_bank, "105491000011");
	CHECK_INT(l->kind, LINE_WAGE);
	CHECK_STR(l->month, "2026-10");
	CHECK_INT(l->gross, 580000);
	CHECK_INT(l->days_worked, 22);
	CHECK_STR(l->confirmed_at, "2026-10-31T18:05:00+08:00");
	CHECK_STR(l->confirm_method, "SIGN");
	CHECK_STR(l->confirm_ref, "CF-202610-0001");
	CHECK(l->err.code[0] == '\0');

	l = &sh->lines[1];
	CHECK_STR(l->end_to_end_id, "E2E-202610-0002");
	CHECK_INT(l->amount, 486050);
	CHECK_STR(l->id_number, "411022199208150021");
	CHECK_STR(l->card, "62220212345678903");
	CHECK_STR(l->confirm_method, "FACE");
	CHECK(l->err.code[0] == '\0');

	l = &sh->lines[2];
	CHECK_STR(l->end_to_end_id, "E2E-202610-0003");
	CHECK_INT(l->amount, 399999);
	CHECK_INT(l->gross, 440000);		/* "4400": no decimals */
	CHECK_INT(l->days_worked, 18);
	CHECK_STR(l->confirmed_at, "2026-11-01T08:00:00Z");
	CHECK_STR(l->confirm_method, "APP");
	CHECK(l->err.code[0] == '\0');
	sheet_free(sh);
	sheet_free(NULL);
}

static void
good_backpay(void)
{
	struct sheet	*sh = load_good("good-backpay.xml");

	CHECK_INT(sh->nlines, 2);
	CHECK_INT(sh->lines[0].kind, LINE_BACKPAY);
	CHECK_STR(sh->lines[0].month, "2026-08");
	CHECK_INT(sh->lines[1].kind, LINE_BACKPAY);
	CHECK_STR(sh->lines[1].month, "2026-09");
	/* No WAGE line: the latest BACKPAY month. */
	CHECK_STR(sh->month, "2026-09");
	CHECK_INT(sh->ctrl_sum, 200000);
	sheet_free(sh);
}

static void
good_mixed(void)
{
	struct sheet	*sh = load_good("good-mixed.xml");

	CHECK_INT(sh->nlines, 2);
	CHECK_INT(sh->lines[0].kind, LINE_WAGE);
	CHECK_INT(sh->lines[1].kind, LINE_BACKPAY);
	CHECK_STR(sh->lines[1].month, "2026-09");
	CHECK_INT(sh->lines[1].days_worked, 0);
	/* A WAGE line sets the month, although BACKPAY is also there. */
	CHECK_STR(sh->month, "2026-10");
	sheet_free(sh);
}

/* Bad check digits refuse the line, not the sheet, and the messages do
 * not carry the full numbers. */
static void
good_line_errors(void)
{
	struct sheet	*sh = load_good("good-line-errors.xml");

	CHECK_INT(sh->nlines, 3);
	CHECK_STR(sh->lines[0].err.code, "WP05");
	CHECK(strstr(sh->lines[0].err.msg, "4101**********5617") != NULL);
	CHECK(strstr(sh->lines[0].err.msg, "410102198511205617") == NULL);
	CHECK_STR(sh->lines[1].err.code, "AC01");
	CHECK(strstr(sh->lines[1].err.msg, "6222*********8904") != NULL);
	CHECK(strstr(sh->lines[1].err.msg, "62220212345678904") == NULL);
	CHECK(sh->lines[2].err.code[0] == '\0');
	sheet_free(sh);
}

/* A CdtTrfTxInf outside CstmrCdtTrfInitn/PmtInf is never read. */
static void
good_smuggled(void)
{
	struct sheet	*sh = load_good("good-smuggled.xml");
	size_t		 i;

	CHECK_INT(sh->nlines, 3);
	for (i = 0; i < sh->nlines; i++)
		CHECK(strcmp(sh->lines[i].end_to_end_id, "E2E-EVIL-0001") != 0);
	CHECK_INT(sh->ctrl_sum, 1406049);
	sheet_free(sh);
}

/* What a standard ISO 20022 generator writes (issue 24): the credit
 * code's scheme as Prtry, times without a zone (China time), no Purp, a
 * Strd and a SplmtryData of its own: read as good-3lines.xml is. */
static void
good_generator(void)
{
	struct sheet	*sh = load_good("good-generator.xml");

	CHECK_STR(sh->subcontractor, "91410105MA9K000022");
	CHECK_INT(sh->nlines, 3);
	CHECK_STR(sh->lines[0].confirmed_at, "2026-10-31T18:05:00+08:00");
	CHECK_STR(sh->lines[1].confirmed_at, "2026-10-31T18:07:30.250+08:00");
	CHECK_STR(sh->lines[2].confirmed_at, "2026-11-01T08:00:00Z");
	CHECK_INT(sh->lines[0].gross, 580000);
	CHECK_STR(sh->lines[0].month, "2026-10");
	CHECK_STR(sh->lines[0].confirm_ref, "CF-202610-0001");
	CHECK_INT(sh->ctrl_sum, 1406049);
	sheet_free(sh);
}

/* The purpose said by each line (no PmtInf/PmtTpInf), amounts with zeros
 * after the second decimal, a free-text Ustrd before the month. */
static void
good_line_purpose(void)
{
	struct sheet	*sh = load_good("good-line-purpose.xml");

	CHECK_INT(sh->sala, 0);
	CHECK_INT(sh->nlines, 3);
	CHECK_INT(sh->ctrl_sum, 1406049);
	CHECK_INT(sh->lines[1].amount, 486050);
	CHECK_INT(sh->lines[1].gross, 540000);
	CHECK_INT(sh->lines[2].kind, LINE_WAGE);
	CHECK_STR(sh->lines[2].month, "2026-10");
	sheet_free(sh);
}

/* The wp:Line elements of the good sheets, copied out as documents of
 * their own, are valid against proto/xsd/line.xsd: the C checks and the
 * schema describe the same thing. */
static void
lines_valid_against_line_xsd(void)
{
	static const char *const files[] = {
		"good-3lines.xml", "good-backpay.xml", "good-mixed.xml",
		"good-generator.xml", "good-line-purpose.xml",
	};
	struct schemas	*s;
	struct perr	 err;
	xmlDocPtr	 doc, one;
	xmlNodePtr	 tx, wl;
	size_t		 i;
	int		 n = 0;

	CHECK((s = schemas_load(&err)) != NULL);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		doc = load(files[i]);
		tx = xmlsafe_path(xmlDocGetRootElement(doc), PAIN001_NS,
		    "CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf");
		for (; tx != NULL; tx = xmlNextElementSibling(tx)) {
			wl = xmlsafe_path(tx, PAIN001_NS, "SplmtryData/Envlp");
			CHECK(wl != NULL);
			wl = xmlsafe_child(wl, LINE_NS, "Line");
			CHECK(wl != NULL);
			one = xmlNewDoc((const xmlChar *)"1.0");
			xmlDocSetRootElement(one, xmlDocCopyNode(wl, one, 1));
			if (schemas_validate(s, XSD_LINE, one, &err) != 0) {
				fprintf(stderr, "  %s: %s\n", files[i], err.msg);
				exit(1);
			}
			xmlFreeDoc(one);
			n++;
		}
		xmlFreeDoc(doc);
	}
	CHECK_INT(n, 13);
	schemas_free(s);
}

static const struct {
	const char	*file;
	int		 xsd_valid;	/* still valid against the ISO schema */
	const char	*code;
	const char	*fragment;
} bad[] = {
	{ "bad-root.xml", 0, "FF01", "not a pain.001.001.10 Document" },
	{ "bad-no-msgid.xml", 0, "FF01", "GrpHdr/MsgId required" },
	{ "bad-msgid-control.xml", 1, "FF01",
	    "GrpHdr/MsgId contains a control character" },
	{ "bad-pmtinfid-control.xml", 1, "FF01",
	    "PmtInf/PmtInfId contains a control character" },
	{ "bad-e2e-control.xml", 1, "FF01",
	    "PmtId/EndToEndId of line 2 contains a control character" },
	{ "bad-nboftxs.xml", 1, "FF01",
	    "GrpHdr/NbOfTxs 4 does not match the 3 lines" },
	{ "bad-ctrlsum.xml", 1, "FF01",
	    "GrpHdr/CtrlSum 14060.50 does not match the lines' total 14060.49" },
	{ "bad-no-ctrlsum.xml", 1, "FF01", "GrpHdr/CtrlSum required" },
	{ "bad-ctrlsum-decimals.xml", 1, "FF01",
	    "GrpHdr/CtrlSum is not an amount in yuan with at most two decimals" },
	{ "bad-pmtinf-nboftxs.xml", 1, "FF01",
	    "PmtInf/NbOfTxs 2 does not match the 3 lines" },
	{ "bad-pmtinf-ctrlsum.xml", 1, "FF01",
	    "PmtInf/CtrlSum 14000.00 does not match the lines' total 14060.49" },
	{ "bad-two-pmtinf.xml", 1, "FF01", "exactly one PmtInf required, found 2" },
	{ "bad-pmtmtd.xml", 1, "FF01", "PmtMtd must be TRF" },
	{ "bad-ctgypurp.xml", 1, "FF01", "PmtInf/PmtTpInf/CtgyPurp/Cd must be SALA" },
	{ "bad-no-pmttpinf.xml", 1, "FF01", "EndToEndId E2E-202610-0001: SALA required as "
	    "PmtInf/PmtTpInf/CtgyPurp/Cd, or as this line's PmtTpInf/CtgyPurp/Cd or Purp/Cd" },
	{ "bad-ustrd-two.xml", 1, "FF01", "EndToEndId E2E-202610-0002: RmtInf/Ustrd must be "
	    "exactly WAGE/YYYY-MM or BACKPAY/YYYY-MM (once: two name a month)" },
	{ "bad-debtor-iban.xml", 1, "FF01", "DbtrAcct: an IBAN is not accepted" },
	{ "bad-debtor-ccy.xml", 1, "FF01", "DbtrAcct/Ccy must be CNY" },
	{ "bad-no-ultmtdbtr.xml", 1, "FF01",
	    "UltmtDbtr/Id/OrgId/Othr with SchmeNm/Cd or SchmeNm/Prtry USCC required" },
	{ "bad-ultmtdbtr-scheme.xml", 1, "FF01",
	    "UltmtDbtr/Id/OrgId/Othr with SchmeNm/Cd or SchmeNm/Prtry USCC required" },
	{ "bad-uscc.xml", 1, "FF01",
	    "UltmtDbtr credit code 91410105MA9K000023 fails its GB 32100 check" },
	{ "bad-dup-e2e.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0001 appears more than once" },
	{ "bad-currency.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: currency must be CNY" },
	{ "bad-eqvtamt.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: EqvtAmt refused" },
	{ "bad-amount-decimals.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: amount is not in yuan with at most two decimals" },
	{ "bad-amount-zero.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: amount must be greater than zero" },
	{ "bad-no-name.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: Cdtr/Nm required" },
	{ "bad-no-nidn.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: Cdtr/Id/PrvtId/Othr with SchmeNm/Cd (or Prtry) NIDN required" },
	{ "bad-creditor-iban.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: CdtrAcct: an IBAN is not accepted" },
	{ "bad-creditor-ccy.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: CdtrAcct/Ccy must be CNY" },
	{ "bad-card-bank.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: CdtrAgt/FinInstnId/ClrSysMmbId/MmbId must be" },
	{ "bad-purp.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: Purp/Cd must be SALA" },
	{ "bad-ustrd.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: RmtInf/Ustrd must be exactly WAGE/YYYY-MM or BACKPAY/YYYY-MM" },
	{ "bad-month-mixed.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0003: WAGE/2026-09 differs from the sheet's WAGE month 2026-10" },
	{ "bad-no-line.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: exactly one SplmtryData/Envlp/wp:Line required" },
	{ "bad-line-structure.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: wp:Line must hold GrossPay, DaysWorked" },
	{ "bad-gross.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: GrossPay 4800.00 is less than the amount paid 4860.50" },
	{ "bad-days.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: wp:Line/DaysWorked must be 0 to 31" },
	{ "bad-confirm-at.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: Confirmation/At must be a date and time, YYYY-MM-DDThh:mm:ss" },
	{ "bad-two-lines.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: exactly one SplmtryData/Envlp/wp:Line required, found two" },
	{ "bad-confirm-method.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: Confirmation/Method must be SIGN, FACE or APP" },
	{ "bad-confirm-ref.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: Confirmation/Ref must be 1 to 70 printable ASCII" },
	{ "bad-line-ctgypurp.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: PmtTpInf/CtgyPurp/Cd must be SALA" },
	{ "bad-line-ultmtdbtr.xml", 1, "FF01",
	    "EndToEndId E2E-202610-0002: UltmtDbtr must be the PmtInf's subcontractor" },
};

static void
bad_sheets(void)
{
	struct schemas	*s;
	struct perr	 err, verr;
	xmlDocPtr	 doc;
	size_t		 i;
	int		 failed = 0, valid;

	CHECK((s = schemas_load(&err)) != NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc = load(bad[i].file);
		valid = schemas_validate(s, XSD_PAIN001, doc, &verr) == 0;
		if (valid != bad[i].xsd_valid) {
			fprintf(stderr, "  %s: ISO schema says %s (%s)\n",
			    bad[i].file, valid ? "valid" : "invalid", verr.msg);
			failed = 1;
		}
		memset(&err, 0, sizeof(err));
		if (sheet_parse(doc, &err) != NULL) {
			fprintf(stderr, "  %s: accepted\n", bad[i].file);
			failed = 1;
		} else if (strcmp(err.code, bad[i].code) != 0 ||
		    strstr(err.msg, bad[i].fragment) == NULL) {
			fprintf(stderr, "  %s: %s \"%s\", expected %s \"%s\"\n",
			    bad[i].file, err.code, err.msg, bad[i].code,
			    bad[i].fragment);
			failed = 1;
		}
		xmlFreeDoc(doc);
	}
	schemas_free(s);
	CHECK(!failed);
}

/* No refusal message may carry a worker's ID number, card or name. */
static void
bad_messages_clean(void)
{
	static const char *const secrets[] = {
		"410102198511205616", "411022199208150021",
		"440304200002290006", "6217001234567890122",
		"62220212345678903", "622588123456784",
		"\xe5\xbc\xa0\xe4\xb8\x89", "\xe6\x9d\x8e\xe5\x9b\x9b",
		"\xe7\x8e\x8b\xe4\xba\x94",
	};
	struct perr	err;
	xmlDocPtr	doc;
	size_t		i, j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc = load(bad[i].file);
		CHECK(sheet_parse(doc, &err) == NULL);
		for (j = 0; j < sizeof(secrets) / sizeof(secrets[0]); j++)
			CHECK(strstr(err.msg, secrets[j]) == NULL);
		xmlFreeDoc(doc);
	}
}

/* More lines than WP_MAX_SHEET_LINES: refused on the count, before any
 * line is read (the lines here are empty, so reading one would fail with
 * another message). Built in memory: a real file would be hundreds of MB. */
static void
too_many_lines(void)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 pmt;
	xmlNsPtr	 ns;
	struct perr	 err;
	unsigned	 i;

	doc = load("good-3lines.xml");
	pmt = xmlsafe_path(xmlDocGetRootElement(doc), PAIN001_NS,
	    "CstmrCdtTrfInitn/PmtInf");
	CHECK(pmt != NULL);
	ns = pmt->ns;
	for (i = 3; i <= WP_MAX_SHEET_LINES; i++)
		xmlNewChild(pmt, ns, (const xmlChar *)"CdtTrfTxInf", NULL);
	CHECK(sheet_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "200001 lines, more than the limit of 200000") != NULL);
	xmlFreeDoc(doc);
}

static void
not_a_sheet(void)
{
	static const char empty[] = "<Document xmlns=\"" PAIN001_NS "\"/>";
	struct perr	err;
	xmlDocPtr	doc;

	CHECK(sheet_parse(NULL, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	doc = xmlsafe_parse(empty, strlen(empty), &err);
	CHECK(doc != NULL);
	CHECK(sheet_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "CstmrCdtTrfInitn") != NULL);
	xmlFreeDoc(doc);
}

const struct unit_case sheet_cases[] = {
	{ "good_3lines", good_3lines },
	{ "good_backpay", good_backpay },
	{ "good_mixed", good_mixed },
	{ "good_line_errors", good_line_errors },
	{ "good_smuggled", good_smuggled },
	{ "good_generator", good_generator },
	{ "good_line_purpose", good_line_purpose },
	{ "lines_valid_against_line_xsd", lines_valid_against_line_xsd },
	{ "bad_sheets", bad_sheets },
	{ "bad_messages_clean", bad_messages_clean },
	{ "too_many_lines", too_many_lines },
	{ "not_a_sheet", not_a_sheet },
	{ NULL, NULL }
};
