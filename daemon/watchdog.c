/*
 * watchdog.c: the daemon's heartbeat.
 *
 * Two timers on the loop. The first tells systemd that the event loop is
 * alive (WATCHDOG=1 at half of WatchdogSec, with a STATUS= line saying how
 * the database looks); it runs only when systemd asked for a watchdog. It
 * does not depend on the database on purpose: a daemon whose database is
 * down is doing its job (answering 503 and queueing), and restarting it
 * would not bring the database back.
 *
 * The second measures the database as the handlers see it: every few
 * seconds a `SELECT 1` through the shared pool, queue time included, into a
 * histogram that /metrics shows (watchdog_metrics). At most one probe is in
 * flight: a hung database shows as a probe that has not come back, not as a
 * pile of them.
 *
 * Owns its two timer events; the counters are process-wide statics (read
 * only by metrics.c's /metrics, on the same thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"

#define PROBE_FIRST_MS	200
#define PROBE_EVERY_MS	5000

/* Upper bounds of the latency histogram, in milliseconds. */
static const int	bucket_ms[] = { 1, 2, 5, 10, 25, 50, 100, 250, 500,
			    1000, 2500, 5000, 10000 };
#define NBUCKETS	(sizeof(bucket_ms) / sizeof(bucket_ms[0]))

static struct event	*ev_notify;
static struct event	*ev_probe;
static struct timespec	 probe_sent;
static bool		 probe_inflight;
static uint64_t		 probe_count;		/* probes answered */
static uint64_t		 probe_failed;		/* probes without an answer */
static uint64_t		 probe_buckets[NBUCKETS];
static double		 probe_sum;		/* seconds: a measurement, not money */
static double		 probe_last = -1;

static double
elapsed(const struct timespec *since)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	    (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static void
notify_cb(evutil_socket_t fd, short ev, void *arg)
{
	char	status[160];

	(void)fd; (void)ev; (void)arg;
	snprintf(status, sizeof(status), "WATCHDOG=1\nSTATUS=%s; database %s, "
	    "%d request(s) queued or in flight", wpd->draining ? "draining" :
	    "serving", db_available(wpd->db) ? "up" : "DOWN",
	    db_backlog(wpd->db));
	sd_notify(0, status);
}

static void
probe_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	double	s = elapsed(&probe_sent);
	size_t	i;

	(void)error; (void)unknown; (void)arg;
	probe_inflight = false;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		probe_failed++;
		return;
	}
	probe_count++;
	probe_sum += s;
	probe_last = s;
	for (i = 0; i < NBUCKETS; i++)
		if (s * 1000 <= bucket_ms[i])
			probe_buckets[i]++;
}

static void
probe_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval	tv = { PROBE_EVERY_MS / 1000,
			    (PROBE_EVERY_MS % 1000) * 1000 };

	(void)fd; (void)ev; (void)arg;
	if (!probe_inflight && !wpd->draining) {
		clock_gettime(CLOCK_MONOTONIC, &probe_sent);
		if (db_query(wpd->db, "SELECT 1", 0, NULL, probe_cb, NULL) == 0)
			probe_inflight = true;
		else
			probe_failed++;
	}
	evtimer_add(ev_probe, &tv);
}

int
watchdog_start(struct event_base *base)
{
	uint64_t	usec = 0;
	struct timeval	tv = { 0, PROBE_FIRST_MS * 1000 };
	int		r;

	if ((ev_probe = evtimer_new(base, probe_tick_cb, NULL)) == NULL ||
	    evtimer_add(ev_probe, &tv) == -1)
		return -1;
	if ((r = sd_watchdog_enabled(0, &usec)) < 0)
		log_warnx("systemd watchdog: could not read WATCHDOG_USEC");
	if (r <= 0 || usec == 0)
		return 0;
	/* half the interval, as sd_watchdog_enabled(3) recommends */
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((ev_notify = event_new(base, -1, EV_PERSIST, notify_cb, NULL)) ==
	    NULL || event_add(ev_notify, &tv) == -1)
		return -1;
	log_info("systemd watchdog: pinging every %llu ms",
	    (unsigned long long)(usec / 1000));
	notify_cb(-1, 0, NULL);
	return 0;
}

void
watchdog_stop(void)
{
	if (ev_notify != NULL)
		event_free(ev_notify);
	if (ev_probe != NULL)
		event_free(ev_probe);
	ev_notify = ev_probe = NULL;
}

void
watchdog_metrics(struct evbuffer *b)
{
	size_t	i;

	evbuffer_add_printf(b, "# HELP wagepay_db_latency_seconds Round trip "
	    "of a probe query through the daemon's database pool, queue time "
	    "included.\n# TYPE wagepay_db_latency_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++)
		evbuffer_add_printf(b, "wagepay_db_latency_seconds_bucket"
		    "{le=\"%g\"} %llu\n", bucket_ms[i] / 1000.0,
		    (unsigned long long)probe_buckets[i]);
	evbuffer_add_printf(b, "wagepay_db_latency_seconds_bucket{le=\"+Inf\"} "
	    "%llu\nwagepay_db_latency_seconds_sum %.6f\n"
	    "wagepay_db_latency_seconds_count %llu\n",
	    (unsigned long long)probe_count, probe_sum,
	    (unsigned long long)probe_count);
	evbuffer_add_printf(b, "# HELP wagepay_db_latency_last_seconds The "
	    "latest probe's round trip (-1 before the first answer).\n"
	    "# TYPE wagepay_db_latency_last_seconds gauge\n"
	    "wagepay_db_latency_last_seconds %.6f\n", probe_last);
	evbuffer_add_printf(b, "# HELP wagepay_db_probe_failures_total Probes "
	    "the database did not answer.\n# TYPE wagepay_db_probe_failures_total "
	    "counter\nwagepay_db_probe_failures_total %llu\n",
	    (unsigned long long)probe_failed);
	evbuffer_add_printf(b, "# HELP wagepay_db_probe_waiting_seconds How "
	    "long the probe in flight has waited (0 when none is).\n"
	    "# TYPE wagepay_db_probe_waiting_seconds gauge\n"
	    "wagepay_db_probe_waiting_seconds %.3f\n",
	    probe_inflight ? elapsed(&probe_sent) : 0.0);
}
