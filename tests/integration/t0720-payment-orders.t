#!/bin/sh
# Payment orders reach the core (tests/tools/fakecore): a paid sheet's
# order is a valid pain.001.001.10 with unique InstrIds; the core answering
# 503 first gets it again with the same MsgId, taken once; the core's
# pain.002 turns lines ACCC or RJCT, a rejected line's money back and
# earmarked with PAYMENT_FAILED raised; a replay changes nothing, an
# unknown line is refused (WP52); without payments_url orders wait.
# GET /v1/sheets/{MsgId} then tells each line's settlement (026): ACCC,
# RJCT with the core's reason, RJCT with the return's and AddtlInf RETURNED
# after a camt.054 return; GrpSts ACCC once every line of an ACSC sheet is
# credited; POST answers as it did. The voucher marks each line CREDITED,
# FAILED or RETURNED; /metrics and the console overview count the orders
# waiting.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

FC_PORT=$(free_port)
FC="$T/fakecore"
mkdir -p "$FC"
EXTRA_CONFIG=$(printf '[core]\npayments_url = https://127.0.0.1:%s/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n' \
    "$FC_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key")
export WAGEPAY_PAYORDER_POLL_MS=200 WAGEPAY_PAYORDER_TIMEOUT=2 WAGEPAY_PAYORDER_BACKOFF_MAX=1
export WAGEPAY_RULES_INTERVAL=3600 WAGEPAY_CLOCK=2026-11-05T09:00:00+08:00
# the daemon runs as a role of its own, granted only its entry points
# (issue 22: [database] migrate_dsn, schema/functions/privileges.sql)
DAEMON_ROLE=${DAEMON_ROLE-wagepayd}
setup_world || { echo "Bail out! setup failed"; exit 1; }
echo "fail 503" >"$FC/mode"
python3 "$TOOLS/fakecore" serve --port "$FC_PORT" --dir "$FC" --cert "$PKI/server.pem" \
    --key "$PKI/server.key" --ca "$PKI/ca.pem" --idle 2 >"$T/fakecore.out" 2>&1 &
FC_PID=$!
trap 'kill $FC_PID 2>/dev/null; fr_cleanup; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$T/fakecore.out" && break; sleep 0.1; done

wait_for() { n=$1; shift; for _ in $(seq 1 $((n * 5))); do "$@" && return 0; sleep 0.2; done; return 1; }
# grep -c prints 0 itself when nothing matches; nothing when there is no log yet
count_log() { n=$(grep -c "$1" "$FC/log" 2>/dev/null); echo "${n:-0}"; }
posts() { count_log " $1 "; }
at_least() { [ "$(count_log "^[0-9]* $1 ")" -ge "$2" ]; }
order_state() { q "SELECT o.state FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = '$1'"; }
order_msg() { q "SELECT o.msg_id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = '$1'"; }
fcstatus() { python3 "$TOOLS/fakecore" status --url "https://127.0.0.1:$KPORT" --cert "$PKI/core.pem" --key "$PKI/core.key" "$@"; }
# txs FILE: a pain.002's TxInfAndSts, "E2E TxSts [reason] [AddtlInf's first word]", comma-separated
txs() { python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"}
out = []
for t in ET.parse(sys.argv[1]).getroot().iterfind(".//p:TxInfAndSts", ns):
    r = t.find("p:StsRsnInf/p:Rsn/*", ns)
    a = t.findtext("p:StsRsnInf/p:AddtlInf", namespaces=ns)
    out.append(" ".join(x for x in [t.findtext("p:OrgnlEndToEndId", namespaces=ns),
        t.findtext("p:TxSts", namespaces=ns), r.text if r is not None else None,
        a.split()[0] if a else None] if x))
print(",".join(out))
EOF
}
# vlines FILE: a voucher's lines, "E2E [Settlement]", comma-separated; then Count and Total
vlines() { python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"v": "urn:wagepay:voucher:1"}
d = ET.parse(sys.argv[1]).getroot()
print(",".join(" ".join(x for x in [l.findtext("v:EndToEndId", namespaces=ns),
    l.findtext("v:Settlement", namespaces=ns)] if x) for l in d.iterfind("v:Line", ns)),
    d.findtext("v:Count", namespaces=ns), d.findtext("v:Total", namespaces=ns))
EOF
}

check "the project is opened" open_project
check "the roster is accepted" roster_demo 40
deposit DEP-1 50000.00 >/dev/null
tsv 3 0 100.00 >"$T/a.tsv"
sheet a --msg-id PO-A --sub "$SUB1_USCC" --month 2026-10 <"$T/a.tsv"
submit a
check_eq "the sheet is paid" "$(grpsts "$T/a.pain002.xml")" ACSC
check_eq "its order is written with it" "$(order_state PO-A)" PENDING
MSG=$(order_msg PO-A)

# --- the core answers 503, then takes it ---------------------------------------
check "the core answering 503 gets the order again" wait_for 15 at_least 503 2
echo ok >"$FC/mode"
check "then takes it" wait_for 15 at_least 202 1
check_eq "taken once" "$(grep -c '^[0-9]* 202 ' "$FC/log")" 1
check_eq "every attempt carried the same MsgId" "$(awk '$1 ~ /^[0-9]+$/ {print $3}' "$FC/log" | sort -u)" "$MSG"
check "the order is TAKEN" wait_for 10 sh -c "[ \"\$(psql -h '$PGDIR' -U wagepay -d wagepay -qAt -c \"SELECT state FROM payment_order WHERE msg_id = '$MSG'\")\" = TAKEN ]"
ORDER=$FC/$(awk '$2 == 202 {print $1}' "$FC/log").xml
check "the order is valid against the official pain.001.001.10" xmllint --noout --schema "$ISO/pain.001.001.10.xsd" "$ORDER"
check_eq "one CdtTrfTxInf per paid line" "$(xmllint --xpath "count(//*[local-name()='CdtTrfTxInf'])" "$ORDER")" 3
check_eq "InstrIds unique" "$(grep -o '<InstrId>[^<]*' "$ORDER" | sort -u | wc -l)" 3
check_eq "the dedicated account is the debtor" "$(xval "//*[local-name()='DbtrAcct']//*[local-name()='Id'][not(*)]" "$ORDER")" "$ACCOUNT"
check_eq "Purp SALA on every line" "$(grep -c '<Purp><Cd>SALA</Cd></Purp>' "$ORDER")" 1
# the first attempt was sent by the daemon that paid the sheet, from the
# lines it read; the others were claimed and built from the database
check_eq "every attempt carried the same bytes, the paying daemon's and the claims'" \
    "$(for f in $(awk '$1 ~ /^[0-9]+$/ {print $1}' "$FC/log"); do sha256sum <"$FC/$f.xml"; done | sort -u | wc -l)" 1

# --- the core settles: two credited, one rejected ------------------------------
E2=$(q "SELECT l.end_to_end_id FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'PO-A' AND l.seq = 2")
before=$(balance)
check_eq "the core's pain.002 is applied" "$(fcstatus --order "$ORDER" --reject "$E2=AC04" --out "$T/sts.xml")" "200 APPLIED -"
check "the report is valid against the official pain.002.001.11" xmllint --noout --schema "$ISO/pain.002.001.11.xsd" "$T/sts.xml"
check_eq "two lines credited, one rejected with AC04" "$(q "SELECT string_agg(coalesce(status, '-') || coalesce(' ' || reason, ''), ',' ORDER BY line_seq) FROM payment_order_line WHERE order_msg_id = '$MSG'")" "ACCC,RJCT AC04,ACCC"
check_eq "the rejected line's money is back" "$(balance)" "$((before + 10000))"
check_eq "earmarked for that worker and month" "$(q "SELECT earmarked FROM account WHERE number = '$ACCOUNT'")" 10000
check_eq "PAYMENT_FAILED is raised" "$(q "SELECT count(*) FROM alert WHERE kind = 'PAYMENT_FAILED' AND end_to_end_id = '$E2'")" 1
check_eq "a replay changes nothing" "$(fcstatus --order "$ORDER" --reject "$E2=AC04")" "200 DUPLICATE -"
check_eq "the balance stays" "$(balance)" "$((before + 10000))"
sed "s|<EndToEndId>$E2<|<EndToEndId>NO-SUCH-LINE<|; s|<InstrId>[^<]*-2<|<InstrId>$MSG-99<|" "$ORDER" >"$T/bogus.xml"
check_eq "a status for a line the order does not have is refused (WP52)" "$(fcstatus --order "$T/bogus.xml")" "200 REFUSED WP52"

# --- what the contractor is told of the settlement (026) --------------------------
gc GET /v1/sheets/PO-A >"$T/a-get.xml"
check_eq "GET: 200" "$(status)" 200
check "GET: valid against the official pain.002.001.11" valid_pain002 "$T/a-get.xml"
check_eq "GET: a line refused by the core keeps the group ACSC" "$(grpsts "$T/a-get.xml")" ACSC
check_eq "GET: each line with its outcome: ACCC, RJCT with the core's reason" "$(txs "$T/a-get.xml")" \
    "L0 ACCC,L1 RJCT AC04 refused,L2 ACCC"
submit a
check_eq "POST of the same sheet answers as it did: ACSC" "$(grpsts "$T/a.pain002.xml")" ACSC
check_eq "with no line status" "$(txs "$T/a.pain002.xml")" ""
gc GET /v1/sheets/PO-A/voucher >"$T/a-v.xml"
check "the voucher is valid against voucher.xsd" valid_xsd voucher "$T/a-v.xml"
check_eq "the voucher marks each line; Count and Total what stayed paid" "$(vlines "$T/a-v.xml")" \
    "L0 CREDITED,L1 FAILED,L2 CREDITED 2 200.00"
wage_return RET-A3 L2 100.00 AC06 >/dev/null
check_eq "a camt.054 return of a credited line is applied" "$(xval '//@outcome' "$T/body")" APPLIED
gc GET /v1/sheets/PO-A >"$T/a-get2.xml"
check "GET after the return: valid" valid_pain002 "$T/a-get2.xml"
check_eq "the returned line: RJCT with the return's reason, AddtlInf RETURNED" "$(txs "$T/a-get2.xml")" \
    "L0 ACCC,L1 RJCT AC04 refused,L2 RJCT AC06 RETURNED"
check "its AddtlInf begins RETURNED" grep -q '<AddtlInf>RETURNED ' "$T/a-get2.xml"
gc GET /v1/sheets/PO-A/voucher >"$T/a-v2.xml"
check_eq "the voucher marks it RETURNED" "$(vlines "$T/a-v2.xml")" "L0 CREDITED,L1 FAILED,L2 RETURNED 1 100.00"
check "still valid and signed" sh -c "xmllint --noout --schema '$TOP/proto/xsd/voucher.xsd' '$T/a-v2.xml' 2>/dev/null && xmlsec1 --verify --trusted-pem '$PKI/ca.pem' --enabled-reference-uris empty '$T/a-v2.xml' >/dev/null 2>&1"
# HRSS asks the bank: was this worker paid? (GET /api/workers/{id}/payments)
console_login viewer1 viewer-password-1 >/dev/null
for seq in 1 2 3; do
	idn=$(q "SELECT l.id_number FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'PO-A' AND l.seq = $seq")
	console viewer1 GET "/api/workers/$idn/payments" >/dev/null
	cp "$T/body" "$T/wp$seq"
	check_eq "a worker's payments (line $seq): 200, the line of PO-A, what became of it" \
	    "$(status) $(json payments.0.sheet <"$T/wp$seq") $(json payments.0.month <"$T/wp$seq") $(json payments.0.amount <"$T/wp$seq") $(json payments.0.outcome <"$T/wp$seq") $(json payments.0.reason <"$T/wp$seq")" \
	    "$(case $seq in 1) echo "200 PO-A 2026-10 100.00 CREDITED ";; 2) echo "200 PO-A 2026-10 100.00 REJECTED AC04";; 3) echo "200 PO-A 2026-10 100.00 RETURNED AC06";; esac)"
	check "no whole ID or card number in it" sh -c "! grep -q '$idn' '$T/wp$seq' && ! grep -Eq '[0-9]{16,19}' '$T/wp$seq'"
done
console viewer1 GET "/api/workers/410183200302160288/payments" >/dev/null
check_eq "a worker never paid: an empty list" "$(status) $(json payments <"$T/body")" "200 []"

tsv 2 5 100.00 >"$T/c.tsv"
sheet c --msg-id PO-C --sub "$SUB1_USCC" --month 2026-10 <"$T/c.tsv"
submit c
check_eq "a second sheet is paid" "$(grpsts "$T/c.pain002.xml")" ACSC
MSGC=$(order_msg PO-C)
check "its order is taken" wait_for 15 at_least 202 2
gc GET /v1/sheets/PO-C >"$T/c-get0.xml"
check_eq "taken, no line settled: ACSC and no line status" "$(grpsts "$T/c-get0.xml") $(txs "$T/c-get0.xml")" "ACSC "
ORDER_C=$FC/$(awk -v m="$MSGC" '$2 == 202 && $3 == m {print $1}' "$FC/log").xml
check_eq "the core credits every line" "$(fcstatus --order "$ORDER_C")" "200 APPLIED -"
gc GET /v1/sheets/PO-C >"$T/c-get.xml"
check "GET: valid against the official pain.002.001.11" valid_pain002 "$T/c-get.xml"
check_eq "every line credited: GrpSts ACCC" "$(grpsts "$T/c-get.xml")" ACCC
check_eq "each line ACCC" "$(txs "$T/c-get.xml")" "L0 ACCC,L1 ACCC"
submit c
check_eq "POST of it still answers ACSC" "$(grpsts "$T/c.pain002.xml") $(txs "$T/c.pain002.xml")" "ACSC "
gc GET /v1/sheets/PO-C/voucher >"$T/c-v.xml"
check_eq "its voucher: every line CREDITED" "$(vlines "$T/c-v.xml")" "L0 CREDITED,L1 CREDITED 2 200.00"
check "valid against voucher.xsd" valid_xsd voucher "$T/c-v.xml"

# --- paid in part: the order carries the accepted lines only ------------------------
taken() { [ "$(order_state "$1")" = TAKEN ]; }
tsv 2 10 100.00 dup >"$T/d.tsv"
sheet d --msg-id PO-D --sub "$SUB1_USCC" --month 2026-10 <"$T/d.tsv"
submit d
check_eq "a sheet with a line refused is paid in part" "$(grpsts "$T/d.pain002.xml")" PART
check "its order is taken" wait_for 10 taken PO-D
MSGD=$(order_msg PO-D)
ORDER_D=$FC/$(awk -v m="$MSGD" '$2 == 202 && $3 == m {print $1}' "$FC/log").xml
check_eq "sent once, by the daemon that paid it, at once (attempts 1, one POST)" \
    "$(q "SELECT attempts FROM payment_order WHERE msg_id = '$MSGD'") $(posts "$MSGD")" "1 1"
check "valid against the official pain.001.001.10" xmllint --noout --schema "$ISO/pain.001.001.10.xsd" "$ORDER_D"
check_eq "its lines are the accepted ones, InstrId and EndToEndId as the database has them" \
    "$(grep -o '<InstrId>[^<]*</InstrId><EndToEndId>[^<]*' "$ORDER_D" | sed 's/<[^>]*>/ /g' | awk '{print $1 " " $2}' | paste -sd,)" \
    "$(q "SELECT string_agg(instr_id || ' ' || end_to_end_id, ',' ORDER BY line_seq) FROM payment_order_line WHERE order_msg_id = '$MSGD'")"
check_eq "two of its three lines" "$(xmllint --xpath "count(//*[local-name()='CdtTrfTxInf'])" "$ORDER_D")" 2
check_eq "the core credits both" "$(fcstatus --order "$ORDER_D")" "200 APPLIED -"
# the core closed the kept-open connections after 2 s idle: the next order
# goes on a new one, at the first attempt
sleep 3
tsv 1 14 100.00 >"$T/e.tsv"
sheet e --msg-id PO-E --sub "$SUB1_USCC" --month 2026-10 <"$T/e.tsv"
submit e
check "after the core closed an idle connection, the next order is taken" wait_for 10 taken PO-E
MSGE=$(order_msg PO-E)
check_eq "at its first attempt (one POST, no failure recorded)" \
    "$(q "SELECT attempts || ' ' || coalesce(last_error, '-') FROM payment_order WHERE msg_id = '$MSGE'") $(posts "$MSGE")" "1 - 1"
check_eq "the core credits it" "$(fcstatus --order "$FC/$(awk -v m="$MSGE" '$2 == 202 && $3 == m {print $1}' "$FC/log").xml")" "200 APPLIED -"

# --- a big sheet's order is built by a claim, after the sheet's memory is given
# back (WAGEPAY_PAYORDER_FRESH_LINES, default 10,000: here 2) -----------------------
daemon_stop
export WAGEPAY_PAYORDER_FRESH_LINES=2
daemon_start || { echo "Bail out! the daemon did not restart"; exit 1; }
unset WAGEPAY_PAYORDER_FRESH_LINES
tsv 3 16 100.00 >"$T/f.tsv"
sheet f --msg-id PO-F --sub "$SUB1_USCC" --month 2026-10 <"$T/f.tsv"
submit f
check_eq "a sheet over the fresh limit is paid" "$(grpsts "$T/f.pain002.xml")" ACSC
check "its order is taken" wait_for 10 taken PO-F
MSGF=$(order_msg PO-F)
check_eq "claimed (its lease the claim's, not the paying daemon's minute), once, one POST" \
    "$(q "SELECT (next_attempt_at - created_at < interval '30 seconds') || ' ' || attempts FROM payment_order WHERE msg_id = '$MSGF'") $(posts "$MSGF")" "true 1 1"
ORDER_F=$FC/$(awk -v m="$MSGF" '$2 == 202 && $3 == m {print $1}' "$FC/log").xml
check "valid against the official pain.001.001.10" xmllint --noout --schema "$ISO/pain.001.001.10.xsd" "$ORDER_F"
check_eq "its three lines" "$(xmllint --xpath "count(//*[local-name()='CdtTrfTxInf'])" "$ORDER_F")" 3
check_eq "the core credits them" "$(fcstatus --order "$ORDER_F")" "200 APPLIED -"

# --- no payments_url: orders wait in the outbox ------------------------------------
daemon_stop
EXTRA_CONFIG=
write_config
daemon_start || { echo "Bail out! the daemon did not restart"; exit 1; }
n=$(grep -c '^[0-9]' "$FC/log")
tsv 2 3 100.00 >"$T/b.tsv"
sheet b --msg-id PO-B --sub "$SUB1_USCC" --month 2026-10 <"$T/b.tsv"
submit b
check_eq "a sheet is paid without payments_url" "$(grpsts "$T/b.pain002.xml")" ACSC
sleep 1
check_eq "its order waits in the outbox" "$(order_state PO-B) $(q "SELECT attempts FROM payment_order WHERE msg_id = '$(order_msg PO-B)'")" "PENDING 0"
check_eq "nothing was sent" "$(grep -c '^[0-9]' "$FC/log")" "$n"
curl -sk "https://127.0.0.1:$OPORT/metrics" >"$T/metrics"
check_eq "/metrics: one order pending" "$(grep '^wagepay_payment_orders{state="pending"}' "$T/metrics")" 'wagepay_payment_orders{state="pending"} 1'
check_eq "/metrics: none taken with lines open" "$(grep '^wagepay_payment_orders{state="taken"}' "$T/metrics")" 'wagepay_payment_orders{state="taken"} 0'
check_eq "/metrics: its two lines unsettled" "$(grep '^wagepay_payment_lines_unsettled ' "$T/metrics")" "wagepay_payment_lines_unsettled 2"
check "/metrics: the oldest pending order's age" grep -Eq '^wagepay_payment_order_oldest_pending_seconds [0-9]+$' "$T/metrics"
console_login viewer1 viewer-password-1 >/dev/null
console viewer1 GET /api/overview >"$T/ov"
check_eq "console overview: 200" "$(status)" 200
check_eq "console overview: one order waiting, none in flight or overdue, two lines open" \
    "$(json payment_orders.waiting <"$T/ov") $(json payment_orders.in_flight <"$T/ov") $(json payment_orders.overdue <"$T/ov") $(json payment_orders.lines_unsettled <"$T/ov")" "1 0 0 2"
check_eq "console overview: the waiting order, its sheet and state" \
    "$(json payment_orders.order_list.0.sheet <"$T/ov") $(json payment_orders.order_list.0.state <"$T/ov") $(json payment_orders.order_list.0.msg_id <"$T/ov")" "PO-B pending $(order_msg PO-B)"
check_eq "overdue once settlement_hours (24) have passed" \
    "$(q "SELECT wp_console_overview(now() + interval '25 hours', 24)->'payment_orders'->>'overdue'")" 1
ledger_exact
finish
