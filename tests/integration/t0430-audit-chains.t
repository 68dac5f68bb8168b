#!/bin/sh
# The audit trail as one hash chain per dedicated account (011): records of
# two accounts land in two chains and the rest in 'global'; a sheet paid on
# one account does not wait for a transaction still open on another (the
# single audit_head row made every paid sheet queue on it); each chain is
# tamper-evident on its own, and verify names the first broken record and
# its chain (an edited record, a removed newest record, a record moved to
# another chain with the heads made to match).
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project || { echo "Bail out! could not open the project"; exit 1; }
roster_demo 12 || { echo "Bail out! roster refused"; exit 1; }
console_login viewer1 viewer-password-1 >/dev/null

# A second project of the same general contractor, with the same workers.
B=ACC-CHAIN-B
pid=$(console maker1 POST /api/projects "{\"code\":\"P-CHAIN-B\",\"name\":\"工程 B\",\"region\":\"$REGION\",\"industry\":\"$INDUSTRY\",\"owner\":{\"uscc\":\"$OWNER_USCC\",\"name\":\"$OWNER_NAME\"},\"contractor\":{\"uscc\":\"$GC_USCC\",\"name\":\"$GC_NAME\"},\"account\":\"$B\",\"labour_cost_total\":\"120000.00\",\"contract_months\":12,\"start_month\":\"2026-01\",\"pay_day\":15}" | json approval)
console checker1 POST "/api/approvals/$pid" '{"decision":"approve"}' >/dev/null
check_eq "a second project is opened" "$(status)" 200
python3 "$TOOLS/mkroster" --project P-CHAIN-B --demo 12 >"$T/rb.xml"
gc POST /v1/projects/P-CHAIN-B/roster --data-binary @"$T/rb.xml" -H 'Content-Type: application/xml' >/dev/null
check_eq "its roster is accepted" "$(status)" 200

A=$ACCOUNT
CA="account:$A"
CB="account:$B"
# deposit_to ACCOUNT REF AMOUNT
deposit_to() { save=$ACCOUNT; ACCOUNT=$1; deposit "$2" "$3" >/dev/null; ACCOUNT=$save; }
# pay NAME ACCOUNT MSGID < lines: a signed sheet of that account, submitted
pay() { sheet "$1" --account "$2" --msg-id "$3" --sub "$SUB1_USCC" --month 2026-10 && submit "$1"; }
chain_of() { q "SELECT string_agg(DISTINCT chain, ',') FROM audit WHERE $1"; }

# --- (a) two accounts, two chains ---------------------------------------------
deposit_to "$A" DEP-A1 5000.00
deposit_to "$B" DEP-B1 5000.00
{ line A1 0 1000.00; line A2 1 1000.00; } | pay a1 "$A" CHAIN-A-1
check_eq "a sheet on A is paid" "$(grpsts "$T/a1.pain002.xml")" ACSC
{ line B1 0 1000.00; line B2 1 1000.00; } | pay b1 "$B" CHAIN-B-1
check_eq "a sheet on B is paid" "$(grpsts "$T/b1.pain002.xml")" ACSC
check_eq "A's sheet is in A's chain" "$(chain_of "object = 'sheet:CHAIN-A-1'")" "$CA"
check_eq "B's sheet is in B's chain" "$(chain_of "object = 'sheet:CHAIN-B-1'")" "$CB"
check_eq "deposits are in their account's chain" \
    "$(q "SELECT string_agg(chain, ',' ORDER BY id) FROM audit WHERE action = 'deposit.booked'")" "$CA,$CB"
check_eq "each account's chain starts with its opening" \
    "$(q "SELECT string_agg(DISTINCT action, ',') FROM audit a WHERE a.chain IN ('$CA', '$CB') AND a.id = (SELECT min(id) FROM audit b WHERE b.chain = a.chain) AND a.prev_hash = sha256(''::bytea)")" \
    account.opened
# a manual movement between the two accounts is refused (WP60: never in
# favour of another dedicated account): its decision is in 'global' only.
# A deposit returned by hand to its payer, decided as of a day before the
# plans start (nothing owed yet), is one record in its account's chain.
apid=$(q "INSERT INTO approval (kind, payload, maker_id) SELECT 'MANUAL_MOVEMENT', '{\"from\":\"$A\",\"to\":\"$B\",\"amount\":\"1.00\",\"amount_fen\":100,\"reason\":\"test\"}', id FROM operator WHERE name = 'maker1' RETURNING id")
check_eq "a movement from A to B is refused" \
    "$(q "SELECT state FROM wp_console_decide($apid, (SELECT id FROM operator WHERE name = 'checker1'), 'approve', '2025-12-01')")" FAILED
check_eq "for WP60" "$(q "SELECT left(outcome, 4) FROM approval WHERE id = $apid")" WP60
rpid=$(q "INSERT INTO approval (kind, payload, maker_id) SELECT 'MANUAL_MOVEMENT', wp_console_move_payload('{\"deposit\":\"DEP-A1\",\"amount_fen\":100,\"amount\":\"1.00\",\"reason\":\"test\"}'), id FROM operator WHERE name = 'maker1' RETURNING id")
check_eq "a return of 1.00 of A's deposit is approved" \
    "$(q "SELECT state FROM wp_console_decide($rpid, (SELECT id FROM operator WHERE name = 'checker1'), 'approve', '2025-12-01')")" APPROVED
check_eq "it is recorded in A's chain" \
    "$(q "SELECT string_agg(chain, ',' ORDER BY id) FROM audit WHERE action = 'money.manual'")" "$CA"
check_eq "sign-ins, approvals and rosters are in 'global'" \
    "$(chain_of "action LIKE 'session.%' OR action LIKE 'approval.%' OR action IN ('roster.upload', 'operator.added')")" global
check_eq "three chains, each head on its newest record" \
    "$(q "SELECT count(*) FROM audit_head h WHERE h.last_id = (SELECT max(id) FROM audit a WHERE a.chain = h.chain) AND h.hash = (SELECT hash FROM audit WHERE id = h.last_id)")" 3
console viewer1 GET /api/audit/verify >"$T/v1"
check_eq "verify: ok" "$(json ok <"$T/v1")" True
check_eq "verify: every record" "$(json records <"$T/v1")" "$(q 'SELECT count(*) FROM audit')"
check_eq "verify: three chains" "$(json chains <"$T/v1")" 3
check_eq "verify per chain: all ok" \
    "$(q "SELECT string_agg(chain || '=' || ok, ' ' ORDER BY chain) FROM wp_audit_verify_chains()")" \
    "$CA=true $CB=true global=true"
console viewer1 GET /api/audit >"$T/list"
check_eq "the console's list shows each record's chain" "$(json 0.chain <"$T/list")" \
    "$(q 'SELECT chain FROM audit ORDER BY id DESC LIMIT 1')"

# --- (c) a transaction open on A does not hold up a sheet on B ------------------
{ line A3 2 4000.00; line A4 3 4000.00; } | pay a2 "$A" CHAIN-A-2
check_eq "a sheet on A is held" "$(grpsts "$T/a2.pain002.xml")" PDNG
{ line B3 2 4000.00; line B4 3 4000.00; } | pay b2 "$B" CHAIN-B-2
check_eq "a sheet on B is held" "$(grpsts "$T/b2.pain002.xml")" PDNG

# the holder: a deposit on A that pays A's held sheet, its transaction left open
mkfifo "$T/hold"
psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 <"$T/hold" >"$T/hold.out" 2>&1 &
HOLD_PID=$!
exec 7>"$T/hold"
echo "SET application_name = 'holder'; BEGIN; SELECT outcome, message FROM wp_core_deposit('HOLD-A', '$A', 600000, '2026-10-06', 'owner', '');" >&7
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder' AND state = 'idle in transaction' AND query LIKE '%wp_core_deposit%'")" = 1 ] && break
	sleep 0.1
done
check_eq "the holder paid A's held sheet and keeps its transaction open" \
    "$(q "SELECT state FROM pg_stat_activity WHERE application_name = 'holder'")" "idle in transaction"
psql -h "$PGDIR" -U wagepay -d wagepay -qAt -c "SET lock_timeout = '300ms'" \
    -c "SELECT 1 FROM audit_head WHERE chain = '$CA' FOR UPDATE" >/dev/null 2>"$T/probe.err"
check "the holder holds A's chain head" grep -q 'lock timeout' "$T/probe.err"

psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 -c "SET lock_timeout = '5s'" \
    -c "SELECT outcome || ': ' || message FROM wp_core_deposit('DEP-B2', '$B', 600000, '2026-10-06', 'owner', '')" \
    >"$T/b2.out" 2>&1
check_eq "meanwhile a deposit on B pays B's held sheet (no lock wait)" "$(cat "$T/b2.out")" \
    "APPLIED: credited; 1 held sheet(s) paid"
check_eq "B's held sheet is paid and committed" "$(q "SELECT state FROM sheet WHERE msg_id = 'CHAIN-B-2'")" PAID
line B5 4 100.00 >"$T/l-b3"
sheet b3 --account "$B" --msg-id CHAIN-B-3 --sub "$SUB1_USCC" --month 2026-10 <"$T/l-b3"
gc POST /v1/sheets --data-binary @"$T/b3.xml" -H 'Content-Type: application/xml' --max-time 15 >"$T/b3.pain002.xml"
check_eq "meanwhile a sheet on B through the daemon is paid" "$(grpsts "$T/b3.pain002.xml")" ACSC
console_login checker1 checker-password-1 >/dev/null
check_eq "meanwhile a sign-in (the 'global' chain) goes through" "$(status)" 200
check_eq "A's held sheet is not paid for anyone else yet" "$(q "SELECT state FROM sheet WHERE msg_id = 'CHAIN-A-2'")" HELD

echo "COMMIT;" >&7
exec 7>&-
wait "$HOLD_PID"
check "the holder commits" grep -q 'APPLIED|credited; 1 held sheet(s) paid' "$T/hold.out"
check_eq "A's held sheet is paid" "$(q "SELECT state FROM sheet WHERE msg_id = 'CHAIN-A-2'")" PAID
check_eq "the chains still verify" "$(q 'SELECT ok FROM wp_audit_verify()')" t
ledger_exact

# --- (b) tampering is found, in the right chain ---------------------------------
tamper() { q "ALTER TABLE audit DISABLE TRIGGER audit_immutable; $1; ALTER TABLE audit ENABLE TRIGGER audit_immutable" >/dev/null; }
broken() { q "SELECT string_agg(chain || '@' || first_broken, ' ' ORDER BY chain) FROM wp_audit_verify_chains() WHERE NOT ok"; }

victim=$(q "SELECT id FROM audit WHERE object = 'sheet:CHAIN-B-1'")
tamper "UPDATE audit SET detail = detail || ' (edited)' WHERE id = $victim"
console viewer1 GET /api/audit/verify >"$T/v2"
check_eq "an edited record of B breaks the trail" "$(json ok <"$T/v2")" False
check_eq "verify names it" "$(json first_broken <"$T/v2")" "$victim"
check_eq "and its chain" "$(json broken_chain <"$T/v2")" "$CB"
check_eq "only B's chain is broken" "$(broken)" "$CB@$victim"

newest_a=$(q "SELECT max(id) FROM audit WHERE chain = '$CA'")
tamper "DELETE FROM audit WHERE id = $newest_a"
check_eq "A's newest record removed: A's chain names it" "$(broken)" "$CA@$newest_a $CB@$victim"

moved=$(q "SELECT max(id) FROM audit WHERE chain = 'global'")
tamper "UPDATE audit SET chain = 'account:ZZ' WHERE id = $moved; INSERT INTO audit_head (chain, hash, last_id) SELECT 'account:ZZ', hash, id FROM audit WHERE id = $moved; UPDATE audit_head h SET hash = a.hash, last_id = a.id FROM audit a WHERE h.chain = 'global' AND a.id = (SELECT max(id) FROM audit WHERE chain = 'global')"
check_eq "a record moved to another chain, heads made to match: its hash names its chain" \
    "$(broken)" "$CA@$newest_a $CB@$victim account:ZZ@$moved"
check_eq "verify's first broken record is the lowest" "$(q 'SELECT first_broken FROM wp_audit_verify()')" \
    "$(printf '%s\n' "$victim" "$newest_a" "$moved" | sort -n | head -1)"
q "UPDATE audit SET detail = 'x' WHERE id = $victim" >/dev/null 2>&1
check "the trigger refuses updates again" test $? -ne 0

finish
