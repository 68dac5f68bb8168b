/*
 * voucher.h: the payment voucher of a paid sheet (代发工资凭证, 004 第八条;
 * urn:wagepay:voucher:1, proto/xsd/voucher.xsd), built as a tree so that the
 * daemon can sign it.
 */
#ifndef VOUCHER_H
#define VOUCHER_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define VOUCHER_NS	"urn:wagepay:voucher:1"

struct voucher_line {
	const char	*end_to_end_id;
	const char	*name;		/* the worker's name, as paid */
	const char	*id_number;	/* full: voucher_build masks it */
	const char	*card;		/* full: voucher_build masks it */
	int64_t		 amount;	/* fen, > 0 */
	const char	*settlement;	/* NULL or "": no outcome yet; CREDITED,
					 * or FAILED or RETURNED (not counted) */
};

struct voucher {
	const char	*msg_id;	/* the sheet's MsgId */
	const char	*project;	/* project code */
	const char	*subcontractor;	/* USCC */
	const char	*month;		/* YYYY-MM */
	const char	*paid_at;	/* ISO dateTime with offset */
	const struct voucher_line *lines;	/* lines paid, in order */
	size_t		 nlines;
};

/*
 * Builds the unsigned Voucher: one Line per line, ID numbers and cards
 * masked as ids_mask does (first 4 and last 4 kept), each line's
 * Settlement when it has one, Count and Total computed here over the lines
 * not FAILED or RETURNED (what stayed paid). A voucher with no such line, a
 * missing field, an unknown settlement, an amount <= 0 or a total past the
 * largest amount refuse it: NULL with err (FF01). The caller owns the
 * document and signs it.
 */
xmlDocPtr	 voucher_build(const struct voucher *, struct perr *err);

#endif
