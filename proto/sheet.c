/*
 * sheet.c: reads a wage sheet, pain.001.001.10 in the wagepay bank profile
 * (API.md "The wage sheet"), into plain C data (struct sheet).
 *
 * Responsible for every rule of the profile that needs no database: one
 * PmtInf, TRF, SALA, Othr account ids, the subcontractor's credit code, CNY
 * amounts of at most two decimals, NbOfTxs and CtrlSum, unique EndToEndIds,
 * the month in RmtInf, the wp:Line of each transaction (checked in C against
 * the same rules as proto/xsd/line.xsd, since the schemas are not at hand
 * here). A broken rule refuses the whole sheet (NULL, FF01, a message naming
 * the rule and the EndToEndId); a bad ID or card check digit only marks its
 * line (line->err), because the rest of the sheet may still be paid.
 *
 * It reads transactions only as children of the document's own
 * Document/CstmrCdtTrfInitn/PmtInf, never by searching the tree: a second
 * PmtInf smuggled elsewhere (inside a ds:Object, say) is never seen.
 * It does not keep the xmlDoc, and its messages carry no ID number, card
 * number or worker name (masked with ids_mask where one is needed).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "ids.h"
#include "money.h"
#include "sheet.h"
#include "xmlsafe.h"

#define NS	PAIN001_NS

static void line_refuse(struct sheet_line *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Marks a line refused alone, by a check that needs no database. */
static void
line_refuse(struct sheet_line *l, const char *code, const char *fmt, ...)
{
	va_list	ap;

	snprintf(l->err.code, sizeof(l->err.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(l->err.msg, sizeof(l->err.msg), fmt, ap);
	va_end(ap);
}

/* The line's EndToEndId, which names it in every message about it. */
#define E2E(l)	((l)->end_to_end_id)

static int
is_digits(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A reference we echo into pain.002 and log lines (MsgId, PmtInfId,
 * EndToEndId) must not carry control characters: ISO allows them, but a
 * newline in a reference would forge a log line. */
static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Text of the element at path below from, or -1 when absent, not plain
 * text, or too long for buf. */
static int
text_at(xmlNodePtr from, const char *path, char *buf, size_t len)
{
	return xmlsafe_text(xmlsafe_path(from, NS, path), buf, len);
}

static size_t
count_children(xmlNodePtr parent, const char *ns, const char *name)
{
	xmlNodePtr	n;
	size_t		count = 0;

	for (n = parent->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
		    strcmp((const char *)n->ns->href, ns) == 0 &&
		    strcmp((const char *)n->name, name) == 0)
			count++;
	return count;
}

static xmlNodePtr
next_named(xmlNodePtr n, const char *name)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
		    strcmp((const char *)n->ns->href, NS) == 0 &&
		    strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

/*
 * The Id of the one Othr below parent whose scheme is scheme (USCC for a
 * company, NIDN for a person), written either as SchmeNm/Cd or as
 * SchmeNm/Prtry: ISO 20022 puts a code that is not in its external list
 * (USCC is not) under Prtry, and a standard generator does; a bank has no
 * reason to tell the two apart. 0 found, 1 none, -1 two of them
 * (ambiguous: which one would be paid?) or one too long for buf.
 */
static int
othr_with_scheme(xmlNodePtr parent, const char *scheme, char *buf, size_t len)
{
	xmlNodePtr	o;
	char		cd[8];
	int		found = 0;

	for (o = next_named(parent ? parent->children : NULL, "Othr");
	    o != NULL; o = next_named(o->next, "Othr")) {
		if ((text_at(o, "SchmeNm/Cd", cd, sizeof(cd)) != 0 &&
		    text_at(o, "SchmeNm/Prtry", cd, sizeof(cd)) != 0) ||
		    strcmp(cd, scheme) != 0)
			continue;
		if (found++ > 0)
			return -1;
		if (text_at(o, "Id", buf, len) != 0)
			return -1;
	}
	return found ? 0 : 1;
}

/* An account in the profile: Id/Othr/Id (never an IBAN), Ccy CNY if given. */
static int
read_account(xmlNodePtr acct, const char *what, char *buf, size_t len,
    struct perr *err)
{
	char	ccy[8];

	if (acct == NULL)
		return perr_set(err, "FF01", "%s required", what);
	if (xmlsafe_path(acct, NS, "Id/IBAN") != NULL)
		return perr_set(err, "FF01", "%s: an IBAN is not accepted, "
		    "Id/Othr/Id required", what);
	if (text_at(acct, "Id/Othr/Id", buf, len) != 0 || buf[0] == '\0')
		return perr_set(err, "FF01", "%s/Id/Othr/Id required", what);
	if (xmlsafe_child(acct, NS, "Ccy") != NULL &&
	    (text_at(acct, "Ccy", ccy, sizeof(ccy)) != 0 ||
	    strcmp(ccy, "CNY") != 0))
		return perr_set(err, "FF01", "%s/Ccy must be CNY", what);
	return 0;
}

/* NbOfTxs (Max15NumericText) against the number of lines. */
static int
check_count(xmlNodePtr from, const char *what, size_t nlines, int *declared,
    struct perr *err)
{
	char		buf[24];
	uint64_t	n = 0;
	size_t		i, len;

	if (text_at(from, "NbOfTxs", buf, sizeof(buf)) != 0 ||
	    (len = strlen(buf)) == 0 || len > 15 || !is_digits(buf, len))
		return perr_set(err, "FF01", "%s is not a number of at most "
		    "15 digits", what);
	for (i = 0; i < len; i++)
		n = n * 10 + (uint64_t)(buf[i] - '0');
	if (declared != NULL)
		*declared = n > INT32_MAX ? INT32_MAX : (int)n;
	if (n != nlines)
		return perr_set(err, "FF01", "%s %s does not match the %zu lines",
		    what, buf, nlines);
	return 0;
}

/*
 * An amount as the sheet may write it: money_parse's decimal yuan, or the
 * same with zeros beyond the second decimal ("5200.000": ISO allows five
 * fraction digits, and a generator that formats every amount so writes the
 * same fen). A non-zero third decimal is a fraction of a fen: refused.
 */
static int
amount_parse(const char *s, int64_t *fen)
{
	char		 buf[48];
	const char	*dot = strchr(s, '.');
	size_t		 n = strlen(s);

	if (dot == NULL || n - (size_t)(dot - s) <= 3 || n >= sizeof(buf))
		return money_parse(s, fen);
	memcpy(buf, s, n + 1);
	while (n > (size_t)(dot - s) + 3 && buf[n - 1] == '0')
		buf[--n] = '\0';
	return money_parse(buf, fen);
}

/* The CtrlSum of GrpHdr or PmtInf, in fen: -1 if it is not an amount. */
static int
read_ctrl_sum(xmlNodePtr from, int64_t *sum)
{
	char	buf[48];

	return text_at(from, "CtrlSum", buf, sizeof(buf)) != 0 ||
	    amount_parse(buf, sum) != 0 ? -1 : 0;
}

/* CtrlSum against the lines' total, both in fen. */
static int
check_sum(xmlNodePtr from, const char *what, int64_t total, int64_t *declared,
    struct perr *err)
{
	char	a[24], b[24];
	int64_t	sum;

	if (read_ctrl_sum(from, &sum) != 0)
		return perr_set(err, "FF01", "%s is not an amount in yuan with "
		    "at most two decimals", what);
	if (declared != NULL)
		*declared = sum;
	if (sum != total) {
		money_format(sum, a, sizeof(a));
		money_format(total, b, sizeof(b));
		return perr_set(err, "FF01", "%s %s does not match the lines' "
		    "total %s", what, a, b);
	}
	return 0;
}

/* GrpHdr: MsgId, CreDtTm, and NbOfTxs and CtrlSum, which the profile
 * requires although ISO makes CtrlSum optional. */
static int
read_group_header(xmlNodePtr cct, struct sheet *sh, struct perr *err)
{
	xmlNodePtr	hdr;

	if ((hdr = xmlsafe_child(cct, NS, "GrpHdr")) == NULL)
		return perr_set(err, "FF01", "GrpHdr required");
	if (text_at(hdr, "MsgId", sh->msg_id, sizeof(sh->msg_id)) != 0 ||
	    sh->msg_id[0] == '\0')
		return perr_set(err, "FF01", "GrpHdr/MsgId required "
		    "(1 to 35 characters)");
	if (has_control(sh->msg_id))
		return perr_set(err, "FF01", "GrpHdr/MsgId contains a control "
		    "character");
	if (text_at(hdr, "CreDtTm", sh->created_at,
	    sizeof(sh->created_at)) != 0)
		return perr_set(err, "FF01", "GrpHdr/CreDtTm required");
	if (xmlsafe_child(hdr, NS, "NbOfTxs") == NULL)
		return perr_set(err, "FF01", "GrpHdr/NbOfTxs required");
	if (xmlsafe_child(hdr, NS, "CtrlSum") == NULL)
		return perr_set(err, "FF01", "GrpHdr/CtrlSum required");
	/* known before the lines, so that the database can tell at a
	 * sheet's opening whether the balance covers it whole (wp_sheet_open);
	 * whether it is true, sheet_close tells at the end */
	if (read_ctrl_sum(hdr, &sh->ctrl_sum) != 0 || sh->ctrl_sum <= 0)
		sh->ctrl_sum = 0;
	return 0;
}

/* The PmtInf's own fields: PmtInfId, TRF, SALA, the dedicated account,
 * the subcontractor as UltmtDbtr. */
static int
read_payment_info(xmlNodePtr pmt, struct sheet *sh, struct perr *err)
{
	char	buf[16];
	int	rc;

	if (text_at(pmt, "PmtInfId", sh->pmt_inf_id,
	    sizeof(sh->pmt_inf_id)) != 0 || sh->pmt_inf_id[0] == '\0')
		return perr_set(err, "FF01", "PmtInf/PmtInfId required");
	if (has_control(sh->pmt_inf_id))
		return perr_set(err, "FF01", "PmtInf/PmtInfId contains a control "
		    "character");
	if (text_at(pmt, "PmtMtd", buf, sizeof(buf)) != 0 ||
	    strcmp(buf, "TRF") != 0)
		return perr_set(err, "FF01", "PmtInf/PmtMtd must be TRF");
	/* SALA said once for all at the PmtInf, or else by every line
	 * (read_line): ISO puts PmtTpInf at either level */
	sh->sala = xmlsafe_path(pmt, NS, "PmtTpInf/CtgyPurp") != NULL;
	if (sh->sala && (text_at(pmt, "PmtTpInf/CtgyPurp/Cd", buf,
	    sizeof(buf)) != 0 || strcmp(buf, "SALA") != 0))
		return perr_set(err, "FF01", "PmtInf/PmtTpInf/CtgyPurp/Cd must "
		    "be SALA");
	if (read_account(xmlsafe_child(pmt, NS, "DbtrAcct"), "DbtrAcct",
	    sh->debtor_account, sizeof(sh->debtor_account), err) != 0)
		return -1;
	rc = othr_with_scheme(xmlsafe_path(pmt, NS, "UltmtDbtr/Id/OrgId"),
	    "USCC", sh->subcontractor, sizeof(sh->subcontractor));
	if (rc != 0)
		return perr_set(err, "FF01", "UltmtDbtr/Id/OrgId/Othr with "
		    "SchmeNm/Cd or SchmeNm/Prtry USCC required, exactly once, "
		    "18 characters");
	if (!ids_uscc_valid(sh->subcontractor))
		return perr_set(err, "FF01", "UltmtDbtr credit code %s fails "
		    "its GB 32100 check", sh->subcontractor);
	return 0;
}

/* "WAGE/YYYY-MM" or "BACKPAY/YYYY-MM" with a real month, nothing else. */
static int
parse_remittance(const char *s, struct sheet_line *l)
{
	const char	*m;
	int		 month;

	if (strncmp(s, "WAGE/", 5) == 0) {
		l->kind = LINE_WAGE;
		m = s + 5;
	} else if (strncmp(s, "BACKPAY/", 8) == 0) {
		l->kind = LINE_BACKPAY;
		m = s + 8;
	} else
		return -1;
	if (strlen(m) != 7 || !is_digits(m, 4) || m[4] != '-' ||
	    !is_digits(m + 5, 2))
		return -1;
	month = (m[5] - '0') * 10 + (m[6] - '0');
	if (month < 1 || month > 12 || strncmp(m, "0000", 4) == 0)
		return -1;
	memcpy(l->month, m, 8);
	return 0;
}

static int
two_digits(const char *s, int max)
{
	int	v;

	if (!is_digits(s, 2))
		return -1;
	v = (s[0] - '0') * 10 + (s[1] - '0');
	return v > max ? -1 : v;
}

/*
 * An xs:dateTime as line.xsd allows it: YYYY-MM-DDThh:mm:ss[.f+] and a
 * zone (Z or (+|-)hh:mm) or none. Without a zone (xs:dateTime allows it,
 * and many generators write local time so) the time is China Standard
 * Time: "+08:00" is appended in place, so that what is stored is one
 * unambiguous moment; len is the size of s. Stricter than XML Schema in
 * two harmless ways: four-digit years only, and no 24:00:00. 1 valid.
 */
static int
datetime_read(char *s, size_t len)
{
	static const int	mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int			year, month, day;
	char			*p;

	if (strlen(s) < 19 || !is_digits(s, 4) || s[4] != '-' ||
	    s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return 0;
	year = ((s[0] - '0') * 10 + (s[1] - '0')) * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0');
	if ((month = two_digits(s + 5, 12)) < 1 ||
	    (day = two_digits(s + 8, 31)) < 1 || day > mdays[month - 1] ||
	    two_digits(s + 11, 23) < 0 || two_digits(s + 14, 59) < 0 ||
	    two_digits(s + 17, 59) < 0 || year == 0)
		return 0;
	if (month == 2 && day == 29 &&
	    !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return 0;
	p = s + 19;
	if (*p == '.') {
		if (!is_digits(++p, 1))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == '\0') {
		if ((size_t)(p - s) + sizeof("+08:00") > len)
			return 0;
		memcpy(p, "+08:00", sizeof("+08:00"));
		return 1;
	}
	if (strcmp(p, "Z") == 0)
		return 1;
	return (p[0] == '+' || p[0] == '-') && strlen(p) == 6 &&
	    two_digits(p + 1, 14) >= 0 && p[3] == ':' &&
	    two_digits(p + 4, 59) >= 0;
}

/*
 * The element children of parent must be exactly names[0..n-1], in order,
 * in LINE_NS, with nothing but white space between them and no attributes
 * anywhere: what line.xsd allows. Fills out[].
 */
static int
line_sequence(xmlNodePtr parent, const char *const names[], size_t n,
    xmlNodePtr out[])
{
	xmlNodePtr	 c;
	const xmlChar	*t;
	size_t		 i = 0;

	if (parent->properties != NULL)
		return -1;
	for (c = parent->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE) {
			for (t = c->content; t != NULL && *t != '\0'; t++)
				if (*t != ' ' && *t != '\t' && *t != '\n' &&
				    *t != '\r')
					return -1;
			continue;
		}
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			continue;
		if (c->type != XML_ELEMENT_NODE || i == n || c->ns == NULL ||
		    strcmp((const char *)c->ns->href, LINE_NS) != 0 ||
		    strcmp((const char *)c->name, names[i]) != 0 ||
		    c->properties != NULL)
			return -1;
		out[i++] = c;
	}
	return i == n ? 0 : -1;
}

/* The wp:Line's fields, checked as line.xsd would check them. */
static int
read_wp_line(xmlNodePtr wl, struct sheet_line *l, struct perr *err)
{
	static const char *const line_names[] = {
		"GrossPay", "DaysWorked", "Confirmation"
	};
	static const char *const conf_names[] = { "At", "Method", "Ref" };
	xmlNodePtr	 f[3], c[3];
	char		 buf[48], a[24], b[24];
	size_t		 i, n;

	if (line_sequence(wl, line_names, 3, f) != 0 ||
	    line_sequence(f[2], conf_names, 3, c) != 0)
		return perr_set(err, "FF01", "EndToEndId %s: wp:Line must hold "
		    "GrossPay, DaysWorked, Confirmation (At, Method, Ref) "
		    "and nothing else", E2E(l));
	if (xmlsafe_text(f[0], buf, sizeof(buf)) != 0 ||
	    amount_parse(buf, &l->gross) != 0)
		return perr_set(err, "FF01", "EndToEndId %s: wp:Line/GrossPay "
		    "is not an amount in yuan with at most two decimals", E2E(l));
	if (l->gross < l->amount) {
		money_format(l->gross, a, sizeof(a));
		money_format(l->amount, b, sizeof(b));
		return perr_set(err, "FF01", "EndToEndId %s: GrossPay %s is "
		    "less than the amount paid %s", E2E(l), a, b);
	}
	if (xmlsafe_text(f[1], buf, sizeof(buf)) != 0 ||
	    (n = strlen(buf)) < 1 || n > 2 || !is_digits(buf, n) ||
	    (l->days_worked = atoi(buf)) > 31)
		return perr_set(err, "FF01", "EndToEndId %s: wp:Line/DaysWorked "
		    "must be 0 to 31", E2E(l));
	if (xmlsafe_text(c[0], l->confirmed_at, sizeof(l->confirmed_at)) != 0 ||
	    !datetime_read(l->confirmed_at, sizeof(l->confirmed_at)))
		return perr_set(err, "FF01", "EndToEndId %s: Confirmation/At "
		    "must be a date and time, YYYY-MM-DDThh:mm:ss, with its "
		    "zone or without (then China time, +08:00)", E2E(l));
	if (xmlsafe_text(c[1], l->confirm_method,
	    sizeof(l->confirm_method)) != 0 ||
	    (strcmp(l->confirm_method, "SIGN") != 0 &&
	    strcmp(l->confirm_method, "FACE") != 0 &&
	    strcmp(l->confirm_method, "APP") != 0))
		return perr_set(err, "FF01", "EndToEndId %s: Confirmation/Method "
		    "must be SIGN, FACE or APP", E2E(l));
	if (xmlsafe_text(c[2], l->confirm_ref, sizeof(l->confirm_ref)) != 0 ||
	    (n = strlen(l->confirm_ref)) < 1 || n > 70)
		n = 0;
	for (i = 0; i < n; i++)
		if (l->confirm_ref[i] < '!' || l->confirm_ref[i] > '~')
			n = 0;
	if (n == 0)
		return perr_set(err, "FF01", "EndToEndId %s: Confirmation/Ref "
		    "must be 1 to 70 printable ASCII characters", E2E(l));
	return 0;
}

/* The one element of a SplmtryData's Envlp if it is a wp:Line, else NULL. */
static xmlNodePtr
envelope_line(xmlNodePtr sd)
{
	xmlNodePtr	c, envlp;

	if ((envlp = xmlsafe_child(sd, NS, "Envlp")) == NULL)
		return NULL;
	for (c = envlp->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c->ns != NULL &&
			    strcmp((const char *)c->ns->href, LINE_NS) == 0 &&
			    strcmp((const char *)c->name, "Line") == 0 ? c : NULL;
	return NULL;
}

/* Exactly one SplmtryData of the transaction holds a wp:Line. Others (ISO
 * allows any number, each a generator's own) are not read. */
static int
find_wp_line(xmlNodePtr tx, struct sheet_line *l, xmlNodePtr *out,
    struct perr *err)
{
	xmlNodePtr	sd, wl, found = NULL;

	for (sd = next_named(tx->children, "SplmtryData"); sd != NULL;
	    sd = next_named(sd->next, "SplmtryData")) {
		if ((wl = envelope_line(sd)) == NULL)
			continue;
		if (found != NULL)
			return perr_set(err, "FF01", "EndToEndId %s: exactly "
			    "one SplmtryData/Envlp/wp:Line required, found "
			    "two", E2E(l));
		found = wl;
	}
	if (found == NULL)
		return perr_set(err, "FF01", "EndToEndId %s: exactly one "
		    "SplmtryData/Envlp/wp:Line required", E2E(l));
	*out = found;
	return 0;
}

/* Amt/InstdAmt in CNY, at most two decimals, > 0. */
static int
read_amount(xmlNodePtr tx, struct sheet_line *l, struct perr *err)
{
	xmlNodePtr	 amt;
	xmlChar		*ccy;
	char		 buf[48];
	int		 cny;

	if (xmlsafe_path(tx, NS, "Amt/EqvtAmt") != NULL)
		return perr_set(err, "FF01", "EndToEndId %s: EqvtAmt refused, "
		    "Amt/InstdAmt in CNY required", E2E(l));
	if ((amt = xmlsafe_path(tx, NS, "Amt/InstdAmt")) == NULL)
		return perr_set(err, "FF01", "EndToEndId %s: Amt/InstdAmt "
		    "required", E2E(l));
	ccy = xmlGetNoNsProp(amt, (const xmlChar *)"Ccy");
	cny = ccy != NULL && strcmp((const char *)ccy, "CNY") == 0;
	xmlFree(ccy);
	if (!cny)
		return perr_set(err, "FF01", "EndToEndId %s: currency must be "
		    "CNY", E2E(l));
	if (xmlsafe_text(amt, buf, sizeof(buf)) != 0 ||
	    amount_parse(buf, &l->amount) != 0)
		return perr_set(err, "FF01", "EndToEndId %s: amount is not in "
		    "yuan with at most two decimals", E2E(l));
	if (l->amount <= 0)
		return perr_set(err, "FF01", "EndToEndId %s: amount must be "
		    "greater than zero", E2E(l));
	return 0;
}

/*
 * The worker: name, ID number (NIDN), card and card bank. A bad check
 * digit on the ID or the card marks this line only (WP05, AC01); a
 * missing field refuses the sheet.
 */
static int
read_worker(xmlNodePtr tx, struct sheet_line *l, struct perr *err)
{
	char		raw[WP_MAX35_LEN], masked[WP_MAX35_LEN];
	struct perr	acct;

	if ((l->name = xmlsafe_strdup(xmlsafe_path(tx, NS, "Cdtr/Nm"))) == NULL ||
	    l->name[0] == '\0')
		return perr_set(err, "FF01", "EndToEndId %s: Cdtr/Nm required",
		    E2E(l));
	if (othr_with_scheme(xmlsafe_path(tx, NS, "Cdtr/Id/PrvtId"), "NIDN",
	    raw, sizeof(raw)) != 0)
		return perr_set(err, "FF01", "EndToEndId %s: Cdtr/Id/PrvtId/Othr "
		    "with SchmeNm/Cd (or Prtry) NIDN required, exactly once",
		    E2E(l));
	if (strlen(raw) < sizeof(l->id_number))
		memcpy(l->id_number, raw, strlen(raw) + 1);
	if (!ids_resident_id_valid(raw)) {
		ids_mask(raw, masked, sizeof(masked));
		line_refuse(l, "WP05", "ID number %s fails its GB 11643 check",
		    masked);
	}
	if (read_account(xmlsafe_child(tx, NS, "CdtrAcct"), "CdtrAcct", raw,
	    sizeof(raw), &acct) != 0)
		return perr_set(err, acct.code, "EndToEndId %s: %s", E2E(l),
		    acct.msg);
	if (strlen(raw) < sizeof(l->card))
		memcpy(l->card, raw, strlen(raw) + 1);
	if (l->err.code[0] == '\0' && !ids_card_valid(raw)) {
		ids_mask(raw, masked, sizeof(masked));
		line_refuse(l, "AC01", "card %s fails its check digit", masked);
	}
	if (text_at(tx, "CdtrAgt/FinInstnId/ClrSysMmbId/MmbId", l->card_bank,
	    sizeof(l->card_bank)) != 0 || !ids_bank_code_valid(l->card_bank))
		return perr_set(err, "FF01", "EndToEndId %s: CdtrAgt/FinInstnId/"
		    "ClrSysMmbId/MmbId must be the card bank's 12-digit code",
		    E2E(l));
	return 0;
}

/* One CdtTrfTxInf, the nth (from 1). subcontractor is the PmtInf's,
 * which a per-line UltmtDbtr may repeat but not change. */
/* The line's purpose: whatever says it must say SALA (its own CtgyPurp,
 * its Purp), and something must: the PmtInf's CtgyPurp (sala) or the
 * line's own. */
static int
line_purpose(xmlNodePtr tx, int sala, struct sheet_line *l, struct perr *err)
{
	char	buf[16];

	if (xmlsafe_path(tx, NS, "PmtTpInf/CtgyPurp") != NULL) {
		if (text_at(tx, "PmtTpInf/CtgyPurp/Cd", buf, sizeof(buf)) != 0 ||
		    strcmp(buf, "SALA") != 0)
			return perr_set(err, "FF01", "EndToEndId %s: PmtTpInf/"
			    "CtgyPurp/Cd must be SALA", E2E(l));
		sala = 1;
	}
	if (xmlsafe_child(tx, NS, "Purp") != NULL) {
		if (text_at(tx, "Purp/Cd", buf, sizeof(buf)) != 0 ||
		    strcmp(buf, "SALA") != 0)
			return perr_set(err, "FF01", "EndToEndId %s: Purp/Cd must "
			    "be SALA", E2E(l));
		sala = 1;
	}
	if (!sala)
		return perr_set(err, "FF01", "EndToEndId %s: SALA required as "
		    "PmtInf/PmtTpInf/CtgyPurp/Cd, or as this line's "
		    "PmtTpInf/CtgyPurp/Cd or Purp/Cd", E2E(l));
	return 0;
}

/* RmtInf: of its Ustrd, exactly one names the month (WAGE/YYYY-MM or
 * BACKPAY/YYYY-MM); other Ustrd and Strd (a generator's own text) are not
 * read. Two months would be two answers to "which month is paid". */
static int
line_month(xmlNodePtr tx, struct sheet_line *l, struct perr *err)
{
	xmlNodePtr	 rmt, u;
	char		 buf[160];
	int		 found = 0;

	rmt = xmlsafe_child(tx, NS, "RmtInf");
	for (u = rmt != NULL ? next_named(rmt->children, "Ustrd") : NULL;
	    u != NULL; u = next_named(u->next, "Ustrd")) {
		if (xmlsafe_text(u, buf, sizeof(buf)) != 0 ||
		    (strncmp(buf, "WAGE/", 5) != 0 &&
		    strncmp(buf, "BACKPAY/", 8) != 0))
			continue;
		if (found++ || parse_remittance(buf, l) != 0)
			break;
	}
	if (found != 1 || u != NULL)
		return perr_set(err, "FF01", "EndToEndId %s: RmtInf/Ustrd must be "
		    "exactly WAGE/YYYY-MM or BACKPAY/YYYY-MM%s", E2E(l),
		    found > 1 ? " (once: two name a month)" : "");
	return 0;
}

static int
read_line(xmlNodePtr tx, size_t nth, const struct sheet *sh,
    struct sheet_line *l, struct perr *err)
{
	char		buf[160];
	xmlNodePtr	wl = NULL;

	if (text_at(tx, "PmtId/EndToEndId", l->end_to_end_id,
	    sizeof(l->end_to_end_id)) != 0 || l->end_to_end_id[0] == '\0')
		return perr_set(err, "FF01", "PmtId/EndToEndId of line %zu "
		    "required (1 to 35 characters)", nth);
	if (has_control(l->end_to_end_id))
		return perr_set(err, "FF01", "PmtId/EndToEndId of line %zu "
		    "contains a control character", nth);
	if (xmlsafe_child(tx, NS, "UltmtDbtr") != NULL &&
	    (othr_with_scheme(xmlsafe_path(tx, NS, "UltmtDbtr/Id/OrgId"),
	    "USCC", buf, sizeof(buf)) != 0 ||
	    strcmp(buf, sh->subcontractor) != 0))
		return perr_set(err, "FF01", "EndToEndId %s: UltmtDbtr must be "
		    "the PmtInf's subcontractor", E2E(l));
	if (read_amount(tx, l, err) != 0 || read_worker(tx, l, err) != 0 ||
	    line_purpose(tx, sh->sala, l, err) != 0 ||
	    line_month(tx, l, err) != 0)
		return -1;
	if (find_wp_line(tx, l, &wl, err) != 0 || read_wp_line(wl, l, err) != 0)
		return -1;
	return 0;
}

static int
cmp_e2e(const void *a, const void *b)
{
	const struct sheet_line *const *x = a, *const *y = b;

	return strcmp((*x)->end_to_end_id, (*y)->end_to_end_id);
}

/* EndToEndIds unique in the sheet: sorted pointers, O(n log n), since a
 * sheet may have 200000 lines. */
static int
check_unique(struct sheet *sh, struct perr *err)
{
	struct sheet_line	**v;
	size_t			  i;
	int			  rc = 0;

	if (sh->nlines < 2)
		return 0;
	if ((v = calloc(sh->nlines, sizeof(*v))) == NULL)
		return perr_set(err, "FF01", "out of memory");
	for (i = 0; i < sh->nlines; i++)
		v[i] = &sh->lines[i];
	qsort(v, sh->nlines, sizeof(*v), cmp_e2e);
	for (i = 1; i < sh->nlines; i++) {
		if (strcmp(v[i - 1]->end_to_end_id, v[i]->end_to_end_id) == 0) {
			rc = perr_set(err, "FF01", "EndToEndId %s appears more "
			    "than once", v[i]->end_to_end_id);
			break;
		}
	}
	free(v);
	return rc;
}

/* All WAGE lines of one month; the sheet's month is theirs, or the latest
 * BACKPAY month when there is no WAGE line. */
static int
check_months(struct sheet *sh, struct perr *err)
{
	const struct sheet_line	*l;
	const char		*wage = NULL, *latest = NULL;
	size_t			 i;

	for (i = 0; i < sh->nlines; i++) {
		l = &sh->lines[i];
		if (l->kind == LINE_WAGE) {
			if (wage != NULL && strcmp(wage, l->month) != 0)
				return perr_set(err, "FF01", "EndToEndId %s: "
				    "WAGE/%s differs from the sheet's WAGE "
				    "month %s", E2E(l), l->month, wage);
			wage = l->month;
		} else if (latest == NULL || strcmp(l->month, latest) > 0)
			latest = l->month;
	}
	snprintf(sh->month, sizeof(sh->month), "%s",
	    wage != NULL ? wage : latest != NULL ? latest : "");
	return 0;
}

static void
document_parts(xmlNodePtr root, xmlNodePtr *cct, xmlNodePtr *grp,
    xmlNodePtr *pmt)
{
	*cct = xmlsafe_child(root, NS, "CstmrCdtTrfInitn");
	*grp = xmlsafe_child(*cct, NS, "GrpHdr");
	*pmt = xmlsafe_child(*cct, NS, "PmtInf");
}

int
sheet_check_frame(xmlDocPtr doc, struct perr *err)
{
	xmlNodePtr	root, cct;
	size_t		npmt;

	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || strcmp(xmlsafe_root_ns(doc), NS) != 0 ||
	    strcmp((const char *)root->name, "Document") != 0 ||
	    (cct = xmlsafe_child(root, NS, "CstmrCdtTrfInitn")) == NULL)
		return perr_set(err, "FF01", "not a pain.001.001.10 Document with "
		    "CstmrCdtTrfInitn");
	if ((npmt = count_children(cct, NS, "PmtInf")) != 1)
		return perr_set(err, "FF01", "exactly one PmtInf required, found "
		    "%zu", npmt);
	return 0;
}

struct sheet *
sheet_new(struct perr *err)
{
	struct sheet	*sh;

	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		perr_set(err, "FF01", "out of memory");
	return sh;
}

int
sheet_read_header(struct sheet *sh, xmlDocPtr doc, struct perr *err)
{
	xmlNodePtr	cct, grp, pmt;

	document_parts(xmlDocGetRootElement(doc), &cct, &grp, &pmt);
	if (cct == NULL || pmt == NULL)
		return perr_set(err, "FF01", "not a pain.001.001.10 Document with "
		    "CstmrCdtTrfInitn and PmtInf");
	return read_group_header(cct, sh, err) != 0 ||
	    read_payment_info(pmt, sh, err) != 0 ? -1 : 0;
}

int
sheet_add_line(struct sheet *sh, xmlNodePtr tx, struct perr *err)
{
	struct sheet_line	*grown;
	size_t			 cap;

	if (++sh->seen > WP_MAX_SHEET_LINES)
		return 0;	/* refused by sheet_check_count, with the count */
	if (sh->nlines == sh->cap) {
		cap = sh->cap ? sh->cap * 2 : 64;
		if (cap > WP_MAX_SHEET_LINES)
			cap = WP_MAX_SHEET_LINES;
		if ((grown = realloc(sh->lines, cap * sizeof(*grown))) == NULL)
			return perr_set(err, "FF01", "out of memory");
		memset(grown + sh->cap, 0, (cap - sh->cap) * sizeof(*grown));
		sh->lines = grown;
		sh->cap = cap;
	}
	sh->nlines++;
	if (read_line(tx, sh->nlines, sh,
	    &sh->lines[sh->nlines - 1], err) != 0)
		return -1;
	if (__builtin_add_overflow(sh->total, sh->lines[sh->nlines - 1].amount,
	    &sh->total))
		return perr_set(err, "FF01", "the lines' total overflows");
	return 0;
}

int
sheet_check_count(const struct sheet *sh, struct perr *err)
{
	if (sh->seen == 0)
		return perr_set(err, "FF01", "PmtInf has no CdtTrfTxInf");
	if (sh->seen > WP_MAX_SHEET_LINES)
		return perr_set(err, "FF01", "sheet has %zu lines, more than the "
		    "limit of %u", sh->seen, WP_MAX_SHEET_LINES);
	return 0;
}

int
sheet_close(struct sheet *sh, xmlDocPtr doc, struct perr *err)
{
	xmlNodePtr	cct, grp, pmt;

	document_parts(xmlDocGetRootElement(doc), &cct, &grp, &pmt);
	if (sheet_check_count(sh, err) != 0 || check_unique(sh, err) != 0 ||
	    check_months(sh, err) != 0)
		return -1;
	if (check_count(grp, "GrpHdr/NbOfTxs", sh->nlines, &sh->nb_of_txs,
	    err) != 0 ||
	    check_sum(grp, "GrpHdr/CtrlSum", sh->total, &sh->ctrl_sum, err) != 0)
		return -1;
	if (xmlsafe_child(pmt, NS, "NbOfTxs") != NULL &&
	    check_count(pmt, "PmtInf/NbOfTxs", sh->nlines, NULL, err) != 0)
		return -1;
	if (xmlsafe_child(pmt, NS, "CtrlSum") != NULL &&
	    check_sum(pmt, "PmtInf/CtrlSum", sh->total, NULL, err) != 0)
		return -1;
	return 0;
}

/* The whole-tree form of what proto/sheetstream.c does in pieces: the
 * same functions, the same order of errors. */
struct sheet *
sheet_parse(xmlDocPtr doc, struct perr *err)
{
	struct sheet	*sh = NULL;
	xmlNodePtr	 cct, grp, pmt, tx;
	struct perr	 local;

	if (err == NULL)
		err = &local;
	perr_clear(err);
	if (sheet_check_frame(doc, err) != 0 || (sh = sheet_new(err)) == NULL)
		return NULL;
	document_parts(xmlDocGetRootElement(doc), &cct, &grp, &pmt);
	if (sheet_read_header(sh, doc, err) != 0)
		goto fail;
	/* the count is known before any line is read: a sheet over the
	 * limit is refused as such, whatever its lines */
	sh->seen = count_children(pmt, NS, "CdtTrfTxInf");
	if (sheet_check_count(sh, err) != 0)
		goto fail;
	sh->seen = 0;
	for (tx = next_named(pmt->children, "CdtTrfTxInf"); tx != NULL;
	    tx = next_named(tx->next, "CdtTrfTxInf"))
		if (sheet_add_line(sh, tx, err) != 0)
			goto fail;
	if (sheet_close(sh, doc, err) != 0)
		goto fail;
	return sh;
fail:
	sheet_free(sh);
	return NULL;
}

void
sheet_free(struct sheet *sh)
{
	size_t	i;

	if (sh == NULL)
		return;
	for (i = 0; i < sh->nlines; i++)
		free(sh->lines[i].name);
	free(sh->lines);
	free(sh);
}
