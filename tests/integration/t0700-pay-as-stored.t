#!/bin/sh
# Paid as stored (schema/020): when the free balance covers a sheet whole as
# its CtrlSum declares it, and nothing older waits for money, each accepted
# line's transfer is booked right after its batch is stored, not by
# the close. Either way the ledger must be the one the close would have
# written: one transfer per accepted line, none for a refused one, at the
# transaction's time, the balance debited once. A sheet that the balance
# does not cover, or that queues behind a held one, is held whole and paid
# by the deposit as before. A sheet marked so that the close would hold
# (a CtrlSum that lies) is undone whole by the database itself.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
check "a maker proposes and a checker approves the project" open_project
check "a roster of 8000 workers is accepted" roster_demo 8000
deposit DEP-1 200000.00 >/dev/null
check_eq "deposit booked" "$(status)" 200

stored() { q "SELECT pay_as_stored FROM sheet WHERE msg_id = '$1'"; }
state() { q "SELECT state FROM sheet WHERE msg_id = '$1'"; }
transfers() { q "SELECT count(*) || ' ' || coalesce(sum(t.amount), 0) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = '$1' AND t.reason = 'WAGE'"; }
accepted() { q "SELECT accepted_count || ' ' || accepted_total FROM sheet WHERE msg_id = '$1'"; }
# transfers of a line refused, or lines accepted without one
mismatched() { q "SELECT count(*) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id LEFT JOIN transfer t ON t.reason = 'WAGE' AND t.sheet_id = l.sheet_id AND t.line_seq = l.seq WHERE s.msg_id = '$1' AND ((l.reason_code IS NULL) <> (t.id IS NOT NULL) OR t.amount <> l.amount OR t.reference <> s.msg_id || '/' || l.end_to_end_id OR t.debit_account <> s.account_id OR t.created_at <> s.paid_at)"; }
together() { grep -c "sheet $1: decided, .* read and decided together" "$T/wagepayd.log"; }

# --- a small sheet, one call: paid as stored ------------------------------------
tsv 10 0 100.00 >"$T/a.tsv"
sheet a --msg-id PAS-A --sub "$SUB1_USCC" --month 2026-10 <"$T/a.tsv"
submit a
check_eq "one call: ACSC" "$(grpsts "$T/a.pain002.xml")" ACSC
check_eq "one call: paid as stored" "$(stored PAS-A)" t
check_eq "one call: 10 transfers of 1,000.00" "$(transfers PAS-A)" "10 100000"
check_eq "one call: each accepted line's transfer, at the sheet's paid time" "$(mismatched PAS-A)" 0
check_eq "one call: the balance debited once" "$(balance)" 19900000

# --- a large sheet, read and decided together, two lines refused ---------------
N=1500
{ tsv $N 100 100.00; line OFF1 5000 100.00; line OFF2 5001 100.00; } >"$T/b.tsv"
sheet b --msg-id PAS-B --sub "$SUB1_USCC" --month 2026-10 <"$T/b.tsv"
diag "sheet B: $((N + 2)) lines, $(wc -c <"$T/b.xml") bytes"
submit b
check_eq "overlapped: PART" "$(grpsts "$T/b.pain002.xml")" PART
check_eq "overlapped: read and decided together" "$(together PAS-B)" 1
check_eq "overlapped: paid as stored" "$(stored PAS-B)" t
check_eq "overlapped: the off-roster lines refused WP01" \
    "$(q "SELECT string_agg(l.reason_code, ',' ORDER BY l.seq) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'PAS-B' AND l.reason_code IS NOT NULL")" "WP01,WP01"
check_eq "overlapped: $N transfers, the accepted total" "$(transfers PAS-B)" "$N $((N * 10000))"
check_eq "overlapped: the sheet's accepted figures are its transfers" "$(accepted PAS-B)" "$(transfers PAS-B)"
check_eq "overlapped: each accepted line's transfer and no other" "$(mismatched PAS-B)" 0
check_eq "overlapped: the balance debited once" "$(balance)" $((19900000 - N * 10000))
check_eq "overlapped: the refused lines are misuse alerts" \
    "$(q "SELECT count(*) FROM alert WHERE kind = 'MISUSE_ATTEMPT' AND msg_id = 'PAS-B'")" 2

# --- more than the balance: held whole, as before -------------------------------
left=$(balance)		# 4,920,000 fen
tsv 600 2000 100.00 >"$T/c.tsv"		# 6,000,000 fen
sheet c --msg-id PAS-C --sub "$SUB1_USCC" --month 2026-10 <"$T/c.tsv"
submit c
check_eq "short: PDNG" "$(grpsts "$T/c.pain002.xml")" PDNG
check_eq "short: held" "$(state PAS-C)" HELD
check_eq "short: not paid as stored" "$(stored PAS-C)" f
check_eq "short: no transfer" "$(transfers PAS-C)" "0 0"
check_eq "short: the balance untouched" "$(balance)" "$left"
# covered, but an older sheet waits: it queues behind it, held too
tsv 5 3000 100.00 >"$T/d.tsv"
sheet d --msg-id PAS-D --sub "$SUB1_USCC" --month 2026-10 <"$T/d.tsv"
submit d
check_eq "behind a held sheet: PDNG" "$(grpsts "$T/d.pain002.xml")" PDNG
check_eq "behind a held sheet: not paid as stored" "$(stored PAS-D)" f
check_eq "behind a held sheet: no transfer" "$(transfers PAS-D)" "0 0"
deposit DEP-2 20000.00 >/dev/null
check_eq "the deposit is booked" "$(status)" 200
check_eq "then the held sheet is paid" "$(state PAS-C)" PAID
check_eq "and the one behind it" "$(state PAS-D)" PAID
check_eq "by the close's own transfers" "$(transfers PAS-C) / $(transfers PAS-D)" "600 6000000 / 5 50000"
check_eq "each accepted line's transfer" "$(( $(mismatched PAS-C) + $(mismatched PAS-D) ))" 0
check_eq "the balance: what was left, the deposit, less both" "$(balance)" $((left + 2000000 - 6050000))

# --- a CtrlSum that lies: the database undoes the sheet itself ------------------
# The reader refuses such a sheet before its close; this is the database's
# own guard, driven as the daemon's session would drive it.
before=$(q "SELECT count(*) FROM transfer")
bal=$(balance)
W=$(worker 3500 id); NM=$(worker 3500 name); CD=$(worker 3500 card); BK=$(worker 3500 cardbank)
psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 >"$T/guard.out" 2>&1 <<EOF
BEGIN;
SELECT outcome FROM wp_sheet_open('$GC_USCC', 'PAS-LIE', '$ACCOUNT', '$SUB1_USCC', 100,
	timestamptz '2026-11-10 10:00+08');
SELECT pay_as_stored FROM sheet WHERE msg_id = 'PAS-LIE';
SELECT wp_sheet_lines(s.id, 1, ARRAY['G1'], ARRAY[$((bal + 100))::bigint], ARRAY['$NM'],
	ARRAY['$W'], ARRAY['$CD'], ARRAY['$BK'], ARRAY['WAGE'], ARRAY[date '2026-10-01'],
	ARRAY[$((bal + 100))::bigint], ARRAY[22], ARRAY[timestamptz '2026-10-31 12:00+08'],
	ARRAY['SIGN'], ARRAY['R1'], ARRAY[NULL::text], ARRAY[NULL::text])
FROM sheet s WHERE s.msg_id = 'PAS-LIE';
SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'PAS-LIE';
SELECT count(*) FROM sheet s, wp_sheet_close(s.id, '\x00'::bytea, date '2026-10-01', 1, 100)
WHERE s.msg_id = 'PAS-LIE';
COMMIT;
EOF
rc=$?
sed 's/^/# /' "$T/guard.out"
check "the lie: the close is refused" [ "$rc" -ne 0 ]
check_eq "the lie: opened, marked, its line's transfer booked on the way" \
    "$(sed -n '1,4p' "$T/guard.out" | tr '\n' ' ')" "OPEN t 1 1 "
check "the lie: refused as paid as stored and not coverable" \
    grep -q "was paid as its lines were stored, but its accepted total" "$T/guard.out"
check_eq "the lie: no sheet row left" "$(q "SELECT count(*) FROM sheet WHERE msg_id = 'PAS-LIE'")" 0
check_eq "the lie: no transfer left" "$(q "SELECT count(*) FROM transfer")" "$before"
check_eq "the lie: the balance untouched" "$(balance)" "$bal"

ledger_exact
finish
