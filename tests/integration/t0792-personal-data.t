#!/bin/sh
# Personal data at rest (issue 22, part 1). A database written in clear is
# converted by --migrate once [security] keys are set (in batches, with a
# progress line; run again it changes nothing); the rules still match what
# was stored before (AM05 on a month paid in clear, a return's earmark
# released by a BACKPAY line); rosters, sheets, returns, vouchers, the
# roster read back and the console work with the keys; a pg_dump of the
# database holds not one of its workers' ID numbers, card numbers or
# names; a daemon with no keys or another index key refuses the database;
# --rotate-key re-seals everything under a new data key while the daemon
# runs and six sheets are paid (each line once), and the old key can then
# go; orders refused by the core are sent again from the sealed lines.
# The daemon runs as a least-privileged role of its own (DAEMON_ROLE).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

export WAGEPAY_RULES_INTERVAL=3600 WAGEPAY_CLOCK=2026-11-05T09:00:00+08:00
export WAGEPAY_PAYORDER_POLL_MS=200 WAGEPAY_PAYORDER_TIMEOUT=2 WAGEPAY_PAYORDER_BACKOFF_MAX=1
unset WAGEPAY_PII
# as a bank runs it: the daemon's own least-privileged role, the schema's
# owner for --migrate's conversion and --rotate-key (migrate_dsn)
DAEMON_ROLE=${DAEMON_ROLE:-wp_daemon}
# the core takes payment orders (tests/tools/fakecore), refusing them (503)
# until the end, so that every order is sent again from what is stored
FC_PORT=$(free_port)
FC="$T/fakecore"
mkdir -p "$FC"
EXTRA_CONFIG=$(printf '[core]\npayments_url = https://127.0.0.1:%s/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n' \
    "$FC_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key")
setup_world || { echo "Bail out! setup failed"; exit 1; }
check_eq "the daemon connects as its own role, --migrate as the owner" "$(grep -c -e '^dsn = .*user=wp_daemon' -e '^migrate_dsn = .*user=wagepay' "$CONF")" 2
echo "fail 503" >"$FC/mode"
python3 "$TOOLS/fakecore" serve --port "$FC_PORT" --dir "$FC" --cert "$PKI/server.pem" \
    --key "$PKI/server.key" --ca "$PKI/ca.pem" >"$T/fakecore.out" 2>&1 &
FC_PID=$!
trap 'kill $FC_PID 2>/dev/null; fr_cleanup; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$T/fakecore.out" && break; sleep 0.1; done

dump() { as_pg /usr/lib/postgresql/15/bin/pg_dump -h "$PGDIR" -U wagepay wagepay >"$T/dump.sql"; }
# every rostered worker's ID number, card number and name (one a line)
secrets() {
	python3 - "$TOOLS" >"$T/secrets" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1]); import wpids
env = wpids.demo_env()
for i in list(range(0, 8)) + [20, 21]:
    w = wpids.demo_worker(i, env)
    print(w["id"]); print(w["card"]); print(w["name"])
EOF
}
# the secrets the dump holds in clear
leaks() { grep -o -F -f "$T/secrets" "$T/dump.sql" | sort -u | wc -l; }
sealed_under() { q "SELECT string_agg(DISTINCT encode(substring(pii from 2 for 4), 'hex'), ',') FROM (SELECT pii FROM roster_entry UNION ALL SELECT pii FROM roster_version UNION ALL SELECT pii FROM sheet_line) x"; }
in_clear() { q "SELECT (SELECT count(*) FROM roster_entry WHERE pii IS NULL) + (SELECT count(*) FROM roster_version WHERE pii IS NULL) + (SELECT count(*) FROM sheet_line WHERE pii IS NULL) + (SELECT count(*) FROM card_owner WHERE in_clear)"; }

# --- a database in clear, as before 032 ----------------------------------------------
check "the project is opened" open_project
check "six workers are rostered (in clear)" roster_demo 6
deposit DEP-1 50000.00 >/dev/null
{ line E1 0 3000.00; line E2 1 2500.50; } >"$T/l1"
pay s1 SHEET-1 2026-10 1 <"$T/l1"
check_eq "a sheet is paid in clear" "$(grpsts "$T/s1.pain002.xml")" ACSC
wage_return RET-1 E1 3000.00 AC04 >/dev/null
check_eq "a line comes back, earmarked" "$(q "SELECT earmarked FROM account WHERE number = '$ACCOUNT'")" 300000
# conc_tsv K: demo worker K given worker 0's card
conc_tsv() {
	python3 - "$TOOLS" "$SUB1_USCC" "$1" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1]); import wpids
env = wpids.demo_env()
w, v = wpids.demo_worker(int(sys.argv[3]), env), wpids.demo_worker(0, env)
print("\t".join([w["id"], w["name"], sys.argv[2], v["card"], v["cardbank"], w["signed"], w["entered"]]))
EOF
}
conc_tsv 21 | python3 "$TOOLS/mkroster" --project "$PROJECT" >"$T/conc0.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/conc0.xml" -H 'Content-Type: application/xml' >/dev/null
check_eq "in clear, a card given to a second worker raises CARD_CONCENTRATION (keyed by card and ID)" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CONCENTRATION'")" 1
secrets
dump
check "without keys the dump holds the ID and card numbers (the grep finds them)" [ "$(leaks)" -gt 0 ]

# --- converted by --migrate --------------------------------------------------------------
daemon_stop
export WAGEPAY_PII=1
write_config
# a conversion killed half-way: a transaction keeps sheet_line locked, so
# the conversion waits there, its rosters done, and is killed
psql -h "$PGDIR" -U wagepay -d wagepay -qAt -c "BEGIN; LOCK TABLE sheet_line IN SHARE MODE; SELECT pg_sleep(60)" >/dev/null 2>&1 &
LOCKER=$!
sleep 0.5
WAGEPAY_PII_BATCH=2 "$WAGEPAYD" -f "$CONF" --migrate >"$T/convert0.log" 2>&1 &
MIGRATE=$!
check "a conversion converts the rosters, then waits for sheet_line" wait_for 30 grep -q "roster_version: converted 6 rows" "$T/convert0.log"
sleep 0.5
kill -9 "$MIGRATE"; wait "$MIGRATE" 2>/dev/null
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$LOCKER" 2>/dev/null
check_eq "killed there: the rosters converted, the lines still in clear" "$(q "SELECT (SELECT count(*) FROM roster_entry WHERE pii IS NULL) || ' ' || (SELECT count(*) FROM sheet_line WHERE pii IS NULL) || ' ' || (SELECT converted_at IS NULL FROM pii_keyring)")" "0 2 true"
timeout 20 "$WAGEPAYD" -f "$CONF" >"$T/half.log" 2>&1
check "the daemon refuses a half-converted database" sh -c "[ $? = 1 ] && grep -q 'conversion of the database' '$T/half.log'"
WAGEPAY_PII_BATCH=2 "$WAGEPAYD" -f "$CONF" --migrate >"$T/convert.log" 2>&1
check_eq "--migrate run again finishes the conversion" "$?" 0
check_eq "in batches (of 2 here), a progress line each" "$(grep 'roster_entry: converted' "$T/convert0.log" | sed 's/.*converted //' | paste -sd, -)" "2 rows,4 rows,6 rows"
check_eq "going on where it stopped: only the lines were left" "$(grep -c 'roster_entry: converted [0-9]' "$T/convert.log") $(grep 'sheet_line: converted [0-9]' "$T/convert.log" | tail -1 | sed 's/.*converted //')" "0 2 rows"
check_eq "no row is left in clear" "$(in_clear)" 0
check_eq "the index key is recorded" "$(q "SELECT index_key_id IS NOT NULL AND converted_at IS NOT NULL FROM pii_keyring")" t
"$WAGEPAYD" -f "$CONF" --migrate >"$T/convert2.log" 2>&1
check "run again it converts nothing" grep -q "sheet_line: 0 rows converted" "$T/convert2.log"
check "the daemon starts on the converted database" daemon_start
OLD_KEY=$(sealed_under)

# --- the rules on what was stored in clear and what is stored now -----------------------------
check "the roster sent again, with two more workers, is accepted" roster_demo 8
check_eq "the six unchanged entries stored no new version" "$(q "SELECT count(*) FROM roster_version")" 8
conc_tsv 20 >"$T/conc.tsv"
python3 "$TOOLS/mkroster" --project "$PROJECT" <"$T/conc.tsv" >"$T/conc.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/conc.xml" -H 'Content-Type: application/xml' >"$T/conc-receipt.xml"
id20=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import wpids; print(wpids.demo_worker(20, wpids.demo_env())["id"])' "$TOOLS")
check_eq "one person, one card: a card converted from clear is still found (WP15)" "$(xval "//*[local-name()='Refused']/@code" "$T/conc-receipt.xml")" WP15
check_eq "the receipt names the refused worker by the ID number sent" "$(xval "//*[local-name()='Refused']/@idNumber" "$T/conc-receipt.xml")" "$id20"
check_eq "CARD_CONCENTRATION raised, the card's last four digits in its Detail" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CONCENTRATION' AND detail LIKE '%' || right('$(worker 0 card)', 4)")" 2
check_eq "the alert raised in clear is keyed by the indexes now" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CONCENTRATION' AND dedup_key ~ '^CARD:[0-9]+:'")" 0
{ line E3 2 1000.00; line E4 1 1000.00; line E5 0 3000.00 BACKPAY
  printf 'E6\t%s\t%s\t%s\t%s\t1000.00\tWAGE\n' "$(worker 3 id)" "Somebody Else" "$(worker 3 card)" "$(worker 3 cardbank)"; } >"$T/l2"
pay s2 SHEET-2 2026-10 1 <"$T/l2"
check_eq "a sheet with keys: paid in part" "$(grpsts "$T/s2.pain002.xml")" PART
rj() { xval "//*[local-name()='TxInfAndSts'][*[local-name()='OrgnlEndToEndId']='$1']//*[local-name()='Prtry' or local-name()='Cd']" "$T/s2.pain002.xml"; }
check_eq "a month paid in clear is found paid (AM05)" "$(rj E4)" AM05
check_eq "a name that is not the roster's is refused (BE01)" "$(rj E6)" BE01
check_eq "the BACKPAY line releases the earmark of the return stored in clear" "$(q "SELECT earmarked FROM account WHERE number = '$ACCOUNT'")" 0

# --- what is read back ------------------------------------------------------------------
gc GET "/v1/projects/$PROJECT/roster" >"$T/roster-back.xml"
want=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import wpids
e = wpids.demo_env(); print(",".join(sorted(wpids.demo_worker(i, e)["id"] for i in range(8))))' "$TOOLS")
got=$(grep -o '<IdNumber>[^<]*' "$T/roster-back.xml" | sed 's/<IdNumber>//' | paste -sd, -)
check_eq "GET roster: the ID numbers in clear, in their order" "$got" "$want"
check_eq "GET roster: a worker's card in clear" "$(xval "//*[local-name()='Worker'][*[local-name()='IdNumber']='$(worker 0 id)']/*[local-name()='Card']" "$T/roster-back.xml")" "$(worker 0 card)"
gc GET /v1/sheets/SHEET-2/voucher >"$T/v2.xml"
check_eq "voucher: the worker's name in clear" "$(xval "//*[local-name()='Line'][1]/*[local-name()='Name']" "$T/v2.xml")" "$(worker 2 name)"
check "voucher: valid and signed" sh -c "xmllint --noout --schema '$TOP/proto/xsd/voucher.xsd' '$T/v2.xml' 2>/dev/null && xmlsec1 --verify --trusted-pem '$PKI/ca.pem' --enabled-reference-uris empty '$T/v2.xml' >/dev/null 2>&1"
id2=$(worker 2 id)
check_eq "voucher: the ID number masked" "$(xval "//*[local-name()='Line'][1]/*[local-name()='IdNumber']" "$T/v2.xml")" "$(echo "$id2" | cut -c1-4)**********$(echo "$id2" | cut -c15-18)"
console_login viewer1 viewer-password-1 >/dev/null
sid=$(q "SELECT id FROM sheet WHERE msg_id = 'SHEET-2'")
console viewer1 GET "/api/sheets/$sid" >"$T/console-sheet.json"
check_eq "console: a line's ID number masked" "$(json line_list.0.id_number <"$T/console-sheet.json")" "$(echo "$id2" | cut -c1-4)**********$(echo "$id2" | cut -c15-18)"
check "console: no clear ID, card or name in the sheet" sh -c "! grep -q -F -f '$T/secrets' '$T/console-sheet.json'"
console viewer1 GET "/api/workers/$(worker 0 id)/cards" >"$T/cards.json"
check_eq "console: a worker's card history found by ID number" "$(status) $(json versions.0.card_bank <"$T/cards.json")" "200 $(worker 0 cardbank)"

# --- the pg_dump --------------------------------------------------------------------------------
dump
check "the dump is made" [ -s "$T/dump.sql" ]
check_eq "the dump holds none of the workers' ID numbers, card numbers or names" "$(leaks)" 0
[ "$(leaks)" = 0 ] || grep -o -F -f "$T/secrets" "$T/dump.sql" | sort | uniq -c | sed 's/^/# leaked: /'
check "nor does the daemon's log" sh -c "! grep -q -F -f '$T/secrets' '$T/wagepayd.log'"

# --- the keys must be the database's ---------------------------------------------------------------
daemon_stop
cp "$CONF" "$T/keyed.conf"
grep -v -e '^\[security\]' -e '^data_key' -e '^index_key' "$T/keyed.conf" >"$CONF"
timeout 20 "$WAGEPAYD" -f "$CONF" >"$T/nokeys.log" 2>&1
check_eq "without keys the daemon refuses the sealed database" "$?" 1
check "and says why" grep -q "sealed (index key" "$T/nokeys.log"
(umask 077; openssl rand -hex 32 >"$T/keys/other.key")
sed "s|^index_key = .*|index_key = $T/keys/other.key|" "$T/keyed.conf" >"$CONF"
timeout 20 "$WAGEPAYD" -f "$CONF" >"$T/otherkey.log" 2>&1
check_eq "with another index key it refuses too (every lookup would miss)" "$?" 1
pg_stop_immediate
"$WAGEPAYD" -f "$CONF" >"$T/otherkey-down.log" 2>&1 &
DOWN=$!
sleep 1
pg_restart
gone() { ! kill -0 "$DOWN" 2>/dev/null; }
check "started while the database was down, it stops once it sees the other index key" wait_for 30 gone
check "and says why" grep -q "not \[security\] index_key" "$T/otherkey-down.log"
kill -9 "$DOWN" 2>/dev/null
chmod 644 "$T/keys/data.key"
cp "$T/keyed.conf" "$CONF"
"$WAGEPAYD" -f "$CONF" -n >"$T/mode.log" 2>&1
check_eq "a key file others may read is refused" "$?" 1
chmod 600 "$T/keys/data.key"

# --- a new data key, while the daemon runs -----------------------------------------------------------
(umask 077; openssl rand -hex 32 >"$T/keys/data2.key")
sed "s|^data_key = .*|data_key = $T/keys/data2.key\nprevious_data_key = $T/keys/data.key|" "$T/keyed.conf" >"$CONF"
check "the daemon runs with the new data key and the previous one" daemon_start
"$WAGEPAYD" -f "$CONF" --rotate-key "$T/keys/other.key" >"$T/rot-wrong.log" 2>&1
check_eq "--rotate-key to a key that is not data_key is refused" "$?" 1
# six sheets (months 2026-04 .. 2026-09 of workers 2 and 3) sent one after
# another while the rotation goes a row at a time
for m in 4 5 6 7 8 9; do
	{ line "R${m}a" 2 1000.00; line "R${m}b" 3 1000.00; } >"$T/r$m.tsv"
	sheet "r$m" --msg-id "ROT-$m" --sub "$SUB1_USCC" --month "2026-0$m" <"$T/r$m.tsv"
done
(for m in 4 5 6 7 8 9; do submit "r$m"; done) &
SUBMIT=$!
WAGEPAY_PII_BATCH=1 "$WAGEPAYD" -f "$CONF" --rotate-key "$T/keys/data2.key" >"$T/rotate.log" 2>&1
check_eq "--rotate-key re-seals, a row a transaction, while the daemon runs" "$?" 0
wait "$SUBMIT"
check_eq "the six sheets sent meanwhile are paid" "$(for m in 4 5 6 7 8 9; do grpsts "$T/r$m.pain002.xml"; done | sort | uniq -c | awk '{print $1, $2}')" "6 ACSC"
check_eq "each of their lines paid once" "$(q "SELECT count(*) || ' ' || count(DISTINCT t.sheet_id || ':' || t.line_seq) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id LIKE 'ROT-%' AND t.reason = 'WAGE'")" "12 12"
check "the rotation went a row a transaction (a progress line each)" grep -q "sheet_line: re-sealed 2 rows" "$T/rotate.log"
NEW_KEY=$(sealed_under)
check "every record is under one data key, not the old one" [ -n "$NEW_KEY" -a "$NEW_KEY" != "$OLD_KEY" -a "$(echo "$NEW_KEY" | tr -cd , | wc -c)" = 0 ]
daemon_stop
sed "s|^data_key = .*|data_key = $T/keys/data2.key|" "$T/keyed.conf" >"$CONF"
check "the old key gone, the daemon starts" daemon_start
gc GET "/v1/projects/$PROJECT/roster" >"$T/roster-after.xml"
check_eq "the roster still reads back" "$(grep -o '<IdNumber>[^<]*' "$T/roster-after.xml" | sed 's/<IdNumber>//' | paste -sd, -)" "$want"
gc GET /v1/sheets/ROT-9/voucher >"$T/v3.xml"
check_eq "a voucher still opens" "$(status) $(xval "//*[local-name()='Line'][1]/*[local-name()='Name']" "$T/v3.xml")" "200 $(worker 2 name)"
for m in 4 9; do submit "r$m"; done
check_eq "sent again they are answered, not paid again" "$(grpsts "$T/r4.pain002.xml") $(grpsts "$T/r9.pain002.xml") $(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id LIKE 'ROT-%'")" "ACSC ACSC 12"

# --- the payment orders, sent again from the sealed lines ----------------------------------------------
echo ok >"$FC/mode"
taken() { [ "$(q "SELECT count(*) FROM payment_order WHERE state <> 'TAKEN'")" = 0 ]; }
check "every order reaches the core, claimed again from what is stored" wait_for 30 taken
order_of() { grep -l "<EndToEndId>$1<" "$FC"/[0-9]*.xml | tail -1; }
o2=$(order_of E3)
check_eq "the order of a sealed sheet names the worker and card in clear (opened by the daemon)" "$(xval "//*[local-name()='CdtTrfTxInf'][.//*[local-name()='EndToEndId']='E3']/*[local-name()='Cdtr']/*[local-name()='Nm']" "$o2") $(xval "//*[local-name()='CdtTrfTxInf'][.//*[local-name()='EndToEndId']='E3']/*[local-name()='CdtrAcct']//*[local-name()='Id']" "$o2")" "$(worker 2 name) $(worker 2 card)"
check "and is valid against the official pain.001.001.10" xmllint --noout --schema "$ISO/pain.001.001.10.xsd" "$o2"
m2=$(xval "//*[local-name()='GrpHdr']/*[local-name()='MsgId']" "$o2")
check "that order was refused (503) before it was taken from the claim (202)" sh -c "grep -q ' 503 $m2 ' '$FC/log' && grep -q ' 202 $m2 ' '$FC/log'"
ledger_exact
dump
check_eq "the dump after the rotation holds none of them either" "$(leaks)" 0
finish
