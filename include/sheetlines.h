/*
 * sheetlines.h: a sheet's lines as PostgreSQL binary-format arrays, one
 * array per column, for the parameters of wp_sheet_submit
 * (proto/sheetlines.c). Pure: no I/O, no libpq.
 */
#ifndef SHEETLINES_H
#define SHEETLINES_H

#include "pii.h"
#include "sheet.h"
#include "wagepay.h"

/* The columns, in wp_sheet_submit's parameter order, with the SQL type each
 * array must be given (`$9::text[]`, ...). Element i is line i; the line's
 * sequence number is its position (unnest ... WITH ORDINALITY). */
enum sheetlines_col {
	SHEETLINES_E2E = 0,	/* text[]: EndToEndId */
	SHEETLINES_AMOUNT,	/* int8[]: fen */
	SHEETLINES_NAME,	/* text[]: Cdtr/Nm (with keys: its blind index) */
	SHEETLINES_IDN,		/* text[]: resident ID number (or its index) */
	SHEETLINES_CARD,	/* text[] (or its index) */
	SHEETLINES_BANK,	/* text[]: the card bank's CNAPS code */
	SHEETLINES_KIND,	/* text[]: WAGE | BACKPAY */
	SHEETLINES_MONTH,	/* date[]: the first of the line's month */
	SHEETLINES_GROSS,	/* int8[]: fen */
	SHEETLINES_DAYS,	/* int4[] */
	SHEETLINES_AT,		/* text[]: confirmed_at as received */
	SHEETLINES_METHOD,	/* text[] */
	SHEETLINES_REF,		/* text[] */
	SHEETLINES_PRE_CODE,	/* text[]: line->err's code, NULL when none */
	SHEETLINES_PRE_TEXT,	/* text[]: line->err's message, NULL when none */
	SHEETLINES_NCOLS,	/* the columns before 032; wp_sheet_submit's clock
				   comes after them, then: */
	SHEETLINES_PII = SHEETLINES_NCOLS,	/* bytea[]: sealed (NULL without keys) */
	SHEETLINES_ID_MASK,	/* text[]: what is shown of each (NULL without keys) */
	SHEETLINES_CARD_MASK,
	SHEETLINES_NAME_MASK,
	SHEETLINES_NALL
};

/* The element type OIDs of PostgreSQL's catalogue (pg_type.dat). */
#define SHEETLINES_INT4OID	23
#define SHEETLINES_INT8OID	20
#define SHEETLINES_TEXTOID	25
#define SHEETLINES_DATEOID	1082
#define SHEETLINES_BYTEAOID	17

/* Ready to pass to db_query_bin: values[c] is lengths[c] bytes, formats[c]
 * is 1 (binary). Read-only for the caller. */
struct sheetlines {
	const char	*values[SHEETLINES_NALL];	/* point into buf */
	int		 lengths[SHEETLINES_NALL];
	int		 formats[SHEETLINES_NALL];
	char		*buf;				/* owned: every array */
};

/* The SQL type of each column's array, "text[]" etc., in column order. */
extern const char *const sheetlines_sqltype[SHEETLINES_NALL];

/*
 * Builds the arrays of s's lines (one-dimensional, lower bound 1; an empty
 * sheet gives empty arrays). Returns NULL with err set (FF01) on out of
 * memory, an array over PostgreSQL's 1 GB field limit, or a line month that
 * is not YYYY-MM (sheet_parse never lets one through). Strings go as they
 * are: the server checks that they are valid in the client encoding.
 * The caller owns the result (sheetlines_free).
 */
struct sheetlines	*sheetlines_new(const struct sheet *s, struct perr *err)
			    WUR;
/*
 * The same with personal data at rest (032): with keys (else NULL, as
 * sheetlines_new), NAME, IDN and CARD are blind indexes, PII each line's
 * sealed record (pii_seal: one AES-256-GCM record a line) and the masks
 * what is shown of them; without keys those four arrays are all NULLs. keys is only read (a context of its own per call), so
 * worker threads may share it.
 */
struct sheetlines	*sheetlines_keyed(const struct sheet *s,
			    const struct pii_keys *keys, struct perr *err) WUR;
/* The same for lines first+1 .. first+count only (a batch). */
struct sheetlines	*sheetlines_range(const struct sheet *s, size_t first,
			    size_t count, const struct pii_keys *keys,
			    struct perr *err) WUR;
void			 sheetlines_free(struct sheetlines *);
/* Puts sl's arrays into params, lengths and formats from index first on,
 * leaving gap slots free after the first SHEETLINES_NCOLS (for what comes
 * between in the call, as wp_sheet_submit's clock). */
void			 sheetlines_params(const struct sheetlines *sl,
			    int first, int gap, const char **params,
			    int *lengths, int *formats);

#endif
