-- rules_owner.sql: the rules of schema/functions/rules.sql, continued: the owner's deposits
-- (wp_rule_deposit_short, wp_rules_run), called as daemon/rules.c calls them.
--
-- DEPOSIT_SHORT counts only the owner's deposits (003 二(一)): money paid in
-- by the project's owner's credit code. A top-up by the general contractor
-- (or an entry naming no payer) is booked, spends like any money on the
-- account, is shown apart on the console's project page, and does not hide
-- the owner's default. Every time is given, never today's. The ledger
-- invariants at the end.
BEGIN;
\ir fixtures.sql
SELECT plan(27);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');

-- plan: 100,000 fen a month from 2026-01; through 2026-10: 1,000,000 fen
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner deposits 1,000.00 on 2026-10-05');
SELECT is(tap.topup('TOP-1', 850000), 'APPLIED', 'the general contractor tops up 8,500.00 on 2026-10-06');
SELECT is(tap.topup('TOP-2', 50000, '2026-10-07', NULL, NULL), 'APPLIED',
	'and 500.00 arrive from a payer the entry does not name');
SELECT is(tap.balance(), 1000000::bigint, 'the account holds the whole plan through 2026-10');
SELECT is((SELECT payer_uscc FROM deposit WHERE entry_ref = 'TOP-1'), tap.gc(), 'the top-up''s payer is recorded');

SELECT is(tap.rules('2026-11-01 08:00+08') >= 1, true, 'the rules run on 2026-11-01');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'DEPOSIT_SHORT' AND month = '2026-10-01'), 1::bigint,
	'DEPOSIT_SHORT is raised: only the owner''s deposits count against the plan');
SELECT is((SELECT required || ' ' || shortfall || ' ' || balance FROM alert WHERE kind = 'DEPOSIT_SHORT'),
	'1000000 900000 1000000', 'required the plan through 2026-10, short of it the owner''s 9,000.00');
SELECT ok((SELECT detail FROM alert WHERE kind = 'DEPOSIT_SHORT') LIKE
	'the owner''s labour-cost deposits booked through 2026-10: 1000.00 of 10000.00 planned %short by 9000.00; top-ups by others (not the owner) 9000.00, not counted',
	'its Detail names the top-ups apart, not counted');
SELECT is(tap.rules('2026-11-01 09:00+08'), 0, 'the rules run again');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'DEPOSIT_SHORT'), 1::bigint,
	'the condition stays true: no second DEPOSIT_SHORT');

SELECT is(tap.decide('S-1', ARRAY[tap.l('S1', 1, 300000), tap.l('S2', 2, 400000)]), 'NEW PAID',
	'the money on the account pays wages whoever paid it in');
SELECT is((SELECT string_agg('v' || roster_version, ' ' ORDER BY seq) FROM sheet_line l JOIN sheet s
	ON s.id = l.sheet_id WHERE s.msg_id = 'S-1'), 'v1 v1', 'each paid line records the roster version it was checked against');

-- the console's project page: the owner's deposits and others' top-ups apart
SELECT is((SELECT (j->'plan_to_date'->>'deposited') || ' ' || (j->'plan_to_date'->>'topped_up') || ' '
	|| (j->'plan_to_date'->>'behind') FROM wp_console_project('XM-TAP-0001', '2026-11-01 09:00+08') j),
	'1000.00 9000.00 true', 'the plan to date: the owner deposited 1,000.00, others topped up 9,000.00, behind');
SELECT is((SELECT (m->>'deposited') || ' ' || (m->>'topped_up') FROM json_array_elements(
	wp_console_project('XM-TAP-0001', '2026-11-01 09:00+08')->'months') m WHERE m->>'month' = '2026-10'),
	'1000.00 9000.00', 'the month 2026-10: deposited by the owner, topped up by others');
SELECT is((SELECT string_agg((d->>'entry_ref') || ' ' || (d->>'by_owner') || ' ' || coalesce(d->>'payer_uscc', '-'), ', ')
	FROM json_array_elements(wp_console_project('XM-TAP-0001', '2026-11-01 09:00+08')->'deposit_list') d),
	'TOP-2 false -, TOP-1 false ' || tap.gc() || ', DEP-1 true ' || tap.owner(),
	'every deposit listed, newest first, marked by the owner or not');
SELECT is((SELECT count(*) FROM json_array_elements(wp_console_overview('2026-11-01 09:00+08')->'projects_behind')
	p WHERE p->>'code' = 'XM-TAP-0001'), 1::bigint, 'the overview lists the project as behind plan');

SELECT is(tap.deposit('DEP-2', 900000, tap.acc(), '2026-10-30'), 'APPLIED',
	'the owner deposits the rest of the plan, booked 2026-10-30');
SELECT is(tap.rules('2026-11-01 10:00+08'), 0, 'the rules run: nothing raised');
SELECT is((SELECT active FROM alert_condition WHERE key LIKE 'DEPOSIT_SHORT:%:2026-10'), false,
	'DEPOSIT_SHORT for 2026-10 clears once the owner''s own deposits reach the plan');

SELECT * FROM tap.invariants('after owner deposits, top-ups and a sheet');
SELECT * FROM finish();
ROLLBACK;
