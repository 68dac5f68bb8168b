/*
 * wagepay.h: domain types and limits shared by daemon/, proto/ and tests.
 *
 * Money is always int64_t fen (1 yuan = 100 fen), never floating point.
 * Every fallible call fills a caller's struct perr with the ISO 20022 status
 * reason (AM04, FF01, ...) or the bank's own WP.. code, so that a handler can
 * write it into a pain.002 or a receipt without parsing text.
 */
#ifndef WAGEPAY_H
#define WAGEPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WUR __attribute__((warn_unused_result))

/* Field sizes, including the terminating NUL. */
#define WP_ID_NUMBER_LEN   19	/* GB 11643 resident ID: 18 characters */
#define WP_USCC_LEN        19	/* GB 32100 unified social credit code: 18 */
#define WP_BANK_CODE_LEN   13	/* CNAPS bank code: 12 digits */
#define WP_CARD_LEN        35	/* card / account number: at most 34 (ISO Max34Text) */
#define WP_MAX35_LEN       36	/* ISO Max35Text */
#define WP_DATE_LEN        11	/* YYYY-MM-DD */
#define WP_MONTH_LEN       8	/* YYYY-MM */
#define WP_DATETIME_LEN    40	/* ISO dateTime as received */
#define WP_PROJECT_LEN     65	/* project code */

/* Input bounds, checked before any parsing work is done. */
#define WP_MAX_BODY        (256u * 1024u * 1024u)	/* ceiling of [limits] body_bytes */
#define WP_DEFAULT_BODY    (128u * 1024u * 1024u)	/* its default: 150,000 lines */
/* A document read whole as a tree (rosters, the core feed; not sheets,
 * which are read as streams): a tree costs about 15 times its bytes. */
#define WP_MAX_TREE        (48u * 1024u * 1024u)
#define WP_MAX_SHEET_LINES 200000u
#define WP_MAX_ROSTER      200000u

/* A status reason: ISO external code (4 characters) or WP.. of the bank. */
struct perr {
	char	code[8];	/* "" means no error */
	char	msg[256];	/* human text; never a full ID or card number */
};

void	perr_clear(struct perr *);
/* Sets code and a printf-style message; returns -1 so callers can
 * `return perr_set(...)`. */
int	perr_set(struct perr *, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
bool	perr_isset(const struct perr *);
/* True for ISO external codes, false for the bank's own WP.. codes
 * (those travel in pain.002 as Prtry). */
bool	perr_code_is_iso(const char *code);

/* Line kinds of a wage sheet (RmtInf/Ustrd). */
enum line_kind {
	LINE_WAGE = 1,		/* WAGE/YYYY-MM: at most once per worker, month, project */
	LINE_BACKPAY = 2	/* BACKPAY/YYYY-MM: arrears or corrections */
};

#endif
