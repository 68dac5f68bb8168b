/*
 * fuzz_sheet.c: a wage sheet as the daemon reads it: safe parse, the
 * official pain.001 schema, the signature checks, the bank profile.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "sheet.h"
#include "xmlsafe.h"
#include "xmlsig.h"

static const struct schemas	*schemas;
static struct sigtrust	*trust;

void
fuzz_init(void)
{
	struct perr	err;

	schemas = fuzz_schemas();
	if (xmlsig_init() == -1 ||
	    (trust = sigtrust_load("tests/data/xmlsig/sub-ca.pem", &err)) == NULL)
		abort();
}

void
fuzz_one(const uint8_t *data, size_t size)
{
	struct perr	 err;
	xmlDocPtr	 doc;
	struct sheet	*s;
	char		 signer[WP_USCC_LEN];

	if ((doc = xmlsafe_parse((const char *)data, size, &err)) == NULL)
		return;
	/* the profile and the signature are read whether or not the schema
	 * passed, to reach more of both */
	fuzz_sink += schemas_validate(schemas, XSD_PAIN001, doc, &err);
	fuzz_sink += sigtrust_verify_sheet(trust, doc, signer, &err);
	s = sheet_parse(doc, &err);
	sheet_free(s);
	xmlFreeDoc(doc);
}
