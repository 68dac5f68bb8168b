/*
 * tree_verdict.h: the reference the streaming read of a sheet is held to,
 * shared by tests/unit/test_sheetstream.c and tests/fuzz/fuzz_sheet.c: the
 * checks of a sheet one after the other on the whole tree, as the daemon
 * made them before it read sheets as streams.
 */
#ifndef TREE_VERDICT_H
#define TREE_VERDICT_H

#include "sheetstream.h"

void	tree_verdict(const struct schemas *, struct sigtrust *,
	    const char *buf, size_t len, struct sheet_verdict *v);
/* The verdict of buf fed to a sheetstream in pieces of piece bytes. */
void	stream_verdict(const struct schemas *, struct sigtrust *,
	    const char *buf, size_t len, size_t piece, struct sheet_verdict *v);
/* buf read as the daemon reads it (transactions in the arena) and by
 * sheetstream_new_reference (libxml2's tree builder): NULL if the two give
 * the same verdict (verdict_differs) and the same canonical form; else
 * what differs (both verdicts printed to stderr). Which error a document
 * that is not well-formed is refused with may differ: libxml2 reports
 * duplicate xml:id values while it builds, as a first error of a document
 * refused later for another reason, and its streaming reader forgot those
 * of a transaction once freed, so that the message depended on where the
 * pieces ended. */
const char *arena_differs(const struct schemas *, struct sigtrust *,
	    const char *buf, size_t len, size_t piece);
/* NULL if a and b are the same decision, else what differs. */
const char *verdict_differs(const struct sheet_verdict *a,
	    const struct sheet_verdict *b);

#endif
