#!/bin/sh
# The provincial platforms' feed (issue 20, API.md "Provincial platform
# feed"): tests/tools/fakeplatform checks every body with stock openssl
# (the SM2-SM3 or RSA-SHA256 signature over the exact bytes, SM4 fields
# decrypted), that seqs come without gaps, in order, and that a seq comes
# again only with the same id. A project opened, a deposit, a sheet paid,
# the core crediting two lines and rejecting one, a return: the platform
# that was up (rsa, region 4101) gets them as they happen; the one that was
# down (sm, region 41) gets everything it missed, in order, when it comes
# up, decrypting to the ledger's values. Then a platform that hangs and
# answers 503 gets the next record once it answers; the daemon SIGKILLed
# with a batch in flight sends it again after the lease; an admin's replay
# (maker proposes, checker approves) sends everything again from a seq.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

FC_PORT=$(free_port); SM_PORT=$(free_port); RSA_PORT=$(free_port)
FC="$T/fakecore"; SM="$T/plat-sm"; RSA="$T/plat-rsa"
mkdir -p "$FC" "$SM" "$RSA"
EXTRA_CONFIG=$(printf '[core]\npayments_url = https://127.0.0.1:%s/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n\n' \
    "$FC_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key"
    printf '[platform henan]\nregion = 41\nurl = https://127.0.0.1:%s/feed\nca = %s\ncert = %s\nkey = %s\ncrypto = sm\nsign_cert = %s\nsign_key = %s\ndata_key = %s\n\n' \
    "$SM_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key" "$PKI/bank-sm2.pem" "$PKI/bank-sm2.key" "$PKI/platform-data.key"
    printf '[platform zhengzhou]\nregion = 4101\nurl = https://localhost:%s/feed\nca = %s\ncert = %s\nkey = %s\ncrypto = rsa\nsign_cert = %s\nsign_key = %s\n' \
    "$RSA_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key" "$PKI/bank-sign.pem" "$PKI/bank-sign.key")
export WAGEPAY_PLATFORM_POLL_MS=200 WAGEPAY_PLATFORM_TIMEOUT=2 WAGEPAY_PLATFORM_BACKOFF_MAX=1
export WAGEPAY_PLATFORM_BATCH=4 WAGEPAY_PAYORDER_POLL_MS=200
export WAGEPAY_RULES_INTERVAL=3600 WAGEPAY_CLOCK=2026-11-05T09:00:00+08:00
setup_world || { echo "Bail out! setup failed"; exit 1; }

PIDS=""
fp_start() {	# fp_start DIR PORT CRYPTO SIGN-CERT
	python3 "$TOOLS/fakeplatform" --port "$2" --dir "$1" --cert "$PKI/platform.pem" \
	    --key "$PKI/platform.key" --ca "$PKI/ca.pem" --crypto "$3" --sign-cert "$4" \
	    --data-key "$PKI/platform-data.key" >>"$1.out" 2>&1 &
	echo $! >"$1.pid"
	PIDS="$PIDS $!"
	for _ in $(seq 1 50); do grep -q listening "$1.out" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
python3 "$TOOLS/fakecore" serve --port "$FC_PORT" --dir "$FC" --cert "$PKI/server.pem" \
    --key "$PKI/server.key" --ca "$PKI/ca.pem" >"$T/fakecore.out" 2>&1 &
PIDS="$PIDS $!"
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; cleanup' EXIT
check "the rsa platform (region 4101) is up" fp_start "$RSA" "$RSA_PORT" rsa "$PKI/bank-sign.pem"

taken() { n=$(grep -vc '^#' "$1/records" 2>/dev/null); echo "${n:-0}"; }
has() { [ "$(taken "$1")" -ge "$2" ]; }
# summary DIR: each record taken, "seq kind what", what being the account's
# status, the flow's type, amount and balance after, the payline's EndToEndId
# and status
summary() { python3 - "$1/records" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#"):
        continue
    r = json.loads(line)
    what = {"account": lambda: r["accountStatus"],
            "flow": lambda: "%s %s %s" % (r["flowType"], r["billAmount"], r["accountBalance"]),
            "payline": lambda: "%s %s%s" % (r["endToEndId"], r["payStatus"],
                                           " " + r["statusReason"] if "statusReason" in r else "")}[r["kind"]]()
    print(r["seq"], r["kind"], what)
EOF
}
# the paylines' personal fields as taken: "E2E idNumber name card", sorted
personal() { python3 - "$1/records" <<'EOF'
import json, sys
s = set()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#"):
        continue
    r = json.loads(line)
    if r["kind"] == "payline":
        s.add("%s %s %s %s" % (r["endToEndId"], r["idNumber"], r["name"], r["card"]))
print("\n".join(sorted(s)))
EOF
}
errors() { cat "$1/errors" 2>/dev/null; }

# --- what happens on the account -------------------------------------------------
check "the project is opened" open_project
check "the roster is accepted" roster_demo 40
deposit DEP-1 50000.00 >/dev/null
tsv 3 0 100.00 >"$T/a.tsv"
sheet a --msg-id PF-A --sub "$SUB1_USCC" --month 2026-10 <"$T/a.tsv"
submit a
check_eq "the sheet is paid" "$(grpsts "$T/a.pain002.xml")" ACSC
check_eq "its payment writes one payline event, not one per line" \
    "$(q "SELECT count(*) FROM platform_event e JOIN sheet s ON s.id = e.sheet_id WHERE s.msg_id = 'PF-A'")" 1
check "the core takes the order" wait_for 15 grep -q '^[0-9]* 202 ' "$FC/log"
ORDER=$FC/$(awk '$2 == 202 {print $1; exit}' "$FC/log").xml
check_eq "the core credits two lines, rejects L1" "$(python3 "$TOOLS/fakecore" status --url "https://127.0.0.1:$KPORT" \
    --cert "$PKI/core.pem" --key "$PKI/core.key" --order "$ORDER" --reject "L1=AC04")" "200 APPLIED -"
wage_return RET-A2 L2 100.00 AC06 >/dev/null
check_eq "the card's bank returns L2" "$(xval '//@outcome' "$T/body")" APPLIED

WANT="1 account OPENED
2 flow DEPOSIT 50000.00 50000.00
3 flow WAGE 300.00 49700.00
4 payline L0 PAID
5 payline L1 PAID
6 payline L2 PAID
7 payline L0 CREDITED
8 payline L1 REJECTED AC04
9 payline L2 CREDITED
10 flow REJECTED 100.00 49800.00
11 flow RETURN 100.00 49900.00
12 payline L2 RETURNED AC06"

# --- the platform that was up ---------------------------------------------------------
check "the rsa platform gets all 12 records" wait_for 20 has "$RSA" 12
check_eq "in order, each as it happened, the balance after each flow" "$(summary "$RSA")" "$WANT"
check_eq "every body verified (RSA-SHA256), no gap, no seq with another id" "$(errors "$RSA")" ""
check_eq "the last flow's balance is the account's" "$(balance)" 4990000
check_eq "with rsa the fields are in clear (TLS only)" "$(personal "$RSA" | sed -n 1p | cut -d' ' -f2)" "$(worker 0 id)"
check_eq "bodies of at most 4 records (WAGEPAY_PLATFORM_BATCH)" \
    "$(awk '$1 ~ /^[0-9]+$/ {print $4}' "$RSA/log" | sort -n | tail -1)" 4
check_eq "the bank's client certificate spoke" "$(awk '$1 ~ /^[0-9]+$/ {print $5}' "$RSA/log" | sort -u)" "$BANK_USCC"

# --- the platform that was down ---------------------------------------------------------
check_eq "while down, henan's records wait: none acknowledged" \
    "$(q "SELECT acked_seq FROM platform_feed WHERE name = 'henan'")" 0
check "henan (sm, region 41) comes up" fp_start "$SM" "$SM_PORT" sm "$PKI/bank-sm2.pem"
check "and gets everything it missed" wait_for 20 has "$SM" 12
check_eq "in order, the same records" "$(summary "$SM")" "$WANT"
check_eq "every SM2-SM3 signature verified by openssl, every field decrypted, no gap" "$(errors "$SM")" ""
check "the body carried no ID number, name or card in clear" sh -c "! grep -l -e '$(worker 0 id)' -e '$(worker 0 card)' '$SM'/*.json"
LEDGER=$(q "SELECT l.end_to_end_id || ' ' || l.id_number || ' ' || l.name || ' ' || l.card FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'PF-A' ORDER BY 1")
check_eq "decrypted with the data key, each payline is the ledger's worker, name and card" "$(personal "$SM")" "$LEDGER"
# the paylines' amounts and months as taken: "E2E actual total payMonth isBackPay days", sorted
amounts() { python3 - "$1/records" <<'EOF'
import json, sys
s = set()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#"):
        continue
    r = json.loads(line)
    if r["kind"] == "payline":
        s.add("%s %s %s %s %s %s" % (r["endToEndId"], r["actualAmount"], r["totalPayAmount"],
                                     r["payMonth"], r["isBackPay"], r["days"]))
print("\n".join(sorted(s)))
EOF
}
LEDGER_PAY=$(q "SELECT l.end_to_end_id || ' ' || wp_yuan(l.amount) || ' ' || wp_yuan(l.gross) || ' ' || to_char(l.month, 'YYYY-MM') || ' ' || (l.kind = 'BACKPAY')::int || ' ' || l.days_worked FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'PF-A' ORDER BY 1")
check_eq "each payline's net and gross pay, month, back pay and days are the ledger's" "$(amounts "$SM")" "$LEDGER_PAY"
check_eq "acknowledged up to 12" "$(q "SELECT acked_seq FROM platform_feed WHERE name = 'henan'")" 12

# --- hanging, 503, then ok ------------------------------------------------------------------
echo hang >"$SM/mode"
deposit DEP-2 1000.00 >/dev/null
check "a hanging platform gets seq 13 (and no answer)" wait_for 10 grep -q '^[0-9]* hang 13-13 ' "$SM/log"
echo "fail 503" >"$SM/mode"
check "then a 503" wait_for 15 grep -q '^[0-9]* 503 13-13 ' "$SM/log"
echo ok >"$SM/mode"
check "then it takes seq 13" wait_for 15 has "$SM" 13
check_eq "13 is the deposit" "$(summary "$SM" | tail -1)" "13 flow DEPOSIT 1000.00 50900.00"
check_eq "taken once" "$(grep -Ec '"seq": 13[,}]' "$SM/records")" 1

# --- SIGKILL with a batch in flight ----------------------------------------------------------
echo hang >"$SM/mode"
deposit DEP-3 2000.00 >/dev/null
check "seq 14 is in flight" wait_for 10 grep -q '^[0-9]* hang 14-14 ' "$SM/log"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
echo ok >"$SM/mode"
check "the daemon starts again" daemon_start
check "after the lease, seq 14 is sent again and taken" wait_for 20 has "$SM" 14
check_eq "14 is the deposit, taken once" "$(summary "$SM" | tail -1) $(grep -Ec '"seq": 14[,}]' "$SM/records")" \
    "14 flow DEPOSIT 2000.00 52900.00 1"
check_eq "no gap, nothing out of order" "$(errors "$SM")" ""

# --- replay from a seq: four eyes ------------------------------------------------------------
console_login maker1 maker-password-1 >/dev/null
console_login checker1 checker-password-1 >/dev/null
console maker1 POST /api/platforms/henan/replay '{"from_seq":"20"}' >/dev/null
check_eq "a replay ahead of what was acknowledged is refused (WP75)" "$(status) $(json error <"$T/body" | cut -c1-5)" "409 WP75:"
RID=$(console maker1 POST /api/platforms/henan/replay '{"from_seq":"10"}' | json approval)
check "a maker proposes a replay from seq 10" test -n "$RID"
console maker1 POST "/api/approvals/$RID" '{"decision":"approve"}' >/dev/null
check_eq "the maker cannot approve it" "$(q "SELECT state FROM approval WHERE id = $RID")" PENDING
console checker1 POST "/api/approvals/$RID" '{"decision":"approve"}' >/dev/null
check_eq "a checker approves it" "$(q "SELECT state FROM approval WHERE id = $RID")" APPROVED
check "records 10 to 14 are sent again" wait_for 15 grep -q '^[0-9]* 200 10-1[0-9] ' "$SM/log"
check "and acknowledged again up to 14" wait_for 15 q_is "SELECT acked_seq FROM platform_feed WHERE name = 'henan'" 14
check_eq "the same ids: no error, nothing recorded twice" "$(errors "$SM") $(taken "$SM")" " 14"
console_login viewer1 viewer-password-1 >/dev/null
console viewer1 POST /api/platforms/henan/replay '{"from_seq":"1"}' >/dev/null
check_eq "a viewer cannot propose a replay" "$(status)" 403
console maker1 POST /api/platforms/henan/replay '{"from_seq":"ten"}' >/dev/null
check_eq "from_seq must be a whole number (400)" "$(status)" 400
check_eq "the console shows each platform's backlog" "$(console viewer1 GET /api/platforms | json platforms.0.name) $(json platforms.0.unacked <"$T/body")" "henan 0"
check "/metrics has the feed's gauges" sh -c "curl -sk 'https://127.0.0.1:$OPORT/metrics' | grep -q '^wagepay_platform_backlog{platform=\"henan\"} 0'"
# --- the configuration: -n, start-up and SIGHUP, all or nothing --------------------------------
# bad_conf SED: the running configuration changed by one sed expression, in $T/bad.conf
# and what -n says of it, with its exit status
bad_conf() { sed "$1" "$CONF" >"$T/bad.conf"; "$WAGEPAYD" -f "$T/bad.conf" -n 2>&1; echo "exit $?"; }
echo 0123 >"$T/short.key"
check_eq "-n: the configuration as it runs is OK" "$("$WAGEPAYD" -f "$CONF" -n 2>&1)" "configuration OK"
check_eq "-n: a data key that is not 32 hex digits: which platform, which file, what is wrong; exit 1" \
    "$(bad_conf "s|^data_key = .*|data_key = $T/short.key|" | sed "s|$T/||g")" \
    "bad.conf: [platform henan] data_key \"short.key\": a data key is 32 hexadecimal digits (16 bytes), nothing else
exit 1"
check_eq "-n: an SM2 key where crypto = rsa is named; exit 1" \
    "$(bad_conf "s|^sign_key = .*bank-sign.key|sign_key = $PKI/bank-sm2.key|" | grep -o 'is not an RSA key\|exit 1')" \
    "is not an RSA key
exit 1"
check_eq "-n: a sign_cert that is not the key's is named; exit 1" \
    "$(bad_conf "s|^sign_cert = .*bank-sm2.pem|sign_cert = $PKI/bank-client.pem|" | grep -o 'it is not the certificate of sign_key\|exit 1')" \
    "it is not the certificate of sign_key
exit 1"
cp "$CONF" "$T/good.conf"
sed "s|^data_key = .*|data_key = $T/short.key|" "$T/good.conf" >"$CONF"
kill -HUP "$DAEMON_PID"
check "SIGHUP with a broken platform is refused whole" wait_for 10 grep -q 'reload refused.*platform henan' "$T/wagepayd.log"
cp "$T/good.conf" "$CONF"
deposit DEP-4 10.00 >/dev/null
check "the running set keeps feeding: henan gets the next deposit" wait_for 15 has "$SM" 15
check_eq "15 is it" "$(summary "$SM" | tail -1)" "15 flow DEPOSIT 10.00 52910.00"
check_eq "no error at the platform" "$(errors "$SM")" ""

ledger_exact
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; rc=$?; DAEMON_PID=
check_eq "SIGTERM: the daemon drains and exits 0 (under ASan: nothing leaked)" "$rc" 0
finish
