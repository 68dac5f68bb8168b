#!/bin/sh
# The day-based rules judge a project-month again only when it falls due or
# what it reads changed (schema/013_rules_scale.sql), and raise exactly what
# 007's rules raised. At every step the rules run twice on the same state:
# 007's per-project loop (kept here as t_rules_007) in a transaction rolled
# back, then wp_rules_run, committed; the alerts and alert_condition rows
# they leave must be the same. In between, what could make a remembered
# truth stale happens through the daemon's real paths: wages paid, a wage
# returned, a BACKPAY, roster uploads (a new worker, a changed entry date,
# the same roster again), a deposit, the clock moving on and back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

# the daemon's own runs (one a second after each start) raise nothing: at
# 2026-01-10 nothing is due, and the clock moves on only after a step judged
# what is due then (below); the steps choose the day
export WAGEPAY_RULES_INTERVAL=86400 WAGEPAY_CLOCK=2026-01-10T09:00:00+08:00
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "4 workers rostered (2 per subcontractor)" roster_demo 4
deposit DEP-1 20000.00 >/dev/null

REGS='[{"name":"zz-hrss","region":"4101","authority":"hrss"}]'

# 007's wp_rules_run, as it was: every active project, every run (and the
# guarantee's rules, added by 030, as they are).
q "CREATE FUNCTION t_rules_007(p_now timestamptz, p_regs json) RETURNS int LANGUAGE plpgsql AS \$\$
DECLARE v_proj bigint; v_n int := 0;
BEGIN
	FOR v_proj IN SELECT p.id FROM project p JOIN account a ON a.id = p.account_id
	    WHERE p.state = 'ACTIVE' AND a.state = 'OPEN' ORDER BY p.id LOOP
		v_n := v_n + wp_rule_deposit_short(v_proj, p_now);
		v_n := v_n + wp_rule_wages_overdue(v_proj, p_now);
	END LOOP;
	RETURN v_n + wp_rule_accounts_opened(p_now, p_regs)
		-- the wage guarantee's rules (030) came after 007 and were
		-- never incremental: both sides run them as they are
		+ wp_rule_guarantee(p_now) + wp_rule_guarantees_ledger(p_now, p_regs);
END \$\$"

# what a run leaves behind, ids aside
DUMP="SELECT kind, project_id, recipient, raised_at, balance, required, shortfall, month, detail, dedup_key FROM alert ORDER BY dedup_key;
SELECT key, active, occurrences, changed_at FROM alert_condition ORDER BY key;"

# step NAME P_NOW: 007's rules (rolled back), then 013's (kept), at P_NOW.
step() {
	psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 >"$T/ref" 2>&1 <<EOF
BEGIN;
SELECT 'raised', t_rules_007('$2', '$REGS');
$DUMP
ROLLBACK;
EOF
	psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 >"$T/new" 2>&1 <<EOF
BEGIN;
SELECT 'raised', wp_rules_run('$2', '$REGS');
$DUMP
COMMIT;
EOF
	if cmp -s "$T/ref" "$T/new"; then ok "$1: the same alerts and conditions as 007's rules"
	else not_ok "$1: the same alerts and conditions as 007's rules"; diff "$T/ref" "$T/new" | sed 's/^/# /'; fi
	RAISED=$(sed -n 's/^raised|//p' "$T/new")
}
# judged P_NOW: how many project-months a run at P_NOW would judge again
judged() { q "BEGIN; SELECT wp_rule_wages_judge('$1'); ROLLBACK;" | grep -v '^$'; }
wo() { q "SELECT count(*) FROM alert WHERE kind = 'WAGES_OVERDUE' AND month = '2026-10-01'"; }
cond() { q "SELECT CASE WHEN active THEN 't' ELSE 'f' END || '/' || occurrences FROM alert_condition WHERE key LIKE '$1:%:2026-10'"; }

# --- 2026-10 falls due ---------------------------------------------------------
# The sheets pay 2026-10 (and 2026-11), confirmed on the 1st of the next month:
# the daemon's clock must be past both (WP07, WP08, WP09). It is moved to
# 2026-11-10T09:00, the first step's time, after that step: the daemon's own
# run a second after its restart then finds what the step judged unchanged
# (the sheet pays 2026-10, not due before 2026-11-16) and raises nothing. A
# restart before the first step would raise that step's alerts in the daemon,
# with no 007 run to compare them with.
step "before the pay day" 2026-11-10T09:00:00+08:00
check_eq "nothing due for 2026-10 yet" "$(wo)" 0
before=$(q "SELECT count(*) || '/' || (SELECT string_agg(key || '=' || active || '/' || occurrences || '@' || changed_at, ' ' ORDER BY key) FROM alert_condition) FROM alert")
restart_daemon WAGEPAY_CLOCK=2026-11-10T09:00:00+08:00
{ line P1 0 3000.00; line P2 1 3100.00; } >"$T/l1"
pay s1 SHEET-1 2026-10 1 <"$T/l1"
check_eq "subcontractor one pays its two workers for 2026-10" "$(grpsts "$T/s1.pain002.xml")" ACSC
sleep 2
check_eq "the daemon's run at its new clock changed no alert or condition" \
    "$(q "SELECT count(*) || '/' || (SELECT string_agg(key || '=' || active || '/' || occurrences || '@' || changed_at, ' ' ORDER BY key) FROM alert_condition) FROM alert")" "$before"
step "the day after the pay day" 2026-11-16T09:00:00+08:00
check_eq "WAGES_OVERDUE for 2026-10 raised" "$(wo)" 1
check_eq "and DEPOSIT_SHORT" "$(cond DEPOSIT_SHORT)" t/1
check_eq "nothing changed: a run judges nothing again" "$(judged 2026-11-16T09:01:00+08:00)" 0
step "a second run" 2026-11-16T09:01:00+08:00
check_eq "a second run raises nothing" "$RAISED" 0

# --- paid, returned, paid again ------------------------------------------------
{ line2 Q1 0 3000.00; line2 Q2 1 3100.00; } >"$T/l2"
pay s2 SHEET-2 2026-10 2 <"$T/l2"
check_eq "subcontractor two pays its two workers" "$(grpsts "$T/s2.pain002.xml")" ACSC
check_eq "the paid sheet makes 2026-10 be judged again" "$(judged 2026-11-16T10:00:00+08:00)" 1
step "all paid" 2026-11-16T10:00:00+08:00
check_eq "the condition clears" "$(cond WAGES_OVERDUE)" f/1
wage_return RET-1 Q2 3100.00 >/dev/null
check_eq "a paid line comes back" "$(xval '/*/@outcome' "$T/body")" APPLIED
check_eq "the returned line makes 2026-10 be judged again" "$(judged 2026-11-16T11:00:00+08:00)" 1
step "a wage returned" 2026-11-16T11:00:00+08:00
check_eq "the worker is unpaid again: raised a second time" "$(cond WAGES_OVERDUE)" t/2
check_eq "naming 1 of 4" "$(q "SELECT count(*) FROM alert WHERE dedup_key LIKE 'WAGES_OVERDUE:%:2026-10:2' AND detail LIKE '1 of 4 %'")" 1
line2 Q3 1 3100.00 BACKPAY >"$T/l3"
pay s3 SHEET-3 2026-10 2 <"$T/l3"
check_eq "the returned wage is paid again as BACKPAY" "$(grpsts "$T/s3.pain002.xml")" ACSC
step "paid again" 2026-11-16T12:00:00+08:00
check_eq "the condition clears again" "$(cond WAGES_OVERDUE)" f/2

# --- the next month's wages do not touch 2026-10 -------------------------------
# the daemon's clock is on 2026-11-10: the worker confirmed this month's
# wages that morning (not on 2026-12-01, mksheet's default: WP09)
{ line N1 0 100.00; } >"$T/l4"
sheet s4 --msg-id SHEET-4 --sub "$SUB1_USCC" --month 2026-11 \
    --confirmed 2026-11-10T08:00:00+08:00 <"$T/l4"
submit s4
check_eq "a sheet for 2026-11 is paid" "$(grpsts "$T/s4.pain002.xml")" ACSC
check_eq "2026-10 is not judged again for it" "$(judged 2026-11-16T13:00:00+08:00)" 0
step "another month paid" 2026-11-16T13:00:00+08:00

# --- the roster changes ----------------------------------------------------------
new_worker() {	# ENTERED: worker 91 of subcontractor one, entered that day
	printf '%s\t%s\t%s\t%s\t%s\t2026-02-20\t%s\n' "$(python3 "$TOOLS/wpids.py" id 91)" \
	    "新工人" "$SUB1_USCC" "$(python3 "$TOOLS/wpids.py" card 91)" "$(worker 0 cardbank)" "$1" >"$T/w5"
	python3 "$TOOLS/mkroster" --project "$PROJECT" --sub "$SUB1_USCC:$SUB1_NAME" <"$T/w5" >"$T/r5.xml"
	gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r5.xml" >"$T/rr5.xml"
	[ "$(xval '/*/@accepted' "$T/rr5.xml")" = 1 ]
}
check "a worker who entered on 2026-10-20 is rostered" new_worker 2026-10-20
step "a worker added" 2026-11-16T14:00:00+08:00
check_eq "the new worker was on site and unpaid: raised a third time" "$(cond WAGES_OVERDUE)" t/3
check_eq "naming 1 of 5" "$(q "SELECT count(*) FROM alert WHERE dedup_key LIKE 'WAGES_OVERDUE:%:2026-10:3' AND detail LIKE '1 of 5 %'")" 1
check "the same worker, entered on 2026-11-02 after all" new_worker 2026-11-02
step "an entry date moved" 2026-11-16T15:00:00+08:00
check_eq "not on site in 2026-10: the condition clears" "$(cond WAGES_OVERDUE)" f/3
v=$(q "SELECT version FROM rule_roster_version")
check "the same roster again" new_worker 2026-11-02
check_eq "changes nothing the rules read" "$(q "SELECT version FROM rule_roster_version")" "$v"
check_eq "and 2026-10 is not judged again" "$(judged 2026-11-16T16:00:00+08:00)" 0
step "the same roster again" 2026-11-16T16:00:00+08:00
check_eq "raising nothing" "$RAISED" 0

# --- a deposit, and the clock ----------------------------------------------------
DEPOSIT_DATE=2026-10-30 deposit DEP-2 9980000.00 >/dev/null
step "the owner deposits the plan" 2026-11-16T17:00:00+08:00
check_eq "DEPOSIT_SHORT for 2026-10 clears" "$(cond DEPOSIT_SHORT)" f/1
step "the first of the next month" 2026-12-01T00:30:00+08:00
step "the day of the next pay day" 2026-12-15T23:59:00+08:00
step "the day after it" 2026-12-16T00:00:00+08:00
step "a month later" 2027-01-16T09:00:00+08:00
step "after the contract" 2027-02-16T09:00:00+08:00
step "the clock set back" 2026-11-20T09:00:00+08:00
step "and a run after that" 2026-11-20T09:01:00+08:00
check_eq "which raises nothing" "$RAISED" 0
ledger_exact
finish
