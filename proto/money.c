/*
 * money.c: decimal yuan strings <-> int64_t fen.
 *
 * Responsible for the only conversion between the text amounts of the wire
 * formats ("4500.00") and the integer fen that the rest of wagepay computes
 * with. Exact: no floating point, no strtod, no locale; every digit is
 * checked and every multiplication is bounded before it is done.
 */
#include <stdio.h>
#include <string.h>

#include "money.h"

/* At most 15 integer digits: 999 999 999 999 999 yuan is still far inside
 * int64_t fen (about 9.2e16 fen), so no step below can overflow; the check
 * is kept anyway in case the bound is ever raised. */
#define MONEY_MAX_INT_DIGITS	15

int
money_parse(const char *s, int64_t *fen)
{
	const char	*p = s;
	int64_t		 yuan = 0, cents = 0;
	int		 nint = 0, nfrac = 0;

	if (s == NULL || fen == NULL)
		return -1;
	/* Integer part: one or more digits, nothing before them (no sign, no
	 * blank, no '+'). */
	while (*p >= '0' && *p <= '9') {
		if (++nint > MONEY_MAX_INT_DIGITS)
			return -1;
		if (yuan > (INT64_MAX - 9) / 10)
			return -1;
		yuan = yuan * 10 + (*p - '0');
		p++;
	}
	if (nint == 0)
		return -1;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (++nfrac > 2)
				return -1;
			cents = cents * 10 + (*p - '0');
			p++;
		}
		/* "1." is refused: a generator that writes it is broken. */
		if (nfrac == 0)
			return -1;
		if (nfrac == 1)
			cents *= 10;
	}
	/* Anything left (exponent, blank, second point) refuses the amount. */
	if (*p != '\0')
		return -1;
	if (yuan > (INT64_MAX - cents) / 100)
		return -1;
	*fen = yuan * 100 + cents;
	return 0;
}

int
money_format(int64_t fen, char *buf, size_t len)
{
	uint64_t	 abs;
	int		 n;

	if (buf == NULL)
		return -1;
	/* Negate in unsigned arithmetic so that INT64_MIN is exact. */
	abs = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
	n = snprintf(buf, len, "%s%llu.%02llu", fen < 0 ? "-" : "",
	    (unsigned long long)(abs / 100), (unsigned long long)(abs % 100));
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return n;
}
