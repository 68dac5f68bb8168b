#!/bin/sh
# Operators' second factor (issue 22, part 3): TOTP (RFC 6238) enrolled by
# --add-operator, which prints the otpauth:// URI (and a QR code on a
# terminal only); the secret is stored sealed (AES-256-GCM under [console]
# totp_key), never in clear; POST /api/session needs the password and the
# current code; a wrong or missing code is a failed sign-in (counted, the
# throttle locks); a code is accepted once (a replay is refused, an older
# one after a newer too); resetting an operator's factor is four eyes (a
# maker proposes, a checker approves): their sessions end, the old code no
# longer signs in, and their next sign-in with the password enrols a new
# factor, whose code then signs in. The daemon runs as a restricted role.
. "$(dirname "$0")/lib.sh"

DAEMON_ROLE=wagepayd_t0791
setup_world || { echo "Bail out! setup failed"; exit 1; }
URL="https://127.0.0.1:$OPORT"
signin() { # JSON: the HTTP status; the body in $T/body
	curl -sk -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d "$1" "$URL/api/session"
}
# code NAME STEP: the code of an operator's factor at a given time step
code_at() {
	python3 - "$T/totp-$1" "$2" <<'EOF'
import base64, hashlib, hmac, struct, sys, urllib.parse
q = urllib.parse.parse_qs(urllib.parse.urlparse(open(sys.argv[1]).read().strip()).query)
s = q["secret"][0]
key = base64.b32decode(s + "=" * (-len(s) % 8))
mac = hmac.new(key, struct.pack(">Q", int(sys.argv[2])), hashlib.sha1).digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
EOF
}
now_step() { echo $(( $(date +%s) / 30 )); }

# --- enrolment ---------------------------------------------------------------
add_operator alice maker alice-password-1
check "--add-operator prints an otpauth://totp/ URI" \
    grep -q '^otpauth://totp/wagepay:alice?secret=[A-Z2-7]\{32\}&issuer=wagepay&algorithm=SHA1&digits=6&period=30$' "$T/factor-alice"
check "and no QR code when standard output is not a terminal" \
    sh -c "[ \$(wc -l <'$T/factor-alice') -eq 2 ]"
echo alice-password-1 | script -qec "$WAGEPAYD -f $CONF --add-operator qr1 --role viewer" /dev/null >"$T/qr.out"
check "a QR code on a terminal (half blocks)" grep -q '▀' "$T/qr.out"
secret=$(sed 's/.*secret=\([A-Z2-7]*\).*/\1/' "$T/totp-alice")
hexsecret=$(python3 -c 'import base64,sys; print(base64.b32decode(sys.argv[1]).hex())' "$secret")
check_eq "the secret is stored sealed: 1 + 12 + 20 + 16 bytes" \
    "$(q "SELECT length(totp_secret) FROM operator WHERE name = 'alice'")" 49
check_eq "its clear bytes appear nowhere in the row" \
    "$(q "SELECT count(*) FROM operator WHERE name = 'alice' AND position(decode('$hexsecret', 'hex') IN totp_secret) > 0")" 0
pg_dump -h "$PGDIR" -U wagepay -d wagepay --data-only -t operator -t audit >"$T/dump.sql"
check "nor the base32 secret in a dump" sh -c "! grep -q '$secret' '$T/dump.sql' && ! grep -q '$hexsecret' '$T/dump.sql'"
check "nor in the daemon's log" sh -c "! grep -q '$secret' '$T/wagepayd.log'"
check_eq "the enrolment is audited" \
    "$(q "SELECT count(*) FROM audit WHERE action = 'operator.added' AND object = 'operator:alice'")" 1

# --- the code is needed, once ----------------------------------------------
check_eq "password without a code: 401" "$(signin '{"name":"alice","password":"alice-password-1"}')" 401
check "and the refusal names no factor" grep -q 'wrong name, password or code' "$T/body"
s=$(now_step)
wrong=$(printf '%06d' $(( ($(code_at alice "$s") + 1) % 1000000 )))
check_eq "a wrong code: 401" "$(signin "{\"name\":\"alice\",\"password\":\"alice-password-1\",\"code\":\"$wrong\"}")" 401
check_eq "a code as a number, not a string: 400" \
    "$(signin '{"name":"alice","password":"alice-password-1","code":123456}')" 400
check_eq "a code two steps old: 401" \
    "$(signin "{\"name\":\"alice\",\"password\":\"alice-password-1\",\"code\":\"$(code_at alice $((s - 3)))\"}")" 401
check_eq "3 failures counted for alice" "$(q "SELECT fails FROM signin_throttle WHERE name = 'alice'")" 3
c=$(code_at alice "$s")
check_eq "the current code: 200" "$(signin "{\"name\":\"alice\",\"password\":\"alice-password-1\",\"code\":\"$c\"}")" 200
check_eq "which clears the failures" "$(q "SELECT count(*) FROM signin_throttle WHERE name = 'alice'")" 0
check_eq "the same code again: 401 (a code signs in once)" \
    "$(signin "{\"name\":\"alice\",\"password\":\"alice-password-1\",\"code\":\"$c\"}")" 401
check "told so" grep -q 'already used' "$T/body"
check "and logged as a replay" grep -q 'sign-in for alice refused: its second-factor code was already used' "$T/wagepayd.log"
check_eq "the step before it, after it: 401" \
    "$(signin "{\"name\":\"alice\",\"password\":\"alice-password-1\",\"code\":\"$(code_at alice $((s - 1)))\"}")" 401
check_eq "the next step's code: 200" \
    "$(signin "{\"name\":\"alice\",\"password\":\"alice-password-1\",\"code\":\"$(code_at alice $((s + 1)))\"}")" 200

# --- resetting a factor: four eyes ---------------------------------------------
echo "$(( s + 1 ))" >"$T/totp-step-alice"
console_login alice alice-password-1 >/dev/null
check_eq "alice signs in (lib.sh's totp_code)" "$(status)" 200
console_login maker1 maker-password-1 >/dev/null
console_login checker1 checker-password-1 >/dev/null
console_login viewer1 viewer-password-1 >/dev/null
console viewer1 POST /api/operators/alice/second-factor/reset '{}' >/dev/null
check_eq "a viewer cannot propose a reset: 403" "$(status)" 403
console maker1 POST /api/operators/nobody/second-factor/reset '{}' >"$T/r0"
check_eq "a reset of an unknown operator: 409" "$(status)" 409
rid=$(console maker1 POST /api/operators/alice/second-factor/reset '{"reason":"lost phone"}' | json approval)
check_eq "a maker proposes the reset: 200" "$(status)" 200
console maker1 POST /api/operators/alice/second-factor/reset '{}' >"$T/r2"
check_eq "a second proposal while one waits: 409" "$(status)" 409
check_eq "nothing reset before a checker decides" \
    "$(q "SELECT totp_secret IS NOT NULL FROM operator WHERE name = 'alice'")" t
console maker1 POST "/api/approvals/$rid" '{"decision":"approve"}' >/dev/null
check_eq "the maker cannot approve it: 403" "$(status)" 403
console alice GET /api/session >/dev/null
check_eq "alice's session still works meanwhile" "$(status)" 200
console checker1 POST "/api/approvals/$rid" '{"decision":"approve"}' >"$T/dec"
check_eq "a checker approves: approved" "$(json state <"$T/dec")" approved
check_eq "the secret is gone" "$(q "SELECT totp_secret IS NULL FROM operator WHERE name = 'alice'")" t
console alice GET /api/session >/dev/null
check_eq "alice's sessions ended: 401" "$(status)" 401
check_eq "the reset is audited, naming the checker" \
    "$(q "SELECT actor FROM audit WHERE action = 'operator.factor_reset' AND object = 'operator:alice'")" operator:checker1
check_eq "a wrong password enrols nothing: 401" \
    "$(signin '{"name":"alice","password":"not-her-password"}')" 401
check "and shows no secret" sh -c "! grep -q otpauth '$T/body'"
old=$(code_at alice "$(now_step)")
check_eq "the old factor's code: 401" \
    "$(signin "{\"name\":\"alice\",\"password\":\"alice-password-1\",\"code\":\"$old\"}")" 401
check "with a new factor to enrol" grep -q '"otpauth": *"otpauth://totp/wagepay:alice?secret=' "$T/body"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["otpauth"])' "$T/body" >"$T/totp-alice"
rm -f "$T/totp-step-alice"
check "a new secret" sh -c "! grep -q '$secret' '$T/totp-alice'"
check_eq "the next sign-in asks no other enrolment: 401 without a code" \
    "$(signin '{"name":"alice","password":"alice-password-1"}')" 401
check "and shows no secret" sh -c "! grep -q otpauth '$T/body'"
console_login alice alice-password-1 >/dev/null
check_eq "the new factor's code signs in: 200" "$(status)" 200
check_eq "enrolment at sign-in is audited" \
    "$(q "SELECT count(*) FROM audit WHERE action = 'operator.factor_enrolled' AND object = 'operator:alice'")" 1

# --- another key file: the factor does not open -----------------------------------
openssl rand -hex 32 >"$T/totp.key"
kill -HUP "$DAEMON_PID"; sleep 1
check_eq "under another totp_key: 500, not a wrong code" "$(signin "$(signin_json checker1 checker-password-1)")" 500
check "logged for the administrator" grep -q 'second factor of operator checker1 does not open under \[console\] totp_key' "$T/wagepayd.log"
# a clean exit after every path above (under ASan, a leak would fail it)
kill -TERM "$DAEMON_PID"
for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
wait "$DAEMON_PID"; rc=$?; DAEMON_PID=
check_eq "SIGTERM after enrolments, replays and resets: exit status 0" "$rc" 0
printf 'not-a-key\n' >"$T/totp.key"
"$WAGEPAYD" -f "$CONF" -n >"$T/n.out" 2>&1
check_eq "-n refuses a key file that is no key" "$?" 1
check "naming it" grep -q 'totp_key: .* must hold a 32-byte key as 64 hexadecimal digits' "$T/n.out"

# --- no totp_key (API.md names none): the factor stored as it is, a warning ---------
sed -i '/^totp_key = /d' "$CONF"
"$WAGEPAYD" -f "$CONF" -n >"$T/n2.out" 2>&1
check_eq "-n: a configuration without totp_key is OK" "$?" 0
daemon_start || { echo "Bail out! the daemon did not start without totp_key"; exit 1; }
check "the daemon warns that second factors are stored unsealed" \
    grep -q 'totp_key is not set: the operators. second factors are stored unsealed' "$T/wagepayd.log"
add_operator carol viewer carol-password-1
check_eq "an operator enrolled without the key: version 0, the secret as it is" \
    "$(q "SELECT get_byte(totp_secret, 0) FROM operator WHERE name = 'carol'")" 0
console_login carol carol-password-1 >/dev/null
check_eq "signs in with password and code: 200" "$(status)" 200
check_eq "a wrong code is refused: 401" \
    "$(signin '{"name":"carol","password":"carol-password-1","code":"000000"}')" 401
check_eq "one sealed under a key does not open without it: 500" \
    "$(signin "$(signin_json alice alice-password-1)")" 500

finish
