/*
 * payroll.c: the rows of a payroll CSV (csv.c) checked one by one before
 * anything is written: the columns named in Chinese or English (API.md),
 * each field as the bank will check it (check digits by proto/ids.c,
 * amounts by proto/money.c), and the sheet-wide rules a clerk can fix
 * here (one line per worker, one worker per card).
 *
 * Every problem of every row is printed, "第 N 行 row N, COLUMN: 中文 /
 * English", with ID and card numbers masked; the caller writes nothing
 * when any was found. Owns struct payroll.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ids.h"
#include "money.h"
#include "sheettool.h"

enum payroll_col {
	COL_NAME, COL_ID, COL_CARD, COL_BANK, COL_GROSS, COL_NET, COL_DAYS,
	COL_METHOD, COL_AT, COL_REF, COL__COUNT
};

static const struct {
	const char	*zh, *en;
} columns[COL__COUNT] = {
	[COL_NAME] = { "姓名", "name" },
	[COL_ID] = { "身份证号", "id_number" },
	[COL_CARD] = { "银行卡号", "card" },
	[COL_BANK] = { "开户行行号", "card_bank" },
	[COL_GROSS] = { "应发工资", "gross" },
	[COL_NET] = { "实发工资", "net" },
	[COL_DAYS] = { "出勤天数", "days" },
	[COL_METHOD] = { "确认方式", "confirmation_method" },
	[COL_AT] = { "确认时间", "confirmation_at" },
	[COL_REF] = { "确认凭证", "confirmation_ref" },
};

struct check {
	FILE		*errors;
	size_t		 row;
	int		 col;
	bool		 bad;		/* this row */
};

static void complain(struct check *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
complain(struct check *c, const char *fmt, ...)
{
	va_list	ap;

	fprintf(c->errors, "第 %zu 行 row %zu, %s %s: ", c->row, c->row,
	    columns[c->col].zh, columns[c->col].en);
	va_start(ap, fmt);
	vfprintf(c->errors, fmt, ap);
	va_end(ap);
	fputc('\n', c->errors);
	c->bad = true;
}

/* s without blanks at both ends (spaces, tabs, and U+3000, the full-width
 * space a Chinese input method types), into buf. -1 if too long. */
static int
trimmed(const char *s, char *buf, size_t len)
{
	size_t	n;

	for (;;) {
		if (*s == ' ' || *s == '\t')
			s++;
		else if (strncmp(s, "\xe3\x80\x80", 3) == 0)
			s += 3;
		else
			break;
	}
	n = strlen(s);
	for (;;) {
		if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		else if (n >= 3 && memcmp(s + n - 3, "\xe3\x80\x80", 3) == 0)
			n -= 3;
		else
			break;
	}
	if (n >= len)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* What Excel makes of a long number in a General cell: 4.10102E+17. */
static bool
scientific(const char *s)
{
	return strchr(s, 'E') != NULL && strchr(s, '+') != NULL &&
	    strchr(s, '.') != NULL && isdigit((unsigned char)s[0]);
}

/* The header: which field holds which column. -1 (printed) if a column
 * is missing or named twice. */
static int
map_header(const struct csv_record *h, int where[COL__COUNT], FILE *errors)
{
	char	name[64];
	size_t	i;
	int	k, rc = 0;

	for (k = 0; k < COL__COUNT; k++)
		where[k] = -1;
	for (i = 0; i < h->nfields; i++) {
		if (trimmed(h->fields[i], name, sizeof(name)) != 0)
			continue;
		for (k = 0; k < COL__COUNT; k++) {
			if (strcmp(name, columns[k].zh) != 0 &&
			    strcasecmp(name, columns[k].en) != 0)
				continue;
			if (where[k] != -1) {
				fprintf(errors, "第 1 行 row 1 (header): 列 %s "
				    "重复 / column %s appears twice\n",
				    columns[k].zh, columns[k].en);
				rc = -1;
			}
			where[k] = (int)i;
		}
	}
	for (k = 0; k < COL__COUNT; k++) {
		if (where[k] != -1)
			continue;
		fprintf(errors, "第 1 行 row 1 (header): 缺少列 %s / column "
		    "%s missing\n", columns[k].zh, columns[k].en);
		rc = -1;
	}
	if (rc != 0)
		fprintf(errors, "the header row must name the ten columns "
		    "姓名,身份证号,银行卡号,开户行行号,应发工资,实发工资,"
		    "出勤天数,确认方式,确认时间,确认凭证 (or name,id_number,"
		    "card,card_bank,gross,net,days,confirmation_method,"
		    "confirmation_at,confirmation_ref)\n");
	return rc;
}

static void
check_name(struct check *c, const char *v, struct payroll_row *r)
{
	const unsigned char	*p;

	if (trimmed(v, r->name, sizeof(r->name)) != 0)
		return complain(c, "太长 / too long (at most 40 characters)");
	if (r->name[0] == '\0')
		return complain(c, "为空 / empty: the worker's name as on the "
		    "roster");
	for (p = (const unsigned char *)r->name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return complain(c, "含控制字符 / contains a control "
			    "character");
}

static void
check_id(struct check *c, const char *v, struct payroll_row *r)
{
	char	buf[64], masked[64], first[18], want;
	size_t	i;

	if (trimmed(v, buf, sizeof(buf)) != 0)
		return complain(c, "太长 / too long");
	if (scientific(buf))
		return complain(c, "Excel 已把号码变成 %s，请把该列设为文本后重新"
		    "输入 / Excel turned the number into %s: format the column "
		    "as Text and type it again", buf, buf);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	if (strlen(buf) != 18 || strspn(buf, "0123456789") < 17)
		return complain(c, "应为 18 位（17 位数字加一位数字或 X），"
		    "实为 %zu 位 / must be 18 characters, 17 digits and a digit "
		    "or X (found %zu)", strlen(buf), strlen(buf));
	ids_mask(buf, masked, sizeof(masked));
	memcpy(first, buf, 17);
	first[17] = '\0';
	want = ids_resident_id_check(first);
	if (buf[17] != want)
		return complain(c, "%s 校验位错误，应为 %c / check digit wrong "
		    "(GB 11643): %s should end in %c", masked, want, masked,
		    want);
	if (!ids_resident_id_valid(buf))
		return complain(c, "%s 出生日期无效 / %s: the birth date in it "
		    "is not a date", masked, masked);
	memcpy(r->id_number, buf, 19);
}

static void
check_card(struct check *c, const char *v, struct payroll_row *r)
{
	char	buf[64], digits[64], masked[64], want, last;
	size_t	i, n = 0;

	if (trimmed(v, buf, sizeof(buf)) != 0)
		return complain(c, "太长 / too long");
	if (scientific(buf))
		return complain(c, "Excel 已把号码变成 %s，请把该列设为文本后重新"
		    "输入 / Excel turned the number into %s: format the column "
		    "as Text and type it again", buf, buf);
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] == ' ' || buf[i] == '-')
			continue;	/* as printed on the card */
		if (!isdigit((unsigned char)buf[i]))
			return complain(c, "只能是数字 / digits only");
		digits[n++] = buf[i];
	}
	digits[n] = '\0';
	if (n < 12 || n > 19)
		return complain(c, "应为 12 至 19 位数字，实为 %zu 位 / must be "
		    "12 to 19 digits (found %zu)", n, n);
	ids_mask(digits, masked, sizeof(masked));
	last = digits[n - 1];
	digits[n - 1] = '\0';
	want = ids_luhn_check(digits);
	digits[n - 1] = last;
	if (!ids_card_valid(digits))
		return complain(c, "%s 校验位错误，应为 %c / check digit wrong "
		    "(Luhn): %s should end in %c", masked, want, masked, want);
	memcpy(r->card, digits, n + 1);
}

static void
check_bank(struct check *c, const char *v, struct payroll_row *r)
{
	char	buf[64];

	if (trimmed(v, buf, sizeof(buf)) != 0 || !ids_bank_code_valid(buf))
		return complain(c, "应为 12 位联行号 / must be the card bank's "
		    "12-digit CNAPS code");
	memcpy(r->card_bank, buf, 13);
}

/* An amount as a clerk types it: "5200", "5,200.50", "¥5200.00". */
static int
amount(const char *v, int64_t *fen)
{
	char	buf[64], clean[64];
	char	*p;
	size_t	n = 0;

	if (trimmed(v, buf, sizeof(buf)) != 0)
		return -1;
	p = buf;
	if (strncmp(p, "\xc2\xa5", 2) == 0)		/* ¥ */
		p += 2;
	else if (strncmp(p, "\xef\xbf\xa5", 3) == 0)	/* ￥ */
		p += 3;
	for (; *p != '\0'; p++)
		if (*p != ',')
			clean[n++] = *p;
	clean[n] = '\0';
	return money_parse(clean, fen);
}

static void
check_pay(struct check *c, const char *gross, const char *net,
    struct payroll_row *r)
{
	char	a[24], b[24];

	c->col = COL_GROSS;
	if (amount(gross, &r->gross) != 0)
		complain(c, "不是金额（元，最多两位小数）/ not an amount in "
		    "yuan with at most two decimals");
	c->col = COL_NET;
	if (amount(net, &r->net) != 0)
		return complain(c, "不是金额（元，最多两位小数）/ not an amount "
		    "in yuan with at most two decimals");
	if (r->net <= 0)
		return complain(c, "必须大于零 / must be greater than zero");
	if (r->gross < r->net) {
		money_format(r->gross, a, sizeof(a));
		money_format(r->net, b, sizeof(b));
		complain(c, "实发 %s 大于应发 %s / net pay %s is more than "
		    "gross pay %s", b, a, b, a);
	}
}

static void
check_days(struct check *c, const char *v, struct payroll_row *r)
{
	char	buf[16];
	size_t	n;

	if (trimmed(v, buf, sizeof(buf)) != 0 || (n = strlen(buf)) < 1 ||
	    n > 2 || strspn(buf, "0123456789") != n || atoi(buf) > 31)
		return complain(c, "应为 0 至 31 的整数 / must be a whole number "
		    "from 0 to 31");
	r->days = atoi(buf);
}

static void
check_method(struct check *c, const char *v, struct payroll_row *r)
{
	static const struct {
		const char	*as, *is;
	} methods[] = {
		{ "SIGN", "SIGN" }, { "签字", "SIGN" }, { "签名", "SIGN" },
		{ "FACE", "FACE" }, { "人脸", "FACE" }, { "刷脸", "FACE" },
		{ "人脸识别", "FACE" }, { "APP", "APP" }, { "手机", "APP" },
		{ "手机APP", "APP" },
	};
	char	buf[32];
	size_t	i;

	if (trimmed(v, buf, sizeof(buf)) == 0)
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (strcasecmp(buf, methods[i].as) == 0) {
				snprintf(r->method, sizeof(r->method), "%s",
				    methods[i].is);
				return;
			}
	complain(c, "应为 签字、人脸 或 APP / must be SIGN, FACE or APP");
}

/* Reads up to max digits at *pp as a number; -1 if none. */
static int
number(const char **pp, int max)
{
	int	v = 0, n = 0;

	while (n < max && isdigit((unsigned char)**pp)) {
		v = v * 10 + (**pp - '0');
		(*pp)++;
		n++;
	}
	return n == 0 ? -1 : v;
}

/*
 * A time as Excel shows it or as ISO writes it: "2026/10/31 18:05",
 * "2026-10-31 18:05:00", "2026-10-31T18:05:00+08:00". Written out as
 * YYYY-MM-DDThh:mm:ss and its zone, +08:00 (China time) when none is
 * given. -1 if it is not a real date and time.
 */
static int
parse_at(const char *s, char *out, size_t len)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int	y, mo, d, h, mi, se = 0;
	char	sep;
	const char *zone = "+08:00";

	if ((y = number(&s, 4)) < 1000 || (*s != '-' && *s != '/'))
		return -1;
	sep = *s++;
	if ((mo = number(&s, 2)) < 1 || mo > 12 || *s++ != sep ||
	    (d = number(&s, 2)) < 1 || d > mdays[mo - 1] ||
	    (*s != ' ' && *s != 'T'))
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	while (*s == ' ' || *s == 'T')
		s++;
	if ((h = number(&s, 2)) < 0 || h > 23 || *s++ != ':' ||
	    (mi = number(&s, 2)) < 0 || mi > 59)
		return -1;
	if (*s == ':' && (s++, (se = number(&s, 2)) < 0 || se > 59))
		return -1;
	if (*s == 'Z' && s[1] == '\0')
		zone = "Z";
	else if ((*s == '+' || *s == '-') && strlen(s) == 6 &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    s[3] == ':' && isdigit((unsigned char)s[4]) &&
	    isdigit((unsigned char)s[5]))
		zone = s;
	else if (*s != '\0')
		return -1;
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d%s", y, mo, d, h, mi,
	    se, zone);
	return 0;
}

static void
check_at(struct check *c, const char *v, struct payroll_row *r)
{
	char	buf[64];

	if (trimmed(v, buf, sizeof(buf)) != 0 ||
	    parse_at(buf, r->at, sizeof(r->at)) != 0)
		complain(c, "不是日期时间，如 2026-10-31 18:05 / not a date and "
		    "time such as 2026-10-31 18:05 (China time unless a zone is "
		    "given)");
}

static void
check_ref(struct check *c, const char *v, struct payroll_row *r)
{
	size_t	i, n;

	if (trimmed(v, r->ref, sizeof(r->ref)) != 0 ||
	    (n = strlen(r->ref)) < 1 || n > 70)
		return complain(c, "应为 1 至 70 个字符 / must be 1 to 70 "
		    "characters");
	for (i = 0; i < n; i++)
		if (r->ref[i] < '!' || r->ref[i] > '~')
			return complain(c, "只能用英文字母、数字和符号，不含空格 / "
			    "only ASCII letters, digits and signs, no blanks");
}

/* One record into r; false if any field is wrong (printed). */
static bool
read_row(const struct csv_record *rec, const int where[COL__COUNT],
    FILE *errors, struct payroll_row *r)
{
	struct check	 c = { errors, rec->row, 0, false };
	const char	*v[COL__COUNT];
	int		 k;

	memset(r, 0, sizeof(*r));
	r->row = rec->row;
	for (k = 0; k < COL__COUNT; k++)
		v[k] = (size_t)where[k] < rec->nfields ?
		    rec->fields[where[k]] : "";
	c.col = COL_NAME; check_name(&c, v[COL_NAME], r);
	c.col = COL_ID; check_id(&c, v[COL_ID], r);
	c.col = COL_CARD; check_card(&c, v[COL_CARD], r);
	c.col = COL_BANK; check_bank(&c, v[COL_BANK], r);
	check_pay(&c, v[COL_GROSS], v[COL_NET], r);
	c.col = COL_DAYS; check_days(&c, v[COL_DAYS], r);
	c.col = COL_METHOD; check_method(&c, v[COL_METHOD], r);
	c.col = COL_AT; check_at(&c, v[COL_AT], r);
	c.col = COL_REF; check_ref(&c, v[COL_REF], r);
	return !c.bad;
}

static int
cmp_by(const struct payroll_row *a, const struct payroll_row *b,
    size_t off)
{
	int	d = strcmp((const char *)a + off, (const char *)b + off);

	return d != 0 ? d : (a->row > b->row) - (a->row < b->row);
}

static int
cmp_id(const void *x, const void *y)
{
	return cmp_by(*(struct payroll_row *const *)x,
	    *(struct payroll_row *const *)y,
	    offsetof(struct payroll_row, id_number));
}

static int
cmp_card(const void *x, const void *y)
{
	return cmp_by(*(struct payroll_row *const *)x,
	    *(struct payroll_row *const *)y, offsetof(struct payroll_row, card));
}

/* One line per worker (the bank pays a worker's month once: AM05), one
 * worker per card (一人一卡). Sorted pointers; printed; counted. */
static size_t
check_across(struct payroll *p, FILE *errors)
{
	struct payroll_row	**v;
	size_t			  i, bad = 0;
	char			  masked[64];

	if (p->nrows < 2 || (v = calloc(p->nrows, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < p->nrows; i++)
		v[i] = &p->rows[i];
	qsort(v, p->nrows, sizeof(*v), cmp_id);
	for (i = 1; i < p->nrows; i++)
		if (strcmp(v[i]->id_number, v[i - 1]->id_number) == 0) {
			ids_mask(v[i]->id_number, masked, sizeof(masked));
			fprintf(errors, "第 %zu 行 row %zu, 身份证号 id_number: "
			    "%s 与第 %zu 行重复 / %s is already on row %zu\n",
			    v[i]->row, v[i]->row, masked, v[i - 1]->row, masked,
			    v[i - 1]->row);
			bad++;
		}
	qsort(v, p->nrows, sizeof(*v), cmp_card);
	for (i = 1; i < p->nrows; i++)
		if (strcmp(v[i]->card, v[i - 1]->card) == 0 &&
		    strcmp(v[i]->id_number, v[i - 1]->id_number) != 0) {
			ids_mask(v[i]->card, masked, sizeof(masked));
			fprintf(errors, "第 %zu 行 row %zu, 银行卡号 card: %s 已是"
			    "第 %zu 行工人的卡（一人一卡）/ %s is row %zu's "
			    "worker's card (one person, one card)\n", v[i]->row,
			    v[i]->row, masked, v[i - 1]->row, masked,
			    v[i - 1]->row);
			bad++;
		}
	free(v);
	return bad;
}

struct payroll *
payroll_read(const struct csv *csv, FILE *errors)
{
	struct payroll	*p;
	int		 where[COL__COUNT];
	size_t		 i;

	if (csv->nrecords == 0) {
		fprintf(errors, "the file is empty: no header row\n");
		return NULL;
	}
	if (map_header(&csv->records[0], where, errors) != 0)
		return NULL;
	if (csv->nrecords - 1 > WP_MAX_SHEET_LINES) {
		fprintf(errors, "%zu rows: a sheet holds at most %u lines\n",
		    csv->nrecords - 1, WP_MAX_SHEET_LINES);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (csv->nrecords > 1 && (p->rows = calloc(csv->nrecords - 1,
	    sizeof(*p->rows))) == NULL)) {
		free(p);
		fprintf(errors, "out of memory\n");
		return NULL;
	}
	for (i = 1; i < csv->nrecords; i++) {
		if (!read_row(&csv->records[i], where, errors,
		    &p->rows[p->nrows])) {
			p->nerrors++;
			continue;
		}
		if (__builtin_add_overflow(p->total, p->rows[p->nrows].net,
		    &p->total)) {
			fprintf(errors, "the total of 实发工资 net overflows\n");
			p->nerrors++;
		}
		p->nrows++;
	}
	p->nerrors += check_across(p, errors);
	if (p->nrows == 0 && p->nerrors == 0) {
		fprintf(errors, "no rows below the header: nothing to pay\n");
		p->nerrors++;
	}
	return p;
}

void
payroll_free(struct payroll *p)
{
	if (p == NULL)
		return;
	free(p->rows);
	free(p);
}
