/*
 * fuzz_corereq.c: the core feed's DebitRequest and LegalOrder, as the
 * daemon reads them (both parsers see every input).
 */
#include <stdlib.h>

#include "corereq.h"
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
	struct perr		 err;
	xmlDocPtr		 doc;
	struct debit_request	 d;
	struct legal_order	 o;

	if ((doc = xmlsafe_parse((const char *)data, size, &err)) == NULL)
		return;
	fuzz_sink += schemas_validate(schemas, XSD_CORE, doc, &err);
	fuzz_sink += corereq_debit_parse(doc, &d, &err);
	fuzz_sink += corereq_order_parse(doc, &o, &err);
	xmlFreeDoc(doc);
}
