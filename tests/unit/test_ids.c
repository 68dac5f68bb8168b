/*
 * test_ids.c: check characters of resident IDs (GB 11643), credit codes
 * (GB 32100) and cards (Luhn), and masking.
 *
 * The valid examples below are made up; their check characters are worked
 * out by hand in the comments, so that the test does not only compare the
 * code with itself. Each one is then corrupted in every position with every
 * other allowed character, and every corruption must be refused: all three
 * schemes detect any single substitution.
 */
#include <string.h>

#include "ids.h"
#include "unit.h"

/*
 * GB 11643, weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, check = "10X98765432"
 * indexed by (sum mod 11).
 *
 * 11010519491231002X (the standard's own example):
 *   1*7 + 1*9 + 0*10 + 1*5 + 0*8 + 5*4 + 1*2 + 9*1 + 4*6 + 9*3
 *   + 1*7 + 2*9 + 3*10 + 1*5 + 0*8 + 0*4 + 2*2
 *   = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> 'X'
 * 410102198511205616:
 *   28+9+0+5+0+8+2+9+48+15+7+9+20+0+40+24+2 = 226; 226 mod 11 = 6 -> '6'
 * 411022199208150021:
 *   28+9+10+0+16+8+2+9+54+6+0+72+10+25+0+0+4 = 253; 253 mod 11 = 0 -> '1'
 * 440304200102290003: right check digit (185 mod 11 = 9 -> '3') but
 *   2001-02-29 does not exist.
 */
static const char *const good_ids[] = {
	"11010519491231002X",
	"410102198511205616",
	"411022199208150021",
};

/*
 * GB 32100, alphabet 0-9 A-H J-N P-R T U W-Y (A=10 ... Y=30), weights
 * 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28, check = 31 - (sum mod 31),
 * 31 -> '0'.
 *
 * 91350100M000100Y43: 9*1 + 1*3 + 3*9 + 5*27 + 0 + 1*26 + 0 + 0 + M(21)*20
 *   + 0 + 0 + 0 + 1*8 + 0 + 0 + Y(30)*30 + 4*28
 *   = 9+3+27+135+26+420+8+900+112 = 1640; 1640 mod 31 = 28; 31-28 = 3 -> '3'
 * 92410102MA9F12345X: 9+6+36+27+0+26+0+34+M(21)*20=420+A(10)*29=290
 *   +9*25=225+F(15)*13=195+8+48+30+120+140 = 1614; 1614 mod 31 = 2;
 *   31-2 = 29 -> 'X'
 * 91410100MA44XXXX0J: 9+3+36+27+0+26+0+0+420+290+100+52+X(29)*8=232
 *   +29*24=696+290+870+0 = 3051; 3051 mod 31 = 13; 31-13 = 18 -> 'J'
 */
static const char *const good_usccs[] = {
	"91350100M000100Y43",
	"92410102MA9F12345X",
	"91410100MA44XXXX0J",
};

/*
 * Luhn: from the right, double every second digit starting with the one
 * left of the check digit (subtract 9 above 9), check = (10 - sum mod 10)
 * mod 10.
 * 621700123456789012|2: doubled from the right: 2->4, 0, 9->9(18-9), ...
 *   digit values 6,4,1,5,0,0,1,4,3,8,5,3,7,7,9,0,1,4 sum 68 -> 2
 * 6222021234567890|3: 6,4,2,4,0,4,1,4,3,8,5,3,7,7,9,0 sum 67 -> 3
 * 62258812345678|4: 6,4,2,1,8,7,1,4,3,8,5,3,7,7 sum 66 -> 4  (15 digits)
 */
static const char *const good_cards[] = {
	"6217001234567890122",
	"62220212345678903",
	"622588123456784",
};

/* Tries every single-character substitution of s with the characters of
 * alphabet; each one must be refused by valid(). */
static void
every_corruption(const char *s, const char *alphabet, bool (*valid)(const char *))
{
	char		 buf[64];
	size_t		 i, n = strlen(s);
	const char	*a;

	for (i = 0; i < n; i++) {
		for (a = alphabet; *a != '\0'; a++) {
			if (*a == s[i])
				continue;
			memcpy(buf, s, n + 1);
			buf[i] = *a;
			if (valid(buf)) {
				fprintf(stderr, "  accepted corruption %s of %s\n",
				    buf, s);
				exit(1);
			}
		}
	}
}

static void
resident_good(void)
{
	size_t	i;
	char	first17[18];

	for (i = 0; i < sizeof(good_ids) / sizeof(good_ids[0]); i++) {
		CHECK(ids_resident_id_valid(good_ids[i]));
		memcpy(first17, good_ids[i], 17);
		first17[17] = '\0';
		CHECK_INT(ids_resident_id_check(first17), good_ids[i][17]);
	}
}

static void
resident_corrupt(void)
{
	size_t	i;

	for (i = 0; i < sizeof(good_ids) / sizeof(good_ids[0]); i++)
		every_corruption(good_ids[i], "0123456789X", ids_resident_id_valid);
}

static void
resident_bad(void)
{
	CHECK(!ids_resident_id_valid(NULL));
	CHECK(!ids_resident_id_valid(""));
	CHECK(!ids_resident_id_valid("11010519491231002x"));	/* lower case x */
	CHECK(!ids_resident_id_valid("11010519491231002"));	/* 17 */
	CHECK(!ids_resident_id_valid("11010519491231002X0"));	/* 19 */
	CHECK(!ids_resident_id_valid(" 11010519491231002X"));
	CHECK(!ids_resident_id_valid("440304200102290003"));	/* no Feb 29 in 2001 */
	/* Right check digits, impossible birth dates (month 13, 1899). */
	CHECK_INT(ids_resident_id_check("41010519901307123"), '3');
	CHECK(!ids_resident_id_valid("410105199013071233"));
	CHECK_INT(ids_resident_id_check("41010518991207123"), '8');
	CHECK(!ids_resident_id_valid("410105189912071238"));
	CHECK_INT(ids_resident_id_check("1101051949123100"), '?');
	CHECK_INT(ids_resident_id_check("1101051949123100A"), '?');
	/* 2000 is a leap year: 2000-02-29 exists. */
	CHECK_INT(ids_resident_id_check("44030420000229000"), '6');
	CHECK(ids_resident_id_valid("440304200002290006"));
}

static void
uscc_good(void)
{
	size_t	i;
	char	first17[18];

	for (i = 0; i < sizeof(good_usccs) / sizeof(good_usccs[0]); i++) {
		CHECK(ids_uscc_valid(good_usccs[i]));
		memcpy(first17, good_usccs[i], 17);
		first17[17] = '\0';
		CHECK_INT(ids_uscc_check(first17), good_usccs[i][17]);
	}
}

static void
uscc_corrupt(void)
{
	size_t	i;

	for (i = 0; i < sizeof(good_usccs) / sizeof(good_usccs[0]); i++)
		every_corruption(good_usccs[i],
		    "0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZa", ids_uscc_valid);
}

static void
uscc_bad(void)
{
	CHECK(!ids_uscc_valid(NULL));
	CHECK(!ids_uscc_valid(""));
	CHECK(!ids_uscc_valid("91350100m000100Y43"));	/* lower case */
	CHECK(!ids_uscc_valid("91350100M000100Y4"));
	CHECK(!ids_uscc_valid("91350100M000100Y430"));
	CHECK_INT(ids_uscc_check("91350100I000100Y4"), '?');	/* I not allowed */
	CHECK_INT(ids_uscc_check("91350100M000100Y"), '?');
	/* A sum that is a multiple of 31 gives 31 -> '0': sum 1640 - 28 = 1612
	 * = 52 * 31; lowering the 17th character's value by one (weight 28)
	 * from '4' to '3' lowers the sum by 28. */
	CHECK_INT(ids_uscc_check("91350100M000100Y3"), '0');
	CHECK(ids_uscc_valid("91350100M000100Y30"));
}

static void
card_good(void)
{
	size_t	i, n;
	char	body[32];

	for (i = 0; i < sizeof(good_cards) / sizeof(good_cards[0]); i++) {
		CHECK(ids_card_valid(good_cards[i]));
		n = strlen(good_cards[i]);
		memcpy(body, good_cards[i], n - 1);
		body[n - 1] = '\0';
		CHECK_INT(ids_luhn_check(body), good_cards[i][n - 1]);
	}
}

static void
card_corrupt(void)
{
	size_t	i;

	for (i = 0; i < sizeof(good_cards) / sizeof(good_cards[0]); i++)
		every_corruption(good_cards[i], "0123456789", ids_card_valid);
}

static void
card_bad(void)
{
	CHECK(!ids_card_valid(NULL));
	CHECK(!ids_card_valid(""));
	/* 11 digits, Luhn-valid ("0000000000" + '0'): too short. */
	CHECK(!ids_card_valid("00000000000"));
	CHECK(ids_card_valid("000000000000"));			/* 12 */
	CHECK(!ids_card_valid("00000000000000000000"));	/* 20 */
	CHECK(!ids_card_valid("6217 001234567890122"));
	CHECK(!ids_card_valid("621700123456789012X"));
	CHECK_INT(ids_luhn_check(""), '?');
	CHECK_INT(ids_luhn_check("12a"), '?');
	/* The classic: 7992739871 -> 3. */
	CHECK_INT(ids_luhn_check("7992739871"), '3');
}

static void
bank_code(void)
{
	CHECK(ids_bank_code_valid("102100099996"));
	CHECK(!ids_bank_code_valid("10210009999"));
	CHECK(!ids_bank_code_valid("1021000999961"));
	CHECK(!ids_bank_code_valid("10210009999A"));
	CHECK(!ids_bank_code_valid(NULL));
}

static void
mask(void)
{
	char	out[40];

	ids_mask("410102198511205616", out, sizeof(out));
	CHECK_STR(out, "4101**********5616");
	ids_mask("6217001234567890122", out, sizeof(out));
	CHECK_STR(out, "6217***********0122");
	/* Short values would show too much of themselves: all stars. */
	ids_mask("12345678", out, sizeof(out));
	CHECK_STR(out, "********");
	ids_mask("12345678901", out, sizeof(out));
	CHECK_STR(out, "***********");
	ids_mask("", out, sizeof(out));
	CHECK_STR(out, "");
	ids_mask(NULL, out, sizeof(out));
	CHECK_STR(out, "");
	/* A small buffer truncates the masked form, never shows more. */
	ids_mask("410102198511205616", out, 8);
	CHECK_STR(out, "4101***");
	CHECK(strstr(out, "5616") == NULL);
}

const struct unit_case ids_cases[] = {
	{ "resident_good", resident_good },
	{ "resident_corrupt", resident_corrupt },
	{ "resident_bad", resident_bad },
	{ "uscc_good", uscc_good },
	{ "uscc_corrupt", uscc_corrupt },
	{ "uscc_bad", uscc_bad },
	{ "card_good", card_good },
	{ "card_corrupt", card_corrupt },
	{ "card_bad", card_bad },
	{ "bank_code", bank_code },
	{ "mask", mask },
	{ NULL, NULL }
};
