/*
 * gen_cost.c: `gen cost`: the daemon's CPU per sheet, by calling the proto/ code it
 * runs.
 */
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "gen.h"

/* ------------------------------------------------------------------ */
/* The daemon's CPU per sheet, stage by stage.                          */

static void
cost_stream(const struct schemas *sch, struct sigtrust *st, const char *body,
    size_t len, struct sheet_verdict *v)
{
	struct sheetstream	*ss;
	struct perr		 err;
	size_t			 off, n;

	if ((ss = sheetstream_new(sch, &err)) == NULL)
		die("sheetstream: %s", err.msg);
	/* in 16 KB pieces, about as libevent hands the body over */
	for (off = 0; off < len; off += n) {
		n = len - off < 16384 ? len - off : 16384;
		if (sheetstream_feed(ss, body + off, n) == -1)
			break;
	}
	sheetstream_finish(ss, st, v);
	sheetstream_free(ss);
}

/*
 * The floor under the daemon's reading, whatever the daemon does with what
 * it reads: libxml2's push parser over the same bytes with no callbacks (no
 * tree, no text kept), then the same with the official pain.001 schema
 * plugged into it, validating as it goes (as the daemon's stream does), but
 * still no tree. No reader that checks the sheet against its schema with
 * libxml2 can cost less than the second. The schema is read from the
 * file, not the daemon's embedded copy: the same bytes (proto/iso20022).
 */
static double
floor_parse(xmlSchemaPtr schema, const char *body, size_t len)
{
	xmlSAXHandler		 sax, *saxp = &sax;
	xmlParserCtxtPtr	 ctxt;
	xmlSchemaValidCtxtPtr	 vctxt = NULL;
	xmlSchemaSAXPlugPtr	 plug = NULL;
	void			*user = NULL;
	size_t			 off, n;
	double			 t0 = now_s();

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	if (schema != NULL) {
		if ((vctxt = xmlSchemaNewValidCtxt(schema)) == NULL ||
		    (plug = xmlSchemaSAXPlug(vctxt, &saxp, &user)) == NULL)
			die("floor: schema plug");
	}
	if ((ctxt = xmlCreatePushParserCtxt(saxp, user, NULL, 0, NULL)) == NULL)
		die("floor: parser");
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING);
	for (off = 0; off < len; off += n) {
		n = len - off < 16384 ? len - off : 16384;
		if (xmlParseChunk(ctxt, body + off, (int)n, 0) != 0)
			die("floor: not well-formed");
	}
	if (xmlParseChunk(ctxt, NULL, 0, 1) != 0 || !ctxt->wellFormed)
		die("floor: not well-formed at the end");
	if (vctxt != NULL && xmlSchemaIsValid(vctxt) != 1)
		die("floor: not valid");
	xmlFreeParserCtxt(ctxt);
	if (plug != NULL)
		xmlSchemaSAXUnplug(plug);
	if (vctxt != NULL)
		xmlSchemaFreeValidCtxt(vctxt);
	return now_s() - t0;
}

static xmlSchemaPtr
floor_schema(void)
{
	xmlSchemaParserCtxtPtr	pc;
	xmlSchemaPtr		schema;

	if ((pc = xmlSchemaNewParserCtxt("proto/iso20022/pain.001.001.10.xsd")) ==
	    NULL || (schema = xmlSchemaParse(pc)) == NULL)
		die("floor: cannot read proto/iso20022/pain.001.001.10.xsd (run "
		    "from the top of the tree)");
	xmlSchemaFreeParserCtxt(pc);
	return schema;
}

/*
 * The daemon's CPU per sheet: the streaming read it runs (parse, schema,
 * canonical form and its SHA-256, the bank profile and the signature,
 * interleaved, so timed as one), and beside it the whole-tree path stage by
 * stage, which tells how the work splits; then proof that a changed amount
 * is refused.
 */
void
cmd_cost(const char *file, const char *ca, int reps)
{
	struct perr		 err;
	struct schemas		*sch;
	struct sigtrust		*st;
	struct sheet		*s;
	struct sheet_verdict	 v;
	xmlDocPtr		 doc;
	char			*body, *tamper, signer[WP_USCC_LEN];
	size_t			 len;
	double			 t[6], sum[6] = { 0 }, floor[2] = { 0 };
	xmlSchemaPtr		 floor_xsd;
	int			 r, i;
	static const char *const stage[] = {
		"the daemon's streaming read (sheetstream)",
		"  tree: parse (xmlsafe_parse)", "  tree: schema (pain.001 XSD)",
		"  tree: signature (C14N, SHA-256, RSA)",
		"  tree: profile (sheet_parse)", "  tree: free"
	};
	static const char *const floor_stage[] = {
		"floor: libxml2 push parse, no tree",
		"floor: the same, validating (pain.001 XSD)"
	};

	perr_clear(&err);
	body = read_file(file, &len);
	if (xmlsig_init() == -1 || (sch = schemas_load(&err)) == NULL ||
	    (st = sigtrust_load(ca, &err)) == NULL)
		die("set-up: %s %s", err.code, err.msg);
	floor_xsd = floor_schema();
	for (r = 0; r < reps; r++) {
		t[0] = now_s();
		cost_stream(sch, st, body, len, &v);
		if (v.status != 0)
			die("stream: %s %s", v.err.code, v.err.msg);
		sheet_free(v.sheet);
		t[1] = now_s();
		if ((doc = xmlsafe_parse(body, len, &err)) == NULL)
			die("parse: %s", err.msg);
		t[2] = now_s();
		if (schemas_validate(sch, XSD_PAIN001, doc, &err) == -1)
			die("schema: %s", err.msg);
		t[3] = now_s();
		if (sigverify_sheet(st, doc, signer, &err) == -1)
			die("signature: %s %s", err.code, err.msg);
		t[4] = now_s();
		if ((s = sheet_parse(doc, &err)) == NULL)
			die("profile: %s", err.msg);
		t[5] = now_s();
		sheet_free(s);
		xmlFreeDoc(doc);
		for (i = 0; i < 5; i++)
			sum[i] += t[i + 1] - t[i];
		sum[5] += now_s() - t[5];
		floor[0] += floor_parse(NULL, body, len);
		floor[1] += floor_parse(floor_xsd, body, len);
	}
	printf("cost of %s (%zu bytes, %d runs): ms per sheet\n", file, len, reps);
	for (i = 0; i < 6; i++)
		printf("  %-44s %8.2f\n", stage[i], 1000 * sum[i] / reps);
	for (i = 0; i < 2; i++)
		printf("  %-44s %8.2f\n", floor_stage[i], 1000 * floor[i] / reps);
	xmlSchemaFree(floor_xsd);

	if ((tamper = strstr(body, "<InstdAmt Ccy=\"CNY\">")) == NULL)
		die("no amount to tamper with");
	tamper[20] = tamper[20] == '9' ? '8' : '9';
	cost_stream(sch, st, body, len, &v);
	printf("  %-44s %8s\n", "  ... a changed amount", strcmp(v.err.code,
	    "WP31") == 0 ? "refused" : "ACCEPTED (bug)");
	if (strcmp(v.err.code, "WP31") != 0)
		die("a changed amount was not refused for its signature");
	sheet_free(v.sheet);
	schemas_free(sch);
	sigtrust_free(st);
	free(body);
}
