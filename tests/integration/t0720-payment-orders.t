#!/bin/sh
# Payment orders reach the core (tests/tools/fakecore): a paid sheet's
# order is a valid pain.001.001.10 with unique InstrIds; the core answering
# 503 first gets it again with the same MsgId, taken once; the core's
# pain.002 turns lines ACCC or RJCT, a rejected line's money back and
# earmarked with PAYMENT_FAILED raised; a replay changes nothing, an
# unknown line is refused (WP52); without payments_url orders wait.
. "$(dirname "$0")/lib.sh"

FC_PORT=$(free_port)
FC="$T/fakecore"
mkdir -p "$FC"
EXTRA_CONFIG=$(printf '[core]\npayments_url = https://127.0.0.1:%s/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n' \
    "$FC_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key")
export WAGEPAY_PAYORDER_POLL_MS=200 WAGEPAY_PAYORDER_TIMEOUT=2 WAGEPAY_PAYORDER_BACKOFF_MAX=1
export WAGEPAY_RULES_INTERVAL=3600 WAGEPAY_CLOCK=2026-10-20T09:00:00+08:00
setup_world || { echo "Bail out! setup failed"; exit 1; }
echo "fail 503" >"$FC/mode"
python3 "$TOOLS/fakecore" serve --port "$FC_PORT" --dir "$FC" --cert "$PKI/server.pem" \
    --key "$PKI/server.key" --ca "$PKI/ca.pem" >"$T/fakecore.out" 2>&1 &
FC_PID=$!
trap 'kill $FC_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$T/fakecore.out" && break; sleep 0.1; done

wait_for() { n=$1; shift; for _ in $(seq 1 $((n * 5))); do "$@" && return 0; sleep 0.2; done; return 1; }
posts() { grep -c " $1 " "$FC/log" 2>/dev/null || echo 0; }
at_least() { [ "$(grep -c "^[0-9]* $1 " "$FC/log" 2>/dev/null || echo 0)" -ge "$2" ]; }
order_state() { q "SELECT o.state FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = '$1'"; }
order_msg() { q "SELECT o.msg_id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = '$1'"; }
fcstatus() { python3 "$TOOLS/fakecore" status --url "https://127.0.0.1:$KPORT" --cert "$PKI/core.pem" --key "$PKI/core.key" "$@"; }

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
ledger_exact
finish
