/*
 * fuzz_roster.c: a Roster as the daemon reads it, then written back out.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "roster.h"
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
	struct roster	*r;
	char		*out;
	size_t		 len;

	if ((doc = xmlsafe_parse((const char *)data, size, &err)) == NULL)
		return;
	fuzz_sink += schemas_validate(schemas, XSD_ROSTER, doc, &err);
	if ((r = roster_parse(doc, &err)) != NULL) {
		out = roster_build(r, &len);
		free(out);
		roster_free(r);
	}
	xmlFreeDoc(doc);
}
