/*
 * xmlsafe.h: hostile-input-safe XML parsing and schema validation.
 *
 * Parsing uses XML_PARSE_NONET only (never NOENT, DTDLOAD, HUGE) and refuses
 * any document carrying a DOCTYPE. The schemas are compiled into the binary
 * (proto/xsd/ and proto/iso20022/), loaded once, and read-only afterwards, so
 * one struct schemas may be shared by threads (one validation context each).
 */
#ifndef XMLSAFE_H
#define XMLSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>
#include "wagepay.h"

enum xsd_kind {
	XSD_PAIN001,		/* pain.001.001.10, official */
	XSD_PAIN002,		/* pain.002.001.11, official */
	XSD_CAMT053,		/* camt.053.001.08, official */
	XSD_CAMT054,		/* camt.054.001.08, official */
	XSD_ROSTER,		/* urn:wagepay:roster:1 */
	XSD_LINE,		/* urn:wagepay:line:1 */
	XSD_CORE,		/* urn:wagepay:core:1 */
	XSD_ALERT,		/* urn:wagepay:alert:1 */
	XSD_VOUCHER,		/* urn:wagepay:voucher:1 */
	XSD__COUNT
};

struct schemas;

/* Loads and compiles every schema. NULL with err set if one does not compile. */
struct schemas	*schemas_load(struct perr *err);
void		 schemas_free(struct schemas *);
/* 0 if doc is valid against kind; -1 with FF01 and the first error (line
 * number and message) in err->msg otherwise. */
int		 schemas_validate(const struct schemas *, enum xsd_kind kind,
		    xmlDocPtr doc, struct perr *err) WUR;

/*
 * Parses len bytes (len <= WP_MAX_TREE) into a document. NULL with FF01 if
 * the bytes are not well-formed XML, carry a DOCTYPE, or exceed the size.
 * The caller owns the returned document (xmlFreeDoc).
 */
xmlDocPtr	 xmlsafe_parse(const char *buf, size_t len, struct perr *err);

/*
 * The same parse, streaming: bytes are fed as they come and the tree grows
 * as they are parsed, validated on the way against one schema. The caller
 * may unlink and free finished nodes that are not the last child of an
 * open element (xmlsafe_stream_open and its ancestors). feed returns -1
 * once the document is known not to be well-formed (finish says why).
 * finish: -1 not well-formed (err, no tree); 1 well-formed but not valid
 * (err, *docp); 0 valid (*docp). The caller owns *docp.
 */
struct xmlsafe_stream;
struct xmlsafe_stream *xmlsafe_stream_new(const struct schemas *,
		    enum xsd_kind kind, struct perr *err);
void		 xmlsafe_stream_free(struct xmlsafe_stream *);
int		 xmlsafe_stream_feed(struct xmlsafe_stream *, const char *buf,
		    size_t len);
/* The tree so far (NULL before the first element), and its innermost open
 * element (NULL when none is open). */
xmlDocPtr	 xmlsafe_stream_doc(const struct xmlsafe_stream *);
xmlNodePtr	 xmlsafe_stream_open(const struct xmlsafe_stream *);
/* Elements parsed so far, freed or not. */
size_t		 xmlsafe_stream_elements(const struct xmlsafe_stream *);
/* True once the schema has found an error. */
bool		 xmlsafe_stream_invalid(const struct xmlsafe_stream *);
int		 xmlsafe_stream_finish(struct xmlsafe_stream *, xmlDocPtr *docp,
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
typedef bool	 xmlsafe_want_cb(void *arg, xmlNodePtr parent,
		    const xmlChar *localname, const xmlChar *uri);
typedef void	 xmlsafe_done_cb(void *arg, xmlNodePtr subtree);
int		 xmlsafe_stream_capture(struct xmlsafe_stream *,
		    xmlsafe_want_cb *want, xmlsafe_done_cb *done, void *arg);

/* The root element's namespace URI, or "" if none. */
const char	*xmlsafe_root_ns(xmlDocPtr doc);

/* Helpers for walking a validated document by namespace-qualified names. */
/* First child element of parent named name in namespace ns, or NULL. */
xmlNodePtr	 xmlsafe_child(xmlNodePtr parent, const char *ns, const char *name);
/* Follows a '/'-separated path of local names in namespace ns. */
xmlNodePtr	 xmlsafe_path(xmlNodePtr from, const char *ns, const char *path);
/* Copies the trimmed text of node into buf; -1 if absent or too long. */
int		 xmlsafe_text(xmlNodePtr node, char *buf, size_t len) WUR;
/* Malloc'd trimmed text of node, or NULL if absent. */
char		*xmlsafe_strdup(xmlNodePtr node);

#endif
