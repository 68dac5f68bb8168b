#!/bin/sh
# Every alert rule fires once per occurrence, with the right figures, to the
# right regulators, and every alert a regulator receives verifies with
# xmlsec1 and validates against proto/alert.xsd: BALANCE_SHORT,
# MISUSE_ATTEMPT (sheet lines), CARD_CONCENTRATION, CARD_CHANGED (to HRSS
# only), DEPOSIT_SHORT (the owner's deposits only: a contractor's top-up does
# not hide the owner's default),
# WAGES_OVERDUE (edge-triggered: it clears, and fires again after a
# return), the monthly ACCOUNTS_OPENED to each HRSS office, and a project
# no regulator covers (NO_RECIPIENT) routed once a SIGHUP adds one.
# The day-based rules run at WAGEPAY_CLOCK, every second.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

# Zhengzhou's HRSS office (4101) and housing authority (410183) cover the
# demo project (410183, housing); Kaifeng's HRSS office (4102) and Henan's
# transport authority (41) do not.
EXTRA_CONFIG=$(regulator_section zz-hrss 4101 hrss
	regulator_section zz-housing 410183 housing
	regulator_section kf-hrss 4102 hrss
	regulator_section ha-transport 41 transport)
export WAGEPAY_RULES_INTERVAL=1 WAGEPAY_ALERT_POLL_MS=200
# a day on which no month of the project is due yet
export WAGEPAY_CLOCK=2026-01-10T09:00:00+08:00
for r in zz-hrss zz-housing kf-hrss ha-transport; do fr_start $r || { echo "Bail out! regulator $r"; exit 1; }; done
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "4 workers rostered (2 per subcontractor)" roster_demo 4
deposit DEP-1 20000.00 >/dev/null

# kind_to NAME KIND: alerts of that kind the regulator acknowledged.
kind_to() {
	n=0
	for id in $(q "SELECT id FROM alert WHERE kind = '$2'"); do
		[ "$(fr_acked "$1" "$id")" -gt 0 ] && n=$((n + 1))
	done
	echo $n
}
# delivered KIND N: N deliveries of alerts of that kind acknowledged
delivered() { q_is "SELECT count(*) FROM alert_delivery d JOIN alert a ON a.id = d.alert_id WHERE a.kind = '$1' AND d.state = 'DELIVERED'" "$2"; }

# --- the sheets: paid at a clock after their months ------------------------
# A WAGE line may not be for a month after the daemon's (WP07), nor its
# confirmation dated after the daemon's clock (WP09): the sheets below, for
# 2026-10 and 2026-11 (confirmed on the 1st of the next month), are submitted
# with the clock at 2027-02-01. Not earlier: from 2026-10 to 2027-01 the rules
# (every second) would find some contract month's deposits short and raise a
# DEPOSIT_SHORT before the one the test looks at (2026-10's, after the top-up
# below). At 2027-02-01 the month that ended last is after the contract
# (2026-01..2026-12): no DEPOSIT_SHORT; they raise only a WAGES_OVERDUE for
# 2026-12 and the ACCOUNTS_OPENED reports for 2027-01, which no check below
# counts. The clock goes back to 2026-01-10 after the sheets.
restart_daemon WAGEPAY_CLOCK=2027-02-01T09:00:00+08:00

# --- BALANCE_SHORT: a sheet held for funds --------------------------------
{ line H1 0 15000.00; line H2 1 6000.50; } >"$T/l1"
sheet s1 --msg-id SHEET-HELD --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
submit s1
check_eq "a sheet larger than the balance is held (PDNG)" "$(grpsts "$T/s1.pain002.xml")" PDNG
check_eq "one BALANCE_SHORT alert, written with the held sheet" "$(q "SELECT count(*) FROM alert WHERE kind = 'BALANCE_SHORT'")" 1
check "it reaches both regulators of the project's region" wait_for 10 delivered BALANCE_SHORT 2
bs=$(alert_id BALANCE_SHORT)
f=$(fr_file zz-hrss "$bs")
check "the HRSS office's copy verifies (xmlsec1) and is valid (alert.xsd)" alert_ok "$f"
check_eq "BALANCE_SHORT: Balance" "$(xval "//*[local-name()='Balance']" "$f")" 20000.00
check_eq "BALANCE_SHORT: Required" "$(xval "//*[local-name()='Required']" "$f")" 21000.50
check_eq "BALANCE_SHORT: Shortfall" "$(xval "//*[local-name()='Shortfall']" "$f")" 1000.50
check_eq "BALANCE_SHORT: Month" "$(xval "//*[local-name()='Month']" "$f")" 2026-10
check_eq "BALANCE_SHORT: MsgId" "$(xval "//*[local-name()='MsgId']" "$f")" SHEET-HELD
check_eq "BALANCE_SHORT: project region" "$(xval "//*[local-name()='Region']" "$f")" "$REGION"
check_eq "BALANCE_SHORT: account" "$(xval "//*[local-name()='Account']" "$f")" "$ACCOUNT"
check_eq "the Id is the alert row's" "$(xval "//*[local-name()='Id']" "$f")" "$bs"
check_eq "the housing authority got the same alert once" "$(fr_count zz-housing "$bs")" 1
check_eq "posted with the bank's client certificate" "$(fr_log zz-hrss | awk -v id="$bs" '$3 == id {print $4}')" "$BANK_USCC"
check_eq "Kaifeng's office (another region) got nothing" "$(fr_count kf-hrss "$bs")" 0
check_eq "the transport authority (another industry) got nothing" "$(fr_count ha-transport "$bs")" 0
deposit DEP-2 20000.00 >/dev/null
gc GET /v1/sheets/SHEET-HELD >"$T/get1.xml"
check_eq "the deposit pays the held sheet" "$(grpsts "$T/get1.xml")" ACSC
check_eq "each paid line records the roster version it was checked against" "$(q "SELECT string_agg(coalesce(l.roster_version::text, '-'), ' ' ORDER BY l.seq) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'SHEET-HELD'")" "1 1"

# --- MISUSE_ATTEMPT: a line to someone off the roster ---------------------
printf 'M1\t%s\t%s\t%s\t%s\t100.00\tWAGE\n' "$(python3 "$TOOLS/wpids.py" id 77)" "无名氏" \
    "$(python3 "$TOOLS/wpids.py" card 77)" "$(worker 0 cardbank)" >"$T/l2"
sheet s2 --msg-id SHEET-MISUSE --sub "$SUB1_USCC" --month 2026-11 <"$T/l2"
submit s2
check_eq "the off-roster line is refused" "$(grpsts "$T/s2.pain002.xml")" RJCT
check "MISUSE_ATTEMPT reaches both regulators" wait_for 10 delivered MISUSE_ATTEMPT 2
mi=$(alert_id MISUSE_ATTEMPT)
f=$(fr_file zz-housing "$mi")
check "MISUSE_ATTEMPT verifies and is valid" alert_ok "$f"
check_eq "MISUSE_ATTEMPT names the line" "$(xval "//*[local-name()='EndToEndId']" "$f")" M1
check "MISUSE_ATTEMPT says why, with no full ID number" sh -c "grep -q 'WP01' '$f' && ! grep -q '$(python3 "$TOOLS/wpids.py" id 77)' '$f'"

restart_daemon WAGEPAY_CLOCK=2026-01-10T09:00:00+08:00

# --- CARD_CONCENTRATION: one card for several workers -----------------------
printf '%s\t%s\t%s\t%s\t%s\t2026-02-20\t2026-03-01\n' "$(python3 "$TOOLS/wpids.py" id 91)" \
    "包工头甲" "$SUB1_USCC" "$(worker 0 card)" "$(worker 0 cardbank)" >"$T/w3"
python3 "$TOOLS/mkroster" --project "$PROJECT" --sub "$SUB1_USCC:$SUB1_NAME" <"$T/w3" >"$T/r3.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r3.xml" >"$T/rr3.xml"
check_eq "the roster entry with another worker's card is refused" "$(xval '/*/@refused' "$T/rr3.xml")" 1
check "CARD_CONCENTRATION reaches both regulators" wait_for 10 delivered CARD_CONCENTRATION 2
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r3.xml" >/dev/null
check_eq "the same roster again raises nothing new" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CONCENTRATION'")" 1

# --- CARD_CHANGED: a worker's card swapped, to HRSS only ----------------------
printf '%s\t%s\t%s\t%s\t%s\t2026-02-20\t2026-03-01\n' "$(worker 0 id)" "$(worker 0 name)" \
    "$SUB1_USCC" "$(python3 "$TOOLS/wpids.py" card 92)" "$(worker 0 cardbank)" >"$T/w5"
python3 "$TOOLS/mkroster" --project "$PROJECT" --sub "$SUB1_USCC:$SUB1_NAME" <"$T/w5" >"$T/r5.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r5.xml" >"$T/rr5.xml"
check_eq "a worker's entry with a new card is accepted" "$(xval '/*/@accepted' "$T/rr5.xml")" 1
check_eq "one CARD_CHANGED alert, written with the upload" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'")" 1
check "CARD_CHANGED reaches the HRSS office" wait_for 10 delivered CARD_CHANGED 1
cc=$(alert_id CARD_CHANGED)
f=$(fr_file zz-hrss "$cc")
check "CARD_CHANGED verifies and is valid" alert_ok "$f"
check "CARD_CHANGED names the cards by their last digits, never in full" sh -c "grep -q 'card ending $(worker 0 card | rev | cut -c1-4 | rev)' '$f' && grep -q 'card ending $(python3 "$TOOLS/wpids.py" card 92 | rev | cut -c1-4 | rev)' '$f' && ! grep -q '$(worker 0 card)' '$f' && ! grep -q '$(worker 0 id)' '$f'"
check_eq "the housing authority does not get it" "$(fr_count zz-housing "$cc")" 0
check_eq "nor does it wait for one: HRSS only" "$(q "SELECT count(*) FROM alert_delivery WHERE alert_id = '$cc'")" 1
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r5.xml" >/dev/null
check_eq "the same entry again raises nothing new" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'")" 1

# --- DEPOSIT_SHORT: 2026-10's deposits below plan by its last day -----------
# plan: 12,000,000.00 over 12 months from 2026-01, 1,000,000.00 a month; the
# 40,000.00 deposited were booked 2026-10-05.
# The general contractor tops up the rest of the plan: recorded, spendable,
# and not counted against the owner's plan.
PAYER_USCC=$GC_USCC PAYER_NAME=$GC_NAME deposit TOP-1 9960000.00 >/dev/null
check_eq "the contractor's top-up is booked" "$(xval '/*/@outcome' "$T/body")" APPLIED
check_eq "with its payer" "$(q "SELECT payer_uscc FROM deposit WHERE entry_ref = 'TOP-1'")" "$GC_USCC"
restart_daemon WAGEPAY_CLOCK=2026-11-01T08:00:00+08:00
check "DEPOSIT_SHORT for 2026-10 is raised once, the top-up notwithstanding" wait_for 10 q_is "SELECT count(*) FROM alert WHERE kind = 'DEPOSIT_SHORT' AND month = '2026-10-01'" 1
check "DEPOSIT_SHORT reaches both regulators" wait_for 10 delivered DEPOSIT_SHORT 2
ds=$(alert_id DEPOSIT_SHORT)
f=$(fr_file zz-hrss "$ds")
check "DEPOSIT_SHORT verifies and is valid" alert_ok "$f"
check_eq "DEPOSIT_SHORT: Required (plan through 2026-10)" "$(xval "//*[local-name()='Required']" "$f")" 10000000.00
check_eq "DEPOSIT_SHORT: Shortfall" "$(xval "//*[local-name()='Shortfall']" "$f")" 9960000.00
check_eq "DEPOSIT_SHORT: Month" "$(xval "//*[local-name()='Month']" "$f")" 2026-10
check "DEPOSIT_SHORT: the Detail names the top-up apart, not counted" sh -c "grep -q 'top-ups by others (not the owner) 9960000.00, not counted' '$f'"
console_login viewer1 viewer-password-1 >/dev/null
console viewer1 GET "/api/projects/$PROJECT" >"$T/proj.json"
check_eq "the console's project page: the owner's deposits and the top-ups apart" "$(json plan_to_date.deposited <"$T/proj.json") $(json plan_to_date.topped_up <"$T/proj.json")" "40000.00 9960000.00"
sleep 3
check_eq "the condition stays true: no second DEPOSIT_SHORT after more runs" "$(q "SELECT count(*) FROM alert WHERE kind = 'DEPOSIT_SHORT'")" 1

# --- WAGES_OVERDUE: on site in 2026-10, unpaid after the pay day (15th) -------
# So far paid for 2026-10: workers 0 and 1 of subcontractor one (the held
# sheet); the two of subcontractor two are not.
restart_daemon WAGEPAY_CLOCK=2026-11-16T09:00:00+08:00
wo_count() { q "SELECT count(*) FROM alert WHERE kind = 'WAGES_OVERDUE' AND month = '2026-10-01'"; }
check "WAGES_OVERDUE for 2026-10 is raised" wait_for 10 q_is "SELECT count(*) FROM alert WHERE kind = 'WAGES_OVERDUE' AND month = '2026-10-01'" 1
wo=$(alert_id WAGES_OVERDUE "month = '2026-10-01'")
check "WAGES_OVERDUE reaches both regulators" wait_for 10 q_is "SELECT count(*) FROM alert_delivery WHERE alert_id = '$wo' AND state = 'DELIVERED'" 2
f=$(fr_file zz-hrss "$wo")
check "WAGES_OVERDUE verifies and is valid" alert_ok "$f"
detail=$(xval "//*[local-name()='Detail']" "$f")
check "WAGES_OVERDUE: 2 of 4 workers unpaid after 2026-11-15" sh -c "echo '$detail' | grep -q '^2 of 4 workers on site in 2026-10 unpaid after the pay day 2026-11-15'"
w2id=$(worker2 0 id)
check "WAGES_OVERDUE names them masked, never in full" sh -c "grep -q '$(echo "$w2id" | cut -c1-4)\*\*\*\*\*\*\*\*\*\*$(echo "$w2id" | cut -c15-18)' '$f' && ! grep -q '$w2id' '$f'"
sleep 2
check_eq "while they stay unpaid it does not fire again" "$(wo_count)" 1
{ line2 L1 0 3000.00; line2 L2 1 3100.00; } >"$T/l4"
pay s4 SHEET-SUB2 2026-10 2 <"$T/l4"
check_eq "subcontractor two pays its two workers" "$(grpsts "$T/s4.pain002.xml")" ACSC
check "the condition clears once all are paid" wait_for 10 q_is "SELECT active FROM alert_condition WHERE key LIKE 'WAGES_OVERDUE:%:2026-10'" f
check_eq "clearing raises nothing" "$(wo_count)" 1
wage_return RET-1 L2 3100.00 >/dev/null
check_eq "a paid line comes back" "$(xval '/*/@outcome' "$T/body")" APPLIED
check "the worker is unpaid again: WAGES_OVERDUE fires a second time" wait_for 10 q_is "SELECT count(*) FROM alert WHERE kind = 'WAGES_OVERDUE' AND month = '2026-10-01'" 2
check_eq "the second occurrence has its own key and names 1 of 4" "$(q "SELECT count(*) FROM alert WHERE kind = 'WAGES_OVERDUE' AND dedup_key LIKE '%:2026-10:2' AND detail LIKE '1 of 4 %'")" 1

# --- ACCOUNTS_OPENED: the monthly report to each HRSS office -----------------
# The project was opened today (real time); on the first of next month the
# report for this month lists it for Zhengzhou, and none for Kaifeng.
this_month=$(q "SELECT to_char(wp_cst(now()), 'YYYY-MM')")
next_first=$(q "SELECT to_char(date_trunc('month', wp_cst(now())) + interval '1 month', 'YYYY-MM-DD')")
restart_daemon WAGEPAY_CLOCK=${next_first}T00:30:00+08:00
report() { q "SELECT id FROM alert WHERE kind = 'ACCOUNTS_OPENED' AND recipient = '$1' AND month = '$this_month-01'"; }
check "a report for $this_month is raised for each HRSS office" wait_for 10 q_is "SELECT count(*) FROM alert WHERE kind = 'ACCOUNTS_OPENED' AND month = '$this_month-01'" 2
zz=$(report zz-hrss)
kf=$(report kf-hrss)
check "Zhengzhou's report arrives" wait_for 10 q_is "SELECT count(*) FROM alert_delivery WHERE alert_id = '$zz' AND state = 'DELIVERED'" 1
check "Kaifeng's report arrives" wait_for 10 q_is "SELECT count(*) FROM alert_delivery WHERE alert_id = '$kf' AND state = 'DELIVERED'" 1
f=$(fr_file zz-hrss "$zz")
check "the report verifies and is valid" alert_ok "$f"
check_eq "Zhengzhou's report lists the project" "$(xval "//*[local-name()='Opened']/*[local-name()='Code']" "$f")" "$PROJECT"
check_eq "with its account" "$(xval "//*[local-name()='Opened']/*[local-name()='Account']" "$f")" "$ACCOUNT"
check_eq "Kaifeng's lists none" "$(xmllint --xpath "count(//*[local-name()='Opened'])" "$(fr_file kf-hrss "$kf")")" 0
check_eq "the housing authority gets no such report" "$(kind_to zz-housing ACCOUNTS_OPENED)" 0
sleep 2
check_eq "one report per office and month, however often the rules run" "$(q "SELECT count(*) FROM alert WHERE kind = 'ACCOUNTS_OPENED' AND month = '$this_month-01'")" 2

# --- a project no regulator covers --------------------------------------------
id=$(console maker1 POST /api/projects "{\"code\":\"XM-CD-0001\",\"name\":\"Chengdu Bridge\",\"region\":\"510104\",\"industry\":\"transport\",\"owner\":{\"uscc\":\"$OWNER_USCC\",\"name\":\"$OWNER_NAME\"},\"contractor\":{\"uscc\":\"$GC_USCC\",\"name\":\"$GC_NAME\"},\"account\":\"6228480000000000777\",\"labour_cost_total\":\"1200000.00\",\"contract_months\":12,\"start_month\":\"2026-01\",\"pay_day\":15}" | json approval)
console checker1 POST "/api/approvals/$id" '{"decision":"approve"}' >/dev/null
check_eq "a project in Chengdu (5101) is opened" "$(status)" 200
debit_request DR-CD 500.00 6228480000000000777 >/dev/null
check_eq "a debit of its account is refused" "$(xval '/*/@code' "$T/body")" AG01
cd_alert=$(q "SELECT a.id FROM alert a JOIN project p ON p.id = a.project_id WHERE p.code = 'XM-CD-0001' AND a.kind = 'MISUSE_ATTEMPT'")
check "its alert has no recipient: NO_RECIPIENT, for the console" wait_for 10 q_is "SELECT state FROM alert_undelivered WHERE alert_id = '$cd_alert'" NO_RECIPIENT
regulator_section sc-hrss 51 hrss >>"$CONF"
fr_start sc-hrss
kill -HUP "$DAEMON_PID"
check "after SIGHUP adds Sichuan's HRSS office it is delivered there" wait_for 10 q_is "SELECT state FROM alert_delivery WHERE alert_id = '$cd_alert' AND recipient = 'sc-hrss'" DELIVERED
check_eq "and the orphan row is marked REROUTED" "$(q "SELECT state FROM alert_delivery WHERE alert_id = '$cd_alert' AND recipient = ''")" REROUTED

# --- everything that arrived --------------------------------------------------
for r in zz-hrss zz-housing kf-hrss sc-hrss; do
	check "$r: every alert received verifies and is valid" every_alert_ok $r
done
check_eq "the transport authority received nothing at all" "$(fr_count ha-transport)" 0
check_eq "nothing acknowledged was sent twice" "$(fr_log zz-hrss | awk '$2 ~ /^2/ {print $3}' | sort | uniq -d | wc -l)" 0
check_eq "every alert of the demo project was delivered to both (CARD_CHANGED to HRSS only)" "$(q "SELECT count(*) FROM alert a JOIN project p ON p.id = a.project_id WHERE p.code = '$PROJECT' AND (SELECT count(*) FROM alert_delivery d WHERE d.alert_id = a.id AND d.state = 'DELIVERED') <> CASE WHEN a.kind = 'CARD_CHANGED' THEN 1 ELSE 2 END")" 0
ledger_exact
finish
