/*
 * money.h: decimal yuan strings <-> int64_t fen, exact, with overflow checks.
 */
#ifndef MONEY_H
#define MONEY_H

#include <stddef.h>
#include <stdint.h>
#include "wagepay.h"

/*
 * Parses a non-negative amount "123", "123.4" or "123.45" into fen.
 * Refused (-1, *fen untouched): sign, exponent, white space, more than two
 * decimals, empty parts ("1.", ".5"), more than 15 integer digits, overflow.
 */
int	money_parse(const char *s, int64_t *fen) WUR;

/*
 * Writes fen as "123.45" (always two decimals, "-" for negatives) into buf.
 * Returns the length written, or -1 if buf is too small (need <= 24 bytes).
 */
int	money_format(int64_t fen, char *buf, size_t len);

#endif
