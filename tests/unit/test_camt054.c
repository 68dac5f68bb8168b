/*
 * test_camt054.c: camt054_parse on the core's credit notifications.
 *
 * Golden files in tests/data/camt054/: deposit.xml and return.xml beside
 * their expected readings (deposit.ok, return.ok: one line per entry), and
 * bad-*.xml, each refused as a whole for the reason in the table below.
 * Every file is valid against the official camt.054.001.08 schema (checked
 * here too), so each refusal is the bank profile's, not the schema's.
 */
#include <inttypes.h>

#include <libxml/tree.h>

#include "camt054.h"
#include "xmlsafe.h"
#include "unit.h"

static xmlDocPtr
parse_buf(const char *buf, size_t len)
{
	struct perr	err;
	xmlDocPtr	doc;

	if ((doc = xmlsafe_parse(buf, len, &err)) == NULL) {
		fprintf(stderr, "  xmlsafe_parse: %s %s\n", err.code, err.msg);
		exit(1);
	}
	return doc;
}

/* Reads a golden file and checks it against the official schema. */
static xmlDocPtr
load_valid(const char *name)
{
	static struct schemas	*s;
	struct perr		 err;
	xmlDocPtr		 doc;
	size_t			 len;
	char			*buf;

	if (s == NULL && (s = schemas_load(&err)) == NULL) {
		fprintf(stderr, "  schemas_load: %s\n", err.msg);
		exit(1);
	}
	buf = unit_read_data(name, &len);
	doc = parse_buf(buf, len);
	free(buf);
	if (schemas_validate(s, XSD_CAMT054, doc, &err) == -1) {
		fprintf(stderr, "  %s: %s\n", name, err.msg);
		exit(1);
	}
	return doc;
}

/* The reading of a notification as text, one line per entry, in the
 * shape of the .ok files. */
static char *
dump(const struct camt054 *c)
{
	char	*out;
	size_t	 size;
	FILE	*f;
	size_t	 i;

	CHECK((f = open_memstream(&out, &size)) != NULL);
	fprintf(f, "msg_id=%s entries=%zu\n", c->msg_id, c->nentries);
	for (i = 0; i < c->nentries; i++) {
		const struct camt054_entry *e = &c->entries[i];

		fprintf(f, "account=%s ref=%s fen=%" PRId64 " booked=%s"
		    " return=%d e2e=%s reason=%s uscc=%s payer=%s\n",
		    e->account, e->entry_ref, e->amount, e->booking_date,
		    e->is_return, e->end_to_end_id, e->return_reason,
		    e->payer_uscc, e->payer_name);
	}
	fclose(f);
	return out;
}

static void
golden(const char *in, const char *ok)
{
	struct perr	 err;
	struct camt054	*c;
	xmlDocPtr	 doc;
	char		*got, *want;

	doc = load_valid(in);
	c = camt054_parse(doc, &err);
	xmlFreeDoc(doc);
	if (c == NULL) {
		fprintf(stderr, "  %s: %s %s\n", in, err.code, err.msg);
		exit(1);
	}
	CHECK(!perr_isset(&err));
	got = dump(c);
	want = unit_read_data(ok, NULL);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "  %s reads as:\n%s  expected (%s):\n%s", in,
		    got, ok, want);
		exit(1);
	}
	free(got);
	free(want);
	camt054_free(c);
}

static void
deposit(void)
{
	struct perr	 err;
	struct camt054	*c;
	xmlDocPtr	 doc;

	golden("camt054/deposit.xml", "camt054/deposit.ok");
	/* And the fields that matter most, spelled out. */
	doc = load_valid("camt054/deposit.xml");
	CHECK((c = camt054_parse(doc, &err)) != NULL);
	CHECK_INT(c->nentries, 3);
	CHECK_INT(c->entries[0].amount, 8650000);
	CHECK_STR(c->entries[0].payer_uscc, "91410100MA47YY001R");
	CHECK(!c->entries[0].is_return);
	CHECK_INT(c->entries[1].amount, 120050);	/* "1200.5" */
	CHECK_STR(c->entries[1].booking_date, "2024-04-02");	/* from DtTm */
	CHECK_STR(c->entries[2].account, "4101000087654321");
	camt054_free(c);
	camt054_free(NULL);
	xmlFreeDoc(doc);
}

static void
returned(void)
{
	struct perr	 err;
	struct camt054	*c;
	xmlDocPtr	 doc;

	golden("camt054/return.xml", "camt054/return.ok");
	doc = load_valid("camt054/return.xml");
	CHECK((c = camt054_parse(doc, &err)) != NULL);
	CHECK_INT(c->nentries, 2);
	CHECK(c->entries[0].is_return);
	CHECK_STR(c->entries[0].end_to_end_id, "SHEET-2024-03-0001-L0001");
	CHECK_STR(c->entries[0].return_reason, "AC04");
	CHECK_STR(c->entries[1].return_reason, "BE01");
	CHECK_INT(c->entries[1].amount, 580050);
	camt054_free(c);
	xmlFreeDoc(doc);
}

/* Each bad file is refused as a whole, FF01, for its own reason. */
static void
refused(void)
{
	static const struct {
		const char	*file;
		const char	*says;
	} t[] = {
		{ "bad-debit.xml", "entry NTRY-DEBIT-000001: is a debit" },
		{ "bad-pending.xml", "entry NTRY-PDNG-000001: status must be BOOK" },
		{ "bad-currency.xml", "entry NTRY-USD-000001: currency must be CNY" },
		{ "bad-no-ntryref.xml", "entry 2 of notification 1: NtryRef is required" },
		{ "bad-return-no-e2e.xml", "entry NTRY-RTR-000001: a returned payment must carry" },
		{ "bad-return-notprovided.xml", "entry NTRY-RTR-000002: a returned payment must carry" },
		{ "bad-return-batched.xml", "entry NTRY-RTR-000003: a returned payment must be booked as an entry of its own" },
		{ "bad-dup-ntryref.xml", "entry NTRY-DUP-000001: NtryRef appears more than once" },
		{ "bad-zero.xml", "entry NTRY-ZERO-000001: amount must be greater than zero" },
		{ "bad-reversal.xml", "entry NTRY-RVSL-000001: reversals are not accepted" },
		{ "bad-no-bookgdt.xml", "entry NTRY-NOBOOKG-000001: a booked entry needs its booking date" },
		{ "bad-payer-uscc.xml", "entry NTRY-PAYER-000001: payer's Id/OrgId/Othr/Id must be a unified social credit code" },
		{ "bad-fraction.xml", "entry NTRY-FRAC-000001: amount \"100.005\"" },
	};
	struct perr	 err;
	xmlDocPtr	 doc;
	char		 path[128];
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "camt054/%s", t[i].file);
		doc = load_valid(path);
		if (camt054_parse(doc, &err) != NULL) {
			fprintf(stderr, "  %s: accepted\n", t[i].file);
			exit(1);
		}
		CHECK_STR(err.code, "FF01");
		if (strstr(err.msg, t[i].says) == NULL) {
			fprintf(stderr, "  %s: \"%s\" does not say \"%s\"\n",
			    t[i].file, err.msg, t[i].says);
			exit(1);
		}
		xmlFreeDoc(doc);
	}
}

static void
expect_ff01(const char *xml, const char *needle)
{
	struct perr	 err;
	xmlDocPtr	 doc;

	doc = parse_buf(xml, strlen(xml));
	CHECK(camt054_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	if (strstr(err.msg, needle) == NULL) {
		fprintf(stderr, "  \"%s\" does not say \"%s\"\n", err.msg,
		    needle);
		exit(1);
	}
	xmlFreeDoc(doc);
}

#define DOC_HEAD "<Document xmlns=\"" CAMT054_NS "\"><BkToCstmrDbtCdtNtfctn>" \
	"<GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-04-02T10:15:00Z</CreDtTm></GrpHdr>"
#define DOC_TAIL "</BkToCstmrDbtCdtNtfctn></Document>"

static void
not_a_notification(void)
{
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\" project=\"P\"/>",
	    "not a camt.054.001.08");
	/* camt.053 has the same root name in another namespace. */
	expect_ff01("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
	    "camt.053.001.08\"><BkToCstmrStmt/></Document>",
	    "not a camt.054.001.08");
	/* The account by IBAN is valid ISO, but not the bank's profile. */
	expect_ff01(DOC_HEAD "<Ntfctn><Id>N</Id><Acct><Id><IBAN>"
	    "DE89370400440532013000</IBAN></Id></Acct></Ntfctn>" DOC_TAIL,
	    "notification 1: the account must be given in Acct/Id/Othr/Id");
	/* Without schema validation first, empty text is not a value. */
	expect_ff01(DOC_HEAD "<Ntfctn><Id>N</Id><Acct><Id><Othr><Id>A1</Id>"
	    "</Othr></Id></Acct><Ntry><NtryRef></NtryRef></Ntry></Ntfctn>"
	    DOC_TAIL, "NtryRef is required");
}

/* A notification with no entry is read, with nothing to book. */
static void
no_entries(void)
{
	static const char xml[] = DOC_HEAD "<Ntfctn><Id>N</Id><Acct><Id><Othr>"
	    "<Id>4101000012345678</Id></Othr></Id></Acct></Ntfctn>" DOC_TAIL;
	struct perr	 err;
	struct camt054	*c;
	xmlDocPtr	 doc;

	doc = parse_buf(xml, strlen(xml));
	CHECK((c = camt054_parse(doc, &err)) != NULL);
	CHECK_STR(c->msg_id, "M1");
	CHECK_INT(c->nentries, 0);
	camt054_free(c);
	xmlFreeDoc(doc);
}

/* The bound is checked before any entry is read: with empty Ntry
 * elements, a late check would fail on the first entry instead. */
static void
too_many_entries(void)
{
	struct perr	 err;
	xmlDocPtr	 doc;
	xmlNodePtr	 root, msg, n1, n2, last;
	xmlNsPtr	 ns;
	size_t		 i;

	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = xmlNewDocNode(doc, NULL, (const xmlChar *)"Document", NULL);
	xmlDocSetRootElement(doc, root);
	ns = xmlNewNs(root, (const xmlChar *)CAMT054_NS, NULL);
	xmlSetNs(root, ns);
	msg = xmlNewChild(root, ns, (const xmlChar *)"BkToCstmrDbtCdtNtfctn",
	    NULL);
	/* Split over two notifications: the bound is per message. */
	n1 = xmlNewChild(msg, ns, (const xmlChar *)"Ntfctn", NULL);
	n2 = xmlNewChild(msg, ns, (const xmlChar *)"Ntfctn", NULL);
	for (i = 0; i < 100001; i++)
		CHECK(xmlNewChild(i % 2 ? n1 : n2, ns, (const xmlChar *)"Ntry",
		    NULL) != NULL);
	CHECK(camt054_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "more than 100000 entries") != NULL);
	/* At the bound it goes on, and stops at the missing GrpHdr. */
	last = n2->last;
	xmlUnlinkNode(last);
	xmlFreeNode(last);
	CHECK(camt054_parse(doc, &err) == NULL);
	CHECK(strstr(err.msg, "GrpHdr/MsgId") != NULL);
	xmlFreeDoc(doc);
}

const struct unit_case camt054_cases[] = {
	{ "deposit", deposit },
	{ "return", returned },
	{ "refused", refused },
	{ "not_a_notification", not_a_notification },
	{ "no_entries", no_entries },
	{ "too_many_entries", too_many_entries },
	{ NULL, NULL }
};
