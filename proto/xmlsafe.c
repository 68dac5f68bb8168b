/*
 * xmlsafe.c: hostile-input-safe XML parsing, and the
 * small helpers proto/ uses to walk a parsed document.
 *
 * Responsible for the only place where untrusted bytes become an xmlDoc:
 * the size is bounded before libxml2 sees a byte, the parser runs with
 * XML_PARSE_NONET and no option that changes content (the signature is
 * verified over the document as sent), and any DOCTYPE is refused while it
 * is being read, so no entity is ever declared, let alone expanded. The schemas
 * it validates against are proto/schemas.c's; the streaming parse is in
 * proto/xmlstream.c, with the same hardening (proto/xmlsafeint.h).
 *
 * Errors are captured per parser or validation context, never through
 * libxml2's global handlers, so that parsing on several threads at once
 * keeps each error with its own request. Error text is cleaned before it
 * reaches a struct perr: values quoted by libxml2 that could be an ID number,
 * a card number or a name are masked, because the message travels into
 * pain.002 and log lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "ids.h"
#include "xmlsafe.h"
#include "xmlsafeint.h"

/* Where a quoted value in a libxml2 message may be shown as is: it must
 * look like a schema name (element, type, facet), have no run of 5 digits
 * (an ID number, card or credit code has), and be short. */
static int
quoted_is_name(const char *s, size_t n)
{
	size_t	i, digits = 0;

	if (n == 0 || n > 40)
		return 0;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	    s[0] == '_'))
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++digits >= 5)
				return 0;
			continue;
		}
		digits = 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		    s[i] == '-' || s[i] == '.' || s[i] == ':'))
			return 0;
	}
	return 1;
}

/* A pattern of our schemas quoted after "the pattern ": printable ASCII
 * without a run of 5 digits, so that a value crafted to look like a
 * pattern (it may contain quotes) still cannot pass an ID number. */
static int
quoted_is_pattern(const char *s, size_t n)
{
	size_t	i, digits = 0;

	if (n > 80)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < ' ' || s[i] > '~')
			return 0;
		digits = s[i] >= '0' && s[i] <= '9' ? digits + 1 : 0;
		if (digits >= 5)
			return 0;
	}
	return 1;
}

/*
 * Copies a libxml2 message into out, without the trailing newline, and
 * with every '...' quoted part cleaned: a Clark namespace prefix
 * ("{urn:...}Amt" -> "Amt") is dropped, it only makes the message long; a
 * pattern, which comes from our schema, is kept; a schema name is kept; any
 * other quoted value comes from the document and is masked: ASCII through
 * ids_mask (first 4, last 4), anything else (a name in Chinese, say) as
 * "***".
 */
static void
clean_message(const char *in, char *out, size_t outlen)
{
	size_t		 o = 0, n, i;
	const char	*end, *p, *q, *brace;
	char		 value[64], masked[64];
	int		 ascii;

#define PUT(c) do { if (o + 1 < outlen) out[o++] = (c); } while (0)
	if (outlen == 0)
		return;
	for (p = in; p != NULL && *p != '\0'; p++) {
		if (*p != '\'' || (end = strchr(p + 1, '\'')) == NULL) {
			PUT(*p == '\n' || *p == '\r' ? ' ' : *p);
			continue;
		}
		q = p + 1;
		if (*q == '{' && (brace = memchr(q, '}', (size_t)(end - q))) != NULL)
			q = brace + 1;
		n = (size_t)(end - q);
		PUT('\'');
		if (quoted_is_name(q, n) || (p - in >= 12 &&
		    memcmp(p - 12, "the pattern ", 12) == 0 &&
		    quoted_is_pattern(q, n))) {
			for (i = 0; i < n; i++)
				PUT(q[i]);
		} else {
			ascii = n < sizeof(value);
			for (i = 0; ascii && i < n; i++)
				if ((unsigned char)q[i] >= 0x80 ||
				    (unsigned char)q[i] < 0x20)
					ascii = 0;
			if (ascii) {
				memcpy(value, q, n);
				value[n] = '\0';
				ids_mask(value, masked, sizeof(masked));
			} else
				strcpy(masked, "***");
			for (i = 0; masked[i] != '\0'; i++)
				PUT(masked[i]);
		}
		PUT('\'');
		p = end;
	}
#undef PUT
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

void
xmlsafe_capture_error(struct capture *cap, const xmlError *e)
{
	if (cap == NULL || e == NULL || cap->have)
		return;
	if (e->level == XML_ERR_WARNING)
		return;
	cap->have = 1;
	cap->line = e->line;
	if (e->node != NULL && cap->line <= 0)
		cap->line = (int)xmlGetLineNo((const xmlNode *)e->node);
	clean_message(e->message != NULL ? e->message : "unknown error",
	    cap->msg, sizeof(cap->msg));
}

/* Structured error handler of a parser context; our capture hangs off its
 * _private. The error names its parser context: data is not used, since
 * under a schema plug (xmlstream) it is the plug, not the context. */
void
xmlsafe_parse_error_cb(void *data, xmlErrorPtr e)
{
	xmlParserCtxtPtr	ctxt = e != NULL ? e->ctxt : NULL;

	(void)data;
	if (ctxt != NULL)
		xmlsafe_capture_error(ctxt->_private, e);
}

/* A DOCTYPE (internal or external subset): refused before libxml2 reads a
 * single declaration of it. */
static void
internal_subset_cb(void *data, const xmlChar *name, const xmlChar *external_id,
    const xmlChar *system_id)
{
	xmlParserCtxtPtr	 ctxt = data;
	struct capture		*cap = ctxt->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	if (cap->refused == NULL)
		cap->refused = "DOCTYPE";
	cap->line = xmlSAX2GetLineNumber(ctxt);
	xmlStopParser(ctxt);
}

/* Belt and braces: should an entity declaration ever reach SAX (it cannot
 * without a DOCTYPE), it stops the parse too. */
static void
entity_decl_cb(void *data, const xmlChar *name, int type,
    const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
	xmlParserCtxtPtr	 ctxt = data;
	struct capture		*cap = ctxt->_private;

	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	cap->refused = "entity declaration";
	cap->line = xmlSAX2GetLineNumber(ctxt);
	xmlStopParser(ctxt);
}

/* Every parser context we make: errors captured, DOCTYPE and entity
 * declarations refused. */
void
xmlsafe_harden(xmlParserCtxtPtr ctxt, struct capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	ctxt->_private = cap;
	ctxt->sax->serror = xmlsafe_parse_error_cb;
	ctxt->sax->internalSubset = internal_subset_cb;
	ctxt->sax->externalSubset = internal_subset_cb;
	ctxt->sax->entityDecl = entity_decl_cb;
}

/* After the parse: FF01 in err unless doc is a well-formed document with a
 * root element and no DOCTYPE. */
int
xmlsafe_parse_verdict(xmlParserCtxtPtr ctxt, const struct capture *cap, xmlDocPtr doc,
    struct perr *err)
{
	if (cap->refused != NULL)
		return perr_set(err, "FF01", "XML with a %s refused at line %d",
		    cap->refused, cap->line);
	if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed) {
		/* nsWellFormed: libxml2 builds a tree for "<a:b/>" with an
		 * undeclared prefix, flagging only this; we refuse it. */
		if (cap->have)
			return perr_set(err, "FF01", "XML not well-formed at "
			    "line %d: %s", cap->line, cap->msg);
		return perr_set(err, "FF01", "XML not well-formed");
	}
	/* Cannot happen with the hooks of xmlsafe_harden(); checked anyway. */
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		return perr_set(err, "FF01", "XML with a DOCTYPE refused");
	if (xmlDocGetRootElement(doc) == NULL)
		return perr_set(err, "FF01", "XML without a root element");
	return 0;
}

/*
 * Parses with a fresh parser context per call. Options: XML_PARSE_NONET
 * (no network, ever), and NOERROR|NOWARNING so that libxml2 prints nothing;
 * errors come to xmlsafe_parse_error_cb instead. No NOENT, DTDLOAD, HUGE, NOBLANKS
 * or NOCDATA: the tree must be the document as signed.
 */
xmlDocPtr
xmlsafe_parse(const char *buf, size_t len, struct perr *err)
{
	xmlParserCtxtPtr	 ctxt;
	xmlDocPtr		 doc;
	struct capture		 cap;
	struct perr		 local;
	long			 used;

	if (err == NULL)
		err = &local;
	perr_clear(err);
	if (len > WP_MAX_TREE) {
		perr_set(err, "FF01", "document of %zu bytes is larger than "
		    "the limit of %u bytes", len, WP_MAX_TREE);
		return NULL;
	}
	if (buf == NULL || len == 0) {
		perr_set(err, "FF01", "empty document");
		return NULL;
	}
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	xmlsafe_harden(ctxt, &cap);
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, PARSE_OPTIONS);
	/* libxml2 reading from memory takes a NUL byte after the root element
	 * for the end of the input and ignores what follows; the push parser
	 * of xmlstream refuses it, and so does this */
	if (doc != NULL && !cap.refused && (used = xmlByteConsumed(ctxt)) >= 0 &&
	    (size_t)used < len && memchr(buf + used, '\0', len - (size_t)used)) {
		cap.have = 1;
		cap.line = xmlSAX2GetLineNumber(ctxt);
		snprintf(cap.msg, sizeof(cap.msg), "a NUL byte after the end of "
		    "the document");
		ctxt->wellFormed = 0;
	}
	/*
	 * libxml2's tree builder gives up on what it will not hold (a text
	 * node over XML_MAX_TEXT_LENGTH: "huge text node") by stopping the
	 * parser without counting the document as broken: the tree would be
	 * the document cut short there, and read as if whole. The push parser
	 * of xmlstream refuses it (xmlParseChunk returns the error), and
	 * so does this.
	 */
	if (doc != NULL && !cap.refused && ctxt->wellFormed &&
	    ctxt->disableSAX) {
		if (!cap.have) {
			cap.have = 1;
			cap.line = xmlSAX2GetLineNumber(ctxt);
			snprintf(cap.msg, sizeof(cap.msg), "the parser stopped "
			    "before the end of the document");
		}
		ctxt->wellFormed = 0;
	}
	if (xmlsafe_parse_verdict(ctxt, &cap, doc, err) == -1) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	return doc;
}

const char *
xmlsafe_root_ns(xmlDocPtr doc)
{
	xmlNodePtr	root;

	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL ||
	    root->ns == NULL || root->ns->href == NULL)
		return "";
	return (const char *)root->ns->href;
}

/* ns NULL matches an element in no namespace. */
static int
is_element(xmlNodePtr n, const char *ns, const char *name, size_t namelen)
{
	if (n->type != XML_ELEMENT_NODE)
		return 0;
	if (strlen((const char *)n->name) != namelen ||
	    memcmp(n->name, name, namelen) != 0)
		return 0;
	if (ns == NULL)
		return n->ns == NULL;
	return n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr
xmlsafe_child(xmlNodePtr parent, const char *ns, const char *name)
{
	xmlNodePtr	n;

	if (parent == NULL || name == NULL)
		return NULL;
	for (n = parent->children; n != NULL; n = n->next)
		if (is_element(n, ns, name, strlen(name)))
			return n;
	return NULL;
}

bool
xmlsafe_is(xmlNodePtr n, const char *ns, const char *name)
{
	return n != NULL && name != NULL && is_element(n, ns, name, strlen(name));
}

xmlNodePtr
xmlsafe_path(xmlNodePtr from, const char *ns, const char *path)
{
	const char	*p, *slash;
	size_t		 len;
	xmlNodePtr	 n, c;

	if (from == NULL || path == NULL)
		return NULL;
	n = from;
	for (p = path; n != NULL && *p != '\0'; p = slash + 1) {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		len = (size_t)(slash - p);
		for (c = n->children; c != NULL; c = c->next)
			if (is_element(c, ns, p, len))
				break;
		n = c;
		if (*slash == '\0')
			break;
	}
	return n;
}

/* XML white space only: the schema types we read collapse or preserve
 * exactly these. */
static int
is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The text of an element that holds only text (and comments), trimmed of
 * XML white space, as a span: in the tree itself when the element has a
 * single text child (almost every value read), else in *owned, which the
 * caller frees. -1 when the element has element children, so that a value
 * is never silently assembled from pieces.
 */
static int
text_span(xmlNodePtr node, const char **startp, size_t *lenp, xmlChar **owned)
{
	xmlNodePtr	 c;
	const char	*start, *end;

	*owned = NULL;
	if (node == NULL || node->type != XML_ELEMENT_NODE)
		return -1;
	for (c = node->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE ||
		    c->type == XML_ENTITY_REF_NODE)
			return -1;
	c = node->children;
	if (c != NULL && c->next == NULL && c->content != NULL &&
	    (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE))
		start = (const char *)c->content;
	else if ((*owned = xmlNodeGetContent(node)) != NULL)
		start = (const char *)*owned;
	else
		return -1;
	while (is_xml_space(*start))
		start++;
	end = start + strlen(start);
	while (end > start && is_xml_space(end[-1]))
		end--;
	*startp = start;
	*lenp = (size_t)(end - start);
	return 0;
}

static char *
trimmed_text(xmlNodePtr node, size_t *lenp)
{
	xmlChar		*owned;
	const char	*start;
	char		*out;
	size_t		 len;

	if (text_span(node, &start, &len, &owned) == -1)
		return NULL;
	if ((out = malloc(len + 1)) != NULL) {
		memcpy(out, start, len);
		out[len] = '\0';
		*lenp = len;
	}
	xmlFree(owned);
	return out;
}

int
xmlsafe_text(xmlNodePtr node, char *buf, size_t len)
{
	xmlChar		*owned;
	const char	*start;
	size_t		 n;
	int		 rc = -1;

	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (text_span(node, &start, &n, &owned) == -1)
		return -1;
	if (n < len) {
		memcpy(buf, start, n);
		buf[n] = '\0';
		rc = 0;
	}
	xmlFree(owned);
	return rc;
}

char *
xmlsafe_strdup(xmlNodePtr node)
{
	size_t	n;

	return trimmed_text(node, &n);
}
