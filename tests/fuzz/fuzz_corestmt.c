/*
 * fuzz_corestmt.c: a camt.053 end-of-day statement as the core feed reads it.
 */
#include <stdlib.h>

#include "corestmt.h"
#include "fuzz.h"
#include "xmlsafe.h"

static const struct schemas	*schemas;

void
fuzz_init(void)
{
	schemas = fuzz_schemas();
}

void
fuzz_one(const uint8_t *data, size_t size)
{
	struct perr	 err;
	xmlDocPtr	 doc;

	if ((doc = xmlsafe_parse((const char *)data, size, &err)) == NULL)
		return;
	fuzz_sink += schemas_validate(schemas, XSD_CAMT054, doc, &err);
	corestmt_free(corestmt_parse(doc, &err));
	xmlFreeDoc(doc);
}
