/*
 * sheetlines.c: a parsed sheet's lines as PostgreSQL binary-format arrays,
 * one per column, sent as binary parameters of wp_sheet_submit. Measured
 * (tests/bench/RESULTS.md): unnest of typed arrays costs the server a
 * quarter of json_to_recordset, and building them a tenth of jansson.
 *
 * The format (array_recv): int32 ndim, int32 has-null flag, int32 element
 * type OID, per dimension int32 length and int32 lower bound, then per
 * element int32 byte length (-1 for NULL) and the bytes; every integer
 * big-endian. text is its bytes, int8/int4 big-endian, date int32 days
 * since 2000-01-01.
 *
 * With keys (032), a line's name, ID and card numbers go as their blind
 * indexes, one sealed record (proto/pii.c) and their masks, made as each
 * column is written (without keys those four columns are NULLs): an index is computed once, a record sealed once, straight into
 * its place; col_size knows their lengths without the crypto.
 *
 * Owns: the one buffer holding every array, until sheetlines_free.
 * Must not: judge a line (the database does, set-based), do I/O, or log
 * (the strings are workers' names, ID and card numbers).
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "sheetlines.h"

/* PostgreSQL's MaxAllocSize: no field, hence no array, may be larger. */
#define PG_MAX_FIELD	((size_t)0x3fffffff)
#define ARRAY_HEADER	20	/* ndim, flags, OID, length, lower bound */
#define EMPTY_HEADER	12	/* ndim 0: no dimension */
/* 2000-01-01, PostgreSQL's date epoch, in days since 1970-01-01. */
#define PG_EPOCH_DAYS	10957

const char *const sheetlines_sqltype[SHEETLINES_NALL] = {
	[SHEETLINES_E2E] = "text[]",
	[SHEETLINES_AMOUNT] = "int8[]",
	[SHEETLINES_NAME] = "text[]",
	[SHEETLINES_IDN] = "text[]",
	[SHEETLINES_CARD] = "text[]",
	[SHEETLINES_BANK] = "text[]",
	[SHEETLINES_KIND] = "text[]",
	[SHEETLINES_MONTH] = "date[]",
	[SHEETLINES_GROSS] = "int8[]",
	[SHEETLINES_DAYS] = "int4[]",
	[SHEETLINES_AT] = "text[]",
	[SHEETLINES_METHOD] = "text[]",
	[SHEETLINES_REF] = "text[]",
	[SHEETLINES_PRE_CODE] = "text[]",
	[SHEETLINES_PRE_TEXT] = "text[]",
	[SHEETLINES_PII] = "bytea[]",
	[SHEETLINES_ID_MASK] = "text[]",
	[SHEETLINES_CARD_MASK] = "text[]",
	[SHEETLINES_NAME_MASK] = "text[]",
};

/* What a column is written with: the keys' context (NULL: in clear), and
 * whether only the sizes are wanted (no index or seal computed). */
struct colctx {
	struct pii_ctx	*pii;
	bool		 sizing;
};

/* One element: len bytes at p, or SQL NULL. */
struct elem {
	const char	*p;
	size_t		 len;
	bool		 null;
	char		 be[8];		/* p for the fixed-width types */
	char		 scratch[PII_SEAL_MAX];	/* p for an index, a seal, a mask */
};

static uint32_t
col_oid(enum sheetlines_col c)
{
	switch (c) {
	case SHEETLINES_AMOUNT:
	case SHEETLINES_GROSS:
		return SHEETLINES_INT8OID;
	case SHEETLINES_DAYS:
		return SHEETLINES_INT4OID;
	case SHEETLINES_MONTH:
		return SHEETLINES_DATEOID;
	case SHEETLINES_PII:
		return SHEETLINES_BYTEAOID;
	default:
		return SHEETLINES_TEXTOID;
	}
}

static void
put32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static void
put64(char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil), as PostgreSQL counts them. */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
	long		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

/* "YYYY-MM" (years 1 to 9999) as a PostgreSQL date: the first of the month. */
static int
month_date(const char *s, int32_t *out)
{
	long		y = 0;
	unsigned	m;
	int		i;

	for (i = 0; i < 7; i++)
		if (i == 4 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	if (s[7] != '\0')
		return -1;
	for (i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	if (y < 1 || m < 1 || m > 12)
		return -1;
	*out = (int32_t)(days_from_civil(y, m, 1) - PG_EPOCH_DAYS);
	return 0;
}

static void
text_elem(struct elem *e, const char *s)
{
	e->null = s == NULL;
	e->p = s;
	e->len = s != NULL ? strlen(s) : 0;
}

static size_t
slen(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* A personal column of line l (name, ID, card: clear or its index; the
 * sealed record; a mask). -1 for a field too long to seal. */
static int
pii_elem(const struct sheet_line *l, enum sheetlines_col c, struct elem *e,
    const struct colctx *x)
{
	static const enum pii_field	field[] = {
		[SHEETLINES_NAME] = PII_NAME, [SHEETLINES_IDN] = PII_IDN,
		[SHEETLINES_CARD] = PII_CARD,
	};
	const char	*v = c == SHEETLINES_NAME ? l->name :
	    c == SHEETLINES_IDN ? l->id_number : l->card;
	struct perr	 err;

	e->null = false;
	e->p = e->scratch;
	switch (c) {
	case SHEETLINES_NAME:
	case SHEETLINES_IDN:
	case SHEETLINES_CARD:
		if (x->pii == NULL) {
			text_elem(e, v);
			return 0;
		}
		e->len = PII_INDEX_LEN;
		if (!x->sizing)
			pii_index(x->pii, field[c], v, slen(v), e->scratch);
		return 0;
	case SHEETLINES_PII:
	case SHEETLINES_ID_MASK:
	case SHEETLINES_CARD_MASK:
	case SHEETLINES_NAME_MASK:
		if (x->pii == NULL) {	/* in clear: as before 032 */
			text_elem(e, NULL);
			return 0;
		}
		break;
	default:
		break;
	}
	switch (c) {
	case SHEETLINES_PII:
		if (slen(l->id_number) > PII_FIELD_MAX ||
		    slen(l->name) > PII_FIELD_MAX || slen(l->card) > PII_FIELD_MAX)
			return -1;
		e->len = PII_SEAL_OVERHEAD + 6 + slen(l->id_number) +
		    slen(l->name) + slen(l->card);
		if (!x->sizing && pii_seal(x->pii, l->id_number, l->name,
		    l->card, (uint8_t *)e->scratch, &e->len, &err) == -1)
			return -1;
		return 0;
	case SHEETLINES_ID_MASK:
		ids_mask(l->id_number, e->scratch, sizeof(e->scratch));
		break;
	case SHEETLINES_CARD_MASK:
		ids_mask(l->card, e->scratch, sizeof(e->scratch));
		break;
	default:
		pii_mask_name(l->name, e->scratch, sizeof(e->scratch));
		break;
	}
	e->len = strlen(e->scratch);
	return 0;
}

/* Column c of line l. -1 only for a month that is not YYYY-MM, or a field
 * too long to seal. */
static int
line_elem(const struct sheet_line *l, enum sheetlines_col c, struct elem *e,
    const struct colctx *x)
{
	int32_t	days;
	bool	pre = l->err.code[0] != '\0';

	switch (c) {
	case SHEETLINES_AMOUNT:
	case SHEETLINES_GROSS:
		put64(e->be, (uint64_t)(c == SHEETLINES_AMOUNT ? l->amount :
		    l->gross));
		e->len = 8;
		break;
	case SHEETLINES_DAYS:
		put32(e->be, (uint32_t)(int32_t)l->days_worked);
		e->len = 4;
		break;
	case SHEETLINES_MONTH:
		if (month_date(l->month, &days) == -1)
			return -1;
		put32(e->be, (uint32_t)days);
		e->len = 4;
		break;
	case SHEETLINES_E2E:
		text_elem(e, l->end_to_end_id);
		return 0;
	case SHEETLINES_NAME:
	case SHEETLINES_IDN:
	case SHEETLINES_CARD:
	case SHEETLINES_PII:
	case SHEETLINES_ID_MASK:
	case SHEETLINES_CARD_MASK:
	case SHEETLINES_NAME_MASK:
		return pii_elem(l, c, e, x);
	case SHEETLINES_BANK:
		text_elem(e, l->card_bank);
		return 0;
	case SHEETLINES_KIND:
		text_elem(e, l->kind == LINE_WAGE ? "WAGE" : "BACKPAY");
		return 0;
	case SHEETLINES_AT:
		text_elem(e, l->confirmed_at);
		return 0;
	case SHEETLINES_METHOD:
		text_elem(e, l->confirm_method);
		return 0;
	case SHEETLINES_REF:
		text_elem(e, l->confirm_ref);
		return 0;
	case SHEETLINES_PRE_CODE:
		text_elem(e, pre ? l->err.code : NULL);
		return 0;
	case SHEETLINES_PRE_TEXT:
		text_elem(e, pre ? l->err.msg : NULL);
		return 0;
	default:
		return -1;
	}
	e->null = false;
	e->p = e->be;
	return 0;
}

/* The byte size of column c's array; 0 if it cannot be sent. */
static size_t
col_size(const struct sheet *s, enum sheetlines_col c, struct colctx *x)
{
	struct elem	e;
	size_t		i, size;

	if (s->nlines == 0)
		return EMPTY_HEADER;
	size = ARRAY_HEADER;
	for (i = 0; i < s->nlines; i++) {
		if (line_elem(&s->lines[i], c, &e, x) == -1)
			return 0;
		size += 4 + (e.null ? 0 : e.len);
		if (size > PG_MAX_FIELD)
			return 0;
	}
	return size;
}

/* Writes column c's array at out, which col_size(s, c) bytes fit; -1 if
 * a record could not be sealed. */
static int
col_write(const struct sheet *s, enum sheetlines_col c, char *out,
    const struct colctx *x)
{
	struct elem	e;
	size_t		i;
	char		*p;
	bool		has_null = false;

	put32(out + 8, col_oid(c));
	if (s->nlines == 0) {
		put32(out, 0);
		put32(out + 4, 0);
		return 0;
	}
	put32(out, 1);
	put32(out + 12, (uint32_t)s->nlines);
	put32(out + 16, 1);
	p = out + ARRAY_HEADER;
	for (i = 0; i < s->nlines; i++) {
		/* col_size checked the lengths; a seal may still fail */
		if (line_elem(&s->lines[i], c, &e, x) == -1)
			return -1;
		if (e.null) {
			put32(p, UINT32_MAX);		/* -1 */
			p += 4;
			has_null = true;
			continue;
		}
		put32(p, (uint32_t)e.len);
		memcpy(p + 4, e.p, e.len);
		p += 4 + e.len;
	}
	put32(out + 4, has_null ? 1 : 0);
	return 0;
}

struct sheetlines *
sheetlines_new(const struct sheet *s, struct perr *err)
{
	return sheetlines_keyed(s, NULL, err);
}

/* Sizes every column into size[]; -1 with err when one cannot be sent. */
static int
sizes(const struct sheet *s, struct colctx *x, size_t size[], size_t *total,
    struct perr *err)
{
	int	c;

	x->sizing = true;
	*total = 0;
	for (c = 0; c < SHEETLINES_NALL; c++) {
		if ((size[c] = col_size(s, (enum sheetlines_col)c, x)) == 0)
			return perr_set(err, "FF01", "the lines' column %d "
			    "cannot be sent to the database", c);
		*total += size[c];
	}
	x->sizing = false;
	return 0;
}

struct sheetlines *
sheetlines_keyed(const struct sheet *s, const struct pii_keys *keys,
    struct perr *err)
{
	struct sheetlines	*sl = NULL;
	struct colctx		 x = { NULL, false };
	size_t			 size[SHEETLINES_NALL], total = 0, off = 0;
	int			 c;

	if (s->nlines > INT32_MAX) {
		perr_set(err, "FF01", "too many lines for one call");
		return NULL;
	}
	if (keys != NULL && (x.pii = pii_ctx_new(keys)) == NULL) {
		perr_set(err, "FF01", "out of memory");
		return NULL;
	}
	if (sizes(s, &x, size, &total, err) == -1)
		goto fail;
	if ((sl = calloc(1, sizeof(*sl))) == NULL ||
	    (sl->buf = malloc(total)) == NULL) {
		perr_set(err, "FF01", "out of memory");
		goto fail;
	}
	for (c = 0; c < SHEETLINES_NALL; c++) {
		if (col_write(s, (enum sheetlines_col)c, sl->buf + off,
		    &x) == -1) {
			perr_set(err, "FF01", "could not seal a line's "
			    "personal data");
			goto fail;
		}
		sl->values[c] = sl->buf + off;
		sl->lengths[c] = (int)size[c];
		sl->formats[c] = 1;
		off += size[c];
	}
	pii_ctx_free(x.pii);
	return sl;
fail:
	pii_ctx_free(x.pii);
	sheetlines_free(sl);
	return NULL;
}

struct sheetlines *
sheetlines_range(const struct sheet *s, size_t first, size_t count,
    const struct pii_keys *keys, struct perr *err)
{
	struct sheet	view;

	if (first > s->nlines || count > s->nlines - first) {
		perr_set(err, "FF01", "lines %zu..%zu are not in the sheet",
		    first + 1, first + count);
		return NULL;
	}
	view = *s;
	view.lines = s->lines + first;
	view.nlines = count;
	return sheetlines_keyed(&view, keys, err);
}

void
sheetlines_params(const struct sheetlines *sl, int first, int gap,
    const char **params, int *lengths, int *formats)
{
	int	i, k;

	for (i = 0; i < SHEETLINES_NALL; i++) {
		k = first + i + (i >= SHEETLINES_NCOLS ? gap : 0);
		params[k] = sl->values[i];
		lengths[k] = sl->lengths[i];
		formats[k] = sl->formats[i];
	}
}

void
sheetlines_free(struct sheetlines *sl)
{
	if (sl == NULL)
		return;
	free(sl->buf);
	free(sl);
}
