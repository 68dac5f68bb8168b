/*
 * sheet.h: a wage sheet (pain.001.001.10, the wagepay bank profile) as plain
 * C data. Pure: no I/O; the xmlDoc is not kept.
 */
#ifndef SHEET_H
#define SHEET_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define PAIN001_NS "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"
#define LINE_NS    "urn:wagepay:line:1"

/* A line refused alone: code and message (a masked number in it at most),
 * kept small since a sheet may have 200,000 lines. */
struct line_err {
	char	code[8];	/* "" means none */
	char	msg[96];
};

struct sheet_line {
	char		 end_to_end_id[WP_MAX35_LEN];
	int64_t		 amount;		/* fen, > 0 */
	char		*name;			/* Cdtr/Nm, owned by the line */
	char		 id_number[WP_ID_NUMBER_LEN];
	char		 card[WP_CARD_LEN];
	char		 card_bank[WP_BANK_CODE_LEN];
	enum line_kind	 kind;
	char		 month[WP_MONTH_LEN];	/* YYYY-MM */
	int64_t		 gross;			/* wp:Line/GrossPay, fen */
	int		 days_worked;
	char		 confirmed_at[WP_DATETIME_LEN];
	char		 confirm_method[8];	/* SIGN | FACE | APP */
	char		 confirm_ref[WP_MAX35_LEN * 2];
	/* Set when this line alone is refused by a check that needs no
	 * database (ID check digit, card Luhn): code + message. */
	struct line_err	 err;
};

struct sheet {
	char		 msg_id[WP_MAX35_LEN];
	char		 created_at[WP_DATETIME_LEN];	/* GrpHdr/CreDtTm */
	int		 nb_of_txs;			/* as declared */
	int64_t		 ctrl_sum;			/* as declared, fen: read
							 * with the header, 0 if not
							 * an amount; sheet_close
							 * holds it to the lines */
	char		 pmt_inf_id[WP_MAX35_LEN];
	char		 debtor_account[WP_CARD_LEN];	/* the dedicated account */
	char		 subcontractor[WP_USCC_LEN];	/* UltmtDbtr credit code */
	int		 sala;				/* PmtInf's CtgyPurp is SALA:
							 * else each line says it */
	char		 month[WP_MONTH_LEN];		/* the WAGE lines' month, or the latest BACKPAY month */
	size_t		 nlines;
	struct sheet_line *lines;			/* owned */
	/* while reading: */
	size_t		 seen;				/* CdtTrfTxInf met */
	size_t		 cap;				/* lines allocated */
	int64_t		 total;				/* of the lines, fen */
};

/*
 * Reads a pain.001 document that has already passed schema validation
 * against the official XSD, and applies the bank profile (API.md): one
 * PmtInf, TRF, SALA, Othr account ids, UltmtDbtr USCC, CNY with at most two
 * decimals and > 0, NbOfTxs and CtrlSum matching the lines, EndToEndIds unique
 * in the sheet, RmtInf WAGE/YYYY-MM or BACKPAY/YYYY-MM, all WAGE lines of one
 * month, a wp:Line per transaction valid against the line profile.
 * Lines are read only from the document's own CstmrCdtTrfInitn/PmtInf.
 * Returns NULL with err set (FF01 and which rule) when the sheet as a whole is
 * refused. Line-local problems go into line->err instead.
 * The caller owns the result (sheet_free).
 */
struct sheet	*sheet_parse(xmlDocPtr doc, struct perr *err);
void		 sheet_free(struct sheet *);

/*
 * sheet_parse in pieces, for a document read as a stream whose
 * transactions are freed once read (proto/sheetstream.c). In the order of
 * precedence of their errors: sheet_check_frame (Document,
 * CstmrCdtTrfInitn, exactly one PmtInf: needs the whole document, so it
 * runs last but wins); sheet_read_header (GrpHdr, the PmtInf's own
 * fields, once parsed); sheet_check_count (no line, or too many: wins over
 * any line's error); sheet_add_line for each CdtTrfTxInf of the PmtInf in
 * order (lines beyond the limit are counted, not read); sheet_close (the
 * checks across lines, NbOfTxs and CtrlSum). Each: -1 with err set.
 */
int		 sheet_check_frame(xmlDocPtr doc, struct perr *err);
struct sheet	*sheet_new(struct perr *err);
int		 sheet_read_header(struct sheet *, xmlDocPtr doc,
		    struct perr *err);
int		 sheet_add_line(struct sheet *, xmlNodePtr tx, struct perr *err);
int		 sheet_check_count(const struct sheet *, struct perr *err);
int		 sheet_close(struct sheet *, xmlDocPtr doc, struct perr *err);

#endif
