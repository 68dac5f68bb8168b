/*
 * config.h: the daemon's configuration (`key = value`, `[sections]`,
 * `#` comments), as API.md "Configuration" names it. Parsing is pure
 * (proto/config.c); loading certificates and keys is the daemon's job.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include "wagepay.h"

struct listener_conf {
	char	*listen;	/* "127.0.0.1:8443", "[::1]:8443", "*:8443" */
	char	*cert;
	char	*key;
	char	*client_ca;	/* contractor and core only */
	char	*client_subject;	/* core only: the pin as written, or NULL */
};

enum authority {
	AUTH_HRSS = 1,
	AUTH_HOUSING,
	AUTH_TRANSPORT,
	AUTH_WATER,
	AUTH_AGRICULTURE
};

struct regulator_conf {
	char		*name;		/* from [regulator NAME] */
	char		*region;	/* 2 to 6 digits: a prefix of the project's region */
	enum authority	 authority;
	char		*url;		/* https://host:port/path */
	char		*ca;
	char		*cert;
	char		*key;
};

/* [platform NAME]: a provincial monitoring platform fed in real time
 * (API.md "Provincial platform feed"). */
struct platform_conf {
	char		*name;		/* from [platform NAME]: [A-Za-z0-9._-]{1,64} */
	char		*region;	/* 2 to 6 digits: a prefix of the project's region */
	char		*url;		/* https://host:port/path */
	char		*ca;		/* the CA to trust for it */
	char		*cert;		/* the bank's client certificate */
	char		*key;
	int		 crypto;	/* FEED_SM or FEED_RSA (feed.h) */
	char		*sign_cert;	/* sm: required; rsa: optional */
	char		*sign_key;	/* SM2 (sm) or RSA (rsa) PEM key */
	char		*data_key;	/* sm only: file of 32 hexadecimal digits */
};

struct peerpin;

struct config {
	char			*path;
	char			*dsn;			/* [database] dsn */
	char			*migrate_dsn;		/* [database] the schema owner's, for
							   --migrate; NULL: dsn */
	int			 db_connections;	/* [database] connections, default 4 */
	struct listener_conf	 contractor;
	struct listener_conf	 core;
	struct peerpin		*core_pin;		/* [core] client_subject parsed, or NULL */
	struct listener_conf	 console;
	char			*totp_key;		/* [console] key file of operators'
							   second factors (TOTP) */
	char			*subcontractor_ca;	/* [signing] */
	char			*subcontractor_crl;	/* [signing], optional: revocations */
	char			*bank_cert;
	char			*bank_key;
	/* [core] payment orders to the core (payments_url NULL: they wait in
	 * the outbox); the CA to trust for it, the client certificate */
	char			*payments_url;
	char			*payments_ca;
	char			*payments_cert;
	char			*payments_key;
	int			 settlement_hours;	/* [core], default 24 */
	size_t			 nregulators;
	struct regulator_conf	*regulators;
	size_t			 nplatforms;
	struct platform_conf	*platforms;
	int			 max_connections;	/* [limits] connections per listener, default 1024 */
	size_t			 max_body;		/* [limits] body_bytes, default WP_DEFAULT_BODY */
	int			 workers;		/* [limits] worker threads, default 2 */
	int			 timeout;		/* [limits] seconds to read a request, default 30 */
	int			 closing_notice_days;	/* [rules] public notice after completion before
							   a dedicated account may close, default 30 */
	int			 guarantee_topup_days;	/* [rules] days to restore a drawn wage guarantee,
							   default 30 (the guarantee's, a later issue) */
	/* [security] key files of personal data at rest (proto/pii.c): both
	 * or neither (neither: stored in clear, as before 032); the previous
	 * data key is read, never written, while --rotate-key runs */
	char			*data_key;
	char			*index_key;
	char			*previous_data_key;
};

/*
 * Reads and checks the file at path. On failure NULL, with err->msg set to
 * "FILE:LINE: what is wrong" (or "FILE: ..." for a missing key).
 * The caller owns the result (config_free).
 */
struct config	*config_load(const char *path, struct perr *err);
/* Same, from a buffer (for tests and fuzzing); name is used in messages. */
struct config	*config_parse(const char *name, const char *text, size_t len,
		    struct perr *err);
void		 config_free(struct config *);
const char	*config_authority_name(enum authority);
/* Parses "housing" etc.; 0 if unknown. */
enum authority	 config_authority_parse(const char *);

#endif
