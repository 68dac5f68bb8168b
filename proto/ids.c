/*
 * ids.c: check characters of Chinese identifiers, and masking for display.
 *
 * Responsible for GB 11643 resident ID numbers (ISO 7064 MOD 11-2), GB 32100
 * unified social credit codes (MOD 31 over a 31-character alphabet), bank
 * card numbers (Luhn), CNAPS bank codes (12 digits), and ids_mask, the one
 * way an ID or card number may appear in a log line or a message.
 * Pure and locale-independent: plain ASCII range checks, no ctype.h.
 */
#include <stdbool.h>
#include <string.h>

#include "ids.h"

#define IDS_RESIDENT_LEN	18
#define IDS_USCC_LEN		18
#define IDS_CARD_MIN		12
#define IDS_CARD_MAX		19
#define IDS_BANK_CODE_LEN	12
/* ids_mask shows 4 + 4 characters; a value shorter than this would show
 * too much of itself, so it is masked whole. */
#define IDS_MASK_MIN		12

static const int	resident_weights[17] = {
	7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
};
static const char	resident_checks[] = "10X98765432";

static const char	uscc_charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int	uscc_weights[17] = {
	1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* True if s is exactly n decimal digits. */
static bool
all_digits(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return s[n] == '\0';
}

char
ids_resident_id_check(const char *first17)
{
	int	sum = 0, i;

	if (first17 == NULL || !all_digits(first17, 17))
		return '?';
	for (i = 0; i < 17; i++)
		sum += (first17[i] - '0') * resident_weights[i];
	return resident_checks[sum % 11];
}

static int
two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* The birth date YYYYMMDD must be a real calendar day between 1900 and
 * 2099: a transposed digit there is caught even when the check digit is
 * (by chance) right. */
static bool
plausible_birth_date(const char *d)
{
	static const int	mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int			year, month, day;

	year = two(d) * 100 + two(d + 2);
	month = two(d + 4);
	day = two(d + 6);
	if (year < 1900 || year > 2099 || month < 1 || month > 12 || day < 1)
		return false;
	if (day > mdays[month - 1])
		return false;
	if (month == 2 && day == 29 &&
	    !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return false;
	return true;
}

bool
ids_resident_id_valid(const char *s)
{
	char	first17[18];

	if (s == NULL || strlen(s) != IDS_RESIDENT_LEN)
		return false;
	memcpy(first17, s, 17);
	first17[17] = '\0';
	if (!all_digits(first17, 17))
		return false;
	if (!plausible_birth_date(s + 6))
		return false;
	return ids_resident_id_check(first17) == s[17];
}

/* Value of c in the GB 32100 alphabet, or -1 (I, O, Z, S, V are not in it,
 * nor are lower-case letters). */
static int
uscc_value(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(uscc_charset, c)) == NULL)
		return -1;
	return (int)(p - uscc_charset);
}

char
ids_uscc_check(const char *first17)
{
	int	sum = 0, i, v, c;

	if (first17 == NULL)
		return '?';
	for (i = 0; i < 17; i++) {
		if ((v = uscc_value(first17[i])) < 0)
			return '?';
		sum += v * uscc_weights[i];
	}
	if (first17[17] != '\0')
		return '?';
	c = 31 - sum % 31;
	return uscc_charset[c == 31 ? 0 : c];
}

bool
ids_uscc_valid(const char *s)
{
	char	first17[18];

	if (s == NULL || strlen(s) != IDS_USCC_LEN)
		return false;
	memcpy(first17, s, 17);
	first17[17] = '\0';
	if (uscc_value(s[17]) < 0)
		return false;
	return ids_uscc_check(first17) == s[17];
}

char
ids_luhn_check(const char *digits)
{
	size_t	n, i;
	int	sum = 0, d;

	if (digits == NULL || (n = strlen(digits)) == 0 ||
	    !all_digits(digits, n))
		return '?';
	/* Walking from the right, the digit next to the (future) check digit
	 * is doubled, then every second one. */
	for (i = 0; i < n; i++) {
		d = digits[n - 1 - i] - '0';
		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (char)('0' + (10 - sum % 10) % 10);
}

bool
ids_card_valid(const char *s)
{
	char	body[IDS_CARD_MAX + 1];
	size_t	n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n < IDS_CARD_MIN || n > IDS_CARD_MAX || !all_digits(s, n))
		return false;
	memcpy(body, s, n - 1);
	body[n - 1] = '\0';
	return ids_luhn_check(body) == s[n - 1];
}

bool
ids_bank_code_valid(const char *s)
{
	return s != NULL && strlen(s) == IDS_BANK_CODE_LEN &&
	    all_digits(s, IDS_BANK_CODE_LEN);
}

/*
 * Never writes more of s than "first 4, last 4": a value too short for that
 * to hide anything much (fewer than IDS_MASK_MIN characters) is all stars,
 * and a too small out only truncates the masked form, which leaks nothing
 * more. out is always NUL-terminated when outlen > 0.
 */
void
ids_mask(const char *s, char *out, size_t outlen)
{
	size_t	n, i;
	char	c;

	if (out == NULL || outlen == 0)
		return;
	if (s == NULL)
		s = "";
	n = strlen(s);
	for (i = 0; i < n && i + 1 < outlen; i++) {
		if (n >= IDS_MASK_MIN && (i < 4 || i >= n - 4))
			c = s[i];
		else
			c = '*';
		out[i] = c;
	}
	out[i] = '\0';
}
