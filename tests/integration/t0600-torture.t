#!/bin/sh
# Crash at any instant: sheets, deposits, returns and refused debits (each
# raising an alert) under load while wagepayd is
# killed with SIGKILL at a random moment, CYCLES times (default 50; `make
# torture` runs 1,000). After each kill the daemon is restarted and every
# client retries with the same bytes until it gets a decision. After every
# cycle: every sheet answered as paid has each accepted line paid exactly
# once, no EndToEndId is paid twice, the ledger sums to zero and balances
# equal their transfers; at the end every alert raised has been delivered
# to the (fake) regulator with its original Id. The fake core
# (tests/tools/fakecore serve --auto) takes every paid sheet's payment order
# and settles it by itself, ACCC or, for a deterministic few lines, RJCT
# AC04; once the storm is over and every order is taken and settled: each
# paid line's InstrId reached the core under one MsgId only (an order sent
# again after a kill carries the same MsgId), each paid line has exactly one
# final status, each rejected line's money is back and earmarked, what
# the core credited equals the ACCC lines booked, the core failed now and
# then (503s, orders never answered), and the fake core's end-of-day
# statement (its orders, rejections, the deposits and returns) agrees with
# the ledger: no RECONCILIATION_BREAK. Ends with
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
FC_PORT=$(free_port)
FC="$T/fakecore"
mkdir -p "$FC"
EXTRA_CONFIG=$(regulator_section hrss 4101 hrss; printf '[core]\npayments_url = https://127.0.0.1:%s/v1/orders\npayments_ca = %s\npayments_cert = %s\npayments_key = %s\n' \
    "$FC_PORT" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key")
export WAGEPAY_PAYORDER_POLL_MS=200 WAGEPAY_PAYORDER_TIMEOUT=2 WAGEPAY_PAYORDER_BACKOFF_MAX=1
setup_world || { echo "Bail out! setup failed"; exit 1; }
fr_start hrss || { echo "Bail out! fake regulator"; exit 1; }
# the core answers an order 0.1 s after reading it: a kill in between and the
# daemon sends the order again, which the core took (and settles) already;
# and it fails now and then (--flaky 7: every 7th order read answered 503,
# the next read and never answered, the daemon giving up after 2 s)
python3 "$TOOLS/fakecore" serve --port "$FC_PORT" --dir "$FC" --cert "$PKI/server.pem" \
    --key "$PKI/server.key" --ca "$PKI/ca.pem" --auto --url "https://127.0.0.1:$KPORT" \
    --core-cert "$PKI/core.pem" --core-key "$PKI/core.key" --delay 0.1 --flaky 7 --hang 3 \
    >"$T/fakecore.out" 2>&1 &
FC_PID=$!
trap 'kill $FC_PID 2>/dev/null; fr_cleanup; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$T/fakecore.out" && break; sleep 0.1; done
grep -q listening "$T/fakecore.out" || { echo "Bail out! fake core"; exit 1; }
# every deposit is booked on the database's day (China time), as the core
# would book it: the fake core's statement of that day is checked at the end
DEPOSIT_DATE=$(q "SELECT wp_cst(now())::date")
export DEPOSIT_DATE
open_project && roster_demo $(( GROUPS * 3 * 2 )) && deposit DEP-0 100000000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }
echo "--deposit DEP-0=100000000.00" >"$T/credits"

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
	echo "--deposit TD-$c=10.00" >>"$T/credits"
	# one line of this cycle's first sheet comes back from the card's bank:
	# the first the fake core credits (a line it rejects is back already;
	# its InstrId's digits sum to a number ending in 7, at most one in three
	# consecutive lines)
	set -- $(q "SELECT l.end_to_end_id || ' ' || wp_yuan(l.amount) FROM payment_order_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'TORT-$((c * SHEETS))' AND (SELECT sum(d::int) FROM regexp_split_to_table(regexp_replace(l.instr_id, '[^0-9]', '', 'g'), '') d) % 10 <> 7 ORDER BY l.line_seq LIMIT 1")
	return_until_done "TR-$c" "$1" "$2" || violation "return TR-$c not booked"
	echo "--deposit TR-$c=$2" >>"$T/credits"
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
# --- the payment orders: every one taken by the core and settled -----------------
settled() {
	[ "$(q "SELECT count(*) FROM payment_order WHERE state <> 'TAKEN' OR unsettled > 0")" = 0 ] &&
	    [ "$(q "SELECT count(*) FROM payment_order_line WHERE status IS NULL")" = 0 ]
}
check "every order taken by the core and every line settled" wait_for 180 settled
check_eq "one order per paid sheet" "$(q "SELECT count(*) FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id LIKE 'TORT-%'")" "$((CYCLES * SHEETS))"
q "SELECT order_msg_id || ' ' || instr_id || ' ' || end_to_end_id || ' ' || amount FROM payment_order_line" >"$T/db-lines"
sort -k2 "$FC/instr" >"$T/fc-lines"
check_eq "no InstrId reached the core under two MsgIds" "$(awk '{print $2}' "$FC/instr" | sort | uniq -d | wc -l)" 0
check_eq "no MsgId/InstrId recorded twice" "$(awk '{print $1, $2}' "$FC/instr" | sort | uniq -d | wc -l)" 0
check_eq "the core got every paid line, as paid, and no other" "$(awk '{print $1, $2, $3, $4}' "$T/fc-lines" | sort)" "$(sort "$T/db-lines")"
check_eq "the core took every order" \
    "$(awk '$1 ~ /^[0-9]+$/ && $2 ~ /^2/ {print $3}' "$FC/log" | sort -u | wc -l)" "$((CYCLES * SHEETS))"
check_eq "every paid line has exactly one final status" \
    "$(q "SELECT count(*) FROM payment_order_line l WHERE (SELECT count(*) FROM payment_settlement s WHERE s.order_id = l.order_id AND s.line_seq = l.line_seq) <> 1")" 0
check_eq "no final status for a line not paid" \
    "$(q "SELECT count(*) FROM payment_settlement s WHERE NOT EXISTS (SELECT 1 FROM payment_order_line l WHERE l.order_id = s.order_id AND l.line_seq = s.line_seq)")" 0
check_eq "each line's status the core's" \
    "$(awk '{print $2, $5}' "$FC/instr" | sort)" "$(q "SELECT instr_id || ' ' || status FROM payment_order_line" | sort)"
nrj=$(awk '$5 == "RJCT"' "$FC/instr" | wc -l)
check "some lines were rejected by the core" [ "$nrj" -gt 0 ]
check_eq "each RJCT line rejected AC04" "$(q "SELECT count(*) FROM payment_settlement WHERE status = 'RJCT' AND reason <> 'AC04'")" 0
check_eq "each RJCT line's money is back on the account" \
    "$(q "SELECT count(*) FROM payment_settlement s WHERE s.status = 'RJCT' AND (SELECT count(*) FROM line_return r WHERE r.sheet_id = s.sheet_id AND r.line_seq = s.line_seq) <> 1")" 0
check_eq "and earmarked: the earmark is every line back" \
    "$(q "SELECT a.earmarked FROM account a WHERE a.number = '$ACCOUNT'")" \
    "$(q "SELECT coalesce(sum(amount), 0) FROM line_return WHERE account_id = (SELECT id FROM account WHERE number = '$ACCOUNT')")"
check_eq "PAYMENT_FAILED raised for each RJCT line" "$(q "SELECT count(*) FROM alert WHERE kind = 'PAYMENT_FAILED'")" "$nrj"
check_eq "what the core credited equals the ACCC lines booked" \
    "$(awk '$5 == "ACCC" {s += $4} END {print s + 0}' "$FC/instr")" \
    "$(q "SELECT coalesce(sum(amount), 0) FROM payment_order_line WHERE status = 'ACCC'")"
check_eq "every status the core sent was acknowledged APPLIED or DUPLICATE" \
    "$(awk '$3 != "APPLIED" && $3 != "DUPLICATE"' "$FC/auto" | wc -l)" 0
diag "$(wc -l <"$FC/instr") lines settled by the core ($nrj RJCT), $(grep -c '^[0-9]' "$FC/log") order posts, $(wc -l <"$FC/auto") status reports"
check "the core failed now and then: 503s and orders never answered" \
    sh -c "grep -q '^[0-9]* 503 ' '$FC/log' && grep -q '^[0-9]* hang ' '$FC/log'"

# --- the core's end-of-day statement agrees with the ledger ------------------------
# The fake core books what it took (a DBIT per order), what it rejected (a
# CRDT per line, 'RJCT/' + InstrId) and what it was told (the deposits and
# returns, by NtryRef), all on one day: the ledger must agree after the storm.
if [ "$(q "SELECT wp_cst(now())::date")" = "$DEPOSIT_DATE" ]; then
	# shellcheck disable=SC2046
	check_eq "the fake core's statement of the day agrees with the ledger" \
	    "$(python3 "$TOOLS/fakecore" statement --dir "$FC" --account "$ACCOUNT" --day "$DEPOSIT_DATE" \
		$(cat "$T/credits") --url "https://127.0.0.1:$KPORT" --cert "$PKI/core.pem" \
		--key "$PKI/core.key" --out "$T/stmt.xml")" "200 APPLIED -"
	check_eq "no RECONCILIATION_BREAK" "$(q "SELECT count(*) FROM alert WHERE kind = 'RECONCILIATION_BREAK'")" 0
	check_eq "the statement's closing balance is the account's" \
	    "$(xmllint --xpath "string(//*[local-name()='Bal'][*[local-name()='Tp']//*[local-name()='Cd']='CLBD']/*[local-name()='Amt'])" "$T/stmt.xml")" \
	    "$(q "SELECT wp_yuan(balance) FROM account WHERE number = '$ACCOUNT'")"
else
	diag "the run crossed midnight China time: the statement check is skipped"
fi

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
