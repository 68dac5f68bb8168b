/*
 * report.c: turns the database's decision on a sheet into the pain.002 the
 * contractor receives, and the HTTP status that goes with it.
 *
 * Owns nothing past its return. The rows come from wp_sheet_submit,
 * wp_sheet_cancel or wp_sheet_status (schema/functions/sheet.sql, documents.sql): a summary row, then one row per
 * refused line ('L'); wp_sheet_status adds the settlement (026): a row per
 * paid line with an outcome ('T', its TxSts in the outcome column), and a
 * row 'G' when every paid line of an ACSC sheet is credited (GrpSts ACCC);
 * wp_sheet_close a last row 'O' for the payment order of a sheet it paid
 * (read by payorders.c, not part of the report).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "pain002.h"

/* Column numbers of the rows. */
enum { COL_KIND, COL_OUTCOME, COL_STATE, COL_E2E, COL_CODE, COL_MESSAGE };

static char *
build(const char *orig_msg_id, const char *status, const char *code,
    const char *message, const struct status_line *lines, size_t nlines,
    size_t *len)
{
	struct status_report	r;
	char			id[WP_MAX35_LEN], now[40];

	util_message_id("WP002", id, sizeof(id));
	util_now_iso(now, sizeof(now));
	memset(&r, 0, sizeof(r));
	r.msg_id = id;
	r.created_at = now;
	r.orig_msg_id = orig_msg_id;
	r.orig_msg_nm_id = "pain.001.001.10";
	r.group_status = status;
	r.group_code = code;
	r.group_message = message;
	r.lines = lines;
	r.nlines = nlines;
	return pain002_build(&r, len);
}

char *
report_refused(const char *orig_msg_id, const struct perr *err, size_t *len)
{
	return build(orig_msg_id, "RJCT", err->code, err->msg, NULL, 0, len);
}

/* The rows after the summary as lines: the refused ones ('L', TxSts RJCT)
 * and the settled ones ('T', TxSts of the outcome column), in the order
 * given; *nrefused counts the refused, *credited tells a row 'G'. */
static size_t
read_lines(PGresult *res, struct status_line *lines, size_t *nrefused,
    bool *credited)
{
	const char	*kind;
	int		 n = PQntuples(res), i;
	size_t		 nlines = 0;

	*nrefused = 0;
	*credited = false;
	for (i = 1; i < n; i++) {
		kind = PQgetvalue(res, i, COL_KIND);
		if (strcmp(kind, "O") == 0)	/* the order: payorders.c's */
			continue;
		if (strcmp(kind, "G") == 0) {
			*credited = strcmp(PQgetvalue(res, i, COL_OUTCOME),
			    "ACCC") == 0;
			continue;
		}
		lines[nlines].end_to_end_id = PQgetvalue(res, i, COL_E2E);
		lines[nlines].code = PQgetvalue(res, i, COL_CODE);
		lines[nlines].message = PQgetvalue(res, i, COL_MESSAGE);
		if (strcmp(kind, "T") == 0)
			lines[nlines].status = PQgetvalue(res, i, COL_OUTCOME);
		else
			(*nrefused)++;
		nlines++;
	}
	return nlines;
}

char *
report_from_rows(PGresult *res, const char *orig_msg_id, int *status,
    char *outcome, size_t outcome_len, size_t *len)
{
	struct status_line	*lines = NULL;
	const char		*state, *grp, *code = NULL, *msg = NULL;
	char			 text[160], *out;
	int			 n = PQntuples(res);
	size_t			 nlines, nrefused;
	bool			 credited;

	*status = 200;
	if (n < 1 || strcmp(PQgetvalue(res, 0, COL_KIND), "S") != 0) {
		snprintf(outcome, outcome_len, "%s", "EMPTY");
		return NULL;
	}
	snprintf(outcome, outcome_len, "%s", PQgetvalue(res, 0, COL_OUTCOME));
	state = PQgetvalue(res, 0, COL_STATE);

	if (strcmp(outcome, "FORBIDDEN") == 0) {
		*status = 403;
		return NULL;
	}
	if (strcmp(outcome, "CONFLICT") == 0) {
		*status = 409;
		return build(orig_msg_id, "RJCT", "DU01", "MsgId was already used "
		    "by this contractor for a different sheet; nothing was paid "
		    "for this one", NULL, 0, len);
	}
	if (PQgetisnull(res, 0, COL_STATE))	/* refused before deciding */
		return build(orig_msg_id, "RJCT", PQgetvalue(res, 0, COL_CODE),
		    PQgetvalue(res, 0, COL_MESSAGE), NULL, 0, len);

	if (n > 1 && (lines = calloc((size_t)n - 1, sizeof(*lines))) == NULL)
		return NULL;
	nlines = read_lines(res, lines, &nrefused, &credited);
	/* a cancel of a sheet not held: its current report, with 409 */
	if (strcmp(outcome, "NOT_HELD") == 0)
		*status = 409;
	if (strcmp(state, "PAID") == 0)
		grp = nrefused > 0 ? "PART" : credited ? "ACCC" : "ACSC";
	else if (strcmp(state, "CANCELLED") == 0) {
		/* withdrawn while held: never paid (ISO group status CANC) */
		grp = "CANC";
		msg = "withdrawn by the general contractor while held for "
		    "funds; nothing of it was paid";
	}
	else if (strcmp(state, "HELD") == 0) {
		grp = "PDNG";
		code = "AM04";
		msg = "held whole: the dedicated account's balance is short; it "
		    "is paid by itself when the owner's deposit arrives";
	} else {
		grp = "RJCT";
		snprintf(text, sizeof(text), "no line could be paid: %zu of %zu "
		    "lines refused", nrefused, nrefused);
		code = nlines > 0 ? lines[0].code : "FF01";
		msg = text;
	}
	out = build(orig_msg_id, grp, code, msg, lines, nlines, len);
	free(lines);
	return out;
}

/* Counts a decision for /metrics by its group status: cheap (the status is
 * near the start of the report). */
void
report_count_outcome(const char *xml)
{
	if (strstr(xml, "<GrpSts>ACSC<") != NULL)
		wpd->sheets_by_state[METRIC_ACSC]++;
	else if (strstr(xml, "<GrpSts>PART<") != NULL)
		wpd->sheets_by_state[METRIC_PART]++;
	else if (strstr(xml, "<GrpSts>PDNG<") != NULL)
		wpd->sheets_by_state[METRIC_PDNG]++;
	else
		wpd->sheets_by_state[METRIC_RJCT]++;
}
