#!/bin/sh
# wagepay-sheet end to end (issue 24): a payroll CSV as Excel saves it
# (GB18030 with Chinese headers, UTF-8 with or without BOM and English
# headers) made into a sheet, signed (PEM and PKCS#12) and sent to a real
# daemon over mutual TLS; every exit status of API.md (0 ACSC, 2 PART, 3
# PDNG, 4 RJCT, 1 any other failure, and status's 5 for CANC); status,
# voucher and cancel; CSV errors reported by row with nothing written. The
# sheet the tool writes names its subcontractor under SchmeNm/Prtry, and a
# confirmation time without a zone is read as China time.
. "$(dirname "$0")/lib.sh"

export WAGEPAY_CLOCK=2026-11-10T10:00:00+08:00
WS=${WAGEPAY_SHEET:-$TOP/build/wagepay-sheet}
URL="https://127.0.0.1"
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "the roster is accepted" roster_demo 30
deposit DEP-1 20000.00 >/dev/null
check_eq "deposit booked" "$(status)" 200
TLS="--url $URL:$CPORT --cert $PKI/contractor.pem --key $PKI/contractor.key --ca $PKI/ca.pem"

# csv ENCODING HEADER FILE [K:NET[:NAME]]...: a payroll of demo workers K of
# subcontractor one; ENCODING gb18030, utf-8 or utf-8-sig; HEADER zh or en.
csv() {
	python3 - "$TOOLS" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import wpids
enc, hdr, out = sys.argv[2], sys.argv[3], sys.argv[4]
env = wpids.demo_env()
head = {'zh': '姓名,身份证号,银行卡号,开户行行号,应发工资,实发工资,出勤天数,确认方式,确认时间,确认凭证',
        'en': 'name,id_number,card,card_bank,gross,net,days,confirmation_method,confirmation_at,confirmation_ref'}[hdr]
rows = [head]
for spec in sys.argv[5:]:
    k, net, *name = spec.split(':')
    w = wpids.demo_worker(wpids.demo_worker_index(0, int(k)), env)
    rows.append(','.join([name[0] if name else w['name'], w['id'], w['card'], w['cardbank'],
                          '"9,999.00"', net, '22', '签字' if hdr == 'zh' else 'SIGN',
                          '2026/10/31 18:05', 'CF-%s' % k]))
open(out, 'wb').write(('\r\n'.join(rows) + '\r\n').encode(enc))
PY
}

# ws ARGS...: runs the tool, its standard output in $T/out, standard
# error in $T/err; prints its exit status.
ws() { "$WS" "$@" >"$T/out" 2>"$T/err"; echo $?; }
balance_now() { balance; }

# --- ACSC: GB18030, Chinese headers; made, signed (PEM), sent: exit 0 -------
csv gb18030 zh "$T/p1.csv" 0:3000.00 1:4000.50 2:2500.00
check_eq "make: exit 0" "$(ws make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-1 "$T/p1.csv")" 0
cp "$T/out" "$T/p1.xml"
check "make: reports the encoding and the total" grep -q "GB18030.*3 lines, total 9500.50 yuan" "$T/err"
valid_pain001() { xmllint --noout --schema "$ISO/pain.001.001.10.xsd" "$1" 2>/dev/null; }
check "make: valid against the official schema" valid_pain001 "$T/p1.xml"
check_eq "make: the subcontractor under SchmeNm/Prtry" "$(xval "//*[local-name()='UltmtDbtr']//*[local-name()='Prtry']" "$T/p1.xml")" USCC
check_eq "make: NbOfTxs computed" "$(xval "//*[local-name()='GrpHdr']/*[local-name()='NbOfTxs']" "$T/p1.xml")" 3
check_eq "make: CtrlSum computed" "$(xval "//*[local-name()='GrpHdr']/*[local-name()='CtrlSum']" "$T/p1.xml")" 9500.50
check_eq "make: the confirmation time as China time" "$(xval "(//*[local-name()='At'])[1]" "$T/p1.xml")" 2026-10-31T18:05:00+08:00
check_eq "sign (PEM, checked with --ca as the bank checks it): exit 0" "$(ws sign --key "$PKI/sub1.key" --cert "$PKI/sub1.pem" --ca "$PKI/sub-ca.pem" "$T/p1.xml")" 0
cp "$T/out" "$T/p1.signed.xml"
check "sign: the bank's verifier agreed" grep -q "signer $SUB1_USCC" "$T/err"
before=$(balance)
# shellcheck disable=SC2086
check_eq "send: ACSC exits 0" "$(ws send $TLS "$T/p1.signed.xml")" 0
check "send: the table names the sheet and its status" grep -q "Status: ACSC" "$T/out"
check_eq "send: the balance lowered by 9500.50" "$(balance)" $((before - 950050))
check_eq "send: three wage transfers" "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'TOOL-1'")" 3
check_eq "send: the confirmation stored as one moment" "$(q "SELECT DISTINCT to_char(confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'TOOL-1'")" "2026-10-31 10:05"
# shellcheck disable=SC2086
check_eq "send again (the same bytes): exit 0" "$(ws send $TLS "$T/p1.signed.xml")" 0
check_eq "send again: nothing paid twice" "$(balance)" $((before - 950050))
# shellcheck disable=SC2086
check_eq "status of a paid sheet: exit 0" "$(ws status $TLS TOOL-1)" 0
# shellcheck disable=SC2086
check_eq "voucher: exit 0" "$(ws voucher $TLS --out "$T/v1.xml" TOOL-1)" 0
check "voucher: the table's total" grep -q "Total: 9500.50" "$T/out"
check "voucher: the saved voucher is the bank's, valid" valid_xsd voucher "$T/v1.xml"
# the core credits the three cards: status shows it, ACCC exits 0
order=$(q "SELECT o.msg_id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = 'TOOL-1'")
{
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"><CstmrPmtStsRpt>'
	printf '<GrpHdr><MsgId>PS-TOOL-1</MsgId><CreDtTm>2026-11-10T11:00:00+08:00</CreDtTm></GrpHdr>'
	printf '<OrgnlGrpInfAndSts><OrgnlMsgId>%s</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.10</OrgnlMsgNmId></OrgnlGrpInfAndSts>' "$order"
	printf '<OrgnlPmtInfAndSts><OrgnlPmtInfId>%s</OrgnlPmtInfId>' "$order"
	for r in 2 3 4; do printf '<TxInfAndSts><OrgnlEndToEndId>TOOL-1-R%s</OrgnlEndToEndId><TxSts>ACCC</TxSts></TxInfAndSts>' $r; done
	printf '</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>\n'
} >"$T/ps.xml"
core POST /v1/core/payment-status --data-binary @"$T/ps.xml" -H 'Content-Type: application/xml' >"$T/ps.ack"
check_eq "the core's status of the three lines: APPLIED" "$(xval '/*/@outcome' "$T/ps.ack")" APPLIED
# shellcheck disable=SC2086
check_eq "status of a credited sheet: exit 0" "$(ws status $TLS TOOL-1)" 0
check "status: ACCC in the table" grep -q "Status: ACCC" "$T/out"
check_eq "status: each credited line, by its row" "$(grep -c '^[234] .*TOOL-1-R[234] .*ACCC.*credited to the worker' "$T/out")" 3

# --- PART: UTF-8 without BOM, English headers; one name not the roster's ---
csv utf-8 en "$T/p2.csv" 3:1000.00 4:1000.00:冒名顶替
check_eq "make (English headers): exit 0" "$(ws make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-2 "$T/p2.csv")" 0
check "make: UTF-8 read as such" grep -q "(UTF-8): 2 lines" "$T/err"
"$WS" sign --key "$PKI/sub1.key" --cert "$PKI/sub1.pem" "$T/out" >"$T/p2.signed.xml" 2>/dev/null
# shellcheck disable=SC2086
check_eq "send: PART exits 2" "$(ws send $TLS "$T/p2.signed.xml")" 2
check "send: the refused line by its spreadsheet row" grep -q "^3 .*TOOL-2-R3 .*RJCT.*BE01" "$T/out"
check "send: its reason in Chinese and English" grep -q "姓名与花名册不符 / name is not the name on the roster" "$T/out"
check "send: the paid line is not listed as refused" sh -c "! grep -q 'TOOL-2-R2' '$T/out'"
check_eq "send: only the good line paid" "$(balance)" $((before - 950050 - 100000))

# --- PDNG: signed with PKCS#12 (password on standard input); cancel --------
csv utf-8-sig zh "$T/p3.csv" 5:9000.00 6:9000.00
"$WS" make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-3 "$T/p3.csv" >"$T/p3.xml" 2>"$T/err"
check "make: UTF-8 with BOM read as such" grep -q "(UTF-8 with BOM)" "$T/err"
openssl pkcs12 -export -inkey "$PKI/sub1.key" -in "$PKI/sub1.pem" -out "$T/sub1.p12" -passout pass:p12-secret-1 2>/dev/null
check_eq "sign (PKCS#12): exit 0" "$(echo p12-secret-1 | "$WS" sign --p12 "$T/sub1.p12" --ca "$PKI/sub-ca.pem" "$T/p3.xml" >"$T/p3.signed.xml" 2>"$T/err"; echo $?)" 0
check_eq "sign (PKCS#12, wrong password): exit 1" "$(echo wrong | "$WS" sign --p12 "$T/sub1.p12" "$T/p3.xml" 2>"$T/err" | wc -c; echo $?)" "0
0"
check "sign (wrong password): said so" grep -q "wrong password" "$T/err"
held_before=$(balance)
# shellcheck disable=SC2086
check_eq "send: PDNG exits 3" "$(ws send $TLS "$T/p3.signed.xml")" 3
check "send: the group's reason AM04 in both languages" grep -q "AM04 专户余额不足.* / held: the dedicated account is short" "$T/out"
check_eq "send: nothing paid while held" "$(balance)" "$held_before"
# shellcheck disable=SC2086
check_eq "status of a held sheet: exit 3" "$(ws status $TLS TOOL-3)" 3
# shellcheck disable=SC2086
check_eq "cancel of a held sheet: exit 0" "$(ws cancel $TLS TOOL-3)" 0
check "cancel: CANC in the table" grep -q "Status: CANC" "$T/out"
# shellcheck disable=SC2086
check_eq "status of a withdrawn sheet: exit 5" "$(ws status $TLS TOOL-3)" 5
# shellcheck disable=SC2086
check_eq "cancel of a paid sheet (409): exit 1" "$(ws cancel $TLS TOOL-1)" 1
check "cancel of a paid sheet: said why" grep -q "only a held (PDNG) sheet" "$T/out"
check_eq "cancel: nothing moved" "$(balance)" "$held_before"

# --- RJCT: an unsigned sheet; a MsgId used for other bytes (409 DU01) -------
# shellcheck disable=SC2086
check_eq "send unsigned: RJCT exits 4" "$(ws send $TLS "$T/p3.xml")" 4
check "send unsigned: WP30 in both languages" grep -q "WP30 未签名或签名格式不符 / not signed" "$T/out"
csv utf-8 zh "$T/p4.csv" 7:500.00
"$WS" make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-1 "$T/p4.csv" 2>/dev/null |
    "$WS" sign --key "$PKI/sub1.key" --cert "$PKI/sub1.pem" - >"$T/p4.signed.xml" 2>/dev/null
# shellcheck disable=SC2086
check_eq "send a reused MsgId: RJCT exits 4" "$(ws send $TLS "$T/p4.signed.xml")" 4
check "send a reused MsgId: DU01 and what to do" sh -c "grep -q 'DU01' '$T/out' && grep -q 'new --msg-id' '$T/out'"
check_eq "RJCT: nothing paid" "$(balance)" "$held_before"

# --- arrears: --backpay pays an earlier month of a worker paid already -------
csv utf-8 zh "$T/p5.csv" 0:100.00
"$WS" make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --backpay --msg-id TOOL-5 "$T/p5.csv" 2>/dev/null |
    "$WS" sign --key "$PKI/sub1.key" --cert "$PKI/sub1.pem" - >"$T/p5.signed.xml" 2>/dev/null
check_eq "make --backpay: the line's month" "$(xval "//*[local-name()='Ustrd']" "$T/p5.signed.xml")" BACKPAY/2026-10
bp_before=$(balance)
# shellcheck disable=SC2086
check_eq "send a BACKPAY of a month paid as WAGE: exit 0" "$(ws send $TLS "$T/p5.signed.xml")" 0
check_eq "BACKPAY paid" "$(balance)" $((bp_before - 10000))

# --- other failures: exit 1 -------------------------------------------------
check_eq "send as another contractor (403): exit 1" "$(ws send --url "$URL:$CPORT" --cert "$PKI/contractor2.pem" --key "$PKI/contractor2.key" --ca "$PKI/ca.pem" "$T/p1.signed.xml")" 1
check "403: said why" grep -q "not the general contractor" "$T/err"
# shellcheck disable=SC2086
check_eq "status of an unknown MsgId (404): exit 1" "$(ws status $TLS NO-SUCH-SHEET)" 1
check_eq "a bank certificate not from --ca: exit 1" "$(ws status --url "$URL:$CPORT" --cert "$PKI/contractor.pem" --key "$PKI/contractor.key" --ca "$PKI/rogue-ca.pem" TOOL-1)" 1
check "untrusted bank: said so" grep -q "not trusted" "$T/err"
check_eq "nobody listening: exit 1" "$(ws status --url "$URL:$(free_port)" --cert "$PKI/contractor.pem" --key "$PKI/contractor.key" --ca "$PKI/ca.pem" TOOL-1)" 1
check_eq "no arguments: exit 1" "$(ws)" 1
check_eq "sign a signed sheet: exit 1" "$(ws sign --key "$PKI/sub1.key" --cert "$PKI/sub1.pem" "$T/p1.signed.xml")" 1
check "sign a signed sheet: said so" grep -q "carries a ds:Signature" "$T/err"

# --- CSV errors: every bad row with its number, nothing written -------------
python3 - "$TOOLS" "$T/bad.csv" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import wpids
env = wpids.demo_env()
w = [wpids.demo_worker(wpids.demo_worker_index(0, k), env) for k in range(12)]
def row(x, idn=None, card=None, net='100.00', at='2026-10-31 18:05'):
    return ','.join([x['name'], idn or x['id'], card or x['card'], x['cardbank'], '200.00', net, '20', 'FACE', at, 'R1'])
bad_id = w[9]['id'][:17] + ('0' if w[9]['id'][17] != '0' else '1')
bad_card = w[10]['card'][:-1] + str((int(w[10]['card'][-1]) + 1) % 10)
rows = ['姓名,身份证号,银行卡号,开户行行号,应发工资,实发工资,出勤天数,确认方式,确认时间,确认凭证',
        row(w[8]), row(w[9], idn=bad_id), row(w[10], card=bad_card), row(w[11], idn='4.10102E+17'),
        row(w[8]), row(w[11], net='300.00'), row(w[11], at='31/10/2026')]
open(sys.argv[2], 'w').write('\n'.join(rows) + '\n')
PY
right=$(python3 - "$TOOLS" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import wpids
env = wpids.demo_env()
print(wpids.demo_worker(wpids.demo_worker_index(0, 9), env)['id'][17], wpids.demo_worker(wpids.demo_worker_index(0, 10), env)['card'][-1])
PY
)
check_eq "bad rows: exit 1" "$(ws make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-9 "$T/bad.csv")" 1
check_eq "bad rows: nothing written" "$(wc -c <"$T/out")" 0
check "row 3: the ID's check digit, and the right one" grep -q "^第 3 行 row 3, 身份证号 id_number: .*should end in ${right% *}\$" "$T/err"
check "row 4: the card's Luhn digit, and the right one" grep -q "^第 4 行 row 4, 银行卡号 card: .*should end in ${right#* }\$" "$T/err"
check "row 5: Excel's scientific notation named" grep -q "^第 5 行 row 5, 身份证号 id_number: .*format the column as Text" "$T/err"
check "row 6: the same worker as row 2" grep -q "^第 6 行 row 6, 身份证号 id_number: .*already on row 2" "$T/err"
check "row 7: net more than gross" grep -q "^第 7 行 row 7, 实发工资 net: .*more than gross pay" "$T/err"
check "row 8: not a date and time" grep -q "^第 8 行 row 8, 确认时间 confirmation_at: " "$T/err"
check "the count of bad rows" grep -q "6 row(s) wrong, nothing written" "$T/err"
check "no full ID number in the messages" sh -c "! grep -q '$(worker 9 id | cut -c1-17)' '$T/err'"
printf 'name,id_number,card\nA,B,C\n' >"$T/cols.csv"
check_eq "missing columns: exit 1" "$(ws make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-9 "$T/cols.csv")" 1
check "missing columns: each named" sh -c "grep -q 'column confirmation_ref missing' '$T/err' && grep -q 'column card_bank missing' '$T/err'"
printf '\377\376\377name\n' >"$T/binary.csv"
check_eq "neither UTF-8 nor GB18030: exit 1" "$(ws make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-9 "$T/binary.csv")" 1
check "neither UTF-8 nor GB18030: said so" grep -q "neither UTF-8 nor GB18030" "$T/err"
check_eq "a bad --subcontractor: exit 1" "$(ws make --account "$ACCOUNT" --subcontractor 91410105052839828X --month 2026-10 --msg-id TOOL-9 "$T/p1.csv")" 1
for e in gb18030 utf-8-sig; do
	csv $e zh "$T/same-$e.csv" 0:3000.00 1:4000.50
	"$WS" make --account "$ACCOUNT" --subcontractor "$SUB1_USCC" --month 2026-10 --msg-id TOOL-8 --created 2026-11-02T09:00:00+08:00 "$T/same-$e.csv" >"$T/same-$e.xml" 2>/dev/null
done
check "GB18030 and UTF-8 with BOM make the same sheet" cmp -s "$T/same-gb18030.xml" "$T/same-utf-8-sig.xml"

# --- a standard generator's time without a zone: China time -----------------
line Z1 8 100.00 >"$T/lz"
sheet z --msg-id ZONELESS-1 --sub "$SUB1_USCC" --month 2026-10 --confirmed 2026-10-31T18:05:00 <"$T/lz"
submit z
check_eq "a Confirmation/At without a zone: ACSC" "$(grpsts "$T/z.pain002.xml")" ACSC
check_eq "stored as China time" "$(q "SELECT to_char(confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'ZONELESS-1'")" "2026-10-31 10:05"

ledger_exact
finish
