/*
 * perr.c: the status reason carried back to a caller (struct perr).
 *
 * Responsible for filling and reading struct perr: an ISO 20022 external
 * status reason code (AM04, FF01, ...) or one of the bank's own WP.. codes,
 * plus a human message. It owns nothing and never logs; callers must not put
 * a full ID or card number into the message (see ids_mask).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wagepay.h"

void
perr_clear(struct perr *err)
{
	if (err == NULL)
		return;
	err->code[0] = '\0';
	err->msg[0] = '\0';
}

/*
 * Sets the code and the formatted message, truncating both to their fields.
 * Always returns -1 so that a failing function can end with
 * `return perr_set(err, "FF01", ...)`. A NULL err is allowed (the caller did
 * not want the detail).
 */
int
perr_set(struct perr *err, const char *code, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL)
		return -1;
	snprintf(err->code, sizeof(err->code), "%s", code != NULL ? code : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

bool
perr_isset(const struct perr *err)
{
	return err != NULL && err->code[0] != '\0';
}

/*
 * ISO external status reason codes are exactly four characters of upper
 * case letters and digits, starting with a letter (AM04, AC01, FF01, DU01).
 * The bank's own codes start with "WP" and travel as Prtry instead; "WP" is
 * not an ISO code prefix, so the test is unambiguous.
 */
bool
perr_code_is_iso(const char *code)
{
	size_t	i;

	if (code == NULL || strlen(code) != 4)
		return false;
	if (code[0] == 'W' && code[1] == 'P')
		return false;
	/* Explicit ranges, not isupper(): the answer must not depend on
	 * the locale. */
	if (code[0] < 'A' || code[0] > 'Z')
		return false;
	for (i = 1; i < 4; i++)
		if (!(code[i] >= 'A' && code[i] <= 'Z') &&
		    !(code[i] >= '0' && code[i] <= '9'))
			return false;
	return true;
}
