/*
 * platform.c: feeds each provincial monitoring platform ([platform NAME])
 * in real time (API.md "Provincial platform feed").
 *
 * The records are written by the SQL that causes them, in the same
 * transaction (platform_event, schema/functions/feed.sql: the outbox);
 * this file reads them after the commit. Per platform, one batch at a
 * time: wp_platform_claim routes the committed events by the platform's
 * region prefix, numbers them without gaps (seq, stable once assigned) and
 * returns the next records from the last acknowledged one, under a lease
 * kept in the database (so across instances too); the body
 * {"records":[...]} is built and its personal fields SM4-encrypted
 * (crypto = sm) by proto/feed.c, signed over its exact bytes (SM2-SM3 or
 * RSA-SHA256, X-Wagepay-Signature and X-Wagepay-Sign-Alg) and POSTed over
 * HTTPS with the bank's client certificate, the platform verified against
 * its CA and host name. Any 2xx acknowledges the whole batch
 * (wp_platform_acked) and the next one is claimed at once; anything else
 * backs off, 1 s doubling up to a cap, kept in the database across
 * restarts (wp_platform_failed), and the same records go again with the
 * same seq and id: at least once, in order. A daemon killed mid-POST
 * leaves the lease to expire.
 *
 * Owns: the loaded platforms (TLS contexts, signing keys, data keys: made
 * by platform_load at -n, start-up and SIGHUP, with the rest of the
 * configuration, all or nothing; each platform's outbound.c destination,
 * made at its first POST and retired with its set), the poll timer, the
 * DNS resolver, every batch in flight. The HTTPS itself is outbound.c's
 * (DESIGN.md §7). Must not: block the loop, or log a worker's name, ID
 * number or card (records are named by seq and id only).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "daemon.h"
#include "feed.h"
#include "log.h"
#include "pii.h"

#define POLL_MS_DEFAULT		1000
#define TIMEOUT_SECS_DEFAULT	10
#define BACKOFF_MAX_DEFAULT	300
#define BATCH_DEFAULT		500

static const char claim_sql[] =
    "SELECT * FROM wp_platform_claim($1, $2, $3::int, $4::int)";
static const char acked_sql[] =
    "SELECT wp_platform_acked($1, $2::bigint, $3::bigint, $4::int)";
static const char failed_sql[] =
    "SELECT wp_platform_failed($1, $2::bigint, $3::int, $4, $5::int)";

/* Columns of wp_platform_claim. */
enum { C_SEQ, C_ID, C_KIND, C_AT, C_FIELDS, C_CLAIM, C__COUNT };

/* One configured platform, loaded. */
struct platform {
	char		*name;
	char		*region;
	char		*url;
	enum feed_crypto crypto;
	SSL_CTX		*ctx;		/* owned */
	struct outbound	*out;		/* owned; made at the first POST */
	EVP_PKEY	*sign;		/* owned */
	unsigned char	 data_key[FEED_KEY_LEN];
	bool		 busy;		/* a claim or a POST of it is out */
};

/* Every platform of one configuration; reference-counted so that a POST
 * started before a SIGHUP finishes with the set it started with. */
struct platform_set {
	int		 refs;
	size_t		 n;
	struct platform	*p;
};

/* One batch in flight: POSTed, then its outcome being recorded. */
struct post {
	LIST_ENTRY(post)	 entry;		/* while POSTed */
	struct platform_set	*set;		/* a reference */
	struct platform		*pf;		/* in set */
	long long		 first, last;	/* the batch's seqs */
	char			 claim[24];	/* the claim's number */
	int			 status;	/* HTTP status, 0 if none */
};

static struct {
	struct event_base	*base;
	struct event		*timer;
	struct evdns_base	*dns;
	struct platform_set	*set;		/* a reference; NULL: none */
	LIST_HEAD(, post)	 inflight;
	bool			 started, stopped;
	int			 timeout_secs, backoff_max, batch;
} F;

/* --- loading ---------------------------------------------------------------- */

static void
set_release(struct platform_set *s)
{
	size_t	i;

	if (s == NULL || --s->refs > 0)
		return;
	for (i = 0; i < s->n; i++) {
		/* at shutdown outbound_shutdown (main.c) freed them already */
		if (!F.stopped)
			outbound_retire(s->p[i].out);
		free(s->p[i].name);
		free(s->p[i].region);
		free(s->p[i].url);
		SSL_CTX_free(s->p[i].ctx);
		EVP_PKEY_free(s->p[i].sign);
		OPENSSL_cleanse(s->p[i].data_key, FEED_KEY_LEN);
	}
	free(s->p);
	free(s);
}

void
platform_free(struct platform_set *s)
{
	set_release(s);
}

/* The data key file of c: 32 hexadecimal digits. */
static int
load_data_key(const struct platform_conf *c, unsigned char *key, struct perr *err)
{
	char	 buf[256];
	size_t	 n;
	FILE	*f;

	if ((f = fopen(c->data_key, "r")) == NULL)
		return perr_set(err, "WP90", "[platform %s] data_key: could not "
		    "open \"%s\": %m", c->name, c->data_key);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (feed_data_key_parse(buf, n, key, err) == -1) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return perr_set(err, "WP90", "[platform %s] data_key \"%s\": a "
		    "data key is 32 hexadecimal digits (16 bytes), nothing else",
		    c->name, c->data_key);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

/* The signing key of c, of the kind its crypto names, matching sign_cert
 * when there is one. */
static EVP_PKEY *
load_sign_key(const struct platform_conf *c, struct perr *err)
{
	EVP_PKEY	*k = NULL;
	X509		*x = NULL;
	FILE		*f;
	const char	*kind = c->crypto == FEED_SM ? "SM2" : "RSA";

	if ((f = fopen(c->sign_key, "r")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (k == NULL) {
		perr_set(err, "WP90", "[platform %s] sign_key: could not read a "
		    "PEM private key from \"%s\"", c->name, c->sign_key);
		return NULL;
	}
	if (!EVP_PKEY_is_a(k, kind)) {
		perr_set(err, "WP90", "[platform %s] sign_key \"%s\" is not an %s "
		    "key, as crypto = %s needs", c->name, c->sign_key, kind,
		    c->crypto == FEED_SM ? "sm" : "rsa");
		EVP_PKEY_free(k);
		return NULL;
	}
	if (c->sign_cert == NULL)
		return k;
	if ((f = fopen(c->sign_cert, "r")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (x == NULL || X509_check_private_key(x, k) != 1) {
		perr_set(err, "WP90", "[platform %s] sign_cert \"%s\": %s", c->name,
		    c->sign_cert, x == NULL ? "could not read a PEM certificate" :
		    "it is not the certificate of sign_key");
		X509_free(x);
		EVP_PKEY_free(k);
		return NULL;
	}
	X509_free(x);
	return k;
}

struct platform_set *
platform_load(const struct config *c, struct perr *err)
{
	struct platform_set		*s;
	struct platform			*p;
	const struct platform_conf	*pc;
	size_t				 i;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (c->nplatforms > 0 && (s->p = calloc(c->nplatforms,
	    sizeof(*s->p))) == NULL)) {
		free(s);
		perr_set(err, "WP90", "out of memory");
		return NULL;
	}
	s->refs = 1;
	for (i = 0; i < c->nplatforms; i++, s->n++) {
		pc = &c->platforms[i];
		p = &s->p[i];
		p->crypto = (enum feed_crypto)pc->crypto;
		if ((p->name = strdup(pc->name)) == NULL ||
		    (p->region = strdup(pc->region)) == NULL ||
		    (p->url = strdup(pc->url)) == NULL) {
			s->n++;
			set_release(s);
			perr_set(err, "WP90", "out of memory");
			return NULL;
		}
		if ((p->ctx = tls_client_ctx(pc->ca, pc->cert, pc->key,
		    err)) == NULL || (p->sign = load_sign_key(pc, err)) == NULL ||
		    (pc->crypto == FEED_SM && load_data_key(pc, p->data_key,
		    err) == -1)) {
			s->n++;
			set_release(s);
			return NULL;
		}
	}
	return s;
}

void
platform_install(struct platform_set *s)
{
	set_release(F.set);
	F.set = s;
	platform_kick();
}

/* --- recording an attempt ------------------------------------------------ */

static void
recorded_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct post	*p = arg;

	(void)unknown;
	if (!F.stopped && (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK))
		log_warnx("platform %s: could not record an attempt: %s; its "
		    "lease makes the batch due again", p->pf->name, res == NULL ?
		    error : "database refused the update");
	else if (!F.stopped && PQgetisnull(res, 0, 0))
		log_warnx("platform %s: records %lld-%lld: the platform was "
		    "claimed again or replayed meanwhile; this attempt's outcome "
		    "is not recorded, the newer claim sends them", p->pf->name,
		    p->first, p->last);
	p->pf->busy = false;
	set_release(p->set);
	free(p);
	if (!F.stopped && !wpd->draining)
		platform_kick();
}

/* Records the attempt of p (a 2xx: acknowledged) and frees its connection;
 * p itself lives until the database answered, then the platform is free. */
static void
record(struct post *p, const char *error)
{
	char		 last[24], status[16], max[16];
	const char	*params[5];
	int		 rc;

	LIST_REMOVE(p, entry);
	snprintf(last, sizeof(last), "%lld", p->last);
	snprintf(status, sizeof(status), "%d", p->status);
	params[0] = p->pf->name;
	params[1] = p->claim;
	if (p->status >= 200 && p->status <= 299) {
		log_info("platform %s: records %lld-%lld acknowledged (HTTP %d)",
		    p->pf->name, p->first, p->last, p->status);
		params[2] = last;
		params[3] = status;
		rc = db_query(wpd->db, acked_sql, 4, params, recorded_cb, p);
	} else {
		log_warnx("platform %s: records %lld-%lld not delivered: %s; "
		    "they will be sent again", p->pf->name, p->first, p->last,
		    error);
		snprintf(max, sizeof(max), "%d", F.backoff_max);
		params[2] = p->status > 0 ? status : NULL;
		params[3] = error;
		params[4] = max;
		rc = db_query(wpd->db, failed_sql, 5, params, recorded_cb, p);
	}
	if (rc == -1) {
		log_warnx("platform %s: database unavailable; the batch will be "
		    "sent again after its lease", p->pf->name);
		p->pf->busy = false;
		set_release(p->set);
		free(p);
	}
}

/* --- the POST ---------------------------------------------------------------- */

/* outbound.c's end of a POST: the status, or 0 and why none came. */
static void
posted_cb(int status, const char *error, void *arg)
{
	struct post	*p = arg;
	char		 why[300];

	p->status = status;
	if (status == 0)
		snprintf(why, sizeof(why), "%s", error != NULL ? error : "no answer");
	else
		snprintf(why, sizeof(why), "HTTP %d", status);
	record(p, why);
}

/* POSTs body, signed by sig, to p's platform; a failure to start is
 * recorded at once. */
static void
post_body(struct post *p, const char *body, size_t len, const char *sig)
{
	struct platform	*pf = p->pf;
	struct perr	 err;
	const char	*hdr[] = {
		"X-Wagepay-Signature", sig,
		"X-Wagepay-Sign-Alg", feed_sign_alg(pf->crypto),
		NULL
	};

	perr_clear(&err);
	if (pf->out == NULL && (pf->out = outbound_new(F.base, F.dns, pf->url,
	    pf->ctx, F.timeout_secs, 1, &err)) == NULL) {
		record(p, err.msg);
		return;
	}
	if (outbound_post(pf->out, "application/json", hdr, body, len,
	    posted_cb, p) == -1)
		record(p, "could not send the request (out of memory)");
}

/* --- building and claiming ------------------------------------------------- */

/* A payline's fields with the worker's ID number, name and card opened
 * from its sealed record (issue 22: the columns hold blind indexes then),
 * the record itself left out; malloc'd. NULL with err. */
static char *
unsealed(const char *fields, struct perr *err)
{
	struct pii_clear	 c;
	json_t			*f, *v;
	json_error_t		 jerr;
	char			*out = NULL;

	if ((f = json_loads(fields, 0, &jerr)) == NULL ||
	    (v = json_object_get(f, "_pii")) == NULL || !json_is_string(v)) {
		json_decref(f);
		perr_set(err, "WP90", "a payline's sealed record cannot be read");
		return NULL;
	}
	if (piikeys_open_hex(json_string_value(v), &c, err) == 0) {
		json_object_set_new(f, "idNumber", json_string(c.idn));
		json_object_set_new(f, "name", json_string(c.name));
		json_object_set_new(f, "card", json_string(c.card));
		json_object_del(f, "_pii");
		if ((out = json_dumps(f, JSON_COMPACT)) == NULL)
			perr_set(err, "WP90", "out of memory");
	}
	OPENSSL_cleanse(&c, sizeof(c));
	json_decref(f);
	return out;
}

/* The signed body of the claimed rows, POSTed; a failure before the
 * request is out is recorded at once. */
static void
send_batch(struct platform *pf, PGresult *res)
{
	struct feed_record	*r;
	struct post		*p;
	struct perr		 err;
	char			*body = NULL, *sig = NULL;
	size_t			 len = 0;
	int			 i, n = PQntuples(res);

	perr_clear(&err);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (r = calloc((size_t)n, sizeof(*r))) == NULL) {
		free(p);
		pf->busy = false;	/* the lease makes the batch due again */
		return;
	}
	p->set = F.set;
	F.set->refs++;
	p->pf = pf;
	LIST_INSERT_HEAD(&F.inflight, p, entry);
	for (i = 0; i < n; i++) {
		r[i].seq = strtoll(PQgetvalue(res, i, C_SEQ), NULL, 10);
		r[i].id = PQgetvalue(res, i, C_ID);
		r[i].kind = PQgetvalue(res, i, C_KIND);
		r[i].at = PQgetvalue(res, i, C_AT);
		r[i].fields = PQgetvalue(res, i, C_FIELDS);
	}
	for (i = 0; i < n; i++)
		if (strstr(r[i].fields, "\"_pii\"") != NULL &&
		    (r[i].fields = unsealed(r[i].fields, &err)) == NULL)
			break;		/* err says which */
	p->first = r[0].seq;
	p->last = r[n - 1].seq;
	snprintf(p->claim, sizeof(p->claim), "%s", PQgetvalue(res, 0, C_CLAIM));
	if (i == n && (body = feed_body(r, (size_t)n, pf->crypto, pf->data_key,
	    &len, &err)) != NULL)
		sig = feed_sign(pf->sign, pf->crypto, body, len, &err);
	for (n = i, i = 0; i < n; i++)		/* the opened ones */
		if (r[i].fields != PQgetvalue(res, i, C_FIELDS))
			free((char *)r[i].fields);
	free(r);
	if (sig == NULL)
		record(p, err.msg);
	else
		post_body(p, body, len, sig);
	free(sig);
	free(body);
}

struct claim {
	struct platform_set	*set;	/* a reference */
	struct platform		*pf;
};

static void
claim_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct claim	*c = arg;

	(void)unknown;
	if (F.stopped || c->set != F.set) {
		c->pf->busy = false;
		set_release(c->set);
		free(c);
		return;
	}
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQnfields(res) != C__COUNT) {
		log_warnx("platform %s: could not claim records: %s", c->pf->name,
		    res == NULL ? error : PQresultErrorMessage(res));
		c->pf->busy = false;
	} else if (PQntuples(res) == 0)
		c->pf->busy = false;
	else
		send_batch(c->pf, res);
	set_release(c->set);
	free(c);
}

static void
claim(struct platform *pf)
{
	char		 batch[16], lease[16];
	const char	*params[4];
	struct claim	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->set = F.set;
	c->pf = pf;
	snprintf(batch, sizeof(batch), "%d", F.batch);
	/* the attempt's deadline and the time to record it */
	snprintf(lease, sizeof(lease), "%d", F.timeout_secs +
	    (F.timeout_secs < 10 ? F.timeout_secs : 10));
	params[0] = pf->name;
	params[1] = pf->region;
	params[2] = batch;
	params[3] = lease;
	if (db_query(wpd->db, claim_sql, 4, params, claim_cb, c) == -1) {
		free(c);
		return;
	}
	F.set->refs++;
	pf->busy = true;
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	size_t	i;

	(void)fd; (void)ev; (void)arg;
	if (F.stopped || wpd->draining || F.set == NULL)
		return;
	for (i = 0; i < F.set->n; i++)
		if (!F.set->p[i].busy)
			claim(&F.set->p[i]);
}

void
platform_kick(void)
{
	if (F.started && !F.stopped)
		event_active(F.timer, EV_TIMEOUT, 0);
}

int
platform_start(struct event_base *base, struct platform_set *s,
    struct perr *err)
{
	struct timeval	tv;
	int		poll_ms;

	memset(&F, 0, sizeof(F));
	LIST_INIT(&F.inflight);
	F.base = base;
	F.set = s;
	F.timeout_secs = util_env_int("WAGEPAY_PLATFORM_TIMEOUT",
	    TIMEOUT_SECS_DEFAULT, 1, 600);
	F.backoff_max = util_env_int("WAGEPAY_PLATFORM_BACKOFF_MAX",
	    BACKOFF_MAX_DEFAULT, 1, 86400);
	F.batch = util_env_int("WAGEPAY_PLATFORM_BATCH", BATCH_DEFAULT, 1, 10000);
	poll_ms = util_env_int("WAGEPAY_PLATFORM_POLL_MS", POLL_MS_DEFAULT, 10,
	    600000);
	if ((F.dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL &&
	    (F.dns = evdns_base_new(base, 0)) == NULL)
		return perr_set(err, "WP90", "platform feed: could not start a "
		    "DNS resolver");
	if ((F.timer = event_new(base, -1, EV_PERSIST, poll_cb, NULL)) == NULL) {
		evdns_base_free(F.dns, 0);
		return perr_set(err, "WP90", "platform feed: could not make a "
		    "timer");
	}
	tv.tv_sec = poll_ms / 1000;
	tv.tv_usec = (poll_ms % 1000) * 1000;
	event_add(F.timer, &tv);
	F.started = true;
	platform_kick();
	return 0;
}

void
platform_stop(void)
{
	struct post	*p;

	if (!F.started || F.stopped)
		return;
	F.stopped = true;
	event_free(F.timer);
	/* the connections went with outbound_shutdown (main.c), which tells
	 * no end: what was in flight is sent again after its lease */
	while ((p = LIST_FIRST(&F.inflight)) != NULL) {
		LIST_REMOVE(p, entry);
		set_release(p->set);
		free(p);
	}
	set_release(F.set);
	F.set = NULL;
	evdns_base_free(F.dns, 0);
}
