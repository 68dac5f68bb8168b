#!/bin/sh
# Database faults: PostgreSQL stopped with -m immediate, alone and in the
# middle of a load. Meanwhile the daemon answers 503 with Retry-After and
# /healthz says 503; it reconnects by itself when the database is back; no
# acknowledged payment is lost, none is made twice.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project && roster_demo 40 && deposit DEP-0 1000000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }

python3 "$TOOLS/mksheet" --demo 3 --msg-id FAULT-A --sub "$SUB1_USCC" --month 2026-10 --account "$ACCOUNT" >"$T/a.u.xml"
"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/a.u.xml" "$T/a.xml"
python3 "$TOOLS/mksheet" --demo 3 --demo-from 3 --msg-id FAULT-B --sub "$SUB1_USCC" --month 2026-10 --account "$ACCOUNT" >"$T/b.u.xml"
"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/b.u.xml" "$T/b.xml"

submit a
check_eq "before the fault: sheet A paid" "$(grpsts "$T/a.pain002.xml")" ACSC

pg_stop_immediate
curl -sk -D "$T/headers" -o "$T/b.answer" -w '%{http_code}' --cert "$PKI/contractor.pem" \
    --key "$PKI/contractor.key" --data-binary @"$T/b.xml" "https://127.0.0.1:$CPORT/v1/sheets" >"$T/code"
check_eq "database down: a sheet gets 503" "$(cat "$T/code")" 503
check "database down: with Retry-After" grep -qi '^Retry-After: [0-9]' "$T/headers"
curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$OPORT/healthz" >"$T/code"
check_eq "database down: /healthz 503" "$(cat "$T/code")" 503
check "database down: the daemon keeps running" kill -0 "$DAEMON_PID"

pg_restart
up=
for _ in $(seq 1 100); do
	[ "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$OPORT/healthz")" = 200 ] && { up=1; break; }
	sleep 0.1
done
check_eq "database back: the daemon reconnects by itself within 10 s" "$up" 1
submit b
check_eq "database back: the same sheet B now paid" "$(grpsts "$T/b.pain002.xml")" ACSC
gc GET /v1/sheets/FAULT-A >"$T/a.get"
check_eq "sheet A, acknowledged before the fault, is still paid" "$(grpsts "$T/a.get")" ACSC

# --- a fault in the middle of a load -----------------------------------------------
N=12
i=0
while [ $i -lt $N ]; do
	python3 "$TOOLS/mksheet" --demo 1 --demo-from $((6 + i)) --msg-id "LOAD-$i" --sub "$SUB1_USCC" --month 2026-10 --account "$ACCOUNT" >"$T/l$i.u.xml"
	"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/l$i.u.xml" "$T/l$i.xml"
	i=$((i + 1))
done
# each client submits, and on anything but a decision retries, as API.md's
# 503 + Retry-After tells it to; the first answer of each is kept too
client() { # i
	first=
	for _ in $(seq 1 100); do
		code=$(curl -sk -o "$T/l$1.answer" -w '%{http_code}' --max-time 10 --cert "$PKI/contractor.pem" \
		    --key "$PKI/contractor.key" --data-binary @"$T/l$1.xml" "https://127.0.0.1:$CPORT/v1/sheets" 2>/dev/null)
		[ -n "$first" ] || first=$code
		[ "$code" = 200 ] && break
		sleep 0.2
	done
	echo "$first $code" >"$T/l$1.codes"
}
pids=
i=0
# clients start 0.8 s apart; the database is down from 1 s to 9 s, longer
# than the 5 s the pool queues requests for, so some clients see 503
( sleep 1; pg_stop_immediate; sleep 8; pg_restart ) & fault=$!
while [ $i -lt $N ]; do client $i & pids="$pids $!"; i=$((i + 1)); sleep 0.8; done
wait $fault $pids
decided=0; paid=0; saw503=0; i=0
while [ $i -lt $N ]; do
	set -- $(cat "$T/l$i.codes")
	[ "$1" = 503 ] && saw503=$((saw503 + 1))
	if [ "$2" = 200 ]; then
		decided=$((decided + 1))
		[ "$(grpsts "$T/l$i.answer")" = ACSC ] && [ "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'LOAD-$i'")" = 1 ] && paid=$((paid + 1))
	fi
	i=$((i + 1))
done
check_eq "under load: every client got a decision after the restart" "$decided" "$N"
check_eq "under load: every sheet answered ACSC is in the ledger once" "$paid" "$N"
check "under load: the outage overlapped the load (some clients got 503 first)" [ "$saw503" -gt 0 ]
diag "$saw503 of $N clients were first answered 503 while the database was down"
ledger_exact
finish
