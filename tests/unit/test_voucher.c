/*
 * test_voucher.c: voucher_build. The voucher is checked against
 * proto/xsd/voucher.xsd (whose patterns refuse an unmasked number) and its
 * golden file tests/data/voucher/sheet-1.xml; no full ID number or card
 * number may appear anywhere in the bytes.
 */
#include <libxml/tree.h>

#include "voucher.h"
#include "xmlout.h"
#include "xmlsafe.h"
#include "unit.h"

#define NS	VOUCHER_NS

static const struct voucher_line lines[] = {
	{ "E1", "张三", "410183199001011234", "6222021001122334458", 300000, NULL },
	{ "E2", "李四", "41018319850203002X", "621700123456789012", 400050, NULL },
	{ "E3", "王五", "410183197712310011", "622848000000", 250000, NULL },
};

static struct voucher
sheet1(void)
{
	struct voucher v = {
		.msg_id = "SHEET-1",
		.project = "XM-2026-0001",
		.subcontractor = "91410105052839828U",
		.month = "2026-10",
		.paid_at = "2026-11-05T10:00:01+08:00",
		.lines = lines,
		.nlines = 3,
	};

	return v;
}

static void
valid(xmlDocPtr doc)
{
	struct schemas	*s;
	struct perr	 err;

	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_VOUCHER, doc, &err) != 0) {
		fprintf(stderr, "  %s\n", err.msg);
		exit(1);
	}
	schemas_free(s);
}

static void
good(void)
{
	struct voucher	 v = sheet1();
	struct perr	 err;
	xmlDocPtr	 doc;
	char		*got, *want;
	size_t		 glen = 0, wlen, i;

	CHECK((doc = voucher_build(&v, &err)) != NULL);
	valid(doc);
	CHECK((got = xmlout_dump(doc, &glen)) != NULL);
	want = unit_read_data("voucher/sheet-1.xml", &wlen);
	if (glen != wlen || memcmp(got, want, glen) != 0) {
		fprintf(stderr, "  voucher/sheet-1.xml differs; got:\n%s\n", got);
		exit(1);
	}
	CHECK(strstr(got, "<Count>3</Count><Total>9500.50</Total>") != NULL);
	CHECK(strstr(got, "<IdNumber>4101**********002X</IdNumber>") != NULL);
	CHECK(strstr(got, "<Card>6222***********4458</Card>") != NULL);
	for (i = 0; i < 3; i++) {
		CHECK(strstr(got, lines[i].id_number) == NULL);
		CHECK(strstr(got, lines[i].card) == NULL);
	}
	free(got);
	free(want);
	xmlFreeDoc(doc);
}

static void
refused(void)
{
	struct voucher		v;
	struct voucher_line	l[2];
	struct perr		err;
	xmlDocPtr		doc;

	v = sheet1();
	v.nlines = 0;		/* a sheet that paid nothing has no voucher */
	CHECK(voucher_build(&v, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	v = sheet1();
	v.paid_at = NULL;
	CHECK(voucher_build(&v, &err) == NULL);
	memcpy(l, lines, sizeof(l));
	l[1].amount = 0;
	v = sheet1();
	v.lines = l;
	v.nlines = 2;
	CHECK(voucher_build(&v, &err) == NULL);
	CHECK(strstr(err.msg, "line 2") != NULL);
	/* two amounts whose sum passes 15 integer digits */
	memcpy(l, lines, sizeof(l));
	l[0].amount = l[1].amount = INT64_C(60000000000000000);
	v.lines = l;
	CHECK(voucher_build(&v, &err) == NULL);
	/* one of them alone is fine: the refusal above is the sum's */
	v.nlines = 1;
	CHECK((doc = voucher_build(&v, &err)) != NULL);
	xmlFreeDoc(doc);
}

/* Each line's settlement (026): CREDITED, FAILED, RETURNED or none yet;
 * Count and Total over what stayed paid; valid against voucher.xsd. */
static void
settlement(void)
{
	struct voucher		 v = sheet1();
	struct voucher_line	 l[3];
	struct perr		 err;
	xmlDocPtr		 doc;
	char			*got;
	size_t			 glen = 0;

	memcpy(l, lines, sizeof(l));
	l[0].settlement = "CREDITED";
	l[1].settlement = "FAILED";
	l[2].settlement = "";		/* no outcome yet: no element */
	v.lines = l;
	CHECK((doc = voucher_build(&v, &err)) != NULL);
	valid(doc);
	CHECK((got = xmlout_dump(doc, &glen)) != NULL);
	CHECK(strstr(got, "<Amount>3000.00</Amount><Settlement>CREDITED"
	    "</Settlement></Line>") != NULL);
	CHECK(strstr(got, "<Amount>4000.50</Amount><Settlement>FAILED"
	    "</Settlement></Line>") != NULL);
	CHECK(strstr(got, "<Amount>2500.00</Amount></Line>") != NULL);
	CHECK(strstr(got, "<Count>2</Count><Total>5500.00</Total>") != NULL);
	free(got);
	xmlFreeDoc(doc);

	l[2].settlement = "RETURNED";
	CHECK((doc = voucher_build(&v, &err)) != NULL);
	valid(doc);
	CHECK((got = xmlout_dump(doc, &glen)) != NULL);
	CHECK(strstr(got, "<Settlement>RETURNED</Settlement>") != NULL);
	CHECK(strstr(got, "<Count>1</Count><Total>3000.00</Total>") != NULL);
	free(got);
	xmlFreeDoc(doc);

	/* every line back: no voucher; an unknown mark: refused */
	l[0].settlement = "RETURNED";
	CHECK(voucher_build(&v, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	l[0].settlement = "PAID";
	CHECK(voucher_build(&v, &err) == NULL);
	CHECK(strstr(err.msg, "unknown settlement") != NULL);
}

const struct unit_case voucher_cases[] = {
	{ "good", good },
	{ "refused", refused },
	{ "settlement", settlement },
	{ NULL, NULL }
};
