/*
 * fuzz_sheet.c: a wage sheet as the daemon reads it, as a stream
 * (proto/sheetstream.c), held to the whole-tree reading of the same bytes
 * (tests/common/tree_verdict.c), and its transactions built in the arena
 * to the same stream with libxml2 building them (sheetstream_new_reference,
 * and the same canonical form): a different decision aborts. The first
 * byte of the input also chooses the size of the pieces the stream is fed
 * in, so that the fuzzer explores where pieces end.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "tree_verdict.h"

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
	struct sheet_verdict	 tree, stream;
	size_t			 piece;
	const char		*why;

	piece = size > 0 && data[0] < 0x80 ? (size_t)data[0] * 37 + 1 : size;
	tree_verdict(schemas, trust, (const char *)data, size, &tree);
	stream_verdict(schemas, trust, (const char *)data, size, piece,
	    &stream);
	if ((why = verdict_differs(&tree, &stream)) != NULL) {
		fprintf(stderr, "stream and tree differ (%s), pieces of %zu:\n"
		    "  tree:   %d %s %s\n  stream: %d %s %s\n", why, piece,
		    tree.status, tree.err.code, tree.err.msg, stream.status,
		    stream.err.code, stream.err.msg);
		abort();
	}
	/* and the arena against libxml2's tree builder */
	if ((why = arena_differs(schemas, trust, (const char *)data, size,
	    piece)) != NULL) {
		fprintf(stderr, "arena and libxml2's tree differ (%s), pieces "
		    "of %zu\n", why, piece);
		abort();
	}
	fuzz_sink += tree.status;
	sheet_free(tree.sheet);
	sheet_free(stream.sheet);
}
