#!/bin/sh
# The core's end-of-day statement reconciles (tests/tools/fakecore
# statement): a paid sheet's order taken by the core, the fake core's
# camt.053.001.08 of the day (the deposit, one debit for the order) is
# valid against the official schema and agrees with the ledger (APPLIED, no
# alert); a replay is DUPLICATE. The next day the core's statement misses a
# deposit wagepay booked: APPLIED WP55, RECONCILIATION_BREAK with both
# figures and the entry in question, delivered signed to the regulator,
# once. A statement of an unknown account is refused (WP56), a body that is
# not a camt.053 with FF01.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

FC_PORT=$(free_port)
FC="$T/fakecore"
mkdir -p "$FC"
EXTRA_CONFIG=$(regulator_section hrss 4101 hrss; printf '[core]\npayments_url = https://127.0.0.1:%s/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n' \
    "$FC_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key")
export WAGEPAY_PAYORDER_POLL_MS=200 WAGEPAY_PAYORDER_TIMEOUT=2 WAGEPAY_PAYORDER_BACKOFF_MAX=1
export WAGEPAY_ALERT_POLL_MS=200 WAGEPAY_RULES_INTERVAL=3600
export WAGEPAY_CLOCK=2026-11-10T10:00:00+08:00
fr_start hrss || { echo "Bail out! regulator"; exit 1; }
setup_world || { echo "Bail out! setup failed"; exit 1; }
python3 "$TOOLS/fakecore" serve --port "$FC_PORT" --dir "$FC" --cert "$PKI/server.pem" \
    --key "$PKI/server.key" --ca "$PKI/ca.pem" >"$T/fakecore.out" 2>&1 &
FC_PID=$!
trap 'kill $FC_PID 2>/dev/null; fr_cleanup; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$T/fakecore.out" && break; sleep 0.1; done

# The ledger's day is the database's (China time), whatever the daemon's
# clock says: the statements are of that day and the next.
DAY=$(q "SELECT wp_cst(now())::date")
NEXT=$(q "SELECT wp_cst(now())::date + 1")
fcstmt() { python3 "$TOOLS/fakecore" statement --dir "$FC" --account "$ACCOUNT" \
    --url "https://127.0.0.1:$KPORT" --cert "$PKI/core.pem" --key "$PKI/core.key" "$@"; }
order_msg() { q "SELECT o.msg_id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = '$1'"; }
valid_camt053() { xmllint --noout --schema "$ISO/camt.053.001.08.xsd" "$1" 2>/dev/null; }
breaks() { q "SELECT count(*) FROM alert WHERE kind = 'RECONCILIATION_BREAK'"; }

check "the project is opened" open_project
check "the roster is accepted" roster_demo 10
DEPOSIT_DATE=$DAY deposit DEP-1 50000.00 >/dev/null
tsv 3 0 100.00 >"$T/a.tsv"
sheet a --msg-id RC-A --sub "$SUB1_USCC" --month 2026-10 <"$T/a.tsv"
submit a
check_eq "the sheet is paid" "$(grpsts "$T/a.pain002.xml")" ACSC
MSG=$(order_msg RC-A)
check "the core takes its order" wait_for 15 q_is "SELECT state FROM payment_order WHERE msg_id = '$MSG'" TAKEN

# --- the day agrees --------------------------------------------------------------
check_eq "the core's statement of the day agrees" "$(fcstmt --day "$DAY" --deposit DEP-1=50000.00 --out "$T/s1.xml")" "200 APPLIED -"
check "the statement is valid against the official camt.053.001.08" valid_camt053 "$T/s1.xml"
check_eq "one debit for the order, by its MsgId" "$(xval "//*[local-name()='Ntry'][*[local-name()='CdtDbtInd']='DBIT']/*[local-name()='NtryRef']" "$T/s1.xml")" "$MSG"
check_eq "recorded as agreed: the core's closing, the ledger's, nothing in flight" \
    "$(q "SELECT outcome || ' ' || closing || ' ' || ledger_closing || ' ' || in_flight FROM core_statement")" \
    "AGREED 4970000 4970000 0"
check_eq "no alert" "$(breaks)" 0
check_eq "the audit names the core's certificate" \
    "$(q "SELECT count(*) FROM audit WHERE action = 'statement.agreed' AND detail LIKE '%; certificate %sha256:%'")" 1
core POST /v1/core/statements --data-binary @"$T/s1.xml" -H 'Content-Type: application/xml' >/dev/null
check_eq "the same statement again is DUPLICATE" "$(status) $(xval '/*/@outcome' "$T/body")" "200 DUPLICATE"
check_eq "recorded once" "$(q "SELECT count(*) FROM core_statement")" 1

# --- the next day: a deposit the core does not show -----------------------------
DEPOSIT_DATE=$NEXT deposit DEP-2 1000.00 >/dev/null
check_eq "the next day's statement without it breaks" "$(fcstmt --day "$NEXT" --out "$T/s2.xml")" "200 APPLIED WP55"
check_eq "both figures and the entry in question are recorded" \
    "$(q "SELECT s.outcome || ' ' || s.closing || ' ' || s.ledger_closing || ' ' || b.problem || ' ' || b.ref FROM core_statement s JOIN core_statement_break b ON b.statement_id = s.id")" \
    "BREAK 4970000 5070000 LEDGER_ONLY DEP-2"
check_eq "RECONCILIATION_BREAK is raised once" "$(breaks)" 1
ID=$(alert_id RECONCILIATION_BREAK)
check "it is delivered to the regulator" wait_for 15 sh -c "[ \$(grep -c ' $ID ' '$T/reg-hrss/log' 2>/dev/null) -ge 1 ]"
F=$(fr_file hrss "$ID")
check "signed by the bank and valid against alert.xsd" alert_ok "$F"
check_eq "its kind" "$(xval "//*[local-name()='Kind']" "$F")" RECONCILIATION_BREAK
check_eq "the core's figure and the ledger's" "$(xval "//*[local-name()='Balance']" "$F") $(xval "//*[local-name()='Required']" "$F")" "49700.00 50700.00"
check "the entry in question in its detail" grep -q 'LEDGER_ONLY CRDT DEP-2' "$F"
core POST /v1/core/statements --data-binary @"$T/s2.xml" -H 'Content-Type: application/xml' >/dev/null
check_eq "its replay is DUPLICATE WP55" "$(xval '/*/@outcome' "$T/body") $(xval '/*/@code' "$T/body")" "DUPLICATE WP55"
check_eq "no second alert" "$(breaks)" 1

# --- refusals --------------------------------------------------------------------
sed "s|<Id>$ACCOUNT</Id>|<Id>6228489999999999999</Id>|; s|C053-|X053-|" "$T/s1.xml" >"$T/s3.xml"
core POST /v1/core/statements --data-binary @"$T/s3.xml" -H 'Content-Type: application/xml' >/dev/null
check_eq "an unknown account is refused (WP56)" "$(status) $(xval '/*/@outcome' "$T/body") $(xval '/*/@code' "$T/body")" "200 REFUSED WP56"
core POST /v1/core/statements --data-binary @"$T/camt.xml" -H 'Content-Type: application/xml' >/dev/null
check_eq "a camt.054 is not a statement (FF01)" "$(status) $(xval '/*/@code' "$T/body")" "400 FF01"
sed 's|<Ccy>CNY</Ccy>|<Ccy>CNY</Ccy><Evil/>|' "$T/s1.xml" >"$T/s4.xml"
core POST /v1/core/statements --data-binary @"$T/s4.xml" -H 'Content-Type: application/xml' >/dev/null
check_eq "the official schema is checked first (FF01)" "$(status) $(xval '/*/@code' "$T/body")" "400 FF01"
check_eq "nothing recorded of them" "$(q "SELECT count(*) FROM core_statement")" 2
ledger_exact
finish
