/*
 * test_sheetlines.c: sheetlines_new's arrays, byte by byte, against
 * PostgreSQL's binary array format (array_send). The round trip through a
 * real server is db/sheetlines_round_trip in test_db.c.
 */
#include <stdint.h>

#include "sheetlines.h"
#include "unit.h"

static struct sheet_line	lines[2];
static struct sheet		sheet;

/* Two lines: a WAGE line, and a BACKPAY line refused in C (pre_code). */
static void
fill(void)
{
	memset(lines, 0, sizeof(lines));
	memset(&sheet, 0, sizeof(sheet));
	snprintf(lines[0].end_to_end_id, WP_MAX35_LEN, "E1");
	lines[0].amount = INT64_C(123456789012);
	lines[0].name = (char *)"\xe5\xbc\xa0\xe4\xb8\x89";	/* 张三 */
	snprintf(lines[0].id_number, WP_ID_NUMBER_LEN, "11010519491231002X");
	snprintf(lines[0].card, WP_CARD_LEN, "6222020200000000001");
	snprintf(lines[0].card_bank, WP_BANK_CODE_LEN, "102100099996");
	lines[0].kind = LINE_WAGE;
	snprintf(lines[0].month, WP_MONTH_LEN, "2000-01");
	lines[0].gross = 0;
	lines[0].days_worked = 22;
	snprintf(lines[0].confirmed_at, WP_DATETIME_LEN, "2024-03-31T18:00:00+08:00");
	snprintf(lines[0].confirm_method, 8, "SIGN");
	snprintf(lines[0].confirm_ref, sizeof(lines[0].confirm_ref), "R1");

	lines[1] = lines[0];
	snprintf(lines[1].end_to_end_id, WP_MAX35_LEN, "E2");
	lines[1].amount = 1;
	lines[1].kind = LINE_BACKPAY;
	snprintf(lines[1].month, WP_MONTH_LEN, "2024-03");
	lines[1].gross = -1;
	lines[1].days_worked = 0;
	snprintf(lines[1].err.code, sizeof(lines[1].err.code), "AC01");
	snprintf(lines[1].err.msg, sizeof(lines[1].err.msg), "card 6222****0001 fails its check digit");

	sheet.lines = lines;
	sheet.nlines = 2;
}

static uint32_t
get32(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | u[3];
}

static int64_t
get64(const char *p)
{
	return (int64_t)((uint64_t)get32(p) << 32 | get32(p + 4));
}

/* Checks the header of a one-dimensional array of n elements; returns the
 * first element. */
static const char *
header(const struct sheetlines *sl, int c, uint32_t oid, uint32_t has_null,
    uint32_t n)
{
	const char	*a = sl->values[c];

	CHECK_INT(sl->formats[c], 1);
	CHECK(sl->lengths[c] >= 20);
	CHECK_INT(get32(a), 1);			/* ndim */
	CHECK_INT(get32(a + 4), has_null);
	CHECK_INT(get32(a + 8), oid);
	CHECK_INT(get32(a + 12), n);		/* length */
	CHECK_INT(get32(a + 16), 1);		/* lower bound */
	return a + 20;
}

/* Checks a text element; returns the next one. */
static const char *
text_at(const char *p, const char *want)
{
	CHECK_INT(get32(p), strlen(want));
	CHECK(memcmp(p + 4, want, strlen(want)) == 0);
	return p + 4 + strlen(want);
}

static void
fixed_width(void)
{
	struct sheetlines	*sl;
	struct perr		 err;
	const char		*p;

	fill();
	perr_clear(&err);
	CHECK((sl = sheetlines_new(&sheet, &err)) != NULL);

	p = header(sl, SHEETLINES_AMOUNT, SHEETLINES_INT8OID, 0, 2);
	CHECK_INT(get32(p), 8);
	CHECK_INT(get64(p + 4), INT64_C(123456789012));
	CHECK_INT(get32(p + 12), 8);
	CHECK_INT(get64(p + 16), 1);
	CHECK_INT(sl->lengths[SHEETLINES_AMOUNT], 20 + 2 * 12);

	p = header(sl, SHEETLINES_GROSS, SHEETLINES_INT8OID, 0, 2);
	CHECK_INT(get64(p + 4), 0);
	CHECK_INT(get64(p + 16), -1);		/* two's complement, as int8 */

	p = header(sl, SHEETLINES_DAYS, SHEETLINES_INT4OID, 0, 2);
	CHECK_INT(get32(p), 4);
	CHECK_INT(get32(p + 4), 22);
	CHECK_INT(get32(p + 12), 0);
	CHECK_INT(sl->lengths[SHEETLINES_DAYS], 20 + 2 * 8);

	/* days since 2000-01-01: 2024-03-01 is 8826 days later */
	p = header(sl, SHEETLINES_MONTH, SHEETLINES_DATEOID, 0, 2);
	CHECK_INT(get32(p), 4);
	CHECK_INT((int32_t)get32(p + 4), 0);
	CHECK_INT((int32_t)get32(p + 12), 8826);
	sheetlines_free(sl);
}

static void
text_and_null(void)
{
	struct sheetlines	*sl;
	struct perr		 err;
	const char		*p;

	fill();
	CHECK((sl = sheetlines_new(&sheet, &err)) != NULL);
	p = header(sl, SHEETLINES_NAME, SHEETLINES_TEXTOID, 0, 2);
	p = text_at(p, "\xe5\xbc\xa0\xe4\xb8\x89");
	p = text_at(p, "\xe5\xbc\xa0\xe4\xb8\x89");
	CHECK(p == sl->values[SHEETLINES_NAME] + sl->lengths[SHEETLINES_NAME]);

	p = header(sl, SHEETLINES_KIND, SHEETLINES_TEXTOID, 0, 2);
	p = text_at(text_at(p, "WAGE"), "BACKPAY");

	p = header(sl, SHEETLINES_E2E, SHEETLINES_TEXTOID, 0, 2);
	p = text_at(text_at(p, "E1"), "E2");

	/* line 1 has no pre-check refusal: NULL, and the flag says so */
	p = header(sl, SHEETLINES_PRE_CODE, SHEETLINES_TEXTOID, 1, 2);
	CHECK_INT(get32(p), UINT32_MAX);
	p = text_at(p + 4, "AC01");
	CHECK(p == sl->values[SHEETLINES_PRE_CODE] +
	    sl->lengths[SHEETLINES_PRE_CODE]);
	p = header(sl, SHEETLINES_PRE_TEXT, SHEETLINES_TEXTOID, 1, 2);
	CHECK_INT(get32(p), UINT32_MAX);
	text_at(p + 4, "card 6222****0001 fails its check digit");

	/* the arrays lie back to back in the one buffer, in column order */
	CHECK(sl->values[0] == sl->buf);
	CHECK(sl->values[SHEETLINES_PRE_TEXT] + sl->lengths[SHEETLINES_PRE_TEXT]
	    == sl->values[SHEETLINES_PRE_CODE] + sl->lengths[SHEETLINES_PRE_CODE]
	    + sl->lengths[SHEETLINES_PRE_TEXT]);
	sheetlines_free(sl);
}

/* The declared SQL types match the element OIDs written. */
static void
types(void)
{
	struct sheetlines	*sl;
	struct perr		 err;
	uint32_t		 oid;
	int			 c;

	fill();
	CHECK((sl = sheetlines_new(&sheet, &err)) != NULL);
	for (c = 0; c < SHEETLINES_NCOLS; c++) {
		oid = get32(sl->values[c] + 8);
		if (strcmp(sheetlines_sqltype[c], "text[]") == 0)
			CHECK_INT(oid, SHEETLINES_TEXTOID);
		else if (strcmp(sheetlines_sqltype[c], "int8[]") == 0)
			CHECK_INT(oid, SHEETLINES_INT8OID);
		else if (strcmp(sheetlines_sqltype[c], "int4[]") == 0)
			CHECK_INT(oid, SHEETLINES_INT4OID);
		else {
			CHECK_STR(sheetlines_sqltype[c], "date[]");
			CHECK_INT(oid, SHEETLINES_DATEOID);
		}
	}
	sheetlines_free(sl);
}

/* No lines: empty arrays (ndim 0), which unnest reads as no rows. */
static void
empty(void)
{
	struct sheetlines	*sl;
	struct perr		 err;
	int			 c;

	fill();
	sheet.nlines = 0;
	CHECK((sl = sheetlines_new(&sheet, &err)) != NULL);
	for (c = 0; c < SHEETLINES_NCOLS; c++) {
		CHECK_INT(sl->lengths[c], 12);
		CHECK_INT(get32(sl->values[c]), 0);
		CHECK_INT(get32(sl->values[c] + 4), 0);
	}
	sheetlines_free(sl);
	sheetlines_free(NULL);
}

static void
months(void)
{
	static const struct {
		const char	*month;
		int32_t		 days;
	} t[] = {
		{ "2000-01", 0 },
		{ "1999-12", -31 },
		{ "2000-03", 60 },		/* 2000 is a leap year */
		{ "2001-01", 366 },
		{ "1970-01", -10957 },
		{ "0001-01", -730119 },
		{ "9999-12", 2921909 },
	};
	struct sheetlines	*sl;
	struct perr		 err;
	size_t			 i;

	fill();
	sheet.nlines = 1;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(lines[0].month, WP_MONTH_LEN, "%s", t[i].month);
		CHECK((sl = sheetlines_new(&sheet, &err)) != NULL);
		if ((int32_t)get32(sl->values[SHEETLINES_MONTH] + 24) != t[i].days)
			fprintf(stderr, "  %s\n", t[i].month);
		CHECK_INT((int32_t)get32(sl->values[SHEETLINES_MONTH] + 24),
		    t[i].days);
		sheetlines_free(sl);
	}
}

static void
bad_month(void)
{
	static const char *const bad[] = {
		"2024-13", "2024-00", "0000-01", "2024-3", "2024/03", "", "20x4-03",
	};
	struct sheetlines	*sl;
	struct perr		 err;
	size_t			 i;

	fill();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(lines[1].month, WP_MONTH_LEN, "%s", bad[i]);
		perr_clear(&err);
		sl = sheetlines_new(&sheet, &err);
		CHECK(sl == NULL);
		CHECK_STR(err.code, "FF01");
	}
}

const struct unit_case sheetlines_cases[] = {
	{ "fixed_width", fixed_width },
	{ "text_and_null", text_and_null },
	{ "types", types },
	{ "empty", empty },
	{ "months", months },
	{ "bad_month", bad_month },
	{ NULL, NULL }
};
