#!/bin/sh
# The schema's house (schema/migrations/ and schema/functions/, compiled
# into wagepayd; daemon/migrate.c):
# - the migrations are the ones banks applied, byte for byte (SHA256SUMS);
# - a database at 020 as the migrator before the house left it (001..020,
#   each in its own transaction, no checksums), upgraded by --migrate, has
#   the schema --migrate makes of an empty database: every function's
#   definition and settings, every trigger, and pg_dump --schema-only are
#   identical. (When the functions moved out of the migrations, 2956ae8, the
#   database 001..020 made was itself compared so, before any --migrate:
#   identical. That proof holds for that commit; a function changed since
#   differs from its 020 body by design.)
# - --migrate is repeatable, and refuses an applied migration whose text
#   changed or one it does not carry, changing nothing;
# - the daemon refuses to start against a schema that is not its own, and
#   says to run --migrate;
# - a database at 020 holding paid, held and returned sheets and alerts,
#   upgraded by --migrate, keeps its ledger exact and its audit chains, and
#   the daemon goes on paying from it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

MIG="$TOP/schema/migrations"
PSQL="psql -h $PGDIR -U wagepay -qAt -v ON_ERROR_STOP=1"
export WAGEPAY_CLOCK=2026-11-10T10:00:00+08:00

check "every migration is the one applied, byte for byte (SHA256SUMS)" \
    sh -c "cd '$MIG' && sha256sum --quiet -c SHA256SUMS"
check_eq "and every migration has its line in SHA256SUMS" \
    "$(cd "$MIG" && ls ./*.sql | sed 's|^\./||' | sort)" "$(awk '{print $2}' "$MIG/SHA256SUMS" | sort)"

# --- a world made by this binary, with money in it ----------------------------
setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project && roster_demo 10 && deposit DEP-1 20000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }
{ line E1 0 3000.00; line E2 1 2500.00; } >"$T/l1"
pay s1 SHEET-1 2026-10 1 <"$T/l1"
check_eq "a sheet is paid" "$(grpsts "$T/s1.pain002.xml")" ACSC
wage_return RET-1 E1 3000.00 AC04 >/dev/null
check_eq "a line of it comes back" "$(q "SELECT state FROM sheet_line_state WHERE msg_id = 'SHEET-1' AND end_to_end_id = 'E1'")" RETURNED
{ line H1 2 9000.00; line H2 3 9000.00; } >"$T/l2"
pay s2 SHEET-HELD 2026-10 1 <"$T/l2"
check_eq "a sheet over the balance is held" "$(grpsts "$T/s2.pain002.xml")" PDNG
check "and raises an alert" test "$(q "SELECT count(*) FROM alert")" -ge 1
daemon_stop

# --- a database at 020, as the migrator before this one left it ---------------
# (001..020 only, each in its own transaction, recorded without a checksum)
legacy_db() {
	as_pg "$PGBIN/createdb" -h "$PGDIR" -U wagepay "$1"
	$PSQL -d "$1" -c "CREATE TABLE schema_migration (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
	for f in "$MIG"/0[01][0-9]_*.sql "$MIG"/020_*.sql; do
		$PSQL -d "$1" -c "SET client_min_messages = warning" -c BEGIN -f "$f" \
		    -c "INSERT INTO schema_migration (version) VALUES ('$(basename "$f")')" -c COMMIT >/dev/null ||
		    { echo "Bail out! $f does not apply"; exit 1; }
	done
}
legacy_db asmain
check_eq "it holds 001..020" "$($PSQL -d asmain -c "SELECT count(*) FROM schema_migration")" 20
sed "s/dbname=wagepay/dbname=asmain/" "$CONF" >"$T/asmain.conf"
check "--migrate upgrades it" sh -c "'$WAGEPAYD' -f '$T/asmain.conf' --migrate >>'$T/wagepayd.log' 2>&1"
as_pg "$PGBIN/createdb" -h "$PGDIR" -U wagepay fresh
sed "s/dbname=wagepay/dbname=fresh/" "$CONF" >"$T/fresh.conf"
check "--migrate makes an empty database" sh -c "'$WAGEPAYD' -f '$T/fresh.conf' --migrate >>'$T/wagepayd.log' 2>&1"

functions() {
	$PSQL -d "$1" -c "SELECT p.oid::regprocedure::text || E'\n' || pg_get_functiondef(p.oid) ||
	    E'\nproconfig: ' || coalesce(array_to_string(p.proconfig, ','), '')
	  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1"
}
triggers() {
	$PSQL -d "$1" -c "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
	  WHERE NOT t.tgisinternal ORDER BY t.tgrelid::regclass::text, t.tgname"
}
# pg_dump's \restrict lines carry a random key each run
dump() {
	pg_dump -h "$PGDIR" -U wagepay --schema-only -T schema_migration -T schema_function_file "$1" |
	    grep -v '^\\\(un\)\?restrict '
}
functions asmain >"$T/f.asmain"; functions fresh >"$T/f.fresh"
check "there are functions to compare" test "$(grep -c '^proconfig' "$T/f.asmain")" -gt 80
check "every function's definition and settings are the same, upgraded or made afresh" cmp -s "$T/f.asmain" "$T/f.fresh"
diff "$T/f.asmain" "$T/f.fresh" | head -20 | sed 's/^/# /'
triggers asmain >"$T/t.asmain"; triggers fresh >"$T/t.fresh"
check "there are triggers to compare" test "$(wc -l <"$T/t.asmain")" -gt 15
check "every trigger is the same" cmp -s "$T/t.asmain" "$T/t.fresh"
dump asmain >"$T/d.asmain"; dump fresh >"$T/d.fresh"
check "pg_dump --schema-only is identical" cmp -s "$T/d.asmain" "$T/d.fresh"
diff "$T/d.asmain" "$T/d.fresh" | head -20 | sed 's/^/# /'
check_eq "the world made by this binary has the same schema" "$(dump wagepay | cmp -s - "$T/d.fresh" && echo same)" same

"$WAGEPAYD" -f "$T/fresh.conf" --migrate >"$T/again.log" 2>&1
check_eq "--migrate again runs no migration" "$(grep -c 'migration .* applied' "$T/again.log")" 0
functions fresh >"$T/f.again"
check "and leaves every function as it was" cmp -s "$T/f.fresh" "$T/f.again"
check_eq "it records every functions file with its checksum" \
    "$($PSQL -d fresh -c "SELECT string_agg(name, ' ' ORDER BY name) FROM schema_function_file WHERE checksum ~ '^[0-9a-f]{64}\$'")" \
    "$(cd "$TOP/schema/functions" && ls ./*.sql | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"

# --- refusals: a changed migration, one it does not carry -----------------------
$PSQL -d fresh -c "UPDATE schema_migration SET checksum = repeat('0', 64) WHERE version = '005_console.sql'"
$PSQL -d fresh -c "CREATE FUNCTION wp_marker() RETURNS int LANGUAGE sql AS 'SELECT 1'"
"$WAGEPAYD" -f "$T/fresh.conf" --migrate >"$T/changed.log" 2>&1
check_eq "--migrate refuses an applied migration whose text changed" "$?" 1
check "and says which, and that it is never edited" grep -q '005_console.sql was applied with other text than this wagepayd.s.*never edited' "$T/changed.log"
check_eq "nothing was changed (one transaction)" "$($PSQL -d fresh -c "SELECT count(*) FROM pg_proc WHERE proname = 'wp_marker'")" 1
"$WAGEPAYD" -f "$T/fresh.conf" >"$T/start-changed.log" 2>&1
check_eq "the daemon refuses to start on it" "$?" 1
check "naming the migration and --migrate" grep -q 'migration 005_console.sql in the database is not this wagepayd.s.*--migrate' "$T/start-changed.log"
$PSQL -d fresh -c "UPDATE schema_migration SET checksum = '$(sha256sum "$MIG/005_console.sql" | cut -c1-64)' WHERE version = '005_console.sql'"
$PSQL -d fresh -c "INSERT INTO schema_migration (version, checksum) VALUES ('999_future.sql', repeat('a', 64))"
"$WAGEPAYD" -f "$T/fresh.conf" --migrate >"$T/future.log" 2>&1
check_eq "--migrate refuses a database with a migration it does not carry" "$?" 1
check "saying the database is newer" grep -q 'migration 999_future.sql, which this wagepayd does not carry' "$T/future.log"
"$WAGEPAYD" -f "$T/fresh.conf" >"$T/start-future.log" 2>&1
check_eq "so does the daemon" "$?" 1
check "saying the database is newer than the binary" grep -q '999_future.sql, which this wagepayd does not carry: the database is newer' "$T/start-future.log"
$PSQL -d fresh -c "DELETE FROM schema_migration WHERE version = '999_future.sql'"
$PSQL -d fresh -c "UPDATE schema_function_file SET checksum = repeat('1', 64) WHERE name = 'sheet.sql'"
"$WAGEPAYD" -f "$T/fresh.conf" >"$T/start-func.log" 2>&1
check_eq "the daemon refuses functions that are not its own" "$?" 1
check "naming the file and --migrate" grep -q 'functions file sheet.sql in the database is not this wagepayd.s.*run wagepayd -f FILE --migrate' "$T/start-func.log"

# --- upgrade: the world's data in a database at 020 as the last binary left it --
legacy_db legacy
# what 001..020 seeded is in the world's data too: emptied first (the
# immutability triggers refuse TRUNCATE, so they are left out as a restore does)
$PSQL -d legacy -c "SET session_replication_role = replica" -c "$($PSQL -d legacy -c \
    "SELECT 'TRUNCATE ' || string_agg(quote_ident(tablename), ', ') || ' CASCADE' FROM pg_tables
     WHERE schemaname = 'public' AND tablename <> 'schema_migration'")"
# only the tables and columns a database at 020 has: what later migrations
# add (021: legal_order.unfrozen, .frozen; 022: project.completed_on,
# deposit_return; 023: sheet.clock_at, .cancelled_at;
# 024: sheet_line.roster_version, roster_version; 025: payment orders, none for
# sheets paid before it) is theirs to fill on the upgrade,
# as it is on a bank's database
for t in $($PSQL -d legacy -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public'
    AND tablename NOT IN ('schema_migration', 'schema_function_file') ORDER BY 1"); do
	cols=$($PSQL -d legacy -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
	    FROM pg_attribute WHERE attrelid = 'public.$t'::regclass AND attnum > 0
	    AND NOT attisdropped AND attgenerated = ''")
	$PSQL -d wagepay -c "COPY (SELECT $cols FROM public.$t) TO STDOUT" |
	    $PSQL -d legacy -c "SET session_replication_role = replica" -c "COPY public.$t ($cols) FROM STDIN" ||
	    echo "# copying $t failed"
done
for sq in $($PSQL -d legacy -c "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"); do
	$PSQL -d legacy -c "SELECT setval('public.$sq', $($PSQL -d wagepay -c \
	    "SELECT last_value || ', ' || is_called FROM public.$sq"))" >/dev/null
done
check_eq "the data is in the database at 020" "$($PSQL -d legacy -c "SELECT count(*) FROM sheet")" 2
as_pg "$PGBIN/dropdb" -h "$PGDIR" -U wagepay wagepay
$PSQL -d postgres -c "ALTER DATABASE legacy RENAME TO wagepay"
"$WAGEPAYD" -f "$CONF" >"$T/start-legacy.log" 2>&1
check_eq "the daemon refuses a database at 020 not yet migrated by this binary" "$?" 1
check "and says to run --migrate" grep -q 'run wagepayd -f FILE --migrate' "$T/start-legacy.log"
"$WAGEPAYD" -f "$CONF" --migrate >"$T/upgrade.log" 2>&1
check_eq "--migrate upgrades it" "$?" 0
check_eq "running only the migrations after 020" "$(grep -c 'migration 0[01][0-9]_.* applied\|migration 020_.* applied' "$T/upgrade.log")" 0
check_eq "and recording the checksums of those applied before" \
    "$(q "SELECT count(*) FROM schema_migration WHERE checksum IS NULL")" 0
check_eq "the upgraded schema is this binary's" "$(dump wagepay | cmp -s - "$T/d.fresh" && echo same)" same
ledger_exact
check_eq "every audit chain verifies" "$(q 'SELECT ok FROM wp_audit_verify()')" t
daemon_start || { echo "Bail out! the daemon does not start on the upgraded database"; exit 1; }
gc GET /v1/sheets/SHEET-1 >"$T/s1.get"
check_eq "a sheet paid before the upgrade is answered as paid" "$(grpsts "$T/s1.get")" ACSC
deposit DEP-2 20000.00 >/dev/null
check_eq "a deposit after it pays the held sheet" "$(q "SELECT state FROM sheet WHERE msg_id = 'SHEET-HELD'")" PAID
{ line N1 4 1000.00; } >"$T/l3"
pay s3 SHEET-NEW 2026-10 1 <"$T/l3"
check_eq "and a new sheet is paid" "$(grpsts "$T/s3.pain002.xml")" ACSC
ledger_exact
check_eq "every audit chain still verifies" "$(q 'SELECT ok FROM wp_audit_verify()')" t
finish
