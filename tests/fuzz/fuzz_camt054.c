/*
 * fuzz_camt054.c: a camt.054 notification as the core feed reads it.
 */
#include <stdlib.h>

#include "camt054.h"
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
	camt054_free(camt054_parse(doc, &err));
	xmlFreeDoc(doc);
}
