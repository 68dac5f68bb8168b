-- reconcile.sql: the core's end-of-day statement reconciled against the
-- ledger (schema/functions/reconcile.sql), called as daemon/core.c calls it.
--
-- A day that agrees: APPLIED, no alert. An order paid here and not yet
-- taken, or taken but not yet booked by the core that day, is in flight:
-- no false break; booked, it agrees without it. A real difference breaks
-- (APPLIED WP55, RECONCILIATION_BREAK once, both figures, the entries in
-- question): an entry the ledger has and the core does not, one the core
-- has and the ledger does not, a wrong closing balance, a statement that
-- does not add up, an order taken the day before and never booked. A
-- replay is DUPLICATE; an unknown account is refused (WP56), nothing
-- recorded. The ledger invariants after each scenario.
BEGIN;
\ir fixtures.sql
SELECT plan(86);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is(tap.deposit('DEP-1', 100000, tap.acc(), tap.day0()), 'APPLIED', 'an owner''s deposit is booked today');

-- --- a day that agrees -----------------------------------------------------------
SELECT is(tap.core_stmt('S-1', 0, 100000, json_build_array(tap.se('DEP-1', true, 100000))), 'APPLIED',
	'a statement that agrees with the ledger is applied, no code');
SELECT is(tap.recon('S-1'), 'AGREED 100000 100000 0', 'recorded as agreed with both figures');
SELECT is((SELECT count(*) FROM core_statement_entry), 1::bigint, 'its entry is recorded');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'RECONCILIATION_BREAK'), 0::bigint, 'no alert');
SELECT is(tap.audits('statement.agreed'), 1::bigint, 'audited in the account''s chain');
SELECT * FROM tap.invariants('after a day that agrees');

-- --- orders in flight ------------------------------------------------------------
SELECT is(tap.decide('P-1', ARRAY[tap.l('P1-1', 1, 3000), tap.l('P1-2', 2, 4000)]), 'NEW PAID',
	'a sheet is paid: its order is written, debited here');
SELECT is(tap.core_stmt('S-2', 0, 100000, json_build_array(tap.se('DEP-1', true, 100000))), 'APPLIED',
	'the core has not the order yet: no false break');
SELECT is(tap.recon('S-2'), 'AGREED 100000 93000 7000', 'the ledger''s 930.00 and 70.00 in flight');
SELECT ok(tap.take('P-1'), 'the core takes the order');
SELECT is(tap.core_stmt('S-3', 0, 100000, json_build_array(tap.se('DEP-1', true, 100000))), 'APPLIED',
	'taken today and not booked by the core today: still in flight');
SELECT is(tap.recon('S-3'), 'AGREED 100000 93000 7000', 'in flight');
SELECT is(tap.core_stmt('S-4', 0, 93000, json_build_array(tap.se('DEP-1', true, 100000),
	tap.se(tap.order_msg('P-1'), false, 7000, 'P1-1'))), 'APPLIED',
	'booked as one debit per order (NtryRef the order''s MsgId): agreed');
SELECT is(tap.recon('S-4'), 'AGREED 93000 93000 0', 'nothing in flight');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'RECONCILIATION_BREAK'), 0::bigint, 'still no alert');
SELECT * FROM tap.invariants('after orders in flight');

-- --- real differences --------------------------------------------------------------
SELECT is(tap.core_stmt('S-5', 100000, 93000, json_build_array(tap.se(tap.order_msg('P-1'), false, 7000))),
	'APPLIED WP55', 'a deposit the core did not book: a break');
SELECT is(tap.recon('S-5'), 'BREAK 93000 93000 0', 'recorded as a break');
SELECT is(tap.breaks('S-5'), 'LEDGER_ONLY DEP-1 - 100000', 'the entry in question: the ledger''s');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'RECONCILIATION_BREAK'), 1::bigint,
	'RECONCILIATION_BREAK is raised');
SELECT is((SELECT a.msg_id || ' ' || a.balance || ' ' || a.required FROM alert a
	WHERE a.kind = 'RECONCILIATION_BREAK'), 'M-S-5 93000 93000', 'with the core''s and the ledger''s figures');
SELECT matches((SELECT detail FROM alert WHERE kind = 'RECONCILIATION_BREAK'),
	'LEDGER_ONLY CRDT DEP-1 core - ledger 1000\.00', 'and the entry in question in its detail');
SELECT is((SELECT p.code FROM alert a JOIN project p ON p.id = a.project_id
	WHERE a.kind = 'RECONCILIATION_BREAK'), 'XM-TAP-0001', 'about the account''s project');
SELECT is(tap.audits('statement.break'), 1::bigint, 'the break is audited');
SELECT is(tap.core_stmt('S-5', 100000, 93000, json_build_array(tap.se(tap.order_msg('P-1'), false, 7000))),
	'DUPLICATE WP55', 'the same statement again is a replay, answered as decided');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'RECONCILIATION_BREAK'), 1::bigint, 'raised once');
SELECT is(tap.core_stmt('S-5', 100000, 93001, json_build_array(tap.se(tap.order_msg('P-1'), false, 6999))),
	'REFUSED DU01', 'the same MsgId and Stmt/Id with other balances is refused');
SELECT is((SELECT count(*) FROM core_statement WHERE stmt_id = 'S-5'), 1::bigint, 'recorded once');
SELECT * FROM tap.invariants('after a missing entry');

SELECT is(tap.core_stmt('S-6', 100, 93100, json_build_array(tap.se('DEP-1', true, 100000),
	tap.se(tap.order_msg('P-1'), false, 7000))), 'APPLIED WP55', 'a wrong closing balance: a break');
SELECT is(tap.recon('S-6'), 'BREAK 93100 93000 0', 'both figures recorded');
SELECT is(tap.breaks('S-6'), NULL, 'no entry in question: the balance is');
SELECT matches((SELECT detail FROM alert WHERE kind = 'RECONCILIATION_BREAK' AND msg_id = 'M-S-6'),
	'closing balance: the core 931\.00, the ledger 930\.00', 'its detail names both balances');
SELECT is((SELECT shortfall FROM alert WHERE msg_id = 'M-S-6'), 100::bigint, 'the difference');
SELECT is(tap.core_stmt('S-7', 0, 94000, json_build_array(tap.se('DEP-1', true, 100000),
	tap.se('DEP-X', true, 1000), tap.se(tap.order_msg('P-1'), false, 7000))), 'APPLIED WP55',
	'a deposit the ledger never had: a break');
SELECT is(tap.breaks('S-7'), 'CORE_ONLY DEP-X 1000 -', 'the core''s entry in question');
SELECT is(tap.core_stmt('S-8', 0, 92000, json_build_array(tap.se('DEP-1', true, 100000),
	tap.se(tap.order_msg('P-1'), false, 8000))), 'APPLIED WP55', 'an order booked for another amount');
SELECT is(tap.breaks('S-8'), 'AMOUNT ' || tap.order_msg('P-1') || ' 8000 7000', 'both amounts');
SELECT is(tap.core_stmt('S-9', 0, 93000, json_build_array(tap.se('DEP-1', true, 100000))), 'APPLIED WP55',
	'a statement that does not add up');
SELECT matches((SELECT detail FROM core_statement WHERE stmt_id = 'S-9'), 'does not add up',
	'says so');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'RECONCILIATION_BREAK'), 5::bigint,
	'one alert per statement that broke');
SELECT * FROM tap.invariants('after breaks');

-- --- the next day: what the core booked, what it never did -----------------------
SELECT is(tap.decide('P-2', ARRAY[tap.l('P2-1', 3, 2000)]), 'NEW PAID', 'another sheet is paid');
SELECT ok(tap.take('P-2'), 'and taken today');
SELECT is(tap.core_stmt('S-10', 93000, 93000, '[]'::json, tap.day0() + 1), 'APPLIED WP55',
	'the next day, the order taken the day before is not booked: a break');
SELECT is(tap.breaks('S-10'), 'LEDGER_ONLY ' || tap.order_msg('P-2') || ' - 2000',
	'that order, not the one the core booked the day before');
SELECT is(tap.core_stmt('S-11', 93000, 91000, json_build_array(tap.se(tap.order_msg('P-2'), false, 2000)),
	tap.day0() + 1), 'APPLIED', 'booked the next day: agreed');
SELECT is(tap.recon('S-11'), 'AGREED 91000 91000 0', 'the ledger through that day');
SELECT * FROM tap.invariants('the next day');

-- --- refusals ----------------------------------------------------------------------
SELECT is(tap.core_stmt('S-12', 0, 0, '[]'::json, NULL, '6228489999999999999'), 'REFUSED WP56',
	'a statement of an account that is not a dedicated one here is refused');
SELECT is(tap.core_stmt('S-13', 0, 0, '[]'::json, NULL, 'CLEARING-IN'), 'REFUSED WP56',
	'nor of a clearing account');
SELECT is((SELECT count(*) FROM core_statement WHERE stmt_id IN ('S-12', 'S-13')), 0::bigint,
	'nothing recorded');
SELECT throws_ok('UPDATE core_statement SET outcome = ''AGREED''', '23001', NULL,
	'a reconciliation is never changed');
SELECT * FROM tap.invariants('at the end');

SELECT * FROM finish();
ROLLBACK;
