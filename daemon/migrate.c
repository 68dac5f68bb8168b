/*
 * migrate.c: the database schema this binary carries, applied and checked.
 *
 * The schema travels inside wagepayd (scripts/schema-blob, as the XSDs do):
 * schema/migrations/NNN_*.sql, forward-only DDL and data changes, each applied
 * once and never edited after; and schema/functions/<concern>.sql, the one
 * current body of every function, applied every time (Flyway's repeatable
 * migrations). --migrate does both in one transaction under one advisory
 * lock, and records the SHA-256 of every file it applied; a migration the
 * database holds with other text than this binary's, or one this binary does
 * not know, is refused and nothing is changed.
 *
 * With [database] migrate_dsn, --migrate runs as the schema's owner and
 * grants the daemon's role (dsn's user) only what it needs (grant_daemon).
 *
 * At start-up the daemon compares what the database recorded with what it
 * carries and refuses to run against another schema, naming --migrate.
 * migrate_run and migrate_check block; they run before the event loop.
 * migrate_check_result does the comparison for the loop's own query when the
 * database was down at start.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "daemon.h"
#include "log.h"

#define MIGRATE_LOCK	"7731001"	/* pg_advisory_xact_lock key for wagepay */
#define MIGRATIONS	"migrations/"
#define FUNCTIONS	"functions/"

/* scripts/schema-blob: migrations in order, then the functions files. */
struct schema_file {
	const char	*name;		/* path under schema/ */
	const char	*text;		/* NUL-terminated */
	uint64_t	 len;
};
extern const struct schema_file	schema_blob_files[];
extern const uint64_t		schema_blob_count;

/* The bookkeeping, created by the migrator (not by a migration) so that the
 * schema it records stays what 001.. make. schema_migration predates the
 * checksum; rows applied before it get this binary's on the next --migrate. */
static const char *const SETUP_SQL =
    "CREATE TABLE IF NOT EXISTS schema_migration ("
    " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
    "ALTER TABLE schema_migration ADD COLUMN IF NOT EXISTS checksum text;"
    "CREATE TABLE IF NOT EXISTS schema_function_file ("
    " name text PRIMARY KEY, checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* What the database recorded: kind ('m' or 'f'), name, checksum. */
static const char *const RECORDED_SQL =
    "SELECT 'm', version, coalesce(checksum, '') FROM schema_migration "
    "UNION ALL SELECT 'f', name, checksum FROM schema_function_file";

static bool
is_kind(const struct schema_file *f, const char *prefix)
{
	return strncmp(f->name, prefix, strlen(prefix)) == 0;
}

/* The name recorded for a file: its base name (001_tables.sql, sheet.sql). */
static const char *
base_name(const struct schema_file *f)
{
	const char	*s = strchr(f->name, '/');

	return s != NULL ? s + 1 : f->name;
}

static void
checksum(const struct schema_file *f, char hex[2 * 32 + 1])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n = 0, i;

	if (EVP_Digest(f->text, (size_t)f->len, md, &n, EVP_sha256(), NULL) != 1)
		fatalx("could not compute a SHA-256");
	for (i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * i] = '\0';
}

/* The file of this binary recorded as (kind, name), or NULL. */
static const struct schema_file *
find(char kind, const char *name)
{
	uint64_t	i;

	for (i = 0; i < schema_blob_count; i++) {
		const struct schema_file *f = &schema_blob_files[i];

		if (is_kind(f, kind == 'm' ? MIGRATIONS : FUNCTIONS) &&
		    strcmp(base_name(f), name) == 0)
			return f;
	}
	return NULL;
}

int
migrate_check_result(PGresult *res, char *why, size_t len)
{
	char		 sum[65];
	uint64_t	 i;
	int		 r, found;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(why, len, "the database records no schema of wagepay's "
		    "own (%s)", PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		return -1;
	}
	/* Everything recorded is this binary's, with this binary's text. */
	for (r = 0; r < PQntuples(res); r++) {
		const char *kind = PQgetvalue(res, r, 0);
		const char *name = PQgetvalue(res, r, 1);
		const struct schema_file *f = find(kind[0], name);

		if (f == NULL) {
			snprintf(why, len, "the database has %s %s, which this "
			    "wagepayd does not carry: the database is newer than "
			    "this binary", kind[0] == 'm' ? "migration" :
			    "functions file", name);
			return -1;
		}
		checksum(f, sum);
		if (strcmp(sum, PQgetvalue(res, r, 2)) != 0) {
			snprintf(why, len, "%s %s in the database is not this "
			    "wagepayd's", kind[0] == 'm' ? "migration" :
			    "functions file", name);
			return -1;
		}
	}
	/* And everything this binary carries is recorded. */
	for (i = 0; i < schema_blob_count; i++) {
		const struct schema_file *f = &schema_blob_files[i];
		char k = is_kind(f, MIGRATIONS) ? 'm' : 'f';

		for (found = 0, r = 0; r < PQntuples(res) && !found; r++)
			found = PQgetvalue(res, r, 0)[0] == k &&
			    strcmp(PQgetvalue(res, r, 1), base_name(f)) == 0;
		if (!found) {
			snprintf(why, len, "%s %s is not applied", k == 'm' ?
			    "migration" : "functions file", base_name(f));
			return -1;
		}
	}
	return 0;
}

const char *
migrate_check_sql(void)
{
	return RECORDED_SQL;
}

int
migrate_check(const char *dsn, bool *reached)
{
	PGconn		*conn;
	PGresult	*res;
	char		 why[512];
	int		 rc;

	*reached = false;
	conn = PQconnectdb(dsn);
	if (PQstatus(conn) != CONNECTION_OK) {
		log_warnx("could not check the database schema at start: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return 0;
	}
	*reached = true;
	res = PQexec(conn, RECORDED_SQL);
	if ((rc = migrate_check_result(res, why, sizeof(why))) == -1)
		log_warnx("the database schema is not this wagepayd's: %s; run "
		    "wagepayd -f FILE --migrate with this binary", why);
	PQclear(res);
	PQfinish(conn);
	return rc;
}

static int
exec_ok(PGconn *conn, const char *sql, const char *what)
{
	PGresult	*res = PQexec(conn, sql);
	ExecStatusType	 st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_warnx("migration: %s failed: %s", what,
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static int
exec_params(PGconn *conn, const char *sql, const char *a, const char *b,
    const char *what)
{
	const char	*params[2] = { a, b };
	PGresult	*res;
	int		 rc = 0;

	res = PQexecParams(conn, sql, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("migration: %s failed: %s", what,
		    PQresultErrorMessage(res));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * The migrations the database recorded: every one must be this binary's,
 * with this binary's text. One recorded before checksums were kept is given
 * this binary's (it was applied by a build of the same tree: 001..020 are
 * kept byte for byte). Sets applied[i] for each file of the blob applied.
 */
static int
check_applied(PGconn *conn, bool *applied)
{
	PGresult	*res;
	char		 sum[65];
	int		 r, rc = 0;

	res = PQexec(conn, "SELECT version, checksum FROM schema_migration "
	    "ORDER BY version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("could not read schema_migration: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	for (r = 0; r < PQntuples(res) && rc == 0; r++) {
		const char *name = PQgetvalue(res, r, 0);
		const struct schema_file *f = find('m', name);

		if (f == NULL) {
			log_warnx("migration: the database has migration %s, "
			    "which this wagepayd does not carry; it is older than "
			    "the database's schema: migrate with the newer "
			    "binary", name);
			rc = -1;
			break;
		}
		applied[f - schema_blob_files] = true;
		checksum(f, sum);
		if (PQgetisnull(res, r, 1))
			rc = exec_params(conn, "UPDATE schema_migration SET "
			    "checksum = $2 WHERE version = $1", name, sum,
			    "recording a checksum");
		else if (strcmp(PQgetvalue(res, r, 1), sum) != 0) {
			log_warnx("migration: %s was applied with other text "
			    "than this wagepayd's (SHA-256 %.12s..., here "
			    "%.12s...): an applied migration is never edited; "
			    "nothing was changed", name, PQgetvalue(res, r, 1),
			    sum);
			rc = -1;
		}
	}
	PQclear(res);
	return rc;
}

static int
apply_all(PGconn *conn)
{
	bool		*applied;
	char		 sum[65];
	uint64_t	 i;
	int		 nmig = 0, rc = -1;

	if ((applied = calloc(schema_blob_count + 1, sizeof(*applied))) == NULL)
		fatal("calloc");
	if (check_applied(conn, applied) == -1)
		goto done;
	for (i = 0; i < schema_blob_count; i++) {
		const struct schema_file *f = &schema_blob_files[i];

		if (applied[i] || !is_kind(f, MIGRATIONS))
			continue;
		checksum(f, sum);
		if (exec_ok(conn, f->text, f->name) == -1 ||
		    exec_params(conn, "INSERT INTO schema_migration (version, "
		    "checksum) VALUES ($1, $2)", base_name(f), sum,
		    "recording it") == -1)
			goto done;
		log_info("migration %s applied", base_name(f));
		nmig++;
	}
	/* Every functions file, every time; the record lists exactly these. */
	if (exec_ok(conn, "DELETE FROM schema_function_file", "setup") == -1)
		goto done;
	for (i = 0; i < schema_blob_count; i++) {
		const struct schema_file *f = &schema_blob_files[i];

		if (!is_kind(f, FUNCTIONS))
			continue;
		checksum(f, sum);
		if (exec_ok(conn, f->text, f->name) == -1 ||
		    exec_params(conn, "INSERT INTO schema_function_file (name, "
		    "checksum) VALUES ($1, $2)", base_name(f), sum,
		    "recording it") == -1)
			goto done;
	}
	log_info("schema is up to date: %d migrations run now, the functions "
	    "files loaded", nmig);
	rc = 0;
done:
	free(applied);
	return rc;
}

/*
 * The daemon's role: the user [database] dsn connects as, asked of the
 * server (the dsn may name none and take libpq's default). NULL, logged,
 * when it cannot connect. The caller frees it.
 */
static char *
daemon_role(const char *dsn)
{
	PGconn		*conn = PQconnectdb(dsn);
	PGresult	*res;
	char		*role = NULL;

	if (PQstatus(conn) != CONNECTION_OK) {
		log_warnx("migration: could not connect as the daemon's role "
		    "([database] dsn) to learn its name: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	res = PQexec(conn, "SELECT current_user");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    (role = strdup(PQgetvalue(res, 0, 0))) == NULL)
		fatal("strdup");
	if (role == NULL)
		log_warnx("migration: could not read the daemon's role: %s",
		    PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(conn);
	return role;
}

/*
 * Least privilege (wp_grant_daemon, schema/functions/privileges.sql), last
 * in the transaction, after every functions file: the entry points run as
 * the owner, and role (NULL: the daemon is the owner) may call them and
 * read the few columns the daemon's own SQL names, nothing else.
 */
static int
grant_daemon(PGconn *conn, const char *role)
{
	const char	*params[1] = { role };
	PGresult	*res;
	int		 rc = 0;

	res = PQexecParams(conn, "SELECT wp_grant_daemon($1)", 1, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("migration: granting the daemon's role failed: %s",
		    PQresultErrorMessage(res));
		rc = -1;
	} else if (role != NULL)
		log_info("the daemon's role %s may call %s functions, each run as "
		    "the schema's owner, and read the schema's record; nothing "
		    "else", role, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int
migrate_run(const char *dsn, const char *migrate_dsn)
{
	PGconn	*conn;
	char	*role = NULL;
	int	 rc = -1;

	/* as the schema's owner when migrate_dsn names it; dsn's user then
	 * is the daemon's own role, granted what it needs */
	if (migrate_dsn != NULL && (role = daemon_role(dsn)) == NULL)
		return -1;
	conn = PQconnectdb(migrate_dsn != NULL ? migrate_dsn : dsn);
	if (PQstatus(conn) != CONNECTION_OK) {
		log_warnx("could not connect to the database%s: %s",
		    migrate_dsn != NULL ? " as the schema's owner ([database] "
		    "migrate_dsn)" : "", PQerrorMessage(conn));
		goto done;
	}
	if (exec_ok(conn, "SET client_min_messages = warning", "setup") == -1 ||
	    exec_ok(conn, "BEGIN", "BEGIN") == -1)
		goto done;
	if (exec_ok(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")",
	    "taking the migration lock") == -1 ||
	    exec_ok(conn, SETUP_SQL, "setup") == -1 || apply_all(conn) == -1 ||
	    grant_daemon(conn, role) == -1) {
		exec_ok(conn, "ROLLBACK", "ROLLBACK");
		goto done;
	}
	if (exec_ok(conn, "COMMIT", "COMMIT") == 0)
		rc = 0;
done:
	PQfinish(conn);
	free(role);
	return rc;
}
