/*
 * piiconvert.c: personal data at rest (issue 22) on an existing database:
 * --migrate converts what was stored in clear, --rotate-key re-seals what
 * is under the previous data key, and the start-up check refuses a
 * database whose blind indexes are not this index key's.
 *
 * Both walk a table in batches, each its own transaction (so a run killed
 * half-way resumes where the last commit left it, and the daemon keeps
 * running beside a rotation), computing in C what the SQL cannot (no key is
 * ever sent to the database), and print a progress line per batch on
 * standard error. The tables' immutability triggers are disabled inside a
 * batch's transaction only: no other session ever sees them off (the
 * ALTER's lock holds sheet_line for the batch, a few milliseconds).
 *
 * Blocking libpq, before or without the event loop. Must not log a clear
 * value: the progress lines count rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "daemon.h"
#include "ids.h"
#include "log.h"
#include "pii.h"

#define BATCH	2000	/* rows a transaction; WAGEPAY_PII_BATCH for tests */

/* One table: its rows k1..k3 (the key, as text), then what is converted. */
struct table {
	const char	*name;
	const char	*trigger;	/* immutability trigger, or NULL */
	const char	*clear_sql;	/* $1 limit, $2..$4 after: k1..k3, idn, name, card */
	const char	*clear_set;	/* $1..$3 keys[], $4..$6 indexes[], $7 pii[], $8..$10 masks[] */
	const char	*sealed_sql;	/* $1 limit, $2..$4 after, $5 the current key id:
					   k1..k3, pii hex */
	const char	*sealed_set;	/* $1..$3 keys[], $4 pii[] (hex) */
};

#define U_KEYS	"unnest($1::text[], $2::text[], $3::text[]"
static const struct table tables[] = {
	{ "roster_entry", NULL,
	  "SELECT project_id::text, id_number::text, '', id_number, name, card "
	  "FROM roster_entry WHERE pii IS NULL LIMIT $1::int FOR UPDATE",
	  "UPDATE roster_entry t SET id_number = u.i, name = u.n, card = u.c, "
	  "pii = decode(u.p, 'hex'), id_mask = u.im, card_mask = u.cm, "
	  "name_mask = u.nm FROM " U_KEYS ", $4::text[], $5::text[], $6::text[], "
	  "$7::text[], $8::text[], $9::text[], $10::text[]) "
	  "u(k1, k2, k3, i, n, c, p, im, cm, nm) "
	  "WHERE t.project_id = u.k1::bigint AND t.id_number = u.k2::bpchar",
	  "SELECT project_id::text, id_number::text, '', encode(pii, 'hex') "
	  "FROM roster_entry WHERE (project_id, id_number) > ($2::bigint, $3::bpchar) "
	  "AND pii IS NOT NULL AND substring(pii from 2 for 4) <> decode($5, 'hex') "
	  "ORDER BY project_id, id_number LIMIT $1::int FOR UPDATE",
	  "UPDATE roster_entry t SET pii = decode(u.p, 'hex') FROM " U_KEYS
	  ", $4::text[]) u(k1, k2, k3, p) "
	  "WHERE t.project_id = u.k1::bigint AND t.id_number = u.k2::bpchar" },
	{ "roster_version", "roster_version_immutable",
	  "SELECT project_id::text, id_number::text, version::text, id_number, "
	  "name, card FROM roster_version WHERE pii IS NULL LIMIT $1::int FOR UPDATE",
	  "UPDATE roster_version t SET id_number = u.i, name = u.n, card = u.c, "
	  "pii = decode(u.p, 'hex'), id_mask = u.im, card_mask = u.cm, "
	  "name_mask = u.nm FROM " U_KEYS ", $4::text[], $5::text[], $6::text[], "
	  "$7::text[], $8::text[], $9::text[], $10::text[]) "
	  "u(k1, k2, k3, i, n, c, p, im, cm, nm) "
	  "WHERE t.project_id = u.k1::bigint AND t.id_number = u.k2::bpchar "
	  "AND t.version = u.k3::int",
	  "SELECT project_id::text, id_number::text, version::text, "
	  "encode(pii, 'hex') FROM roster_version WHERE (project_id, id_number, "
	  "version) > ($2::bigint, $3::bpchar, $4::int) AND pii IS NOT NULL "
	  "AND substring(pii from 2 for 4) <> decode($5, 'hex') "
	  "ORDER BY project_id, id_number, version LIMIT $1::int FOR UPDATE",
	  "UPDATE roster_version t SET pii = decode(u.p, 'hex') FROM " U_KEYS
	  ", $4::text[]) u(k1, k2, k3, p) WHERE t.project_id = u.k1::bigint "
	  "AND t.id_number = u.k2::bpchar AND t.version = u.k3::int" },
	{ "sheet_line", "sheet_line_immutable",
	  "SELECT sheet_id::text, seq::text, '', id_number, name, card "
	  "FROM sheet_line WHERE (sheet_id, seq) > ($2::bigint, $3::int) "
	  "AND pii IS NULL ORDER BY sheet_id, seq LIMIT $1::int",
	  "UPDATE sheet_line t SET id_number = u.i, name = u.n, card = u.c, "
	  "pii = decode(u.p, 'hex'), id_mask = u.im, card_mask = u.cm, "
	  "name_mask = u.nm FROM " U_KEYS ", $4::text[], $5::text[], $6::text[], "
	  "$7::text[], $8::text[], $9::text[], $10::text[]) "
	  "u(k1, k2, k3, i, n, c, p, im, cm, nm) "
	  "WHERE t.sheet_id = u.k1::bigint AND t.seq = u.k2::int",
	  "SELECT sheet_id::text, seq::text, '', encode(pii, 'hex') "
	  "FROM sheet_line WHERE (sheet_id, seq) > ($2::bigint, $3::int) "
	  "AND pii IS NOT NULL AND substring(pii from 2 for 4) <> decode($5, 'hex') "
	  "ORDER BY sheet_id, seq LIMIT $1::int FOR UPDATE",
	  "UPDATE sheet_line t SET pii = decode(u.p, 'hex') FROM " U_KEYS
	  ", $4::text[]) u(k1, k2, k3, p) "
	  "WHERE t.sheet_id = u.k1::bigint AND t.seq = u.k2::int" },
	{ "guarantee_draw_line", "guarantee_draw_line_immutable",
	  "SELECT draw_id::text, seq::text, '', id_number, name, card "
	  "FROM guarantee_draw_line WHERE (draw_id, seq) > ($2::bigint, $3::int) "
	  "AND pii IS NULL ORDER BY draw_id, seq LIMIT $1::int",
	  "UPDATE guarantee_draw_line t SET id_number = u.i, name = u.n, "
	  "card = u.c, pii = decode(u.p, 'hex'), id_mask = u.im, card_mask = u.cm, "
	  "name_mask = u.nm FROM " U_KEYS ", $4::text[], $5::text[], $6::text[], "
	  "$7::text[], $8::text[], $9::text[], $10::text[]) "
	  "u(k1, k2, k3, i, n, c, p, im, cm, nm) "
	  "WHERE t.draw_id = u.k1::bigint AND t.seq = u.k2::int",
	  "SELECT draw_id::text, seq::text, '', encode(pii, 'hex') "
	  "FROM guarantee_draw_line WHERE (draw_id, seq) > ($2::bigint, $3::int) "
	  "AND pii IS NOT NULL AND substring(pii from 2 for 4) <> decode($5, 'hex') "
	  "ORDER BY draw_id, seq LIMIT $1::int FOR UPDATE",
	  "UPDATE guarantee_draw_line t SET pii = decode(u.p, 'hex') FROM " U_KEYS
	  ", $4::text[]) u(k1, k2, k3, p) "
	  "WHERE t.draw_id = u.k1::bigint AND t.seq = u.k2::int" },
};
#define NTABLES	(sizeof(tables) / sizeof(tables[0]))
/* A batch waits at most LOCK_WAIT for a table's lock (the trigger's ALTER:
 * a long sheet may hold it), then is tried again, LOCK_TRIES times. */
#define LOCK_WAIT		"SET lock_timeout = '2s'"
#define LOCK_TRIES		60
#define LOCK_NOT_AVAILABLE	"55P03"

static char	last_state[6];	/* SQLSTATE of exec1's last failure */
#define NCOLS	10

/* A growing PostgreSQL array literal. */
struct arr {
	char	*p;
	size_t	 len, cap;
};

static void
arr_put(struct arr *a, const char *s)
{
	size_t	need = a->len + 2 * strlen(s) + 4;

	if (need > a->cap) {
		a->cap = need * 2;
		if ((a->p = realloc(a->p, a->cap)) == NULL)
			fatal("realloc");
	}
	a->p[a->len] = a->len == 0 ? '{' : ',';
	a->len++;
	a->p[a->len++] = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			a->p[a->len++] = '\\';
		a->p[a->len++] = *s;
	}
	a->p[a->len++] = '"';
	a->p[a->len] = '\0';
}

static void
arrs_reset(struct arr *a, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (a[i].len > 0)
			OPENSSL_cleanse(a[i].p, a[i].len);
		a[i].len = 0;
		if (a[i].p != NULL)
			strcpy(a[i].p, "{}");
	}
}

static const char *
arr_text(struct arr *a)
{
	if (a->len == 0)
		return "{}";
	strcpy(a->p + a->len, "}");
	return a->p;
}

static void
arrs_free(struct arr *a, int n)
{
	arrs_reset(a, n);
	while (n-- > 0)
		free(a[n].p);
}

static void
tohex(const uint8_t *b, size_t n, char *out)
{
	static const char	d[] = "0123456789abcdef";

	while (n-- > 0) {
		*out++ = d[*b >> 4];
		*out++ = d[*b++ & 15];
	}
	*out = '\0';
}

static int
exec1(PGconn *c, const char *sql, int n, const char *const *params,
    PGresult **out, const char *what)
{
	static const Oid text[NCOLS] = { 25, 25, 25, 25, 25, 25, 25, 25, 25, 25 };
	/* every parameter text, so one a query does not read is no error */
	PGresult	*r = PQexecParams(c, sql, n, text, params, NULL, NULL, 0);
	ExecStatusType	 st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(last_state, sizeof(last_state), "%s",
		    PQresultErrorField(r, PG_DIAG_SQLSTATE) != NULL ?
		    PQresultErrorField(r, PG_DIAG_SQLSTATE) : "");
		if (strcmp(last_state, LOCK_NOT_AVAILABLE) != 0)
			log_warnx("personal data: %s failed: %s", what,
			    PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static int
trigger(PGconn *c, const struct table *t, const char *onoff)
{
	char	sql[200];

	if (t->trigger == NULL)
		return 0;
	snprintf(sql, sizeof(sql), "ALTER TABLE %s %s TRIGGER %s", t->name,
	    onoff, t->trigger);
	return exec1(c, sql, 0, NULL, NULL, sql);
}

/* One row in clear, converted into the arrays a[0..9]. */
static int
convert_row(struct pii_ctx *x, PGresult *r, int row, struct arr *a)
{
	const char	*idn = PQgetvalue(r, row, 3), *name = PQgetvalue(r, row, 4);
	const char	*card = PQgetvalue(r, row, 5);
	char		 bi[3][PII_INDEX_LEN + 1], mask[3][PII_FIELD_MAX + 1];
	uint8_t		 sealed[PII_SEAL_MAX];
	char		 hex[2 * PII_SEAL_MAX + 1];
	size_t		 n;
	struct perr	 err;
	int		 i;

	if (pii_seal(x, idn, name, card, sealed, &n, &err) == -1)
		return -1;
	pii_index(x, PII_IDN, idn, strlen(idn), bi[0]);
	pii_index(x, PII_NAME, name, strlen(name), bi[1]);
	pii_index(x, PII_CARD, card, strlen(card), bi[2]);
	ids_mask(idn, mask[0], sizeof(mask[0]));
	ids_mask(card, mask[1], sizeof(mask[1]));
	pii_mask_name(name, mask[2], sizeof(mask[2]));
	tohex(sealed, n, hex);
	for (i = 0; i < 3; i++)
		arr_put(&a[i], PQgetvalue(r, row, i));
	for (i = 0; i < 3; i++)
		arr_put(&a[3 + i], bi[i]);
	arr_put(&a[6], hex);
	for (i = 0; i < 3; i++)
		arr_put(&a[7 + i], mask[i]);
	OPENSSL_cleanse(mask, sizeof(mask));
	return 0;
}

/* One row under an old key, re-sealed under the current one into a[0..3]. */
static int
reseal_row(struct pii_ctx *x, PGresult *r, int row, struct arr *a)
{
	struct pii_clear	 cl;
	struct perr		 err;
	uint8_t			 sealed[PII_SEAL_MAX];
	char			 hex[2 * PII_SEAL_MAX + 1];
	size_t			 n;
	int			 i, rc;

	perr_clear(&err);
	if (piikeys_open_hex_ctx(x, PQgetvalue(r, row, 3), &cl, &err) == -1) {
		log_warnx("personal data: a record of key %s %s: %s",
		    PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), err.msg);
		return -1;
	}
	rc = pii_seal(x, cl.idn, cl.name, cl.card, sealed, &n, &err);
	OPENSSL_cleanse(&cl, sizeof(cl));
	if (rc == -1)
		return -1;
	tohex(sealed, n, hex);
	for (i = 0; i < 3; i++)
		arr_put(&a[i], PQgetvalue(r, row, i));
	arr_put(&a[3], hex);
	return 0;
}

static int
batch_rows(void)
{
	const char	*v = getenv("WAGEPAY_PII_BATCH");
	int		 n = v != NULL ? atoi(v) : 0;

	return n >= 1 && n <= 100000 ? n : BATCH;
}

/* One batch of t's rows in clear (or, !clear, under an old key), converted
 * and written back in one transaction; last[] is the key to go on after.
 * The number of rows done, -1 on failure (rolled back). */
static int
batch(PGconn *c, const struct table *t, bool clear, char last[3][64],
    const char *keyid, struct pii_ctx *x)
{
	struct arr	 a[NCOLS];
	const char	*sel[5], *upd[NCOLS];
	char		 limit[16];
	PGresult	*r = NULL;
	int		 i, n = 0, ncols = clear ? NCOLS : 4;

	memset(a, 0, sizeof(a));
	snprintf(limit, sizeof(limit), "%d", batch_rows());
	sel[0] = limit;
	for (i = 0; i < 3; i++)
		sel[1 + i] = last[i];
	sel[4] = keyid;
	if (exec1(c, "BEGIN", 0, NULL, NULL, "BEGIN") == -1)
		return -1;
	if (exec1(c, clear ? t->clear_sql : t->sealed_sql, 5, sel, &r,
	    t->name) == -1)
		goto fail;
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		if ((clear ? convert_row(x, r, i, a) :
		    reseal_row(x, r, i, a)) == -1)
			goto fail;
	for (i = 0; n > 0 && i < 3; i++)
		snprintf(last[i], 64, "%s", PQgetvalue(r, n - 1, i));
	for (i = 0; i < ncols; i++)
		upd[i] = arr_text(&a[i]);
	if (n > 0 && (trigger(c, t, "DISABLE") == -1 ||
	    exec1(c, clear ? t->clear_set : t->sealed_set, ncols, upd, NULL,
	    t->name) == -1 || trigger(c, t, "ENABLE") == -1))
		goto fail;
	if (exec1(c, "COMMIT", 0, NULL, NULL, "COMMIT") == -1)
		n = -1;
	PQclear(r);
	arrs_free(a, NCOLS);
	return n;
fail:
	PQclear(r);
	arrs_free(a, NCOLS);
	(void)exec1(c, "ROLLBACK", 0, NULL, NULL, "ROLLBACK");
	return -1;
}

/* Every batch of one table, with a progress line each. */
static int
walk(PGconn *c, const struct table *t, bool clear, const char *keyid,
    struct pii_ctx *x)
{
	char		last[3][64] = { "-1", "0", "0" };
	long long	done = 0;
	int		n, tries = 0;

	while ((n = batch(c, t, clear, last, keyid, x)) != 0) {
		if (n == -1 && strcmp(last_state, LOCK_NOT_AVAILABLE) == 0 &&
		    ++tries < LOCK_TRIES) {
			fprintf(stderr, "wagepayd: %s: waiting for the table's "
			    "lock (a long transaction holds it)\n", t->name);
			continue;
		}
		if (n == -1)
			return -1;
		done += n;
		tries = 0;
		fprintf(stderr, "wagepayd: %s: %s %lld rows\n", t->name,
		    clear ? "converted" : "re-sealed", done);
	}
	if (n == -1)
		return -1;
	log_info("personal data: %s: %lld rows %s", t->name, done,
	    clear ? "converted" : "re-sealed under data key");
	return 0;
}

/* card_owner (one person, one card): both columns indexed, in batches. */
static int
card_owners(PGconn *c, struct pii_ctx *x)
{
	struct arr	 a[3];
	const char	*upd[3];
	char		 bi[PII_INDEX_LEN + 1];
	PGresult	*r;
	int		 i, n;
	long long	 done = 0;
	char		 limit[16];
	const char	*lim[1] = { limit };

	snprintf(limit, sizeof(limit), "%d", batch_rows());
	do {
		memset(a, 0, sizeof(a));
		if (exec1(c, "BEGIN", 0, NULL, NULL, "BEGIN") == -1 ||
		    exec1(c, "SELECT card, id_number::text FROM card_owner "
		    "WHERE in_clear LIMIT $1::int FOR UPDATE", 1, lim, &r,
		    "card_owner") == -1)
			return -1;
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			arr_put(&a[0], PQgetvalue(r, i, 0));
			pii_index(x, PII_CARD, PQgetvalue(r, i, 0),
			    (size_t)PQgetlength(r, i, 0), bi);
			arr_put(&a[1], bi);
			pii_index(x, PII_IDN, PQgetvalue(r, i, 1),
			    (size_t)PQgetlength(r, i, 1), bi);
			arr_put(&a[2], bi);
		}
		PQclear(r);
		for (i = 0; i < 3; i++)
			upd[i] = arr_text(&a[i]);
		if ((n > 0 && exec1(c, "UPDATE card_owner t SET card = u.c, "
		    "id_number = u.i, in_clear = false FROM unnest($1::text[], "
		    "$2::text[], $3::text[]) u(o, c, i) WHERE t.card = u.o", 3,
		    upd, NULL, "card_owner") == -1) ||
		    exec1(c, "COMMIT", 0, NULL, NULL, "COMMIT") == -1) {
			arrs_free(a, 3);
			(void)exec1(c, "ROLLBACK", 0, NULL, NULL, "ROLLBACK");
			return -1;
		}
		arrs_free(a, 3);
		done += n;
		if (n > 0)
			fprintf(stderr, "wagepayd: card_owner: converted %lld "
			    "rows\n", done);
	} while (n > 0);
	return 0;
}

/* Alerts keyed by a card or an ID number (CARD_CONCENTRATION, CARD_CHANGED):
 * the same key as the functions now make, from the indexes. */
static int
alert_keys(PGconn *c, struct pii_ctx *x)
{
	PGresult	*r;
	const char	*p[2];
	char		 key[300], a[PII_INDEX_LEN + 1], b[PII_INDEX_LEN + 1];
	char		 f1[64], f2[64], f3[64];
	int		 i, rc = 0;

	if (exec1(c, "SELECT ctid::text, dedup_key FROM alert WHERE dedup_key ~ "
	    "'^CARD:[0-9]{12,19}:[0-9]{17}[0-9X]$' OR dedup_key ~ "
	    "'^CARD_CHANGED:[0-9]+:[0-9]{17}[0-9X]:[0-9]+$' FOR UPDATE", 0,
	    NULL, &r, "alert keys") == -1)
		return -1;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		const char *k = PQgetvalue(r, i, 1);

		if (sscanf(k, "CARD:%63[0-9]:%63[0-9X]", f1, f2) == 2) {
			pii_index(x, PII_CARD, f1, strlen(f1), a);
			pii_index(x, PII_IDN, f2, strlen(f2), b);
			snprintf(key, sizeof(key), "CARD:%s:%s", a, b);
		} else if (sscanf(k, "CARD_CHANGED:%63[0-9]:%63[0-9X]:%63[0-9]",
		    f1, f2, f3) == 3) {
			pii_index(x, PII_IDN, f2, strlen(f2), b);
			snprintf(key, sizeof(key), "CARD_CHANGED:%s:%s:%s", f1, b,
			    f3);
		} else
			continue;
		p[0] = PQgetvalue(r, i, 0);
		p[1] = key;
		rc = exec1(c, "UPDATE alert SET dedup_key = $2 WHERE ctid = "
		    "$1::tid", 2, p, NULL, "alert key");
	}
	PQclear(r);
	return rc;
}

/* What holds no clear value of its own: line_return's ID number is its
 * line's; alert keys; card_owner. One transaction but card_owner's. */
static int
the_rest(PGconn *c, struct pii_ctx *x)
{
	if (card_owners(c, x) == -1 ||
	    exec1(c, "BEGIN", 0, NULL, NULL, "BEGIN") == -1)
		return -1;
	if (exec1(c, "ALTER TABLE line_return DISABLE TRIGGER "
	    "line_return_immutable", 0, NULL, NULL, "line_return") == -1 ||
	    exec1(c, "UPDATE line_return r SET id_number = l.id_number FROM "
	    "sheet_line l WHERE l.sheet_id = r.sheet_id AND l.seq = r.line_seq "
	    "AND r.id_number <> l.id_number", 0, NULL, NULL,
	    "line_return") == -1 ||
	    exec1(c, "ALTER TABLE line_return ENABLE TRIGGER "
	    "line_return_immutable", 0, NULL, NULL, "line_return") == -1 ||
	    alert_keys(c, x) == -1 ||
	    exec1(c, "UPDATE pii_keyring SET converted_at = now()", 0, NULL,
	    NULL, "pii_keyring") == -1 ||
	    exec1(c, "COMMIT", 0, NULL, NULL, "COMMIT") == -1) {
		(void)exec1(c, "ROLLBACK", 0, NULL, NULL, "ROLLBACK");
		return -1;
	}
	return 0;
}

static PGconn *
connect_db(const char *dsn)
{
	PGconn	*c = PQconnectdb(dsn);

	if (PQstatus(c) != CONNECTION_OK) {
		log_warnx("could not connect to the database: %s",
		    PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* The index key id the database records ("" for none), and whether its
 * conversion is done. -1 when unreadable. */
static int
keyring(PGconn *c, char id[16], bool *converted)
{
	PGresult	*r;

	if (exec1(c, "SELECT coalesce(index_key_id, ''), converted_at IS NOT "
	    "NULL FROM pii_keyring", 0, NULL, &r, "reading pii_keyring") == -1)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		log_warnx("personal data: pii_keyring has no row: run "
		    "wagepayd --migrate");
		return -1;
	}
	snprintf(id, 16, "%s", PQgetvalue(r, 0, 0));
	*converted = PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	return 0;
}

int
piiconvert_migrate(const char *dsn, const struct pii_keys *keys)
{
	PGconn		*c;
	struct pii_ctx	*x = NULL;
	char		 id[16];
	const char	*p[1];
	bool		 done;
	size_t		 i;
	int		 rc = -1;

	if (keys == NULL || (c = connect_db(dsn)) == NULL)
		return keys == NULL ? 0 : -1;
	if (keyring(c, id, &done) == -1)
		goto out;
	if (id[0] != '\0' && strcmp(id, pii_keys_index_id(keys)) != 0) {
		log_warnx("personal data: the database's blind indexes are made "
		    "with index key %s, not [security] index_key (%s): nothing "
		    "converted", id, pii_keys_index_id(keys));
		goto out;
	}
	p[0] = pii_keys_index_id(keys);
	if ((x = pii_ctx_new(keys)) == NULL || (id[0] == '\0' && exec1(c,
	    "UPDATE pii_keyring SET index_key_id = $1", 1, p, NULL,
	    "recording the index key") == -1))
		goto out;
	for (i = 0; i < NTABLES; i++)
		if (walk(c, &tables[i], true, "", x) == -1)
			goto out;
	if (the_rest(c, x) == -1)
		goto out;
	log_info("personal data: every ID number, name and card number is "
	    "sealed under data key %s, indexed under index key %s",
	    pii_keys_data_id(keys), pii_keys_index_id(keys));
	rc = 0;
out:
	pii_ctx_free(x);
	PQfinish(c);
	return rc;
}

/* Whether keys fit what the database records (its index key id, "" for
 * none, and whether the conversion is done); -1 having logged why not. */
static int
judge(const struct pii_keys *keys, const char *id, bool done)
{
	int	rc = -1;

	if (keys == NULL && id[0] != '\0')
		log_warnx("personal data: the database's ID numbers, names and "
		    "cards are sealed (index key %s), and [security] has no "
		    "keys to read them", id);
	else if (keys != NULL && id[0] == '\0')
		log_warnx("personal data: [security] has keys but the database "
		    "holds its personal data in clear: run wagepayd --migrate "
		    "to convert it");
	else if (keys != NULL && strcmp(id, pii_keys_index_id(keys)) != 0)
		log_warnx("personal data: the database's blind indexes are made "
		    "with index key %s, not [security] index_key (%s)", id,
		    pii_keys_index_id(keys));
	else if (keys != NULL && !done)
		log_warnx("personal data: the conversion of the database's "
		    "personal data is not finished: run wagepayd --migrate");
	else
		rc = 0;
	return rc;
}

int
piiconvert_check(const char *dsn, const struct pii_keys *keys)
{
	PGconn	*c;
	char	 id[16];
	bool	 done;
	int	 rc = -1;

	if ((c = connect_db(dsn)) != NULL && keyring(c, id, &done) == 0)
		rc = judge(keys, id, done);
	PQfinish(c);
	return rc;
}

static void
checked_cb(PGresult *res, const char *error, bool unknown, void *arg)
{
	(void)unknown; (void)arg;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1)
		fatalx("personal data: could not read pii_keyring: %s",
		    res == NULL ? error : PQresultErrorMessage(res));
	if (judge(wpd->pii, PQgetvalue(res, 0, 0),
	    PQgetvalue(res, 0, 1)[0] == 't') == -1)
		fatalx("refusing to run");
}

void
piiconvert_check_queue(void)
{
	if (db_query(wpd->db, "SELECT coalesce(index_key_id, ''), converted_at "
	    "IS NOT NULL FROM pii_keyring", 0, NULL, checked_cb, NULL) == -1)
		fatalx("personal data: could not check the keys against the "
		    "database");
}

int
piiconvert_rotate(const char *dsn, const struct pii_keys *keys,
    const char *newkey)
{
	PGconn		*c;
	struct pii_ctx	*x = NULL;
	size_t		 i;
	int		 rc = -1;

	(void)newkey;
	if (piiconvert_check(dsn, keys) == -1 || (c = connect_db(dsn)) == NULL)
		return -1;
	if ((x = pii_ctx_new(keys)) == NULL ||
	    exec1(c, LOCK_WAIT, 0, NULL, NULL, "lock_timeout") == -1)
		goto out;
	for (i = 0; i < NTABLES; i++)
		if (walk(c, &tables[i], false, pii_keys_data_id(keys), x) == -1)
			goto out;
	log_info("personal data: every record is sealed under data key %s; "
	    "previous_data_key may now be removed", pii_keys_data_id(keys));
	rc = 0;
out:
	pii_ctx_free(x);
	PQfinish(c);
	return rc;
}
