/*
 * test_roster.c: roster_parse (with the per-entry checks that need no
 * database), roster_build and roster_receipt_build.
 *
 * Inputs are golden files in tests/data/roster/ (good.xml, refusals.xml with
 * its table of expectations below, bad-bank.xml, bad-uscc.xml); outputs are
 * compared with good.out.xml and receipt.ok.xml and validated against
 * proto/xsd/roster.xsd as compiled into the binary.
 */
#include <libxml/tree.h>

#include "roster.h"
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

static xmlDocPtr
load(const char *name)
{
	xmlDocPtr	 doc;
	size_t		 len;
	char		*buf;

	buf = unit_read_data(name, &len);
	doc = parse_buf(buf, len);
	free(buf);
	return doc;
}

/* 0 if doc is valid against roster.xsd; -1 otherwise, with the first
 * error on stderr unless quiet, so that a failing CHECK says why. */
static int
validate_doc(xmlDocPtr doc, bool quiet)
{
	static struct schemas	*s;
	struct perr		 err;

	if (s == NULL && (s = schemas_load(&err)) == NULL) {
		fprintf(stderr, "  schemas_load: %s\n", err.msg);
		exit(1);
	}
	if (schemas_validate(s, XSD_ROSTER, doc, &err) == -1) {
		if (!quiet)
			fprintf(stderr, "  %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
validate(xmlDocPtr doc)
{
	return validate_doc(doc, false);
}

static struct roster *
parse_ok(const char *name)
{
	struct perr	 err;
	struct roster	*r;
	xmlDocPtr	 doc;

	doc = load(name);
	r = roster_parse(doc, &err);
	xmlFreeDoc(doc);
	if (r == NULL) {
		fprintf(stderr, "  roster_parse(%s): %s %s\n", name, err.code,
		    err.msg);
		exit(1);
	}
	return r;
}

static void
parse_good(void)
{
	struct roster	*r;
	xmlDocPtr	 doc;
	size_t		 i;

	doc = load("roster/good.xml");
	CHECK(validate(doc) == 0);
	xmlFreeDoc(doc);

	r = parse_ok("roster/good.xml");
	CHECK_STR(r->project, "P-410100-2024-001");
	CHECK_INT(r->nsubs, 2);
	CHECK_STR(r->subs[0].uscc, "91410100MA44XY1238");
	CHECK_STR(r->subs[0].name, "河南中原劳务有限公司");
	CHECK_STR(r->subs[1].uscc, "91410105MA9G3K7L27");
	CHECK_INT(r->nworkers, 4);
	for (i = 0; i < r->nworkers; i++) {
		if (perr_isset(&r->workers[i].err))
			fprintf(stderr, "  worker %zu: %s %s\n", i + 1,
			    r->workers[i].err.code, r->workers[i].err.msg);
		CHECK(!perr_isset(&r->workers[i].err));
	}
	CHECK_STR(r->workers[0].id_number, "410102199003071230");
	CHECK_STR(r->workers[0].name, "张三");
	CHECK_STR(r->workers[0].employer, "91410100MA44XY1238");
	CHECK_STR(r->workers[0].card, "6217001234567890122");
	CHECK_STR(r->workers[0].card_bank, "105491000016");
	CHECK_STR(r->workers[0].contract_signed, "2024-03-01");
	CHECK_STR(r->workers[0].entered, "2024-03-04");
	CHECK_STR(r->workers[0].left, "");
	CHECK_STR(r->workers[1].left, "2024-06-30");
	/* Upper-case X check digit, 18-digit card, a name with a middle dot. */
	CHECK_STR(r->workers[2].id_number, "41010219910520118X");
	CHECK_STR(r->workers[2].card, "621483000011112223");
	CHECK_STR(r->workers[2].name, "阿依古丽·买买提");
	/* An employer not listed in this upload is the daemon's to judge. */
	CHECK_STR(r->workers[3].employer, "91410100MA3X7Q8R9Y");
	roster_free(r);
	roster_free(NULL);
}

/* The table that refusals.xml's comment points to. */
static void
refusals(void)
{
	static const char *const expect[] = {
		"", "WP11", "WP12", "WP14", "WP16", "WP17", "", "WP17",
		"WP11", "WP11",
	};
	struct roster	*r;
	xmlDocPtr	 doc;
	size_t		 i;

	doc = load("roster/refusals.xml");
	CHECK(validate(doc) == 0);
	xmlFreeDoc(doc);

	r = parse_ok("roster/refusals.xml");
	CHECK_INT(r->nworkers, sizeof(expect) / sizeof(expect[0]));
	for (i = 0; i < r->nworkers; i++) {
		const struct roster_worker *w = &r->workers[i];

		if (strcmp(w->err.code, expect[i]) != 0) {
			fprintf(stderr, "  worker %zu: \"%s\" (%s), expected"
			    " \"%s\"\n", i + 1, w->err.code, w->err.msg,
			    expect[i]);
			exit(1);
		}
		/* A refusal says why, and never shows a full number. */
		CHECK(expect[i][0] == '\0' || w->err.msg[0] != '\0');
		CHECK(strstr(w->err.msg, w->id_number) == NULL);
		CHECK(strstr(w->err.msg, w->card) == NULL);
	}
	/* The masked forms are what the contractor gets to find the entry. */
	CHECK(strstr(r->workers[1].err.msg, "4101**********1112") != NULL);
	CHECK(strstr(r->workers[2].err.msg, "6230***********3446") != NULL);
	CHECK(strstr(r->workers[5].err.msg, "4101**********1230") != NULL);
	CHECK(strstr(r->workers[3].err.msg, "2024-03-05") != NULL);
	CHECK(strstr(r->workers[4].err.msg, "2024-03-03") != NULL);
	roster_free(r);
}

/* WP18: roster.xsd already refuses these shapes; the parser must still
 * refuse them itself, and never truncate a bank code into its field. */
static void
bank_code(void)
{
	struct roster	*r;
	xmlDocPtr	 doc;
	size_t		 i;

	doc = load("roster/bad-bank.xml");
	CHECK(validate_doc(doc, true) == -1);
	xmlFreeDoc(doc);

	r = parse_ok("roster/bad-bank.xml");
	CHECK_INT(r->nworkers, 3);
	for (i = 0; i < r->nworkers; i++)
		CHECK_STR(r->workers[i].err.code, "WP18");
	CHECK_STR(r->workers[0].card_bank, "10549100001");
	CHECK_STR(r->workers[1].card_bank, "");
	roster_free(r);
}

static void
bad_uscc(void)
{
	struct perr	 err;
	xmlDocPtr	 doc;

	doc = load("roster/bad-uscc.xml");
	CHECK(validate(doc) == 0);
	CHECK(roster_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "91410105MA9G3K7L28") != NULL);
	xmlFreeDoc(doc);
}

/* Parses an inline document and expects FF01 with `needle` in it. */
static void
expect_ff01(const char *xml, const char *needle)
{
	struct perr	 err;
	xmlDocPtr	 doc;

	doc = parse_buf(xml, strlen(xml));
	CHECK(roster_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	if (strstr(err.msg, needle) == NULL) {
		fprintf(stderr, "  \"%s\" does not say \"%s\"\n", err.msg,
		    needle);
		exit(1);
	}
	xmlFreeDoc(doc);
}

#define WORKER(id, entered) \
	"<Worker><IdNumber>" id "</IdNumber><Name>N</Name>" \
	"<Employer>91410100MA44XY1238</Employer>" \
	"<Card>6217001234567890122</Card><CardBank>105491000016</CardBank>" \
	"<ContractSigned>2024-03-01</ContractSigned>" entered "</Worker>"

static void
not_a_roster(void)
{
	expect_ff01("<RosterReceipt xmlns=\"urn:wagepay:roster:1\" project=\"P\""
	    " accepted=\"0\" refused=\"0\"/>", "not a Roster");
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:2\" project=\"P\"/>",
	    "not a Roster");
	expect_ff01("<Roster project=\"P\"/>", "not a Roster");
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\"/>", "project");
}

/* Without schema validation first, a missing or empty field refuses the
 * roster instead of passing as "". */
static void
missing_fields(void)
{
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\" project=\"P\">"
	    WORKER("410102199003071230", "") "</Roster>", "Entered");
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\" project=\"P\">"
	    WORKER("410102199003071230", "<Entered></Entered>") "</Roster>",
	    "Entered");
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\" project=\"P\">"
	    WORKER("410102199003071230", "<Entered>4 March</Entered>")
	    "</Roster>", "Entered");
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\" project=\"P\">"
	    WORKER("4101021990030712301", "<Entered>2024-03-04</Entered>")
	    "</Roster>", "IdNumber");
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\" project=\"P\">"
	    "<Subcontractor uscc=\"91410100MA44XY1238\"/></Roster>", "name");
}

static void
subcontractor_twice(void)
{
	expect_ff01("<Roster xmlns=\"urn:wagepay:roster:1\" project=\"P\">"
	    "<Subcontractor uscc=\"91410100MA44XY1238\" name=\"A\"/>"
	    "<Subcontractor uscc=\"91410100MA44XY1238\" name=\"B\"/>"
	    "</Roster>", "listed twice");
}

/* The bound is checked before any entry is read: with empty Worker
 * elements, a late check would fail on "IdNumber is missing" instead. */
static void
too_many_workers(void)
{
	struct perr	 err;
	xmlDocPtr	 doc;
	xmlNodePtr	 root, last;
	xmlNsPtr	 ns;
	size_t		 i;

	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = xmlNewDocNode(doc, NULL, (const xmlChar *)"Roster", NULL);
	xmlDocSetRootElement(doc, root);
	ns = xmlNewNs(root, (const xmlChar *)ROSTER_NS, NULL);
	xmlSetNs(root, ns);
	xmlSetProp(root, (const xmlChar *)"project", (const xmlChar *)"P");
	for (i = 0; i < WP_MAX_ROSTER + 1; i++)
		CHECK(xmlNewChild(root, ns, (const xmlChar *)"Worker",
		    NULL) != NULL);
	CHECK(roster_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "200001 workers; at most 200000") != NULL);
	/* One fewer passes the bound and fails on the first entry. */
	last = root->last;
	xmlUnlinkNode(last);
	xmlFreeNode(last);
	CHECK(roster_parse(doc, &err) == NULL);
	CHECK(strstr(err.msg, "worker 1: IdNumber") != NULL);
	xmlFreeDoc(doc);
}

/* Subcontractors are bounded too (the listed-twice check is quadratic). */
static void
too_many_subcontractors(void)
{
	struct perr	 err;
	xmlDocPtr	 doc;
	xmlNodePtr	 root;
	xmlNsPtr	 ns;
	size_t		 i;

	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = xmlNewDocNode(doc, NULL, (const xmlChar *)"Roster", NULL);
	xmlDocSetRootElement(doc, root);
	ns = xmlNewNs(root, (const xmlChar *)ROSTER_NS, NULL);
	xmlSetNs(root, ns);
	xmlSetProp(root, (const xmlChar *)"project", (const xmlChar *)"P");
	for (i = 0; i < 1001; i++)
		CHECK(xmlNewChild(root, ns, (const xmlChar *)"Subcontractor",
		    NULL) != NULL);
	CHECK(roster_parse(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "1001 subcontractors; at most 1000") != NULL);
	xmlFreeDoc(doc);
}

static void
same_roster(const struct roster *a, const struct roster *b)
{
	size_t	i;

	CHECK_STR(a->project, b->project);
	CHECK_INT(a->nsubs, b->nsubs);
	for (i = 0; i < a->nsubs; i++) {
		CHECK_STR(a->subs[i].uscc, b->subs[i].uscc);
		CHECK_STR(a->subs[i].name, b->subs[i].name);
	}
	CHECK_INT(a->nworkers, b->nworkers);
	for (i = 0; i < a->nworkers; i++) {
		const struct roster_worker *x = &a->workers[i], *y = &b->workers[i];

		CHECK_STR(x->id_number, y->id_number);
		CHECK_STR(x->name, y->name);
		CHECK_STR(x->employer, y->employer);
		CHECK_STR(x->card, y->card);
		CHECK_STR(x->card_bank, y->card_bank);
		CHECK_STR(x->contract_signed, y->contract_signed);
		CHECK_STR(x->entered, y->entered);
		CHECK_STR(x->left, y->left);
		CHECK_STR(x->err.code, y->err.code);
	}
}

/* good.xml -> struct -> Roster: schema-valid, the golden bytes, and read
 * back into the same struct. */
static void
build_round_trip(void)
{
	struct perr	 err;
	struct roster	*r, *back;
	xmlDocPtr	 doc;
	char		*out, *ok;
	size_t		 len, oklen;

	r = parse_ok("roster/good.xml");
	CHECK((out = roster_build(r, &len)) != NULL);
	CHECK_INT(len, strlen(out));
	ok = unit_read_data("roster/good.out.xml", &oklen);
	if (len != oklen || memcmp(out, ok, len) != 0) {
		fprintf(stderr, "  roster_build differs from good.out.xml:\n%s",
		    out);
		exit(1);
	}
	doc = parse_buf(out, len);
	CHECK(validate(doc) == 0);
	CHECK((back = roster_parse(doc, &err)) != NULL);
	same_roster(r, back);
	xmlFreeDoc(doc);
	roster_free(back);
	roster_free(r);
	free(out);
	free(ok);
}

/* Names are escaped by libxml2, in attributes and in text. */
static void
build_escapes(void)
{
	static char	 sub_name[] = "A&B \"<劳务>\" 'x'";
	static char	 worker_name[] = "<Name>&amp;</Name>";
	struct perr	 err;
	struct roster	*r, *back;
	xmlDocPtr	 doc;
	char		*out;
	size_t		 len;

	r = parse_ok("roster/good.xml");
	free(r->subs[0].name);
	free(r->workers[0].name);
	r->subs[0].name = strdup(sub_name);
	r->workers[0].name = strdup(worker_name);
	CHECK((out = roster_build(r, &len)) != NULL);
	doc = parse_buf(out, len);
	CHECK(validate(doc) == 0);
	CHECK((back = roster_parse(doc, &err)) != NULL);
	CHECK_STR(back->subs[0].name, sub_name);
	CHECK_STR(back->workers[0].name, worker_name);
	CHECK_INT(back->nworkers, 4);
	xmlFreeDoc(doc);
	roster_free(back);
	roster_free(r);
	free(out);
}

static const char *
attr(xmlNodePtr n, const char *name, char *buf, size_t len)
{
	xmlChar	*v = xmlGetNoNsProp(n, (const xmlChar *)name);

	snprintf(buf, len, "%s", v != NULL ? (const char *)v : "(none)");
	xmlFree(v);
	return buf;
}

static void
receipt(void)
{
	static const struct roster_refusal refused[] = {
		{ "410181198808081112", "WP11",
		    "ID number 4101**********1112: check digit or birth date"
		    " is wrong" },
		{ "410221199506152221", "WP15",
		    "card 6230***********3446 is registered to another worker"
		    " & may not be shared" },
	};
	xmlDocPtr	 doc;
	xmlNodePtr	 root, n;
	char		*out, *ok, buf[64], text[256];
	size_t		 len, oklen;

	CHECK((out = roster_receipt_build("P-410100-2024-001", 8, refused, 2,
	    &len)) != NULL);
	ok = unit_read_data("roster/receipt.ok.xml", &oklen);
	if (len != oklen || memcmp(out, ok, len) != 0) {
		fprintf(stderr, "  differs from receipt.ok.xml:\n%s", out);
		exit(1);
	}
	doc = parse_buf(out, len);
	CHECK(validate(doc) == 0);
	root = xmlDocGetRootElement(doc);
	CHECK_STR((const char *)root->name, "RosterReceipt");
	CHECK_STR(attr(root, "accepted", buf, sizeof(buf)), "8");
	CHECK_STR(attr(root, "refused", buf, sizeof(buf)), "2");
	n = xmlsafe_child(root, ROSTER_NS, "Refused");
	CHECK(n != NULL);
	CHECK_STR(attr(n, "code", buf, sizeof(buf)), "WP11");
	CHECK_STR(attr(n, "idNumber", buf, sizeof(buf)), "410181198808081112");
	for (n = n->next; n != NULL && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	CHECK(n != NULL);
	CHECK_STR(attr(n, "code", buf, sizeof(buf)), "WP15");
	CHECK(xmlsafe_text(n, text, sizeof(text)) == 0);
	CHECK_STR(text, refused[1].message);
	xmlFreeDoc(doc);
	free(out);
	free(ok);

	/* No refusals: still a valid receipt. */
	CHECK((out = roster_receipt_build("P", 0, NULL, 0, &len)) != NULL);
	doc = parse_buf(out, len);
	CHECK(validate(doc) == 0);
	xmlFreeDoc(doc);
	free(out);
}

/* A message longer than the schema's 255 characters is cut, on a UTF-8
 * character boundary, and the receipt stays valid. */
static void
receipt_long_message(void)
{
	struct roster_refusal	 ref;
	char			 msg[1 + 100 * 3 + 1], text[512];
	xmlDocPtr		 doc;
	xmlNodePtr		 n;
	char			*out;
	size_t			 len, i;

	msg[0] = 'a';
	for (i = 0; i < 100; i++)
		memcpy(msg + 1 + 3 * i, "工", 3);
	msg[sizeof(msg) - 1] = '\0';
	ref.id_number = "410102199003071230";
	ref.code = "WP13";
	ref.message = msg;
	CHECK((out = roster_receipt_build("P", 0, &ref, 1, &len)) != NULL);
	doc = parse_buf(out, len);
	CHECK(validate(doc) == 0);
	n = xmlsafe_child(xmlDocGetRootElement(doc), ROSTER_NS, "Refused");
	CHECK(xmlsafe_text(n, text, sizeof(text)) == 0);
	/* 1 + 84 * 3 = 253 bytes: the 85th character would end at 256. */
	CHECK_INT(strlen(text), 253);
	CHECK(memcmp(text, msg, 253) == 0);
	xmlFreeDoc(doc);
	free(out);
}

const struct unit_case roster_cases[] = {
	{ "parse_good", parse_good },
	{ "refusals", refusals },
	{ "bank_code", bank_code },
	{ "bad_uscc", bad_uscc },
	{ "not_a_roster", not_a_roster },
	{ "missing_fields", missing_fields },
	{ "subcontractor_twice", subcontractor_twice },
	{ "too_many_workers", too_many_workers },
	{ "too_many_subcontractors", too_many_subcontractors },
	{ "build_round_trip", build_round_trip },
	{ "build_escapes", build_escapes },
	{ "receipt", receipt },
	{ "receipt_long_message", receipt_long_message },
	{ NULL, NULL }
};
