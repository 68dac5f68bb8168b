/*
 * sheettool.h: wagepay-sheet, the contractor's side of the wage sheet
 * (API.md "The contractor's tool"): a payroll CSV made into a pain.001 in
 * the bank profile, signed as the bank checks it, sent over mutual TLS, and
 * the bank's answers printed for a payroll clerk. One section per file.
 * It reuses proto/ (ids, money, xmlsafe, xmlout, xmlsig) and never
 * duplicates a rule the daemon has.
 */
#ifndef SHEETTOOL_H
#define SHEETTOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wagepay.h"

/* Exit statuses (API.md): the decision's, then any other failure. */
#define EXIT_PAID	0
#define EXIT_FAILED	1
#define EXIT_PART	2
#define EXIT_PENDING	3
#define EXIT_REJECTED	4
#define EXIT_CANCELLED	5	/* status of a withdrawn sheet (added) */

/* ---- csv.c: a CSV file as Excel saves it ---------------------------- */

/* One record: its fields, UTF-8, NUL-terminated; row is its number in the
 * spreadsheet (the header is row 1; a quoted field with line breaks still
 * makes one row). */
struct csv_record {
	size_t	  row;
	size_t	  nfields;
	char	**fields;		/* owned */
};

struct csv {
	size_t			 nrecords;
	struct csv_record	*records;	/* owned */
	const char		*encoding;	/* "UTF-8", "UTF-8 with BOM", "GB18030" */
};

/* Reads path whole (at most 64 MiB): a UTF-8 file with or without BOM, or
 * GB18030 (what Excel's "CSV" writes on a Chinese Windows), decoded to
 * UTF-8; separators ',' (or ';' or a tab, from the header row); quoted
 * fields with "" inside; CRLF or LF. Empty records are dropped. NULL with a
 * message in err (len bytes) if it cannot be read. */
struct csv	*csv_read(const char *path, char *err, size_t len);
void		 csv_free(struct csv *);

/* ---- payroll.c: the rows of a payroll, checked ----------------------- */

struct payroll_row {
	size_t	 row;
	char	 name[128];
	char	 id_number[WP_ID_NUMBER_LEN];
	char	 card[WP_CARD_LEN];
	char	 card_bank[WP_BANK_CODE_LEN];
	int64_t	 gross, net;		/* fen */
	int	 days;
	char	 method[8];		/* SIGN | FACE | APP */
	char	 at[WP_DATETIME_LEN];	/* YYYY-MM-DDThh:mm:ss+08:00 */
	char	 ref[72];
};

struct payroll {
	size_t			 nrows;
	struct payroll_row	*rows;		/* owned */
	int64_t			 total;		/* of net, fen */
	size_t			 nerrors;	/* rows refused (printed) */
};

/* The records of csv as payroll rows: the header (Chinese or English
 * names, any order, extra columns ignored) then one row per record. Every
 * problem is printed to errors, one line each, "row N: column: what is
 * wrong", and counted in nerrors; nothing is dropped silently. NULL only
 * when the header is unusable or out of memory (printed too). */
struct payroll	*payroll_read(const struct csv *csv, FILE *errors);
void		 payroll_free(struct payroll *);

/* ---- build.c: the pain.001.001.10 document ---------------------------- */

struct build_opts {
	const char	*account;	/* the project's dedicated account */
	const char	*subcontractor;	/* USCC */
	const char	*sub_name;	/* UltmtDbtr/Nm, may be NULL */
	const char	*month;		/* YYYY-MM */
	int		 backpay;	/* BACKPAY/ instead of WAGE/ */
	const char	*msg_id;
	const char	*created;	/* CreDtTm, NULL for now */
};

/* The unsigned sheet, UTF-8, malloc'd, its length in *len; NULL with err
 * set on out-of-memory. */
char		*build_sheet(const struct build_opts *, const struct payroll *,
		    size_t *len, char *err, size_t errlen);
/* The EndToEndId of a row: MsgId (cut to 27) "-R" and the row number, so
 * that a clerk finds the row from the bank's answer. */
void		 build_end_to_end(const char *msg_id, size_t row, char *out,
		    size_t len);

/* ---- client.c: one HTTPS request with a client certificate ----------- */

struct client_opts {
	const char	*url;		/* https://HOST:PORT */
	const char	*cert, *key, *ca;
};

struct client_reply {
	int	 status;		/* HTTP status, 0 if none */
	char	*body;			/* owned, NUL-terminated */
	size_t	 len;
	char	 retry_after[32];
};

/* Sends method path (with body when not NULL) and reads the whole reply.
 * 0, or -1 with a message in err (connection, TLS, certificate). */
int		 client_request(const struct client_opts *, const char *method,
		    const char *path, const char *body, size_t body_len,
		    struct client_reply *reply, char *err, size_t errlen);
void		 client_reply_free(struct client_reply *);

/* ---- report.c: the bank's answers, as tables ------------------------- */

/* Prints the pain.002 in body as a table for a clerk on out; returns the
 * exit status of its group status (EXIT_*), or EXIT_FAILED if it is not a
 * pain.002 (with why on errors). */
int		 report_decision(const char *body, size_t len, FILE *out,
		    FILE *errors);
/* Prints a voucher as a table; 0, or -1 if it is not one. */
int		 report_voucher(const char *body, size_t len, FILE *out,
		    FILE *errors);
/* The Chinese and English text of a reason code (ISO or the bank's WP..),
 * or NULL for a code it does not know. */
const char	*report_reason_zh(const char *code);
const char	*report_reason_en(const char *code);

#endif
