#!/bin/sh
# The wage guarantee (issue #21) through the console API and the core feed:
# a guarantee account opened with four eyes (required = contract amount x
# rate), funded by camt.054, shown on the project's page; protected (a debit
# request AG01 + MISUSE_ATTEMPT, a seizure for another reason WP44, no
# manual movement); HRSS's draw (refused for a worker not rostered, a month
# paid by a sheet), approved: paid from the guarantee account to the
# workers' cards through a payment order the core takes (valid pain.001),
# the months then paid (AM05 for a sheet's WAGE line), the core's RJCT
# putting the money back with PAYMENT_FAILED; GUARANTEE_SHORT after
# [rules] guarantee_topup_days (10 here) to HRSS only, cleared by a top-up;
# a letter and GUARANTEE_EXPIRING; the monthly GUARANTEES ledger with a
# Guarantee element; a draw approved twice at once, and draws whose
# approval is killed (SIGKILL) at any instant, paid exactly once, their
# orders reaching the core under one MsgId; the release after completion
# with no arrears: the balance back, the account closed,
# GUARANTEE_RELEASED. Clock pinned.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"
FC_PORT=$(free_port)
FC="$T/fakecore"
mkdir -p "$FC"
EXTRA_CONFIG=$(regulator_section zz-hrss 4101 hrss
	regulator_section zz-housing 410183 housing
	printf '[core]\npayments_url = https://127.0.0.1:%s/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n\n' \
	    "$FC_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key"
	printf '[rules]\nguarantee_topup_days = 10\n')
export WAGEPAY_RULES_INTERVAL=1 WAGEPAY_ALERT_POLL_MS=200
export WAGEPAY_PAYORDER_POLL_MS=200 WAGEPAY_PAYORDER_TIMEOUT=2 WAGEPAY_PAYORDER_BACKOFF_MAX=1
CLOCK=2026-11-20T10:00:00+08:00
export WAGEPAY_CLOCK=$CLOCK
for r in zz-hrss zz-housing; do fr_start $r || { echo "Bail out! regulator $r"; exit 1; }; done
setup_world || { echo "Bail out! setup failed"; exit 1; }
echo ok >"$FC/mode"
python3 "$TOOLS/fakecore" serve --port "$FC_PORT" --dir "$FC" --cert "$PKI/server.pem" \
    --key "$PKI/server.key" --ca "$PKI/ca.pem" >"$T/fakecore.out" 2>&1 &
FC_PID=$!
trap 'kill $FC_PID 2>/dev/null; fr_cleanup; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$T/fakecore.out" && break; sleep 0.1; done
check "the project is opened" open_project
check "6 workers rostered" roster_demo 6
console_login viewer1 viewer-password-1 >/dev/null

# deposit_to ACCOUNT REF AMOUNT: a camt.054 credit from the general contractor
deposit_to() { save=$ACCOUNT; ACCOUNT=$1; PAYER_NAME=$GC_NAME PAYER_USCC=$GC_USCC deposit "$2" "$3" >/dev/null; ACCOUNT=$save; }
decide() { console checker1 POST "/api/approvals/$1" "{\"decision\":\"${2:-approve}\"}" | json state; }
# propose_ok PATH JSON: maker1's proposal, its approval id
propose_ok() { console maker1 POST "$1" "$2" | json approval; }
gjson() { console viewer1 GET "/api/projects/${2:-$PROJECT}" | json "guarantee.$1"; }
gbalance() { q "SELECT balance FROM account WHERE number = '$1'"; }
idn() { worker "$1" id; }
kind_count() { q "SELECT count(*) FROM alert WHERE kind = '$1'"; }
# acked_by NAME KIND: alerts of that kind the regulator acknowledged
acked_by() {
	n=0
	for id in $(q "SELECT id FROM alert WHERE kind = '$2'"); do
		[ "$(fr_acked "$1" "$id")" -gt 0 ] && n=$((n + 1))
	done
	echo $n
}

# --- 1. a guarantee account, four eyes --------------------------------------------
G="/api/projects/$PROJECT/guarantee"
console viewer1 POST "$G" '{"kind":"ACCOUNT","account":"GA-0001","required":"100.00"}' >/dev/null
check_eq "a viewer proposes nothing (403)" "$(status)" 403
console maker1 POST "$G" '{"kind":"BOND","account":"GA-0001"}' >"$T/e1"
check_eq "an unknown kind: 400" "$(status)" 400
check "with a clear message" grep -q 'kind must be ACCOUNT' "$T/e1"
console maker1 POST "$G" '{"kind":"ACCOUNT","account":"GA-0001","contract_amount":"1000000.00"}' >"$T/e2"
check_eq "no required and no rate: 400" "$(status)" 400
AP=$(propose_ok "$G" '{"kind":"ACCOUNT","account":"GA-0001","contract_amount":"1000000.00","rate":"2"}')
check "the maker proposes the guarantee account" test -n "$AP"
check_eq "the proposal shows required = 1,000,000.00 x 2 %" \
    "$(console viewer1 GET /api/approvals | python3 -c 'import json,sys; print([a["payload"]["required"] for a in json.load(sys.stdin) if a["kind"] == "GUARANTEE"][0])')" 20000.00
check_eq "the maker cannot approve it" "$(console maker1 POST "/api/approvals/$AP" '{"decision":"approve"}' >/dev/null; status)" 403
check_eq "a checker approves it" "$(decide "$AP")" approved
check_eq "the account is a GUARANTEE account, open, empty" "$(q "SELECT kind || ' ' || state || ' ' || balance FROM account WHERE number = 'GA-0001'")" "GUARANTEE OPEN 0"
check_eq "the page: kind" "$(gjson kind)" ACCOUNT
check_eq "the page: required" "$(gjson required)" 20000.00
check_eq "the page: held" "$(gjson held)" 0.00
check_eq "the page: the account" "$(gjson account.number) $(gjson account.balance)" "GA-0001 0.00"
check_eq "the page: short since it was registered (the clock's day)" "$(gjson short_since)" 2026-11-20
console maker1 POST "$G" '{"kind":"ACCOUNT","account":"GA-0009","required":"100.00"}' >"$T/e3"
check_eq "a second guarantee account refused (409)" "$(status)" 409
check "WP80 with the account it has" grep -q 'WP80: .*already has a guarantee account (GA-0001)' "$T/e3"

# --- deposits on the core feed ------------------------------------------------------
deposit_to GA-0001 GD-1 20000.00
check_eq "the contractor's deposit is booked" "$(xval '//@outcome' "$T/body")" APPLIED
check_eq "the guarantee account holds it" "$(gbalance GA-0001)" 2000000
check_eq "the page: held" "$(gjson held)" 20000.00
check_eq "the page: no longer short" "$(gjson short_since)" ""
check_eq "the page: the deposit in its history" "$(gjson account.deposits.0.entry_ref)" GD-1
deposit_to GA-0001 GD-1 20000.00
check_eq "a replay changes nothing" "$(xval '//@outcome' "$T/body") $(gbalance GA-0001)" "DUPLICATE 2000000"

# --- 2. protection ---------------------------------------------------------------------
debit_request DR-G1 5000.00 GA-0001 >/dev/null
check_eq "a debit request of the guarantee account is refused (AG01)" \
    "$(xval '//@outcome' "$T/body") $(xval '//@code' "$T/body")" "REFUSED AG01"
check_eq "MISUSE_ATTEMPT raised for the project" "$(q "SELECT count(*) FROM alert a JOIN project p ON p.id = a.project_id WHERE a.kind = 'MISUSE_ATTEMPT' AND a.msg_id = 'DR-G1' AND p.code = '$PROJECT'")" 1
save=$ACCOUNT; ACCOUNT=GA-0001; legal_order LO-G1 SEIZE 5000.00 OTHER >/dev/null; ACCOUNT=$save
check_eq "a seizure for anything but wages is refused (WP44)" \
    "$(xval '//@outcome' "$T/body") $(xval '//@code' "$T/body")" "REFUSED WP44"
console maker1 POST /api/movements '{"from":"GA-0001","to":"CLEARING-OUT","amount":"100.00","reason":"take it"}' >/dev/null
check_eq "no manual movement from the guarantee account (409)" "$(status)" 409
check_eq "nothing left it" "$(gbalance GA-0001)" 2000000

# --- 3. HRSS's draw ----------------------------------------------------------------------
deposit DEP-1 10000.00 >/dev/null
line E1 2 3000.00 >"$T/l1"
sheet s1 --msg-id SHEET-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
submit s1
check_eq "worker 2 is paid for 2026-10 by a sheet" "$(grpsts "$T/s1.pain002.xml")" ACSC
D="$G/draws"
dl() { printf '{"id_number":"%s","amount":"%s","month":"%s"}' "$(idn "$1")" "$2" "$3"; }
console maker1 POST "$D" "{\"decision_no\":\"D-1\",\"lines\":[$(dl 2 100.00 2026-10)]}" >"$T/e4"
check_eq "a month a sheet paid: 409" "$(status)" 409
check "AM05" grep -q 'AM05: line 1' "$T/e4"
console maker1 POST "$D" "{\"decision_no\":\"D-1\",\"lines\":[$(dl 5 100.00 2026-10)]}" >"$T/e5"
check "a worker not on the roster: WP82" grep -q 'WP82: line 1' "$T/e5"
console maker1 POST "$D" '{"decision_no":"D-1","lines":[{"id_number":"410183200211050009","amount":"1.00","month":"2026-10"}]}' >"$T/e6"
check_eq "an ID number with a wrong check digit: 400" "$(status)" 400
console maker1 POST "$D" "{\"decision_no\":\"D-1\",\"lines\":[$(dl 0 100.00 2026-13)]}" >/dev/null
check_eq "a month that is not YYYY-MM: 400" "$(status)" 400
DECISION="郑人社欠薪〔2026〕12号"
AP=$(propose_ok "$D" "{\"decision_no\":\"$DECISION\",\"lines\":[$(dl 0 3000.00 2026-10),$(dl 1 2500.00 2026-09)]}")
check "HRSS's decision is proposed" test -n "$AP"
check_eq "and approved" "$(decide "$AP")" approved
check_eq "paid from the guarantee account: 20,000.00 - 5,500.00" "$(gbalance GA-0001)" 1450000
check_eq "one payment order for the draw" "$(q "SELECT nb_of_txs || ' ' || ctrl_sum FROM payment_order WHERE draw_id IS NOT NULL")" "2 550000"
MSG=$(q "SELECT msg_id FROM payment_order WHERE draw_id IS NOT NULL")
check "the core takes it" wait_for 15 sh -c "grep -q '^[0-9]* 202 $MSG ' '$FC/log'"
ORDER=$FC/$(awk -v m="$MSG" '$2 == 202 && $3 == m {print $1}' "$FC/log" | head -1).xml
check "the order is valid against the official pain.001.001.10" xmllint --noout --schema "$ISO/pain.001.001.10.xsd" "$ORDER"
check_eq "the guarantee account is the debtor" "$(xval "//*[local-name()='DbtrAcct']//*[local-name()='Id'][not(*)]" "$ORDER")" GA-0001
check_eq "a line per worker" "$(xmllint --xpath "count(//*[local-name()='CdtTrfTxInf'])" "$ORDER")" 2
check "to worker 0's own card" grep -q "<Id>$(worker 0 card)</Id>" "$ORDER"
check "for the month drawn" grep -q '<Ustrd>WAGE/2026-10</Ustrd>' "$ORDER"
check_eq "the page: the draw" "$(gjson draws.0.decision_no) $(gjson draws.0.state) $(gjson draws.0.total)" "$DECISION paid 5500.00"
check_eq "the page: its lines masked" "$(gjson draws.0.lines.0.id_number | grep -c "$(idn 0)")" 0
{ line E1 0 3000.00; line E2 1 3000.00; } >"$T/l2"
sheet s2 --msg-id SHEET-2 --sub "$SUB1_USCC" --month 2026-10 <"$T/l2"
submit s2
check_eq "a sheet paying the drawn month again: PART" "$(grpsts "$T/s2.pain002.xml")" PART
check_eq "its line for the drawn worker-month refused AM05" "$(xval "//*[local-name()='TxInfAndSts'][*[local-name()='OrgnlEndToEndId']='E1']//*[local-name()='Cd']" "$T/s2.pain002.xml")" AM05
E2=$(q "SELECT end_to_end_id FROM guarantee_draw_line WHERE seq = 2")
check_eq "the core credits one line, rejects the other" \
    "$(python3 "$TOOLS/fakecore" status --url "https://127.0.0.1:$KPORT" --cert "$PKI/core.pem" --key "$PKI/core.key" --order "$ORDER" --reject "$E2=AC04")" "200 APPLIED -"
check_eq "the rejected line's money is back on the guarantee account" "$(gbalance GA-0001)" 1700000
check_eq "PAYMENT_FAILED raised" "$(q "SELECT count(*) FROM alert WHERE kind = 'PAYMENT_FAILED' AND end_to_end_id = '$E2'")" 1

# --- 4. top-up within guarantee_topup_days (10) ------------------------------------------
check_eq "short since the draw" "$(gjson short_since) $(gjson restore_by)" "2026-11-20 2026-11-29"
restart_daemon WAGEPAY_CLOCK=2026-11-29T10:00:00+08:00
sleep 2
check_eq "on the 10th day: no GUARANTEE_SHORT" "$(kind_count GUARANTEE_SHORT)" 0
restart_daemon WAGEPAY_CLOCK=2026-11-30T10:00:00+08:00
check "the day after: GUARANTEE_SHORT" wait_for 10 q_is "SELECT count(*) FROM alert WHERE kind = 'GUARANTEE_SHORT'" 1
check_eq "with required, held and shortfall" "$(q "SELECT required || ' ' || balance || ' ' || shortfall FROM alert WHERE kind = 'GUARANTEE_SHORT'")" "2000000 1700000 300000"
check "delivered to HRSS" wait_for 15 sh -c "[ \"\$(psql -h '$PGDIR' -U wagepay -d wagepay -qAt -c \"SELECT count(*) FROM alert_delivery d JOIN alert a ON a.id = d.alert_id WHERE a.kind = 'GUARANTEE_SHORT' AND d.state = 'DELIVERED'\")\" = 1 ]"
check_eq "to HRSS only" "$(acked_by zz-hrss GUARANTEE_SHORT) $(acked_by zz-housing GUARANTEE_SHORT)" "1 0"
check "a valid signed alert" alert_ok "$(fr_file zz-hrss "$(alert_id GUARANTEE_SHORT)")"
deposit_to GA-0001 GD-2 3000.00
check_eq "the contractor tops it up: no longer short" "$(gjson held) $(gjson short_since)" "20000.00 "

# --- a draw approved twice at once pays once; a line sent back -----------------------------
AP=$(propose_ok "$D" "{\"decision_no\":\"D-2\",\"lines\":[$(dl 0 100.00 2026-09)]}")
# approve N: checker1's approval of $AP, the answer in $T/dN, its status in $T/cN
approve() {
	curl -sk -b "$T/cookies-checker1" -H 'Content-Type: application/json' \
	    -d '{"decision":"approve"}' -o "$T/d$1" -w '%{http_code}' \
	    "https://127.0.0.1:$OPORT/api/approvals/$AP" >"$T/c$1"
}
approve 1 & P1=$!
approve 2 & P2=$!
wait $P1 $P2
check_eq "the same approval sent twice at once: one approves, the other is told it was decided" \
    "$( (cat "$T/c1"; echo; cat "$T/c2"; echo) | sort | tr '\n' ' ')" "200 409 "
check_eq "one payment order, one transfer" "$(q "SELECT count(DISTINCT o.id) || ' ' || count(t.id) FROM guarantee_draw d JOIN payment_order o ON o.draw_id = d.id JOIN transfer t ON t.reason = 'GUARANTEE' AND t.reference LIKE 'draw:' || d.id || '/%' WHERE d.decision_no = 'D-2'")" "1 1"
check_eq "the decision was recorded once, by one checker" "$(q "SELECT state || ' ' || (outcome LIKE 'already decided%') FROM approval WHERE id = $AP")" "APPROVED false"
check_eq "paid once from the guarantee" "$(gbalance GA-0001)" 1990000
E3=$(q "SELECT l.end_to_end_id FROM guarantee_draw_line l JOIN guarantee_draw d ON d.id = l.draw_id WHERE d.decision_no = 'D-2'")
save=$ACCOUNT; ACCOUNT=GA-0001; wage_return RET-G1 "$E3" 100.00 AC04 >/dev/null; ACCOUNT=$save
check_eq "the card's bank sends the line back: applied" "$(xval '//@outcome' "$T/body")" APPLIED
check_eq "its money is back on the guarantee" "$(gbalance GA-0001)" 2000000
check_eq "PAYMENT_FAILED raised for it" "$(q "SELECT count(*) FROM alert WHERE kind = 'PAYMENT_FAILED' AND end_to_end_id = '$E3'")" 1

# --- a letter, and its expiry ------------------------------------------------------------
AP=$(propose_ok "$G" '{"kind":"LETTER","issuer":"中国建设银行郑州分行","number":"BH-2026-77","amount":"10000.00","valid_from":"2026-11-01","valid_to":"2026-12-25"}')
check_eq "a guarantee letter registered beside the account" "$(decide "$AP")" approved
check_eq "the page: kind and held" "$(gjson kind) $(gjson held)" "ACCOUNT+LETTER 30000.00"
check "25 days before it ends: GUARANTEE_EXPIRING" wait_for 10 q_is "SELECT count(*) FROM alert WHERE kind = 'GUARANTEE_EXPIRING'" 1

# --- 6. the monthly ledger ----------------------------------------------------------------
restart_daemon WAGEPAY_CLOCK=2026-12-01T10:00:00+08:00
check "the GUARANTEES ledger for 2026-11 is raised for HRSS" wait_for 10 q_is "SELECT count(*) FROM alert WHERE kind = 'GUARANTEES' AND month = '2026-11-01'" 1
LID=$(alert_id GUARANTEES "month = '2026-11-01'")
check "and delivered" wait_for 15 sh -c "[ \"\$(grep -c ' $LID ' '$T/reg-zz-hrss/log')\" -ge 1 ]"
LF=$(fr_file zz-hrss "$LID")
check "a valid signed alert" alert_ok "$LF"
check_eq "listing the guarantee: project, kind, required, held, drawn, expiry" \
    "$(xval "//*[local-name()='Guarantee']/*[local-name()='Code']" "$LF") $(xval "//*[local-name()='Guarantee']/*[local-name()='Kind']" "$LF") $(xval "//*[local-name()='Guarantee']/*[local-name()='Required']" "$LF") $(xval "//*[local-name()='Guarantee']/*[local-name()='Held']" "$LF") $(xval "//*[local-name()='Guarantee']/*[local-name()='Drawn']" "$LF") $(xval "//*[local-name()='Guarantee']/*[local-name()='Expires']" "$LF")" \
    "$PROJECT ACCOUNT+LETTER 20000.00 30000.00 5600.00 2026-12-25"

# --- crashes: a draw's approval killed at any instant pays once ---------------------------
# Each cycle a maker proposes a draw, a checker approves it and the daemon is
# killed (SIGKILL) 0 to 90 ms later; restarted, the checker sends the
# approval again until it is decided. Each draw is then paid exactly once and
# its payment order reaches the core under one MsgId.
dl2() { printf '{"id_number":"%s","amount":"%s","month":"%s"}' "$(worker2 "$1" id)" "$2" "$3"; }
before=$(gbalance GA-0001)
CYCLES=6
i=0
late=0
while [ $i -lt $CYCLES ]; do
	AP=$(propose_ok "$D" "{\"decision_no\":\"K-$i\",\"lines\":[$(dl2 0 10.00 2026-0$((3 + i))),$(dl2 1 20.00 2026-0$((3 + i)))]}")
	approve 1 & P1=$!
	sleep "0.0$(( (i * 37) % 10 ))"
	kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
	wait $P1
	daemon_start || { echo "Bail out! the daemon did not restart"; exit 1; }
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		approve 1
		grep -qx '200\|409' "$T/c1" && break
		sleep 0.2
	done
	[ "$(cat "$T/c1")" = 200 ] && late=$((late + 1))
	i=$((i + 1))
done
check_eq "every draw of the storm is approved" "$(q "SELECT count(*) FROM approval WHERE kind = 'GUARANTEE_DRAW' AND state = 'APPROVED' AND payload->>'decision_no' LIKE 'K-%'")" $CYCLES
check_eq "each paid once: two transfers and one payment order a draw" "$(q "SELECT count(*) FROM guarantee_draw d WHERE d.decision_no LIKE 'K-%' AND (d.state <> 'PAID' OR (SELECT count(*) FROM transfer t WHERE t.reason = 'GUARANTEE' AND t.reference LIKE 'draw:' || d.id || '/%') <> 2 OR (SELECT count(*) FROM payment_order o WHERE o.draw_id = d.id) <> 1)")" 0
check_eq "the guarantee paid 30.00 a draw, no more" "$(gbalance GA-0001)" "$((before - CYCLES * 3000))"
check "every order of the storm is taken by the core" wait_for 20 q_is "SELECT count(*) FROM payment_order o JOIN guarantee_draw d ON d.id = o.draw_id WHERE d.decision_no LIKE 'K-%' AND o.state = 'TAKEN'" $CYCLES
# e2e_msgs: "EndToEndId MsgId" of every line the core received, once each
e2e_msgs() { python3 - "$FC" <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"}
seen = set()
for f in glob.glob(sys.argv[1] + "/[0-9]*.xml"):
    d = ET.parse(f).getroot()
    msg = d.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns)
    for e in d.iterfind(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", ns):
        seen.add((e.text, msg))
for e, m in sorted(seen):
    print(e, m)
EOF
}
e2e_msgs >"$T/e2e-msgs"
check_eq "every drawn line of the storm reached the core under one MsgId only" \
    "$(awk '$1 ~ /^WPGD/ {print $1}' "$T/e2e-msgs" | uniq -d | wc -l) $(grep -c '^WPGD' "$T/e2e-msgs")" \
    "0 $(q "SELECT count(*) FROM guarantee_draw_line")"
diag "the storm: $late of $CYCLES approvals were killed before their commit and approved after the restart"

curl -sk "https://127.0.0.1:$OPORT/metrics" >"$T/metrics"
check_eq "/metrics: one guarantee held, not short, no claim waiting, its balance" \
    "$(grep -E '^wagepay_(guarantees_active|guarantees_short|guarantee_draws_claimed|guarantee_balance_fen) ' "$T/metrics" | tr '\n' ' ')" \
    "wagepay_guarantees_active 1 wagepay_guarantees_short 0 wagepay_guarantee_draws_claimed 0 wagepay_guarantee_balance_fen $(gbalance GA-0001) "

# --- 5. release --------------------------------------------------------------------------
console maker1 POST "$G/release" '{"notice_no":"R-1"}' >"$T/e7"
check "not before completion (WP86)" grep -q 'WP86: the project is not marked complete' "$T/e7"
P2=XM-2026-0002
pid=$(propose_ok /api/projects "{\"code\":\"$P2\",\"name\":\"工程 二\",\"region\":\"$REGION\",\"industry\":\"water\",\"owner\":{\"uscc\":\"$OWNER_USCC\",\"name\":\"$OWNER_NAME\"},\"contractor\":{\"uscc\":\"$GC_USCC\",\"name\":\"$GC_NAME\"},\"account\":\"6228480000000000002\",\"labour_cost_total\":\"24000.00\",\"contract_months\":2,\"start_month\":\"2026-10\",\"pay_day\":15}")
check_eq "a second project, nobody on its roster" "$(decide "$pid")" approved
check_eq "its guarantee account" "$(decide "$(propose_ok "/api/projects/$P2/guarantee" '{"kind":"ACCOUNT","account":"GA-0002","required":"500.00"}')")" approved
deposit_to GA-0002 GD-3 500.00
check_eq "funded" "$(gbalance GA-0002)" 50000
check_eq "the project is complete" "$(decide "$(propose_ok "/api/projects/$P2/complete" '{"completed_on":"2026-11-30"}')")" approved
AP=$(propose_ok "/api/projects/$P2/guarantee/release" '{"notice_no":"郑人社退〔2026〕3号"}')
check_eq "HRSS's release notice, approved" "$(decide "$AP")" approved
check_eq "the balance went back to the contractor, the account closed" "$(q "SELECT state || ' ' || balance FROM account WHERE number = 'GA-0002'")" "CLOSED 0"
check_eq "by one MANUAL transfer referencing the approval" "$(q "SELECT amount FROM transfer WHERE reason = 'MANUAL' AND reference = 'approval:$AP'")" 50000
check_eq "the page: released" "$(gjson state "$P2") $(gjson release_notice "$P2")" "released 郑人社退〔2026〕3号"
check "GUARANTEE_RELEASED delivered to HRSS" wait_for 15 sh -c "[ \"\$(grep -c ' $(alert_id GUARANTEE_RELEASED) ' '$T/reg-zz-hrss/log')\" -ge 1 ]"
deposit_to GA-0002 GD-4 1.00
check_eq "a closed guarantee account takes nothing (AC04)" "$(xval '//@code' "$T/body")" AC04

check_eq "every guarantee balance equals its transfers" "$(q "SELECT count(*) FROM account a WHERE a.kind = 'GUARANTEE' AND a.balance <> coalesce((SELECT sum(amount) FROM transfer WHERE credit_account = a.id), 0) - coalesce((SELECT sum(amount) FROM transfer WHERE debit_account = a.id), 0)")" 0
check_eq "the audit chains verify" "$(console viewer1 GET /api/audit/verify | json ok)" True
check "every alert HRSS received is valid and signed" every_alert_ok zz-hrss
ledger_exact
finish
