#!/bin/sh
# A signed sheet in, workers' cards paid: ACSC, replay, MsgId reuse, PART,
# AM05, BACKPAY, and PDNG released by a deposit, on a real PostgreSQL.
. "$(dirname "$0")/lib.sh"

# the daemon runs as a role of its own, granted only its entry points
# (issue 22: [database] migrate_dsn, schema/functions/privileges.sql)
DAEMON_ROLE=${DAEMON_ROLE-wagepayd}
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "a maker proposes and a checker approves the project" open_project
check "the roster is accepted" roster_demo 30
check_eq "roster: 30 accepted" "$(xval '/*/@accepted' "$T/receipt.xml")" 30
deposit DEP-1 20000.00 >/dev/null
check_eq "deposit booked" "$(status)" 200
check_eq "balance after deposit" "$(balance)" 2000000

# --- happy path: 3 workers, all paid -----------------------------------------
{ line E1 0 3000.00; line E2 1 4000.50; line E3 2 2500.00; } >"$T/l1"
sheet s1 --msg-id SHEET-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
submit s1
check_eq "sheet 1: HTTP 200" "$(status)" 200
check_eq "sheet 1: ACSC" "$(grpsts "$T/s1.pain002.xml")" ACSC
check "sheet 1: pain.002 valid against the official schema" valid_pain002 "$T/s1.pain002.xml"
check_eq "sheet 1: OrgnlMsgId" "$(xval "//*[local-name()='OrgnlMsgId']" "$T/s1.pain002.xml")" SHEET-1
check_eq "sheet 1: balance lowered by 9500.50" "$(balance)" $((2000000 - 950050))
check_eq "sheet 1: three wage transfers" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" 3

# --- the same bytes again: the same answer, nothing paid again --------------
submit s1
check_eq "replay: HTTP 200" "$(status)" 200
check_eq "replay: still ACSC" "$(grpsts "$T/s1.pain002.xml")" ACSC
check_eq "replay: nothing paid again" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" 3
gc GET /v1/sheets/SHEET-1 >"$T/get1.xml"
check_eq "GET status: ACSC" "$(grpsts "$T/get1.xml")" ACSC
check "GET status: valid pain.002" valid_pain002 "$T/get1.xml"
gc GET /v1/sheets/NO-SUCH-SHEET >/dev/null
check_eq "GET of an unknown MsgId: 404" "$(status)" 404

# --- the same MsgId with other bytes: 409, DU01 ------------------------------
line E1 3 3000.00 >"$T/l2"
sheet s1b --msg-id SHEET-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l2"
submit s1b
check_eq "MsgId reuse: HTTP 409" "$(status)" 409
check_eq "MsgId reuse: RJCT" "$(grpsts "$T/s1b.pain002.xml")" RJCT
check_eq "MsgId reuse: DU01" "$(xval "//*[local-name()='OrgnlGrpInfAndSts']/*[local-name()='StsRsnInf']/*[local-name()='Rsn']/*[local-name()='Cd']" "$T/s1b.pain002.xml")" DU01
check "MsgId reuse: valid pain.002" valid_pain002 "$T/s1b.pain002.xml"
check_eq "MsgId reuse: nothing paid" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" 3

# --- PART: one worker not on the roster, one with another card --------------
{
	line P1 3 1000.00
	printf 'P2\t%s\t%s\t%s\t%s\t1000.00\tWAGE\n' "$(python3 "$TOOLS/wpids.py" id 77)" "无名氏" "$(python3 "$TOOLS/wpids.py" card 77)" "$(worker 0 cardbank)"
	printf 'P3\t%s\t%s\t%s\t%s\t1000.00\tWAGE\n' "$(worker 4 id)" "$(worker 4 name)" "$(python3 "$TOOLS/wpids.py" card 78)" "$(worker 4 cardbank)"
	printf 'P4\t%s\t%s\t%s\t%s\t1000.00\tWAGE\n' "$(worker 5 id)" "别人" "$(worker 5 card)" "$(worker 5 cardbank)"
} >"$T/l3"
sheet s2 --msg-id SHEET-2 --sub "$SUB1_USCC" --month 2026-10 <"$T/l3"
submit s2
check_eq "PART: HTTP 200" "$(status)" 200
check_eq "PART: group status" "$(grpsts "$T/s2.pain002.xml")" PART
check "PART: valid pain.002" valid_pain002 "$T/s2.pain002.xml"
reason() { xval "//*[local-name()='TxInfAndSts'][*[local-name()='OrgnlEndToEndId']='$1']//*[local-name()='Rsn']/*" "$2"; }
check_eq "PART: off-roster worker refused WP01" "$(reason P2 "$T/s2.pain002.xml")" WP01
check_eq "PART: card not the worker's refused AC01" "$(reason P3 "$T/s2.pain002.xml")" AC01
check_eq "PART: name not the worker's refused BE01" "$(reason P4 "$T/s2.pain002.xml")" BE01
check_eq "PART: only the good line paid" "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'SHEET-2'")" 1
check_eq "PART: misuse alerts raised for the three" "$(q "SELECT count(*) FROM alert WHERE kind = 'MISUSE_ATTEMPT' AND msg_id = 'SHEET-2'")" 3

# --- AM05: a worker's WAGE month paid once; BACKPAY allowed -------------------
{ line D1 0 3000.00; line D2 6 1000.00; } >"$T/l4"
sheet s3 --msg-id SHEET-3 --sub "$SUB1_USCC" --month 2026-10 <"$T/l4"
submit s3
check_eq "AM05: PART (worker 0 already paid for 2026-10)" "$(grpsts "$T/s3.pain002.xml")" PART
check_eq "AM05: the duplicate line" "$(reason D1 "$T/s3.pain002.xml")" AM05
line B1 0 500.00 BACKPAY/2026-10 >"$T/l5"
sheet s4 --msg-id SHEET-4 --sub "$SUB1_USCC" --month 2026-10 <"$T/l5"
submit s4
check_eq "BACKPAY of a paid month: ACSC" "$(grpsts "$T/s4.pain002.xml")" ACSC
{ line W1 7 1000.00; line W2 7 1000.00; } >"$T/l6"
sheet s5 --msg-id SHEET-5 --sub "$SUB1_USCC" --month 2026-10 <"$T/l6"
submit s5
check_eq "same worker twice in one sheet: PART" "$(grpsts "$T/s5.pain002.xml")" PART
check_eq "same worker twice in one sheet: the second AM05" "$(reason W2 "$T/s5.pain002.xml")" AM05

# --- PDNG: held whole, paid by itself when money arrives ----------------------
before=$(balance)
{ line H1 8 6000.00; line H2 9 6000.00; } >"$T/l7"
sheet s6 --msg-id SHEET-6 --sub "$SUB1_USCC" --month 2026-10 <"$T/l7"
submit s6
check_eq "held: PDNG" "$(grpsts "$T/s6.pain002.xml")" PDNG
check "held: valid pain.002" valid_pain002 "$T/s6.pain002.xml"
check_eq "held: nothing paid, not even partly" "$(balance)" "$before"
check_eq "held: BALANCE_SHORT alert" "$(q "SELECT count(*) FROM alert WHERE kind = 'BALANCE_SHORT' AND msg_id = 'SHEET-6'")" 1
line H3 10 100.00 >"$T/l8"
sheet s7 --msg-id SHEET-7 --sub "$SUB1_USCC" --month 2026-10 <"$T/l8"
submit s7
check_eq "a later sheet waits behind the held one (first in, first paid)" "$(grpsts "$T/s7.pain002.xml")" PDNG
deposit DEP-2 20000.00 >/dev/null
check_eq "deposit releases the held sheets" "$(xval '/*/@outcome' "$T/body")" APPLIED
gc GET /v1/sheets/SHEET-6 >"$T/get6.xml"
check_eq "held sheet paid by itself: ACSC" "$(grpsts "$T/get6.xml")" ACSC
gc GET /v1/sheets/SHEET-7 >"$T/get7.xml"
check_eq "the later one paid after it: ACSC" "$(grpsts "$T/get7.xml")" ACSC
check_eq "balance after release" "$(balance)" $((before + 2000000 - 1210000))
deposit DEP-2 20000.00 >/dev/null
check_eq "deposit replay: DUPLICATE" "$(xval '/*/@outcome' "$T/body")" DUPLICATE
check_eq "deposit replay: balance unchanged" "$(balance)" $((before + 2000000 - 1210000))

# --- lines refused in C (check digits) reach the database as pre_code/pre_text
badid=$(worker 12 id | python3 -c 'import sys; s = sys.stdin.read().strip(); print(s[:17] + ("1" if s[17] != "1" else "2"))')
badcard=$(worker 13 card | python3 -c 'import sys; s = sys.stdin.read().strip(); print(s[:-1] + str((int(s[-1]) + 1) % 10))')
{
	line C1 11 100.00
	printf 'C2\t%s\t%s\t%s\t%s\t100.00\tWAGE\n' "$badid" "$(worker 12 name)" "$(worker 12 card)" "$(worker 12 cardbank)"
	printf 'C3\t%s\t%s\t%s\t%s\t100.00\tWAGE\n' "$(worker 13 id)" "$(worker 13 name)" "$badcard" "$(worker 13 cardbank)"
} >"$T/l9"
sheet s8 --msg-id SHEET-8 --sub "$SUB1_USCC" --month 2026-10 <"$T/l9"
submit s8
check_eq "check digits: PART" "$(grpsts "$T/s8.pain002.xml")" PART
check_eq "check digits: bad ID WP05" "$(reason C2 "$T/s8.pain002.xml")" WP05
check_eq "check digits: bad card AC01" "$(reason C3 "$T/s8.pain002.xml")" AC01
check_eq "check digits: lines as stored, in order, texts from C" \
    "$(q "SELECT string_agg(l.seq || ':' || l.end_to_end_id || ':' || coalesce(l.reason_code, '-') || ':' || coalesce(l.reason_text ~ '^(ID number .* fails its GB 11643 check|card .* fails its check digit)$', false), ',' ORDER BY l.seq) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'SHEET-8'")" \
    "1:C1:-:false,2:C2:WP05:true,3:C3:AC01:true"

# --- another contractor gets 403 and nothing about the project --------------
gc2 POST /v1/sheets --data-binary @"$T/s1.xml" >/dev/null
check_eq "another contractor: 403" "$(status)" 403
gc2 GET /v1/projects/$PROJECT/roster >/dev/null
check_eq "another contractor's roster read: 403" "$(status)" 403
gc2 GET /v1/sheets/SHEET-1 >/dev/null
check_eq "another contractor's status read: 404" "$(status)" 404

# the ledger's records are kept: nothing paid can be deleted or renumbered
check "a paid sheet cannot be deleted" sh -c "! psql -h '$PGDIR' -U wagepay -d wagepay -qAt -c \"DELETE FROM sheet WHERE msg_id = 'SHEET-1'\" 2>/dev/null"
check "a dedicated account cannot be deleted" sh -c "! psql -h '$PGDIR' -U wagepay -d wagepay -qAt -c \"DELETE FROM account WHERE number = '$ACCOUNT'\" 2>/dev/null"
check "a transfer cannot be changed" sh -c "! psql -h '$PGDIR' -U wagepay -d wagepay -qAt -c \"UPDATE transfer SET amount = amount + 1\" 2>/dev/null"
check "a sheet cannot be renumbered" sh -c "! psql -h '$PGDIR' -U wagepay -d wagepay -qAt -c \"UPDATE sheet SET id = id + 1000 WHERE msg_id = 'SHEET-1'\" 2>/dev/null"
ledger_exact
finish
