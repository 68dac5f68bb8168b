#!/bin/sh
# The console's guards, by its JSON API: roles (a viewer changes nothing),
# four eyes, cross-site refusal by Origin, the sign-in throttle, the session
# cookie's attributes, the audit chain (a tampered row is named), and the
# Prometheus text of /metrics.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
add_operator admin1 admin admin-password-1 ||
	{ echo "Bail out! could not add admin1"; exit 1; }
URL="https://127.0.0.1:$OPORT"

project_json() { # CODE ACCOUNT
	echo "{\"code\":\"$1\",\"name\":\"工程 $1\",\"region\":\"$REGION\",\"industry\":\"$INDUSTRY\",\"owner\":{\"uscc\":\"$OWNER_USCC\",\"name\":\"$OWNER_NAME\"},\"contractor\":{\"uscc\":\"$GC_USCC\",\"name\":\"$GC_NAME\"},\"account\":\"$2\",\"labour_cost_total\":\"1200000.00\",\"contract_months\":12,\"start_month\":\"2026-01\",\"pay_day\":15}"
}

# --- the session cookie ----------------------------------------------------
curl -sk -D "$T/headers" -o /dev/null -H 'Content-Type: application/json' \
    -d "$(signin_json maker1 maker-password-1)" "$URL/api/session"
cookie=$(grep -i '^set-cookie:' "$T/headers" | tr -d '\r')
check "sign-in cookie is HttpOnly" sh -c "echo '$cookie' | grep -q 'HttpOnly'"
check "sign-in cookie is Secure" sh -c "echo '$cookie' | grep -q 'Secure'"
check "sign-in cookie is SameSite=Strict" sh -c "echo '$cookie' | grep -q 'SameSite=Strict'"
console_login maker1 wrong-password >/dev/null
check_eq "a wrong password: 401" "$(status)" 401
console_login nobody whatever-password >/dev/null
check_eq "an unknown name: 401" "$(status)" 401
curl -sk -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "$(project_json NOCOOKIE ACC-NOCOOKIE)" "$URL/api/projects" >"$T/status"
check_eq "no cookie: 401" "$(status)" 401
curl -sk -o /dev/null -w '%{http_code}' -b "wp_session=$(printf '%064d' 0)" \
    "$URL/api/projects/$PROJECT" >"$T/status"
check_eq "a made-up session token: 401" "$(status)" 401

for who in maker1:maker-password-1 checker1:checker-password-1 \
    viewer1:viewer-password-1 admin1:admin-password-1; do
	console_login "${who%%:*}" "${who#*:}" >/dev/null
	check_eq "sign-in ${who%%:*}: 200" "$(status)" 200
done

# --- roles -----------------------------------------------------------------
console viewer1 POST /api/projects "$(project_json VIEWER-1 ACC-VIEWER-1)" >/dev/null
check_eq "a viewer cannot propose a project: 403" "$(status)" 403
console checker1 POST /api/projects "$(project_json CHECKER-1 ACC-CHECKER-1)" >/dev/null
check_eq "a checker cannot propose a project: 403" "$(status)" 403
id=$(console maker1 POST /api/projects "$(project_json P-1 ACC-P-1)" | json approval)
check_eq "a maker proposes: 200" "$(status)" 200
check "the proposal has an id" test -n "$id"
console viewer1 POST "/api/approvals/$id" '{"decision":"approve"}' >/dev/null
check_eq "a viewer cannot approve: 403" "$(status)" 403
console maker1 POST "/api/approvals/$id" '{"decision":"approve"}' >/dev/null
check_eq "a maker cannot approve (role): 403" "$(status)" 403
check_eq "nothing opened by the refused approvals" \
    "$(q "SELECT count(*) FROM project WHERE code = 'P-1'")" 0
check_eq "the proposal is still pending" \
    "$(q "SELECT state FROM approval WHERE id = $id")" PENDING
console viewer1 GET "/api/projects/$PROJECT" >/dev/null
check_eq "a viewer reads: 404 for a project that does not exist" "$(status)" 404

# --- four eyes -----------------------------------------------------------
aid=$(console admin1 POST /api/projects "$(project_json P-ADMIN ACC-P-ADMIN)" | json approval)
check_eq "an admin may propose" "$(status)" 200
console admin1 POST "/api/approvals/$aid" '{"decision":"approve"}' >"$T/same"
check_eq "the maker cannot approve their own proposal (four eyes): 403" "$(status)" 403
check "the refusal says four eyes" grep -q 'four eyes' "$T/same"
check_eq "the self-approved project is not open" \
    "$(q "SELECT count(*) FROM project WHERE code = 'P-ADMIN'")" 0
console checker1 POST "/api/approvals/$id" '{"decision":"approve"}' >"$T/decided"
check_eq "a different checker approves: 200" "$(status)" 200
check_eq "the approval says approved" "$(json state <"$T/decided")" approved
check_eq "the approval names the maker" "$(json maker <"$T/decided")" maker1
check_eq "the approval names the checker" "$(json checker <"$T/decided")" checker1
console viewer1 GET /api/projects/P-1 >"$T/p1"
check_eq "the account is open" "$(json account.state <"$T/p1")" open
check_eq "its balance is zero" "$(json balance <"$T/p1")" 0.00
check_eq "the account row exists once" \
    "$(q "SELECT count(*) FROM account WHERE number = 'ACC-P-1' AND state = 'OPEN'")" 1
console checker1 POST "/api/approvals/$id" '{"decision":"approve"}' >/dev/null
check_eq "deciding twice: 409" "$(status)" 409
console admin1 POST "/api/approvals/$aid" '{"decision":"reject"}' >/dev/null
check_eq "the admin cannot reject their own either" "$(status)" 403
console checker1 POST "/api/approvals/$aid" '{"decision":"reject"}' >"$T/rej"
check_eq "a checker rejects: 200" "$(status)" 200
check_eq "rejected" "$(json state <"$T/rej")" rejected
check_eq "nothing opened by a rejection" \
    "$(q "SELECT count(*) FROM account WHERE number = 'ACC-P-ADMIN'")" 0
id2=$(console maker1 POST /api/projects "$(project_json P-1 ACC-OTHER)" | json approval)
check_eq "a second account for the same project: 409" "$(status)" 409
console checker1 POST /api/approvals/999999 '{"decision":"approve"}' >/dev/null
check_eq "an unknown approval: 404" "$(status)" 404
check_eq "four-eyes refusals wrote no decision" \
    "$(q "SELECT count(*) FROM approval WHERE checker_id = maker_id")" 0

# --- cross-site ------------------------------------------------------------
curl -sk -b "$T/cookies-maker1" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' -H 'Origin: https://evil.example' \
    -d "$(project_json EVIL-1 ACC-EVIL-1)" "$URL/api/projects" >"$T/status"
check_eq "a POST from another origin: 403" "$(status)" 403
curl -sk -b "$T/cookies-checker1" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$OPORT" \
    -d '{"decision":"approve"}' "$URL/api/approvals/$aid" >"$T/status"
check_eq "the same host over plain http is another origin: 403" "$(status)" 403
curl -sk -b "$T/cookies-maker1" -o /dev/null -w '%{http_code}' -X DELETE \
    -H 'Origin: https://evil.example' "$URL/api/session" >"$T/status"
check_eq "a cross-site sign-out: 403" "$(status)" 403
curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Origin: https://evil.example' \
    -d '{"name":"maker1","password":"maker-password-1"}' "$URL/api/session" >"$T/status"
check_eq "a cross-site sign-in (login CSRF): 403" "$(status)" 403
check_eq "nothing proposed cross-site" \
    "$(q "SELECT count(*) FROM approval WHERE payload->>'code' = 'EVIL-1'")" 0
curl -sk -b "$T/cookies-maker1" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' -H "Origin: $URL" \
    -d "$(project_json SAME-1 ACC-SAME-1)" "$URL/api/projects" >"$T/status"
check_eq "a POST from the console's own origin: 200" "$(status)" 200

# --- throttle --------------------------------------------------------------
# no cookie jar here, so that the viewer's signed-in jar stays as it is
for i in 1 2 3 4 5; do
	curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d "{\"name\":\"viewer1\",\"password\":\"wrong-$i\"}" "$URL/api/session" >"$T/status"
done
check_eq "the fifth failure is still 401" "$(status)" 401
curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"name":"viewer1","password":"viewer-password-1"}' "$URL/api/session" >"$T/status"
check_eq "after 5 failures even the right password gets 429" "$(status)" 429
curl -sk -D "$T/h429" -o /dev/null -H 'Content-Type: application/json' \
    -d '{"name":"viewer1","password":"viewer-password-1"}' "$URL/api/session"
check "429 carries Retry-After" grep -qi '^retry-after:' "$T/h429"
console_login maker1 maker-password-1 >/dev/null
check_eq "another name is not locked" "$(status)" 200
# 018: the count and the lock are the database's, so every instance sees
# them (t0620 checks two); the lock is audited for an operator
check_eq "the lock is kept in the database" \
    "$(q "SELECT fails || ':' || (locked_until > now() + interval '14 minutes')
        FROM signin_throttle WHERE name = 'viewer1'")" "5:true"
check_eq "and audited as session.locked" \
    "$(q "SELECT count(*) FROM audit WHERE action = 'session.locked' AND object = 'operator:viewer1'")" 1
for i in 1 2 3 4 5; do
	curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d "{\"name\":\"no-such-operator\",\"password\":\"guess-$i\"}" "$URL/api/session" >"$T/status"
done
curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"name":"no-such-operator","password":"guess-6"}' "$URL/api/session" >"$T/status"
check_eq "a name that does not exist is locked the same way (429 tells nothing)" "$(status)" 429
check_eq "nor is it audited (strangers could flood the trail)" \
    "$(q "SELECT count(*) FROM audit WHERE object = 'operator:no-such-operator'")" 0
for i in 1 2 3 4; do
	curl -sk -o /dev/null -H 'Content-Type: application/json' \
	    -d "{\"name\":\"checker1\",\"password\":\"typo-$i\"}" "$URL/api/session"
done
console_login checker1 checker-password-1 >/dev/null
check_eq "4 typos then the right password: signed in" "$(status)" 200
check_eq "and the name's count is cleared" \
    "$(q "SELECT count(*) FROM signin_throttle WHERE name = 'checker1'")" 0
curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"name":"checker1","password":"typo-5"}' "$URL/api/session" >"$T/status"
check_eq "so one more typo is a 401, not a lock" "$(status)" 401
console viewer1 GET "/api/projects/P-1" >/dev/null
check_eq "the viewer's existing session still works" "$(status)" 200

# --- sign-out --------------------------------------------------------------
console_login admin1 admin-password-1 >/dev/null
tok=$(awk '$6 == "wp_session" { print $7 }' "$T/cookies-admin1")
check "the jar holds a 64-hex-digit session token" sh -c "echo '$tok' | grep -qx '[0-9a-f]\{64\}'"
check_eq "the token itself is not stored" \
    "$(q "SELECT count(*) FROM operator_session WHERE token_hash = decode('$tok', 'hex')")" 0
check_eq "its SHA-256 is" \
    "$(q "SELECT count(*) FROM operator_session WHERE token_hash = sha256(convert_to('$tok', 'UTF8'))")" 1
console admin1 DELETE /api/session >/dev/null
check_eq "sign-out: 200" "$(status)" 200
curl -sk -b "wp_session=$tok" -o /dev/null -w '%{http_code}' "$URL/api/projects/P-1" >"$T/status"
check_eq "the signed-out token no longer works: 401" "$(status)" 401
check_eq "the signed-out session is gone from the database" \
    "$(q "SELECT count(*) FROM operator_session WHERE token_hash = sha256(convert_to('$tok', 'UTF8'))")" 0

# --- idle and expired sessions (017) ---------------------------------------
# A session ends 30 minutes after its last request, and 8 hours after
# sign-in whatever its use. The clock is moved by moving the session's
# own times back: the session in checker1's cookie jar, found by the
# SHA-256 of its token.
jar_session() {
	echo "token_hash = sha256(convert_to('$(awk '$6 == "wp_session" { print $7 }' \
	    "$T/cookies-$1")', 'UTF8'))"
}
console_login checker1 checker-password-1 >/dev/null
q "UPDATE operator_session SET last_seen = now() - interval '29 minutes'
   WHERE $(jar_session checker1)" >/dev/null
console checker1 GET "/api/projects/P-1" >/dev/null
check_eq "29 minutes idle: the session still works" "$(status)" 200
check_eq "and the request counts as activity (last_seen is now)" \
    "$(q "SELECT count(*) FROM operator_session WHERE $(jar_session checker1)
        AND last_seen > now() - interval '1 minute'")" 1
q "UPDATE operator_session SET last_seen = now() - interval '31 minutes'
   WHERE $(jar_session checker1)" >/dev/null
console checker1 GET "/api/projects/P-1" >"$T/idle.json"
check_eq "31 minutes idle: 401" "$(status)" 401
check "and told why" grep -q 'session expired' "$T/idle.json"
console checker1 GET "/api/session" >/dev/null
check_eq "who-am-I with the idle session: 401 too" "$(status)" 401
console_login maker1 maker-password-1 >/dev/null
check_eq "the next sign-in (anyone's) drops the idle session" \
    "$(q "SELECT count(*) FROM operator_session WHERE $(jar_session checker1)")" 0
console_login checker1 checker-password-1 >/dev/null
q "UPDATE operator_session SET expires_at = now() - interval '1 second'
   WHERE $(jar_session checker1)" >/dev/null
console checker1 GET "/api/projects/P-1" >/dev/null
check_eq "a session past its 8 hours, used a moment ago: 401" "$(status)" 401

# --- audit chain -----------------------------------------------------------
console viewer1 GET /api/audit/verify >"$T/v1"
check_eq "the audit chain verifies" "$(json ok <"$T/v1")" True
n=$(json records <"$T/v1")
check "the chain has records" test "$n" -gt 5
check_eq "proposals, decisions and sign-ins are recorded" \
    "$(q "SELECT count(DISTINCT action) FROM audit WHERE action IN ('approval.proposed', 'approval.approved', 'approval.rejected', 'session.signin', 'account.opened')")" 5
victim=$(q "SELECT id FROM audit WHERE action = 'approval.approved' ORDER BY id LIMIT 1")
q "ALTER TABLE audit DISABLE TRIGGER audit_immutable; UPDATE audit SET detail = detail || ' (edited)' WHERE id = $victim; ALTER TABLE audit ENABLE TRIGGER audit_immutable" >/dev/null
console viewer1 GET /api/audit/verify >"$T/v2"
check_eq "a tampered row breaks the chain" "$(json ok <"$T/v2")" False
check_eq "verify names the tampered row" "$(json first_broken <"$T/v2")" "$victim"
q "UPDATE audit SET detail = 'x' WHERE id = $victim" >/dev/null 2>&1
check "the trigger refuses updates again" test $? -ne 0

# --- %00 in a URL: refused whole (400) on every listener, never read as ----
# --- the part before it ------------------------------------------------------
nul=$(console maker1 POST /api/projects "$(project_json NUL-1 ACC-NUL-1)" | json approval)
console checker1 POST "/api/approvals/$nul%00junk" '{"decision":"approve"}' >"$T/nul"
check_eq "console: %00 in the path: 400" "$(status)" 400
check "console: the answer says why" grep -q 'encoded NUL byte (%00)' "$T/nul"
check_eq "console: the approval is still pending" \
    "$(q "SELECT state FROM approval WHERE id = $nul")" PENDING
check_eq "console: nothing opened" "$(q "SELECT count(*) FROM project WHERE code = 'NUL-1'")" 0
console viewer1 GET '/api/projects?q=NUL%00x' >/dev/null
check_eq "console: %00 in the query: 400" "$(status)" 400
gc GET "/v1/projects/$PROJECT%00x/roster" >"$T/nul"
check_eq "contractor: %00 in the path: 400" "$(status)" 400
check "contractor: the answer says why" grep -q 'encoded NUL byte' "$T/nul"
gc POST "/v1/sheets/NUL-1%00x/cancel" >/dev/null
check_eq "contractor: a cancel with %00: 400" "$(status)" 400
core POST "/v1/core/notifications%00x" -d '<x/>' >/dev/null
check_eq "core: %00 in the path: 400" "$(status)" 400

# --- metrics and health -----------------------------------------------------
curl -sk -o "$T/metrics" -w '%{http_code}' "$URL/metrics" >"$T/status"
check_eq "/metrics: 200" "$(status)" 200
check "/metrics: every sample is named wagepay_" sh -c \
    "grep -v '^#' '$T/metrics' | grep -v '^\$' | grep -vq '^wagepay_' && exit 1 || exit 0"
check "/metrics: every family has HELP and TYPE" python3 -c '
import re, sys
seen, typed = set(), set()
for l in open(sys.argv[1]):
    l = l.rstrip("\n")
    if l.startswith("# TYPE "): typed.add(l.split()[2]); continue
    if l.startswith("#") or not l: continue
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf)$", l)
    if not m: sys.exit("bad line: " + l)
    seen.add(re.sub(r"_(bucket|sum|count)$", "", m.group(1)))
missing = [s for s in seen if s not in typed]
sys.exit("untyped: %s" % missing if missing else 0)' "$T/metrics"
check "/metrics: the database is up" grep -q '^wagepay_db_up 1$' "$T/metrics"
curl -sk -o /dev/null -w '%{http_code}' "$URL/healthz" >"$T/status"
check_eq "/healthz with the database up: 200" "$(status)" 200
pg_stop_immediate
sleep 0.5
curl -sk -o /dev/null -w '%{http_code}' "$URL/healthz" >"$T/status"
check_eq "/healthz with the database down: 503" "$(status)" 503
pg_restart
finish
