/*
 * corereq.h: what the bank's core asks of a dedicated account besides
 * camt.054 notifications (urn:wagepay:core:1, proto/xsd/core.xsd): debit
 * requests, always refused, and legal orders (FREEZE, SEIZE, DEDUCT, and
 * UNFREEZE lifting a freeze by its OrderNo).
 */
#ifndef COREREQ_H
#define COREREQ_H

#include <stdint.h>
#include <libxml/tree.h>
#include "wagepay.h"

#ifndef CORE_NS
#define CORE_NS "urn:wagepay:core:1"
#endif

#define COREREQ_NAME_LEN	(140 * 4 + 1)	/* Max140Text in UTF-8 */
#define COREREQ_DETAIL_LEN	(500 * 4 + 1)	/* Max500Text in UTF-8 */

struct debit_request {
	char	ref[WP_MAX35_LEN];
	char	account[WP_CARD_LEN];
	int64_t	amount;				/* fen, > 0 */
	char	beneficiary[WP_CARD_LEN];
	char	beneficiary_name[COREREQ_NAME_LEN];
	char	purpose[COREREQ_NAME_LEN];
	char	channel[WP_MAX35_LEN * 4];
};

enum legal_kind { LEGAL_FREEZE = 1, LEGAL_SEIZE, LEGAL_DEDUCT, LEGAL_UNFREEZE };
enum legal_reason { LEGAL_WAGES = 1, LEGAL_OTHER };

struct legal_order {
	char			ref[WP_MAX35_LEN];
	char			authority[COREREQ_NAME_LEN];
	char			order_no[WP_MAX35_LEN * 4];
	enum legal_kind		kind;
	char			account[WP_CARD_LEN];
	int64_t			amount;		/* fen, > 0 */
	enum legal_reason	reason;
	char			detail[COREREQ_DETAIL_LEN];	/* "" if absent */
};

/*
 * Read a document already valid against proto/xsd/core.xsd (the caller
 * validates) whose root is DebitRequest or LegalOrder. 0, or -1 with err
 * (FF01) when the root is another element or an amount is zero or does not
 * parse. Fill the caller's struct; the document stays the caller's.
 */
int		 corereq_debit_parse(xmlDocPtr doc, struct debit_request *out,
		    struct perr *err) WUR;
int		 corereq_order_parse(xmlDocPtr doc, struct legal_order *out,
		    struct perr *err) WUR;
const char	*corereq_kind_name(enum legal_kind);
const char	*corereq_reason_name(enum legal_reason);

#endif
