/*
 * test_alert.c: alert_build. Every alert is checked against
 * proto/xsd/alert.xsd and against its golden file in tests/data/alert/
 * (the exact bytes a regulator receives before the signature), then signed
 * with the test copy of the bank's key, serialized, read back and verified
 * with xmlsec as a regulator would.
 */
#include <libxml/tree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/crypto.h>

#include "alert.h"
#include "xmlout.h"
#include "xmlsafe.h"
#include "xmlsig.h"
#include "unit.h"

#define SIGDATA		"tests/data/xmlsig/"
#define NS		ALERT_NS

static void
valid(xmlDocPtr doc)
{
	struct schemas	*s;
	struct perr	 err;

	CHECK((s = schemas_load(&err)) != NULL);
	if (schemas_validate(s, XSD_ALERT, doc, &err) != 0) {
		fprintf(stderr, "  %s\n", err.msg);
		exit(1);
	}
	schemas_free(s);
}

/* The serialized document equals the golden file byte for byte. */
static void
golden(xmlDocPtr doc, const char *name)
{
	char	*want, *got;
	size_t	 wlen, glen = 0;

	CHECK((got = xmlout_dump(doc, &glen)) != NULL);
	want = unit_read_data(name, &wlen);
	if (wlen != glen || memcmp(want, got, glen) != 0) {
		fprintf(stderr, "  %s differs; got:\n%s\n", name, got);
		exit(1);
	}
	free(want);
	free(got);
}

static const char *
text(xmlDocPtr doc, const char *path)
{
	static char	buf[8192];

	if (xmlsafe_text(xmlsafe_path(xmlDocGetRootElement(doc), NS, path), buf,
	    sizeof(buf)) != 0)
		return NULL;
	return buf;
}

/* Signs with the bank's test key, serializes, parses the bytes again and
 * verifies them against the dev CA: what the regulator does. */
static xmlDocPtr
signed_round_trip(xmlDocPtr doc)
{
	struct signer		*s;
	struct perr		 err;
	xmlSecKeysMngrPtr	 mngr;
	xmlSecDSigCtxPtr	 ctx;
	xmlNodePtr		 sig;
	xmlDocPtr		 back;
	char			*bytes;
	size_t			 len = 0;

	CHECK(xmlsig_init() == 0);
	CHECK((s = xmlsig_signer_load(SIGDATA "bank-sign.key", SIGDATA "bank-sign.pem",
	    &err)) != NULL);
	CHECK(xmlsig_sign(s, doc, &err) == 0);
	xmlsig_signer_free(s);
	CHECK((bytes = xmlout_dump(doc, &len)) != NULL);
	CHECK((back = xmlsafe_parse(bytes, len, &err)) != NULL);
	free(bytes);
	valid(back);
	/* the signature is the root's last element, where the schema wants it */
	sig = xmlGetLastChild(xmlDocGetRootElement(back));
	CHECK(sig != NULL && strcmp((const char *)sig->name, "Signature") == 0);

	CHECK((mngr = xmlSecKeysMngrCreate()) != NULL);
	CHECK(xmlSecCryptoAppDefaultKeysMngrInit(mngr) == 0);
	CHECK(xmlSecCryptoAppKeysMngrCertLoad(mngr, SIGDATA "ca.pem",
	    xmlSecKeyDataFormatPem, xmlSecKeyDataTypeTrusted) == 0);
	CHECK((ctx = xmlSecDSigCtxCreate(mngr)) != NULL);
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	CHECK(xmlSecDSigCtxVerify(ctx, sig) == 0);
	CHECK(ctx->status == xmlSecDSigStatusSucceeded);
	xmlSecDSigCtxDestroy(ctx);
	xmlSecKeysMngrDestroy(mngr);
	return back;
}

static struct alert_msg
balance_short_msg(void)
{
	struct alert_msg m = {
		.id = "b6f1c2d0-5a3e-4f7b-9c1d-2e8a7f3b4c5d",
		.kind = "BALANCE_SHORT",
		.raised_at = "2026-11-21T09:30:00+08:00",
		.project_code = "XM-2026-0001",
		.project_name = "Demo Housing Project",
		.region = "410183",
		.industry = "housing",
		.account = "6228480000000000001",
		.has_balance = true, .balance = 1200000,
		.has_required = true, .required = 8650050,
		.has_shortfall = true, .shortfall = 7450050,
		.month = "2026-10",
		.msg_id = "SHEET-6",
		.detail = "wage sheet held: the dedicated account cannot pay it",
	};

	return m;
}

static void
balance_short(void)
{
	struct alert_msg m = balance_short_msg();
	struct perr	 err;
	xmlDocPtr	 doc, back;

	CHECK((doc = alert_build(&m, &err)) != NULL);
	valid(doc);
	golden(doc, "alert/balance-short.xml");
	CHECK_STR(text(doc, "Shortfall"), "74500.50");
	CHECK(text(doc, "EndToEndId") == NULL);		/* left out */
	back = signed_round_trip(doc);
	CHECK_STR(text(back, "Id"), "b6f1c2d0-5a3e-4f7b-9c1d-2e8a7f3b4c5d");
	CHECK_STR(text(back, "Project/Region"), "410183");
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
}

static void
accounts_opened(void)
{
	static const struct alert_opened opened[] = {
		{ "XM-2026-0001", "Demo Housing Project", "6228480000000000001",
		  "2026-10-05T10:12:00+08:00" },
		{ "XM-2026-0002", "郑州至开封城际公路改建", "6228480000000000002",
		  "2026-10-20T15:40:00+08:00" },
	};
	struct alert_msg m = {
		.id = "1f0c7a8e-0000-4000-8000-000000000001",
		.kind = "ACCOUNTS_OPENED",
		.raised_at = "2026-11-01T00:01:00+08:00",
		.month = "2026-10",
		.detail = "2 dedicated wage accounts opened in 2026-10 in region 4101*",
		.opened = opened, .nopened = 2,
	};
	struct perr	 err;
	xmlDocPtr	 doc, back;

	CHECK((doc = alert_build(&m, &err)) != NULL);
	valid(doc);
	golden(doc, "alert/accounts-opened.xml");
	CHECK(text(doc, "Project/Code") == NULL);
	back = signed_round_trip(doc);
	CHECK_STR(text(back, "Opened/Name"), "Demo Housing Project");
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
}

/* The monthly GUARANTEES ledger (issue #21): no project, a Guarantee per
 * guarantee held; Expires only with a letter. */
static void
guarantees(void)
{
	static const struct alert_guarantee rows[] = {
		{ "XM-2026-0001", "Demo Housing Project", "914101020507452466",
		  "ACCOUNT+LETTER", 200000, 250000, 305000, "2027-01-03" },
		{ "XM-2026-0002", "郑州至开封城际公路改建", "914101020507452466",
		  "ACCOUNT", 75000, 75000, 0, NULL },
	};
	struct alert_msg m = {
		.id = "1f0c7a8e-0000-4000-8000-000000000002",
		.kind = "GUARANTEES",
		.raised_at = "2026-12-01T00:01:00+08:00",
		.month = "2026-11",
		.detail = "2 wage guarantee(s) held in region 4101* at the end of "
		    "2026-11: required 2750.00, held 3250.00, drawn 3050.00 yuan",
		.guarantees = rows, .nguarantees = 2,
	};
	struct perr	 err;
	xmlDocPtr	 doc, back;

	CHECK((doc = alert_build(&m, &err)) != NULL);
	valid(doc);
	golden(doc, "alert/guarantees.xml");
	back = signed_round_trip(doc);
	CHECK_STR(text(back, "Guarantee/Held"), "2500.00");
	CHECK_STR(text(back, "Guarantee/Expires"), "2027-01-03");
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
	/* a ledger row on another kind is refused */
	m = balance_short_msg();
	m.guarantees = rows;
	m.nguarantees = 1;
	CHECK(alert_build(&m, &err) == NULL);
	CHECK(strstr(err.msg, "only GUARANTEES") != NULL);
	CHECK(alert_kind_valid("GUARANTEE_SHORT"));
	CHECK(alert_kind_valid("GUARANTEE_EXPIRING"));
	CHECK(alert_kind_valid("GUARANTEE_RELEASED"));
}

static void
refused(void)
{
	struct alert_msg m;
	struct perr	 err;
	xmlDocPtr	 doc;
	static const struct alert_opened one[] = {
		{ "A", "B", "C", "2026-10-05T10:12:00+08:00" } };

	m = balance_short_msg();
	m.id = "not an id";
	CHECK(alert_build(&m, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	m = balance_short_msg();
	m.id = "";
	CHECK(alert_build(&m, &err) == NULL);
	m = balance_short_msg();
	m.kind = "PAYDAY";
	CHECK(alert_build(&m, &err) == NULL);
	CHECK(strstr(err.msg, "unknown kind") != NULL);
	/* the manual debit and the closing are kinds of their own */
	CHECK(alert_kind_valid("MANUAL_DEBIT"));
	CHECK(alert_kind_valid("ACCOUNT_CLOSED"));
	m = balance_short_msg();
	m.kind = "MANUAL_DEBIT";
	doc = alert_build(&m, &err);
	CHECK(doc != NULL);
	xmlFreeDoc(doc);
	m = balance_short_msg();
	m.region = NULL;		/* a project in part */
	CHECK(alert_build(&m, &err) == NULL);
	m = balance_short_msg();
	m.project_code = m.project_name = m.region = m.industry = NULL;
	CHECK(alert_build(&m, &err) == NULL);	/* BALANCE_SHORT needs its project */
	CHECK(strstr(err.msg, "names its project") != NULL);
	m = balance_short_msg();
	m.account = "";
	CHECK(alert_build(&m, &err) == NULL);
	m = balance_short_msg();
	m.shortfall = -1;
	CHECK(alert_build(&m, &err) == NULL);
	m = balance_short_msg();
	m.detail = NULL;
	CHECK(alert_build(&m, &err) == NULL);
	m = balance_short_msg();
	m.opened = one;
	m.nopened = 1;
	CHECK(alert_build(&m, &err) == NULL);
	/* and the unchanged message is accepted: the refusals above are the
	 * fields', not the message's */
	m = balance_short_msg();
	CHECK((doc = alert_build(&m, &err)) != NULL);
	xmlFreeDoc(doc);
}

/* Whatever the texts hold, the alert stays well-formed and valid: markup
 * escaped, bytes that are not XML characters replaced, Detail cut to 2000
 * characters on a character boundary. */
static void
hostile_text(void)
{
	struct alert_msg m = balance_short_msg();
	struct perr	 err;
	xmlDocPtr	 doc, back;
	char		*detail, *bytes;
	const char	*t;
	size_t		 i, len = 0, chars;

	CHECK((detail = malloc(3 * 3000 + 64)) != NULL);
	strcpy(detail, "<b>&amp;\x01\xff ");
	for (i = 0; i < 3000; i++)
		strcat(detail, "欠");
	m.detail = detail;
	m.project_name = "A & B <Works>";
	CHECK((doc = alert_build(&m, &err)) != NULL);
	valid(doc);
	CHECK((bytes = xmlout_dump(doc, &len)) != NULL);
	CHECK((back = xmlsafe_parse(bytes, len, &err)) != NULL);
	valid(back);
	CHECK_STR(text(back, "Project/Name"), "A & B <Works>");
	CHECK((t = text(back, "Detail")) != NULL);
	CHECK(strncmp(t, "<b>&amp;?? 欠", strlen("<b>&amp;?? 欠")) == 0);
	for (chars = 0, i = 0; t[i] != '\0'; i++)
		chars += ((unsigned char)t[i] & 0xc0) != 0x80;
	CHECK_INT(chars, 2000);
	free(bytes);
	free(detail);
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
}

const struct unit_case alert_cases[] = {
	{ "balance_short", balance_short },
	{ "accounts_opened", accounts_opened },
	{ "guarantees", guarantees },
	{ "refused", refused },
	{ "hostile_text", hostile_text },
	{ NULL, NULL }
};
