/*
 * pain002.h: builds the decision, a pain.002.001.11 status report.
 */
#ifndef PAIN002_H
#define PAIN002_H

#include <stddef.h>
#include <stdint.h>

#define PAIN002_NS "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"

struct status_line {
	const char	*end_to_end_id;
	const char	*code;		/* ISO code -> Rsn/Cd, WP.. -> Rsn/Prtry */
	const char	*message;	/* AddtlInf, cut to 105 characters; may be NULL */
	const char	*status;	/* TxSts: NULL writes RJCT (a refused
					 * line); ACCC or RJCT for a paid
					 * line's settlement */
};

struct status_report {
	const char	*msg_id;	/* our report's MsgId */
	const char	*created_at;	/* ISO dateTime, e.g. 2026-11-21T08:00:00+08:00 */
	const char	*orig_msg_id;	/* may be "" for a sheet that could not be read */
	const char	*orig_msg_nm_id;	/* "pain.001.001.10" */
	const char	*orig_pmt_inf_id;	/* the sheet's PmtInfId; NULL or ""
						 * writes "UNKNOWN" */
	const char	*group_status;	/* ACSC, PART, RJCT, PDNG, CANC, ACCC */
	const char	*group_code;	/* reason of the group status, or NULL */
	const char	*group_message;	/* AddtlInf of the group status, or NULL */
	size_t		 nlines;
	const struct status_line *lines;	/* refused lines, then settled ones */
};

/*
 * Returns a malloc'd, NUL-terminated pain.002.001.11 document, valid against
 * the official schema, and its length in *len; NULL only on out-of-memory.
 */
char	*pain002_build(const struct status_report *, size_t *len);

#endif
