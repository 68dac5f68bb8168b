/*
 * migrate.c: --migrate applies the numbered SQL files of schema/ that the
 * database has not seen, in order, each in its own transaction, and records
 * each in schema_migration. Forward only. Runs before any event loop, so it
 * may block. An advisory lock keeps two migrators from racing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

#define MIGRATE_LOCK	"7731001"	/* pg_advisory_lock key for wagepay */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_migration(const char *name)
{
	size_t	n = strlen(name);

	return n > 8 && name[0] >= '0' && name[0] <= '9' &&
	    name[1] >= '0' && name[1] <= '9' && name[2] >= '0' &&
	    name[2] <= '9' && name[3] == '_' &&
	    strcmp(name + n - 4, ".sql") == 0;
}

static char *
read_file(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
exec_ok(PGconn *conn, const char *sql, const char *what)
{
	PGresult	*res = PQexec(conn, sql);
	ExecStatusType	 st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_warnx("migration %s failed: %s", what,
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static int
apply(PGconn *conn, const char *dir, const char *name)
{
	char		 path[4096], *sql;
	const char	*params[1] = { name };
	PGresult	*res;
	int		 done;

	res = PQexecParams(conn, "SELECT 1 FROM schema_migration WHERE "
	    "version = $1", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("could not read schema_migration: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	done = PQntuples(res);
	PQclear(res);
	if (done)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = read_file(path)) == NULL) {
		log_warn("could not read \"%s\"", path);
		return -1;
	}
	if (exec_ok(conn, "BEGIN", name) == -1 || exec_ok(conn, sql, name) == -1) {
		free(sql);
		exec_ok(conn, "ROLLBACK", name);
		return -1;
	}
	free(sql);
	res = PQexecParams(conn, "INSERT INTO schema_migration (version) "
	    "VALUES ($1)", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_warnx("could not record migration %s: %s", name,
		    PQresultErrorMessage(res));
		PQclear(res);
		exec_ok(conn, "ROLLBACK", name);
		return -1;
	}
	PQclear(res);
	if (exec_ok(conn, "COMMIT", name) == -1)
		return -1;
	log_info("migration %s applied", name);
	return 0;
}

int
migrate_run(const char *dsn, const char *dir)
{
	PGconn		*conn;
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, **tmp;
	size_t		 n = 0, i;
	int		 rc = -1;

	if ((d = opendir(dir)) == NULL) {
		log_warn("could not open schema directory \"%s\"", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_migration(de->d_name))
			continue;
		if ((tmp = reallocarray(names, n + 1, sizeof(*names))) == NULL ||
		    (tmp[n] = strdup(de->d_name)) == NULL) {
			closedir(d);
			fatal("out of memory");
		}
		names = tmp;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);

	conn = PQconnectdb(dsn);
	if (PQstatus(conn) != CONNECTION_OK) {
		log_warnx("could not connect to the database: %s",
		    PQerrorMessage(conn));
		goto done;
	}
	if (exec_ok(conn, "SET client_min_messages = warning", "setup") == -1 ||
	    exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", "lock") == -1 ||
	    exec_ok(conn, "CREATE TABLE IF NOT EXISTS schema_migration ("
	    "version text PRIMARY KEY, applied_at timestamptz NOT NULL "
	    "DEFAULT now())", "setup") == -1)
		goto done;
	for (i = 0; i < n; i++)
		if (apply(conn, dir, names[i]) == -1)
			goto done;
	rc = 0;
	log_info("schema is up to date (%zu migrations)", n);
done:
	PQfinish(conn);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
