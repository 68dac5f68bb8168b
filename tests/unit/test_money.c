/*
 * test_money.c: money_parse and money_format, exact decimal <-> fen.
 */
#include <stdint.h>

#include "money.h"
#include "unit.h"

static void
parse_good(void)
{
	static const struct {
		const char	*s;
		int64_t		 fen;
	} t[] = {
		{ "0", 0 },
		{ "0.00", 0 },
		{ "1", 100 },
		{ "1.5", 150 },
		{ "1.05", 105 },
		{ "4500.00", 450000 },
		{ "0.01", 1 },
		{ "007.10", 710 },
		{ "999999999999999.99", INT64_C(99999999999999999) },
	};
	size_t	i;
	int64_t	fen;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fen = -7;
		if (money_parse(t[i].s, &fen) != 0) {
			fprintf(stderr, "  refused \"%s\"\n", t[i].s);
			exit(1);
		}
		CHECK_INT(fen, t[i].fen);
	}
}

static void
parse_bad(void)
{
	static const char *const t[] = {
		"", "-1", "+1", "-0.01", " 1", "1 ", "1.", ".5", "1.234",
		"1.000", "1e3", "1E3", "1.0e1", "0x10", "1,000.00", "1..0",
		"1.2.3", "１", "NaN", "inf", "1\n",
		"1000000000000000",		/* 16 integer digits */
		"9999999999999999999999",	/* would overflow int64 */
	};
	size_t	i;
	int64_t	fen;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fen = -7;
		if (money_parse(t[i], &fen) != -1) {
			fprintf(stderr, "  accepted \"%s\"\n", t[i]);
			exit(1);
		}
		/* The contract: *fen untouched on refusal. */
		CHECK_INT(fen, -7);
	}
	CHECK(money_parse(NULL, &fen) == -1);
}

static void
format(void)
{
	char	buf[24];

	CHECK_INT(money_format(0, buf, sizeof(buf)), 4);
	CHECK_STR(buf, "0.00");
	CHECK_INT(money_format(1, buf, sizeof(buf)), 4);
	CHECK_STR(buf, "0.01");
	CHECK_INT(money_format(450000, buf, sizeof(buf)), 7);
	CHECK_STR(buf, "4500.00");
	CHECK_INT(money_format(-105, buf, sizeof(buf)), 5);
	CHECK_STR(buf, "-1.05");
	CHECK(money_format(INT64_MAX, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "92233720368547758.07");
	/* INT64_MIN has no positive twin; 24 bytes are enough for it. */
	CHECK(money_format(INT64_MIN, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "-92233720368547758.08");
}

static void
format_small_buffer(void)
{
	char	buf[8];

	/* "12345.67" needs 9 bytes with the NUL. */
	CHECK_INT(money_format(1234567, buf, 8), -1);
	CHECK_STR(buf, "");
	CHECK_INT(money_format(1234567, buf, 0), -1);
	CHECK_INT(money_format(123456, buf, 8), 7);
	CHECK_STR(buf, "1234.56");
}

/* Every amount we write must read back to itself. */
static void
round_trip(void)
{
	int64_t	v, back;
	char	buf[24];

	for (v = 0; v < 100000; v += 7) {
		CHECK(money_format(v, buf, sizeof(buf)) > 0);
		CHECK(money_parse(buf, &back) == 0);
		CHECK_INT(back, v);
	}
	CHECK(money_format(INT64_C(99999999999999999), buf, sizeof(buf)) > 0);
	CHECK(money_parse(buf, &back) == 0);
	CHECK_INT(back, INT64_C(99999999999999999));
}

const struct unit_case money_cases[] = {
	{ "parse_good", parse_good },
	{ "parse_bad", parse_bad },
	{ "format", format },
	{ "format_small_buffer", format_small_buffer },
	{ "round_trip", round_trip },
	{ NULL, NULL }
};
