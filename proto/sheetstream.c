/*
 * sheetstream.c: reads a wage sheet as a stream (include/sheetstream.h).
 *
 * Why: a 100,000-line sheet is about 80 MB of XML, and as one libxml2 tree
 * (with what verifying it took) it was about 14 KB a line, over a gigabyte.
 * Here the tree grows as bytes are parsed (xmlstream, validating
 * against the pain.001 schema on the way) and each finished transaction is,
 * in document order: written to the exclusive canonical form whose SHA-256
 * the signature must match (proto/c14n.c), read into the sheet's lines
 * (sheet_add_line), searched for signature elements, and freed. What stays
 * is the sheet's frame: Document, CstmrCdtTrfInitn, GrpHdr, the PmtInf's own
 * fields and the signature, all small.
 *
 * The walk keeps a frame for each element of the spine (Document,
 * CstmrCdtTrfInitn, PmtInf): their start tags are written as soon as they
 * are parsed, their children one by one once finished, their end tags
 * when they close. A child is finished when the parser has moved past it
 * (it has a next sibling) or its parent is closed; the last child of an
 * open element is left alone, because libxml2 may still append text to it,
 * and unlinking a node there would leave the parser writing into freed
 * memory.
 *
 * A PmtInf's transactions never enter the tree: each is built in an arena
 * as it is parsed (xmlstream_capture, proto/xmlarena.c) and handled
 * whole at its end tag, then dropped, which costs a fraction of libxml2's
 * node-by-node building and freeing. When a transaction starts, everything
 * of its PmtInf before it is finished, the text just before it included,
 * and is written first: in the canonical form nothing of the PmtInf may
 * come after the transaction that followed it, and that text must not stay
 * the PmtInf's last child, or the text after the transaction would be
 * added to it.
 *
 * Errors are kept, not acted on at once, so that the verdict gives the
 * same precedence as the whole-tree path: not well-formed, not valid
 * against the schema, the signature, the bank profile.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "c14n.h"
#include "sheetstream.h"
#include "xmlstream.h"

/* Document, CstmrCdtTrfInitn, PmtInf. */
#define SPINE_DEPTH	3

struct frame {
	xmlNodePtr	elem;	/* start tag written, end tag not yet */
	xmlNodePtr	done;	/* its last child handled and kept */
};

struct sheetstream {
	struct xmlstream	*xs;
	xmlDocPtr		 doc;		/* the tree so far */
	struct c14n		*c14n;
	EVP_MD_CTX		*c14n_md;	/* of the canonical form */
	EVP_MD_CTX		*body_md;	/* of the bytes as received */
	struct frame		 spine[SPINE_DEPTH];
	int			 depth;		/* frames in use */
	xmlNodePtr		 doc_done;	/* the document's children */
	bool			 root_written;
	size_t			 npmt;		/* PmtInf met so far */
	size_t			 freed;		/* elements freed */
	size_t			 fed;		/* bytes */
	/* the sheet, read as its transactions are finished */
	struct sheet		*sheet;
	bool			 header_read;
	bool			 lines_stopped;
	struct perr		 header_err;
	struct perr		 line_err;
	/* signatures in the freed parts */
	size_t			 signatures;
	struct perr		 scan_err;
	/* a refusal that ends the reading (400) */
	struct perr		 fatal;
	bool			 stopped;
	/* the canonical form's SHA-256, once finished */
	unsigned char		 c14n_sha256[SHA256_LEN];
	bool			 c14n_done;
};

static xmlstream_want_cb	want_transaction;
static xmlstream_done_cb	transaction_done;

static int
digest_sink(void *arg, const unsigned char *buf, size_t len)
{
	return EVP_DigestUpdate(arg, buf, len) == 1 ? 0 : -1;
}

static struct sheetstream *
new_stream(const struct schemas *schemas, bool arena, struct perr *err)
{
	struct sheetstream	*ss;

	perr_clear(err);
	if ((ss = calloc(1, sizeof(*ss))) == NULL) {
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	if ((ss->xs = xmlstream_new(schemas, XSD_PAIN001, err)) == NULL) {
		free(ss);
		return NULL;
	}
	if ((arena && xmlstream_capture(ss->xs, want_transaction,
	    transaction_done, ss) == -1) ||
	    (ss->c14n_md = EVP_MD_CTX_new()) == NULL ||
	    (ss->body_md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ss->c14n_md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(ss->body_md, EVP_sha256(), NULL) != 1 ||
	    (ss->c14n = c14n_new(digest_sink, ss->c14n_md)) == NULL ||
	    (ss->sheet = sheet_new(err)) == NULL) {
		sheetstream_free(ss);
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	return ss;
}

struct sheetstream *
sheetstream_new(const struct schemas *schemas, struct perr *err)
{
	return new_stream(schemas, true, err);
}

struct sheetstream *
sheetstream_new_reference(const struct schemas *schemas, struct perr *err)
{
	return new_stream(schemas, false, err);
}

void
sheetstream_free(struct sheetstream *ss)
{
	if (ss == NULL)
		return;
	xmlstream_free(ss->xs);
	c14n_free(ss->c14n);
	EVP_MD_CTX_free(ss->c14n_md);
	EVP_MD_CTX_free(ss->body_md);
	sheet_free(ss->sheet);
	free(ss);
}

static bool
is_pain(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    n->ns->href != NULL && strcmp((const char *)n->ns->href,
	    PAIN001_NS) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* Still being parsed: the innermost open element or one of its ancestors. */
static bool
is_open(const struct sheetstream *ss, xmlNodePtr n)
{
	xmlNodePtr	o;

	for (o = xmlstream_open(ss->xs); o != NULL &&
	    o->type == XML_ELEMENT_NODE; o = o->parent)
		if (o == n)
			return true;
	return false;
}

/* Is c, a child element of the frame at depth, the next frame? Asked
 * from depth 1 on: the root (names[0]) is taken whatever its name, and
 * the schema refuses any other. */
static bool
is_spine(int depth, xmlNodePtr c)
{
	static const char *const names[SPINE_DEPTH] = { "Document",
	    "CstmrCdtTrfInitn", "PmtInf" };

	return depth < SPINE_DEPTH && is_pain(c, names[depth]);
}

/* A finished CdtTrfTxInf of the first PmtInf: into the sheet. */
static void
read_transaction(struct sheetstream *ss, xmlNodePtr tx)
{
	if (ss->npmt != 1 || xmlstream_invalid(ss->xs))
		ss->lines_stopped = true;
	if (ss->lines_stopped) {
		ss->sheet->seen++;	/* counted for sheet_check_count */
		return;
	}
	if (!ss->header_read) {
		ss->header_read = true;
		if (sheet_read_header(ss->sheet, ss->doc,
		    &ss->header_err) == -1) {
			ss->lines_stopped = true;
			ss->sheet->seen++;
			return;
		}
	}
	if (sheet_add_line(ss->sheet, tx, &ss->line_err) == -1)
		ss->lines_stopped = true;
}

/* A whole transaction of a PmtInf: written, read, searched for
 * signature elements; its elements counted as freed (its caller frees
 * it). */
static void
handle_transaction(struct sheetstream *ss, xmlNodePtr tx)
{
	size_t	before = c14n_elements(ss->c14n);

	(void)c14n_node(ss->c14n, tx, ss->root_written);
	ss->freed += c14n_elements(ss->c14n) - before;
	read_transaction(ss, tx);
	/* the first ds:Object or ds:Manifest is kept in scan_err */
	if (!perr_isset(&ss->scan_err) &&
	    sigverify_scan(tx, &ss->signatures, &ss->scan_err) == -1)
		ss->lines_stopped = true;
}

/*
 * A finished child c of the frame f, at depth (of f's children). A
 * canonicalisation error is not acted on here: it sticks in c14n, the
 * signature check reports it, and the walk goes on freeing what it can.
 */
static void
handle_child(struct sheetstream *ss, struct frame *f, int depth, xmlNodePtr c)
{
	bool	in_pmt = depth == SPINE_DEPTH;
	bool	tx = in_pmt && is_pain(c, "CdtTrfTxInf");

	if (tx)		/* built by libxml2: sheetstream_new_reference */
		handle_transaction(ss, c);
	else
		(void)c14n_node(ss->c14n, c, ss->root_written);
	if (!in_pmt || (c->type == XML_ELEMENT_NODE && !tx)) {
		f->done = c;	/* the spine's and the PmtInf's own fields */
		return;
	}
	/* transactions, and the text and the rest between them: freed */
	xmlUnlinkNode(c);
	xmlFreeNode(c);
}

/* The next child to look at in a frame, or at the document level. */
static xmlNodePtr
next_child(xmlNodePtr parent, xmlNodePtr done)
{
	return done != NULL ? done->next : parent->children;
}

/* Writes, reads and frees all of doc that is finished. */
static void
drain(struct sheetstream *ss, xmlDocPtr doc)
{
	struct frame	*f;
	xmlNodePtr	 c;

	if ((ss->doc = doc) == NULL)
		return;
	for (;;) {
		if (ss->depth == 0) {
			/* the document's own children: the root, and any
			 * processing instruction or comment beside it */
			c = next_child((xmlNodePtr)doc, ss->doc_done);
			if (c == NULL)
				return;
			if (c->type == XML_ELEMENT_NODE && !ss->root_written) {
				(void)c14n_start(ss->c14n, c);
				ss->spine[0].elem = c;
				ss->spine[0].done = NULL;
				ss->depth = 1;
				continue;
			}
			/* a processing instruction or comment: complete as
			 * soon as it is there */
			(void)c14n_node(ss->c14n, c, ss->root_written);
			ss->doc_done = c;
			continue;
		}
		f = &ss->spine[ss->depth - 1];
		c = next_child(f->elem, f->done);
		if (c == NULL) {
			if (is_open(ss, f->elem))
				return;
			(void)c14n_end(ss->c14n, f->elem);
			ss->depth--;
			if (ss->depth == 0) {
				ss->root_written = true;
				ss->doc_done = f->elem;
			} else
				ss->spine[ss->depth - 1].done = f->elem;
			continue;
		}
		if (is_spine(ss->depth, c)) {
			if (ss->depth == SPINE_DEPTH - 1)
				ss->npmt++;
			(void)c14n_start(ss->c14n, c);
			ss->spine[ss->depth].elem = c;
			ss->spine[ss->depth].done = NULL;
			ss->depth++;
			continue;
		}
		/* finished only once the parser is past it */
		if (c->next == NULL && is_open(ss, f->elem))
			return;
		handle_child(ss, f, ss->depth, c);
	}
}

/*
 * Asked by the parser at each element that starts: a CdtTrfTxInf in a
 * PmtInf of the spine is built in the arena. Before saying so, all of the
 * PmtInf so far is written and its text freed (the header of this file
 * says why), the last child included: the parser is past it.
 */
static bool
want_transaction(void *arg, xmlNodePtr parent, const xmlChar *localname,
    const xmlChar *uri)
{
	struct sheetstream	*ss = arg;
	struct frame		*f;
	xmlNodePtr		 c;

	if (uri == NULL || strcmp((const char *)localname, "CdtTrfTxInf") != 0 ||
	    strcmp((const char *)uri, PAIN001_NS) != 0)
		return false;
	drain(ss, xmlstream_doc(ss->xs));
	f = &ss->spine[SPINE_DEPTH - 1];
	if (ss->depth != SPINE_DEPTH || f->elem != parent)
		return false;
	while ((c = next_child(f->elem, f->done)) != NULL)
		handle_child(ss, f, SPINE_DEPTH, c);
	return true;
}

/* A transaction's end tag: the whole of it, from the arena. */
static void
transaction_done(void *arg, xmlNodePtr tx)
{
	handle_transaction(arg, tx);
}

static void
stop(struct sheetstream *ss, const char *code, const char *msg)
{
	if (!ss->stopped)
		perr_set(&ss->fatal, code, "%s", msg);
	ss->stopped = true;
}

int
sheetstream_feed(struct sheetstream *ss, const char *buf, size_t len)
{
	if (ss->stopped)
		return -1;
	ss->fed += len;
	if (EVP_DigestUpdate(ss->body_md, buf, len) != 1) {
		stop(ss, "FF01", "out of memory");
		return -1;
	}
	if (xmlstream_feed(ss->xs, buf, len) == -1) {
		ss->stopped = true;	/* finish says why */
		return -1;
	}
	drain(ss, xmlstream_doc(ss->xs));
	if (xmlstream_elements(ss->xs) - ss->freed >
	    SHEETSTREAM_MAX_LIVE_ELEMENTS) {
		stop(ss, "FF01", "document too large for a sheet: more than "
		    "20000 XML elements in its header, its signature or one "
		    "transaction");
		return -1;
	}
	return 0;
}

/* MsgId as written, for the report of a sheet refused before its profile
 * was read. */
static void
peek_msg_id(xmlDocPtr doc, char *out, size_t len)
{
	xmlNodePtr	n;

	out[0] = '\0';
	n = xmlsafe_path(xmlDocGetRootElement(doc), PAIN001_NS,
	    "CstmrCdtTrfInitn/GrpHdr/MsgId");
	if (n == NULL || xmlsafe_text(n, out, len) == -1)
		out[0] = '\0';
}

/* The signature, against the canonical form hashed on the way. */
static int
check_signature(struct sheetstream *ss, xmlDocPtr doc, struct sigtrust *trust,
    char signer[WP_USCC_LEN], struct perr *err)
{
	unsigned char	md[SHA256_LEN];

	if (perr_isset(&ss->scan_err)) {
		*err = ss->scan_err;
		return -1;
	}
	if (c14n_flush(ss->c14n) == -1 ||
	    EVP_DigestFinal_ex(ss->c14n_md, md, NULL) != 1)
		return perr_set(err, "WP30", "could not canonicalise the sheet");
	memcpy(ss->c14n_sha256, md, SHA256_LEN);
	ss->c14n_done = true;
	return sigverify_digest(trust, doc, md, ss->signatures, signer,
	    err);
}

/* The bank profile, in sheet_parse's order of errors. */
static int
check_profile(struct sheetstream *ss, xmlDocPtr doc, struct perr *err)
{
	if (sheet_check_frame(doc, err) == -1)
		return -1;
	if (perr_isset(&ss->header_err)) {
		*err = ss->header_err;
		return -1;
	}
	if (!ss->header_read && sheet_read_header(ss->sheet, doc, err) == -1)
		return -1;
	if (sheet_check_count(ss->sheet, err) == -1)
		return -1;
	if (perr_isset(&ss->line_err)) {
		*err = ss->line_err;
		return -1;
	}
	return sheet_close(ss->sheet, doc, err);
}

int
sheetstream_c14n_sha256(const struct sheetstream *ss,
    unsigned char md[SHA256_LEN])
{
	if (!ss->c14n_done)
		return -1;
	memcpy(md, ss->c14n_sha256, SHA256_LEN);
	return 0;
}

const struct sheet *
sheetstream_sheet(const struct sheetstream *ss)
{
	if (ss->sheet == NULL || !ss->header_read || ss->lines_stopped ||
	    perr_isset(&ss->header_err))
		return NULL;
	return ss->sheet;
}

void
sheetstream_finish(struct sheetstream *ss, struct sigtrust *trust,
    struct sheet_verdict *out)
{
	xmlDocPtr	doc = NULL;
	char		signer[WP_USCC_LEN];
	int		rc;

	memset(out, 0, sizeof(*out));
	EVP_DigestFinal_ex(ss->body_md, out->body_sha256, NULL);
	if (ss->fed == 0)
		stop(ss, "FF01", "empty document");
	if (perr_isset(&ss->fatal)) {
		out->status = 400;
		out->err = ss->fatal;
		if ((doc = xmlstream_doc(ss->xs)) != NULL)
			peek_msg_id(doc, out->msg_id, sizeof(out->msg_id));
		return;
	}
	rc = xmlstream_finish(ss->xs, &doc, &out->err);
	if (rc == -1) {
		out->status = 400;
		return;
	}
	if (strcmp(xmlsafe_root_ns(doc), PAIN001_NS) != 0) {
		perr_set(&out->err, "FF01", "expected a pain.001.001.10 document "
		    "(%s), not namespace \"%.100s\"", PAIN001_NS,
		    xmlsafe_root_ns(doc));
		out->status = 400;
		goto done;
	}
	peek_msg_id(doc, out->msg_id, sizeof(out->msg_id));
	if (rc == 1) {
		out->status = 400;
		goto done;
	}
	/* all is closed now: the rest of the canonical form */
	drain(ss, doc);
	out->status = 200;
	if (check_signature(ss, doc, trust, signer, &out->err) == -1 ||
	    check_profile(ss, doc, &out->err) == -1)
		goto done;
	if (strcmp(signer, ss->sheet->subcontractor) != 0) {
		perr_set(&out->err, "WP33", "the sheet is signed by another "
		    "company than its subcontractor (UltmtDbtr)");
		goto done;
	}
	out->status = 0;
	out->sheet = ss->sheet;
	ss->sheet = NULL;
done:
	xmlFreeDoc(doc);
}
