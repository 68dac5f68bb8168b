/*
 * test_dbbin.c: binary parameters of daemon/db.c (db_query_bin) and the
 * sheet's lines as proto/sheetlines.c sends them, against a real,
 * throwaway PostgreSQL 15 (tests/unit/pgharness.c); and the renewal of a
 * connection that carried a large statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgharness.h"
#include "sheetlines.h"
#include "unit.h"

/* Binary and text parameters side by side: lengths are honoured (NUL bytes
 * inside), NULL is NULL, bad formats and lengths are refused up front, and
 * a request queued while the server is down owns its copies: the caller's
 * buffer is scribbled over and freed before the request is even sent. */
static void
binary_params(void)
{
	static const char	 sql[] = "SELECT $1::text || '|' || $2::int8 || '|' "
	    "|| ($3::bytea IS NULL) || '|' || $4::bytea::text || '|' || "
	    "length($5::bytea)";
	static const char	 want[] =
	    "text|72623859790382856|true|\\x00ff00|0";
	const char		*vals[5];
	int			 lens[5] = { 0, 8, 5, 3, 0 };
	int			 fmts[5] = { 0, 1, 1, 1, 1 };
	char			*buf;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	db_set_down_grace(db, 15000);
	run_until(is_available, 5000, "first connection");

	CHECK((buf = malloc(16)) != NULL);
	memcpy(buf, "\x01\x02\x03\x04\x05\x06\x07\x08\x00\xff\x00", 11);
	vals[0] = "text";
	vals[1] = buf;
	vals[2] = NULL;
	vals[3] = buf + 8;
	vals[4] = buf;
	run_full(sql, 5, vals, lens, fmts);
	CHECK_STR(full, want);

	fmts[1] = 2;
	CHECK(db_query_bin(db, sql, 5, vals, lens, fmts, full_cb, NULL) == -1);
	fmts[1] = 1;
	lens[1] = -1;
	CHECK(db_query_bin(db, sql, 5, vals, lens, fmts, full_cb, NULL) == -1);
	lens[1] = 8;
	CHECK(db_query_bin(db, sql, 5, vals, NULL, fmts, full_cb, NULL) == -1);
	CHECK_INT(db_backlog(db), 0);

	/* formats NULL: all text, as db_query */
	run_full("SELECT $1::text || $2::text", 2, vals, NULL, NULL);
	CHECK_STR(full, "text\x01\x02\x03\x04\x05\x06\x07\x08");

	pg_stop();
	run_until(is_unavailable, 5000, "pool to notice");
	full_calls = 0;
	CHECK(db_query_bin(db, sql, 5, vals, lens, fmts, full_cb, NULL) == 0);
	memset(buf, 0xaa, 16);
	free(buf);
	run_for(500);
	CHECK_INT(full_calls, 0);
	CHECK_INT(db_backlog(db), 1);
	pg_start();
	run_until(full_done, 8000, "binary query queued across the restart");
	CHECK_STR(full, want);
	db_free(db);
	free(full);
}

/* The arrays of proto/sheetlines.c as the server reads them: every value
 * back, in order, with NULLs where a line has no pre-check refusal and no
 * quoting trouble from braces, quotes, backslashes or the word NULL. */
static void
sheetlines_round_trip(void)
{
	static const char	 want[] =
	    "1|E1|123456789012|\xe5\xbc\xa0\xe4\xb8\x89|11010519491231002X|"
	    "6222020200000000001|102100099996|WAGE|2024-02-01|0|29|"
	    "2024-03-31T18:00:00+08:00|SIGN|R1|-|-\n"
	    "2|NULL|1|{\"a,b\"}\\ 'x'|11010519491231002X|6222020200000000001|"
	    "102100099996|BACKPAY|0001-01-01|9223372036854775807|0|"
	    "2024-03-31T18:00:00+08:00|APP||AC01|card 6222****0001 fails its "
	    "check digit\n"
	    "3|E3|9|x|11010519491231002X|6222020200000000001|102100099996|WAGE|"
	    "9999-12-01|-1|31|2024-03-31T18:00:00+08:00|FACE|R3|-|-"
	    "/1/3";
	struct sheet_line	 l[3];
	struct sheet		 sh;
	struct sheetlines	*sl;
	struct perr		 err;
	char			 sql[2048];
	const char		*vals[SHEETLINES_NCOLS];
	size_t			 n;
	int			 c;

	memset(l, 0, sizeof(l));
	memset(&sh, 0, sizeof(sh));
	snprintf(l[0].end_to_end_id, WP_MAX35_LEN, "E1");
	l[0].amount = INT64_C(123456789012);
	l[0].name = (char *)"\xe5\xbc\xa0\xe4\xb8\x89";
	snprintf(l[0].id_number, WP_ID_NUMBER_LEN, "11010519491231002X");
	snprintf(l[0].card, WP_CARD_LEN, "6222020200000000001");
	snprintf(l[0].card_bank, WP_BANK_CODE_LEN, "102100099996");
	l[0].kind = LINE_WAGE;
	snprintf(l[0].month, WP_MONTH_LEN, "2024-02");
	l[0].days_worked = 29;
	snprintf(l[0].confirmed_at, WP_DATETIME_LEN, "2024-03-31T18:00:00+08:00");
	snprintf(l[0].confirm_method, 8, "SIGN");
	snprintf(l[0].confirm_ref, sizeof(l[0].confirm_ref), "R1");
	l[1] = l[0];
	l[2] = l[0];
	snprintf(l[1].end_to_end_id, WP_MAX35_LEN, "NULL");
	l[1].amount = 1;
	l[1].name = (char *)"{\"a,b\"}\\ 'x'";
	l[1].kind = LINE_BACKPAY;
	snprintf(l[1].month, WP_MONTH_LEN, "0001-01");
	l[1].gross = INT64_MAX;
	l[1].days_worked = 0;
	snprintf(l[1].confirm_method, 8, "APP");
	l[1].confirm_ref[0] = '\0';
	snprintf(l[1].err.code, sizeof(l[1].err.code), "AC01");
	snprintf(l[1].err.msg, sizeof(l[1].err.msg), "card 6222****0001 fails its check digit");
	snprintf(l[2].end_to_end_id, WP_MAX35_LEN, "E3");
	l[2].amount = 9;
	l[2].name = (char *)"x";
	snprintf(l[2].month, WP_MONTH_LEN, "9999-12");
	l[2].gross = -1;
	l[2].days_worked = 31;
	snprintf(l[2].confirm_method, 8, "FACE");
	snprintf(l[2].confirm_ref, sizeof(l[2].confirm_ref), "R3");
	sh.lines = l;
	sh.nlines = 3;
	CHECK((sl = sheetlines_new(&sh, &err)) != NULL);

	n = (size_t)snprintf(sql, sizeof(sql), "SELECT string_agg(concat_ws('|', "
	    "x.seq, x.e2e, x.amount, x.name, x.idn, x.card, x.bank, x.kind, "
	    "x.month, x.gross, x.days, x.at, x.method, x.ref, "
	    "coalesce(x.pre_code, '-'), coalesce(x.pre_text, '-')), E'\\n' "
	    "ORDER BY x.seq) || '/' || array_lower($1::text[], 1) || '/' || "
	    "cardinality($1::text[]) FROM unnest(");
	for (c = 0; c < SHEETLINES_NCOLS; c++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s$%d::%s",
		    c > 0 ? ", " : "", c + 1, sheetlines_sqltype[c]);
	snprintf(sql + n, sizeof(sql) - n, ") WITH ORDINALITY AS x(e2e, "
	    "amount, name, idn, card, bank, kind, month, gross, days, at, "
	    "method, ref, pre_code, pre_text, seq)");
	for (c = 0; c < SHEETLINES_NCOLS; c++)
		vals[c] = sl->values[c];

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	run_full(sql, SHEETLINES_NCOLS, vals, sl->lengths, sl->formats);
	if (strcmp(full, want) != 0)
		fprintf(stderr, "  got:\n%s\n  want:\n%s\n", full, want);
	CHECK_STR(full, want);
	sheetlines_free(sl);

	/* no lines: empty arrays, no rows */
	sh.nlines = 0;
	CHECK((sl = sheetlines_new(&sh, &err)) != NULL);
	for (c = 0; c < SHEETLINES_NCOLS; c++)
		vals[c] = sl->values[c];
	run_full(sql, SHEETLINES_NCOLS, vals, sl->lengths, sl->formats);
	CHECK_STR(full, "(null)");
	sheetlines_free(sl);
	db_free(db);
	free(full);
}

/* A statement over 4 MiB renews its connection once idle (libpq would keep
 * a send buffer that large for the life of the connection); a small one
 * does not. One connection, so the backend's pid tells. */
static void
large_statement_renews(void)
{
	struct seen	 a, b, c;
	const char	*vals[1];
	int		 lens[1], fmts[1] = { 1 };
	char		*big;
	size_t		 n = 5u << 20;

	pg_setup();
	setup_loop();
	db = db_open(pg_dsn, 1);
	db_set_down_grace(db, 15000);
	run_until(is_available, 5000, "first connection");
	run_query(&a, "SELECT pg_backend_pid()", 5000);
	run_query(&b, "SELECT pg_backend_pid()", 5000);
	CHECK_STR(a.value, b.value);		/* small: the same backend */

	CHECK((big = calloc(1, n)) != NULL);
	vals[0] = big;
	lens[0] = (int)n;
	run_full("SELECT length($1::bytea)", 1, vals, lens, fmts);
	CHECK_STR(full, "5242880");
	free(big);
	run_until(is_available, 5000, "the renewed connection");
	run_query(&c, "SELECT pg_backend_pid()", 5000);
	CHECK(c.had_res && c.value[0] != '\0');
	CHECK(strcmp(c.value, b.value) != 0);	/* large: a new backend */
	db_free(db);
	free(full);
}

const struct unit_case dbbin_cases[] = {
	{ "binary_params", binary_params },
	{ "sheetlines_round_trip", sheetlines_round_trip },
	{ "large_statement_renews", large_statement_renews },
	{ NULL, NULL }
};
