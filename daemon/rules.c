/*
 * rules.c: runs the day-based alert rules (DEPOSIT_SHORT, WAGES_OVERDUE,
 * the monthly ACCOUNTS_OPENED report) on a timer.
 *
 * The rules themselves are SQL (schema/functions/rules.sql, wp_rules_run, which
 * judges a project-month again only when it falls due or changed), told
 * the time by this file: clock_now(), which tests move with WAGEPAY_CLOCK,
 * so that a pay day can be tested without waiting for it. They are
 * edge-triggered in the database, so running them often, or from two
 * instances at once, raises each occurrence once. A run that raised
 * anything kicks the delivery loop.
 *
 * Owns the timer. WAGEPAY_RULES_INTERVAL (seconds, default 60) sets the
 * period; the first run is a second after start-up. Must not run two
 * statements at once: a run still out when the timer fires is not doubled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

#define INTERVAL_DEFAULT	60

/* SETTLEMENT_OVERDUE (settlement.sql) is judged on the same clock */
static const char run_sql[] = "SELECT wp_rules_run($1::timestamptz, $2::json) + "
    "wp_rule_settlement_overdue($1::timestamptz, $3::int)";

static struct {
	struct event	*timer;
	bool		 running;	/* a run is out */
	bool		 stopped;
	int		 interval;
} R;

static void
run_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	int	n;

	(void)unknown; (void)arg;
	R.running = false;
	if (R.stopped)
		return;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		/* the next run catches up: the rules look at the state, not
		 * at what happened since the last run */
		log_warnx("rules: run failed: %s", res == NULL ? error :
		    "database refused it");
		return;
	}
	if ((n = atoi(PQgetvalue(res, 0, 0))) > 0) {
		log_info("rules: %d alert(s) raised", n);
		alerts_kick();
	}
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	 tv = { R.interval, 0 };
	char		 now[40], hours[16], *regs;
	const char	*params[3];

	(void)fd; (void)ev; (void)arg;
	if (R.stopped)
		return;
	evtimer_add(R.timer, &tv);
	if (R.running || wpd->draining)
		return;
	if ((regs = alerts_regulators_json()) == NULL)
		return;
	clock_now_iso(now, sizeof(now));
	params[0] = now;
	params[1] = regs;
	snprintf(hours, sizeof(hours), "%d", wpd->conf->settlement_hours);
	params[2] = hours;
	if (db_query(wpd->db, run_sql, 3, params, run_cb, NULL) == 0)
		R.running = true;
	free(regs);
}

int
rules_start(struct event_base *base, struct perr *err)
{
	struct timeval	 tv = { 1, 0 };
	const char	*v = getenv("WAGEPAY_RULES_INTERVAL");
	char		*end;
	long		 n;

	memset(&R, 0, sizeof(R));
	R.interval = INTERVAL_DEFAULT;
	if (v != NULL && *v != '\0') {
		n = strtol(v, &end, 10);
		if (*end != '\0' || n < 1 || n > 86400)
			return perr_set(err, "WP90", "WAGEPAY_RULES_INTERVAL must "
			    "be 1 to 86400 seconds, not \"%s\"", v);
		R.interval = (int)n;
	}
	if ((R.timer = evtimer_new(base, tick_cb, NULL)) == NULL)
		return perr_set(err, "WP90", "rules: could not make a timer");
	evtimer_add(R.timer, &tv);
	log_info("rules: every %d s", R.interval);
	return 0;
}

void
rules_stop(void)
{
	if (R.timer == NULL || R.stopped)
		return;
	R.stopped = true;
	event_free(R.timer);
	R.timer = NULL;
}
