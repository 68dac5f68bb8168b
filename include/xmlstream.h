/*
 * xmlstream.h: the hostile-input-safe parse of xmlsafe.h as a stream
 * (proto/xmlstream.c), with the same hardening, validating as bytes arrive.
 */
#ifndef XMLSTREAM_H
#define XMLSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "xmlsafe.h"

/*
 * xmlsafe_parse, streaming: bytes are fed as they come and the tree grows
 * as they are parsed, validated on the way against one schema. The caller
 * may unlink and free finished nodes that are not the last child of an
 * open element (xmlstream_open and its ancestors). feed returns -1
 * once the document is known not to be well-formed (finish says why).
 * finish: -1 not well-formed (err, no tree); 1 well-formed but not valid
 * (err, *docp); 0 valid (*docp). The caller owns *docp.
 */
struct xmlstream;
struct xmlstream *xmlstream_new(const struct schemas *,
		    enum xsd_kind kind, struct perr *err);
void		 xmlstream_free(struct xmlstream *);
int		 xmlstream_feed(struct xmlstream *, const char *buf,
		    size_t len);
/* The tree so far (NULL before the first element), and its innermost open
 * element (NULL when none is open). */
xmlDocPtr	 xmlstream_doc(const struct xmlstream *);
xmlNodePtr	 xmlstream_open(const struct xmlstream *);
/* Elements parsed so far, freed or not. */
size_t		 xmlstream_elements(const struct xmlstream *);
/* True once the schema has found an error. */
bool		 xmlstream_invalid(const struct xmlstream *);
int		 xmlstream_finish(struct xmlstream *, xmlDocPtr *docp,
		    struct perr *err);

/*
 * Subtrees the caller reads once and drops, built in an arena
 * (include/xmlarena.h) instead of the tree: want is asked at each element
 * that starts outside such a subtree, with the open element it starts in;
 * if it says yes, that element and all inside it go to the arena, never
 * into the tree, and done is given the whole subtree at its end tag, which
 * is dropped when done returns. want may free finished parts of the tree
 * (as the caller may between feeds); done must not keep the subtree's
 * nodes. -1: out of memory.
 */
typedef bool	 xmlstream_want_cb(void *arg, xmlNodePtr parent,
		    const xmlChar *localname, const xmlChar *uri);
typedef void	 xmlstream_done_cb(void *arg, xmlNodePtr subtree);
int		 xmlstream_capture(struct xmlstream *,
		    xmlstream_want_cb *want, xmlstream_done_cb *done, void *arg);

#endif
