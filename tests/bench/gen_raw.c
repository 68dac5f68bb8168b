/*
 * gen_raw.c: `gen raw`: the limit, a raw COPY of the same ledger rows as the
 * daemon writes, one commit per sheet, over -C connections.
 */
#include "gen.h"

/* ------------------------------------------------------------------ */
/* The limit: a raw COPY of the same ledger rows.                      */

struct raw_sheet {
	struct buf	sheet, lines, transfers;
	int64_t		nlines;
	double		latency;
};

struct raw_job {
	int		 backend;	/* its PostgreSQL backend's pid */
	double		 backend_cpu;	/* seconds, read before it exits */
	const char	*dsn;
	struct raw_sheet *rs;
	int		 n, first, step;
	const char	*error;
};

/* CPU seconds of a process on this machine (user + system), 0 if gone. */
static double
proc_cpu(int pid)
{
	char		 path[64], line[1024], *p;
	unsigned long	 ut = 0, st = 0;
	FILE		*f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
raw_copy(PGconn *c, const char *sql, const struct buf *data)
{
	PGresult	*r;
	int		 ok;

	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COPY_IN;
	PQclear(r);
	if (!ok || PQputCopyData(c, data->p, (int)data->len) != 1 ||
	    PQputCopyEnd(c, NULL) != 1)
		return -1;
	r = PQgetResult(c);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "gen raw: %s", PQresultErrorMessage(r));
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	return ok ? 0 : -1;
}

static int
raw_exec(PGconn *c, const char *sql)
{
	PGresult	*r = PQexec(c, sql);
	int		 ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "gen raw: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static void *
raw_run(void *arg)
{
	struct raw_job	*job = arg;
	PGconn		*c = PQconnectdb(job->dsn);
	int		 i;
	double		 t;

	if (PQstatus(c) != CONNECTION_OK) {
		job->error = "could not connect";
		PQfinish(c);
		return NULL;
	}
	job->backend = PQbackendPID(c);
	for (i = job->first; i < job->n; i += job->step) {
		t = now_s();
		if (raw_exec(c, "BEGIN") == -1 ||
		    raw_copy(c, "COPY sheet (id, contractor_uscc, msg_id, digest, "
		    "project_id, account_id, subcontractor_uscc, month, state, "
		    "nb_of_txs, ctrl_sum, accepted_count, accepted_total, "
		    "paid_at) FROM STDIN", &job->rs[i].sheet) == -1 ||
		    raw_copy(c, "COPY sheet_line (sheet_id, seq, end_to_end_id, "
		    "project_id, id_number, name, card, card_bank, kind, month, "
		    "amount, gross, days_worked, confirmed_at, confirm_method, "
		    "confirm_ref) FROM STDIN", &job->rs[i].lines) == -1 ||
		    raw_copy(c, "COPY transfer (debit_account, credit_account, "
		    "amount, reason, reference, sheet_id, line_seq) FROM STDIN",
		    &job->rs[i].transfers) == -1 ||
		    raw_exec(c, "COMMIT") == -1) {
			job->error = "a COPY failed";
			break;
		}
		job->rs[i].latency = now_s() - t;
	}
	job->backend_cpu = proc_cpu(job->backend);
	PQfinish(c);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The same rows a paid sheet leaves (the sheet, its lines, one WAGE
 * transfer per line) written with COPY, one transaction per sheet. The
 * transfers go from the bank's clearing-in to its clearing-out account:
 * the same row shape, while the dedicated accounts' balances, which a raw
 * COPY does not maintain, stay equal to their transfers.
 */
void
cmd_raw(const struct world *w, const char *dsn, int count, int size,
    const char *month, const char *prefix, int conns)
{
	struct plan	 pl = { 0 };
	struct raw_sheet *rs;
	struct raw_job	*jobs;
	pthread_t	*th;
	struct worker	 wk;
	PGconn		*c;
	PGresult	*r;
	char		 nm[16], confirmed[48], code_msg[40], e2e[32];
	const char	*param;
	struct rusage	 ru;
	double		 t0, wall, *lat, bcpu;
	int64_t		 lines = 0, total, idx;
	int		 i, k, fail = 0;
	long		 in_id, out_id;

	plan_fixed(w, size, count, true, &pl);
	if ((c = PQconnectdb(dsn)) == NULL || PQstatus(c) != CONNECTION_OK)
		die("could not connect: %s", PQerrorMessage(c));
	r = PQexec(c, "SELECT (SELECT id FROM account WHERE kind = "
	    "'CLEARING_IN'), (SELECT id FROM account WHERE kind = "
	    "'CLEARING_OUT')");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		die("no clearing accounts: %s", PQerrorMessage(c));
	in_id = atol(PQgetvalue(r, 0, 0));
	out_id = atol(PQgetvalue(r, 0, 1));
	PQclear(r);
	snprintf(code_msg, sizeof(code_msg), "%d", pl.n);
	param = code_msg;
	r = PQexecParams(c, "SELECT nextval('sheet_id_seq') FROM "
	    "generate_series(1, $1::int)", 1, NULL, &param, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != pl.n)
		die("could not allocate sheet ids: %s", PQerrorMessage(c));

	next_month(month, nm);
	snprintf(confirmed, sizeof(confirmed), "%s-01T10:00:00+08:00", nm);
	if ((rs = calloc((size_t)pl.n, sizeof(*rs))) == NULL)
		die("out of memory");
	for (i = 0; i < pl.n; i++) {
		const char	*sid = PQgetvalue(r, i, 0);

		total = 0;
		snprintf(code_msg, sizeof(code_msg), "%s-%06d", prefix, i + 1);
		for (k = 0; k < pl.s[i].n; k++) {
			idx = world_worker_index(w, pl.s[i].project,
			    pl.s[i].first + k);
			worker_make(idx, &wk);
			snprintf(e2e, sizeof(e2e), "E%08" PRId64, idx);
			total += wk.amount;
			buf_printf(&rs[i].lines, "%s\t%d\t%s\t%ld\t%s\t%s\t%s\t%s\t"
			    "WAGE\t%s-01\t%" PRId64 "\t%" PRId64 "\t22\t%s\tSIGN\t"
			    "CONF-%s\n", sid, k + 1, e2e,
			    PROJECT_ID(pl.s[i].project), wk.id, wk.name, wk.card,
			    wk.bank, month, wk.amount, (wk.amount * 11 + 5) / 10,
			    confirmed, e2e);
			buf_printf(&rs[i].transfers, "%ld\t%ld\t%" PRId64 "\tWAGE\t"
			    "%s/%s\t%s\t%d\n", in_id, out_id, wk.amount, code_msg,
			    e2e, sid, k + 1);
		}
		buf_printf(&rs[i].sheet, "%s\t%s\t%s\t\\\\x%064d\t%ld\t%ld\t%s\t"
		    "%s-01\tPAID\t%d\t%" PRId64 "\t%d\t%" PRId64 "\t%s\n", sid,
		    w->gc, code_msg, 0, PROJECT_ID(pl.s[i].project),
		    ACCOUNT_ID(pl.s[i].project), w->sub, month, pl.s[i].n, total,
		    pl.s[i].n, total, "2026-11-02 09:00:00+08");
		rs[i].nlines = pl.s[i].n;
		lines += pl.s[i].n;
	}
	PQclear(r);
	PQfinish(c);

	jobs = calloc((size_t)conns, sizeof(*jobs));
	th = calloc((size_t)conns, sizeof(*th));
	if (jobs == NULL || th == NULL)
		die("out of memory");
	t0 = now_s();
	for (i = 0; i < conns; i++) {
		jobs[i].dsn = dsn;
		jobs[i].rs = rs;
		jobs[i].n = pl.n;
		jobs[i].first = i;
		jobs[i].step = conns;
		if (pthread_create(&th[i], NULL, raw_run, &jobs[i]) != 0)
			die("pthread_create failed");
	}
	for (i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		if (jobs[i].error != NULL) {
			fprintf(stderr, "gen raw: connection %d: %s\n", i,
			    jobs[i].error);
			fail = 1;
		}
	}
	wall = now_s() - t0;
	if (fail)
		die("the raw COPY baseline failed");
	if ((lat = calloc((size_t)pl.n, sizeof(*lat))) == NULL)
		die("out of memory");
	for (i = 0; i < pl.n; i++)
		lat[i] = rs[i].latency;
	qsort(lat, (size_t)pl.n, sizeof(*lat), cmp_double);
	/* one line for the run script: sheets lines seconds p50_ms p99_ms,
	 * this client's own CPU seconds (it shares the machine) and its
	 * backends' */
	getrusage(RUSAGE_SELF, &ru);
	for (i = 0, bcpu = 0; i < conns; i++)
		bcpu += jobs[i].backend_cpu;
	printf("%d %" PRId64 " %.3f %.1f %.1f %.2f %.2f\n", pl.n, lines, wall,
	    1000 * lat[pl.n / 2], 1000 * lat[(pl.n * 99) / 100],
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, bcpu);
	fprintf(stderr, "gen raw: %d sheets, %" PRId64 " lines in %.2f s over %d "
	    "connections: %.0f lines/s\n", pl.n, lines, wall, conns,
	    (double)lines / wall);
	for (i = 0; i < pl.n; i++) {
		free(rs[i].sheet.p);
		free(rs[i].lines.p);
		free(rs[i].transfers.p);
	}
	free(rs);
	free(lat);
	free(jobs);
	free(th);
	free(pl.s);
}
