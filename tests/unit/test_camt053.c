/*
 * test_camt053.c: camt053_build. Every statement is checked against the
 * official camt.053.001.08 schema; the full one also against its golden
 * file tests/data/camt053/statement.xml.
 */
#include <libxml/tree.h>

#include "camt053.h"
#include "xmlout.h"
#include "xmlsafe.h"
#include "unit.h"

#define NS	CAMT053_NS

static const struct camt053_entry entries[] = {
	{ CAMT053_DEPOSIT, "DEP-1", "T1", 2000000, true, "2026-10-05", NULL,
	  NULL, "LABOUR COST", "Demo Owner", NULL },
	{ CAMT053_WAGE, "T2", "T2", 300000, false, "2026-10-06", "SHEET-1",
	  "E1", "WAGE/2026-10", "张三", NULL },
	{ CAMT053_WAGE, "T3", "T3", 400050, false, "2026-10-06", "SHEET-1",
	  "E2", "WAGE/2026-10", "李四 & Sons <x>", NULL },
	{ CAMT053_RETURN, "RET-1", "T4", 300000, true, "2026-10-09", "SHEET-1",
	  "E1", "RETURN WAGE/2026-10", "张三", "AC04" },
	{ CAMT053_ATTACHMENT, "LO-1", "T5", 100000, false, "2026-10-20", NULL,
	  NULL, "DEDUCT (2026)豫0102执123号", "郑州市中原区人民法院", NULL },
};

static struct camt053
statement(void)
{
	struct camt053 s = {
		.msg_id = "WP053-1",
		.created_at = "2026-11-21T10:00:00+08:00",
		.account = "6228480000000000001",
		.from = "2026-10-01",
		.to = "2026-10-31",
		.opening = 0,
		.closing = 2000000 - 300000 - 400050 + 300000 - 100000,
		.entries = entries,
		.nentries = 5,
	};

	return s;
}

static xmlDocPtr
valid(xmlDocPtr doc)
{
	struct schemas	*s;
	struct perr	 err;

	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_CAMT053, doc, &err) != 0) {
		fprintf(stderr, "  %s\n", err.msg);
		exit(1);
	}
	schemas_free(s);
	return doc;
}

static const char *
text(xmlDocPtr doc, const char *path)
{
	static char	buf[512];

	if (xmlsafe_text(xmlsafe_path(xmlDocGetRootElement(doc), NS, path), buf,
	    sizeof(buf)) != 0)
		return NULL;
	return buf;
}

static void
full(void)
{
	struct camt053	 s = statement();
	struct perr	 err;
	xmlDocPtr	 doc;
	char		*got, *want;
	size_t		 glen = 0, wlen;

	CHECK((doc = camt053_build(&s, &err)) != NULL);
	valid(doc);
	CHECK((got = xmlout_dump(doc, &glen)) != NULL);
	want = unit_read_data("camt053/statement.xml", &wlen);
	if (glen != wlen || memcmp(got, want, glen) != 0) {
		fprintf(stderr, "  camt053/statement.xml differs; got:\n%s\n", got);
		exit(1);
	}
	CHECK_STR(text(doc, "BkToCstmrStmt/Stmt/Acct/Id/Othr/Id"),
	    "6228480000000000001");
	CHECK_STR(text(doc, "BkToCstmrStmt/Stmt/TxsSummry/TtlNtries/NbOfNtries"),
	    "5");
	/* net of the period: 2000000 + 300000 - 300000 - 400050 - 100000 */
	CHECK_STR(text(doc, "BkToCstmrStmt/Stmt/TxsSummry/TtlNtries/TtlNetNtry/Amt"),
	    "14999.50");
	CHECK_STR(text(doc, "BkToCstmrStmt/Stmt/TxsSummry/TtlDbtNtries/Sum"),
	    "8000.50");
	free(got);
	free(want);
	xmlFreeDoc(doc);
}

/* An empty period with a negative opening (never on a dedicated account,
 * but the writer must not produce a signed amount) and no entries. */
static void
empty_negative(void)
{
	struct camt053	 s = statement();
	struct perr	 err;
	xmlDocPtr	 doc;
	xmlNodePtr	 bal;

	s.nentries = 0;
	s.opening = s.closing = -12345;
	CHECK((doc = camt053_build(&s, &err)) != NULL);
	valid(doc);
	bal = xmlsafe_path(xmlDocGetRootElement(doc), NS, "BkToCstmrStmt/Stmt/Bal");
	CHECK(bal != NULL);
	CHECK_STR(text(doc, "BkToCstmrStmt/Stmt/Bal/Amt"), "123.45");
	CHECK_STR(text(doc, "BkToCstmrStmt/Stmt/Bal/CdtDbtInd"), "DBIT");
	CHECK(xmlsafe_path(xmlDocGetRootElement(doc), NS,
	    "BkToCstmrStmt/Stmt/Ntry") == NULL);
	xmlFreeDoc(doc);
}

static void
refused(void)
{
	struct camt053		s;
	struct camt053_entry	e[5];
	struct perr		err;
	xmlDocPtr		doc;

	s = statement();
	s.closing += 1;		/* the entries do not explain it */
	CHECK(camt053_build(&s, &err) == NULL);
	CHECK(strstr(err.msg, "closing") != NULL);
	memcpy(e, entries, sizeof(e));
	e[2].amount = 0;
	s = statement();
	s.entries = e;
	CHECK(camt053_build(&s, &err) == NULL);
	memcpy(e, entries, sizeof(e));
	e[0].ref = "";
	CHECK(camt053_build(&s, &err) == NULL);
	s = statement();
	s.account = NULL;
	CHECK(camt053_build(&s, &err) == NULL);
	s = statement();
	CHECK((doc = camt053_build(&s, &err)) != NULL);
	xmlFreeDoc(doc);
}

const struct unit_case camt053_cases[] = {
	{ "full", full },
	{ "empty_negative", empty_negative },
	{ "refused", refused },
	{ NULL, NULL }
};
