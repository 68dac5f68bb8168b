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

/* The root element's namespace URI, or "" if none. */
const char	*xmlsafe_root_ns(xmlDocPtr doc);

/* Helpers for walking a validated document by namespace-qualified names. */
/* First child element of parent named name in namespace ns, or NULL. */
xmlNodePtr	 xmlsafe_child(xmlNodePtr parent, const char *ns, const char *name);
/* True if n is an element named name in namespace ns (NULL: none). */
bool		 xmlsafe_is(xmlNodePtr n, const char *ns, const char *name);
/* Follows a '/'-separated path of local names in namespace ns. */
xmlNodePtr	 xmlsafe_path(xmlNodePtr from, const char *ns, const char *path);
/* Copies the trimmed text of node into buf; -1 if absent or too long. */
int		 xmlsafe_text(xmlNodePtr node, char *buf, size_t len) WUR;
/* Malloc'd trimmed text of node, or NULL if absent. */
char		*xmlsafe_strdup(xmlNodePtr node);

#endif
