/*
 * c14n.c: Exclusive XML Canonicalization 1.0, without comments, written
 * from a libxml2 tree in pieces (include/c14n.h).
 *
 * Why not libxml2's own xmlC14NDocSaveTo: it needs the whole document as a
 * tree, and a 100,000-line sheet as a tree is over a gigabyte. Written here,
 * the canonical form of the finished parts of a document can be hashed
 * while the rest is still being parsed, and those parts freed.
 *
 * It follows libxml2's exclusive C14N exactly where the specification
 * leaves room (the signer of a sheet canonicalised with it, through xmlsec):
 * a namespace is rendered on an element that visibly utilises it (its own
 * prefix, or an attribute's) unless the nearest output ancestor utilising
 * that prefix had the same URI; xmlns="" only where an ancestor rendered a
 * default namespace; the xml prefix is never rendered; namespace
 * declarations sorted by prefix, attributes by namespace URI then local
 * name; a relative namespace URI makes the whole canonicalisation fail;
 * comments are left out; a processing instruction before or after the
 * root element is followed or preceded by a newline.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/uri.h>

#include "c14n.h"

#define DSIG_NS		"http://www.w3.org/2000/09/xmldsig#"
#define XML_NS_URI	"http://www.w3.org/XML/1998/namespace"
#define OUT_CAP		16384
/* Namespaces one element may render (distinct prefixes it utilises: its
 * own and its attributes'); more is refused. Attributes: any number. */
#define MAX_PER_ELEMENT	64

/* A namespace in effect for the output: utilised by an output ancestor at
 * depth, with this URI. prefix NULL is the default namespace. */
struct rendered {
	const xmlChar	*prefix;
	const xmlChar	*href;
	int		 depth;
};

struct c14n {
	c14n_sink	*sink;
	void		*arg;
	unsigned char	 out[OUT_CAP];
	size_t		 len;
	struct rendered	*ns;
	size_t		 nns, capns;
	int		 depth;
	size_t		 elements;
	const char	*error;
	/* the last namespace URI found absolute: most elements repeat it */
	xmlChar		*checked_href;
};

struct c14n *
c14n_new(c14n_sink *sink, void *arg)
{
	struct c14n	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sink = sink;
	c->arg = arg;
	return c;
}

void
c14n_free(struct c14n *c)
{
	if (c == NULL)
		return;
	free(c->ns);
	xmlFree(c->checked_href);
	free(c);
}

const char *
c14n_error(const struct c14n *c)
{
	return c->error;
}

size_t
c14n_elements(const struct c14n *c)
{
	return c->elements;
}

static int
fail(struct c14n *c, const char *why)
{
	if (c->error == NULL)
		c->error = why;
	return -1;
}

int
c14n_flush(struct c14n *c)
{
	if (c->error != NULL)
		return -1;
	if (c->len > 0 && c->sink(c->arg, c->out, c->len) == -1)
		return fail(c, "the canonical form could not be written");
	c->len = 0;
	return 0;
}

static void
put_slow(struct c14n *c, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 room;

	while (n > 0 && c->error == NULL) {
		if (c->len == OUT_CAP && c14n_flush(c) == -1)
			return;
		room = OUT_CAP - c->len;
		if (room > n)
			room = n;
		memcpy(c->out + c->len, s, room);
		c->len += room;
		s += room;
		n -= room;
	}
}

/* Most pieces are a name or a few bytes and fit in what is left of out:
 * copied at once (a sheet's canonical form is written in about 200,000
 * pieces). After an error nothing more is written, as in put_slow. */
static inline void
put(struct c14n *c, const void *p, size_t n)
{
	if (n <= OUT_CAP - c->len && c->error == NULL) {
		memcpy(c->out + c->len, p, n);
		c->len += n;
	} else
		put_slow(c, p, n);
}

static void
puts_(struct c14n *c, const char *s)
{
	put(c, s, strlen(s));
}

/* What each kind of value escapes (C14N 1.0, section 2.3). */
enum escape { ESC_TEXT, ESC_ATTR, ESC_PI };

/* escapes[k][ch]: the escape of ch in a value of kind k, or NULL to
 * write ch as it is. One table, read byte by byte over the text. */
static const char *const escapes[3][256] = {
	[ESC_TEXT] = { ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
	    ['\r'] = "&#xD;" },
	[ESC_ATTR] = { ['&'] = "&amp;", ['<'] = "&lt;", ['"'] = "&quot;",
	    ['\t'] = "&#x9;", ['\n'] = "&#xA;", ['\r'] = "&#xD;" },
	[ESC_PI] = { ['\r'] = "&#xD;" },
};

/* Text content: & < > CR escaped; an attribute value (or a namespace
 * URI): & < " TAB LF CR; a processing instruction's data: CR only. */
static void
put_escaped(struct c14n *c, const xmlChar *s, enum escape k)
{
	const char *const	*esc = escapes[k];
	const xmlChar		*run = s;

	for (;;) {
		while (*s != '\0' && esc[*s] == NULL)
			s++;
		put(c, run, (size_t)(s - run));
		if (*s == '\0')
			return;
		puts_(c, esc[*s]);
		run = ++s;
	}
}

static void
put_qname(struct c14n *c, xmlNsPtr ns, const xmlChar *name)
{
	if (ns != NULL && ns->prefix != NULL) {
		puts_(c, (const char *)ns->prefix);
		put(c, ":", 1);
	}
	puts_(c, (const char *)name);
}

bool
c14n_is_signature(xmlNodePtr n)
{
	/* asked of every element: the first letter spares most a call */
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    n->ns->href != NULL && n->name[0] == 'S' &&
	    strcmp((const char *)n->name, "Signature") == 0 &&
	    strcmp((const char *)n->ns->href, DSIG_NS) == 0;
}

static bool
same(const xmlChar *a, const xmlChar *b)
{
	if (a == b)		/* the parser's dictionary: often the same string */
		return true;
	if (a == NULL)
		a = BAD_CAST "";
	if (b == NULL)
		b = BAD_CAST "";
	return strcmp((const char *)a, (const char *)b) == 0;
}

/* libxml2 refuses to canonicalise a document declaring a relative (or
 * unparsable) namespace URI, anywhere in the output: so does this. */
static int
check_declarations(struct c14n *c, xmlNodePtr e)
{
	xmlNsPtr	 d;
	xmlURIPtr	 uri;
	bool		 absolute;

	for (d = e->nsDef; d != NULL; d = d->next) {
		if (d->href == NULL || d->href[0] == '\0')
			continue;
		if (c->checked_href != NULL && same(d->href, c->checked_href))
			continue;
		if ((uri = xmlParseURI((const char *)d->href)) == NULL)
			return fail(c, "a namespace URI cannot be parsed");
		absolute = uri->scheme != NULL && uri->scheme[0] != '\0';
		xmlFreeURI(uri);
		if (!absolute)
			return fail(c, "a namespace URI is relative");
		xmlFree(c->checked_href);
		c->checked_href = xmlStrdup(d->href);
	}
	return 0;
}

/* The URI in effect for prefix among what output ancestors utilised, or
 * NULL if none utilised it. */
static const struct rendered *
in_effect(const struct c14n *c, const xmlChar *prefix)
{
	size_t	i;

	for (i = c->nns; i > 0; i--)
		if (same(c->ns[i - 1].prefix, prefix))
			return &c->ns[i - 1];
	return NULL;
}

static int
push_ns(struct c14n *c, const xmlChar *prefix, const xmlChar *href)
{
	struct rendered	*n;
	size_t		 cap;

	if (c->nns == c->capns) {
		cap = c->capns ? c->capns * 2 : 32;
		if ((n = realloc(c->ns, cap * sizeof(*n))) == NULL)
			return fail(c, "out of memory");
		c->ns = n;
		c->capns = cap;
	}
	c->ns[c->nns].prefix = prefix;
	c->ns[c->nns].href = href;
	c->ns[c->nns].depth = c->depth;
	c->nns++;
	return 0;
}

static int
cmp_prefix(const xmlChar *a, const xmlChar *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp((const char *)a, (const char *)b);
}

static int
cmp_attr(xmlAttrPtr a, xmlAttrPtr b)
{
	const char	*ua = a->ns ? (const char *)a->ns->href : "";
	const char	*ub = b->ns ? (const char *)b->ns->href : "";
	int		 r;

	if ((r = strcmp(ua, ub)) != 0)
		return r;
	return strcmp((const char *)a->name, (const char *)b->name);
}

/* Decides whether the namespace (prefix, href) that e utilises is rendered
 * on e, adding it to out (sorted by prefix) if so. */
static int
utilise(struct c14n *c, const xmlChar *prefix, const xmlChar *href,
    struct rendered *out, size_t *nout)
{
	const struct rendered	*r;
	size_t			 i, j;

	if (prefix != NULL && strcmp((const char *)prefix, "xml") == 0)
		return 0;
	if (href == NULL)
		href = BAD_CAST "";
	for (i = 0; i < *nout; i++)
		if (same(out[i].prefix, prefix))
			return 0;	/* already decided for this element */
	r = in_effect(c, prefix);
	if (r == NULL ? (prefix == NULL && href[0] == '\0') : same(r->href, href))
		return 0;
	if (*nout == MAX_PER_ELEMENT)
		return fail(c, "an element declares too many namespaces");
	for (i = 0; i < *nout && cmp_prefix(out[i].prefix, prefix) < 0; i++)
		;
	for (j = *nout; j > i; j--)
		out[j] = out[j - 1];
	out[i].prefix = prefix;
	out[i].href = href;
	(*nout)++;
	return 0;
}

/* An attribute's value: the text of its children. */
static int
put_attr_children(struct c14n *c, xmlAttrPtr a)
{
	xmlNodePtr	t;

	for (t = a->children; t != NULL; t = t->next) {
		if (t->type != XML_TEXT_NODE)
			return fail(c, "an attribute holds an entity reference");
		if (t->content != NULL)
			put_escaped(c, t->content, ESC_ATTR);
	}
	return 0;
}

int
c14n_start(struct c14n *c, xmlNodePtr e)
{
	struct rendered	 decl[MAX_PER_ELEMENT];
	xmlAttrPtr	 few[MAX_PER_ELEMENT], *attrs = few, a;
	size_t		 ndecl = 0, nattr = 0, want = 0, i, j;
	int		 rc = -1;

	if (c->error != NULL)
		return -1;
	if (check_declarations(c, e) == -1)
		return -1;
	c->depth++;
	c->elements++;
	/* any number of attributes, as libxml2 takes them; the usual few
	 * without an allocation */
	for (a = e->properties; a != NULL; a = a->next)
		want++;
	if (want > MAX_PER_ELEMENT &&
	    (attrs = calloc(want, sizeof(*attrs))) == NULL)
		return fail(c, "out of memory");
	if (utilise(c, e->ns ? e->ns->prefix : NULL, e->ns ? e->ns->href :
	    NULL, decl, &ndecl) == -1)
		goto done;
	for (a = e->properties; a != NULL; a = a->next) {
		if (a->ns != NULL && utilise(c, a->ns->prefix, a->ns->href,
		    decl, &ndecl) == -1)
			goto done;
		for (i = 0; i < nattr && cmp_attr(attrs[i], a) < 0; i++)
			;
		for (j = nattr; j > i; j--)
			attrs[j] = attrs[j - 1];
		attrs[i] = a;
		nattr++;
	}
	put(c, "<", 1);
	put_qname(c, e->ns, e->name);
	for (i = 0; i < ndecl; i++) {
		if (push_ns(c, decl[i].prefix, decl[i].href) == -1)
			goto done;
		if (decl[i].prefix != NULL) {
			puts_(c, " xmlns:");
			puts_(c, (const char *)decl[i].prefix);
			puts_(c, "=\"");
		} else
			puts_(c, " xmlns=\"");
		put_escaped(c, decl[i].href, ESC_ATTR);
		put(c, "\"", 1);
	}
	for (i = 0; i < nattr; i++) {
		put(c, " ", 1);
		put_qname(c, attrs[i]->ns, attrs[i]->name);
		puts_(c, "=\"");
		if (put_attr_children(c, attrs[i]) == -1)
			goto done;
		put(c, "\"", 1);
	}
	put(c, ">", 1);
	rc = c->error != NULL ? -1 : 0;
done:
	if (attrs != few)
		free(attrs);
	return rc;
}

int
c14n_end(struct c14n *c, xmlNodePtr e)
{
	if (c->error != NULL)
		return -1;
	while (c->nns > 0 && c->ns[c->nns - 1].depth == c->depth)
		c->nns--;
	c->depth--;
	puts_(c, "</");
	put_qname(c, e->ns, e->name);
	put(c, ">", 1);
	return c->error != NULL ? -1 : 0;
}

/* A node that is not an element, inside the root element or beside it. */
static int
leaf(struct c14n *c, xmlNodePtr n, bool top, bool after_root)
{
	switch (n->type) {
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		if (n->content != NULL)
			put_escaped(c, n->content, ESC_TEXT);
		return 0;
	case XML_COMMENT_NODE:
		return 0;
	case XML_PI_NODE:
		if (top && after_root)
			put(c, "\n", 1);
		puts_(c, "<?");
		puts_(c, (const char *)n->name);
		if (n->content != NULL) {
			put(c, " ", 1);
			put_escaped(c, n->content, ESC_PI);
		}
		puts_(c, "?>");
		if (top && !after_root)
			put(c, "\n", 1);
		return 0;
	default:
		return fail(c, "the document holds a node that cannot be "
		    "canonicalised (an entity reference?)");
	}
}

int
c14n_node(struct c14n *c, xmlNodePtr n, bool after_root)
{
	xmlNodePtr	top = n, cur = n;
	bool		at_top;

	if (c->error != NULL)
		return -1;
	at_top = n->parent == NULL || n->parent->type == XML_DOCUMENT_NODE;
	/* Depth first without recursion: the parser bounds the depth, but
	 * a stack is not needed. */
	while (cur != NULL) {
		if (cur->type == XML_ELEMENT_NODE) {
			if (!c14n_is_signature(cur)) {
				if (c14n_start(c, cur) == -1)
					return -1;
				if (cur->children != NULL) {
					cur = cur->children;
					continue;
				}
				if (c14n_end(c, cur) == -1)
					return -1;
			}
		} else if (leaf(c, cur, at_top && cur == top, after_root) == -1)
			return -1;
		/* next in document order, closing finished elements */
		while (cur != top && cur->next == NULL) {
			cur = cur->parent;
			if (c14n_end(c, cur) == -1)
				return -1;
		}
		cur = cur == top ? NULL : cur->next;
	}
	return c->error != NULL ? -1 : 0;
}
