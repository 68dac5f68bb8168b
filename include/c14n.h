/*
 * c14n.h: Exclusive XML Canonicalization 1.0 without comments
 * (http://www.w3.org/2001/10/xml-exc-c14n#), written piece by piece from a
 * libxml2 tree, so that a document may be canonicalised while it is still
 * being parsed and its finished parts freed (proto/sheetstream.c).
 *
 * The caller walks the document in order: c14n_start() for an element
 * whose children will follow one by one, c14n_node() for a complete node
 * (its whole subtree), c14n_end() to close what c14n_start opened. Every
 * ds:Signature element is left out with its subtree: the
 * enveloped-signature transform, for documents that carry exactly one
 * signature (xmlsig.c refuses the others). The output goes to a callback in
 * pieces. The same bytes as libxml2's xmlC14NDocSaveTo(EXCLUSIVE_1_0, no
 * comments) of the document with the signature unlinked; tests/unit/
 * test_c14n.c and tests/fuzz/fuzz_c14n.c compare the two.
 */
#ifndef C14N_H
#define C14N_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>

/* Receives canonical bytes; returns 0, or -1 to stop. */
typedef int	c14n_sink(void *arg, const unsigned char *buf, size_t len);

struct c14n;

struct c14n	*c14n_new(c14n_sink *sink, void *arg);
void		 c14n_free(struct c14n *);

/* Opens element e: its start tag, with the namespaces it renders. */
int		 c14n_start(struct c14n *, xmlNodePtr e);
/* Closes the element most recently opened by c14n_start. */
int		 c14n_end(struct c14n *, xmlNodePtr e);
/*
 * A complete node and its subtree. A child of the document (the root
 * element, or a processing instruction before or after it) needs
 * after_root: whether the root element has already been written, which
 * decides on which side of it the newline goes.
 */
int		 c14n_node(struct c14n *, xmlNodePtr n, bool after_root);
/* Writes what is buffered to the sink. 0, or -1 if anything failed. */
int		 c14n_flush(struct c14n *);
/* Why the canonicalisation failed, or NULL. */
const char	*c14n_error(const struct c14n *);
/* Elements written so far (for the caller's size limits). */
size_t		 c14n_elements(const struct c14n *);

/* True for a ds:Signature element (left out of the canonical form). */
bool		 c14n_is_signature(xmlNodePtr n);

#endif
