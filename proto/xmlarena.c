/*
 * xmlarena.c: a subtree built from SAX2 events in an arena (include/xmlarena.h).
 *
 * Why: reading a sheet as a stream, libxml2's tree builder allocated every
 * node, name and text of a transaction one by one, and freeing them cost as
 * much again; the transaction is read once and dropped. Here its nodes are
 * cut from a few large blocks and dropped together: the same structures,
 * a fraction of the allocations.
 *
 * What libxml2's SAX2 tree builder does and this repeats, because the
 * readers see it: element and attribute names are the parser's dictionary
 * strings; a prefix the parser could not bind makes the name "prefix:local"
 * with no namespace; namespace declarations become the element's nsDef in
 * document order, except xmlns:xml, which libxml2 drops; an element's or an
 * attribute's namespace is the nearest declaration of its prefix, looked up
 * as xmlSearchNs does (the element's own declarations first for the element
 * itself); adjacent text, and adjacent CDATA, is one node; an attribute's
 * value is one text node, with the "&#38;" the parser leaves for an
 * ampersand (and any other reference) replaced as xmlStringLenGetNodeList
 * replaces it; line numbers are kept up to 65535; a text node longer than
 * XML_MAX_TEXT_LENGTH is refused, as xmlSAX2Characters refuses it.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "xmlarena.h"

#define BLOCK_SIZE	(64 * 1024)
#define ALIGN		alignof(max_align_t)

struct block {
	struct block	*next;		/* older */
	size_t		 size, used;
	alignas(max_align_t) unsigned char data[];
};

struct xmlarena {
	struct block	*blocks;	/* newest first */
	xmlNodePtr	 root;
	xmlNodePtr	 cur;		/* innermost open element */
	unsigned int	 depth;		/* open elements */
	xmlNodePtr	 text;		/* the last node, text that may grow */
	size_t		 text_len, text_cap;
	struct block	*text_block;	/* the text's own block, if it has one */
	bool		 failed;
};

struct xmlarena *
xmlarena_new(void)
{
	return calloc(1, sizeof(struct xmlarena));
}

void
xmlarena_free(struct xmlarena *a)
{
	struct block	*b, *next;

	if (a == NULL)
		return;
	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void
xmlarena_reset(struct xmlarena *a)
{
	struct block	*b, *next, *keep = NULL;

	/* one ordinary block stays for the next subtree; a big one made
	 * for a huge text goes */
	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		if (keep == NULL && b->size == BLOCK_SIZE) {
			keep = b;
			keep->used = 0;
			keep->next = NULL;
		} else
			free(b);
	}
	a->blocks = keep;
	a->root = a->cur = a->text = NULL;
	a->depth = 0;
	a->text_len = a->text_cap = 0;
	a->text_block = NULL;
	a->failed = false;
}

bool
xmlarena_open(const struct xmlarena *a)
{
	return a->cur != NULL;
}

unsigned int
xmlarena_depth(const struct xmlarena *a)
{
	return a->depth;
}

static void *
alloc(struct xmlarena *a, size_t n)
{
	struct block	*b = a->blocks;
	size_t		 size;
	void		*p;

	if (a->failed)
		return NULL;
	n = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (b == NULL || b->size - b->used < n) {
		size = n > BLOCK_SIZE ? n : BLOCK_SIZE;
		if ((b = malloc(sizeof(*b) + size)) == NULL) {
			a->failed = true;
			return NULL;
		}
		b->size = size;
		b->used = 0;
		b->next = a->blocks;
		a->blocks = b;
	}
	p = b->data + b->used;
	b->used += n;
	return memset(p, 0, n);
}

static xmlChar *
copy(struct xmlarena *a, const xmlChar *s, size_t len)
{
	xmlChar	*p;

	if ((p = alloc(a, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static unsigned short
line_of(xmlParserCtxtPtr ctxt)
{
	int	line;

	if (!ctxt->linenumbers || ctxt->input == NULL)
		return 0;
	line = ctxt->input->line;
	return line < 65535 ? (unsigned short)line : 65535;
}

/* A node of the subtree: under the innermost open element, or the root. */
static xmlNodePtr
new_node(struct xmlarena *a, xmlParserCtxtPtr ctxt, xmlElementType type)
{
	xmlNodePtr	n, parent = a->cur;

	if ((n = alloc(a, sizeof(*n))) == NULL)
		return NULL;
	n->type = type;
	n->doc = ctxt->myDoc;
	n->line = line_of(ctxt);
	a->text = NULL;
	a->text_block = NULL;
	if (parent == NULL)
		return n;
	n->parent = parent;
	if (parent->last == NULL)
		parent->children = n;
	else {
		n->prev = parent->last;
		parent->last->next = n;
	}
	parent->last = n;
	return n;
}

static bool
prefix_is(const xmlChar *a, const xmlChar *b)
{
	return a == b || (a != NULL && b != NULL && xmlStrEqual(a, b));
}

/* xmlSearchNs from node (in the arena, then up the real tree) for prefix,
 * which is not "xml". */
static xmlNsPtr
search_ns(xmlNodePtr node, const xmlChar *prefix)
{
	xmlNodePtr	orig = node;
	xmlNsPtr	d;

	for (; node != NULL; node = node->parent) {
		if (node->type != XML_ELEMENT_NODE)
			continue;
		for (d = node->nsDef; d != NULL; d = d->next)
			if (prefix == NULL ? d->prefix == NULL &&
			    d->href != NULL : d->prefix != NULL &&
			    xmlStrEqual(d->prefix, prefix))
				return d;
		d = node->ns;
		if (node != orig && d != NULL && (prefix == NULL ?
		    d->prefix == NULL && d->href != NULL : d->prefix != NULL &&
		    xmlStrEqual(d->prefix, prefix)))
			return d;
	}
	return NULL;
}

static xmlNsPtr
lookup_ns(struct xmlarena *a, xmlParserCtxtPtr ctxt, xmlNodePtr from,
    const xmlChar *prefix)
{
	xmlNodePtr	real = a->root != NULL ? a->root->parent : NULL;

	if (prefix != NULL && xmlStrEqual(prefix, BAD_CAST "xml"))
		return real != NULL ? xmlSearchNs(ctxt->myDoc, real, prefix) :
		    NULL;
	return search_ns(from, prefix);
}

/* The value of one of the 0..0x10FFFF characters in UTF-8; its length. */
static size_t
put_utf8(xmlChar *out, unsigned long c)
{
	if (c < 0x80) {
		out[0] = (xmlChar)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (xmlChar)(0xC0 | (c >> 6));
		out[1] = (xmlChar)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (xmlChar)(0xE0 | (c >> 12));
		out[1] = (xmlChar)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (xmlChar)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (xmlChar)(0xF0 | (c >> 18));
	out[1] = (xmlChar)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (xmlChar)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (xmlChar)(0x80 | (c & 0x3F));
	return 4;
}

/*
 * An attribute value the parser copied because it held a reference: the
 * references replaced (character references, and the five predefined
 * entities, although the parser has already replaced all but "&#38;").
 * Never longer than the input. -1 for anything else, which a well-formed
 * document without a DOCTYPE cannot hold.
 */
static int
decode_value(const xmlChar *v, size_t len, xmlChar *out, size_t *outlen)
{
	static const struct { const char *name; char c; } predefined[] = {
		{ "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' },
		{ "apos;", '\'' }, { "quot;", '"' },
	};
	const xmlChar	*end = v + len, *p;
	unsigned long	 c;
	size_t		 o = 0, i, n;
	int		 hex, digits;

	while (v < end) {
		if (*v != '&') {
			out[o++] = *v++;
			continue;
		}
		p = v + 1;
		if (p < end && *p == '#') {
			hex = ++p < end && *p == 'x';
			p += hex;
			for (c = 0, digits = 0; p < end && *p != ';'; p++,
			    digits++) {
				if (*p >= '0' && *p <= '9')
					c = c * (hex ? 16 : 10) + (*p - '0');
				else if (hex && *p >= 'a' && *p <= 'f')
					c = c * 16 + (*p - 'a' + 10);
				else if (hex && *p >= 'A' && *p <= 'F')
					c = c * 16 + (*p - 'A' + 10);
				else
					return -1;
				if (c > 0x10FFFF)
					return -1;
			}
			if (p == end || digits == 0 || c == 0)
				return -1;
			o += put_utf8(out + o, c);
			v = p + 1;
			continue;
		}
		for (i = 0; i < sizeof(predefined) / sizeof(predefined[0]);
		    i++) {
			n = strlen(predefined[i].name);
			if ((size_t)(end - p) >= n &&
			    memcmp(p, predefined[i].name, n) == 0)
				break;
		}
		if (i == sizeof(predefined) / sizeof(predefined[0]))
			return -1;
		out[o++] = (xmlChar)predefined[i].c;
		v = p + n;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* One attribute of e (the five strings startElementNs gives for it). */
static int
add_attribute(struct xmlarena *a, xmlParserCtxtPtr ctxt, xmlNodePtr e,
    const xmlChar **at)
{
	const xmlChar	*name = at[0], *prefix = at[1], *uri = at[2];
	const xmlChar	*value = at[3], *valueend = at[4];
	size_t		 len = (size_t)(valueend - value);
	xmlAttrPtr	 attr, last;
	xmlNodePtr	 t;

	if ((attr = alloc(a, sizeof(*attr))) == NULL ||
	    (t = alloc(a, sizeof(*t))) == NULL)
		return -1;
	attr->type = XML_ATTRIBUTE_NODE;
	attr->doc = ctxt->myDoc;
	attr->parent = e;
	if (prefix != NULL && uri == NULL) {
		/* an unbound prefix (the document is refused for it) */
		if ((name = xmlDictQLookup(ctxt->dict, prefix, name)) == NULL)
			return -1;
	} else if (prefix != NULL)
		attr->ns = lookup_ns(a, ctxt, e, prefix);
	attr->name = name;
	t->type = XML_TEXT_NODE;
	t->name = xmlStringText;
	t->doc = ctxt->myDoc;
	t->parent = (xmlNodePtr)attr;
	t->line = line_of(ctxt);
	/* the parser ends a value it copied with a NUL, one it did not
	 * with the quote */
	if (*valueend != '\0')
		t->content = copy(a, value, len);
	else if ((t->content = alloc(a, len + 1)) != NULL &&
	    decode_value(value, len, t->content, &len) == -1) {
		a->failed = true;
		return -1;
	}
	if (t->content == NULL)
		return -1;
	attr->children = attr->last = t;
	if (e->properties == NULL)
		e->properties = attr;
	else {
		for (last = e->properties; last->next != NULL;
		    last = last->next)
			;
		last->next = attr;
		attr->prev = last;
	}
	return 0;
}

int
xmlarena_start(struct xmlarena *a, xmlParserCtxtPtr ctxt, xmlNodePtr outer,
    const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
    int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
    const xmlChar **attributes)
{
	xmlNodePtr	 e, parent = a->cur;
	xmlNsPtr	 ns, last = NULL;
	int		 i;

	if (a->failed || (e = new_node(a, ctxt, XML_ELEMENT_NODE)) == NULL)
		return -1;
	if (parent == NULL) {
		a->root = e;
		e->parent = parent = outer;
	}
	if (prefix != NULL && uri == NULL) {
		if ((localname = xmlDictQLookup(ctxt->dict, prefix,
		    localname)) == NULL)
			goto fail;
	}
	e->name = localname;
	for (i = 0; i < nb_namespaces; i++) {
		const xmlChar	*pref = namespaces[2 * i];
		const xmlChar	*href = namespaces[2 * i + 1];

		/* libxml2's xmlNewNs drops a declaration of xml */
		if (pref != NULL && xmlStrEqual(pref, BAD_CAST "xml"))
			continue;
		if ((ns = alloc(a, sizeof(*ns))) == NULL)
			goto fail;
		ns->type = XML_NAMESPACE_DECL;
		ns->href = href;
		ns->prefix = pref;
		ns->context = ctxt->myDoc;
		if (last == NULL)
			e->nsDef = ns;
		else
			last->next = ns;
		last = ns;
		if (uri != NULL && prefix_is(prefix, pref))
			e->ns = ns;
	}
	if (uri != NULL && e->ns == NULL)
		e->ns = lookup_ns(a, ctxt, parent, prefix);
	a->cur = e;
	a->depth++;
	for (i = 0; i < nb_attributes; i++)
		if (add_attribute(a, ctxt, e, attributes + 5 * i) == -1)
			goto fail;
	return 0;
fail:
	a->failed = true;
	return -1;
}

xmlNodePtr
xmlarena_end(struct xmlarena *a)
{
	xmlNodePtr	e = a->cur;

	a->text = NULL;
	a->text_block = NULL;
	if (e == NULL)
		return NULL;
	a->depth--;
	if (e == a->root) {
		a->cur = NULL;
		return e;
	}
	a->cur = e->parent;
	return NULL;
}

/*
 * Room for need bytes of the growing text, its first text_len bytes kept.
 * Doubled each time, so a text in many pieces costs linear time; once
 * large, in a block of its own that realloc grows, so that a huge text
 * (a hostile sheet's) costs about what libxml2's own realloc did, not the
 * sum of every size it went through.
 */
static xmlChar *
grow_text(struct xmlarena *a, size_t need)
{
	struct block	*b;
	size_t		 cap = 2 * need;

	if (a->text_block != a->blocks)
		a->text_block = NULL;	/* cannot be: something came after */
	if (a->text_block == NULL && cap <= BLOCK_SIZE / 4) {
		if ((b = (void *)alloc(a, cap)) == NULL)
			return NULL;
		memcpy(b, a->text->content, a->text_len);
		a->text_cap = cap;
		return (xmlChar *)b;
	}
	if (a->text_block != NULL) {
		/* the newest block: nothing was cut after the text */
		if ((b = realloc(a->text_block, sizeof(*b) + cap)) == NULL)
			goto fail;
		a->blocks = b;
	} else {
		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			goto fail;
		memcpy(b->data, a->text->content, a->text_len);
		b->next = a->blocks;
		a->blocks = b;
	}
	b->size = b->used = cap;
	a->text_block = b;
	a->text_cap = cap;
	return b->data;
fail:
	a->failed = true;
	return NULL;
}

int
xmlarena_text(struct xmlarena *a, xmlParserCtxtPtr ctxt, xmlElementType type,
    const xmlChar *ch, int len)
{
	xmlNodePtr	 t = a->text;
	xmlChar		*grown;
	size_t		 n = len > 0 ? (size_t)len : 0, cap;

	if (a->failed || a->cur == NULL)
		return a->failed ? -1 : 0;
	if (t != NULL && t->type == type && t == a->cur->last) {
		/* more of the same text, within libxml2's limit of a text
		 * node (xmlSAX2Characters'; CDATA has none) */
		if (type == XML_TEXT_NODE && a->text_len + n >
		    XML_MAX_TEXT_LENGTH && !(ctxt->options & XML_PARSE_HUGE))
			return XMLARENA_HUGE_TEXT;
		if (a->text_len + n + 1 > a->text_cap) {
			if ((grown = grow_text(a, a->text_len + n + 1)) == NULL)
				return -1;
			t->content = grown;
		}
		memcpy(t->content + a->text_len, ch, n);
		a->text_len += n;
		t->content[a->text_len] = '\0';
		return 0;
	}
	if ((t = new_node(a, ctxt, type)) == NULL)
		return -1;
	if (type == XML_TEXT_NODE)
		t->name = xmlStringText;
	cap = n + 1 < 32 ? 32 : n + 1;
	if ((t->content = alloc(a, cap)) == NULL)
		return -1;
	memcpy(t->content, ch, n);
	t->content[n] = '\0';
	a->text = t;
	a->text_len = n;
	a->text_cap = cap;
	return 0;
}

int
xmlarena_comment(struct xmlarena *a, xmlParserCtxtPtr ctxt,
    const xmlChar *value)
{
	xmlNodePtr	c;

	if (a->failed || a->cur == NULL)
		return a->failed ? -1 : 0;
	if ((c = new_node(a, ctxt, XML_COMMENT_NODE)) == NULL ||
	    (c->content = copy(a, value, strlen((const char *)value))) ==
	    NULL)
		return -1;
	c->name = xmlStringComment;
	return 0;
}

int
xmlarena_pi(struct xmlarena *a, xmlParserCtxtPtr ctxt, const xmlChar *target,
    const xmlChar *data)
{
	xmlNodePtr	pi;

	if (a->failed || a->cur == NULL)
		return a->failed ? -1 : 0;
	if ((pi = new_node(a, ctxt, XML_PI_NODE)) == NULL)
		return -1;
	if ((pi->name = copy(a, target, strlen((const char *)target))) == NULL)
		return -1;
	if (data != NULL && (pi->content = copy(a, data,
	    strlen((const char *)data))) == NULL)
		return -1;
	return 0;
}
