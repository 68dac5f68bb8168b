/*
 * report.c: the bank's answers printed for a payroll clerk: the decision
 * (pain.002.001.11) as a table, every refused line with its reason in
 * Chinese and English and the bank's own words (AddtlInf), and the
 * voucher's lines. Parsed with proto/xmlsafe.c (no DTD, no network).
 * The reason texts follow the README's table of codes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "sheettool.h"
#include "xmlsafe.h"

#define PAIN002_NS	"urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"
#define VOUCHER_NS	"urn:wagepay:voucher:1"

static const struct {
	const char	*code, *zh, *en;
} reasons[] = {
	{ "FF01", "格式或银行规范不符", "not readable, or against the bank profile" },
	{ "DU01", "单号已用于另一份工资单", "MsgId already used for another sheet" },
	{ "AM04", "专户余额不足，整单挂起待资金到账",
	    "held: the dedicated account is short; paid when funds arrive" },
	{ "AM05", "该工人该月工资已支付或重复", "this worker's wage for the month "
	    "was already paid, or is twice in the sheet" },
	{ "AC01", "银行卡号或开户行与花名册登记不符",
	    "card or its bank is not the worker's registered wage card" },
	{ "AC04", "专户已销户", "the dedicated account is closed" },
	{ "AC06", "专户已冻结", "the dedicated account is blocked" },
	{ "BE01", "姓名与花名册不符", "name is not the name on the roster" },
	{ "RR04", "监管原因拒绝", "refused for a regulatory reason" },
	{ "NARR", "见说明", "see the note" },
	{ "WP01", "工人不在项目实名花名册", "worker not on the project's "
	    "real-name roster" },
	{ "WP02", "工人不属于该分包单位", "worker not employed by the sheet's "
	    "subcontractor" },
	{ "WP03", "该月工人不在场", "worker not on site during that month" },
	{ "WP05", "身份证号校验位错误", "ID number fails its check digit" },
	{ "WP06", "分包单位不在项目花名册", "the subcontractor is not on the "
	    "project's roster" },
	{ "WP07", "工资月份晚于当前月份", "WAGE month after the current month" },
	{ "WP08", "补发月份不早于当前月份", "BACKPAY month not before the "
	    "current month" },
	{ "WP09", "工人确认时间晚于当前时间", "the worker's confirmation is "
	    "dated in the future" },
	{ "WP30", "未签名或签名格式不符", "not signed, or the signature is not "
	    "in the required place or form" },
	{ "WP31", "签名验证失败：签名后被修改", "signature does not verify: "
	    "the sheet was changed after signing" },
	{ "WP32", "签名证书不受信任（过期、吊销或非认可机构）",
	    "the signer's certificate is not trusted (CA, expired, revoked)" },
	{ "WP33", "签名单位不是工资单的分包单位", "signed by another company "
	    "than the sheet's subcontractor" },
};

static const struct {
	const char	*status, *zh, *en;
} statuses[] = {
	{ "ACSC", "全部支付", "all lines paid" },
	{ "ACCC", "全部入账", "all paid lines credited to the cards" },
	{ "PART", "部分支付", "some lines refused, the rest paid" },
	{ "PDNG", "挂起待资金", "held whole until the account is funded" },
	{ "RJCT", "拒绝，未支付", "refused, nothing paid" },
	{ "CANC", "已撤回，未支付", "withdrawn, never paid" },
};

const char *
report_reason_zh(const char *code)
{
	size_t	i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].code, code) == 0)
			return reasons[i].zh;
	return NULL;
}

const char *
report_reason_en(const char *code)
{
	size_t	i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].code, code) == 0)
			return reasons[i].en;
	return NULL;
}

/* Columns on a terminal: a CJK character takes two. */
static size_t
width(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 w = 0;

	for (; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		w += *p >= 0xe0 ? 2 : 1;
	}
	return w;
}

static void
cell(FILE *out, const char *s, size_t w)
{
	size_t	n = width(s);

	fputs(s, out);
	for (; n < w; n++)
		fputc(' ', out);
	fputs("  ", out);
}

static void
text_of(xmlNodePtr from, const char *ns, const char *path, char *buf,
    size_t len)
{
	if (xmlsafe_text(xmlsafe_path(from, ns, path), buf, len) != 0)
		buf[0] = '\0';
}

/* Rsn/Cd or Rsn/Prtry of a StsRsnInf, and its AddtlInf. */
static void
reason_of(xmlNodePtr n, char *code, size_t clen, char *note, size_t nlen)
{
	xmlNodePtr	sri = xmlsafe_child(n, PAIN002_NS, "StsRsnInf");

	text_of(sri, PAIN002_NS, "Rsn/Cd", code, clen);
	if (code[0] == '\0')
		text_of(sri, PAIN002_NS, "Rsn/Prtry", code, clen);
	text_of(sri, PAIN002_NS, "AddtlInf", note, nlen);
}

/* The spreadsheet row of an EndToEndId made by build_end_to_end. */
static void
row_of(const char *e2e, char *out, size_t len)
{
	const char	*r = strrchr(e2e, '-');

	if (r != NULL && r[1] == 'R' && r[2] >= '1' && r[2] <= '9' &&
	    strspn(r + 2, "0123456789") == strlen(r + 2))
		snprintf(out, len, "%.8s", r + 2);
	else
		snprintf(out, len, "-");
}

static void
print_line(FILE *out, xmlNodePtr tx)
{
	char	e2e[64], sts[8], code[40], note[1024], row[16];
	const char *zh, *en;

	text_of(tx, PAIN002_NS, "OrgnlEndToEndId", e2e, sizeof(e2e));
	text_of(tx, PAIN002_NS, "TxSts", sts, sizeof(sts));
	reason_of(tx, code, sizeof(code), note, sizeof(note));
	row_of(e2e, row, sizeof(row));
	zh = report_reason_zh(code);
	en = report_reason_en(code);
	cell(out, row, 6);
	cell(out, e2e, 24);
	cell(out, strcmp(sts, "ACCC") == 0 ? "ACCC 已入账" :
	    strcmp(sts, "RJCT") == 0 ? "RJCT 拒绝" : sts, 12);
	cell(out, code[0] != '\0' ? code : "-", 6);
	if (code[0] == '\0')
		fprintf(out, "%s\n", strcmp(sts, "ACCC") == 0 ?
		    "已入账 / credited to the worker's card" : "");
	else
		fprintf(out, "%s / %s\n", zh != NULL ? zh : "银行代码，见说明",
		    en != NULL ? en : "the bank's code, see the note");
	if (note[0] != '\0')
		fprintf(out, "%56s说明 note: %s\n", "", note);
}

static void
print_group(FILE *out, xmlNodePtr grp, const char *sts)
{
	char		msg_id[64], code[40], note[1024];
	const char	*zh = "", *en = "";
	size_t		 i;

	text_of(grp, PAIN002_NS, "OrgnlMsgId", msg_id, sizeof(msg_id));
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(statuses[i].status, sts) == 0) {
			zh = statuses[i].zh;
			en = statuses[i].en;
		}
	fprintf(out, "工资单 Sheet: %s\n状态 Status: %s %s / %s\n", msg_id,
	    sts, zh, en);
	reason_of(grp, code, sizeof(code), note, sizeof(note));
	if (code[0] != '\0')
		fprintf(out, "原因 Reason: %s %s / %s\n", code,
		    report_reason_zh(code) ? report_reason_zh(code) : "",
		    report_reason_en(code) ? report_reason_en(code) : "");
	if (note[0] != '\0')
		fprintf(out, "说明 Note: %s\n", note);
}

int
report_decision(const char *body, size_t len, FILE *out, FILE *errors)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 rpt, grp, opi, tx;
	struct perr	 err;
	char		 sts[8];
	int		 rc, header = 0;

	if ((doc = xmlsafe_parse(body, len, &err)) == NULL ||
	    strcmp(xmlsafe_root_ns(doc), PAIN002_NS) != 0 ||
	    (rpt = xmlsafe_child(xmlDocGetRootElement(doc), PAIN002_NS,
	    "CstmrPmtStsRpt")) == NULL ||
	    (grp = xmlsafe_child(rpt, PAIN002_NS, "OrgnlGrpInfAndSts")) ==
	    NULL) {
		fprintf(errors, "the bank's answer is not a pain.002 report\n");
		xmlFreeDoc(doc);
		return EXIT_FAILED;
	}
	text_of(grp, PAIN002_NS, "GrpSts", sts, sizeof(sts));
	print_group(out, grp, sts);
	for (opi = xmlsafe_child(rpt, PAIN002_NS, "OrgnlPmtInfAndSts");
	    opi != NULL; opi = opi->next) {
		if (!xmlsafe_is(opi, PAIN002_NS, "OrgnlPmtInfAndSts"))
			continue;
		for (tx = opi->children; tx != NULL; tx = tx->next) {
			if (!xmlsafe_is(tx, PAIN002_NS, "TxInfAndSts"))
				continue;
			if (!header++) {
				fputc('\n', out);
				cell(out, "行 Row", 6);
				cell(out, "流水号 EndToEndId", 24);
				cell(out, "状态 Status", 12);
				cell(out, "代码", 6);
				fputs("原因 Reason\n", out);
			}
			print_line(out, tx);
		}
	}
	rc = strcmp(sts, "ACSC") == 0 || strcmp(sts, "ACCC") == 0 ?
	    EXIT_PAID : strcmp(sts, "PART") == 0 ? EXIT_PART :
	    strcmp(sts, "PDNG") == 0 ? EXIT_PENDING :
	    strcmp(sts, "RJCT") == 0 ? EXIT_REJECTED :
	    strcmp(sts, "CANC") == 0 ? EXIT_CANCELLED : EXIT_FAILED;
	xmlFreeDoc(doc);
	return rc;
}

static void
voucher_line(FILE *out, xmlNodePtr l)
{
	static const char *const f[] = {
		"EndToEndId", "Name", "IdNumber", "Card", "Amount", "Settlement"
	};
	static const size_t w[] = { 24, 10, 20, 21, 12, 0 };
	char	buf[256];
	size_t	i;

	for (i = 0; i < 6; i++) {
		text_of(l, VOUCHER_NS, f[i], buf, sizeof(buf));
		if (i < 5)
			cell(out, buf, w[i]);
		else
			fprintf(out, "%s\n", buf);
	}
}

int
report_voucher(const char *body, size_t len, FILE *out, FILE *errors)
{
	xmlDocPtr	doc;
	xmlNodePtr	v, l;
	struct perr	err;
	char		a[64], b[64], c[64], d[64], e[64];

	if ((doc = xmlsafe_parse(body, len, &err)) == NULL ||
	    strcmp(xmlsafe_root_ns(doc), VOUCHER_NS) != 0) {
		fprintf(errors, "the bank's answer is not a voucher\n");
		xmlFreeDoc(doc);
		return -1;
	}
	v = xmlDocGetRootElement(doc);
	text_of(v, VOUCHER_NS, "MsgId", a, sizeof(a));
	text_of(v, VOUCHER_NS, "Project", b, sizeof(b));
	text_of(v, VOUCHER_NS, "Subcontractor", c, sizeof(c));
	text_of(v, VOUCHER_NS, "Month", d, sizeof(d));
	text_of(v, VOUCHER_NS, "PaidAt", e, sizeof(e));
	fprintf(out, "代发工资凭证 Payment voucher\n工资单 Sheet: %s\n"
	    "项目 Project: %s\n分包单位 Subcontractor: %s\n月份 Month: %s\n"
	    "支付时间 Paid at: %s\n\n", a, b, c, d, e);
	cell(out, "流水号 EndToEndId", 24);
	cell(out, "姓名 Name", 10);
	cell(out, "身份证 ID", 20);
	cell(out, "银行卡 Card", 21);
	cell(out, "金额 Amount", 12);
	fputs("入账 Settlement\n", out);
	for (l = v->children; l != NULL; l = l->next)
		if (xmlsafe_is(l, VOUCHER_NS, "Line"))
			voucher_line(out, l);
	text_of(v, VOUCHER_NS, "Count", a, sizeof(a));
	text_of(v, VOUCHER_NS, "Total", b, sizeof(b));
	fprintf(out, "\n笔数 Count: %s   合计 Total: %s 元 yuan\n", a, b);
	xmlFreeDoc(doc);
	return 0;
}
