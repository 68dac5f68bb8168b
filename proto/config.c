/*
 * config.c: parses the daemon's configuration file into struct config.
 *
 * Responsible for syntax and for the presence and shape of every key;
 * it owns the strings it returns (freed by config_free). It must not open
 * certificates or sockets: that is the daemon's work, so the parser stays
 * pure and can be fuzzed. Unknown sections and keys are errors, because a
 * misspelt key silently ignored is how a bank ends up without TLS.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "peerpin.h"

#define CONFIG_MAX_SIZE	(1024 * 1024)

enum section {
	SEC_NONE,
	SEC_DATABASE,
	SEC_CONTRACTOR,
	SEC_CORE,
	SEC_CONSOLE,
	SEC_SIGNING,
	SEC_REGULATOR,
	SEC_PLATFORM,
	SEC_LIMITS,
	SEC_RULES,
	SEC_SECURITY
};

static const char *const authority_names[] = {
	[AUTH_HRSS] = "hrss",
	[AUTH_HOUSING] = "housing",
	[AUTH_TRANSPORT] = "transport",
	[AUTH_WATER] = "water",
	[AUTH_AGRICULTURE] = "agriculture",
};

const char *
config_authority_name(enum authority a)
{
	if (a < AUTH_HRSS || a > AUTH_AGRICULTURE)
		return "unknown";
	return authority_names[a];
}

enum authority
config_authority_parse(const char *s)
{
	int	a;

	for (a = AUTH_HRSS; a <= AUTH_AGRICULTURE; a++)
		if (strcmp(s, authority_names[a]) == 0)
			return (enum authority)a;
	return 0;
}

static void
listener_free(struct listener_conf *l)
{
	free(l->listen);
	free(l->cert);
	free(l->key);
	free(l->client_ca);
	free(l->client_subject);
}

void
config_free(struct config *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->dsn);
	free(c->migrate_dsn);
	listener_free(&c->contractor);
	listener_free(&c->core);
	peerpin_free(c->core_pin);
	free(c->payments_url);
	free(c->payments_ca);
	free(c->payments_cert);
	free(c->payments_key);
	listener_free(&c->console);
	free(c->totp_key);
	free(c->subcontractor_ca);
	free(c->subcontractor_crl);
	free(c->bank_cert);
	free(c->bank_key);
	free(c->data_key);
	free(c->index_key);
	free(c->previous_data_key);
	for (i = 0; i < c->nregulators; i++) {
		free(c->regulators[i].name);
		free(c->regulators[i].region);
		free(c->regulators[i].url);
		free(c->regulators[i].ca);
		free(c->regulators[i].cert);
		free(c->regulators[i].key);
	}
	free(c->regulators);
	for (i = 0; i < c->nplatforms; i++) {
		free(c->platforms[i].name);
		free(c->platforms[i].region);
		free(c->platforms[i].url);
		free(c->platforms[i].ca);
		free(c->platforms[i].cert);
		free(c->platforms[i].key);
		free(c->platforms[i].sign_cert);
		free(c->platforms[i].sign_key);
		free(c->platforms[i].data_key);
	}
	free(c->platforms);
	free(c);
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Sets *slot to a copy of value, refusing a key given twice. */
static int
set_string(char **slot, const char *value, const char *where, const char *key,
    struct perr *err)
{
	if (*slot != NULL)
		return perr_set(err, "FF01", "%s: \"%s\" is set twice", where, key);
	if ((*slot = strdup(value)) == NULL)
		return perr_set(err, "FF01", "%s: out of memory", where);
	return 0;
}

static int
set_int(int *slot, const char *value, int min, int max, const char *where,
    const char *key, struct perr *err)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value || v < min || v > max)
		return perr_set(err, "FF01", "%s: \"%s\" must be a whole number "
		    "from %d to %d, not \"%s\"", where, key, min, max, value);
	*slot = (int)v;
	return 0;
}

/* A [rules] period in days: digits only (no sign, no spaces), 1 to 3650;
 * set at most once, so that 0 still means "not set" for the default. */
static int
set_days(int *slot, const char *value, const char *where, const char *key,
    struct perr *err)
{
	if (*slot != 0)
		return perr_set(err, "FF01", "%s: \"%s\" is set twice", where,
		    key);
	if (strspn(value, "0123456789") != strlen(value) || strlen(value) > 4 ||
	    set_int(slot, value, 1, 3650, where, key, err) == -1)
		return perr_set(err, "FF01", "%s: \"%s\" must be a whole number "
		    "of days from 1 to 3650, not \"%s\"", where, key, value);
	return 0;
}

static int
listener_key(struct listener_conf *l, bool with_ca, const char *key,
    const char *value, const char *where, struct perr *err)
{
	if (strcmp(key, "listen") == 0)
		return set_string(&l->listen, value, where, key, err);
	if (strcmp(key, "cert") == 0)
		return set_string(&l->cert, value, where, key, err);
	if (strcmp(key, "key") == 0)
		return set_string(&l->key, value, where, key, err);
	if (with_ca && strcmp(key, "client_ca") == 0)
		return set_string(&l->client_ca, value, where, key, err);
	return perr_set(err, "FF01", "%s: unknown key \"%s\"", where, key);
}

/* [core] client_subject: the core's certificate, pinned by its subject or
 * its fingerprint (peerpin.h); a value that does not parse is refused. */
static int
core_subject(struct config *c, const char *value, const char *where,
    struct perr *err)
{
	struct perr	why;

	perr_clear(&why);
	if (c->core.client_subject != NULL)
		return perr_set(err, "FF01", "%s: \"client_subject\" is set twice",
		    where);
	if ((c->core_pin = peerpin_parse(value, &why)) == NULL)
		return perr_set(err, "FF01", "%s: client_subject: %s", where,
		    why.msg);
	return set_string(&c->core.client_subject, value, where,
	    "client_subject", err);
}

static bool
region_valid(const char *s)
{
	size_t	n = strlen(s), i;

	if (n < 2 || n > 6)
		return false;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int
regulator_key(struct regulator_conf *r, const char *key, const char *value,
    const char *where, struct perr *err)
{
	if (strcmp(key, "region") == 0) {
		if (!region_valid(value))
			return perr_set(err, "FF01", "%s: region must be 2 to 6 "
			    "digits of an administrative division code, not \"%s\"",
			    where, value);
		return set_string(&r->region, value, where, key, err);
	}
	if (strcmp(key, "authority") == 0) {
		if (r->authority != 0)
			return perr_set(err, "FF01", "%s: \"authority\" is set twice",
			    where);
		if ((r->authority = config_authority_parse(value)) == 0)
			return perr_set(err, "FF01", "%s: authority must be hrss, "
			    "housing, transport, water or agriculture, not \"%s\"",
			    where, value);
		return 0;
	}
	if (strcmp(key, "url") == 0) {
		if (strncmp(value, "https://", 8) != 0)
			return perr_set(err, "FF01", "%s: url must start with "
			    "https://, not \"%s\"", where, value);
		return set_string(&r->url, value, where, key, err);
	}
	if (strcmp(key, "ca") == 0)
		return set_string(&r->ca, value, where, key, err);
	if (strcmp(key, "cert") == 0)
		return set_string(&r->cert, value, where, key, err);
	if (strcmp(key, "key") == 0)
		return set_string(&r->key, value, where, key, err);
	return perr_set(err, "FF01", "%s: unknown key \"%s\"", where, key);
}

/* [platform NAME]: the keys API.md lists. */
static int
platform_key(struct platform_conf *p, const char *key, const char *value,
    const char *where, struct perr *err)
{
	if (strcmp(key, "region") == 0 || strcmp(key, "url") == 0) {
		struct regulator_conf	r = { 0 };
		int			rc;

		/* the same shape as a regulator's, checked the same way */
		rc = regulator_key(&r, key, value, where, err);
		if (rc == 0)
			rc = set_string(key[0] == 'r' ? &p->region : &p->url,
			    key[0] == 'r' ? r.region : r.url, where, key, err);
		free(r.region);
		free(r.url);
		return rc;
	}
	if (strcmp(key, "crypto") == 0) {
		if (p->crypto != 0)
			return perr_set(err, "FF01", "%s: \"crypto\" is set twice", where);
		if (strcmp(value, "sm") == 0)
			p->crypto = FEED_SM;
		else if (strcmp(value, "rsa") == 0)
			p->crypto = FEED_RSA;
		else
			return perr_set(err, "FF01", "%s: crypto must be sm (SM2/SM3 "
			    "signature, SM4 fields) or rsa (RSA-SHA256), not \"%s\"",
			    where, value);
		return 0;
	}
	if (strcmp(key, "ca") == 0)
		return set_string(&p->ca, value, where, key, err);
	if (strcmp(key, "cert") == 0)
		return set_string(&p->cert, value, where, key, err);
	if (strcmp(key, "key") == 0)
		return set_string(&p->key, value, where, key, err);
	if (strcmp(key, "sign_cert") == 0)
		return set_string(&p->sign_cert, value, where, key, err);
	if (strcmp(key, "sign_key") == 0)
		return set_string(&p->sign_key, value, where, key, err);
	if (strcmp(key, "data_key") == 0)
		return set_string(&p->data_key, value, where, key, err);
	return perr_set(err, "FF01", "%s: unknown key \"%s\"", where, key);
}

/* A [platform NAME] header: a new platform, its name a delivery's key in
 * the database (platform_feed.name), so unique and of a plain charset. */
static int
platform_section(struct config *c, const char *name, const char *where,
    struct perr *err)
{
	struct platform_conf	*p;
	size_t			 i;

	if (*name == '\0' || strlen(name) > 64 ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") != strlen(name))
		return perr_set(err, "FF01", "%s: [platform NAME] needs a name of "
		    "1 to 64 letters, digits, '.', '_' or '-'", where);
	for (i = 0; i < c->nplatforms; i++)
		if (strcmp(c->platforms[i].name, name) == 0)
			return perr_set(err, "FF01", "%s: [platform %s] is there "
			    "twice", where, name);
	p = reallocarray(c->platforms, c->nplatforms + 1, sizeof(*p));
	if (p == NULL)
		return perr_set(err, "FF01", "%s: out of memory", where);
	c->platforms = p;
	p = &c->platforms[c->nplatforms++];
	memset(p, 0, sizeof(*p));
	if ((p->name = strdup(name)) == NULL)
		return perr_set(err, "FF01", "%s: out of memory", where);
	return 0;
}

/* What a [platform NAME] must have: everything, the signer's certificate
 * and the data key with crypto = sm; no data key with rsa (it encrypts
 * nothing beyond TLS). */
static int
check_platform(const struct config *c, const struct platform_conf *p,
    struct perr *err)
{
	if (p->region == NULL || p->url == NULL || p->ca == NULL ||
	    p->cert == NULL || p->key == NULL || p->crypto == 0 ||
	    p->sign_key == NULL)
		return perr_set(err, "FF01", "%s: [platform %s] needs region, url, "
		    "ca, cert, key, crypto and sign_key", c->path, p->name);
	if (p->crypto == FEED_SM && (p->sign_cert == NULL || p->data_key == NULL))
		return perr_set(err, "FF01", "%s: [platform %s] with crypto = sm "
		    "needs sign_cert (the SM2 key's certificate) and data_key (the "
		    "SM4 key)", c->path, p->name);
	if (p->crypto == FEED_RSA && p->data_key != NULL)
		return perr_set(err, "FF01", "%s: [platform %s]: data_key is for "
		    "crypto = sm; with rsa nothing is encrypted beyond TLS",
		    c->path, p->name);
	return 0;
}

static int
section_start(struct config *c, char *line, enum section *sec,
    const char *where, struct perr *err)
{
	char			*end = strchr(line, ']'), *name;
	struct regulator_conf	*r;

	if (end == NULL || *trim(end + 1) != '\0')
		return perr_set(err, "FF01", "%s: section header must be "
		    "\"[name]\"", where);
	*end = '\0';
	name = trim(line + 1);
	if (strcmp(name, "database") == 0)
		*sec = SEC_DATABASE;
	else if (strcmp(name, "contractor") == 0)
		*sec = SEC_CONTRACTOR;
	else if (strcmp(name, "core") == 0)
		*sec = SEC_CORE;
	else if (strcmp(name, "console") == 0)
		*sec = SEC_CONSOLE;
	else if (strcmp(name, "signing") == 0)
		*sec = SEC_SIGNING;
	else if (strcmp(name, "limits") == 0)
		*sec = SEC_LIMITS;
	else if (strcmp(name, "rules") == 0)
		*sec = SEC_RULES;
	else if (strcmp(name, "security") == 0)
		*sec = SEC_SECURITY;
	else if (strncmp(name, "regulator", 9) == 0 &&
	    (name[9] == ' ' || name[9] == '\t')) {
		name = trim(name + 9);
		if (*name == '\0')
			return perr_set(err, "FF01", "%s: [regulator NAME] needs "
			    "a name", where);
		r = reallocarray(c->regulators, c->nregulators + 1, sizeof(*r));
		if (r == NULL)
			return perr_set(err, "FF01", "%s: out of memory", where);
		c->regulators = r;
		r = &c->regulators[c->nregulators++];
		memset(r, 0, sizeof(*r));
		if ((r->name = strdup(name)) == NULL)
			return perr_set(err, "FF01", "%s: out of memory", where);
		*sec = SEC_REGULATOR;
	} else if (strncmp(name, "platform", 8) == 0 &&
	    (name[8] == ' ' || name[8] == '\t')) {
		if (platform_section(c, trim(name + 8), where, err) == -1)
			return -1;
		*sec = SEC_PLATFORM;
	} else
		return perr_set(err, "FF01", "%s: unknown section \"[%s]\"",
		    where, name);
	return 0;
}

/* [security]: the key files of personal data at rest (proto/pii.c). */
static int
security_key(struct config *c, const char *key, const char *value,
    const char *where, struct perr *err)
{
	if (strcmp(key, "data_key") == 0)
		return set_string(&c->data_key, value, where, key, err);
	if (strcmp(key, "index_key") == 0)
		return set_string(&c->index_key, value, where, key, err);
	if (strcmp(key, "previous_data_key") == 0)
		return set_string(&c->previous_data_key, value, where, key, err);
	return perr_set(err, "FF01", "%s: unknown key \"%s\"", where, key);
}

/* [core]: the listener's keys, and the payment orders' (API.md). */
static int
core_key(struct config *c, const char *key, const char *value,
    const char *where, struct perr *err)
{
	if (strcmp(key, "payments_url") == 0) {
		if (strncmp(value, "https://", 8) != 0)
			return perr_set(err, "FF01", "%s: payments_url must be an "
			    "https:// URL", where);
		return set_string(&c->payments_url, value, where, key, err);
	}
	if (strcmp(key, "payments_ca") == 0)
		return set_string(&c->payments_ca, value, where, key, err);
	if (strcmp(key, "payments_cert") == 0)
		return set_string(&c->payments_cert, value, where, key, err);
	if (strcmp(key, "payments_key") == 0)
		return set_string(&c->payments_key, value, where, key, err);
	if (strcmp(key, "settlement_hours") == 0)
		return set_int(&c->settlement_hours, value, 1, 24 * 90, where,
		    key, err);
	if (strcmp(key, "client_subject") == 0)
		return core_subject(c, value, where, err);
	return listener_key(&c->core, true, key, value, where, err);
}

static int
key_value(struct config *c, enum section sec, const char *key,
    const char *value, const char *where, struct perr *err)
{
	int	v;

	switch (sec) {
	case SEC_NONE:
		return perr_set(err, "FF01", "%s: \"%s\" is outside any section",
		    where, key);
	case SEC_DATABASE:
		if (strcmp(key, "dsn") == 0)
			return set_string(&c->dsn, value, where, key, err);
		if (strcmp(key, "migrate_dsn") == 0)
			return set_string(&c->migrate_dsn, value, where, key,
			    err);
		if (strcmp(key, "connections") == 0)
			return set_int(&c->db_connections, value, 1, 64, where,
			    key, err);
		break;
	case SEC_CONTRACTOR:
		return listener_key(&c->contractor, true, key, value, where, err);
	case SEC_CORE:
		return core_key(c, key, value, where, err);
	case SEC_CONSOLE:
		if (strcmp(key, "totp_key") == 0)
			return set_string(&c->totp_key, value, where, key, err);
		return listener_key(&c->console, false, key, value, where, err);
	case SEC_SIGNING:
		if (strcmp(key, "subcontractor_ca") == 0)
			return set_string(&c->subcontractor_ca, value, where,
			    key, err);
		if (strcmp(key, "subcontractor_crl") == 0)
			return set_string(&c->subcontractor_crl, value, where,
			    key, err);
		if (strcmp(key, "bank_cert") == 0)
			return set_string(&c->bank_cert, value, where, key, err);
		if (strcmp(key, "bank_key") == 0)
			return set_string(&c->bank_key, value, where, key, err);
		break;
	case SEC_REGULATOR:
		return regulator_key(&c->regulators[c->nregulators - 1], key,
		    value, where, err);
	case SEC_PLATFORM:
		return platform_key(&c->platforms[c->nplatforms - 1], key, value,
		    where, err);
	case SEC_LIMITS:
		if (strcmp(key, "connections") == 0)
			return set_int(&c->max_connections, value, 1, 100000,
			    where, key, err);
		if (strcmp(key, "workers") == 0)
			return set_int(&c->workers, value, 1, 64, where, key, err);
		if (strcmp(key, "timeout") == 0)
			return set_int(&c->timeout, value, 1, 3600, where, key, err);
		if (strcmp(key, "body_bytes") == 0) {
			if (set_int(&v, value, 1024, (int)WP_MAX_BODY, where, key,
			    err) == -1)
				return -1;
			c->max_body = (size_t)v;
			return 0;
		}
		break;
	case SEC_RULES:
		if (strcmp(key, "closing_notice_days") == 0)
			return set_days(&c->closing_notice_days, value, where,
			    key, err);
		if (strcmp(key, "guarantee_topup_days") == 0)
			return set_days(&c->guarantee_topup_days, value, where,
			    key, err);
		break;
	case SEC_SECURITY:
		return security_key(c, key, value, where, err);
	}
	return perr_set(err, "FF01", "%s: unknown key \"%s\"", where, key);
}

static int
check_listener(const struct config *c, const struct listener_conf *l,
    const char *sec, bool with_ca, struct perr *err)
{
	if (l->listen == NULL)
		return perr_set(err, "FF01", "%s: [%s] listen is missing",
		    c->path, sec);
	if (l->cert == NULL || l->key == NULL)
		return perr_set(err, "FF01", "%s: [%s] needs cert and key",
		    c->path, sec);
	if (with_ca && l->client_ca == NULL)
		return perr_set(err, "FF01", "%s: [%s] needs client_ca: client "
		    "certificates are required", c->path, sec);
	return 0;
}

static int
check_complete(const struct config *c, struct perr *err)
{
	size_t	i;
	const struct regulator_conf *r;

	if (c->dsn == NULL)
		return perr_set(err, "FF01", "%s: [database] dsn is missing",
		    c->path);
	if (check_listener(c, &c->contractor, "contractor", true, err) == -1 ||
	    check_listener(c, &c->core, "core", true, err) == -1 ||
	    check_listener(c, &c->console, "console", false, err) == -1)
		return -1;
	if (c->subcontractor_ca == NULL)
		return perr_set(err, "FF01", "%s: [signing] subcontractor_ca is "
		    "missing", c->path);
	if (c->bank_cert == NULL || c->bank_key == NULL)
		return perr_set(err, "FF01", "%s: [signing] needs bank_cert and "
		    "bank_key", c->path);
	if ((c->data_key == NULL) != (c->index_key == NULL) ||
	    (c->previous_data_key != NULL && c->data_key == NULL))
		return perr_set(err, "FF01", "%s: [security] needs both data_key "
		    "and index_key (previous_data_key only with them)", c->path);
	if (c->payments_url != NULL && (c->payments_ca == NULL ||
	    c->payments_cert == NULL || c->payments_key == NULL))
		return perr_set(err, "FF01", "%s: [core] payments_url needs "
		    "payments_ca, payments_cert and payments_key", c->path);
	for (i = 0; i < c->nregulators; i++) {
		r = &c->regulators[i];
		if (r->region == NULL || r->authority == 0 || r->url == NULL ||
		    r->ca == NULL || r->cert == NULL || r->key == NULL)
			return perr_set(err, "FF01", "%s: [regulator %s] needs "
			    "region, authority, url, ca, cert and key", c->path,
			    r->name);
	}
	for (i = 0; i < c->nplatforms; i++)
		if (check_platform(c, &c->platforms[i], err) == -1)
			return -1;
	return 0;
}

struct config *
config_parse(const char *name, const char *text, size_t len, struct perr *err)
{
	struct config	*c;
	char		*copy, *line, *next, *eq, *key, *value;
	char		 where[600];
	enum section	 sec = SEC_NONE;
	int		 lineno = 0;

	if (len > CONFIG_MAX_SIZE) {
		perr_set(err, "FF01", "%s: larger than %d bytes", name,
		    CONFIG_MAX_SIZE);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(name)) == NULL ||
	    (copy = malloc(len + 1)) == NULL) {
		config_free(c);
		perr_set(err, "FF01", "%s: out of memory", name);
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		perr_set(err, "FF01", "%s: contains a NUL byte", name);
		goto fail;
	}
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		snprintf(where, sizeof(where), "%s:%d", name, lineno);
		line = trim(line);
		if (*line == '#' || *line == '\0')
			continue;
		if (*line == '[') {
			if (section_start(c, line, &sec, where, err) == -1)
				goto fail;
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			perr_set(err, "FF01", "%s: expected \"key = value\"", where);
			goto fail;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		if (*key == '\0' || *value == '\0') {
			perr_set(err, "FF01", "%s: expected \"key = value\"", where);
			goto fail;
		}
		if (key_value(c, sec, key, value, where, err) == -1)
			goto fail;
	}
	if (check_complete(c, err) == -1)
		goto fail;
	if (c->db_connections == 0)
		c->db_connections = 4;
	if (c->max_connections == 0)
		c->max_connections = 1024;
	if (c->max_body == 0)
		c->max_body = WP_DEFAULT_BODY;
	if (c->workers == 0)
		c->workers = 2;
	if (c->timeout == 0)
		c->timeout = 30;
	if (c->settlement_hours == 0)
		c->settlement_hours = 24;
	if (c->closing_notice_days == 0)
		c->closing_notice_days = 30;
	if (c->guarantee_topup_days == 0)
		c->guarantee_topup_days = 30;
	free(copy);
	return c;
fail:
	free(copy);
	config_free(c);
	return NULL;
}

struct config *
config_load(const char *path, struct perr *err)
{
	FILE		*f;
	char		*buf;
	size_t		 n;
	struct config	*c;

	if ((f = fopen(path, "r")) == NULL) {
		perr_set(err, "FF01", "could not open \"%s\": %s", path,
		    strerror(errno));
		return NULL;
	}
	if ((buf = malloc(CONFIG_MAX_SIZE + 1)) == NULL) {
		fclose(f);
		perr_set(err, "FF01", "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, CONFIG_MAX_SIZE + 1, f);
	if (ferror(f)) {
		perr_set(err, "FF01", "could not read \"%s\": %s", path,
		    strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	c = config_parse(path, buf, n, err);
	free(buf);
	return c;
}
