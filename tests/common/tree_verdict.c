/*
 * tree_verdict.c: the whole-tree reference for proto/sheetstream.c
 * (tree_verdict.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_verdict.h"

void
tree_verdict(const struct schemas *schemas, struct sigtrust *trust,
    const char *buf, size_t len, struct sheet_verdict *v)
{
	xmlDocPtr	doc;
	xmlNodePtr	n;
	char		signer[WP_USCC_LEN];

	memset(v, 0, sizeof(*v));
	if ((doc = xmlsafe_parse(buf, len, &v->err)) == NULL) {
		v->status = 400;
		return;
	}
	v->status = 400;
	if (strcmp(xmlsafe_root_ns(doc), PAIN001_NS) != 0) {
		perr_set(&v->err, "FF01", "expected a pain.001.001.10 document "
		    "(%s), not namespace \"%.100s\"", PAIN001_NS,
		    xmlsafe_root_ns(doc));
		goto done;
	}
	n = xmlsafe_path(xmlDocGetRootElement(doc), PAIN001_NS,
	    "CstmrCdtTrfInitn/GrpHdr/MsgId");
	if (n == NULL || xmlsafe_text(n, v->msg_id, sizeof(v->msg_id)) == -1)
		v->msg_id[0] = '\0';
	if (schemas_validate(schemas, XSD_PAIN001, doc, &v->err) == -1)
		goto done;
	v->status = 200;
	if (sigverify_sheet(trust, doc, signer, &v->err) == -1 ||
	    (v->sheet = sheet_parse(doc, &v->err)) == NULL)
		goto done;
	if (strcmp(signer, v->sheet->subcontractor) != 0) {
		perr_set(&v->err, "WP33", "the sheet is signed by another "
		    "company than its subcontractor (UltmtDbtr)");
		goto done;
	}
	v->status = 0;
done:
	if (v->status != 0) {
		sheet_free(v->sheet);
		v->sheet = NULL;
	}
	xmlFreeDoc(doc);
}

static void
stream_verdict_of(const struct schemas *schemas, struct sigtrust *trust,
    const char *buf, size_t len, size_t piece, bool arena,
    struct sheet_verdict *v, unsigned char c14n[SHA256_LEN], int *c14n_rc)
{
	struct sheetstream	*ss;
	struct perr		 err;
	size_t			 off, n;

	if ((ss = arena ? sheetstream_new(schemas, &err) :
	    sheetstream_new_reference(schemas, &err)) == NULL)
		abort();
	if (piece == 0)
		piece = 1;
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		if (sheetstream_feed(ss, buf + off, n) == -1)
			break;
	}
	sheetstream_finish(ss, trust, v);
	if (c14n_rc != NULL)
		*c14n_rc = sheetstream_c14n_sha256(ss, c14n);
	sheetstream_free(ss);
}

void
stream_verdict(const struct schemas *schemas, struct sigtrust *trust,
    const char *buf, size_t len, size_t piece, struct sheet_verdict *v)
{
	stream_verdict_of(schemas, trust, buf, len, piece, true, v, NULL, NULL);
}

const char *
arena_differs(const struct schemas *schemas, struct sigtrust *trust,
    const char *buf, size_t len, size_t piece)
{
	struct sheet_verdict	 a, b;
	unsigned char		 ca[SHA256_LEN], cb[SHA256_LEN];
	int			 ra, rb;
	const char		*why;

	stream_verdict_of(schemas, trust, buf, len, piece, true, &a, ca, &ra);
	stream_verdict_of(schemas, trust, buf, len, piece, false, &b, cb, &rb);
	why = verdict_differs(&b, &a);
	if (why == NULL && (ra != rb || (ra == 0 && memcmp(ca, cb,
	    SHA256_LEN) != 0)))
		why = "canonical form";
	if (why != NULL)
		fprintf(stderr, "    libxml2's tree: %d %s %s\n    arena:          "
		    "%d %s %s\n", b.status, b.err.code, b.err.msg, a.status,
		    a.err.code, a.err.msg);
	sheet_free(a.sheet);
	sheet_free(b.sheet);
	return why;
}

/*
 * The same message, but for what two libxml2 parsers may word differently:
 * the push parser reports the first bad byte of a broken document where
 * the memory parser may report where it gave up (NUL bytes: "Char 0x0 out
 * of allowed range" against "Premature end of data"); both are refusals as
 * not well-formed. And a schema error about an element's missing content
 * names, streaming, the line of its end tag rather than of its start tag.
 */
static int
same_message(const char *a, const char *b)
{
	static const char	nwf[] = "XML not well-formed";
	static const char	inv[] = "not valid against ";
	const char		*ra, *rb;

	if (strncmp(a, nwf, sizeof(nwf) - 1) == 0 &&
	    strncmp(b, nwf, sizeof(nwf) - 1) == 0)
		return 1;
	if (strncmp(a, inv, sizeof(inv) - 1) == 0 &&
	    strncmp(b, inv, sizeof(inv) - 1) == 0 &&
	    (ra = strstr(a, ": ")) != NULL && (rb = strstr(b, ": ")) != NULL)
		return strcmp(ra, rb) == 0;
	return strcmp(a, b) == 0;
}

const char *
verdict_differs(const struct sheet_verdict *a, const struct sheet_verdict *b)
{
	const struct sheet	*x = a->sheet, *y = b->sheet;
	size_t			 i;

	if (a->status != b->status)
		return "status";
	if (strcmp(a->err.code, b->err.code) != 0)
		return "code";
	if (!same_message(a->err.msg, b->err.msg))
		return "message";
	if (strcmp(a->msg_id, b->msg_id) != 0)
		return "MsgId";
	if ((x == NULL) != (y == NULL))
		return "sheet";
	if (x == NULL)
		return NULL;
	if (x->nlines != y->nlines || x->ctrl_sum != y->ctrl_sum ||
	    x->nb_of_txs != y->nb_of_txs || strcmp(x->month, y->month) != 0 ||
	    strcmp(x->subcontractor, y->subcontractor) != 0 ||
	    strcmp(x->debtor_account, y->debtor_account) != 0 ||
	    strcmp(x->msg_id, y->msg_id) != 0)
		return "sheet header";
	for (i = 0; i < x->nlines; i++)
		if (strcmp(x->lines[i].end_to_end_id,
		    y->lines[i].end_to_end_id) != 0 ||
		    x->lines[i].amount != y->lines[i].amount ||
		    strcmp(x->lines[i].name, y->lines[i].name) != 0 ||
		    strcmp(x->lines[i].card, y->lines[i].card) != 0 ||
		    strcmp(x->lines[i].err.code, y->lines[i].err.code) != 0)
			return "a line";
	return NULL;
}
