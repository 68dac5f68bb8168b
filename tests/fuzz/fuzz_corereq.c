/*
 * fuzz_corereq.c: the core feed's DebitRequest and LegalOrder, as the
 * daemon reads them (both parsers see every input).
 */
#include <stdlib.h>

#include <libxml/parser.h>

#include "corereq.h"
#include "fuzz.h"
#include "xmlsafe.h"

static struct schemas	*schemas;
/* results read only so that they count as used (gcc ignores a (void) cast
 * on warn_unused_result) */
static volatile int	fuzz_sink;

void
fuzz_init(void)
{
	struct perr	err;

	xmlInitParser();
	if ((schemas = schemas_load(&err)) == NULL)
		abort();
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
