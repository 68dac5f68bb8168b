#!/bin/sh
# Sheets read and decided together (daemon/sheetapi.c, schema/015): the
# lines of a large sheet go to the database in batches, in one transaction,
# while the rest is read. The answers are those of the one-call form; a
# sheet refused after its lines were sent leaves nothing behind; a replay
# pays nothing; a worker twice in the sheet, in different batches, is
# refused as in one call; so is an EndToEndId twice, which the database
# refuses on the way; a sheet too large for the balance is held whole;
# two sheets of one account at once are both paid; a daemon killed in the
# middle of one leaves nothing, and the sheet sent again is paid once.
. "$(dirname "$0")/lib.sh"

N=1500		# about 1.2 MB: 10 batches of 128 KB
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "a maker proposes and a checker approves the project" open_project
check "a roster of $((2 * 20000)) workers is accepted" roster_demo $((2 * 20000))
deposit DEP-1 50000000.00 >/dev/null
check_eq "deposit booked" "$(status)" 200

wages() { q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'"; }
together() { grep -c "sheet $1: decided, .* read and decided together" "$T/wagepayd.log"; }
reason_of() { xval "//*[local-name()='TxInfAndSts'][*[local-name()='OrgnlEndToEndId']='$1']//*[local-name()='Rsn']/*" "$2"; }
text_of() { xval "//*[local-name()='TxInfAndSts'][*[local-name()='OrgnlEndToEndId']='$1']//*[local-name()='AddtlInf']" "$2"; }

# big NAME MSGID COUNT FROM [MONTH]: a signed --demo sheet
big() {
	python3 "$TOOLS/mksheet" --account "$ACCOUNT" --demo "$3" --demo-from "$4" \
	    --msg-id "$2" --month "${5:-2026-10}" >"$T/$1.unsigned.xml" &&
	"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/$1.unsigned.xml" "$T/$1.xml"
}

# --- paid, read and decided together ------------------------------------------
big b1 OV-1 $N 0
diag "sheet of $N lines: $(wc -c <"$T/b1.xml") bytes"
submit b1
check_eq "overlapped: HTTP 200" "$(status)" 200
check_eq "overlapped: ACSC" "$(grpsts "$T/b1.pain002.xml")" ACSC
check "overlapped: pain.002 valid against the official schema" valid_pain002 "$T/b1.pain002.xml"
check_eq "overlapped: the log says it was read and decided together" "$(together OV-1)" 1
check_eq "overlapped: $N wage transfers" "$(wages)" $N
check_eq "overlapped: the sheet's stored figures are its own" \
    "$(q "SELECT nb_of_txs || ' ' || to_char(month, 'YYYY-MM') || ' ' || (digest <> '\\x'::bytea) || ' ' || (ctrl_sum = accepted_total) FROM sheet WHERE msg_id = 'OV-1'")" \
    "$N 2026-10 true true"
check_eq "overlapped: lines numbered 1..$N in order" \
    "$(q "SELECT count(*) || ' ' || min(seq) || ' ' || max(seq) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'OV-1'")" \
    "$N 1 $N"

# --- the same bytes again: the answer of the first decision, nothing paid -----
cp "$T/b1.pain002.xml" "$T/b1.first.xml"
submit b1
check_eq "replay: HTTP 200" "$(status)" 200
check_eq "replay: ACSC again" "$(grpsts "$T/b1.pain002.xml")" ACSC
check_eq "replay: nothing paid again" "$(wages)" $N
check "replay: decided in one call (the MsgId is there)" grep -q "sheet OV-1: decided in one call, not as it was read (EXISTS)" "$T/wagepayd.log"

# --- the same MsgId, other bytes: 409 DU01 ------------------------------------
big b1x OV-1 $N 5000
submit b1x
check_eq "MsgId reuse: HTTP 409" "$(status)" 409
check "MsgId reuse: DU01" grep -q DU01 "$T/b1x.pain002.xml"
check_eq "MsgId reuse: nothing paid" "$(wages)" $N

# --- refused at its end, after its lines were sent: nothing left -------------
big b2 OV-2 $N 2000
lines_before=$(q "SELECT count(*) FROM sheet_line")
awk '/<InstdAmt/ { k++ } { if (k == 1400 && !done && sub(/[0-9]\./, "9.")) done = 1; print }' \
    "$T/b2.xml" >"$T/b2t.xml"
check "the tampered copy differs" sh -c "! cmp -s '$T/b2.xml' '$T/b2t.xml'"
submit b2t
check_eq "tampered: RJCT" "$(grpsts "$T/b2t.pain002.xml")" RJCT
check "tampered: WP31" grep -q WP31 "$T/b2t.pain002.xml"
check_eq "tampered: no sheet row" "$(q "SELECT count(*) FROM sheet WHERE msg_id = 'OV-2'")" 0
check_eq "tampered: no line stored" "$(q "SELECT count(*) FROM sheet_line")" "$lines_before"
check_eq "tampered: nothing paid" "$(wages)" $N
idle_in_tx() { q "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"; }
for _ in $(seq 1 40); do [ "$(idle_in_tx)" = 0 ] && break; sleep 0.05; done
check_eq "tampered: its transaction ended" "$(idle_in_tx)" 0
submit b2
check_eq "the untampered sheet is then paid" "$(grpsts "$T/b2.pain002.xml")" ACSC
check_eq "and read and decided together" "$(together OV-2)" 1
check_eq "paid once" "$(wages)" $((2 * N))

# --- a worker twice, in batches far apart: refused as in one call -------------
tsv $N 4000 100.00 dup >"$T/dup.tsv"
sheet dup --msg-id OV-DUP --sub "$SUB1_USCC" --month 2026-10 <"$T/dup.tsv"
submit dup
check_eq "duplicate: PART" "$(grpsts "$T/dup.pain002.xml")" PART
check_eq "duplicate: read and decided together" "$(together OV-DUP)" 1
check_eq "duplicate: the later line refused AM05" "$(reason_of L$N "$T/dup.pain002.xml")" AM05
case "$(text_of L$N "$T/dup.pain002.xml")" in
*"appears earlier in this sheet"*) ok "duplicate: as an earlier line of this sheet" ;;
*) not_ok "duplicate: as an earlier line of this sheet" ;;
esac
check_eq "duplicate: the first line paid" \
    "$(q "SELECT count(*) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'OV-DUP' AND l.end_to_end_id = 'L0' AND l.reason_code IS NULL")" 1
# the same in one call: a small sheet with the same worker twice
tsv 3 12000 100.00 dup >"$T/dup-small.tsv"
sheet dups --msg-id OV-DUPS --sub "$SUB1_USCC" --month 2026-10 <"$T/dup-small.tsv"
submit dups
check_eq "one call: the later line refused AM05 too" "$(reason_of L3 "$T/dups.pain002.xml")" AM05
check_eq "one call and overlapped give the same reason text" \
    "$(text_of L3 "$T/dups.pain002.xml")" "$(text_of L$N "$T/dup.pain002.xml")"
check_eq "one call: not read and decided together" "$(together OV-DUPS)" 0

# --- an EndToEndId twice, in batches apart: the database refuses the batch ---
# The daemon finds a repeated EndToEndId only at the sheet's end; before
# that, the batch holding the second one is refused by the database
# (sheet_line's unique key; 019's second try raises it again). The session
# is broken, nothing of it is written, and the sheet is refused FF01 at its
# end, as in one call.
python3 "$TOOLS/mksheet" --account "$ACCOUNT" --demo $N --demo-from 14000 \
    --msg-id OV-E2E --month 2026-10 >"$T/e2e.unsigned.xml"
e2e_first=$(sed -n 's|.*<EndToEndId>\([^<]*\)</EndToEndId>.*|\1|p' "$T/e2e.unsigned.xml" | head -1)
# the second one in the second or third batch of ten: the database has
# its batch long before the reader reaches the sheet's end, even on a
# loaded machine (in the middle, the end sometimes came first)
e2e_middle=$(sed -n 's|.*<EndToEndId>\([^<]*\)</EndToEndId>.*|\1|p' "$T/e2e.unsigned.xml" | sed -n "$((N / 5))p")
sed "s|<EndToEndId>$e2e_middle</EndToEndId>|<EndToEndId>$e2e_first</EndToEndId>|" \
    "$T/e2e.unsigned.xml" >"$T/e2e2.unsigned.xml"
check_eq "EndToEndId twice: the edit made one" \
    "$(grep -c "<EndToEndId>$e2e_first</EndToEndId>" "$T/e2e2.unsigned.xml")" 2
"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/e2e2.unsigned.xml" "$T/e2e.xml"
paid_before=$(wages)
submit e2e
check_eq "EndToEndId twice: HTTP 200" "$(status)" 200
check_eq "EndToEndId twice: RJCT" "$(grpsts "$T/e2e.pain002.xml")" RJCT
check "EndToEndId twice: FF01, named" \
    grep -q "EndToEndId $e2e_first appears more than once" "$T/e2e.pain002.xml"
check "EndToEndId twice: the database refused its batch on the way" \
    grep -q "sheet OV-E2E: database refused a step.*sheet_line_sheet_id_end_to_end_id_key" "$T/wagepayd.log"
check_eq "EndToEndId twice: no sheet row left" \
    "$(q "SELECT count(*) FROM sheet WHERE msg_id = 'OV-E2E'")" 0
check_eq "EndToEndId twice: nothing paid" "$(wages)" "$paid_before"
check "EndToEndId twice: the daemon goes on" kill -0 "$DAEMON_PID"

# --- more than the balance: held whole, then paid by a deposit ---------------
paid_before=$(wages)
balance_before=$(balance)
tsv $N 6000 100000.00 >"$T/b3.tsv"
sheet b3 --msg-id OV-3 --sub "$SUB1_USCC" --month 2026-10 <"$T/b3.tsv"
check "short: the sheet needs more than the balance" \
    test "$(balance)" -lt $((N * 100000 * 100))
submit b3
check_eq "short: PDNG" "$(grpsts "$T/b3.pain002.xml")" PDNG
check_eq "short: read and decided together" "$(together OV-3)" 1
check_eq "short: held whole, nothing paid" "$(wages)" "$paid_before"
check_eq "short: balance untouched" "$(balance)" "$balance_before"
deposit DEP-2 200000000.00 >/dev/null
check_eq "short: the deposit pays it whole" "$(wages)" $((paid_before + N))

# --- two sheets of one account at once -----------------------------------------
big c1 OV-C1 $N 8000
big c2 OV-C2 $N 10000
submit c1 & submit_pid=$!
gc POST /v1/sheets --data-binary @"$T/c2.xml" -H 'Content-Type: application/xml' >"$T/c2.pain002.xml"
wait $submit_pid
check_eq "concurrent: the second ACSC" "$(grpsts "$T/c2.pain002.xml")" ACSC
check_eq "concurrent: the first ACSC" "$(grpsts "$T/c1.pain002.xml")" ACSC
check_eq "concurrent: both paid" \
    "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id IN ('OV-C1', 'OV-C2')")" $((2 * N))

# --- the daemon killed while a sheet is being read and decided ---------------
K=20000
python3 "$TOOLS/mksheet" --account "$ACCOUNT" --demo $K --demo-from 0 \
    --msg-id OV-KILL --month 2026-11 >"$T/k.unsigned.xml"
"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/k.unsigned.xml" "$T/k.xml"
deposit DEP-3 200000000.00 >/dev/null
paid_before=$(wages)
gc POST /v1/sheets --data-binary @"$T/k.xml" -H 'Content-Type: application/xml' >/dev/null &
client=$!
# until its session has begun: a transaction of this daemon is open
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()")" -gt 0 ] && break
	sleep 0.05
done
kill -9 "$DAEMON_PID"; DAEMON_PID=
wait $client 2>/dev/null
# the server ends the dead daemon's backends by itself; wait for it
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()")" = 0 ] && break
	sleep 0.1
done
check_eq "killed: nothing of the sheet was written" \
    "$(q "SELECT count(*) FROM sheet WHERE msg_id = 'OV-KILL'") $(wages)" "0 $paid_before"
daemon_start
submit k
check_eq "sent again: ACSC" "$(grpsts "$T/k.pain002.xml")" ACSC
check_eq "sent again: paid once" "$(wages)" $((paid_before + K))

ledger_exact
finish
