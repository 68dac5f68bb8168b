#!/bin/sh
# The daemon's command line and signals, and opening a project's dedicated
# account with four eyes through the console API.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }

# --- command line ---------------------------------------------------------------
check_eq "-n on a good file: configuration OK" "$("$WAGEPAYD" -f "$CONF" -n 2>&1)" "configuration OK"
printf '[database]\ndsn = x\n[contractor]\nlisten = 127.0.0.1:1\ncolour = blue\n' >"$T/bad.conf"
out=$("$WAGEPAYD" -f "$T/bad.conf" -n 2>&1); rc=$?
check_eq "-n on a bad file: exit 1" "$rc" 1
check_eq "-n names the file and line" "$out" "$T/bad.conf:5: unknown key \"colour\""
sed "s|$PKI/server.key|$PKI/core.key|" "$CONF" | sed '0,/core.key/! s|$PKI/core.key|$PKI/server.key|' >"$T/badkey.conf"
out=$("$WAGEPAYD" -f "$T/badkey.conf" -n 2>&1); rc=$?
check_eq "-n loads the keys: a key that is not the certificate's fails" "$rc" 1
check "-n says which files do not match" sh -c "echo '$out' | grep -q 'could not load private key'"
sed "s|subcontractor_crl = .*|subcontractor_crl = $PKI/sub-ca.pem|" "$CONF" >"$T/nocrl.conf"
out=$("$WAGEPAYD" -f "$T/nocrl.conf" -n 2>&1); rc=$?
check_eq "-n: a CRL file holding no CRL is refused" "$rc" 1
check "-n says so" sh -c "echo '$out' | grep -q 'no CRL in'"
# a CRL signed by another CA than the subcontractors' must be refused
mkdir -p "$T/rcrl" && : >"$T/rcrl/index.txt" && echo 01 >"$T/rcrl/crlnumber"
printf '%s\n' '[ca]' 'default_ca = r' '[r]' "database = $T/rcrl/index.txt" \
    "crlnumber = $T/rcrl/crlnumber" "certificate = $PKI/rogue-ca.pem" \
    "private_key = $PKI/rogue-ca.key" 'default_md = sha256' 'default_crl_days = 30' >"$T/rcrl/ca.cnf"
openssl ca -batch -config "$T/rcrl/ca.cnf" -gencrl -out "$T/rogue-crl.pem" 2>/dev/null
check "a CRL signed by the rogue CA was made" test -s "$T/rogue-crl.pem"
sed "s|subcontractor_crl = .*|subcontractor_crl = $T/rogue-crl.pem|" "$CONF" >"$T/roguecrl.conf"
out=$("$WAGEPAYD" -f "$T/roguecrl.conf" -n 2>&1); rc=$?
check_eq "-n: a CRL not signed by the subcontractor CA: exit 1" "$rc" 1
check "-n says whose CRL it is not" sh -c "echo '$out' | grep -q 'is not signed by a CA'"
# [core] payments_ca/cert/key are loaded and checked with the rest: -n,
# start-up and SIGHUP refuse an unreadable file or a key of another
# certificate, naming the key (not a warning at every poll)
# payconf BASE OUT KEY: BASE with payment orders on, KEY as payments_key
payconf() {
	cp "$1" "$2"
	printf '[core]\npayments_url = https://127.0.0.1:1/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n' \
	    "$PKI/ca.pem" "$PKI/bank-client.pem" "$3" >>"$2"
}
payconf "$CONF" "$T/pay.conf" "$PKI/bank-client.key"
check_eq "-n with payments_ca/cert/key: configuration OK" "$("$WAGEPAYD" -f "$T/pay.conf" -n 2>&1)" "configuration OK"
printf -- '-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n' >"$T/broken.key"
payconf "$CONF" "$T/paybroken.conf" "$T/broken.key"
out=$("$WAGEPAYD" -f "$T/paybroken.conf" -n 2>&1); rc=$?
check_eq "-n: a broken payments_key: exit 1" "$rc" 1
check "-n: FILE: the reason, naming the broken key" sh -c "echo '$out' | grep -q '^$T/paybroken.conf: could not load private key \"$T/broken.key\"'"
payconf "$CONF" "$T/paymissing.conf" "$T/no-such.key"
out=$("$WAGEPAYD" -f "$T/paymissing.conf" -n 2>&1); rc=$?
check_eq "-n: an unreadable payments_key: exit 1" "$rc" 1
check "-n names the unreadable key" sh -c "echo '$out' | grep -q '$T/no-such.key'"
payconf "$CONF" "$T/payother.conf" "$PKI/core.key"
out=$("$WAGEPAYD" -f "$T/payother.conf" -n 2>&1); rc=$?
check_eq "-n: a payments_key of another certificate: exit 1" "$rc" 1
check "-n names the key that is not payments_cert's" sh -c "echo '$out' | grep -q '^$T/payother.conf: could not .*private key.*\"$PKI/core.key\"'"
timeout 20 "$WAGEPAYD" -f "$T/payother.conf" >"$T/paystart.log" 2>&1; rc=$?
check_eq "start-up with a payments_key of another certificate: refused, exit 1" "$rc" 1
check "start-up says which key" grep -q "$PKI/core.key" "$T/paystart.log"
check_eq "--migrate again applies nothing" "$("$WAGEPAYD" -f "$CONF" --migrate 2>&1 | grep -c applied)" 0
echo short | "$WAGEPAYD" -f "$CONF" --add-operator weak --role maker >/dev/null 2>&1
check_eq "--add-operator refuses a short password" "$?" 1
echo long-enough-password | "$WAGEPAYD" -f "$CONF" --add-operator x --role king >/dev/null 2>&1
check_eq "--add-operator refuses an unknown role" "$?" 1

# --- four eyes -------------------------------------------------------------------
console_login maker1 maker-password-1 >/dev/null
check_eq "maker signs in" "$(status)" 200
check "the session cookie is HttpOnly, Secure, SameSite=Strict" grep -q '#HttpOnly_127.0.0.1' "$T/cookies-maker1"
console_login checker1 checker-password-1 >/dev/null
console_login viewer1 viewer-password-1 >/dev/null
curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"name":"maker1","password":"wrong-password"}' "https://127.0.0.1:$OPORT/api/session" >"$T/wrong"
check_eq "a wrong password: 401" "$(cat "$T/wrong")" 401
PROPOSAL="{\"code\":\"$PROJECT\",\"name\":\"$PROJECT_NAME\",\"region\":\"$REGION\",\"industry\":\"$INDUSTRY\",\"owner\":{\"uscc\":\"$OWNER_USCC\",\"name\":\"$OWNER_NAME\"},\"contractor\":{\"uscc\":\"$GC_USCC\",\"name\":\"$GC_NAME\"},\"account\":\"$ACCOUNT\",\"labour_cost_total\":\"1200000.00\",\"contract_months\":12,\"start_month\":\"2026-01\",\"pay_day\":15}"
console viewer1 POST /api/projects "$PROPOSAL" >/dev/null
check_eq "a viewer cannot propose: 403" "$(status)" 403
console checker1 POST /api/projects "$PROPOSAL" >/dev/null
check_eq "a checker cannot propose: 403" "$(status)" 403
console maker1 POST /api/projects "$(echo "$PROPOSAL" | sed 's/"region":"410183"/"region":"41018"/')" >"$T/bad.json"
check_eq "a bad region: 400" "$(status)" 400
check "the 400 says what is wrong" grep -q region "$T/bad.json"
console maker1 POST /api/projects "$(echo "$PROPOSAL" | sed "s/$OWNER_USCC/91410100MA00000001/")" >/dev/null
check_eq "an owner credit code with a bad check character: 400" "$(status)" 400
console maker1 POST /api/projects "$(echo "$PROPOSAL" | sed 's/"1200000.00"/"1200000.001"/')" >/dev/null
check_eq "labour cost with 3 decimals: 400" "$(status)" 400
id=$(console maker1 POST /api/projects "$PROPOSAL" | json approval)
check_eq "the maker's proposal: 200" "$(status)" 200
check_eq "no account before approval" "$(q "SELECT count(*) FROM account WHERE number = '$ACCOUNT'")" 0
console maker1 POST "/api/approvals/$id" '{"decision":"approve"}' >/dev/null
check_eq "the maker cannot approve (not a checker): 403" "$(status)" 403
add_operator admin1 admin admin-password-1
console_login admin1 admin-password-1 >/dev/null
aid=$(console admin1 POST /api/projects "$(echo "$PROPOSAL" | sed 's/XM-2026-0001/XM-ADMIN-1/; s/6228480000000000001/6228480000000000099/')" | json approval)
console admin1 POST "/api/approvals/$aid" '{"decision":"approve"}' >"$T/own.json"
check_eq "an admin cannot approve their own proposal: 403" "$(status)" 403
check "the refusal says four eyes" grep -q 'four eyes' "$T/own.json"
console viewer1 POST "/api/approvals/$id" '{"decision":"approve"}' >/dev/null
check_eq "a viewer cannot approve: 403" "$(status)" 403
curl -sk -b "$T/cookies-checker1" -H 'Origin: https://evil.example' -H 'Content-Type: application/json' \
    -d '{"decision":"approve"}' -o /dev/null -w '%{http_code}' "https://127.0.0.1:$OPORT/api/approvals/$id" >"$T/xs"
check_eq "a cross-site approval: 403" "$(cat "$T/xs")" 403
check_eq "still no account" "$(q "SELECT count(*) FROM account WHERE number = '$ACCOUNT'")" 0
console checker1 POST "/api/approvals/$id" '{"decision":"approve"}' >"$T/approved.json"
check_eq "a different checker approves: 200" "$(status)" 200
check_eq "the approval says approved" "$(json state <"$T/approved.json")" approved
check_eq "the dedicated account is open" "$(q "SELECT state FROM account WHERE number = '$ACCOUNT'")" OPEN
console checker1 POST "/api/approvals/$id" '{"decision":"approve"}' >/dev/null
check_eq "deciding twice: 409" "$(status)" 409
console maker1 POST /api/projects "$PROPOSAL" >/dev/null
check_eq "a second account for the same project: 409" "$(status)" 409
console maker1 POST /api/projects "$(echo "$PROPOSAL" | sed 's/XM-2026-0001/XM-2026-0002/')" >/dev/null
check_eq "another project on the same account number: 409" "$(status)" 409
console viewer1 GET "/api/projects/$PROJECT" >"$T/p.json"
check_eq "a viewer reads the project" "$(status)" 200
check_eq "its balance" "$(json account.balance <"$T/p.json")" 0.00
check_eq "its monthly plan (1,200,000.00 over 12 months)" "$(json months.0.planned <"$T/p.json")" 100000.00
console viewer1 GET /api/audit/verify >"$T/audit.json"
check_eq "the audit chain verifies" "$(json ok <"$T/audit.json")" True
check "the audit trail recorded the opening" sh -c "[ \$(psql -h '$PGDIR' -U wagepay -d wagepay -qAt -c \"SELECT count(*) FROM audit WHERE action = 'account.opened'\") = 1 ]"

# --- signals -------------------------------------------------------------------------
cp "$CONF" "$T/good.conf"
# wait_log PATTERN: up to 10 s for the daemon's log to say it
wait_log() { for _ in $(seq 1 100); do grep -q "$1" "$T/wagepayd.log" && return 0; sleep 0.1; done; return 1; }
echo "colour = blue" >>"$CONF"
kill -HUP "$DAEMON_PID"; wait_log 'reload refused' 
check "a broken reload keeps the daemon running" kill -0 "$DAEMON_PID"
check "and says so in the log" grep -q 'reload refused' "$T/wagepayd.log"
curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$OPORT/healthz" >"$T/h"
check_eq "and still answers" "$(cat "$T/h")" 200
cp "$T/good.conf" "$CONF"
kill -HUP "$DAEMON_PID"
check "a good reload is applied" wait_log 'reloaded' 
payconf "$T/good.conf" "$CONF" "$PKI/core.key"
kill -HUP "$DAEMON_PID"
check "SIGHUP: a payments_key of another certificate is refused" wait_log "reload refused.*$PKI/core.key"
check "and the daemon keeps running" kill -0 "$DAEMON_PID"
payconf "$T/good.conf" "$CONF" "$PKI/bank-client.key"
kill -HUP "$DAEMON_PID"
check "SIGHUP: good payments_ca/cert/key are installed" sh -c "for _ in \$(seq 1 100); do [ \$(grep -c reloaded '$T/wagepayd.log') -ge 2 ] && exit 0; sleep 0.1; done; exit 1"
kill -TERM "$DAEMON_PID"
for _ in $(seq 1 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM: the daemon exits by itself" sh -c "! kill -0 $DAEMON_PID 2>/dev/null"
wait "$DAEMON_PID"; rc=$?; DAEMON_PID=
check_eq "SIGTERM: exit status 0" "$rc" 0
finish
