#!/bin/sh
# Only the core may speak for the core (专款专用, no back doors): a general
# contractor's certificate POSTing a camt.054 to the core listener is
# refused and credits nothing, whether the core's CA is its own (TLS refuses
# it) or the contractor's too ([core] client_subject refuses it, 403); a
# certificate of the core's CA with another subject is refused; the pin may
# be the subject or sha256: and the certificate's fingerprint; -n, start-up
# and SIGHUP refuse a core client_ca that would accept a contractor's
# certificate with no pin; the audit names the certificate that spoke.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project

# core(): as lib.sh's, with the certificate $CERT (default: the core's)
core() {
	m=$1; p=$2; shift 2
	curl -sk -o "$T/body" -w '%{http_code}' \
	    --cert "$PKI/${CERT:-core}.pem" --key "$PKI/${CERT:-core}.key" \
	    -X "$m" "$@" "https://127.0.0.1:$KPORT$p" >"$T/status" 2>/dev/null
	cat "$T/body"
}
balance() { q "SELECT balance FROM account WHERE number = '$ACCOUNT'"; }
deposits() { q "SELECT count(*) FROM deposit WHERE entry_ref = '$1'"; }
outcome() { xval '/*/@outcome' "$T/body"; }
refused() { [ "$(status)" = 403 ] || [ "$(status)" = 000 ]; }
fingerprint() { openssl x509 -in "$PKI/$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }
reloads() { grep -c 'reloaded from\|reload refused' "$T/wagepayd.log"; }
# reload FILE: the running daemon's configuration becomes FILE (SIGHUP)
reload() {
	n=$(reloads)
	cp "$1" "$CONF"
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 1 100); do
		[ "$(reloads)" -gt "$n" ] && return 0
		sleep 0.1
	done
	return 1
}
cp "$CONF" "$T/pinned.conf"
FP=$(fingerprint core)

# --- the core's own CA, its subject pinned (lib.sh's configuration) ---------------
deposit DEP-CORE 1000.00 >/dev/null
check_eq "the pinned core's certificate is accepted" "$(status) $(outcome)" "200 APPLIED"
check_eq "and its deposit is credited" "$(balance)" 100000
CERT=contractor deposit DEP-GC 5000000.00 >/dev/null
check "a contractor's certificate is refused on the core listener" refused
check_eq "and credits nothing: the balance is unchanged" "$(balance)" 100000
check_eq "and no deposit row" "$(deposits DEP-GC)" 0
CERT=core-other deposit DEP-OTHER 5000000.00 >/dev/null
check_eq "a certificate of the core's CA with another subject: 403" "$(status)" 403
check_eq "and credits nothing" "$(balance) $(deposits DEP-OTHER)" "100000 0"
check "the refusal is logged with the certificate's subject" \
    grep -q "core: refused a client certificate that is not the core's (subject CN=not-the-core,serialNumber=$BANK_USCC,O=Demo Bank Core sha256:" "$T/wagepayd.log"

# --- the audit names the certificate that spoke --------------------------------
check_eq "the deposit's audit record names the core's certificate" \
    "$(q "SELECT actor || ' | ' || detail FROM audit WHERE action = 'deposit.booked' AND detail LIKE 'entry DEP-CORE %'")" \
    "core | entry DEP-CORE credited 100000 fen; certificate $CORE_SUBJECT sha256:$FP"
check_eq "the audit chains verify" "$(q "SELECT ok FROM wp_audit_verify()")" t

# --- one CA for both, the core pinned: the attack of the issue, answered --------
cat "$PKI/ca.pem" "$PKI/core-ca.pem" >"$T/both-ca.pem"
sed "s|^client_ca = $PKI/core-ca.pem|client_ca = $T/both-ca.pem|" "$T/pinned.conf" >"$T/shared-pinned.conf"
sed '/^client_subject = /d' "$T/shared-pinned.conf" >"$T/shared-nopin.conf"
sed '/^client_subject = /d' "$T/pinned.conf" >"$T/alone-nopin.conf"
sed "s|^client_subject = .*|client_subject = sha256:$FP|" "$T/shared-pinned.conf" >"$T/shared-sha.conf"

out=$("$WAGEPAYD" -f "$T/shared-nopin.conf" -n 2>&1); rc=$?
check_eq "-n: a core client_ca that accepts contractors, no pin: exit 1" "$rc" 1
says() { printf '%s\n' "$out" | grep -q "$1"; }
check "-n names client_subject and both client_ca keys" \
    says '\[core\] client_subject is not set and \[core\] client_ca .* would also accept what \[contractor\] client_ca .*: pin the core with client_subject'
sed "s|^client_ca = $PKI/core-ca.pem|client_ca = $PKI/ca.pem|; /^client_subject = /d" "$T/pinned.conf" >"$T/same-nopin.conf"
out=$("$WAGEPAYD" -f "$T/same-nopin.conf" -n 2>&1); rc=$?
check_eq "-n: the very same CA file for both, no pin: exit 1" "$rc" 1
check "-n says to set client_subject" says 'pin the core with client_subject'
check_eq "-n: the shared CA with the subject pinned is accepted" \
    "$("$WAGEPAYD" -f "$T/shared-pinned.conf" -n 2>&1)" "configuration OK"
check_eq "-n: the shared CA pinned by sha256: is accepted" \
    "$("$WAGEPAYD" -f "$T/shared-sha.conf" -n 2>&1)" "configuration OK"
check_eq "-n: the core's own CA needs no pin" \
    "$("$WAGEPAYD" -f "$T/alone-nopin.conf" -n 2>&1)" "configuration OK"
sed "s|^client_subject = .*|client_subject = CN=core-feed+O=x|" "$T/pinned.conf" >"$T/badpin.conf"
out=$("$WAGEPAYD" -f "$T/badpin.conf" -n 2>&1); rc=$?
line=$(grep -n '^client_subject' "$T/badpin.conf" | cut -d: -f1)
check_eq "-n: a malformed client_subject is refused with FILE:LINE" "$rc $(echo "$out" | cut -d: -f1-3)" \
    "1 $T/badpin.conf:$line: client_subject"
"$WAGEPAYD" -f "$T/shared-nopin.conf" >"$T/refused-start.log" 2>&1 & pid=$!
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; not_ok "start-up refuses the shared CA with no pin"
else wait "$pid"; check_eq "start-up refuses the shared CA with no pin" "$?" 1; fi
check "start-up says why" grep -q 'client_subject is not set' "$T/refused-start.log"

check "SIGHUP: to the shared CA, subject pinned" reload "$T/shared-pinned.conf"
check "and it is taken" grep -q 'configuration and certificates reloaded' "$T/wagepayd.log"
CERT=contractor deposit DEP-GC2 5000000.00 >/dev/null
check_eq "a contractor's certificate passes TLS, and the pin refuses it: 403" "$(status)" 403
check_eq "and credits nothing" "$(balance) $(deposits DEP-GC2)" "100000 0"
CERT=contractor core POST /v1/core/debit-requests --data-binary @/dev/null >/dev/null
check_eq "every core call is refused to it, before the body is read" "$(status)" 403
deposit DEP-CORE2 10.00 >/dev/null
check_eq "the pinned core is accepted" "$(status) $(outcome) $(balance)" "200 APPLIED 101000"

check "SIGHUP: the pin removed, the CA still shared" reload "$T/shared-nopin.conf"
check "the reload is refused, naming client_subject" grep -q 'reload refused.*client_subject is not set' "$T/wagepayd.log"
CERT=contractor deposit DEP-GC3 5000000.00 >/dev/null
check_eq "the running pin stays: the contractor still gets 403" "$(status) $(balance) $(deposits DEP-GC3)" "403 101000 0"

# --- a sha256: pin ------------------------------------------------------------
check "SIGHUP: pinned by sha256:" reload "$T/shared-sha.conf"
deposit DEP-CORE3 1.00 >/dev/null
check_eq "sha256: the core's certificate is accepted" "$(status) $(outcome) $(balance)" "200 APPLIED 101100"
CERT=core-other deposit DEP-OTHER2 5000000.00 >/dev/null
check_eq "sha256: another certificate of the core's CA with the same O is refused" "$(status)" 403
CERT=contractor deposit DEP-GC4 5000000.00 >/dev/null
check_eq "sha256: a contractor's is refused" "$(status)" 403
check_eq "none of them credited anything" "$(q "SELECT count(*) FROM deposit WHERE entry_ref IN ('DEP-GC', 'DEP-GC2', 'DEP-GC3', 'DEP-GC4', 'DEP-OTHER', 'DEP-OTHER2')")" 0
check_eq "nothing booked but the core's three deposits" \
    "$(q "SELECT string_agg(reference, ' ' ORDER BY reference) FROM transfer WHERE reason = 'DEPOSIT'")" \
    "DEP-CORE DEP-CORE2 DEP-CORE3"
check_eq "every core audit record names the core's certificate" \
    "$(q "SELECT count(*) FILTER (WHERE detail LIKE '%; certificate $CORE_SUBJECT sha256:$FP') || '/' || count(*) FROM audit WHERE actor = 'core'")" "3/3"
ledger_exact
finish
