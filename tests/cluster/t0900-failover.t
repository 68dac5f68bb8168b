#!/bin/sh
# Failover on the production shape (issue 23): sheets, deposits and wage
# returns flow through HAProxy to two wagepayd instances on a Patroni
# cluster of two PostgreSQL nodes (synchronous replication) while, in one
# kind of round, the PostgreSQL leader's node is killed (SIGKILL to its
# Patroni, its postmaster and every backend: a machine lost) and Patroni
# promotes the synchronous standby; in the other kind, one wagepayd is
# killed with SIGKILL and HAProxy's health check takes it out. Every client
# retries with the same bytes until it has a decision. Afterwards the
# killed node rejoins as a standby (pg_rewind when it must) and the killed
# instance is started again, and on the leader of the end: every
# acknowledged sheet is paid, each line once; every acknowledged deposit and
# return is booked once; the ledger sums to zero; the audit chains verify;
# and the rejoined standby holds the same ledger. ROUNDS rounds of each kind
# (default 1; `make test-cluster-long` runs more). Ends with
# `failover: ...` figures: kills, sheets, acknowledged, lost, doubled,
# seconds without a leader.
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-1}
SHEETS=${CLUSTER_SHEETS:-10}		# sheets per round
DEPOSITS=3				# deposits per round
WARM=$((ROUNDS * 2))			# sheets paid first, one line of each returned in a round
TOTAL=$((WARM + ROUNDS * 2 * SHEETS))
GROUPS=$(( (TOTAL + 8) / 9 ))

cluster_up || { echo "Bail out! the cluster did not come up"; exit 1; }
seed_world $((GROUPS * 3 * 2)) || { echo "Bail out! seed failed"; exit 1; }
make_sheets 0 "$TOTAL" "$T/s"
[ -f "$T/s/s$((TOTAL - 1)).xml" ] || { echo "Bail out! could not make the sheets"; exit 1; }
i=0
while [ $i -lt $WARM ]; do
	post_until_decided contractor /v1/sheets "$T/s/s$i.xml" "$T/s/a$i.xml" 50 ||
	    { echo "Bail out! warm-up sheet CL-$i not decided"; exit 1; }
	i=$((i + 1))
done
check_eq "the cluster pays through HAProxy" "$(grpsts "$T/s/a0.xml")" ACSC

api_port() { case $1 in pg1) echo "$API1_PORT";; pg2) echo "$API2_PORT";; esac; }
is_sync() { curl -sf -o /dev/null "http://$HOST:$(api_port "$1")/sync"; }
healthy() { eval "port=\$W${1}_CONSOLE_PORT"; curl -sf -o /dev/null --cacert "$PKI/ca.pem" "https://$HOST:$port/healthz"; }
# watch_leader OLD FILE: seconds from now until a leader other than OLD is
# up, or "none" if there is none after 90 s
watch_leader() {
	_t0=$(now_s)
	for _ in $(seq 1 900); do
		_l=$(leader)
		if [ -n "$_l" ] && [ "$_l" != "$1" ]; then
			secs "$_t0" "$(now_s)" >"$2"
			return
		fi
		sleep 0.1
	done
	echo none >"$2"
}

kills=0; kills_db=0; kills_app=0; noleader=
next=$WARM
# round KIND R: SHEETS sheets, DEPOSITS deposits and one return in flight,
# the kill after the third client has started
round() {
	kind=$1; r=$2; pids=; k=0
	# the return: line 1 of warm-up sheet (2 R + 0 or 1)
	w=$(( 2 * r + $( [ "$kind" = db ] && echo 0 || echo 1) ))
	set -- $(q "SELECT l.end_to_end_id || ' ' || wp_yuan(l.amount) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'CL-$w' ORDER BY l.seq LIMIT 1")
	return_xml "RT-$kind-$r" "$1" "$2" "$T/r/rt-$kind-$r.xml"
	post_until_decided core /v1/core/notifications "$T/r/rt-$kind-$r.xml" "$T/r/rt-$kind-$r.ans" & pids="$pids $!"
	d=0
	while [ $d -lt $DEPOSITS ]; do
		deposit_xml "DP-$kind-$r-$d" 10.00 "$T/r/dp-$kind-$r-$d.xml"
		post_until_decided core /v1/core/notifications "$T/r/dp-$kind-$r-$d.xml" "$T/r/dp-$kind-$r-$d.ans" & pids="$pids $!"
		d=$((d + 1))
	done
	while [ $k -lt $SHEETS ]; do
		i=$((next + k))
		post_until_decided contractor /v1/sheets "$T/s/s$i.xml" "$T/s/a$i.xml" & pids="$pids $!"
		k=$((k + 1))
		if [ $k = 3 ]; then
			kills=$((kills + 1))
			if [ "$kind" = db ]; then
				victim=$(leader)
				watch_leader "$victim" "$T/r/noleader-$r" & watcher=$!
				"$CLUSTER" kill-node "$CL" "$victim"
				kills_db=$((kills_db + 1))
			else
				victim=$(( r % 2 + 1 ))
				"$CLUSTER" kill-wagepayd "$CL" "$victim"
				kills_app=$((kills_app + 1))
			fi
		fi
		sleep 0.25
	done
	next=$((next + SHEETS))
	wait $pids
	if [ "$kind" = db ]; then
		wait "$watcher"
		noleader="$noleader $(cat "$T/r/noleader-$r")"
		"$CLUSTER" start-node "$CL" "$victim"
		wait_for 180 is_sync "$victim" || diag "round db $r: $victim did not rejoin as the synchronous standby"
	else
		"$CLUSTER" start-wagepayd "$CL" "$victim"
		wait_for 30 healthy "$victim" || diag "round app $r: wagepayd$victim did not come back"
	fi
}

mkdir -p "$T/r"
r=0
while [ $r -lt "$ROUNDS" ]; do
	round db $r
	round app $r
	r=$((r + 1))
done

# --- what the clients were told, against the leader of the end ---------------
sheets=$((TOTAL - WARM)); acked=0; lost=0
i=$WARM
while [ $i -lt $TOTAL ]; do
	st=$(grpsts "$T/s/a$i.xml" 2>/dev/null)
	if [ "$st" = ACSC ]; then
		acked=$((acked + 1))
		[ "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'CL-$i' AND t.reason = 'WAGE'")" = 3 ] ||
		    { lost=$((lost + 1)); diag "CL-$i acknowledged ACSC but not paid 3 lines on the leader"; }
	else
		diag "CL-$i: answered '$st'"
	fi
	i=$((i + 1))
done
booked=0; nbook=0
for f in "$T"/r/dp-*.ans; do
	ref=$(basename "$f" .ans | sed 's/^dp-/DP-/')
	nbook=$((nbook + 1))
	[ "$(q "SELECT count(*) FROM deposit WHERE entry_ref = '$ref'")" = 1 ] && booked=$((booked + 1))
done
returned=0; nret=0
for f in "$T"/r/rt-*.ans; do
	ref=$(basename "$f" .ans | sed 's/^rt-/RT-/')
	nret=$((nret + 1))
	[ "$(q "SELECT count(*) FROM transfer WHERE reason = 'RETURN' AND reference = '$ref'")" = 1 ] && returned=$((returned + 1))
done
doubled=$(q "SELECT count(*) FROM (SELECT sheet_id, line_seq FROM transfer WHERE reason = 'WAGE' GROUP BY 1, 2 HAVING count(*) > 1) x")

check_eq "every sheet got a decision, ACSC, through $kills kills" "$acked" "$sheets"
check_eq "every acknowledged sheet is paid on the leader of the end, 3 lines each" "$lost" 0
check_eq "no line paid twice" "$doubled" 0
check_eq "every deposit acknowledged and booked once" "$booked" "$nbook"
check_eq "every return acknowledged and booked once" "$returned" "$nret"
check_eq "the ledger holds exactly the sheets sent" \
    "$(q "SELECT count(*) FROM sheet WHERE state = 'PAID' AND msg_id LIKE 'CL-%'")" "$TOTAL"
ledger_exact
check "the audit chains verify" chains_verify
promoted=$(for x in $noleader; do [ "$x" != none ] && echo "$x"; done | wc -l)
check_eq "Patroni promoted the other node in every database round" "$promoted" "$kills_db"
check "wagepayd logged reconnecting to the new leader" grep -q 'connected to' "$CL/log/wagepayd1.log" "$CL/log/wagepayd2.log"
# the rejoined node holds what the leader holds (replay may lag a moment)
standby=$(for n in pg1 pg2; do [ "$n" != "$(leader)" ] && echo $n; done)
same() { [ "$(q_node "$standby" "SELECT count(*) || ' ' || sum(amount) FROM transfer")" = "$(q "SELECT count(*) || ' ' || sum(amount) FROM transfer")" ]; }
check "the rejoined standby ($standby) holds the same transfers" wait_for 30 same
tries=$(cat "$T"/s/*.code "$T"/r/*.code | wc -l)
tries503=$(cat "$T"/s/*.code "$T"/r/*.code | grep -c '^503$')
tries000=$(cat "$T"/s/*.code "$T"/r/*.code | grep -c '^000$')
echo "failover: $kills kills ($kills_db PostgreSQL leader, $kills_app wagepayd), $sheets sheets, $acked acknowledged, $lost lost, $doubled doubled, $nbook deposits and $nret returns booked once each, $tries tries ($tries503 answered 503, $tries000 without an answer), seconds without a leader:$noleader"
finish
