/*
 * gen_cost.c: `gen cost`: the daemon's CPU per sheet, by calling the proto/ code it
 * runs.
 */
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
	double			 t[6], sum[6] = { 0 };
	int			 r, i;
	static const char *const stage[] = {
		"the daemon's streaming read (sheetstream)",
		"  tree: parse (xmlsafe_parse)", "  tree: schema (pain.001 XSD)",
		"  tree: signature (C14N, SHA-256, RSA)",
		"  tree: profile (sheet_parse)", "  tree: free"
	};

	perr_clear(&err);
	body = read_file(file, &len);
	if (xmlsig_init() == -1 || (sch = schemas_load(&err)) == NULL ||
	    (st = sigtrust_load(ca, &err)) == NULL)
		die("set-up: %s %s", err.code, err.msg);
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
		if (sigtrust_verify_sheet(st, doc, signer, &err) == -1)
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
	}
	printf("cost of %s (%zu bytes, %d runs): ms per sheet\n", file, len, reps);
	for (i = 0; i < 6; i++)
		printf("  %-44s %8.2f\n", stage[i], 1000 * sum[i] / reps);

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
