/*
 * sheetstream.h: a wage sheet read as a stream, the way the daemon reads
 * every sheet: bytes in as they come, a decision out, with memory bounded
 * by the sheet's header and one transaction rather than by its size.
 *
 * The checks and their order are those of the whole-tree path (xmlsafe_parse,
 * the root's namespace, schemas_validate, sigverify_sheet,
 * sheet_parse, the signer against UltmtDbtr), with the same messages: a
 * sheet gets the same answer whichever way it is read (tests/unit/
 * test_sheetstream.c reads every golden sheet both ways).
 */
#ifndef SHEETSTREAM_H
#define SHEETSTREAM_H

#include <stddef.h>
#include "sheet.h"
#include "xmlsafe.h"
#include "xmlsig.h"

/* Above this, a sheet is refused as unreadable (400): more elements alive
 * at once than a header, a signature and one transaction ever need. */
#define SHEETSTREAM_MAX_LIVE_ELEMENTS	20000

struct sheet_verdict {
	int		 status;	/* 0: to the database; else the HTTP
					 * status of the refusal (400, 200 with
					 * RJCT, 500) */
	struct perr	 err;		/* why, when status != 0 */
	char		 msg_id[WP_MAX35_LEN];	/* as written, or "" */
	struct sheet	*sheet;		/* status 0: the caller's to free */
	unsigned char	 body_sha256[SHA256_LEN];	/* of the bytes fed */
};

struct sheetstream;

struct sheetstream *sheetstream_new(const struct schemas *, struct perr *err);
/* The same reading with libxml2's tree builder making the transactions
 * too, as before proto/xmlarena.c: the reference the arena is held to by
 * tests/unit/test_sheetstream.c and tests/fuzz/fuzz_sheet.c. */
struct sheetstream *sheetstream_new_reference(const struct schemas *,
		    struct perr *err);
void		 sheetstream_free(struct sheetstream *);
/* Feeds the next bytes. -1 once the verdict is known to be a refusal:
 * feeding more is useless (but harmless). */
int		 sheetstream_feed(struct sheetstream *, const char *buf,
		    size_t len);
/* The sheet as read so far, for the daemon to send its lines ahead of the
 * verdict: its header, and lines[0..nlines) final, each as the verdict's
 * sheet will hold it. NULL before the header is read, and once reading
 * lines has stopped (then the verdict is a refusal). */
const struct sheet *sheetstream_sheet(const struct sheetstream *);
/* The end of the bytes: the verdict, against trust. */
void		 sheetstream_finish(struct sheetstream *, struct sigtrust *trust,
		    struct sheet_verdict *out);
/* After finish: the SHA-256 of the canonical form the signature was
 * checked against (the document without its signature), for tests to hold
 * to libxml2's; -1 if the reading stopped before it was complete. */
int		 sheetstream_c14n_sha256(const struct sheetstream *,
		    unsigned char md[SHA256_LEN]);

#endif
