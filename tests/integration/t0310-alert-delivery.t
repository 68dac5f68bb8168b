#!/bin/sh
# Alert delivery loses nothing: a regulator that is down, that answers with
# errors, or that accepts and never answers gets the alert later, with the
# same Id, retried with capped exponential backoff; a daemon killed with
# SIGKILL between the event and the delivery (or in the middle of a POST)
# delivers after it restarts; and payments go on while the regulator hangs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

# "imposter" serves the dev server certificate but the bank is told to
# trust only the rogue CA for it: the bank must refuse to talk to it.
EXTRA_CONFIG=$(regulator_section hrss 4101 hrss
	regulator_section imposter 4101 hrss | sed "s|^ca = .*|ca = $PKI/rogue-ca.pem|")
# quick attempts for the test: 2 s per attempt, backoff capped at 2 s
export WAGEPAY_ALERT_POLL_MS=200 WAGEPAY_ALERT_TIMEOUT=2 WAGEPAY_ALERT_BACKOFF_MAX=2
export WAGEPAY_RULES_INTERVAL=3600 WAGEPAY_CLOCK=2026-01-10T09:00:00+08:00
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "the roster is accepted" roster_demo 4
deposit DEP-1 50000.00 >/dev/null

st() { q "SELECT $2 FROM alert_delivery d JOIN alert a ON a.id = d.alert_id WHERE a.msg_id = '$1' AND d.recipient = 'hrss'"; }
attempts_at_least() { [ "$(st "$1" attempts)" -ge "$2" ]; }
is_delivered() { [ "$(st "$1" state)" = DELIVERED ]; }
misuse() { q "SELECT id FROM alert WHERE kind = 'MISUSE_ATTEMPT' AND msg_id = '$1'"; }

# --- the regulator is down ---------------------------------------------------
debit_request DR-1 1000.00 >/dev/null
check_eq "a debit of the dedicated account is refused (AG01)" "$(xval '/*/@code' "$T/body")" AG01
a1=$(misuse DR-1)
check "the alert row was written with the refusal" test -n "$a1"
check "while the regulator is down, attempts fail and are retried" wait_for 15 attempts_at_least DR-1 3
check_eq "still pending" "$(st DR-1 state)" PENDING
check "the failure is recorded" sh -c "[ -n \"$(st DR-1 last_error)\" ]"
diag "last_error: $(st DR-1 last_error)"
check_eq "no HTTP status: nothing answered" "$(st DR-1 "coalesce(last_status::text, 'none')")" none
check_eq "the next attempt is at most the cap (2 s) after the last failure" "$(st DR-1 "next_attempt_at <= now() + interval '2 s' OR next_attempt_at > now() + interval '5 s'")" t
# The backoff itself, on a delivery to a recipient nobody configured (so the
# daemon never claims it): 1 s doubling with each attempt, capped (300 s).
q "INSERT INTO alert_delivery (alert_id, recipient) VALUES ('$a1', 'nobody')" >/dev/null
backoff=""
for n in 1 2 3 4 5 6 7 8 9 10 11 30; do
	backoff="$backoff $(q "UPDATE alert_delivery SET attempts = $n WHERE recipient = 'nobody' RETURNING 0" >/dev/null;
	    q "SELECT round(extract(epoch FROM wp_alert_failed(id, NULL, 'test', 300) - now())) FROM alert_delivery WHERE recipient = 'nobody'")"
done
check_eq "backoff after attempts 1..11 and 30: doubling, capped at 300 s" "$backoff" " 1 2 4 8 16 32 64 128 256 300 300 300"
check_eq "a failure keeps its reason" "$(q "SELECT last_error FROM alert_delivery WHERE recipient = 'nobody'")" test
q "DELETE FROM alert_delivery WHERE recipient = 'nobody'" >/dev/null
fr_start hrss
fr_start imposter
check "once it is up the alert is delivered" wait_for 15 is_delivered DR-1
check_eq "the regulator got it, acknowledged once" "$(fr_acked hrss "$a1")" 1
check "it verifies and is valid" alert_ok "$(fr_file hrss "$a1")"
check_eq "with the alert row's Id" "$(xval "//*[local-name()='Id']" "$(fr_file hrss "$a1")")" "$a1"

# --- the regulator answers 503, then 200 -----------------------------------------
fr_mode hrss fail 503
debit_request DR-2 2000.00 >/dev/null
a2=$(misuse DR-2)
check "503s are retried" wait_for 15 attempts_at_least DR-2 3
check_eq "the last status is kept" "$(st DR-2 last_status)" 503
check "every retry carried the same Id" sh -c "[ $(fr_count hrss "$a2") -ge 3 ]"
check_eq "all attempts hold the same alert (same signed content)" "$(for f in $(fr_log hrss | awk -v id="$a2" '$3 == id {print $1}'); do xval "//*[local-name()='Detail']" "$T/reg-hrss/$f.xml"; done | sort -u | wc -l)" 1
fr_mode hrss ok
check "answered 200 at last: delivered" wait_for 15 is_delivered DR-2
check_eq "acknowledged once" "$(fr_acked hrss "$a2")" 1
n=$(fr_count hrss "$a2")
sleep 3
check_eq "nothing is sent after the acknowledgement" "$(fr_count hrss "$a2")" "$n"

# --- the regulator hangs: payments are not held up ------------------------------
# The sheet below is for 2026-10, confirmed on 2026-11-01: the daemon's clock
# must be past both (WP07, WP09), so the daemon is restarted at 2026-11-02
# first. Its rules' run a second after start-up raises what is due then
# (DEPOSIT_SHORT for 2026-10, WAGES_OVERDUE for 2026-09, the ACCOUNTS_OPENED
# reports for 2026-10); they are delivered while the regulator still answers,
# so that only DR-3 hangs, as before. Later restarts are at 2026-01-10 again.
restart_daemon WAGEPAY_CLOCK=2026-11-02T09:00:00+08:00
rules_delivered() {
	q_is "SELECT count(*) FROM alert WHERE kind = 'WAGES_OVERDUE'" 1 &&
	q_is "SELECT count(*) FROM alert a WHERE (a.kind IN ('DEPOSIT_SHORT', 'WAGES_OVERDUE') OR (a.kind = 'ACCOUNTS_OPENED' AND a.recipient = 'hrss')) AND NOT EXISTS (SELECT 1 FROM alert_delivery d WHERE d.alert_id = a.id AND d.recipient = 'hrss' AND d.state = 'DELIVERED')" 0
}
check "restarted at 2026-11-02: the rules' alerts are delivered first" wait_for 15 rules_delivered
fr_mode hrss hang
debit_request DR-3 3000.00 >/dev/null
a3=$(misuse DR-3)
check "the hanging regulator got the POST" wait_for 10 grep -q "$a3" "$T/reg-hrss/log"
{ line P1 0 3000.00; line P2 1 2500.00; } >"$T/l1"
sheet s1 --msg-id SHEET-WHILE-HANG --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
t0=$(date +%s%N)
submit s1
t1=$(date +%s%N)
check_eq "a sheet is paid while the regulator hangs" "$(grpsts "$T/s1.pain002.xml")" ACSC
ms=$(( (t1 - t0) / 1000000 ))
diag "sheet answered in $ms ms while an alert POST hung"
check "and answered well within the alert timeout" test "$ms" -lt 1500
check "a hung attempt times out and is retried" wait_for 15 attempts_at_least DR-3 2
diag "last_error: $(st DR-3 last_error)"
check_eq "state pending after the timeout" "$(st DR-3 state)" PENDING
fr_mode hrss ok
check "delivered once the regulator answers" wait_for 15 is_delivered DR-3
export WAGEPAY_CLOCK=2026-01-10T09:00:00+08:00

# --- SIGKILL between the event and the delivery ------------------------------------
fr_stop hrss
for r in DR-4 DR-5 DR-6; do debit_request $r 100.00 >/dev/null; done
check_eq "three more alerts written" "$(q "SELECT count(*) FROM alert WHERE msg_id IN ('DR-4','DR-5','DR-6')")" 3
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
check_eq "killed before any of them was delivered" "$(q "SELECT count(*) FROM alert_delivery d JOIN alert a ON a.id = d.alert_id WHERE a.msg_id IN ('DR-4','DR-5','DR-6') AND d.state = 'DELIVERED'")" 0
fr_start hrss
daemon_start
for r in DR-4 DR-5 DR-6; do
	check "$r: delivered after the restart" wait_for 20 is_delivered $r
	check_eq "$r: with the Id it was written with" "$(xval "//*[local-name()='Id']" "$(fr_file hrss "$(misuse $r)")")" "$(misuse $r)"
done

# --- SIGKILL in the middle of a POST ----------------------------------------------
fr_mode hrss hang
debit_request DR-7 700.00 >/dev/null
a7=$(misuse DR-7)
check "the POST is under way (the regulator holds it)" wait_for 10 grep -q "$a7" "$T/reg-hrss/log"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
fr_mode hrss ok
daemon_start
check "after its lease the claim is retried and delivered" wait_for 30 is_delivered DR-7
check_eq "the regulator saw the same Id twice: it can drop the duplicate" "$(fr_count hrss "$a7")" 2
check_eq "and acknowledged it once" "$(fr_acked hrss "$a7")" 1

# --- a regulator whose certificate the bank does not trust ---------------------------
imp() { q "SELECT $1 FROM alert_delivery WHERE alert_id = '$a1' AND recipient = 'imposter'"; }
imp_tried() { [ "$(imp attempts)" -ge 2 ]; }
check "the bank retries the untrusted regulator" wait_for 15 imp_tried
check_eq "but never delivers to it" "$(imp state)" PENDING
check "the reason is the certificate" sh -c "echo '$(imp last_error)' | grep -q 'certificate verify failed'"
diag "last_error: $(imp last_error)"
check_eq "and no alert reached it" "$(fr_count imposter)" 0

# --- the regulator's side ------------------------------------------------------------
check "every alert the regulator received verifies and is valid" every_alert_ok hrss
check_eq "every request came with the bank's client certificate" "$(fr_log hrss | awk '$4 != "'"$BANK_USCC"'"' | wc -l)" 0
curl -sk -o /dev/null "https://127.0.0.1:$(cat "$T/reg-hrss.port")/v1/alerts" -d x 2>/dev/null
check "the fake regulator refuses a client without the bank's certificate" grep -q '^tls-refused' "$T/reg-hrss/log"
check_eq "every MISUSE_ATTEMPT alert was delivered in the end" "$(q "SELECT count(*) FROM alert a WHERE a.kind = 'MISUSE_ATTEMPT' AND NOT EXISTS (SELECT 1 FROM alert_delivery d WHERE d.alert_id = a.id AND d.recipient = 'hrss' AND d.state = 'DELIVERED')")" 0
check_eq "the debits left the balance alone (50000 - the paid sheet)" "$(balance)" $((5000000 - 550000))
ledger_exact
finish
