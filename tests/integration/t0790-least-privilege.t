#!/bin/sh
# Least privilege in the database (issue 22, part 2). --migrate runs as the
# schema's owner ([database] migrate_dsn) and grants the daemon's role (the
# user of [database] dsn) only EXECUTE of its entry points, which run as the
# owner (SECURITY DEFINER, search_path fixed), and SELECT of the schema's
# record and four columns of sheet. The role is refused a direct UPDATE of
# a balance, the DELETE of a ledger row, an INSERT into the ledger, reading
# roster_entry or operator, and calling a helper function; the daemon works
# end to end under it (a sheet paid, a deposit booked, the console). The
# list of entry points is the functions daemon/*.c calls, no more.
. "$(dirname "$0")/lib.sh"

DAEMON_ROLE=wagepayd_t0790
setup_world || { echo "Bail out! setup failed"; exit 1; }
export WAGEPAY_CLOCK=2026-11-05T10:00:00+08:00
daemon_stop && daemon_start || { echo "Bail out! restart"; exit 1; }

# as the daemon's role: psql's status and its error text in $T/role.err
as_role() {
	psql -h "$PGDIR" -U "$DAEMON_ROLE" -d wagepay -qAt -v ON_ERROR_STOP=1 \
	    -c "$1" >"$T/role.out" 2>"$T/role.err"
}
refused() { # DESCRIPTION SQL
	if as_role "$2"; then not_ok "$1"; diag "it ran: $2"
	elif grep -q 'permission denied' "$T/role.err"; then ok "$1"
	else not_ok "$1"; diag "$(cat "$T/role.err")"; fi
}

check "--migrate says what it granted" \
    grep -q "the daemon's role $DAEMON_ROLE may call [0-9]* functions" "$T/wagepayd.log"
check_eq "the daemon's role is no superuser and owns nothing" \
    "$(q "SELECT rolsuper::text || ':' || (SELECT count(*) FROM pg_class c
        WHERE c.relowner = r.oid) FROM pg_roles r WHERE rolname = '$DAEMON_ROLE'")" "false:0"

# --- the daemon works under it -----------------------------------------------
check "a maker proposes and a checker approves the project" open_project
check "the roster is accepted" roster_demo 6
deposit DEP-1 10000.00 >/dev/null
check_eq "a deposit is booked" "$(status)" 200
{ line E1 0 3000.00; line E2 1 2500.00; } >"$T/l1"
sheet s1 --msg-id LP-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
submit s1
check_eq "a sheet is paid: ACSC" "$(grpsts "$T/s1.pain002.xml")" ACSC
check_eq "the balance is the deposit less the lines" "$(balance)" $((1000000 - 300000 - 250000))
gc GET /v1/sheets/LP-1 >"$T/s1.get.xml"
check_eq "GET of the sheet: 200" "$(status)" 200
console_login viewer1 viewer-password-1 >/dev/null
console viewer1 GET "/api/projects/$PROJECT" >"$T/proj.json"
check_eq "the console reads the project" "$(status)" 200
check_eq "with its balance" "$(json account.balance <"$T/proj.json")" 4500.00
console viewer1 GET /api/audit/verify >"$T/verify.json"
check_eq "the audit chains verify" "$(json ok <"$T/verify.json")" True
curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$OPORT/metrics" >"$T/status"
check_eq "/metrics answers" "$(status)" 200
check "the daemon logged no permission error" sh -c "! grep -q 'permission denied' '$T/wagepayd.log'"

# --- the role is refused everything else -------------------------------------
refused "UPDATE account SET balance: refused" \
    "UPDATE account SET balance = balance + 100000000 WHERE number = '$ACCOUNT'"
check_eq "and the balance is unchanged" "$(balance)" 450000
refused "DELETE of a ledger row (transfer): refused" \
    "DELETE FROM transfer WHERE id = (SELECT min(id) FROM transfer)"
refused "INSERT into the ledger: refused" \
    "INSERT INTO transfer (debit_account, credit_account, amount, reason) SELECT 1, 2, 1, 'WAGE'"
refused "UPDATE of a sheet's state: refused" "UPDATE sheet SET state = 'HELD'"
refused "reading the roster (ID and card numbers): refused" "SELECT * FROM roster_entry LIMIT 1"
refused "reading a sheet's lines: refused" "SELECT * FROM sheet_line LIMIT 1"
refused "reading operators' password hashes: refused" "SELECT password_hash FROM operator"
refused "reading sessions: refused" "SELECT * FROM operator_session"
refused "a sheet column beyond the four granted: refused" "SELECT ctrl_sum FROM sheet"
refused "calling a helper that is no entry point: refused" \
    "SELECT wp_audit_append('x', 'y', 'z', 'w')"
refused "adding an operator (--add-operator is the owner's): refused" \
    "SELECT wp_operator_add('evil', 'admin', 'x', NULL)"
refused "a checker's approval by hand (wp_approval_decide): refused" \
    "SELECT * FROM wp_approval_decide(1, 1, 'approve')"
refused "re-granting itself: refused" "SELECT wp_grant_daemon('$DAEMON_ROLE')"
refused "creating a table in the schema: refused" "CREATE TABLE evil (x int)"
refused "creating a function that could shadow one: refused" \
    "CREATE FUNCTION wp_yuan(p bigint) RETURNS text LANGUAGE sql AS 'SELECT ''0'''"
check "what it may read: the schema's record" as_role "SELECT count(*) FROM schema_migration"
check "and sheet's four columns" as_role "SELECT id, contractor_uscc, msg_id, state FROM sheet"

# --- the entry points: SECURITY DEFINER, search_path fixed --------------------
check_eq "every entry point runs as the owner with a fixed search_path" \
    "$(q "SELECT count(*) FROM pg_proc WHERE proname = ANY (wp_daemon_entry_points())
        AND (NOT prosecdef OR NOT 'search_path=public, pg_temp' = ANY (proconfig))")" 0
check_eq "no other wp_ function does (helpers stay inlinable)" \
    "$(q "SELECT count(*) FROM pg_proc WHERE proname LIKE 'wp\_%' AND prosecdef
        AND NOT proname = ANY (wp_daemon_entry_points())")" 0
check_eq "PUBLIC may call no wp_ function" \
    "$(q "SELECT count(*) FROM pg_proc WHERE proname LIKE 'wp\_%'
        AND has_function_privilege('public', oid, 'EXECUTE')")" 0
# the entry points are exactly what daemon/*.c calls (operator.c's
# wp_operator_add is the owner's, migrate.c's wp_grant_daemon too)
grep -oh 'wp_[a-z_0-9]*(' "$TOP"/daemon/*.c | tr -d '(' | sort -u |
    grep -vx 'wp_operator_add\|wp_grant_daemon' >"$T/called"
q "SELECT unnest(wp_daemon_entry_points()) ORDER BY 1" >"$T/granted"
LC_ALL=C sort -o "$T/called" "$T/called"; LC_ALL=C sort -o "$T/granted" "$T/granted"
check "the entry points are the functions daemon/*.c calls" cmp -s "$T/called" "$T/granted"
cmp -s "$T/called" "$T/granted" || diag "$(diff "$T/called" "$T/granted")"

# --- --migrate again converges; a role that is the owner's is refused ---------
q "GRANT SELECT ON roster_entry TO $DAEMON_ROLE" >/dev/null
check "--migrate again" "$WAGEPAYD" -f "$CONF" --migrate
refused "a privilege granted by hand is revoked by the next --migrate" \
    "SELECT * FROM roster_entry LIMIT 1"
q "CREATE ROLE t0790_member LOGIN IN ROLE wagepay" >/dev/null
sed "s|^dsn = .*|dsn = host=$PGDIR dbname=wagepay user=t0790_member|" "$CONF" >"$T/member.conf"
"$WAGEPAYD" -f "$T/member.conf" --migrate >"$T/member.log" 2>&1
check_eq "--migrate refuses a daemon role that is a member of the owner" "$?" 1
check "saying why" grep -q 'is a superuser or a member of the schema owner' "$T/member.log"
sed "s|^dsn = .*|dsn = host=$PGDIR dbname=wagepay user=nobody_here|" "$CONF" >"$T/none.conf"
"$WAGEPAYD" -f "$T/none.conf" --migrate >"$T/none.log" 2>&1
check_eq "--migrate refuses a daemon role it cannot connect as" "$?" 1
check "saying which connection" grep -q "could not connect as the daemon's role (\[database\] dsn)" "$T/none.log"
check_eq "the daemon still runs" "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$OPORT/healthz")" 200

ledger_exact
finish
