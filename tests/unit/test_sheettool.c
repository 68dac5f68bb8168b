/*
 * test_sheettool.c: wagepay-sheet's reading of a payroll (tools/sheet/):
 * csv.c on what Excel writes (BOM, GB18030, quotes, line breaks in a
 * cell, other separators, blank rows) and payroll.c's row checks, each
 * message with its spreadsheet row. The whole tool, against a daemon, is
 * tests/integration/t0740-sheet-tool.t.
 */
#include <unistd.h>

#include "sheettool.h"
#include "unit.h"

/* Writes n bytes to a new temporary file; its path in path. */
static void
temp_file(const char *bytes, size_t n, char path[64])
{
	int	fd;

	snprintf(path, 64, "/tmp/wp-sheettool-XXXXXX");
	CHECK((fd = mkstemp(path)) != -1);
	CHECK(write(fd, bytes, n) == (ssize_t)n);
	close(fd);
}

static struct csv *
read_bytes(const char *bytes, size_t n, char *err, size_t errlen)
{
	char		 path[64];
	struct csv	*c;

	temp_file(bytes, n, path);
	c = csv_read(path, err, errlen);
	unlink(path);
	return c;
}

static void
csv_excel_quotes(void)
{
	static const char in[] = "\xef\xbb\xbfname,note\r\n"
	    "\"Wang, Jun\",\"two\r\nlines and \"\"quotes\"\"\"\r\n"
	    ",,\r\n"
	    "Li,plain\r\n";
	char		 err[256];
	struct csv	*c = read_bytes(in, sizeof(in) - 1, err, sizeof(err));

	CHECK(c != NULL);
	CHECK_STR(c->encoding, "UTF-8 with BOM");
	CHECK_INT(c->nrecords, 3);		/* the blank row is dropped */
	CHECK_STR(c->records[0].fields[0], "name");
	CHECK_INT(c->records[1].row, 2);
	CHECK_STR(c->records[1].fields[0], "Wang, Jun");
	CHECK_STR(c->records[1].fields[1], "two\r\nlines and \"quotes\"");
	CHECK_INT(c->records[2].row, 4);	/* a cell's line break is no row */
	CHECK_STR(c->records[2].fields[1], "plain");
	csv_free(c);
	csv_free(NULL);
}

static void
csv_gb18030_semicolons(void)
{
	/* 姓名;实发工资 / 王五;100 in GB18030, as Excel saves "CSV" in a
	 * locale whose list separator is ';' */
	static const char in[] = "\xd0\xd5\xc3\xfb;\xca\xb5\xb7\xa2\xb9\xa4"
	    "\xd7\xca\n\xcd\xf5\xce\xe5;100\n";
	char		 err[256];
	struct csv	*c = read_bytes(in, sizeof(in) - 1, err, sizeof(err));

	CHECK(c != NULL);
	CHECK_STR(c->encoding, "GB18030");
	CHECK_INT(c->nrecords, 2);
	CHECK_STR(c->records[0].fields[0], "姓名");
	CHECK_STR(c->records[0].fields[1], "实发工资");
	CHECK_STR(c->records[1].fields[0], "王五");
	CHECK_STR(c->records[1].fields[1], "100");
	csv_free(c);
}

static void
csv_refused(void)
{
	static const char binary[] = "\xff\xfe\xff" "name\n";
	static const char open_quote[] = "name\n\"never closed\n";
	char	err[256];

	CHECK(read_bytes(binary, sizeof(binary) - 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "neither UTF-8 nor GB18030") != NULL);
	CHECK(read_bytes(open_quote, sizeof(open_quote) - 1, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "row 2: a quoted field is never closed") != NULL);
	CHECK(csv_read("/nonexistent/payroll.csv", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "could not open") != NULL);
}

/* A payroll's rows checked: messages collected from a memory stream. */
static struct payroll *
rows(const char *text, char **messages)
{
	char		 err[256];
	size_t		 len;
	FILE		*f;
	struct csv	*c = read_bytes(text, strlen(text), err, sizeof(err));
	struct payroll	*p;

	CHECK(c != NULL);
	CHECK((f = open_memstream(messages, &len)) != NULL);
	p = payroll_read(c, f);
	fclose(f);
	csv_free(c);
	return p;
}

#define HEADER "name,id_number,card,card_bank,gross,net,days," \
    "confirmation_method,confirmation_at,confirmation_ref\n"

static void
payroll_good_row(void)
{
	char		*msg = NULL;
	struct payroll	*p = rows(HEADER "张三,410102198511205616,"
	    "6217 0012 3456 7890 122,105491000011,\"5,800.00\",¥5200,22,签字,"
	    "2026/10/31 18:05,CF-1\n", &msg);

	CHECK(p != NULL);
	CHECK_STR(msg, "");
	CHECK_INT(p->nerrors, 0);
	CHECK_INT(p->nrows, 1);
	CHECK_STR(p->rows[0].card, "6217001234567890122");
	CHECK_INT(p->rows[0].gross, 580000);
	CHECK_INT(p->rows[0].net, 520000);
	CHECK_STR(p->rows[0].method, "SIGN");
	CHECK_STR(p->rows[0].at, "2026-10-31T18:05:00+08:00");
	CHECK_INT(p->total, 520000);
	payroll_free(p);
	free(msg);
}

static void
payroll_bad_rows(void)
{
	char		*msg = NULL;
	struct payroll	*p = rows(HEADER
	    "张三,410102198511205617,6217001234567890122,105491000011,100,90,"
	    "1,FACE,2026-10-31 18:05:00,R1\n"
	    "李四,4.10102E+17,6217001234567890123,10549100001,100,110,32,SMS,"
	    "31/10/2026,R 2\n"
	    "王五,410102198511205616,6217001234567890122,105491000011,100,90,"
	    "1,APP,2026-10-31T18:05:00Z,R3\n"
	    "赵六,410102198511205616,6217001234567890122,105491000011,100,90,"
	    "1,APP,2026-10-31T18:05:00Z,R4\n", &msg);

	CHECK(p != NULL);
	CHECK(strstr(msg, "第 2 行 row 2, 身份证号 id_number: 4101**********5617 "
	    "校验位错误，应为 6") != NULL);
	CHECK(strstr(msg, "row 3, 身份证号 id_number: Excel") != NULL);
	CHECK(strstr(msg, "row 3, 银行卡号 card: ") != NULL);
	CHECK(strstr(msg, "should end in 2") != NULL);
	CHECK(strstr(msg, "row 3, 开户行行号 card_bank:") != NULL);
	CHECK(strstr(msg, "row 3, 实发工资 net: 实发 110.00 大于应发 100.00") != NULL);
	CHECK(strstr(msg, "row 3, 出勤天数 days:") != NULL);
	CHECK(strstr(msg, "row 3, 确认方式 confirmation_method:") != NULL);
	CHECK(strstr(msg, "row 3, 确认时间 confirmation_at:") != NULL);
	CHECK(strstr(msg, "row 3, 确认凭证 confirmation_ref:") != NULL);
	CHECK(strstr(msg, "第 5 行 row 5, 身份证号 id_number: 4101**********5616 "
	    "与第 4 行重复") != NULL);
	CHECK(strstr(msg, "410102198511205616") == NULL);	/* masked */
	CHECK_INT(p->nerrors, 3);
	payroll_free(p);
	free(msg);
}

static void
payroll_header(void)
{
	char		*msg = NULL;
	struct payroll	*p = rows("姓名,身份证号,name\n", &msg);

	CHECK(p == NULL);
	CHECK(strstr(msg, "缺少列 银行卡号 / column card missing") != NULL);
	CHECK(strstr(msg, "column 姓名 name appears twice") == NULL);
	CHECK(strstr(msg, "列 姓名 重复 / column name appears twice") != NULL);
	free(msg);
}

static void
reason_texts(void)
{
	CHECK_STR(report_reason_en("WP01"),
	    "worker not on the project's real-name roster");
	CHECK(report_reason_zh("AM04") != NULL);
	CHECK(report_reason_zh("XX99") == NULL);
}

const struct unit_case sheettool_cases[] = {
	{ "csv_excel_quotes", csv_excel_quotes },
	{ "csv_gb18030_semicolons", csv_gb18030_semicolons },
	{ "csv_refused", csv_refused },
	{ "payroll_good_row", payroll_good_row },
	{ "payroll_bad_rows", payroll_bad_rows },
	{ "payroll_header", payroll_header },
	{ "reason_texts", reason_texts },
	{ NULL, NULL }
};
