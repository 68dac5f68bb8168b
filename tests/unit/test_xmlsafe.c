/*
 * test_xmlsafe.c: hostile input to xmlsafe_parse, per-context error
 * capture, schema validation, and the tree-walking helpers.
 */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "xmlsafe.h"
#include "unit.h"

static xmlDocPtr
parse_str(const char *s, struct perr *err)
{
	return xmlsafe_parse(s, strlen(s), err);
}

static void
parse_good(void)
{
	struct perr	err;
	xmlDocPtr	doc;

	doc = parse_str("<?xml version=\"1.0\"?>\n<a xmlns=\"urn:x\"><b>1</b></a>",
	    &err);
	CHECK(doc != NULL);
	CHECK(!perr_isset(&err));
	CHECK_STR(xmlsafe_root_ns(doc), "urn:x");
	xmlFreeDoc(doc);
	doc = parse_str("<a/>", &err);
	CHECK(doc != NULL);
	CHECK_STR(xmlsafe_root_ns(doc), "");
	xmlFreeDoc(doc);
	CHECK_STR(xmlsafe_root_ns(NULL), "");
}

/* The classic: ten levels of ten references, a billion "lol"s. */
static void
billion_laughs(void)
{
	static const char doc[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n"
	    "<lolz>&lol9;</lolz>\n";
	struct perr	err;

	CHECK(parse_str(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "DOCTYPE") != NULL);
	CHECK(strstr(err.msg, "line 2") != NULL);
}

static void
xxe_file(void)
{
	static const char doc[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE r [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]>\n"
	    "<r>&x;</r>\n";
	struct perr	err;

	CHECK(parse_str(doc, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "DOCTYPE") != NULL);
	CHECK(strstr(err.msg, "root:") == NULL);
}

/* An external DTD and a parameter entity: neither may be fetched. */
static void
xxe_external_dtd(void)
{
	static const char *const docs[] = {
	    "<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>",
	    "<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/x.dtd\"><r/>",
	    "<!DOCTYPE r [ <!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p; ]><r/>",
	    "<!DOCTYPE r><r/>",
	};
	struct perr	err;
	size_t		i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		CHECK(parse_str(docs[i], &err) == NULL);
		CHECK_STR(err.code, "FF01");
		CHECK(strstr(err.msg, "DOCTYPE") != NULL);
	}
}

/* An undeclared entity is a well-formedness error, not an empty string. */
static void
undeclared_entity(void)
{
	struct perr	err;

	CHECK(parse_str("<r>&x;</r>", &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "not well-formed at line 1") != NULL);
}

static void
deep_nesting(void)
{
	enum { DEPTH = 10000 };
	char		*buf, *p;
	struct perr	 err;
	int		 i;

	CHECK((buf = malloc(DEPTH * 7 + 1)) != NULL);
	p = buf;
	for (i = 0; i < DEPTH; i++)
		p += sprintf(p, "<a>");
	for (i = 0; i < DEPTH; i++)
		p += sprintf(p, "</a>");
	CHECK(xmlsafe_parse(buf, (size_t)(p - buf), &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "not well-formed") != NULL);
	free(buf);
}

static void
not_well_formed(void)
{
	struct perr	err;

	CHECK(parse_str("<a>\n<b>\n</a>", &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strncmp(err.msg, "XML not well-formed at line 3: ", 31) == 0);
	CHECK(parse_str("<a></a><b/>", &err) == NULL);
	CHECK_STR(err.code, "FF01");
	/* An undeclared prefix: libxml2 builds a tree, flagging it only as
	 * not namespace-well-formed. */
	CHECK(parse_str("<a>\n<p:b/></a>", &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "at line 2") != NULL);
	CHECK(parse_str("just text", &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(xmlsafe_parse("", 0, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	/* Truncated: the length, not the NUL, ends the input. */
	CHECK(xmlsafe_parse("<a></a>", 5, &err) == NULL);
	CHECK_STR(err.code, "FF01");
}

/* Refused on the length alone: the buffer is 4 bytes, the claimed length
 * one more than the limit; reading it would crash under ASan. */
static void
oversized(void)
{
	struct perr	err;

	CHECK(xmlsafe_parse("<a/>", (size_t)WP_MAX_TREE + 1, &err) == NULL);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "larger than") != NULL);
	CHECK(xmlsafe_parse("<a/>", SIZE_MAX, &err) == NULL);
	CHECK_STR(err.code, "FF01");
}

/* The tree is the document as sent: blanks kept, entities of the five
 * predefined kinds and character references read as text, CDATA kept. */
static void
content_unchanged(void)
{
	struct perr	 err;
	xmlDocPtr	 doc;
	xmlNodePtr	 root;
	char		 buf[32];

	doc = parse_str("<a>\n  <b> x &amp; &#x4E2D; </b>\n  <c><![CDATA[<y>]]></c>\n</a>",
	    &err);
	CHECK(doc != NULL);
	root = xmlDocGetRootElement(doc);
	CHECK(root->children != NULL);
	CHECK(root->children->type == XML_TEXT_NODE);	/* the blank */
	CHECK(xmlsafe_text(xmlsafe_child(root, NULL, "b"), buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "x & \xe4\xb8\xad");
	CHECK(xmlsafe_child(root, NULL, "c")->children->type == XML_CDATA_SECTION_NODE);
	CHECK(xmlsafe_text(xmlsafe_child(root, NULL, "c"), buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "<y>");
	xmlFreeDoc(doc);

	/* A value in several pieces (text, comment, CDATA) reads as one. */
	doc = parse_str("<a><s> a<!-- c -->b <![CDATA[c]]>\n</s></a>", &err);
	CHECK(doc != NULL);
	root = xmlDocGetRootElement(doc);
	CHECK(xmlsafe_text(xmlsafe_child(root, NULL, "s"), buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "ab c");
	xmlFreeDoc(doc);
}

/* Nothing reaches stderr, nor a global handler someone else installed:
 * errors stay with the parse that made them. */
static int	global_errors;

static void
global_handler(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
	global_errors++;
}

static void
errors_stay_local(void)
{
	struct perr	 err;
	FILE		*tmp;
	int		 saved;
	long		 size;

	xmlSetStructuredErrorFunc(NULL, global_handler);
	CHECK((tmp = tmpfile()) != NULL);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	CHECK(parse_str("<a><b></a>", &err) == NULL);
	CHECK(parse_str("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", &err) == NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	size = ftell(tmp);
	fclose(tmp);
	CHECK_INT(size, 0);
	CHECK_INT(global_errors, 0);
	xmlSetStructuredErrorFunc(NULL, NULL);
}

struct thread_arg {
	int	line;		/* where this thread's document breaks */
	int	ok;
};

static void *
parse_thread(void *p)
{
	struct thread_arg	*a = p;
	char			 doc[256], want[64];
	struct perr		 err;
	int			 i, n;

	n = snprintf(doc, sizeof(doc), "<a>");
	for (i = 1; i < a->line; i++)
		n += snprintf(doc + n, sizeof(doc) - (size_t)n, "\n");
	snprintf(doc + n, sizeof(doc) - (size_t)n, "<b></c></a>");
	snprintf(want, sizeof(want), "at line %d:", a->line);
	a->ok = 1;
	for (i = 0; i < 500; i++) {
		if (xmlsafe_parse(doc, strlen(doc), &err) != NULL ||
		    strstr(err.msg, want) == NULL)
			a->ok = 0;
	}
	return NULL;
}

static void
threads(void)
{
	pthread_t		t[4];
	struct thread_arg	a[4];
	int			i;

	xmlInitParser();
	for (i = 0; i < 4; i++) {
		a[i].line = i + 1;
		CHECK(pthread_create(&t[i], NULL, parse_thread, &a[i]) == 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(a[i].ok);
	}
}

static void
helpers(void)
{
	static const char src[] =
	    "<r xmlns=\"urn:a\" xmlns:o=\"urn:o\">"
	    "<o:x>other</o:x><x> one </x><x>two</x>"
	    "<p><q><s>\n deep\t</s></q></p>"
	    "<mixed>a<i/>b</mixed><empty/>"
	    "</r>";
	struct perr	 err;
	xmlDocPtr	 doc;
	xmlNodePtr	 root;
	char		 buf[8], *s;

	CHECK((doc = parse_str(src, &err)) != NULL);
	root = xmlDocGetRootElement(doc);
	CHECK(xmlsafe_text(xmlsafe_child(root, "urn:a", "x"), buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "one");
	CHECK(xmlsafe_text(xmlsafe_child(root, "urn:o", "x"), buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "other");
	CHECK(xmlsafe_child(root, NULL, "x") == NULL);
	CHECK(xmlsafe_child(root, "urn:a", "nope") == NULL);
	CHECK(xmlsafe_text(xmlsafe_path(root, "urn:a", "p/q/s"), buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "deep");
	CHECK(xmlsafe_path(root, "urn:a", "p/q/t") == NULL);
	CHECK(xmlsafe_path(root, "urn:a", "p//s") == NULL);
	CHECK(xmlsafe_path(root, "urn:a", "p/q") ==
	    xmlsafe_child(xmlsafe_child(root, "urn:a", "p"), "urn:a", "q"));
	/* Too long for the buffer: -1, never a truncated value. */
	CHECK(xmlsafe_text(xmlsafe_child(root, "urn:a", "x"), buf, 3) == -1);
	CHECK(xmlsafe_text(NULL, buf, sizeof(buf)) == -1);
	/* An element with element children has no text. */
	CHECK(xmlsafe_text(xmlsafe_child(root, "urn:a", "mixed"), buf, sizeof(buf)) == -1);
	CHECK(xmlsafe_text(xmlsafe_child(root, "urn:a", "empty"), buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "");
	CHECK((s = xmlsafe_strdup(xmlsafe_path(root, "urn:a", "p/q/s"))) != NULL);
	CHECK_STR(s, "deep");
	free(s);
	CHECK(xmlsafe_strdup(NULL) == NULL);
	xmlFreeDoc(doc);
}

static const char line_ok[] =
    "<Line xmlns=\"urn:wagepay:line:1\">\n"
    "  <GrossPay>5200.00</GrossPay>\n"
    "  <DaysWorked>22</DaysWorked>\n"
    "  <Confirmation><At>2026-10-31T18:00:00+08:00</At>"
    "<Method>SIGN</Method><Ref>CF-1</Ref></Confirmation>\n"
    "</Line>\n";

static void
schemas_all_load(void)
{
	struct perr	 err;
	struct schemas	*s;

	s = schemas_load(&err);
	if (s == NULL)
		fprintf(stderr, "  %s %s\n", err.code, err.msg);
	CHECK(s != NULL);
	schemas_free(s);
	schemas_free(NULL);
}

static void
schemas_valid_and_not(void)
{
	struct perr	 err;
	struct schemas	*s;
	xmlDocPtr	 doc;
	char		*bad, *p;

	CHECK((s = schemas_load(&err)) != NULL);
	CHECK((doc = parse_str(line_ok, &err)) != NULL);
	CHECK(schemas_validate(s, XSD_LINE, doc, &err) == 0);
	CHECK(!perr_isset(&err));
	/* The right document against the wrong schema. */
	CHECK(schemas_validate(s, XSD_PAIN001, doc, &err) == -1);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "pain.001.001.10") != NULL);
	CHECK(strstr(err.msg, "line 1") != NULL);
	xmlFreeDoc(doc);

	/* DaysWorked 32, on line 3. */
	bad = strdup(line_ok);
	p = strstr(bad, ">22<");
	memcpy(p, ">32<", 4);
	CHECK((doc = parse_str(bad, &err)) != NULL);
	CHECK(schemas_validate(s, XSD_LINE, doc, &err) == -1);
	CHECK_STR(err.code, "FF01");
	CHECK(strstr(err.msg, "at line 3: ") != NULL);
	CHECK(strstr(err.msg, "DaysWorked") != NULL);
	/* Clark prefixes are dropped to keep the message short. */
	CHECK(strstr(err.msg, "{urn:") == NULL);
	xmlFreeDoc(doc);
	free(bad);
	CHECK(schemas_validate(s, XSD__COUNT, NULL, &err) == -1);
	schemas_free(s);
}

/* A value quoted in a schema error is masked: the message goes into
 * pain.002 and log lines, which must never carry a full ID number. */
static void
schemas_message_masked(void)
{
	static const char doc_src[] =
	    "<Line xmlns=\"urn:wagepay:line:1\">"
	    "<GrossPay>5200.00</GrossPay><DaysWorked>22</DaysWorked>"
	    "<Confirmation><At>2026-10-31T18:00:00+08:00</At>"
	    "<Method>SIGN</Method><Ref>410102198511205616 \xe5\xbc\xa0</Ref>"
	    "</Confirmation></Line>";
	struct perr	 err;
	struct schemas	*s;
	xmlDocPtr	 doc;

	CHECK((s = schemas_load(&err)) != NULL);
	CHECK((doc = parse_str(doc_src, &err)) != NULL);
	CHECK(schemas_validate(s, XSD_LINE, doc, &err) == -1);
	CHECK(strstr(err.msg, "Ref") != NULL);
	CHECK(strstr(err.msg, "410102198511205616") == NULL);
	CHECK(strstr(err.msg, "\xe5\xbc\xa0") == NULL);
	CHECK(strstr(err.msg, "***") != NULL);
	/* The pattern, which is ours, is shown. */
	CHECK(strstr(err.msg, "[!-~]{1,70}") != NULL);
	xmlFreeDoc(doc);

	/* An ASCII value is shown as first 4, last 4. */
	CHECK((doc = parse_str("<Line xmlns=\"urn:wagepay:line:1\">"
	    "<GrossPay>410102198511205616</GrossPay></Line>", &err)) != NULL);
	CHECK(schemas_validate(s, XSD_LINE, doc, &err) == -1);
	CHECK(strstr(err.msg, "410102198511205616") == NULL);
	CHECK(strstr(err.msg, "'4101**********5616'") != NULL);
	xmlFreeDoc(doc);
	schemas_free(s);
}

/*
 * A text node longer than libxml2's tree builder holds (XML_MAX_TEXT_LENGTH,
 * 10,000,000 characters) makes it stop the parser without counting the
 * document as broken: the tree was the document cut short there, and a
 * roster or a core notification would have been read without what follows.
 * Refused, as the streaming parse refuses it; 9,999,999 characters are read.
 */
static void
huge_text_not_cut_short(void)
{
	struct perr	 err;
	xmlDocPtr	 doc;
	char		*buf;
	size_t		 len, k, i;

	/* k times "ab&lt;": 3k characters, the last 3,333,334 times over */
	for (k = 3333333; k <= 3333334; k++) {
		CHECK((buf = malloc(6 * k + 64)) != NULL);
		len = (size_t)sprintf(buf, "<r><t>");
		for (i = 0; i < k; i++, len += 6)
			memcpy(buf + len, "ab&lt;", 6);
		len += (size_t)sprintf(buf + len, "</t><after/></r>");
		doc = xmlsafe_parse(buf, len, &err);
		if (k == 3333333) {
			CHECK(doc != NULL);
			CHECK(doc != NULL && xmlsafe_path(xmlDocGetRootElement(doc),
			    NULL, "after") != NULL);
		} else {
			CHECK(doc == NULL);
			CHECK_STR(err.code, "FF01");
			CHECK_STR(err.msg, "XML not well-formed at line 1: "
			    "xmlSAX2Characters: huge text node");
		}
		xmlFreeDoc(doc);
		free(buf);
	}
}

const struct unit_case xmlsafe_cases[] = {
	{ "parse_good", parse_good },
	{ "billion_laughs", billion_laughs },
	{ "xxe_file", xxe_file },
	{ "xxe_external_dtd", xxe_external_dtd },
	{ "undeclared_entity", undeclared_entity },
	{ "deep_nesting", deep_nesting },
	{ "huge_text_not_cut_short", huge_text_not_cut_short },
	{ "not_well_formed", not_well_formed },
	{ "oversized", oversized },
	{ "content_unchanged", content_unchanged },
	{ "errors_stay_local", errors_stay_local },
	{ "threads", threads },
	{ "helpers", helpers },
	{ "schemas_all_load", schemas_all_load },
	{ "schemas_valid_and_not", schemas_valid_and_not },
	{ "schemas_message_masked", schemas_message_masked },
	{ NULL, NULL }
};
