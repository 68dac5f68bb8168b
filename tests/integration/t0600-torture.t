#!/bin/sh
# Crash at any instant: sheets, deposits, returns and refused debits (each
# raising an alert) under load while wagepayd is
# killed with SIGKILL at a random moment, CYCLES times (default 50; `make
# torture` runs 1,000). After each kill the daemon is restarted and every
# client retries with the same bytes until it gets a decision. After every
# cycle: every sheet answered as paid has each accepted line paid exactly
# once, no EndToEndId is paid twice, the ledger sums to zero and balances
# equal their transfers; at the end every alert raised has been delivered
# to the (fake) regulator with its original Id. Ends with
# `torture: N cycles, V violations`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

CYCLES=${CYCLES:-50}
SHEETS=${TORTURE_SHEETS:-4}		# per cycle
n=$((CYCLES * SHEETS))
# The daemon's clock is pinned: a WAGE month may not be after its month, nor
# a confirmation after it (WP07, WP09). The demo workers are on site from
# 2026-03; mksheet confirms a month's line on the 1st of the next; so the
# sheets pay the nine months 2026-03..2026-11, and the roster is as large as
# that takes: sheet i pays 3 demo workers of subcontractor one their WAGE of
# month i % 9, group i / 9 (3 workers each), so every line is payable and a
# second payment would be a visible AM05.
export WAGEPAY_CLOCK=2026-12-05T10:00:00+08:00
GROUPS=$(( (n + 8) / 9 ))
EXTRA_CONFIG=$(regulator_section hrss 4101 hrss)
setup_world || { echo "Bail out! setup failed"; exit 1; }
fr_start hrss || { echo "Bail out! fake regulator"; exit 1; }
open_project && roster_demo $(( GROUPS * 3 * 2 )) && deposit DEP-0 100000000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }

mkdir -p "$T/tort"
make_one() { # i
	mo=$(( $1 % 9 + 3 ))
	python3 "$TOOLS/mksheet" --demo 3 --demo-from $(( $1 / 9 * 3 )) --sub "$SUB1_USCC" \
	    --month "$(printf '2026-%02d' $mo)" --msg-id "TORT-$1" --account "$ACCOUNT" >"$T/tort/u$1.xml" &&
	    "$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/tort/u$1.xml" "$T/tort/s$1.xml"
}
i=0
while [ $i -lt $n ]; do
	make_one $i & a=$!
	make_one $((i + 1)) & b=$!
	wait $a $b	# not a bare wait: the daemon is a background job too
	i=$((i + 2))
done
[ -f "$T/tort/s$((n - 1)).xml" ] || { echo "Bail out! could not make the sheets"; exit 1; }

# post_until_decided FILE OUT: retries (the daemon may be dead or restarting)
# until the answer is a decision (HTTP 200); 60 tries at most.
post_until_decided() {
	for _ in $(seq 1 60); do
		code=$(curl -sk -o "$2" -w '%{http_code}' --max-time 10 \
		    --cert "$PKI/contractor.pem" --key "$PKI/contractor.key" \
		    --data-binary @"$1" "https://127.0.0.1:$CPORT/v1/sheets" 2>/dev/null)
		[ "$code" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}
deposit_until_done() { # REF
	for _ in $(seq 1 60); do
		deposit "$1" 10.00 >/dev/null 2>&1
		[ "$(status)" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}
# the same with a wage return (REF E2E AMOUNT) and a debit request (REF)
return_until_done() {
	for _ in $(seq 1 60); do
		wage_return "$1" "$2" "$3" >/dev/null 2>&1
		[ "$(status)" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}
debit_until_done() {
	for _ in $(seq 1 60); do
		debit_request "$1" 100.00 >/dev/null 2>&1
		[ "$(status)" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}

violations=0
violation() { violations=$((violations + 1)); diag "violation: $*"; }

c=0
while [ $c -lt $CYCLES ]; do
	# fire the cycle's sheets and a deposit at once, then kill at random
	s=0
	clients=
	while [ $s -lt $SHEETS ]; do
		i=$((c * SHEETS + s))
		curl -sk -o /dev/null --max-time 10 --cert "$PKI/contractor.pem" --key "$PKI/contractor.key" \
		    --data-binary @"$T/tort/s$i.xml" "https://127.0.0.1:$CPORT/v1/sheets" 2>/dev/null &
		clients="$clients $!"
		s=$((s + 1))
	done
	sleep "0.0$(shuf -i 0-9 -n 1)$(shuf -i 0-9 -n 1)"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	wait $clients
	daemon_start >/dev/null 2>&1 || { violation "cycle $c: daemon did not restart"; break; }

	# every client retries with the same bytes until it has a decision
	s=0
	while [ $s -lt $SHEETS ]; do
		i=$((c * SHEETS + s))
		if post_until_decided "$T/tort/s$i.xml" "$T/tort/a$i.xml"; then
			st=$(grpsts "$T/tort/a$i.xml")
			case "$st" in
			ACSC|PART)
				paid=$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'TORT-$i' AND t.reason = 'WAGE'")
				want=$(q "SELECT count(*) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'TORT-$i' AND l.reason_code IS NULL")
				[ "$paid" = "$want" ] && [ "$want" -gt 0 ] || violation "TORT-$i answered $st: $paid of $want lines paid";;
			*)	violation "TORT-$i answered $st";;
			esac
		else
			violation "TORT-$i: no decision after 60 tries"
		fi
		s=$((s + 1))
	done
	deposit_until_done "TD-$c" || violation "deposit TD-$c not booked"
	# one line of this cycle's first sheet comes back from the card's bank
	set -- $(q "SELECT l.end_to_end_id || ' ' || wp_yuan(l.amount) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'TORT-$((c * SHEETS))' AND l.seq = 1")
	return_until_done "TR-$c" "$1" "$2" || violation "return TR-$c not booked"
	debit_until_done "TX-$c" || violation "debit request TX-$c not answered"

	sum=$(q "SELECT sum(CASE WHEN a.kind = 'DEDICATED' THEN a.balance ELSE coalesce((SELECT sum(amount) FROM transfer WHERE credit_account = a.id), 0) - coalesce((SELECT sum(amount) FROM transfer WHERE debit_account = a.id), 0) END) FROM account a")
	[ "$sum" = 0 ] || violation "cycle $c: ledger sums to $sum"
	bad=$(q "SELECT count(*) FROM account a WHERE a.kind = 'DEDICATED' AND a.balance <> coalesce((SELECT sum(amount) FROM transfer WHERE credit_account = a.id), 0) - coalesce((SELECT sum(amount) FROM transfer WHERE debit_account = a.id), 0)")
	[ "$bad" = 0 ] || violation "cycle $c: $bad balances differ from their transfers"
	twice=$(q "SELECT count(*) FROM (SELECT sheet_id, line_seq FROM transfer WHERE reason = 'WAGE' GROUP BY 1, 2 HAVING count(*) > 1) x")
	[ "$twice" = 0 ] || violation "cycle $c: $twice lines paid twice"
	c=$((c + 1))
done

check_eq "every sheet decided and paid exactly once through $CYCLES SIGKILLs" "$violations" 0
check_eq "every sheet of the run is in the ledger" "$(q "SELECT count(*) FROM sheet WHERE state = 'PAID' AND msg_id LIKE 'TORT-%'")" "$((CYCLES * SHEETS))"
check_eq "every deposit booked once" "$(q "SELECT count(*) FROM deposit WHERE entry_ref LIKE 'TD-%'")" "$CYCLES"
check_eq "every return booked once" "$(q "SELECT count(*) FROM transfer WHERE reason = 'RETURN' AND reference LIKE 'TR-%'")" "$CYCLES"
check_eq "every refused debit raised one MISUSE_ATTEMPT" "$(q "SELECT count(*) FROM alert WHERE kind = 'MISUSE_ATTEMPT'")" "$CYCLES"
# every alert raised reaches the regulator at least once, under its own Id
all_delivered() {
	q "SELECT id FROM alert ORDER BY id" >"$T/raised"
	fr_log hrss | awk '$2 ~ /^2/ {print $3}' | sort -u >"$T/acked"
	[ -s "$T/raised" ] && [ -z "$(sort "$T/raised" | comm -23 - "$T/acked")" ]
}
check "every alert raised was delivered, with its original Id" wait_for 120 all_delivered
diag "$(wc -l <"$T/raised") alerts raised, $(wc -l <"$T/acked") acknowledged by the regulator"
ledger_exact
echo "torture: $c cycles, $violations violations"
finish
