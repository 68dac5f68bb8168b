/*
 * test_config.c: the configuration parser: a complete file, defaults,
 * regulators, and every kind of mistake named with file and line.
 */
#include "unit.h"
#include "config.h"
#include "feed.h"
#include "peerpin.h"

static const char good[] =
    "# comment\n"
    "[database]\n"
    "dsn = host=/tmp dbname=wagepay\n"
    "connections = 8\n"
    "[contractor]\n"
    "listen = 127.0.0.1:8443\n"
    "cert = c.pem\nkey = c.key\nclient_ca = ca.pem\n"
    "[core]\n"
    "listen = [::1]:8444\n"
    "cert = c.pem\nkey = c.key\nclient_ca = ca.pem\n"
    "[console]\n"
    "listen = *:8445\n"
    "cert = c.pem\nkey = c.key\ntotp_key = t.key\n"
    "[signing]\n"
    "subcontractor_ca = sub.pem\nbank_cert = b.pem\nbank_key = b.key\n"
    "[regulator zz-hrss]\n"
    "region = 4101\nauthority = hrss\nurl = https://a.example/alerts\n"
    "ca = r.pem\ncert = bc.pem\nkey = bc.key\n"
    "[regulator zz-housing]\n"
    "region = 410183\nauthority = housing\nurl = https://b.example/x\n"
    "ca = r.pem\ncert = bc.pem\nkey = bc.key\n";

static struct config *
parse(const char *text, struct perr *err)
{
	perr_clear(err);
	return config_parse("test.conf", text, strlen(text), err);
}

static void
complete_file(void)
{
	struct perr	 err;
	struct config	*c = parse(good, &err);

	CHECK(c != NULL);
	CHECK_STR(c->dsn, "host=/tmp dbname=wagepay");
	CHECK_INT(c->db_connections, 8);
	/* totp_key is optional (API.md names none; the daemon warns) */
	{
		char		 text[4096];
		const char	*at = strstr(good, "totp_key = t.key\n");
		struct config	*c2;

		CHECK(at != NULL);
		snprintf(text, sizeof(text), "%.*s%s", (int)(at - good), good,
		    at + strlen("totp_key = t.key\n"));
		CHECK((c2 = parse(text, &err)) != NULL && c2->totp_key == NULL);
		config_free(c2);
	}
	CHECK_STR(c->core.listen, "[::1]:8444");
	CHECK(c->console.client_ca == NULL);
	CHECK_INT(c->nregulators, 2);
	CHECK_STR(c->regulators[0].name, "zz-hrss");
	CHECK_INT(c->regulators[0].authority, AUTH_HRSS);
	CHECK_STR(c->regulators[1].region, "410183");
	CHECK_INT(c->regulators[1].authority, AUTH_HOUSING);
	/* defaults */
	CHECK_INT(c->max_connections, 1024);
	CHECK_INT(c->workers, 2);
	CHECK(c->max_body == WP_DEFAULT_BODY);
	CHECK_INT(c->closing_notice_days, 30);
	CHECK_INT(c->guarantee_topup_days, 30);
	CHECK_STR(c->totp_key, "t.key");
	CHECK(c->migrate_dsn == NULL);
	config_free(c);
}

/* [rules]: closing_notice_days and guarantee_topup_days, whole days from
 * 1 to 3650, digits only, each at most once; 30 when not set. */
static void
rules_section(void)
{
	char		 text[4096];
	struct perr	 err;
	struct config	*c;
	static const char *const bad[] = {
		"closing_notice_days = 0", "closing_notice_days = 3651",
		"closing_notice_days = -1", "closing_notice_days = +30",
		"closing_notice_days = 30d", "closing_notice_days = 1e3",
		"closing_notice_days = 99999999999", "closing_notice_days = 3 0",
		"guarantee_topup_days = 0", "guarantee_topup_days = 4000",
		"guarantee_topup_days = x", "closing_days = 30",
		"closing_notice_days = 30\nclosing_notice_days = 31", NULL
	};
	size_t		 i;

	snprintf(text, sizeof(text), "%s[rules]\nclosing_notice_days = 45\n"
	    "guarantee_topup_days = 3650\n", good);
	c = parse(text, &err);
	CHECK(c != NULL);
	CHECK_INT(c->closing_notice_days, 45);
	CHECK_INT(c->guarantee_topup_days, 3650);
	config_free(c);
	snprintf(text, sizeof(text), "%s[rules]\nclosing_notice_days = 1\n", good);
	c = parse(text, &err);
	CHECK(c != NULL);
	CHECK_INT(c->closing_notice_days, 1);
	CHECK_INT(c->guarantee_topup_days, 30);
	config_free(c);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(text, sizeof(text), "%s[rules]\n%s\n", good, bad[i]);
		c = parse(text, &err);
		/* the [rules] lines are 37 to 40 of text */
		if (c != NULL || (strstr(err.msg, "test.conf:3") == NULL &&
		    strstr(err.msg, "test.conf:40") == NULL) ||
		    (strstr(err.msg, "must be a whole number of days from 1 "
		    "to 3650") == NULL && strstr(err.msg, "unknown key") == NULL &&
		    strstr(err.msg, "set twice") == NULL)) {
			fprintf(stderr, "  for \"%s\": got \"%s\"\n", bad[i],
			    c == NULL ? err.msg : "accepted");
			exit(1);
		}
	}
}

/* Replaces the first occurrence of from in good by to and expects a refusal
 * whose message starts with want. */
static void
expect_refused(const char *from, const char *to, const char *want)
{
	char		 text[4096];
	const char	*at = strstr(good, from);
	struct perr	 err;
	struct config	*c;

	CHECK(at != NULL);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to,
	    at + strlen(from));
	c = parse(text, &err);
	if (c != NULL || strncmp(err.msg, want, strlen(want)) != 0) {
		fprintf(stderr, "  for \"%s\": got \"%s\", want \"%s...\"\n", to,
		    err.msg, want);
		exit(1);
	}
}

static void
mistakes_named(void)
{
	expect_refused("connections = 8", "colour = blue",
	    "test.conf:4: unknown key \"colour\"");
	expect_refused("connections = 8", "connections = 0",
	    "test.conf:4: \"connections\" must be a whole number");
	expect_refused("connections = 8", "connections = 8x",
	    "test.conf:4: \"connections\" must be a whole number");
	expect_refused("[core]", "[kernel]", "test.conf:10: unknown section \"[kernel]\"");
	expect_refused("[core]", "[core", "test.conf:10: section header must be");
	expect_refused("region = 4101", "region = 41a1", "test.conf:25: region must be");
	expect_refused("region = 4101", "region = 4", "test.conf:25: region must be");
	expect_refused("authority = hrss", "authority = police",
	    "test.conf:26: authority must be");
	expect_refused("url = https://a.example/alerts", "url = http://a.example/",
	    "test.conf:27: url must start with https://");
	expect_refused("cert = c.pem\nkey = c.key\nclient_ca = ca.pem\n[core]",
	    "cert = c.pem\nkey = c.key\n[core]",
	    "test.conf: [contractor] needs client_ca");
	expect_refused("dsn = host=/tmp dbname=wagepay\n", "",
	    "test.conf: [database] dsn is missing");
	expect_refused("dsn = host=/tmp dbname=wagepay", "dsn = a\ndsn = b",
	    "test.conf:4: \"dsn\" is set twice");
	expect_refused("# comment", "stray = 1", "test.conf:1: \"stray\" is outside");
	expect_refused("# comment", "just words", "test.conf:1: expected \"key = value\"");
	expect_refused("ca = r.pem\ncert = bc.pem\nkey = bc.key\n[regulator zz-housing]",
	    "ca = r.pem\n[regulator zz-housing]", "test.conf: [regulator zz-hrss] needs");
}

/* [core] client_subject: absent by default; a subject or a sha256: pin is
 * parsed and kept; anything malformed is refused with FILE:LINE. */
static void
core_client_subject(void)
{
	struct perr	 err;
	struct config	*c = parse(good, &err);
	char		 text[4096];
	const char	*at = strstr(good, "[console]");

	CHECK(c != NULL);
	CHECK(c->core.client_subject == NULL);
	CHECK(c->core_pin == NULL);
	config_free(c);

	snprintf(text, sizeof(text), "%.*sclient_subject = CN=core, O=Bank\n%s",
	    (int)(at - good), good, at);
	c = parse(text, &err);
	CHECK(c != NULL);
	CHECK_STR(c->core.client_subject, "CN=core, O=Bank");
	CHECK(c->core_pin != NULL);
	config_free(c);

	snprintf(text, sizeof(text), "%.*sclient_subject = sha256:%s\n%s",
	    (int)(at - good), good,
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", at);
	c = parse(text, &err);
	CHECK(c != NULL);
	CHECK(c->core_pin != NULL);
	config_free(c);

	expect_refused("listen = *:8445", "client_subject = CN=core",
	    "test.conf:16: unknown key \"client_subject\"");
}

static void
core_client_subject_refused(void)
{
	const char *core_ca = "client_ca = ca.pem\n[console]";

	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = sha256:abc\n"
	    "[console]", "test.conf:15: client_subject: sha256: must be followed "
	    "by 64 hex digits");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n"
	    "[console]", "test.conf:15: client_subject: sha256: must be followed");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = core\n"
	    "[console]", "test.conf:15: client_subject: expected an RFC 4514 "
	    "subject");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = CN=core+"
	    "O=Bank\n[console]", "test.conf:15: client_subject: multi-valued");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = CN=#0403\n"
	    "[console]", "test.conf:15: client_subject: a value given as #hex");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = XX=core\n"
	    "[console]", "test.conf:15: client_subject: unknown attribute type");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = CN=core,"
	    "O=\n[console]", "test.conf:15: client_subject: an attribute has an "
	    "empty value");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = CN=a\\q\n"
	    "[console]", "test.conf:15: client_subject: a \"\\\" must be");
	expect_refused(core_ca, "client_ca = ca.pem\nclient_subject = CN=a\n"
	    "client_subject = CN=b\n[console]",
	    "test.conf:16: \"client_subject\" is set twice");
	/* the core's only: the contractor's listener has no pin */
	expect_refused("client_ca = ca.pem\n[core]",
	    "client_ca = ca.pem\nclient_subject = CN=gc\n[core]",
	    "test.conf:10: unknown key \"client_subject\"");
}

/* [core]'s payment order keys: none (orders wait, 24 hours), all, and the
 * mistakes. */
static void
payments(void)
{
	static const char core[] = "client_ca = ca.pem\n[console]";
	struct perr	 err;
	struct config	*c;
	char		 text[4096];
	const char	*at = strstr(good, core);

	CHECK((c = parse(good, &err)) != NULL);
	CHECK(c->payments_url == NULL);
	CHECK_INT(c->settlement_hours, 24);
	config_free(c);
	CHECK(at != NULL);
	snprintf(text, sizeof(text), "%.*sclient_ca = ca.pem\n"
	    "payments_url = https://core.example:9443/orders\n"
	    "payments_ca = core-ca.pem\npayments_cert = pc.pem\n"
	    "payments_key = pc.key\nsettlement_hours = 48\n%s",
	    (int)(at - good), good, at + strlen(core) - strlen("[console]"));
	CHECK((c = parse(text, &err)) != NULL);
	CHECK_STR(c->payments_url, "https://core.example:9443/orders");
	CHECK_STR(c->payments_ca, "core-ca.pem");
	CHECK_STR(c->payments_cert, "pc.pem");
	CHECK_STR(c->payments_key, "pc.key");
	CHECK_INT(c->settlement_hours, 48);
	config_free(c);
	expect_refused(core, "client_ca = ca.pem\npayments_url = http://core/\n"
	    "[console]", "test.conf:15: payments_url must be an https:// URL");
	expect_refused(core, "client_ca = ca.pem\npayments_url = https://core/\n"
	    "[console]", "test.conf: [core] payments_url needs payments_ca");
	expect_refused(core, "client_ca = ca.pem\nsettlement_hours = 0\n"
	    "[console]", "test.conf:15: \"settlement_hours\" must be a whole");
}

static void
nul_byte_refused(void)
{
	struct perr	 err;
	char		 text[sizeof(good)];

	memcpy(text, good, sizeof(good));
	text[5] = '\0';
	CHECK(config_parse("test.conf", text, sizeof(good) - 1, &err) == NULL);
	CHECK(strstr(err.msg, "NUL") != NULL);
}

static void
missing_file(void)
{
	struct perr	 err;

	CHECK(config_load("/nonexistent/wagepayd.conf", &err) == NULL);
	CHECK(strstr(err.msg, "could not open \"/nonexistent/wagepayd.conf\"") != NULL);
}

/* good, and a [platform] section with the given body after it */
static struct config *
with_platform(const char *body, struct perr *err)
{
	static char	buf[4096];

	snprintf(buf, sizeof(buf), "%s[platform %s]\n%s", good,
	    strncmp(body, "NAME=", 5) == 0 ? "a/b" : "henan", body);
	return parse(buf, err);
}

static void
platforms(void)
{
	struct perr	 err;
	struct config	*c;
	const char	*sm = "region = 41\nurl = https://p.example/feed\nca = ca.pem\n"
	    "cert = bc.pem\nkey = bc.key\ncrypto = sm\nsign_cert = s.pem\n"
	    "sign_key = s.key\ndata_key = d.key\n";

	CHECK((c = with_platform(sm, &err)) != NULL);
	CHECK_INT(c->nplatforms, 1);
	CHECK_STR(c->platforms[0].name, "henan");
	CHECK_STR(c->platforms[0].region, "41");
	CHECK_INT(c->platforms[0].crypto, FEED_SM);
	CHECK_STR(c->platforms[0].data_key, "d.key");
	config_free(c);
	CHECK((c = with_platform("region = 4101\nurl = https://p.example/\n"
	    "ca = ca.pem\ncert = bc.pem\nkey = bc.key\ncrypto = rsa\n"
	    "sign_key = b.key\n", &err)) != NULL);
	CHECK_INT(c->platforms[0].crypto, FEED_RSA);
	CHECK(c->platforms[0].sign_cert == NULL);
	config_free(c);
	/* mistakes, each named */
	CHECK(with_platform("region = 4\n", &err) == NULL);
	CHECK(strstr(err.msg, "region must be 2 to 6") != NULL);
	CHECK(with_platform("url = http://p.example/\n", &err) == NULL);
	CHECK(strstr(err.msg, "https://") != NULL);
	CHECK(with_platform("crypto = sm3\n", &err) == NULL);
	CHECK(strstr(err.msg, "crypto must be sm") != NULL);
	CHECK(with_platform("colour = red\n", &err) == NULL);
	CHECK(strstr(err.msg, "unknown key \"colour\"") != NULL);
	CHECK(with_platform("region = 41\n", &err) == NULL);
	CHECK(strstr(err.msg, "[platform henan] needs region, url") != NULL);
	CHECK(with_platform("region = 41\nurl = https://p.example/\nca = a\n"
	    "cert = b\nkey = c\ncrypto = sm\nsign_key = s.key\n", &err) == NULL);
	CHECK(strstr(err.msg, "needs sign_cert") != NULL);
	CHECK(with_platform("region = 41\nurl = https://p.example/\nca = a\n"
	    "cert = b\nkey = c\ncrypto = rsa\nsign_key = s.key\ndata_key = d\n",
	    &err) == NULL);
	CHECK(strstr(err.msg, "data_key is for crypto = sm") != NULL);
	CHECK(with_platform("NAME=", &err) == NULL);
	CHECK(strstr(err.msg, "needs a name") != NULL);
}

/* [security]: both keys or neither (issue 22); previous_data_key only
 * with them; unknown keys refused. */
static void
security_section(void)
{
	char		 text[4096];
	struct perr	 err;
	struct config	*c;

	c = parse(good, &err);
	CHECK(c != NULL && c->data_key == NULL && c->index_key == NULL);
	config_free(c);
	snprintf(text, sizeof(text), "%s[security]\ndata_key = /k/d\n"
	    "index_key = /k/i\nprevious_data_key = /k/old\n", good);
	CHECK((c = parse(text, &err)) != NULL);
	CHECK_STR(c->data_key, "/k/d");
	CHECK_STR(c->index_key, "/k/i");
	CHECK_STR(c->previous_data_key, "/k/old");
	config_free(c);
	snprintf(text, sizeof(text), "%s[security]\ndata_key = /k/d\n", good);
	CHECK(parse(text, &err) == NULL);
	CHECK(strstr(err.msg, "needs both data_key and index_key") != NULL);
	snprintf(text, sizeof(text), "%s[security]\nprevious_data_key = /k/o\n",
	    good);
	CHECK(parse(text, &err) == NULL);
	snprintf(text, sizeof(text), "%s[security]\ndata_keys = /k/d\n", good);
	CHECK(parse(text, &err) == NULL);
	CHECK(strstr(err.msg, "unknown key \"data_keys\"") != NULL);
}

const struct unit_case config_cases[] = {
	{ "platforms", platforms },
	{ "security_section", security_section },
	{ "complete_file", complete_file },
	{ "rules_section", rules_section },
	{ "mistakes_named", mistakes_named },
	{ "core_client_subject", core_client_subject },
	{ "core_client_subject_refused", core_client_subject_refused },
	{ "payments", payments },
	{ "nul_byte_refused", nul_byte_refused },
	{ "missing_file", missing_file },
	{ NULL, NULL }
};
