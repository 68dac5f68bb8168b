/*
 * main.c: wagepayd's command line, start-up, signals and reload.
 *
 * Owns the process-wide struct wpd and everything hanging from it. Start-up
 * is the only place that may be fatal. SIGTERM drains (stop accepting, let
 * the database finish what was asked, exit); SIGHUP reloads configuration
 * and certificates all or nothing: if anything new fails to load, the old
 * set keeps running and the failure is logged.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <libxml/parser.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"
#include "pii.h"
#include "xmlsafe.h"
#include "xmlsig.h"

#define DRAIN_SECS	30

struct wpd	*wpd;

static struct event	*drain_timer;
static int		 drain_ticks;

/* Everything a configuration needs loaded before it can serve. Built whole
 * for start-up and for SIGHUP, swapped in only when complete. */
struct loaded {
	SSL_CTX		*contractor, *core, *console;
	SSL_CTX		*payments;	/* NULL without [core] payments_url */
	struct sigtrust	*subca;
	struct signer	*bank;
	struct platform_set *platforms;	/* [platform NAME] sections, loaded */
	unsigned char	 totp_key[TOTP_KEY_LEN];	/* [console] totp_key */
};

static void
loaded_free(struct loaded *l)
{
	SSL_CTX_free(l->contractor);
	SSL_CTX_free(l->core);
	SSL_CTX_free(l->console);
	SSL_CTX_free(l->payments);
	sigtrust_free(l->subca);
	xmlsig_signer_free(l->bank);
	platform_free(l->platforms);
	explicit_bzero(l, sizeof(*l));
}

/*
 * Only the core may speak for the core: with no [core] client_subject, any
 * certificate [core] client_ca accepts is the core's, so that CA must not
 * also be one that issues the contractors' certificates.
 */
static int
core_ca_alone(const struct config *c, struct perr *err)
{
	int	shared;

	if (c->core_pin != NULL)
		return 0;
	if ((shared = tls_ca_shared(c->core.client_ca, c->contractor.client_ca,
	    err)) == -1)
		return -1;
	if (shared)
		return perr_set(err, "WP90", "[core] client_subject is not set "
		    "and [core] client_ca %s would also accept what [contractor] "
		    "client_ca %s issues: pin the core with client_subject, or "
		    "give it a CA of its own",
		    c->core.client_ca, c->contractor.client_ca);
	return 0;
}

static int
load_all(const struct config *c, struct loaded *l, struct perr *err)
{
	size_t	i;
	SSL_CTX	*probe;

	memset(l, 0, sizeof(*l));
	if ((l->contractor = tls_server_ctx(c->contractor.cert,
	    c->contractor.key, c->contractor.client_ca, err)) == NULL ||
	    (l->core = tls_server_ctx(c->core.cert, c->core.key,
	    c->core.client_ca, err)) == NULL ||
	    (l->console = tls_server_ctx(c->console.cert, c->console.key, NULL,
	    err)) == NULL ||
	    (l->subca = sigtrust_load(c->subcontractor_ca, err)) == NULL ||
	    (c->subcontractor_crl != NULL &&
	    sigtrust_load_crl(l->subca, c->subcontractor_crl, err) == -1) ||
	    (l->bank = xmlsig_signer_load(c->bank_key, c->bank_cert, err)) == NULL ||
	    core_ca_alone(c, err) == -1 ||
	    totp_key_load(c->totp_key, l->totp_key, err) == -1 ||
	    (c->payments_url != NULL && (l->payments = tls_client_ctx(
	    c->payments_ca, c->payments_cert, c->payments_key, err)) == NULL) ||
	    (l->platforms = platform_load(c, err)) == NULL) {
		loaded_free(l);
		return -1;
	}
	/* each regulator's certificates must load too, or alerts would fail
	 * later, silently, where nobody looks */
	for (i = 0; i < c->nregulators; i++) {
		if ((probe = tls_client_ctx(c->regulators[i].ca,
		    c->regulators[i].cert, c->regulators[i].key, err)) == NULL) {
			loaded_free(l);
			return -1;
		}
		SSL_CTX_free(probe);
	}
	return 0;
}

/* The trust store, the bank's key and the TOTP key of l become the
 * running ones (the listeners' contexts are set by the caller). */
static void
take_loaded(struct loaded *l)
{
	sheettrust_set(l->subca);
	wpd->bank = l->bank;
	memcpy(wpd->totp_key, l->totp_key, sizeof(wpd->totp_key));
	explicit_bzero(l->totp_key, sizeof(l->totp_key));
}

static void
drain_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
	if ((db_backlog(wpd->db) == 0 && workers_backlog(wpd->workers) == 0 &&
	    workers_backlog(wpd->bulk) == 0) ||
	    ++drain_ticks > DRAIN_SECS * 10) {
		if (db_backlog(wpd->db) != 0)
			log_warnx("drain: %d database requests still open after "
			    "%d s; exiting (each is one transaction: committed "
			    "or not)", db_backlog(wpd->db), DRAIN_SECS);
		event_base_loopexit(wpd->base, NULL);
		return;
	}
	/* a pending HTTP reply may still be on its way out: give it a tick */
}

static void
sigterm_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	tv = { 0, 100000 };

	(void)ev; (void)arg;
	if (wpd->draining)
		return;
	log_info("signal %d: draining", (int)sig);
	sd_notify(0, "STOPPING=1");
	wpd->draining = true;
	listener_close(wpd->contractor);
	listener_close(wpd->core);
	listener_close(wpd->console);
	drain_timer = event_new(wpd->base, -1, EV_PERSIST, drain_tick_cb, NULL);
	if (drain_timer == NULL || event_add(drain_timer, &tv) == -1)
		event_base_loopexit(wpd->base, NULL);
}

static bool
same_path(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The [security] key files are the same (they are read at start-up only). */
static bool
same_keys(const struct config *a, const struct config *b)
{
	return same_path(a->data_key, b->data_key) &&
	    same_path(a->index_key, b->index_key) &&
	    same_path(a->previous_data_key, b->previous_data_key);
}

static void
sighup_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct config	*c;
	struct loaded	 l;
	struct perr	 err;

	(void)sig; (void)ev; (void)arg;
	sd_notify(0, "RELOADING=1");
	perr_clear(&err);
	if ((c = config_load(wpd->conf->path, &err)) == NULL ||
	    load_all(c, &l, &err) == -1) {
		log_warnx("reload refused, the running configuration stays: %s",
		    err.msg);
		config_free(c);
		sd_notify(0, "READY=1");
		return;
	}
	if (strcmp(c->contractor.listen, wpd->conf->contractor.listen) != 0 ||
	    strcmp(c->core.listen, wpd->conf->core.listen) != 0 ||
	    strcmp(c->console.listen, wpd->conf->console.listen) != 0)
		log_warnx("reload: listen addresses change only on restart");
	if (!same_keys(c, wpd->conf))
		log_warnx("reload: [security] keys change only on restart");
	if (strcmp(c->dsn, wpd->conf->dsn) != 0 &&
	    db_set_dsn(wpd->db, c->dsn, &err) == -1) {
		log_warnx("reload refused, the running configuration stays: %s",
		    err.msg);
		loaded_free(&l);
		config_free(c);
		sd_notify(0, "READY=1");
		return;
	}
	listener_set_ctx(wpd->contractor, l.contractor);
	listener_set_ctx(wpd->core, l.core);
	listener_set_ctx(wpd->console, l.console);
	xmlsig_signer_free(wpd->bank);
	take_loaded(&l);
	payorders_set_ctx(l.payments);
	platform_install(l.platforms);
	/* keep the listen settings the sockets were bound with */
	config_free(wpd->conf);
	wpd->conf = c;
	log_info("configuration and certificates reloaded from %s", c->path);
	sd_notify(0, "READY=1");
}

/* The synopsis: asked for (-h, --help), on standard output and exit 0;
 * after a wrong command line, on standard error and exit 1. */
static void
usage(bool asked)
{
	fprintf(asked ? stdout : stderr,
	    "usage: wagepayd -f FILE [-v]           run in the foreground\n"
	    "       wagepayd -f FILE -n             check the configuration\n"
	    "       wagepayd -f FILE --migrate      apply pending migrations\n"
	    "       wagepayd -f FILE --rotate-key NEWKEY   re-seal personal data under NEWKEY\n"
	    "       wagepayd -f FILE --add-operator NAME --role ROLE\n"
	    "                                       (password on standard input)\n"
	    "       wagepayd -h | --help            this text\n"
	    "see wagepayd(8) and wagepayd.conf(5)\n");
	exit(asked ? 0 : 1);
}

static char *
read_password(void)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	if ((n = getline(&line, &cap, stdin)) <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/*
 * The database was down at start: the schema is checked by the first query
 * the pool runs once it is up (queued before any request), and the daemon
 * stops if it is not this binary's. Retried while the database stays down.
 */
static void	schema_check_queue(void);

static void
schema_check_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	schema_check_queue();
}

static void
schema_checked_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	struct timeval	 again = { 1, 0 };
	char		 why[512];

	(void)unknown; (void)arg;
	if (res == NULL) {
		log_debug("schema check: %s; trying again", error);
		event_base_once(wpd->base, -1, EV_TIMEOUT,
		    schema_check_retry_cb, NULL, &again);
		return;
	}
	if (migrate_check_result(res, why, sizeof(why)) == -1)
		fatalx("the database schema is not this wagepayd's: %s; run "
		    "wagepayd -f FILE --migrate with this binary", why);
	log_info("database schema checked: this wagepayd's");
	piiconvert_check_queue();
}

static void
schema_check_queue(void)
{
	struct timeval	 again = { 1, 0 };

	if (db_query(wpd->db, migrate_check_sql(), 0, NULL, schema_checked_cb,
	    NULL) == -1)
		event_base_once(wpd->base, -1, EV_TIMEOUT,
		    schema_check_retry_cb, NULL, &again);
}

/* The [security] keys, and the pool, once the database's schema is known to
 * be this binary's and its personal data these keys' (or is checked by the
 * pool's first query, the database being down). */
static void
database_open(struct config *conf)
{
	struct perr	 err;
	bool		 reached;

	perr_clear(&err);
	if ((wpd->pii = piikeys_load(conf, &err)) == NULL && err.msg[0] != '\0')
		fatalx("%s", err.msg);
	if (migrate_check(conf->dsn, &reached) == -1 ||
	    (reached && piiconvert_check(conf->dsn, wpd->pii) == -1))
		fatalx("refusing to start");
	if ((wpd->db = db_new(wpd->base, conf->dsn, conf->db_connections,
	    &err)) == NULL)
		fatalx("[database] dsn: %s", err.msg);
	if (!reached)
		schema_check_queue();
}

/* What run() made that outlives the loop. */
static void
wpd_free(void)
{
	sheettrust_set(NULL);
	xmlsig_signer_free(wpd->bank);
	pii_keys_free(wpd->pii);
	schemas_free(wpd->schemas);
	config_free(wpd->conf);
	free(wpd);
}

/* The services that work from the database on their own. The outbound
 * connections go first: no end of a POST is told after this. */
static void
services_stop(void)
{
	outbound_shutdown();
	alerts_stop();
	payorders_stop();
	platform_stop();
	rules_stop();
}

static int
run(struct config *conf)
{
	struct perr	 err;
	struct loaded	 l;
	struct event	*ev_term, *ev_int, *ev_hup;

	perr_clear(&err);
	if ((wpd = calloc(1, sizeof(*wpd))) == NULL)
		fatal("calloc");
	wpd->conf = conf;
	if ((wpd->schemas = schemas_load(&err)) == NULL)
		fatalx("could not load the message schemas: %s", err.msg);
	if (load_all(conf, &l, &err) == -1)
		fatalx("%s", err.msg);
	take_loaded(&l);
	if (evthread_use_pthreads() == -1)
		fatalx("could not enable libevent's thread support");
	if ((wpd->base = event_base_new()) == NULL)
		fatalx("could not create the event loop");
	if ((wpd->workers = workers_new(wpd->base, conf->workers, 0)) == NULL)
		fatalx("could not start %d worker threads", conf->workers);
	if ((wpd->bulk = workers_new(wpd->base, 1, BULK_NICE)) == NULL)
		fatalx("could not start the bulk worker thread");
	database_open(conf);
	if ((wpd->contractor = listener_new(wpd->base, "contractor",
	    conf->contractor.listen, l.contractor, contractor_route, NULL,
	    &err)) == NULL ||
	    (wpd->core = listener_new(wpd->base, "core", conf->core.listen,
	    l.core, core_route, NULL, &err)) == NULL ||
	    (wpd->console = listener_new(wpd->base, "console",
	    conf->console.listen, l.console, console_route, NULL,
	    &err)) == NULL)
		fatalx("%s", err.msg);

	signal(SIGPIPE, SIG_IGN);
	ev_term = evsignal_new(wpd->base, SIGTERM, sigterm_cb, NULL);
	ev_int = evsignal_new(wpd->base, SIGINT, sigterm_cb, NULL);
	ev_hup = evsignal_new(wpd->base, SIGHUP, sighup_cb, NULL);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) == -1 || evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_hup, NULL) == -1)
		fatalx("could not install signal handlers");
	if (watchdog_start(wpd->base) == -1)
		fatalx("could not start the watchdog timers");

	if (clock_init() == -1 || alerts_start(wpd->base, &err) == -1 ||
	    payorders_start(wpd->base, l.payments, &err) == -1 ||
	    platform_start(wpd->base, l.platforms, &err) == -1 ||
	    rules_start(wpd->base, &err) == -1)
		fatalx("%s", err.msg[0] ? err.msg : "WAGEPAY_CLOCK is not valid");

	if (!totp_key_set(wpd->totp_key))
		log_warnx("[console] totp_key is not set: the operators' second "
		    "factors are stored unsealed in the database (read only "
		    "through the schema owner's functions); a bank sets one "
		    "(openssl rand -hex 32 > FILE; chmod 600 FILE)");
	log_info("wagepayd ready (pid %ld)", (long)getpid());
	sd_notify(0, "READY=1");
	event_base_dispatch(wpd->base);

	log_info("wagepayd stopped");
	services_stop();
	workers_free(wpd->workers);
	workers_free(wpd->bulk);
	listener_free(wpd->contractor);
	listener_free(wpd->core);
	listener_free(wpd->console);
	db_free(wpd->db);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	if (drain_timer != NULL)
		event_free(drain_timer);
	watchdog_stop();
	event_base_free(wpd->base);
	wpd_free();
	return 0;
}

/* --rotate-key NEWKEY: NEWKEY must be the configuration's data_key (what
 * the daemons now seal with), with the old one as previous_data_key. */
static int
rotate_key(const struct config *conf, const struct pii_keys *keys,
    const char *newkey)
{
	if (keys == NULL || conf->previous_data_key == NULL ||
	    strcmp(conf->data_key, newkey) != 0) {
		fprintf(stderr, "--rotate-key %s: set [security] data_key = %s "
		    "and previous_data_key = the key it replaces, restart the "
		    "daemons with that (they then seal with the new key and "
		    "still read the old), then run this\n", newkey, newkey);
		return -1;
	}
	return piiconvert_rotate(conf->migrate_dsn != NULL ? conf->migrate_dsn :
	    conf->dsn, keys, newkey);
}

/* -n, --migrate and --rotate-key: each reads the [security] keys. */
static int
keyed_command(struct config *conf, const char *file, bool check, bool migrate,
    const char *rotate)
{
	struct pii_keys	*keys;
	struct loaded	 l;
	struct perr	 err;
	int		 rc = -1;
	/* the conversion rewrites the tables: the schema owner's work */
	const char	*owner = conf->migrate_dsn != NULL ? conf->migrate_dsn :
			    conf->dsn;

	perr_clear(&err);
	keys = piikeys_load(conf, &err);
	if (err.msg[0] != '\0')
		fprintf(stderr, "%s: %s\n", file, err.msg);
	else if (check && load_all(conf, &l, &err) == -1)
		fprintf(stderr, "%s: %s\n", file, err.msg);
	else if (check) {
		loaded_free(&l);
		printf("configuration OK\n");
		rc = 0;
	} else if (migrate)
		rc = migrate_run(conf->dsn, conf->migrate_dsn) == 0 &&
		    piiconvert_migrate(owner, keys) == 0 ? 0 : -1;
	else
		rc = rotate_key(conf, keys, rotate);
	pii_keys_free(keys);
	config_free(conf);
	return rc == 0 ? 0 : 1;
}

/* --add-operator, as the schema's owner when migrate_dsn is set (an
 * administrator's act: the daemon's own role may not add operators). */
static int
add_operator(struct config *conf, const char *name, const char *role,
    char *password)
{
	unsigned char	key[TOTP_KEY_LEN];
	struct perr	err;
	int		rc = -1;

	perr_clear(&err);
	if (totp_key_load(conf->totp_key, key, &err) == -1)
		fprintf(stderr, "%s: %s\n", conf->path, err.msg);
	else
		rc = operator_add(conf->migrate_dsn != NULL ? conf->migrate_dsn :
		    conf->dsn, key, name, role, password);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(password, strlen(password));
	free(password);
	config_free(conf);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	enum { OPT_MIGRATE = 256, OPT_ADD_OPERATOR, OPT_ROLE, OPT_ROTATE_KEY };
	static const struct option longopts[] = {
		{ "migrate", no_argument, NULL, OPT_MIGRATE },
		{ "add-operator", required_argument, NULL, OPT_ADD_OPERATOR },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "rotate-key", required_argument, NULL, OPT_ROTATE_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*file = NULL, *opname = NULL, *role = NULL, *rotate = NULL;
	bool		 check = false, migrate = false;
	int		 ch, rc;
	struct config	*conf;
	struct perr	 err;
	char		*password;

	log_init(0);
	while ((ch = getopt_long(argc, argv, "f:hnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': file = optarg; break;
		case 'h': usage(true); break;
		case 'n': check = true; break;
		case 'v': log_setverbose(1); break;
		case OPT_MIGRATE: migrate = true; break;
		case OPT_ADD_OPERATOR: opname = optarg; break;
		case OPT_ROLE: role = optarg; break;
		case OPT_ROTATE_KEY: rotate = optarg; break;
		default: usage(false);
		}
	}
	if (file == NULL || optind != argc || (opname != NULL) != (role != NULL))
		usage(false);

	xmlInitParser();
	perr_clear(&err);
	if ((conf = config_load(file, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (xmlsig_init() == -1)
		fatalx("could not initialise xmlsec");

	if (check || migrate || rotate != NULL)
		return keyed_command(conf, file, check, migrate, rotate);
	if (opname != NULL) {
		if ((password = read_password()) == NULL) {
			fprintf(stderr, "no password on standard input\n");
			return 1;
		}
		return add_operator(conf, opname, role, password);
	}
	rc = run(conf);
	xmlsig_shutdown();
	return rc;
}
