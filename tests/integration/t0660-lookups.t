#!/bin/sh
# The database's work for a sheet grows with the sheet, not with the bank:
# the plans wp_sheet_submit really runs (auto_explain, nested statements,
# actual row counts) read the roster only for the sheet's workers, find an
# earlier sheet by its unique index, probe "already paid" once a line only
# when a line's worker-month is taken (schema/019_optimistic_lines.sql),
# and find the clearing account by index (schema/012_lookups.sql).
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
check "a maker proposes and a checker approves the project" open_project
check "a roster of 400 workers is accepted" roster_demo 400
deposit DEP-1 90000.00 >/dev/null
check_eq "deposit booked" "$(status)" 200

# A few sheets through the daemon first, so that the sheet table is not
# empty when a new MsgId is looked up.
for n in 1 2 3; do
	line "E$n" "$n" 100.00 >"$T/l$n"
	sheet "s$n" --msg-id "SHEET-$n" --sub "$SUB1_USCC" --month 2026-10 <"$T/l$n"
	submit "s$n"
done
check_eq "three sheets paid through the daemon" \
    "$(q "SELECT count(*) FROM sheet WHERE state = 'PAID'")" 3
q "ANALYZE" >/dev/null

# explain_submit MSGID FIRST COUNT: wp_sheet_submit of COUNT rostered
# workers of subcontractor one (from the FIRST-th, by ID number), called
# as the daemon calls it, with every nested statement's plan logged to the
# client with its actual row counts. The tables here are small enough that
# reading them whole is the cheapest plan, so the planner is told to use an
# index wherever one can serve (what the bank's table sizes make it do):
# what is checked is that one can.
explain_submit() {
	{ explain_settings; cat; } <<EOF | psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 2>&1
SET enable_bitmapscan = off;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
WITH r AS (
	SELECT e.* FROM roster_entry e JOIN project p ON p.id = e.project_id
	WHERE p.code = '$PROJECT' AND e.employer_uscc = '$SUB1_USCC'
	ORDER BY e.id_number OFFSET $2 LIMIT $3
), a AS (
	SELECT array_agg('X' || id_number ORDER BY id_number) e2e,
		array_agg(100::bigint ORDER BY id_number) amount,
		array_agg(name ORDER BY id_number) nm,
		array_agg(id_number::text ORDER BY id_number) idn,
		array_agg(card ORDER BY id_number) card,
		array_agg(card_bank::text ORDER BY id_number) bank,
		array_agg('WAGE'::text ORDER BY id_number) kind,
		array_agg(date '2026-11-01' ORDER BY id_number) lm,
		array_agg(100::bigint ORDER BY id_number) gross,
		array_agg(20 ORDER BY id_number) days,
		array_agg(now() ORDER BY id_number) at,
		array_agg('SIGN'::text ORDER BY id_number) meth,
		array_agg('R' || id_number ORDER BY id_number) ref,
		array_agg(NULL::text ORDER BY id_number) pc,
		array_agg(NULL::text ORDER BY id_number) pt,
		count(*)::int n
	FROM r
)
SELECT s.kind || ':' || s.outcome || ':' || coalesce(s.state, '')
FROM a, wp_sheet_submit('$GC_USCC', '$1', '\\x00'::bytea, '$ACCOUNT',
	'$SUB1_USCC', date '2026-11-01', a.n, a.n * 100::bigint, a.e2e, a.amount,
	a.nm, a.idn, a.card, a.bank, a.kind, a.lm, a.gross, a.days, a.at, a.meth,
	a.ref, a.pc, a.pt, now()) s
WHERE s.kind = 'S';
EOF
}

explain_submit PLAN-1 0 3 >"$T/plan1"
check "a 3-line sheet called directly is paid" grep -q '^S:NEW:PAID$' "$T/plan1"

# rows_read PATTERN FILE: the rows that the function's nodes matching
# PATTERN returned, summed over their loops (auto_explain's "actual
# rows=R loops=L"); the calling statement's own plan, logged last, is left
# out.
inner() { sed '/^Query Text: WITH r AS/,$d' "$1"; }
rows_read() {
	inner "$2" | grep -E "$1" |
	    sed -n 's/.*actual rows=\([0-9]*\) loops=\([0-9]*\).*/\1 \2/p' |
	    awk '{ s += $1 * $2 } END { print s + 0 }'
}
check_eq "the roster is read for the sheet's 3 workers, not the project's 400" \
    "$(rows_read 'on roster_entry' "$T/plan1")" 3
check "the roster is probed by ID number" \
    grep -Eq 'Index Cond: .*id_number = ' "$T/plan1"
check "an earlier sheet is found by its MsgId on an index (the unique key, or 033's sheet_msg_id), not a scan" \
    grep -Eq 'Index Cond: \(.*msg_id = ' "$T/plan1"
# probes_of FILE: how many times the INSERT into sheet_line probed the
# worker-month index (016) for "already paid" (the lateral probe, alias o;
# o_1 is the rare "earlier in this sheet?" question), summed over loops
probes_of() {
	inner "$1" | sed -n '/^Query Text: INSERT INTO sheet_line/,/^LOG:/p' |
	    grep -E 'using sheet_line_worker_month on sheet_line o +\(' | grep -v 'never executed' |
	    sed -n 's/.*loops=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }'
}
# 019: workers not paid this month yet are stored without the probe (the
# insert's own uniqueness check is the test); the probe is in the plan,
# behind its one-time filter
check_eq "'already paid this month' is not probed for a sheet of unpaid workers" \
    "$(probes_of "$T/plan1")" 0
check "the probe is in the plan, not executed" \
    sh -c "grep -E 'using sheet_line_worker_month on sheet_line o +\(' '$T/plan1' |
        grep -q 'never executed'"
check_eq "no sequential scan of the accounts" \
    "$(inner "$T/plan1" | grep -c 'Seq Scan on account')" 0
check "the clearing account is found by index" \
    grep -Eq 'Index Scan using account_clearing' "$T/plan1"

# The same answers as before the lookups changed: a worker already paid
# for the month is refused AM05, one twice in the sheet too, and a replay
# is answered from the first decision.
explain_submit PLAN-2 2 3 >"$T/plan2"
check_eq "overlapping workers: lines already paid are refused AM05" \
    "$(q "SELECT string_agg(coalesce(l.reason_code, 'paid'), ',' ORDER BY l.seq)
        FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'PLAN-2'")" \
    "AM05,paid,paid"
check_eq "019: the batch that collided is stored again with one probe a line" \
    "$(probes_of "$T/plan2")" 3
explain_submit PLAN-1 0 3 >"$T/plan3"
check "the same MsgId again is answered as a replay" grep -q '^S:REPLAY:PAID$' "$T/plan3"
check_eq "the roster is not read for a replay" "$(rows_read 'on roster_entry' "$T/plan3")" 0
check_eq "a replay pays nothing" \
    "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'PLAN-1'")" 3

# 016: one unique index on (project, worker, month, payable WAGE) holds the
# rule that sheet_line_wage_once held, and serves a worker's lines as
# sheet_line_worker did. Straight inserts, each rolled back: a second
# payable WAGE line of a paid worker-month is refused by the index itself,
# while a refused line or a BACKPAY line of the same worker-month is not.
copy_line() {	# KIND REASON_CODE REASON_TEXT: the insert's SQLSTATE, or ok
	psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v VERBOSITY=verbose \
	    -v ON_ERROR_STOP=1 2>&1 <<EOF |
BEGIN;
INSERT INTO sheet_line (sheet_id, seq, end_to_end_id, project_id, id_number, name, card,
	card_bank, kind, month, amount, gross, days_worked, confirmed_at, confirm_method,
	confirm_ref, reason_code, reason_text)
SELECT l.sheet_id + 1000000, l.seq, l.end_to_end_id, l.project_id, l.id_number, l.name,
	l.card, l.card_bank, '$1', l.month, l.amount, l.gross, l.days_worked, l.confirmed_at,
	l.confirm_method, l.confirm_ref, $2, $3
FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'SHEET-1' AND l.seq = 1;
SELECT 'INSERTED';
ROLLBACK;
EOF
	    sed -n 's/.*ERROR: *\([0-9A-Z]\{5\}\).*/\1/p; s/^INSERTED$/ok/p'
}
check_eq "016: a second payable WAGE line of a paid worker-month is a unique violation" \
    "$(copy_line WAGE NULL NULL)" 23505
check_eq "016: the same worker-month refused (AM05) is stored" \
    "$(copy_line WAGE "'AM05'" "'already paid'")" ok
check_eq "016: the same worker-month as BACKPAY is stored" \
    "$(copy_line BACKPAY NULL NULL)" ok
check_eq "016: one index of a worker's lines, unique, where there were two" \
    "$(q "SELECT string_agg(indexrelid::regclass::text || ':' || indisunique, ',')
        FROM pg_index WHERE indrelid = 'sheet_line'::regclass
        AND indexrelid::regclass::text IN ('sheet_line_worker_month',
            'sheet_line_worker', 'sheet_line_wage_once')")" \
    "sheet_line_worker_month:true"

ledger_exact
finish
