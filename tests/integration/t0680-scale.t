#!/bin/sh
# What a request costs grows with the request, not with the bank
# (schema/014_scale.sql): the plans the statement, a sheet's status, a
# returned payment, a seizure, the console's open alerts, pending
# approvals, a project's approvals, the audit trail's older pages, the
# alert backlog and /metrics really run (auto_explain, nested statements)
# use an index where one can serve. The tables here are tiny, so the
# planner is told to avoid sequential scans (what the bank's table sizes
# make it do): what is checked is that an index can serve. And the answers
# are those of before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

export WAGEPAY_RULES_INTERVAL=3600
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "the roster is accepted" roster_demo 4
deposit DEP-1 20000.00 >/dev/null
{ line E1 0 3000.00; line E2 1 2500.50; } >"$T/l1"
pay s1 SHEET-1 2026-10 1 <"$T/l1"
check_eq "a sheet is paid" "$(grpsts "$T/s1.pain002.xml")" ACSC
{ line E1 0 100.00; } >"$T/l2"
pay s2 SHEET-2 2026-09 1 <"$T/l2"
check_eq "a second sheet is paid" "$(grpsts "$T/s2.pain002.xml")" ACSC
wage_return RET-1 E2 2500.50 AC04 >/dev/null
check_eq "a wage line comes back" "$(q "SELECT count(*) FROM line_return")" 1
q "ANALYZE" >/dev/null

# explain SQL: SQL's plans, every nested statement's with actual rows,
# in a transaction rolled back.
explain() {
	{ explain_settings; cat; } <<EOF | psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 2>&1
BEGIN;
$1;
ROLLBACK;
EOF
}

# --- the contractor API and the core feed --------------------------------------------
ACC_ID=$(q "SELECT id FROM account WHERE number = '$ACCOUNT'")
today=$(q "SELECT wp_cst(now())::date")
st="SELECT * FROM wp_statement('$GC_USCC', '$ACCOUNT', date '$today' - 1, date '$today', 1000)"
explain "$st" >"$T/plan-st"
check "statement: the debits are read by account on transfer_debit" \
    grep -Eq "Index Cond: \(\(debit_account = '?$ACC_ID" "$T/plan-st"
check "statement: the credits are read by account on transfer_credit" \
    grep -Eq "Index Cond: \(\(credit_account = '?$ACC_ID" "$T/plan-st"
check "statement: no transfer is read but by an account's index" \
    sh -c "! grep -Eq 'Index Cond: \(\(?created_at|Seq Scan on transfer' '$T/plan-st'"
# The two ways of finding the opening balance (the history before the
# period, or the balance less what moved since) give the same statement,
# and its figures are the ledger's.
q "$st" >"$T/st-a"
for from in 1 2 3; do
	q "SELECT * FROM wp_statement('$GC_USCC', '$ACCOUNT', date '$today' - $from, date '$today' + 1, 1000)" >"$T/st-h$from"
	psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 >"$T/st-b$from" <<EOF
BEGIN;
UPDATE account SET opened_at = now() - interval '10 years' WHERE number = '$ACCOUNT';
SELECT * FROM wp_statement('$GC_USCC', '$ACCOUNT', date '$today' - $from, date '$today' + 1, 1000);
ROLLBACK;
EOF
done
check "statement: the same from the history as from the balance" \
    sh -c "cmp -s '$T/st-h1' '$T/st-b1' && cmp -s '$T/st-h2' '$T/st-b2' && cmp -s '$T/st-h3' '$T/st-b3'"
check_eq "statement: opening 0, closing the balance, one entry per transfer" \
    "$(head -1 "$T/st-a" | cut -d'|' -f3,4,6)" \
    "0|$(balance)|$(q "SELECT count(*) FROM transfer t WHERE $ACC_ID IN (t.debit_account, t.credit_account)")"
check_eq "statement: the entries are the account's transfers, in order" \
    "$(grep '^E|' "$T/st-a" | awk -F'|' '{ print $NF }' | tr '\n' ' ')" \
    "$(q "SELECT string_agg(id::text, ' ' ORDER BY id) || ' ' FROM transfer t WHERE $ACC_ID IN (t.debit_account, t.credit_account)")"
check_eq "statement: too many entries is still TOO_MANY with the figures" \
    "$(q "SELECT outcome, opening, closing, amount FROM wp_statement('$GC_USCC', '$ACCOUNT', date '$today' - 1, date '$today', 2)")" \
    "TOO_MANY|0|$(balance)|$(q "SELECT count(*) FROM transfer t WHERE $ACC_ID IN (t.debit_account, t.credit_account)")"

explain "SELECT * FROM wp_sheet_status('$GC_USCC', 'SHEET-1')" >"$T/plan-status"
check "sheet status: found by its MsgId on an index (the unique key, or 033's sheet_msg_id), not a scan" \
    grep -Eq 'Index Cond: \(.*msg_id = ' "$T/plan-status"
check_eq "sheet status: the same answer (and its line returned by RET-1, RJCT)" \
    "$(q "SELECT kind, outcome, state, end_to_end_id FROM wp_sheet_status('$GC_USCC', 'SHEET-1')" | tr '\n' ' ')" "S|REPLAY|PAID|SHEET-1 T|RJCT||E2 "
check_eq "sheet status: a contractor with a trailing blank finds nothing, as before" \
    "$(q "SELECT count(*) FROM wp_sheet_status('$GC_USCC ', 'SHEET-1')")" 0

# E1 is in both sheets: the line of the sheet paid last is the one
explain "SELECT * FROM wp_core_return('RET-2', '$ACCOUNT', 10000, date '2026-11-02', 'E1', 'AC04')" >"$T/plan-ret"
check "a returned payment: the account's paid sheets on their index" \
    grep -q 'using sheet_account_paid' "$T/plan-ret"
check "a returned payment: the line of the most recently paid sheet" \
    grep -q '^APPLIED||line E1 of SHEET-2 returned' "$T/plan-ret"

explain "SELECT * FROM wp_core_legal_order('LO-1', 'court', 'N1', 'SEIZE', '$ACCOUNT', 100, 'WAGES', '', timestamptz '2030-01-01')" >"$T/plan-lo"
check "a seizure: applied" grep -q '^APPLIED|' "$T/plan-lo"
check "a seizure: the ATTACHED account found by index" grep -q 'using account_attached' "$T/plan-lo"
check_eq "a seizure: no sequential scan of the accounts" "$(grep -c 'Seq Scan on account' "$T/plan-lo")" 0

# --- the console -----------------------------------------------------------------------
# Alerts delivered long ago, and one still open.
q "INSERT INTO alert (kind, project_id, detail, routed_at, raised_at)
   SELECT 'MISUSE_ATTEMPT', p.id, 'old ' || i, now(), now() - i * interval '1 minute'
   FROM project p, generate_series(1, 50) i" >/dev/null
q "INSERT INTO alert_delivery (alert_id, recipient, state, delivered_at)
   SELECT id, 'hrss', 'DELIVERED', now() FROM alert WHERE detail LIKE 'old %'" >/dev/null
open_alerts=$(q "SELECT count(*) FROM alert a WHERE a.routed_at IS NULL OR a.id IN
    (SELECT alert_id FROM alert_delivery WHERE state IN ('PENDING', 'NO_RECIPIENT'))")
check "there are open alerts and delivered ones" test "$open_alerts" -gt 0
q "ANALYZE" >/dev/null
explain "SELECT wp_console_alerts(false)" >"$T/plan-alerts"
check "open alerts: the deliveries without recipient on their partial index" \
    grep -q 'using alert_delivery_orphan' "$T/plan-alerts"
check "open alerts: the unrouted on their partial index" \
    grep -q 'using alert_unrouted' "$T/plan-alerts"
check_eq "open alerts: the same alerts" \
    "$(q "SELECT string_agg(e->>'id', ',' ORDER BY e->>'id') FROM json_array_elements(wp_console_alerts(false)) e")" \
    "$(q "SELECT string_agg(a.id::text, ',' ORDER BY a.id::text) FROM alert a WHERE a.routed_at IS NULL
        OR a.id IN (SELECT alert_id FROM alert_delivery WHERE state IN ('PENDING', 'NO_RECIPIENT'))")"
check_eq "all alerts: the newest 500, newest first" \
    "$(q "SELECT string_agg(e->>'id', ',') FROM json_array_elements(wp_console_alerts(true)) e")" \
    "$(q "SELECT string_agg(x.id::text, ',') FROM (SELECT id FROM alert ORDER BY raised_at DESC, id LIMIT 500) x")"
explain "SELECT wp_console_alert_backlog()" >"$T/plan-backlog"
check "alert backlog: the deliveries without recipient on their partial index" \
    grep -q 'using alert_delivery_orphan' "$T/plan-backlog"
check "alert backlog: the pending deliveries on their partial index" \
    grep -q 'using alert_delivery_due' "$T/plan-backlog"
check_eq "alert backlog: the same figures" \
    "$(q "SELECT (j->>'count') || ' ' || (j->>'unrouted') || ' ' || (j->'by_recipient')::text FROM wp_console_alert_backlog() j")" \
    "$open_alerts $(q "SELECT count(*) FROM alert WHERE routed_at IS NULL") $(q "SELECT coalesce(json_object_agg(recipient, n), '{}')::text FROM (SELECT recipient, count(*) AS n FROM alert_undelivered GROUP BY 1 ORDER BY 1) x")"

# Approvals decided long ago, one pending.
MAKER=$(q "SELECT id FROM operator WHERE name = 'maker1'")
CHECKER=$(q "SELECT id FROM operator WHERE name = 'checker1'")
q "INSERT INTO approval (kind, payload, maker_id, state, checker_id, decided_at, outcome)
   SELECT 'OPEN_ACCOUNT', jsonb_build_object('code', 'OLD-' || i, 'account', 'OLDACC' || i),
	$MAKER, 'APPROVED', $CHECKER, now(), 'opened' FROM generate_series(1, 300) i" >/dev/null
q "INSERT INTO approval (kind, payload, maker_id) VALUES ('MANUAL_MOVEMENT',
   jsonb_build_object('from', '$ACCOUNT', 'to', 'CLEARING-IN', 'amount_fen', 1), $MAKER)" >/dev/null
q "ANALYZE" >/dev/null
explain "SELECT wp_console_approvals(false)" >"$T/plan-appr"
check "pending approvals: on their partial index" grep -q 'using approval_pending' "$T/plan-appr"
check_eq "pending approvals: the one pending" \
    "$(q "SELECT json_array_length(wp_console_approvals(false)) || ' ' || (wp_console_approvals(false)->0->>'kind')")" \
    "1 MANUAL_MOVEMENT"
check_eq "all approvals: the newest 500" \
    "$(q "SELECT string_agg(e->>'id', ',') FROM json_array_elements(wp_console_approvals(true)) e")" \
    "$(q "SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM (SELECT id FROM approval ORDER BY id DESC LIMIT 500) x")"
explain "SELECT wp_console_project('$PROJECT', now())" >"$T/plan-proj"
check "a project's approvals: by code, from and to on their indexes" \
    sh -c "grep -q 'approval_code' '$T/plan-proj' && grep -q 'approval_from' '$T/plan-proj' && grep -q 'approval_to' '$T/plan-proj'"
check_eq "a project's approvals: its opening and the movement from its account" \
    "$(q "SELECT string_agg(e->>'kind', ',') FROM json_array_elements(wp_console_project('$PROJECT', now())->'approvals') e")" \
    "MANUAL_MOVEMENT,OPEN_ACCOUNT"

last=$(q "SELECT max(id) FROM audit")
explain "SELECT wp_console_audit($last - 2)" >"$T/plan-audit"
check "the audit trail's older page: an index range below p_before" \
    grep -Eq "Index Cond: \(id < " "$T/plan-audit"
check_eq "the audit trail's older page: the same records" \
    "$(q "SELECT string_agg(e->>'id', ',') FROM json_array_elements(wp_console_audit($last - 2)) e")" \
    "$(q "SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM (SELECT id FROM audit WHERE id < $last - 2 ORDER BY id DESC LIMIT 100) x")"
check_eq "the audit trail's first page: the newest records" \
    "$(q "SELECT string_agg(e->>'id', ',') FROM json_array_elements(wp_console_audit(NULL)) e")" \
    "$(q "SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM (SELECT id FROM audit ORDER BY id DESC LIMIT 100) x")"

explain "SELECT wp_console_metrics()" >"$T/plan-metrics"
check_eq "/metrics: the sheets read once" \
    "$(grep -Ec ' on sheet( [a-z_0-9]+)?  \(' "$T/plan-metrics")" 1
check_eq "/metrics: the same figures" \
    "$(q "SELECT (j->'sheets')::text || ' ' || (j->>'lines_paid') || ' ' || (j->>'fen_paid') || ' ' || (j->>'fen_held') FROM wp_console_metrics() j")" \
    "$(q "SELECT '{ \"received\" : 0, \"rejected\" : 0, \"held\" : 0, \"paid\" : ' || count(*) || ', \"cancelled\" : 0 }' FROM sheet WHERE state = 'PAID'") $(q "SELECT sum(accepted_count) || ' ' || sum(accepted_total) FROM sheet WHERE state = 'PAID'") 0"

ledger_exact
finish
