#!/bin/sh
# The console API the page uses, on a real world: overview, projects, a
# sheet with masked lines, alerts with a retry, approvals, the audit list;
# completing a project and closing its account (four eyes; refused before the
# completion and its public notice, while sheets are held, returns are
# earmarked or months have workers unpaid; the balance paid out to the holder,
# MANUAL_DEBIT and ACCOUNT_CLOSED raised) and manual money movements (only a
# deposit's return, four eyes, at most its amount, once, never the money
# wages wait for; never to another dedicated account, never a credit by
# hand; MANUAL_DEBIT with maker and checker); every change in the
# audit trail; a viewer changes nothing; the page's files and headers.
. "$(dirname "$0")/lib.sh"

# a regulator nobody answers for: its deliveries stay in the backlog
DEAD_PORT=$(free_port)
EXTRA_CONFIG="
[regulator hrss-dead]
region = 4101
authority = hrss
url = https://127.0.0.1:$DEAD_PORT/alerts
ca = $T/pki/ca.pem
cert = $T/pki/bank-client.pem
key = $T/pki/bank-client.key"
export WAGEPAY_ALERT_POLL_MS=200
# The console's "now" is the daemon's clock, pinned so that what the plan has
# due (January to October of a plan from 2026-01, the months before the
# clock's) is the same on any day the test runs.
CLOCK=2026-11-20T10:00:00+08:00
export WAGEPAY_CLOCK=$CLOCK
setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project || { echo "Bail out! could not open the project"; exit 1; }
roster_demo 12 || { echo "Bail out! roster refused"; exit 1; }
console_login viewer1 viewer-password-1 >/dev/null
URL="https://127.0.0.1:$OPORT"

# propose_open CODE ACCOUNT: a project of the general contractor, opened by
# maker1 and checker1.
propose_open() {
	pid=$(console maker1 POST /api/projects "{\"code\":\"$1\",\"name\":\"工程 $1\",\"region\":\"$REGION\",\"industry\":\"water\",\"owner\":{\"uscc\":\"$OWNER_USCC\",\"name\":\"$OWNER_NAME\"},\"contractor\":{\"uscc\":\"$GC_USCC\",\"name\":\"$GC_NAME\"},\"account\":\"$2\",\"labour_cost_total\":\"24000.00\",\"contract_months\":2,\"start_month\":\"2026-03\",\"pay_day\":15}" | json approval)
	[ -n "$pid" ] && console checker1 POST "/api/approvals/$pid" '{"decision":"approve"}' | json state | grep -qx approved
}
# deposit_to ACCOUNT REF AMOUNT
deposit_to() { save=$ACCOUNT; ACCOUNT=$1; deposit "$2" "$3" >/dev/null; ACCOUNT=$save; }
# approve_as_checker ID: prints the decided approval's state
decide() { console checker1 POST "/api/approvals/$1" "{\"decision\":\"${2:-approve}\"}" | json state; }
audit_count() { q "SELECT count(*) FROM audit WHERE action = '$1'"; }

# --- a world: one paid sheet, one held --------------------------------------
deposit DEP-1 10000.00 >/dev/null
{ line E1 0 3000.00; line E2 1 2500.00; } >"$T/l1"
sheet s1 --msg-id SHEET-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
submit s1
check_eq "a sheet is paid" "$(grpsts "$T/s1.pain002.xml")" ACSC
{ line H1 2 6000.00; line H2 3 6000.00; } >"$T/l2"
sheet s2 --msg-id SHEET-HELD --sub "$SUB1_USCC" --month 2026-10 <"$T/l2"
submit s2
check_eq "a sheet is held" "$(grpsts "$T/s2.pain002.xml")" PDNG
held_id=$(q "SELECT id FROM sheet WHERE msg_id = 'SHEET-HELD'")
paid_id=$(q "SELECT id FROM sheet WHERE msg_id = 'SHEET-1'")

# --- who am I ---------------------------------------------------------------
console viewer1 GET /api/session >"$T/me"
check_eq "GET /api/session: the name" "$(json name <"$T/me")" viewer1
check_eq "GET /api/session: the role" "$(json role <"$T/me")" viewer
curl -sk -o /dev/null -w '%{http_code}' "$URL/api/session" >"$T/status"
check_eq "GET /api/session without a cookie: 401" "$(status)" 401

# --- overview -----------------------------------------------------------------
console viewer1 GET /api/overview >"$T/ov"
check_eq "overview: 200" "$(status)" 200
check_eq "overview: one open dedicated account" "$(json accounts.open <"$T/ov")" 1
check_eq "overview: the total balance" "$(json accounts.balance <"$T/ov")" 4500.00
check_eq "overview: the held sheet" "$(json held_sheets.0.msg_id <"$T/ov")" SHEET-HELD
check_eq "overview: the held sheet's amount" "$(json held_sheets.0.total <"$T/ov")" 12000.00
check_eq "overview: the project is behind plan (10 months due on 2026-11-20, 10000 deposited)" \
    "$(json projects_behind.0.code <"$T/ov")" "$PROJECT"
check_eq "overview: the shortfall to date" "$(json projects_behind.0.shortfall <"$T/ov")" 9990000.00
check "overview: alerts not delivered are counted" test "$(json alerts_undelivered.count <"$T/ov")" -ge 1
check_eq "overview: the accounts list has the demo account" "$(json account_list.0.account <"$T/ov")" "$ACCOUNT"

# --- projects ---------------------------------------------------------------
console viewer1 GET /api/projects >"$T/pl"
check_eq "projects: the demo project" "$(json 0.code <"$T/pl")" "$PROJECT"
check_eq "projects: its roster size" "$(json 0.roster_size <"$T/pl")" 12
check_eq "projects: its held sheets" "$(json 0.sheets_held <"$T/pl")" 1
check_eq "projects: behind plan" "$(json 0.behind <"$T/pl")" True
console viewer1 GET '/api/projects?q=no-such-thing' >"$T/pl2"
check_eq "projects: a search that matches nothing" "$(cat "$T/pl2")" "[]"
# % and _ are themselves in a search, not LIKE's wildcards
console viewer1 GET '/api/projects?q=%25' >"$T/pl3"
check_eq "projects: a search for % matches no project without one" "$(cat "$T/pl3")" "[]"
console viewer1 GET '/api/projects?q=_' >"$T/pl3"
check_eq "projects: a search for _ matches no project without one" "$(cat "$T/pl3")" "[]"
console viewer1 GET '/api/projects?q=XM_2026' >"$T/pl3"
check_eq "projects: _ does not stand for the - of XM-2026" "$(cat "$T/pl3")" "[]"
console viewer1 GET '/api/projects?q=2026%25001' >"$T/pl3"
check_eq "projects: % does not stand for the -0 of 2026-0001" "$(cat "$T/pl3")" "[]"
console viewer1 GET '/api/projects?q=xm-2026-0' >"$T/pl3"
check_eq "projects: a substring in any case still finds it" "$(json 0.code <"$T/pl3")" "$PROJECT"
console viewer1 GET "/api/projects/$PROJECT" >"$T/p"
check_eq "project: the contract's balance field" "$(json balance <"$T/p")" 4500.00
check_eq "project: months from the plan" "$(json months.0.month <"$T/p")" 2026-01
check_eq "project: planned per month" "$(json months.0.planned <"$T/p")" 1000000.00
check_eq "project: October's wages paid" "$(json months.9.paid <"$T/p")" 5500.00
check_eq "project: its sheets, newest first" "$(json sheet_list.0.msg_id <"$T/p")" SHEET-HELD
check_eq "project: its opening approval" "$(json approvals.0.kind <"$T/p")" OPEN_ACCOUNT
json close_refusal <"$T/p" >"$T/refusal"
check "project: why it cannot close now" grep -q 'WP67: the project is not marked complete' "$T/refusal"

# --- a sheet with masked lines ---------------------------------------------------
console viewer1 GET "/api/sheets/$paid_id" >"$T/sh"
check_eq "sheet: 200" "$(status)" 200
check_eq "sheet: its MsgId" "$(json msg_id <"$T/sh")" SHEET-1
check_eq "sheet: paid" "$(json state <"$T/sh")" paid
id0=$(worker 0 id); card0=$(worker 0 card)
mask() { python3 -c 'import sys; s=sys.argv[1]; print(s[:4] + "*" * (len(s) - 8) + s[-4:])' "$1"; }
check_eq "sheet: the ID number is masked 4+4" "$(json line_list.0.id_number <"$T/sh")" "$(mask "$id0")"
check_eq "sheet: the card is masked 4+4" "$(json line_list.0.card <"$T/sh")" "$(mask "$card0")"
json line_list.0.id_number <"$T/sh" >"$T/masked"
check "sheet: the mask looks like 4101**********1234" grep -qx '[0-9]\{4\}\*\{10\}[0-9X]\{4\}' "$T/masked"
check "sheet: no full ID number anywhere in the answer" sh -c "! grep -q '$id0' '$T/sh'"
check "sheet: no full card number anywhere in the answer" sh -c "! grep -q '$card0' '$T/sh'"
check_eq "sheet: a line's amount" "$(json line_list.0.amount <"$T/sh")" 3000.00
check_eq "sheet: a line's status" "$(json line_list.0.status <"$T/sh")" paid
console viewer1 GET "/api/sheets/$held_id" >"$T/sh2"
check_eq "held sheet: its lines are held" "$(json line_list.0.status <"$T/sh2")" held
console viewer1 GET /api/sheets/999999 >/dev/null
check_eq "an unknown sheet: 404" "$(status)" 404
console viewer1 GET /api/sheets/abc >/dev/null
check_eq "a malformed sheet id: 404" "$(status)" 404

# --- alerts ---------------------------------------------------------------------
console viewer1 GET /api/alerts >"$T/al"
check_eq "alerts: 200" "$(status)" 200
aid=$(python3 -c 'import json,sys; print(next(a["id"] for a in json.load(sys.stdin) if a["kind"] == "BALANCE_SHORT"))' <"$T/al")
check "alerts: the BALANCE_SHORT of the held sheet is undelivered" test -n "$aid"
for _ in $(seq 1 50); do
	[ "$(q "SELECT count(*) FROM alert_delivery d JOIN alert a ON a.id = d.alert_id WHERE a.kind = 'BALANCE_SHORT' AND d.attempts > 0")" -ge 1 ] && break
	sleep 0.1
done
console viewer1 GET /api/alerts >"$T/al"
python3 -c 'import json,sys; a = next(a for a in json.load(sys.stdin) if a["kind"] == "BALANCE_SHORT"); d = a["deliveries"][0]; print(d["recipient"], d["state"], a["delivered"])' <"$T/al" >"$T/dl"
check_eq "alerts: delivery per recipient, failing to the dead regulator" "$(cat "$T/dl")" "hrss-dead failing False"
check_eq "alerts: its shortfall" "$(python3 -c 'import json,sys; print(next(a["shortfall"] for a in json.load(sys.stdin) if a["kind"] == "BALANCE_SHORT"))' <"$T/al")" 7500.00
console viewer1 GET '/api/alerts?state=all' >"$T/al2"
check "alerts: all of them" test "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <"$T/al2")" -ge 1
console viewer1 POST "/api/alerts/$aid/retry" '{}' >/dev/null
check_eq "a viewer cannot retry an alert: 403" "$(status)" 403
console maker1 POST "/api/alerts/$aid/retry" '{}' >"$T/retry"
check_eq "a maker retries an alert: 200" "$(status)" 200
check_eq "the retry names the alert" "$(json alert <"$T/retry")" "$aid"
check_eq "the retry made the pending delivery due" "$(json retried <"$T/retry")" 1
check_eq "the retry is audited" "$(audit_count alert.retry)" 1
console maker1 POST "/api/alerts/00000000-0000-0000-0000-000000000000/retry" '{}' >/dev/null
check_eq "retry of an unknown alert: 404" "$(status)" 404

# --- closing: refused while sheets are held ------------------------------------
console maker1 POST "/api/projects/$PROJECT/close" '{"reason":"项目完工"}' >"$T/c1"
check_eq "closing before the project is complete: 409" "$(status)" 409
check "the refusal says so (WP67)" grep -q 'WP67' "$T/c1"
console viewer1 POST "/api/projects/$PROJECT/close" '{"reason":"x"}' >/dev/null
check_eq "a viewer cannot propose closing: 403" "$(status)" 403
console checker1 POST "/api/projects/$PROJECT/close" '{"reason":"x"}' >/dev/null
check_eq "a checker cannot propose closing: 403" "$(status)" 403
console maker1 POST "/api/projects/$PROJECT/close" '{}' >/dev/null
check_eq "closing without a reason: 400" "$(status)" 400
console maker1 POST "/api/projects/NO-SUCH/close" '{"reason":"x"}' >/dev/null
check_eq "closing an unknown project: 409" "$(status)" 409

# --- closing an empty project: four eyes -----------------------------------------
check "an empty project is opened" propose_open P-EMPTY ACC-EMPTY
console maker1 POST /api/projects/P-EMPTY/close '{"reason":"项目取消 cancelled"}' >"$T/c0"
check_eq "closing it before its completion: 409" "$(status)" 409
console maker1 POST /api/projects/P-EMPTY/complete '{"completed_on":"20261001"}' >/dev/null
check_eq "a completion date not YYYY-MM-DD: 400" "$(status)" 400
console maker1 POST /api/projects/P-EMPTY/complete '{"completed_on":"2026-11-21"}' >"$T/cf"
check_eq "a completion date after the daemon's today: 409" "$(status)" 409
check "saying it is in the future (WP70)" grep -q 'WP70: the completion date 2026-11-21 is in the future' "$T/cf"
console maker1 POST /api/projects/P-EMPTY/complete '{"completed_on":"2026-02-30"}' >/dev/null
check_eq "a completion date that is no date: 409" "$(status)" 409
console viewer1 POST /api/projects/P-EMPTY/complete '{"completed_on":"2026-10-01"}' >/dev/null
check_eq "a viewer cannot propose a completion: 403" "$(status)" 403
eid=$(console maker1 POST /api/projects/P-EMPTY/complete '{"completed_on":"2026-10-01","reason":"项目取消"}' | json approval)
check_eq "a maker proposes its completion on 2026-10-01" "$(status)" 200
console maker1 POST "/api/approvals/$eid" '{"decision":"approve"}' >/dev/null
check_eq "the maker cannot approve the completion: 403" "$(status)" 403
check_eq "a checker approves it" "$(decide "$eid")" approved
console viewer1 GET /api/projects/P-EMPTY >"$T/pe"
check_eq "the project is complete" "$(json state <"$T/pe")" complete
check_eq "the notice period is the default 30 days" "$(json notice_days <"$T/pe")" 30
check_eq "closable from 2026-10-31" "$(json closable_from <"$T/pe")" 2026-10-31
check_eq "the completion is audited" "$(audit_count project.completed)" 1
cid=$(console maker1 POST /api/projects/P-EMPTY/close '{"reason":"项目取消 cancelled"}' | json approval)
check_eq "closing proposed: 200" "$(status)" 200
console maker1 POST /api/projects/P-EMPTY/close '{"reason":"again"}' >/dev/null
check_eq "a second close proposal while one waits: 409" "$(status)" 409
check_eq "the account is still open while the proposal waits" \
    "$(q "SELECT state FROM account WHERE number = 'ACC-EMPTY'")" OPEN
console maker1 POST "/api/approvals/$cid" '{"decision":"approve"}' >/dev/null
check_eq "the maker cannot approve the close: 403" "$(status)" 403
check_eq "a checker approves the close" "$(decide "$cid")" approved
check_eq "the account is closed" "$(q "SELECT state FROM account WHERE number = 'ACC-EMPTY'")" CLOSED
check_eq "the project is closed" "$(q "SELECT state FROM project WHERE code = 'P-EMPTY'")" CLOSED
check_eq "the close is audited" "$(audit_count account.closed)" 1
check_eq "ACCOUNT_CLOSED is raised" "$(q "SELECT count(*) FROM alert a JOIN project p ON p.id = a.project_id WHERE a.kind = 'ACCOUNT_CLOSED' AND p.code = 'P-EMPTY'")" 1
q "SELECT detail FROM alert WHERE kind = 'ACCOUNT_CLOSED'" >"$T/acd"
check "naming the approval's maker and checker" grep -q 'maker maker1, checker checker1' "$T/acd"
deposit_to ACC-EMPTY DEP-CLOSED 10.00
check_eq "a deposit to the closed account is refused" "$(xval '/*/@outcome' "$T/body")" REFUSED
console maker1 POST /api/projects/P-EMPTY/close '{"reason":"again"}' >/dev/null
check_eq "closing a closed account: 409" "$(status)" 409

# --- closing: refused while months have workers unpaid, or returns are
# earmarked; paid, returned, paid again, then closed -------------------------
# wage_return_to ACCOUNT REF E2E AMOUNT: the core reports a wage payment back
wage_return_to() {
	cat >"$T/return-$2.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-$2</MsgId><CreDtTm>2026-11-02T09:00:00+08:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-$2</Id><CreDtTm>2026-11-02T09:00:00+08:00</CreDtTm>
<Acct><Id><Othr><Id>$1</Id></Othr></Id></Acct>
<Ntry><NtryRef>$2</NtryRef><Amt Ccy="CNY">$4</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-02</Dt></BookgDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>$3</EndToEndId></Refs><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls>
</Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
EOF
	core POST /v1/core/notifications --data-binary @"$T/return-$2.xml" -H 'Content-Type: application/xml' >/dev/null
}
# pay_work NAME MSGID MONTH < lines: a sheet of P-WORK, signed by sub1
pay_work() {
	python3 "$TOOLS/mksheet" --account ACC-WORK --msg-id "$2" --sub "$SUB1_USCC" --month "$3" >"$T/$1.unsigned.xml"
	"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/$1.unsigned.xml" "$T/$1.xml"
	submit "$1"
}
check "a project with one worker is opened" propose_open P-WORK ACC-WORK
printf '%s\t%s\t%s\t%s\t%s\t2026-02-20\t2026-03-02\t2026-04-30\n' "$(worker 0 id)" \
    "$(worker 0 name)" "$SUB1_USCC" "$(worker 0 card)" "$(worker 0 cardbank)" >"$T/w.tsv"
python3 "$TOOLS/mkroster" --project P-WORK --sub "$SUB1_USCC:$SUB1_NAME" <"$T/w.tsv" >"$T/rw.xml"
gc POST /v1/projects/P-WORK/roster --data-binary @"$T/rw.xml" >/dev/null
check_eq "its roster is accepted" "$(status)" 200
deposit_to ACC-WORK DEP-WORK 2000.00
check_eq "its completion on 2026-04-30 is approved" "$(decide "$(console maker1 POST /api/projects/P-WORK/complete '{"completed_on":"2026-04-30"}' | json approval)")" approved
console maker1 POST /api/projects/P-WORK/close '{"reason":"完工"}' >"$T/c3"
check_eq "closing with months unpaid: 409" "$(status)" 409
check "the refusal counts the two months" grep -q '2 month(s) have workers unpaid' "$T/c3"
console viewer1 GET /api/projects/P-WORK >"$T/pw"
check_eq "the project page lists the first unpaid month" "$(json unpaid_months.0.month <"$T/pw")" 2026-03
line W03 0 1000.00 | pay_work w03 WORK-03 2026-03
check_eq "the worker's March wage is paid" "$(grpsts "$T/w03.pain002.xml")" ACSC
line W04 0 1000.00 | pay_work w04 WORK-04 2026-04
check_eq "the worker's April wage is paid" "$(grpsts "$T/w04.pain002.xml")" ACSC
check_eq "nothing left on the account" "$(q "SELECT balance FROM account WHERE number = 'ACC-WORK'")" 0
wage_return_to ACC-WORK RET-W03 W03 1000.00
check_eq "the March payment comes back: earmarked" \
    "$(q "SELECT earmarked FROM account WHERE number = 'ACC-WORK'")" 100000
console maker1 POST /api/projects/P-WORK/close '{"reason":"完工"}' >"$T/c2"
check_eq "closing with earmarked returns: 409" "$(status)" 409
check "the refusal names the earmarked returns" grep -q 'earmarked' "$T/c2"
console viewer1 GET "/api/sheets/$(q "SELECT id FROM sheet WHERE msg_id = 'WORK-03'")" >"$T/ret"
check_eq "the sheet page shows the line returned" "$(json line_list.0.status <"$T/ret")" returned
line B03 0 1000.00 BACKPAY/2026-03 | pay_work b03 WORK-B03 2026-04
check_eq "March is paid again as BACKPAY" "$(grpsts "$T/b03.pain002.xml")" ACSC
check_eq "which spends the earmark" "$(q "SELECT earmarked || '/' || balance FROM account WHERE number = 'ACC-WORK'")" 0/0
wid=$(console maker1 POST /api/projects/P-WORK/close '{"reason":"完工，工资已结清"}' | json approval)
check_eq "with every month paid the close is proposed" "$(status)" 200
check_eq "and approved" "$(decide "$wid")" approved

# --- manual movements: only a deposit's return; the close pays the rest out --------
check "a project with money left is opened" propose_open P-BAL ACC-BAL
deposit_to ACC-BAL DEP-BAL 500.00
console viewer1 POST /api/movements '{"deposit":"DEP-BAL","amount":"200.00"}' >/dev/null
check_eq "a viewer cannot propose a movement: 403" "$(status)" 403
console checker1 POST /api/movements '{"deposit":"DEP-BAL","amount":"200.00"}' >/dev/null
check_eq "a checker cannot propose a movement: 403" "$(status)" 403
console maker1 POST /api/movements '{"deposit":"DEP-BAL","amount":"200.001"}' >/dev/null
check_eq "an amount with three decimals: 400" "$(status)" 400
console maker1 POST /api/movements '{"from":"ACC-BAL","to":"CLEARING-OUT","amount":"500.001","reason":"x"}' >/dev/null
check_eq "in the from/to form too: 400" "$(status)" 400
console maker1 POST /api/movements '{"from":"ACC-BAL","to":"ACC-BAL","amount":"1.00","reason":"x"}' >/dev/null
check_eq "a movement to the same account: 409" "$(status)" 409
console maker1 POST /api/movements '{"from":"ACC-BAL","to":"NO-SUCH","amount":"1.00","reason":"x"}' >/dev/null
check_eq "a movement to an unknown account: 409" "$(status)" 409
console maker1 POST /api/movements '{"from":"CLEARING-IN","to":"CLEARING-OUT","amount":"1.00","reason":"x"}' >/dev/null
check_eq "a movement between clearing accounts only: 409" "$(status)" 409
console maker1 POST /api/movements "{\"from\":\"ACC-BAL\",\"to\":\"$ACCOUNT\",\"amount\":\"100.00\",\"reason\":\"借给另一个项目\"}" >"$T/m60"
check_eq "a movement to another project's dedicated account: 409" "$(status)" 409
check "refused as WP60" grep -q 'WP60: a dedicated account is never debited by hand in favour of another' "$T/m60"
console maker1 POST /api/movements '{"from":"CLEARING-IN","to":"ACC-BAL","amount":"1000000.00","reason":"核心系统漏报的拨付更正"}' >"$T/m61"
check_eq "a credit by hand from the clearing account: 409" "$(status)" 409
check "refused as WP61: deposits come from the core feed" grep -q 'WP61: a dedicated account is never credited by hand' "$T/m61"
console maker1 POST /api/movements '{"from":"ACC-BAL","to":"CLEARING-OUT","amount":"100.00","reason":"x"}' >"$T/m62"
check_eq "a debit out that names no deposit: 409" "$(status)" 409
check "refused as WP62" grep -q 'WP62: a manual debit of a dedicated account is only the return of a named deposit' "$T/m62"
console maker1 POST /api/movements '{"deposit":"NO-SUCH-DEP"}' >"$T/m63"
check_eq "an unknown deposit: 409 WP63" "$(status)/$(grep -c WP63 "$T/m63")" 409/1
console maker1 POST /api/movements '{"deposit":"DEP-BAL","amount":"500.01"}' >"$T/m65"
check_eq "more than the deposit: 409" "$(status)" 409
check "refused as WP65, saying the deposit's amount" grep -q 'WP65: a return of deposit DEP-BAL is at most its amount, 500.00' "$T/m65"
check_eq "none of these was proposed" "$(q "SELECT count(*) FROM approval WHERE kind = 'MANUAL_MOVEMENT'")" 0
mid=$(console maker1 POST /api/movements '{"deposit":"DEP-BAL","amount":"200.00","reason":"多拨部分退还建设单位"}' | json approval)
check_eq "the return of 200.00 of the deposit is proposed" "$(status)" 200
console maker1 POST /api/movements '{"deposit":"DEP-BAL","amount":"1.00"}' >"$T/m64"
check_eq "a second return of it while one waits: 409 WP64" "$(status)/$(grep -c WP64 "$T/m64")" 409/1
check_eq "nothing moves before a checker approves" "$(q "SELECT balance FROM account WHERE number = 'ACC-BAL'")" 50000
console maker1 POST "/api/approvals/$mid" '{"decision":"approve"}' >/dev/null
check_eq "the maker cannot approve the movement: 403" "$(status)" 403
check_eq "a checker approves the movement" "$(decide "$mid")" approved
check_eq "the balance is 300.00" "$(q "SELECT balance FROM account WHERE number = 'ACC-BAL'")" 30000
check_eq "one MANUAL transfer to the clearing account out, referenced by the approval" \
    "$(q "SELECT t.amount || ' ' || t.reference || ' ' || o.number FROM transfer t JOIN account o ON o.id = t.credit_account WHERE t.reason = 'MANUAL'")" "20000 approval:$mid CLEARING-OUT"
check_eq "the movement is audited" "$(audit_count money.manual)" 1
q "SELECT detail FROM alert WHERE kind = 'MANUAL_DEBIT'" >"$T/md"
check "MANUAL_DEBIT is raised with the maker and the checker" grep -q "manual debit of 200.00 yuan by approval $mid (maker maker1, checker checker1): return of deposit DEP-BAL to its payer" "$T/md"
console maker1 POST /api/movements '{"deposit":"DEP-BAL","amount":"1.00"}' >"$T/m64b"
check_eq "the same deposit a second time: 409 WP64" "$(status)/$(grep -c 'already returned' "$T/m64b")" 409/1
check_eq "P-BAL is marked complete on 2026-10-01" "$(decide "$(console maker1 POST /api/projects/P-BAL/complete '{"completed_on":"2026-10-01"}' | json approval)")" approved
bid=$(console maker1 POST /api/projects/P-BAL/close '{"reason":"完工"}' | json approval)
check_eq "with money left the close is proposed: the close pays it out" "$(status)" 200
check_eq "and approved" "$(decide "$bid")" approved
check_eq "the 300.00 left is paid out to the holder, referenced by the approval" \
    "$(q "SELECT amount FROM transfer WHERE reason = 'MANUAL' AND reference = 'approval:$bid'")/$(q "SELECT balance || state FROM account WHERE number = 'ACC-BAL'")" 30000/0CLOSED
check_eq "the payout raises MANUAL_DEBIT" "$(q "SELECT count(*) FROM alert WHERE kind = 'MANUAL_DEBIT' AND detail LIKE '%payout of the balance to the account holder%'")" 1
check_eq "and the closing ACCOUNT_CLOSED" "$(q "SELECT count(*) FROM alert a JOIN project p ON p.id = a.project_id WHERE a.kind = 'ACCOUNT_CLOSED' AND p.code = 'P-BAL'")" 1

# --- closing: refused before the public notice has run --------------------------------
check "another project is opened" propose_open P-RACE ACC-RACE
deposit_to ACC-RACE DEP-RACE 300.00
deposit_to ACC-RACE DEP-RACE2 100.00
check_eq "it is complete on 2026-11-01" "$(decide "$(console maker1 POST /api/projects/P-RACE/complete '{"completed_on":"2026-11-01"}' | json approval)")" approved
console maker1 POST /api/projects/P-RACE/complete '{"completed_on":"2026-11-01"}' >/dev/null
check_eq "a completion is approved once: 409" "$(status)" 409
console maker1 POST /api/projects/P-RACE/close '{"reason":"完工"}' >"$T/c68"
check_eq "closing before its public notice has run: 409" "$(status)" 409
check "saying until when (WP68)" grep -q 'WP68: the public notice of 30 days after completion on 2026-11-01 runs until 2026-11-30' "$T/c68"

# --- a return never takes the money held sheets wait for; a deposit pays them --------
console maker1 POST /api/movements '{"deposit":"DEP-1","amount":"1.00"}' >"$T/m1"
check_eq "a return taking money held sheets wait for: 409" "$(status)" 409
check "the refusal names the held sheets (WP66)" grep -q 'WP66: .*held sheets 12000.00' "$T/m1"
deposit DEP-2 7500.00 >/dev/null
check_eq "the held sheet is paid by a deposit from the core feed" \
    "$(q "SELECT state FROM sheet WHERE msg_id = 'SHEET-HELD'")" PAID
check_eq "the account is down to zero" "$(balance)" 0
check_eq "a rejected return moves nothing" "$(decide "$(console maker1 POST /api/movements '{"deposit":"DEP-RACE2"}' | json approval)" reject)" rejected
check_eq "the account still holds 400.00" "$(q "SELECT balance FROM account WHERE number = 'ACC-RACE'")" 40000

# --- approvals and audit lists --------------------------------------------------------
console viewer1 GET /api/approvals >"$T/ap"
check_eq "approvals waiting: none left" "$(cat "$T/ap")" "[]"
mid2=$(console maker1 POST /api/movements '{"deposit":"DEP-RACE","amount":"1.00","reason":"待审"}' | json approval)
console viewer1 GET /api/approvals >"$T/ap"
check_eq "approvals waiting: the new one" "$(json 0.id <"$T/ap")" "$mid2"
check_eq "approvals waiting: its maker" "$(json 0.maker <"$T/ap")" maker1
console viewer1 GET '/api/approvals?state=all' >"$T/apall"
check "approvals all: decided ones too" test "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <"$T/apall")" -gt 10
console viewer1 GET /api/audit >"$T/au"
check_eq "audit: newest first" "$(json 0.id <"$T/au")" "$(q 'SELECT max(id) FROM audit')"
n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <"$T/au")
check_eq "audit: a page holds the newest 100 or all" "$n" "$(q 'SELECT least(count(*), 100) FROM audit')"
tenth=$(json 9.id <"$T/au")
console viewer1 GET "/api/audit?before=$tenth" >"$T/au2"
check_eq "audit: ?before= pages below that record" "$(json 0.id <"$T/au2")" $((tenth - 1))
check_eq "audit: the hash is shown" "$(json 0.hash <"$T/au")" "$(q 'SELECT encode(hash, '"'hex'"') FROM audit ORDER BY id DESC LIMIT 1')"
console viewer1 GET /api/audit/verify >"$T/v"
check_eq "the chain still verifies after all of it" "$(json ok <"$T/v")" True

# --- a viewer changes nothing, by any call --------------------------------------------
before=$(q "SELECT (SELECT count(*) FROM approval) || '/' || (SELECT count(*) FROM transfer) || '/' || (SELECT count(*) FROM account WHERE state = 'CLOSED')")
for call in "POST /api/projects {\"code\":\"V1\"}" \
    "POST /api/projects/$PROJECT/close {\"reason\":\"x\"}" \
    "POST /api/movements {\"from\":\"CLEARING-IN\",\"to\":\"$ACCOUNT\",\"amount\":\"1.00\",\"reason\":\"x\"}" \
    "POST /api/movements {\"deposit\":\"DEP-RACE\"}" \
    "POST /api/projects/$PROJECT/complete {\"completed_on\":\"2026-10-01\"}" \
    "POST /api/approvals/$mid2 {\"decision\":\"approve\"}" \
    "POST /api/approvals/$mid2 {\"decision\":\"reject\"}" \
    "POST /api/alerts/$aid/retry {}"; do
	set -- $call
	console viewer1 "$1" "$2" "$3" >/dev/null
	check_eq "viewer: $1 $2 refused with 403" "$(status)" 403
done
check_eq "viewer: nothing changed" "$(q "SELECT (SELECT count(*) FROM approval) || '/' || (SELECT count(*) FROM transfer) || '/' || (SELECT count(*) FROM account WHERE state = 'CLOSED')")" "$before"
check_eq "the pending approval is still pending" "$(q "SELECT state FROM approval WHERE id = $mid2")" PENDING

# --- sign-out and failed sign-ins are audited ---------------------------------------
console_login checker1 wrong-password >/dev/null
check_eq "a failed sign-in of an operator is audited" "$(audit_count session.refused)" 1
console_login nobody wrong-password >/dev/null
check_eq "an unknown name's failure is not" "$(q "SELECT count(*) FROM audit WHERE object = 'operator:nobody'")" 0
console viewer1 DELETE /api/session >/dev/null
check_eq "a sign-out is audited" "$(audit_count session.signout)" 1
stale=$(printf '%064d' 7)
q "INSERT INTO operator_session (token_hash, operator_id, expires_at) SELECT sha256(convert_to('$stale', 'UTF8')), id, now() + interval '1 minute' FROM operator WHERE name = 'viewer1'" >/dev/null
curl -sk -o /dev/null -w '%{http_code}' -b "wp_session=$stale" "$URL/api/session" >"$T/status"
check_eq "a session token works while it is valid" "$(status)" 200
q "UPDATE operator_session SET expires_at = now() - interval '1 minute' WHERE token_hash = sha256(convert_to('$stale', 'UTF8'))" >/dev/null
curl -sk -o /dev/null -w '%{http_code}' -b "wp_session=$stale" "$URL/api/session" >"$T/status"
check_eq "and signs nobody in once expired" "$(status)" 401
console_login viewer1 viewer-password-1 >/dev/null
check_eq "a sign-in sweeps expired sessions away" "$(q "SELECT count(*) FROM operator_session WHERE expires_at < now()")" 0

# --- metrics from the database ------------------------------------------------------
sleep 1
curl -sk -o "$T/metrics" "$URL/metrics"
metric() { grep "^$1 " "$T/metrics" | awk '{print $2}'; }
check_eq "metrics: paid sheets" "$(metric 'wagepay_sheets{state="paid"}')" "$(q "SELECT count(*) FROM sheet WHERE state = 'PAID'")"
check_eq "metrics: held sheets" "$(metric 'wagepay_sheets{state="held"}')" 0
check_eq "metrics: lines paid" "$(metric wagepay_lines_paid_total)" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")"
check_eq "metrics: wages paid in fen" "$(metric wagepay_wages_paid_fen_total)" "$(q "SELECT sum(amount) FROM transfer WHERE reason = 'WAGE'")"
check_eq "metrics: balances in fen" "$(metric wagepay_dedicated_balance_fen)" "$(q "SELECT sum(balance) FROM account WHERE kind = 'DEDICATED'")"
check_eq "metrics: approvals waiting" "$(metric wagepay_approvals_pending)" 1
check "metrics: the database latency histogram has a probe" test "$(metric wagepay_db_latency_seconds_count)" -ge 1
check "metrics: alerts undelivered" test "$(metric wagepay_alerts_undelivered)" -ge 1
check "metrics: the backlog of the dead regulator" test "$(metric 'wagepay_alert_backlog{recipient="hrss-dead"}')" -ge 1
check_eq "metrics: the backlog per recipient equals the database's" "$(metric 'wagepay_alert_backlog{recipient="hrss-dead"}')" \
    "$(q "SELECT count(*) FROM alert_undelivered WHERE recipient = 'hrss-dead'")"
check_eq "metrics: sign-ins refused counted" "$(metric 'wagepay_console_signins_total{outcome="refused"}')" 2

# --- the page ---------------------------------------------------------------------------
curl -sk -D "$T/ph" -o "$T/index.html" -w '%{http_code}' "$URL/" >"$T/status"
check_eq "the page: 200" "$(status)" 200
check "the page is HTML" grep -qi '^content-type: text/html' "$T/ph"
check "the page has a Content-Security-Policy without inline script" \
    sh -c "grep -i '^content-security-policy:' '$T/ph' | grep -q \"script-src 'self';\""
check "the page may not be framed" grep -qi '^x-frame-options: DENY' "$T/ph"
check "the page speaks the domain in both languages" grep -q '专用账户' "$T/index.html"
for f in app.js:text/javascript style.css:text/css; do
	curl -sk -D "$T/fh" -o "$T/f" -w '%{http_code}' "$URL/${f%%:*}" >"$T/status"
	check_eq "/${f%%:*}: 200" "$(status)" 200
	check "/${f%%:*}: ${f#*:}" grep -qi "^content-type: ${f#*:}" "$T/fh"
	check "/${f%%:*}: served whole, no padding" cmp -s "$T/f" "$TOP/daemon/console/${f%%:*}"
done
curl -sk -o /dev/null -w '%{http_code}' "$URL/nope.js" >"$T/status"
check_eq "another path: 404" "$(status)" 404
curl -sk -o /dev/null -w '%{http_code}' -X POST "$URL/" >"$T/status"
check_eq "POST to the page: 404" "$(status)" 404

# --- the console's "now" is the daemon's clock (WAGEPAY_CLOCK in tests) -------
daemon_stop
export WAGEPAY_CLOCK=2026-03-15T10:00:00+08:00
daemon_start || { echo "Bail out! restart failed"; exit 1; }
export WAGEPAY_CLOCK=$CLOCK
console_login viewer1 viewer-password-1 >/dev/null
console viewer1 GET "/api/projects/$PROJECT" >"$T/pc"
check_eq "on 2026-03-15 two months of deposits were due" "$(json plan_to_date.months_due <"$T/pc")" 2
check_eq "and 2000000.00 planned by then" "$(json plan_to_date.planned <"$T/pc")" 2000000.00
check_eq "months unpaid are counted to March only" "$(python3 -c 'import json,sys; print(",".join(m["month"] for m in json.load(sys.stdin)["unpaid_months"]))' <"$T/pc")" 2026-03

ledger_exact
finish
