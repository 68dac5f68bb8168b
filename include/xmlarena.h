/*
 * xmlarena.h: one subtree of a document being parsed, built from the
 * parser's SAX2 events into an arena instead of libxml2's tree, read as a
 * tree by the usual read-only code (proto/c14n.c, proto/sheet.c,
 * proto/xmlsafe.c's readers), then dropped at once (xmlstream's
 * capture, for proto/sheetstream.c's transactions).
 *
 * The nodes are libxml2's own structures, filled as xmlSAX2StartElementNs,
 * xmlSAX2Characters and their siblings fill them (names from the parser's
 * dictionary, namespaces declared and looked up the same way, adjacent text
 * coalesced, attribute values decoded), so that reading them gives what
 * reading libxml2's tree would. They must never be handed to libxml2
 * functions that modify or free a tree: they are not malloc'd one by one.
 *
 * The root's parent is the element of the real tree it belongs under, for
 * namespace lookups and for whoever walks up; it is not linked there.
 */
#ifndef XMLARENA_H
#define XMLARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/parser.h>

struct xmlarena;

struct xmlarena	*xmlarena_new(void);
void		 xmlarena_free(struct xmlarena *);

/*
 * An element starts (the arguments of startElementNs). The first one of a
 * subtree is its root, under outer; later ones go under the innermost open
 * element. -1: out of memory (the subtree is then unusable).
 */
int		 xmlarena_start(struct xmlarena *, xmlParserCtxtPtr ctxt,
		    xmlNodePtr outer, const xmlChar *localname,
		    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
		    const xmlChar **namespaces, int nb_attributes,
		    const xmlChar **attributes);
/* The innermost open element ends: the root when that was the root (the
 * subtree is complete), else NULL. */
xmlNodePtr	 xmlarena_end(struct xmlarena *);
/* Text or CDATA (type XML_TEXT_NODE or XML_CDATA_SECTION_NODE), a comment,
 * a processing instruction, in the innermost open element. Text may also
 * fail with XMLARENA_HUGE_TEXT: longer than libxml2's tree builder takes
 * (XML_MAX_TEXT_LENGTH without XML_PARSE_HUGE). */
#define XMLARENA_HUGE_TEXT	(-2)
int		 xmlarena_text(struct xmlarena *, xmlParserCtxtPtr ctxt,
		    xmlElementType type, const xmlChar *ch, int len);
int		 xmlarena_comment(struct xmlarena *, xmlParserCtxtPtr ctxt,
		    const xmlChar *value);
int		 xmlarena_pi(struct xmlarena *, xmlParserCtxtPtr ctxt,
		    const xmlChar *target, const xmlChar *data);
/* An element of the subtree is open; how many are. */
bool		 xmlarena_open(const struct xmlarena *);
unsigned int	 xmlarena_depth(const struct xmlarena *);
/* Drops the subtree (every node of it), keeping memory for the next. */
void		 xmlarena_reset(struct xmlarena *);

#endif
