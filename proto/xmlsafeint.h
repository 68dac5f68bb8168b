/*
 * xmlsafeint.h: what proto/xmlsafe.c (whole documents, schemas) and
 * proto/xmlstream.c (the streaming parse) share, and nothing else
 * includes: the parse options, the hardening of a parser context, the
 * capture of its first error and the verdict on a parse.
 */
#ifndef XMLSAFEINT_H
#define XMLSAFEINT_H

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "xmlsafe.h"

#define PARSE_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

struct schemas {
	xmlSchemaPtr	 schema[XSD__COUNT];	/* owned, read-only once loaded */
};

/*
 * The first error a context reported; later ones are usually consequences.
 * refused is set by our own SAX hooks (DOCTYPE, entity declaration), which
 * stop the parser without libxml2 counting the document as broken.
 */
struct capture {
	int		 have;
	int		 line;
	char		 msg[200];
	const char	*refused;
	size_t		 elements;	/* started so far (streams count them) */
	struct xmlstream *stream;	/* whose parser this is, if a stream's */
};

/* Records e in cap if it is the first error (warnings are not). */
void		 xmlsafe_capture_error(struct capture *cap, const xmlError *e);
/* A parser context's structured error handler (cap in ctxt->_private). */
void		 xmlsafe_parse_error_cb(void *data, xmlErrorPtr e);
/* Every parser context we make: errors captured, DOCTYPE and entity
 * declarations refused. */
void		 xmlsafe_harden(xmlParserCtxtPtr ctxt, struct capture *cap);
/* After the parse: FF01 in err unless doc is a well-formed document with a
 * root element and no DOCTYPE. */
int		 xmlsafe_parse_verdict(xmlParserCtxtPtr ctxt,
		    const struct capture *cap, xmlDocPtr doc, struct perr *err);
/* The schema's name, for messages. */
const char	*schemas_name(enum xsd_kind kind);

#endif
