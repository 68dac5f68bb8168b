/*
 * paystatus.h: the core's status report about a payment order
 * (pain.002.001.11 from the core, POST /v1/core/payment-status).
 */
#ifndef PAYSTATUS_H
#define PAYSTATUS_H

#include <stddef.h>
#include <libxml/tree.h>
#include "wagepay.h"

#define PAYSTATUS_NS	"urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"

/* One TxInfAndSts: the line named by InstrId or EndToEndId (or both; ""
 * when absent), its TxSts, and its first reason code ("" when none). */
struct paystatus_line {
	char	instr_id[WP_MAX35_LEN];
	char	end_to_end_id[WP_MAX35_LEN];
	char	status[8];		/* ACCC, RJCT, ACSP, PDNG, ... */
	char	reason[WP_MAX35_LEN];	/* StsRsnInf/Rsn/Cd or Prtry */
};

struct paystatus {
	char			 msg_id[WP_MAX35_LEN];		/* GrpHdr/MsgId */
	char			 orgnl_msg_id[WP_MAX35_LEN];	/* the order's */
	char			 group_status[8];		/* GrpSts, "" when absent */
	char			 group_reason[WP_MAX35_LEN];
	size_t			 nlines;
	struct paystatus_line	*lines;				/* owned */
};

/*
 * Reads a pain.002.001.11 (schema-valid or not: every element is looked up
 * and bounded here again) answering one of the bank's payment orders:
 * OrgnlGrpInfAndSts/OrgnlMsgId the order's MsgId, OrgnlMsgNmId a pain.001;
 * every OrgnlPmtInfAndSts/TxInfAndSts names its line (OrgnlInstrId or
 * OrgnlEndToEndId) and carries a TxSts; a report without any line carries
 * GrpSts. NULL with FF01 naming the first fault (or WP90 on out-of-memory).
 * The caller owns the result (paystatus_free); the document stays the
 * caller's.
 */
struct paystatus	*paystatus_parse(xmlDocPtr doc, struct perr *err);
void			 paystatus_free(struct paystatus *);

#endif
