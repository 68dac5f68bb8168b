#!/bin/sh
# The console's daily work (issue 24, part 4), on a real world: a sheet's
# lines as CSV (GET /api/sheets/{MsgId}/lines.csv): signed-in operators
# only, text/csv with a UTF-8 BOM, a header row in Chinese and English, one
# row per line with ID and card numbers masked (no clear one anywhere),
# amounts in yuan, status and settlement outcome; cells a spreadsheet would
# take for a formula (= + - @) guarded by a leading apostrophe; 404 for an
# unknown MsgId, 409 for a MsgId of two contractors, 400 for bad input.
# And the fields the console's pages read added to the JSON: each sheet
# line's outcome, the voucher's count and total, the account number of
# alerts and audit records.
. "$(dirname "$0")/lib.sh"
# wage_return (the card's bank sends a paid line back, camt.054)
. "$(dirname "$0")/t03-lib.sh"

CLOCK=2026-11-20T10:00:00+08:00
export WAGEPAY_CLOCK=$CLOCK
setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project || { echo "Bail out! could not open the project"; exit 1; }
roster_demo 12 || { echo "Bail out! roster refused"; exit 1; }
console_login viewer1 viewer-password-1 >/dev/null
URL="https://127.0.0.1:$OPORT"

# csv AS PATH: GETs PATH into $T/csv (headers in $T/csvh), status in $T/status
csv() {
	curl -sk -b "$T/cookies-$1" -D "$T/csvh" -o "$T/csv" -w '%{http_code}' "$URL$2" >"$T/status"
}

# --- a sheet whose EndToEndIds and one name are formulas ------------------------
deposit DEP-1 10000.00 >/dev/null
{
	line E1 0 3000.00
	line '=1+2' 1 2500.00
	line '-E3' 2 1000.00
	line '+E4' 3 500.00
	# a name not the roster's (refused BE01) that a spreadsheet would run
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' E5 "$(worker 4 id)" '@SUM(1,2)"x' \
	    "$(worker 4 card)" "$(worker 4 cardbank)" 700.00 WAGE
} >"$T/l1"
sheet s1 --msg-id SHEET-CSV-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
submit s1
check_eq "the sheet is paid but for the line with the wrong name" "$(grpsts "$T/s1.pain002.xml")" PART
wage_return RET-E1 E1 3000.00 >/dev/null
check_eq "E1 comes back from the card's bank" "$(q "SELECT count(*) FROM line_return WHERE entry_ref = 'RET-E1'")" 1

# --- the gate ------------------------------------------------------------------
audit_before=$(q "SELECT count(*) FROM audit")
curl -sk -o "$T/nosession" -w '%{http_code}' "$URL/api/sheets/SHEET-CSV-1/lines.csv" >"$T/status"
check_eq "without a session: 401" "$(status)" 401
check "and no line of the sheet in the answer" sh -c "! grep -q E1 '$T/nosession'"

# --- the file ------------------------------------------------------------------
csv viewer1 /api/sheets/SHEET-CSV-1/lines.csv
check_eq "a viewer gets the CSV: 200" "$(status)" 200
check "text/csv; charset=utf-8" grep -qi '^content-type: text/csv; charset=utf-8' "$T/csvh"
check "offered as a file named after the MsgId" grep -qi '^content-disposition: attachment; filename="SHEET-CSV-1-lines.csv"' "$T/csvh"
check_eq "it begins with the UTF-8 BOM" "$(head -c 3 "$T/csv" | od -An -tx1 | tr -d ' \n')" efbbbf
tail -c +4 "$T/csv" >"$T/csv.nobom"
check_eq "the header row, in Chinese and English" "$(head -n 1 "$T/csv.nobom" | tr -d '\r')" \
    '端到端编号 EndToEndId,姓名 Name,身份证号（脱敏）ID number (masked),工资卡（脱敏）Card (masked),金额（元）Amount (CNY),状态 Status,到账结果 Settlement'
check_eq "rows end in CRLF" "$(grep -c "$(printf '\r')\$" "$T/csv.nobom")" 6
check_eq "one row per line, and the header" "$(wc -l <"$T/csv.nobom" | tr -d ' ')" 6
# the rows read back by a CSV reader
python3 - "$T/csv" >"$T/rows" <<'PY'
import csv, sys
with open(sys.argv[1], encoding='utf-8-sig', newline='') as f:
    for r in list(csv.reader(f))[1:]:
        print('|'.join(r))
PY
row() { sed -n "${1}p" "$T/rows"; }
# a name as the console shows it: in clear, or masked with keys (WAGEPAY_PII=1)
shown() {
	if [ -n "${WAGEPAY_PII:-}" ]; then
		python3 -c 'import sys; s=sys.argv[1]; print(s[0] + "*" * (len(s) - 1))' "$1"
	else
		printf '%s\n' "$1"
	fi
}
mask() { python3 -c 'import sys; s=sys.argv[1]; print(s[:4] + "*" * (len(s) - 8) + s[-4:])' "$1"; }
check_eq "a line returned by the card's bank: masked, yuan, money back, RETURNED" "$(row 1)" \
    "E1|$(shown "$(worker 0 name)")|$(mask "$(worker 0 id)")|$(mask "$(worker 0 card)")|3000.00|资金退回 money back|银行退回 RETURNED AC04"
check_eq "an EndToEndId beginning with = is guarded" "$(row 2 | cut -d'|' -f1)" "'=1+2"
check_eq "its line is paid, not settled yet" "$(row 2 | cut -d'|' -f5-)" "2500.00|已支付 paid|已付款待到账 PAID"
check_eq "an EndToEndId beginning with - is guarded" "$(row 3 | cut -d'|' -f1)" "'-E3"
check_eq "an EndToEndId beginning with + is guarded" "$(row 4 | cut -d'|' -f1)" "'+E4"
check_eq "a name beginning with @ is guarded, its quote kept" "$(row 5 | cut -d'|' -f2)" "'$(shown '@SUM(1,2)"x')"
check "the refused line says why (BE01), with no settlement" sh -c "row() { sed -n 5p '$T/rows'; }; row | grep -q '|已拒绝 refused BE01: .*|\$'"
check "raw: the guarded cell is quoted whole, its quote doubled" \
    grep -qF "\"'$(shown '@SUM(1,2)"x' | sed 's/"/""/g')\"" "$T/csv.nobom"
check "raw: no cell begins with a formula character" sh -c "! grep -qE '(^|,)\"?[=+@-]' '$T/csv.nobom'"
for k in 0 1 2 3 4; do
	check "no clear ID number of worker $k in the file" sh -c "! grep -q '$(worker $k id)' '$T/csv'"
	check "no clear card of worker $k in the file" sh -c "! grep -q '$(worker $k card)' '$T/csv'"
done
csv viewer1 "/api/sheets/SHEET-CSV-1/lines.csv?contractor=$GC_USCC"
check_eq "the general contractor named: the same file" "$(status)/$(tail -c +4 "$T/csv" | cmp -s - "$T/csv.nobom" && echo same)" 200/same

# --- refusals --------------------------------------------------------------------
csv viewer1 /api/sheets/NO-SUCH-SHEET/lines.csv
check_eq "an unknown MsgId: 404" "$(status)" 404
check "saying so" grep -q 'no sheet has that MsgId' "$T/csv"
csv viewer1 "/api/sheets/SHEET-CSV-1/lines.csv?contractor=$SUB1_USCC"
check_eq "a MsgId another contractor never sent: 404" "$(status)" 404
csv viewer1 "/api/sheets/SHEET-CSV-1/lines.csv?contractor=12345"
check_eq "a contractor that is no credit code: 400" "$(status)" 400
check "saying what it must be" grep -q 'unified social credit code' "$T/csv"
csv viewer1 "/api/sheets/$(printf 'A%.0s' $(seq 1 36))/lines.csv"
check_eq "a MsgId of 36 characters: 400" "$(status)" 400
check "saying what a MsgId is" grep -q '1 to 35 characters' "$T/csv"
csv viewer1 "/api/sheets/A%01B/lines.csv"
check_eq "a MsgId with a control character: 400" "$(status)" 400
csv viewer1 "/api/sheets/SHEET-CSV-1%00X/lines.csv"
check_eq "a MsgId with a NUL in it: 400, not read short" "$(status)" 400
csv viewer1 "/api/sheets/A%FFB/lines.csv"
check_eq "a MsgId that is not UTF-8: 400" "$(status)" 400
csv viewer1 "/api/sheets/SHEET%2DCSV%2D1/lines.csv"
check_eq "a MsgId percent-encoded is read decoded" "$(status)" 200
# the same MsgId sent by another contractor (as a second row of the table,
# there being one general contractor in the dev PKI)
q "INSERT INTO sheet (contractor_uscc, msg_id, digest, project_id, account_id, subcontractor_uscc, month, state, nb_of_txs, ctrl_sum, accepted_count, accepted_total) SELECT '$SUB1_USCC', msg_id, digest, project_id, account_id, subcontractor_uscc, month, 'REJECTED', nb_of_txs, ctrl_sum, 0, 0 FROM sheet WHERE msg_id = 'SHEET-CSV-1'" >/dev/null
csv viewer1 /api/sheets/SHEET-CSV-1/lines.csv
check_eq "a MsgId of two contractors, none named: 409" "$(status)" 409
check "saying how to name one" grep -q 'add ?contractor=' "$T/csv"
csv viewer1 "/api/sheets/SHEET-CSV-1/lines.csv?contractor=$GC_USCC"
check_eq "the general contractor named: 200" "$(status)" 200
check_eq "reading it wrote nothing: no audit record more" "$(q "SELECT count(*) FROM audit")" "$audit_before"

# --- the JSON the pages read ------------------------------------------------------
sid=$(q "SELECT id FROM sheet WHERE msg_id = 'SHEET-CSV-1' AND contractor_uscc = '$GC_USCC'")
console viewer1 GET "/api/sheets/$sid" >"$T/sh"
check_eq "sheet: a line's settlement outcome" "$(json line_list.1.outcome <"$T/sh")" PAID
check_eq "sheet: a returned line's outcome and reason" "$(json line_list.0.outcome <"$T/sh")/$(json line_list.0.outcome_reason <"$T/sh")" RETURNED/AC04
check_eq "sheet: a refused line has none" "$(json line_list.4.outcome <"$T/sh")" ""
check_eq "sheet: the voucher can be issued" "$(json voucher.issuable <"$T/sh")" True
check_eq "sheet: the voucher counts the lines that stayed paid" "$(json voucher.count <"$T/sh")/$(json voucher.total <"$T/sh")/$(json voucher.back <"$T/sh")" 3/4000.00/1
console viewer1 GET /api/audit >"$T/au"
python3 -c 'import json,sys; print(next(r["account"] for r in json.load(sys.stdin) if r["action"] == "sheet.paid"))' <"$T/au" >"$T/acc"
check_eq "audit: a record of the account's chain names the account's number" "$(cat "$T/acc")" "$ACCOUNT"
console viewer1 GET '/api/alerts?state=all' >"$T/al"
python3 -c 'import json,sys; print(next(a["account"] for a in json.load(sys.stdin) if a["kind"] == "MISUSE_ATTEMPT"))' <"$T/al" >"$T/acc"
check_eq "alerts: each names its project's account number" "$(cat "$T/acc")" "$ACCOUNT"

ledger_exact
finish
