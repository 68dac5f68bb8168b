/*
 * schemas.c: the XML Schemas every document is validated against, compiled
 * into the binary by proto/schemas_blob.S, and the validation of a parsed
 * document.
 *
 * Owns the compiled schemas (struct schemas), which are read-only after
 * schemas_load and may be shared by threads: each validation has its own
 * context. Errors are captured per context, never through libxml2's global
 * handlers, and cleaned as xmlsafe.c cleans a parser's
 * (xmlsafe_capture_error).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "xmlsafe.h"
#include "xmlsafeint.h"

/* The schemas, embedded by proto/schemas_blob.S. */
extern const char	xsd_pain001[], xsd_pain002[], xsd_camt053[],
			xsd_camt054[], xsd_roster[], xsd_line[], xsd_core[],
			xsd_alert[], xsd_voucher[];
extern const uint64_t	xsd_pain001_len, xsd_pain002_len, xsd_camt053_len,
			xsd_camt054_len, xsd_roster_len, xsd_line_len,
			xsd_core_len, xsd_alert_len, xsd_voucher_len;

static const struct {
	const char	*name;
	const char	*data;
	const uint64_t	*len;
} xsd_blobs[XSD__COUNT] = {
	[XSD_PAIN001] = { "pain.001.001.10", xsd_pain001, &xsd_pain001_len },
	[XSD_PAIN002] = { "pain.002.001.11", xsd_pain002, &xsd_pain002_len },
	[XSD_CAMT053] = { "camt.053.001.08", xsd_camt053, &xsd_camt053_len },
	[XSD_CAMT054] = { "camt.054.001.08", xsd_camt054, &xsd_camt054_len },
	[XSD_ROSTER] = { "roster", xsd_roster, &xsd_roster_len },
	[XSD_LINE] = { "line", xsd_line, &xsd_line_len },
	[XSD_CORE] = { "core", xsd_core, &xsd_core_len },
	[XSD_ALERT] = { "alert", xsd_alert, &xsd_alert_len },
	[XSD_VOUCHER] = { "voucher", xsd_voucher, &xsd_voucher_len },
};

/* Structured error handler of a schema parser or validation context. */
static void
schema_error_cb(void *data, xmlErrorPtr e)
{
	xmlsafe_capture_error(data, e);
}

const char *
schemas_name(enum xsd_kind kind)
{
	return xsd_blobs[kind].name;
}

/* The schemas' own error handlers write into a capture local to the call,
 * so a broken schema is reported with its line. Also initialises libxml2,
 * which must happen once before threads parse: schemas_load is called at
 * start-up, before the worker threads exist. */
struct schemas *
schemas_load(struct perr *err)
{
	struct schemas		*s;
	xmlSchemaParserCtxtPtr	 pctxt;
	struct capture		 cap;
	int			 k;

	xmlInitParser();
	perr_clear(err);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		perr_set(err, "WP99", "out of memory");
		return NULL;
	}
	for (k = 0; k < XSD__COUNT; k++) {
		memset(&cap, 0, sizeof(cap));
		pctxt = xmlSchemaNewMemParserCtxt(xsd_blobs[k].data,
		    (int)*xsd_blobs[k].len);
		if (pctxt == NULL) {
			perr_set(err, "WP99", "out of memory");
			goto fail;
		}
		xmlSchemaSetParserStructuredErrors(pctxt, schema_error_cb, &cap);
		s->schema[k] = xmlSchemaParse(pctxt);
		xmlSchemaFreeParserCtxt(pctxt);
		if (s->schema[k] == NULL) {
			perr_set(err, "WP99", "schema %s does not compile, "
			    "line %d: %s", xsd_blobs[k].name, cap.line,
			    cap.have ? cap.msg : "unknown error");
			goto fail;
		}
	}
	return s;
fail:
	schemas_free(s);
	return NULL;
}

void
schemas_free(struct schemas *s)
{
	int	k;

	if (s == NULL)
		return;
	for (k = 0; k < XSD__COUNT; k++)
		if (s->schema[k] != NULL)
			xmlSchemaFree(s->schema[k]);
	free(s);
}

/* A validation context per call: an xmlSchema is shareable between
 * threads, a validation context is not. */
int
schemas_validate(const struct schemas *s, enum xsd_kind kind, xmlDocPtr doc,
    struct perr *err)
{
	xmlSchemaValidCtxtPtr	vctxt;
	struct capture		cap;
	int			rc;

	perr_clear(err);
	if (s == NULL || (int)kind < 0 || (int)kind >= XSD__COUNT ||
	    s->schema[kind] == NULL || doc == NULL)
		return perr_set(err, "FF01", "no schema or no document");
	if ((vctxt = xmlSchemaNewValidCtxt(s->schema[kind])) == NULL)
		return perr_set(err, "FF01", "out of memory");
	memset(&cap, 0, sizeof(cap));
	xmlSchemaSetValidStructuredErrors(vctxt, schema_error_cb, &cap);
	rc = xmlSchemaValidateDoc(vctxt, doc);
	xmlSchemaFreeValidCtxt(vctxt);
	if (rc == 0)
		return 0;
	if (cap.have)
		return perr_set(err, "FF01", "not valid against %s at line %d: %s",
		    xsd_blobs[kind].name, cap.line, cap.msg);
	return perr_set(err, "FF01", "not valid against %s",
	    xsd_blobs[kind].name);
}
