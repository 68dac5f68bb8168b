/*
 * xmlstream.c: the streaming parse of include/xmlstream.h:
 * a push parser with the hardening of proto/xmlsafe.c, validating against
 * a schema as bytes arrive, and the subtrees its caller reads once built in
 * an arena (proto/xmlarena.c) instead of libxml2's tree.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "xmlarena.h"
#include "xmlsafe.h"
#include "xmlstream.h"
#include "xmlsafeint.h"

/*
 * The streaming form: a push parser that builds the tree as bytes arrive,
 * validated against a schema on the way (libxml2's SAX plug, the streaming
 * validation its xmlTextReader uses), so that the caller may free the parts
 * it has finished with (proto/sheetstream.c). The same hardening and the
 * same error precedence as xmlsafe_parse then schemas_validate: a document
 * that is not well-formed is refused as such, even if a schema error came
 * first.
 */
struct xmlstream {
	xmlParserCtxtPtr	 ctxt;
	xmlSchemaValidCtxtPtr	 vctxt;
	xmlSchemaSAXPlugPtr	 plug;
	struct capture		 cap;		/* the parser's */
	struct capture		 vcap;		/* the validation's */
	enum xsd_kind		 kind;
	bool			 failed;	/* not well-formed: stop feeding */
	int			 halted;	/* xmlParseChunk's error, or 0 */
	bool			 oom;		/* stopped for want of memory */
	/* libxml2's tree builder, which the handlers below call for all
	 * that is not captured */
	xmlSAXHandler		 tree;
	/* subtrees built in an arena (xmlstream_capture) */
	struct xmlarena		*arena;
	xmlstream_want_cb		*want;
	xmlstream_done_cb		*done;
	void			*arg;
};

static struct xmlstream *
stream_of(void *data)
{
	xmlParserCtxtPtr	 ctxt = data;

	return ((struct capture *)ctxt->_private)->stream;
}

/* Inside a subtree being captured. */
static bool
capturing(const struct xmlstream *st)
{
	return st->arena != NULL && xmlarena_open(st->arena);
}

/*
 * Stops the parser from inside one of its callbacks, as libxml2's tree
 * builder stops it (xmlSAX2ErrMemory): no more callbacks, the end of the
 * input. Not xmlStopParser, which also empties the input buffer under a
 * parsing loop that may still hold pointers into it (xmlParseCharData
 * crashed on it, with a huge text).
 */
static void
stop_from_callback(struct xmlstream *st, int why)
{
	st->ctxt->errNo = why;
	st->ctxt->instate = XML_PARSER_EOF;
	st->ctxt->disableSAX = 1;
}

/* The arena could not take a node: the document is refused rather than
 * read in part. */
static void
capture_failed(struct xmlstream *st)
{
	st->oom = true;
	stop_from_callback(st, XML_ERR_NO_MEMORY);
}

/*
 * The limit libxml2's tree builder puts on nesting (nodePush, under
 * xmlSAX2StartElementNs): more than xmlParserMaxDepth open elements above
 * a new one is refused as not well-formed, with its message, and the
 * parser stopped. Captured elements are not pushed, so it is counted here.
 */
static bool
too_deep(struct xmlstream *st)
{
	xmlParserCtxtPtr	ctxt = st->ctxt;

	if ((unsigned int)ctxt->nodeNr + xmlarena_depth(st->arena) <=
	    xmlParserMaxDepth || (ctxt->options & XML_PARSE_HUGE))
		return false;
	if (!st->cap.have) {
		st->cap.have = 1;
		st->cap.line = xmlSAX2GetLineNumber(ctxt);
		snprintf(st->cap.msg, sizeof(st->cap.msg), "Excessive depth in "
		    "document: %u use XML_PARSE_HUGE option", xmlParserMaxDepth);
	}
	ctxt->wellFormed = 0;
	stop_from_callback(st, XML_ERR_INTERNAL_ERROR);
	return true;
}

/*
 * The SAX handlers of a stream: an element starting is counted
 * (xmlstream_elements), and is the root of a captured subtree if the
 * caller wants it; everything inside one goes to the arena, everything
 * else to libxml2's tree builder.
 */
static void
stream_start_cb(void *data, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct xmlstream	*st = stream_of(data);
	xmlParserCtxtPtr	 ctxt = data;

	st->cap.elements++;
	if (capturing(st) || (st->arena != NULL && ctxt->node != NULL &&
	    st->want(st->arg, ctxt->node, localname, uri))) {
		if (too_deep(st))
			return;
		/* the tree builder must not take text after the subtree
		 * for more of what came before it */
		ctxt->nodemem = -1;
		if (xmlarena_start(st->arena, ctxt, ctxt->node, localname,
		    prefix, uri, nb_namespaces, namespaces, nb_attributes,
		    attributes) == -1)
			capture_failed(st);
		return;
	}
	st->tree.startElementNs(data, localname, prefix, uri, nb_namespaces,
	    namespaces, nb_attributes, nb_defaulted, attributes);
}

static void
stream_end_cb(void *data, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct xmlstream	*st = stream_of(data);
	xmlParserCtxtPtr	 ctxt = data;
	xmlNodePtr		 root;

	if (!capturing(st)) {
		st->tree.endElementNs(data, localname, prefix, uri);
		return;
	}
	if ((root = xmlarena_end(st->arena)) != NULL) {
		st->done(st->arg, root);
		xmlarena_reset(st->arena);
		ctxt->nodemem = -1;
	}
}

/* The refusal libxml2's tree builder makes of a text node that grows past
 * XML_MAX_TEXT_LENGTH: the same message, line and stop, so that a sheet
 * gets the same answer whichever builder met the text. */
static void
huge_text(struct xmlstream *st)
{
	if (!st->cap.have) {
		st->cap.have = 1;
		st->cap.line = xmlSAX2GetLineNumber(st->ctxt);
		snprintf(st->cap.msg, sizeof(st->cap.msg),
		    "xmlSAX2Characters: huge text node");
	}
	stop_from_callback(st, XML_ERR_NO_MEMORY);
}

static void
stream_text(void *data, xmlElementType type, const xmlChar *ch, int len)
{
	struct xmlstream	*st = stream_of(data);

	switch (xmlarena_text(st->arena, data, type, ch, len)) {
	case 0:
		break;
	case XMLARENA_HUGE_TEXT:
		huge_text(st);
		break;
	default:
		capture_failed(st);
	}
}

static void
stream_characters_cb(void *data, const xmlChar *ch, int len)
{
	struct xmlstream	*st = stream_of(data);

	if (capturing(st))
		stream_text(data, XML_TEXT_NODE, ch, len);
	else
		st->tree.characters(data, ch, len);
}

static void
stream_whitespace_cb(void *data, const xmlChar *ch, int len)
{
	struct xmlstream	*st = stream_of(data);

	if (!capturing(st))
		st->tree.ignorableWhitespace(data, ch, len);
	else if (st->tree.ignorableWhitespace == st->tree.characters)
		stream_text(data, XML_TEXT_NODE, ch, len);	/* kept blanks */
}

static void
stream_cdata_cb(void *data, const xmlChar *ch, int len)
{
	struct xmlstream	*st = stream_of(data);

	if (capturing(st))
		stream_text(data, XML_CDATA_SECTION_NODE, ch, len);
	else
		st->tree.cdataBlock(data, ch, len);
}

static void
stream_comment_cb(void *data, const xmlChar *value)
{
	struct xmlstream	*st = stream_of(data);

	if (!capturing(st))
		st->tree.comment(data, value);
	else if (xmlarena_comment(st->arena, data, value) == -1)
		capture_failed(st);
}

static void
stream_pi_cb(void *data, const xmlChar *target, const xmlChar *value)
{
	struct xmlstream	*st = stream_of(data);

	if (!capturing(st))
		st->tree.processingInstruction(data, target, value);
	else if (xmlarena_pi(st->arena, data, target, value) == -1)
		capture_failed(st);
}

/* An entity reference reaches SAX only for an entity a DTD declared, and
 * a DOCTYPE is refused first; inside a captured subtree it would have no
 * node to be, so it is refused there too. */
static void
stream_reference_cb(void *data, const xmlChar *name)
{
	struct xmlstream	*st = stream_of(data);

	if (!capturing(st)) {
		st->tree.reference(data, name);
		return;
	}
	st->cap.refused = "reference to an entity";
	st->cap.line = xmlSAX2GetLineNumber(st->ctxt);
	stop_from_callback(st, XML_ERR_USER_STOP);
}

/* A schema error met while streaming has no node to take a line from: the
 * parser's line is where it was found (the start tag, or for what is
 * missing in an element, its end tag). */
static void
stream_schema_error_cb(void *data, xmlErrorPtr e)
{
	struct xmlstream	*st = data;

	if (st->vcap.have)
		return;
	xmlsafe_capture_error(&st->vcap, e);
	if (st->vcap.have && st->vcap.line <= 0)
		st->vcap.line = xmlSAX2GetLineNumber(st->ctxt);
}

struct xmlstream *
xmlstream_new(const struct schemas *s, enum xsd_kind kind,
    struct perr *err)
{
	struct xmlstream	*st;

	perr_clear(err);
	if (s == NULL || (int)kind < 0 || (int)kind >= XSD__COUNT ||
	    s->schema[kind] == NULL) {
		perr_set(err, "FF01", "no schema");
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0,
	    NULL)) == NULL ||
	    (st->vctxt = xmlSchemaNewValidCtxt(s->schema[kind])) == NULL) {
		xmlstream_free(st);
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	st->kind = kind;
	xmlCtxtUseOptions(st->ctxt, PARSE_OPTIONS);
	xmlsafe_harden(st->ctxt, &st->cap);
	st->cap.stream = st;
	st->tree = *st->ctxt->sax;
	st->ctxt->sax->startElementNs = stream_start_cb;
	st->ctxt->sax->endElementNs = stream_end_cb;
	st->ctxt->sax->characters = stream_characters_cb;
	st->ctxt->sax->ignorableWhitespace = stream_whitespace_cb;
	st->ctxt->sax->cdataBlock = stream_cdata_cb;
	st->ctxt->sax->comment = stream_comment_cb;
	st->ctxt->sax->processingInstruction = stream_pi_cb;
	st->ctxt->sax->reference = stream_reference_cb;
	if ((st->plug = xmlSchemaSAXPlug(st->vctxt, &st->ctxt->sax,
	    &st->ctxt->userData)) == NULL) {
		xmlstream_free(st);
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	xmlSchemaSetValidStructuredErrors(st->vctxt, stream_schema_error_cb, st);
	/* the plug's own handler forwards errors nowhere: ours again */
	st->ctxt->sax->serror = xmlsafe_parse_error_cb;
	return st;
}

void
xmlstream_free(struct xmlstream *st)
{
	if (st == NULL)
		return;
	/* the plug owns ctxt->sax until unplugged */
	if (st->plug != NULL)
		xmlSchemaSAXUnplug(st->plug);
	if (st->ctxt != NULL) {
		xmlFreeDoc(st->ctxt->myDoc);
		st->ctxt->myDoc = NULL;
		st->ctxt->_private = NULL;
		xmlFreeParserCtxt(st->ctxt);
	}
	if (st->vctxt != NULL)
		xmlSchemaFreeValidCtxt(st->vctxt);
	xmlarena_free(st->arena);
	free(st);
}

int
xmlstream_capture(struct xmlstream *st, xmlstream_want_cb *want,
    xmlstream_done_cb *done, void *arg)
{
	if (st->arena == NULL && (st->arena = xmlarena_new()) == NULL)
		return -1;
	st->want = want;
	st->done = done;
	st->arg = arg;
	return 0;
}

int
xmlstream_feed(struct xmlstream *st, const char *buf, size_t len)
{
	const size_t	step = 1u << 30;	/* xmlParseChunk takes an int */
	size_t		n;

	while (!st->failed && len > 0) {
		n = len < step ? len : step;
		if ((st->halted = xmlParseChunk(st->ctxt, buf, (int)n, 0)) != 0 ||
		    st->cap.refused != NULL || !st->ctxt->wellFormed)
			st->failed = true;
		buf += n;
		len -= n;
	}
	return st->failed ? -1 : 0;
}

xmlDocPtr
xmlstream_doc(const struct xmlstream *st)
{
	return st->ctxt->myDoc;
}

xmlNodePtr
xmlstream_open(const struct xmlstream *st)
{
	return st->ctxt->node;
}

size_t
xmlstream_elements(const struct xmlstream *st)
{
	return st->cap.elements;
}

bool
xmlstream_invalid(const struct xmlstream *st)
{
	return st->vcap.have != 0;
}

int
xmlstream_finish(struct xmlstream *st, xmlDocPtr *docp,
    struct perr *err)
{
	xmlDocPtr	doc;

	*docp = NULL;
	perr_clear(err);
	if (!st->failed)
		st->halted = xmlParseChunk(st->ctxt, NULL, 0, 1);
	if (st->oom)
		return perr_set(err, "FF01", "out of memory reading the document");
	/*
	 * The push parser may stop on an input error (bytes not in the
	 * declared encoding) without counting the document as broken: what
	 * it parsed would then pass for all of it. xmlCtxtReadMemory reports
	 * such a document as not well-formed; so does this.
	 */
	if (st->halted != 0 && st->ctxt->wellFormed) {
		st->ctxt->wellFormed = 0;
		if (!st->cap.have) {
			st->cap.have = 1;
			st->cap.line = xmlSAX2GetLineNumber(st->ctxt);
			snprintf(st->cap.msg, sizeof(st->cap.msg), "input stops "
			    "being readable in its declared encoding (libxml2 "
			    "error %d)", st->halted);
		}
	}
	doc = st->ctxt->myDoc;
	if (xmlsafe_parse_verdict(st->ctxt, &st->cap, doc, err) == -1)
		return -1;
	st->ctxt->myDoc = NULL;
	*docp = doc;
	if (st->vcap.have || xmlSchemaIsValid(st->vctxt) != 1) {
		if (st->vcap.have)
			perr_set(err, "FF01", "not valid against %s at line %d: "
			    "%s", schemas_name(st->kind), st->vcap.line,
			    st->vcap.msg);
		else
			perr_set(err, "FF01", "not valid against %s",
			    schemas_name(st->kind));
		return 1;
	}
	return 0;
}
