/*
 * xmlout.h: helpers for the documents the bank writes as trees (alerts,
 * vouchers, statements), so that they can be signed before they are
 * serialized: text made safe for XML and cut to its ISO or wagepay length,
 * amounts in fen written as decimal yuan, and serialization. The text
 * check alone (xmlout_cut) serves documents written otherwise (pain.002).
 */
#ifndef XMLOUT_H
#define XMLOUT_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

/*
 * Appends <name>text</name> to parent, in parent's namespace. The text is
 * cut to max characters (never inside a multi-byte character), every byte
 * that is not part of an XML character becomes '?', and white space is
 * trimmed at both ends. A NULL or blank text writes fallback instead, or
 * nothing when fallback is NULL. Returns the new element, or parent itself
 * when nothing was written; NULL only on out-of-memory.
 */
xmlNodePtr	 xmlout_text(xmlNodePtr parent, const char *name, const char *text,
		    size_t max, const char *fallback);
/*
 * Sets *res to a malloc'd copy of s made safe as for xmlout_text: cut to
 * max characters, bytes that are not part of an XML character become '?',
 * white space trimmed at both ends. A NULL or blank s gives fallback made
 * safe the same way, or *res NULL ("leave it out") when fallback is NULL.
 * -1 only on out-of-memory.
 */
int		 xmlout_cut(const char *s, size_t max, const char *fallback,
		    char **res) WUR;
/* Appends an empty element <name/> in parent's namespace; NULL on
 * out-of-memory. */
xmlNodePtr	 xmlout_node(xmlNodePtr parent, const char *name);
/* Appends <name>123.45</name> for fen >= 0; -1 for a negative amount or
 * out-of-memory. */
int		 xmlout_amount(xmlNodePtr parent, const char *name, int64_t fen) WUR;
/* Sets an attribute, its value made safe as for xmlout_text; -1 on
 * out-of-memory. */
int		 xmlout_attr(xmlNodePtr node, const char *name, const char *value,
		    size_t max) WUR;
/* A new document whose root element is name in namespace ns (the default
 * namespace); NULL on out-of-memory. */
xmlDocPtr	 xmlout_doc(const char *ns, const char *name);
/* The document as UTF-8 with an XML declaration, malloc'd and
 * NUL-terminated, its length in *len; NULL on out-of-memory. */
char		*xmlout_dump(xmlDocPtr doc, size_t *len);

/*
 * A document written straight into memory, for those neither signed nor
 * small (payment orders). Every call appends; an out-of-memory is kept and
 * reported once, by xmlout_buf_finish. Texts are made safe and cut exactly
 * as by xmlout_text, and escaped.
 */
struct xmlout_buf {
	char	*data;
	size_t	 len, cap;
	bool	 oom;
};
/* An empty buffer of about hint bytes. */
void		 xmlout_buf_init(struct xmlout_buf *, size_t hint);
/* n bytes as they are: markup the caller wrote. */
void		 xmlout_buf_raw(struct xmlout_buf *, const char *s, size_t n);
/* <name>text</name>, as xmlout_text: fallback when text is blank, nothing
 * when both are. */
void		 xmlout_buf_text(struct xmlout_buf *, const char *name,
		    const char *text, size_t max, const char *fallback);
/* <name Ccy="ccy">123.45</name> (no attribute when ccy is NULL), fen >= 0. */
void		 xmlout_buf_amount(struct xmlout_buf *, const char *name,
		    int64_t fen, const char *ccy);
/* The bytes written (malloc'd, NUL-terminated, the caller's), their length
 * in *len; NULL after an out-of-memory. The buffer is empty afterwards. */
char		*xmlout_buf_finish(struct xmlout_buf *, size_t *len);

#endif
