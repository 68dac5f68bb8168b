-- core.sql: the core feed where it is decided (schema/functions/core.sql:
-- wp_core_notify, wp_core_deposit, wp_core_return, wp_core_debit,
-- wp_core_legal_order), called as daemon/core.c calls them.
--
-- Deposits (APPLIED, DUPLICATE, DU01, AC01, AC04; a notification all or
-- nothing), returned wage payments (WP41, WP42, DU01; the money back and
-- earmarked), debit requests (AG01 with MISUSE_ATTEMPT; AC01; DU01),
-- legal orders (WP44 with SEIZURE_REFUSED; WP45 refused or applied in part
-- above the wages owed; SEIZE/DEDUCT moved to ATTACHED, FREEZE recorded;
-- replays; DU01; AC01). The ledger invariants after each scenario. Legal
-- orders are judged at a pinned time (2026-10-20, China time: month
-- 2026-10 of the plan, 100,000 fen).
BEGIN;
\ir fixtures.sql
SELECT plan(89);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT ok(tap.open_project('XM-TAP-0002', tap.acc2(), tap.gc()) IS NOT NULL, 'a second project is opened');
SELECT is(tap.close_account('XM-TAP-0002', '2026-10-20 10:00+08'), 'APPROVED APPROVED',
	'its empty account is closed (completed, the notice run, closed: four eyes each)');

-- --- deposits ---------------------------------------------------------------------
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'an owner''s deposit is booked');
SELECT is(tap.deposit('DEP-1', 100000), 'DUPLICATE', 'the same entry again changes nothing');
SELECT is(tap.deposit('DEP-1', 99999), 'REFUSED DU01', 'DU01: the same entry reference with another amount is refused');
SELECT is(tap.deposit('DEP-X', 1000, '6228489999999999999'), 'REFUSED AC01',
	'AC01: a deposit to an account that is not a dedicated one is refused');
SELECT is(tap.deposit('DEP-Y', 1000, tap.acc2()), 'REFUSED AC04', 'AC04: a deposit to a closed account is refused');
SELECT is(tap.balance(), 100000::bigint, 'the balance is the one deposit');
SELECT is((SELECT payer_uscc FROM deposit WHERE entry_ref = 'DEP-1'), tap.owner(), 'the payer is recorded');
SELECT is(tap.audits('deposit.booked'), 1::bigint, 'the deposit is audited once in the account''s chain');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_notify(json_build_array(
	json_build_object('ref', 'N-1', 'account', tap.acc(), 'amount', 5000, 'booking', '2026-10-06',
		'payer_name', 'Demo Owner', 'payer_uscc', tap.owner(), 'is_return', false),
	json_build_object('ref', 'DEP-1', 'account', tap.acc(), 'amount', 7, 'booking', '2026-10-06',
		'payer_name', 'Demo Owner', 'payer_uscc', tap.owner(), 'is_return', false)))),
	'REFUSED DU01', 'a notification with one entry refused (DU01) is refused');
SELECT is((SELECT count(*) FROM deposit WHERE entry_ref = 'N-1'), 0::bigint,
	'nothing of a refused notification is booked');
SELECT is((SELECT outcome FROM wp_core_notify(json_build_array(
	json_build_object('ref', 'N-1', 'account', tap.acc(), 'amount', 5000, 'booking', '2026-10-06',
		'payer_name', 'Demo Owner', 'payer_uscc', tap.owner(), 'is_return', false),
	json_build_object('ref', 'DEP-1', 'account', tap.acc(), 'amount', 100000, 'booking', '2026-10-05',
		'payer_name', 'Demo Owner', 'payer_uscc', tap.owner(), 'is_return', false)))),
	'APPLIED', 'a notification of a new entry and a replayed one is applied');
SELECT is(tap.balance(), 105000::bigint, 'only the new entry is credited');
SELECT * FROM tap.invariants('after deposits');

-- --- returned wage payments ---------------------------------------------------------
SELECT is(tap.decide('P-1', ARRAY[tap.l('P1', 1, 10000), tap.l('P2', 2, 20000)]), 'NEW PAID',
	'a sheet of two lines is paid');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('R-1', tap.acc(), 10000, '2026-10-07', 'P9', '')),
	'REFUSED WP41', 'WP41: a return that matches no paid line is refused');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('R-1', tap.acc(), 9999, '2026-10-07', 'P1', '')),
	'REFUSED WP42', 'WP42: a return of another amount than the paid line''s is refused');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('R-1', '6228489999999999999', 10000,
	'2026-10-07', 'P1', '')), 'REFUSED AC01', 'AC01: a return to an account that is not a dedicated one');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_notify(json_build_array(
	json_build_object('ref', 'DEP-1', 'account', tap.acc(), 'amount', 10000, 'booking', '2026-10-07',
		'is_return', true, 'e2e', 'P1', 'reason', 'AC04')))),
	'REFUSED DU01', 'DU01: a return under an entry reference booked as a deposit');
SELECT is(tap.balance() || ' ' || tap.earmarked(), '75000 0', 'refused returns book nothing');
SELECT is((SELECT outcome FROM wp_core_return('R-1', tap.acc(), 10000, '2026-10-07', 'P1', 'AC04')),
	'APPLIED', 'a return of a paid line is booked');
SELECT is(tap.balance() || ' ' || tap.earmarked(), '85000 10000',
	'the money is back on the account and earmarked for the worker''s month');
SELECT is((SELECT id_number || ' ' || month FROM line_return WHERE entry_ref = 'R-1'),
	(tap.w(1)).idn || ' 2026-10-01', 'the earmark is for the line''s worker and month');
SELECT is((SELECT count(*) FROM transfer WHERE reason = 'RETURN' AND reference = 'R-1'
	AND credit_account = tap.account_id()), 1::bigint, 'one RETURN transfer to the dedicated account');
SELECT is(tap.audits('wage.returned'), 1::bigint, 'the return is audited in the account''s chain');
SELECT is((SELECT outcome FROM wp_core_return('R-1', tap.acc(), 10000, '2026-10-07', 'P1', 'AC04')),
	'DUPLICATE', 'the same return again changes nothing');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('R-1', tap.acc(), 20000, '2026-10-07', 'P2', '')),
	'REFUSED DU01', 'DU01: the same entry reference with another amount');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('R-2', tap.acc(), 10000, '2026-10-07', 'P1', '')),
	'REFUSED WP41', 'WP41: a line comes back once');
SELECT is(tap.decide('H-1', ARRAY[tap.l('H1', 3, 90000)]), 'NEW HELD', 'a sheet the free balance cannot pay is held');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('R-3', tap.acc(), 90000, '2026-10-07', 'H1', '')),
	'REFUSED WP41', 'WP41: a line of a held sheet was not paid and cannot come back');
SELECT * FROM tap.invariants('after returns');

-- --- debit requests: the account pays wages only ------------------------------------
SELECT is((SELECT outcome || ' ' || code FROM wp_core_debit('DR-1', tap.acc(), 5000,
	'6222020000000000001', 'Gang Boss', 'materials', 'counter')), 'REFUSED AG01',
	'AG01: a debit of a dedicated account for anything but wages is refused');
SELECT is(tap.alerts('MISUSE_ATTEMPT', 'DR-1'), 1::bigint, 'the refused debit raises MISUSE_ATTEMPT');
SELECT is((SELECT code FROM debit_request WHERE ref = 'DR-1'), 'AG01', 'the request is recorded as refused');
SELECT is(tap.audits('debit.refused'), 1::bigint, 'and audited in the account''s chain');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_debit('DR-1', tap.acc(), 5000,
	'6222020000000000001', 'Gang Boss', 'materials', 'counter')), 'REFUSED AG01',
	'a replayed debit request gets the same answer');
SELECT is(tap.alerts('MISUSE_ATTEMPT', 'DR-1'), 1::bigint, 'a replay raises nothing new');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_debit('DR-1', tap.acc(), 6000,
	'6222020000000000001', 'Gang Boss', 'materials', 'counter')), 'REFUSED DU01',
	'DU01: the same Ref for another debit request');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_debit('DR-2', '6228489999999999999', 5000,
	'6222020000000000001', 'Gang Boss', 'materials', 'counter')), 'REFUSED AC01',
	'AC01: a debit request of an account that is not a dedicated one');
SELECT is(tap.alerts('MISUSE_ATTEMPT', 'DR-2'), 0::bigint, 'raises no alert: no project of ours is touched');
SELECT is(tap.balance(), 85000::bigint, 'refused debits move no money');
SELECT * FROM tap.invariants('after debit requests');

-- --- legal orders: attachable only for wages, above what is owed ----------------------
SELECT is((SELECT outcome || ' ' || code FROM wp_core_legal_order('LO-1', 'Court of Xinzheng', '(2026)豫0183执1号',
	'SEIZE', tap.acc(), 50000, 'OTHER', 'a supplier''s claim', '2026-10-20 10:00+08')),
	'REFUSED WP44', 'WP44: a seizure that is not for the project''s wages is refused');
SELECT is((SELECT shortfall FROM alert WHERE kind = 'SEIZURE_REFUSED' AND msg_id = 'LO-1'), 50000::bigint,
	'the refusal raises SEIZURE_REFUSED for the whole amount');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_legal_order('LO-2', 'Court of Xinzheng', '(2026)豫0183执2号',
	'DEDUCT', tap.acc(), 10000, 'WAGES', '', '2026-10-20 10:00+08')),
	'REFUSED WP45', 'WP45: a wages order with nothing above the wages owed is refused');
SELECT is((SELECT balance || ' ' || owed FROM legal_order WHERE ref = 'LO-2'), '85000 200000',
	'owed: the held sheet 90,000, the month''s plan 100,000 and the earmark 10,000');
SELECT is(tap.balance(), 85000::bigint, 'refused orders move no money');
SELECT is(tap.deposit('DEP-2', 300000), 'APPLIED', 'the owner deposits 3,000.00; the held sheet is paid');
SELECT is(tap.balance(), 295000::bigint, 'balance: 85,000 + 300,000 - 90,000');
SELECT is((SELECT outcome || ' ' || coalesce(code, '-') FROM wp_core_legal_order('LO-3', 'Court of Xinzheng',
	'(2026)豫0183执3号', 'SEIZE', tap.acc(), 100000, 'WAGES', '', '2026-10-20 10:00+08')),
	'APPLIED -', 'a wages seizure within the excess over the wages owed is applied whole');
SELECT is((SELECT count(*) || ' ' || sum(amount) FROM transfer WHERE reason = 'ATTACHMENT' AND reference = 'LO-3'
	AND credit_account = (SELECT id FROM account WHERE kind = 'ATTACHED')), '1 100000',
	'the seized money moves to the ATTACHED account');
SELECT is(tap.alerts('SEIZURE_REFUSED', 'LO-3'), 0::bigint, 'nothing refused, nothing raised');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_legal_order('LO-4', 'Court of Xinzheng',
	'(2026)豫0183执4号', 'DEDUCT', tap.acc(), 200000, 'WAGES', '', '2026-10-20 10:00+08')),
	'APPLIED WP45', 'WP45: a wages order above the excess is applied only up to it');
SELECT is((SELECT attached || ' ' || owed FROM legal_order WHERE ref = 'LO-4'), '85000 110000',
	'attached: the balance 195,000 less the owed 110,000 (the plan 100,000 and the earmark 10,000)');
SELECT is((SELECT shortfall FROM alert WHERE kind = 'SEIZURE_REFUSED' AND msg_id = 'LO-4'), 115000::bigint,
	'the part refused raises SEIZURE_REFUSED');
SELECT is(tap.balance(), 110000::bigint, 'what the workers are owed stays on the account');
SELECT is(tap.deposit('DEP-3', 10000), 'APPLIED', 'the owner deposits 100.00');
SELECT is((SELECT outcome || ' ' || coalesce(code, '-') FROM wp_core_legal_order('LO-5', 'Court of Xinzheng',
	'(2026)豫0183执5号', 'FREEZE', tap.acc(), 1000, 'WAGES', '', '2026-10-20 10:00+08')),
	'APPLIED -', 'a wages freeze within the excess is applied');
SELECT is((SELECT attached FROM legal_order WHERE ref = 'LO-5') || ' '
	|| (SELECT count(*) FROM transfer WHERE reference = 'LO-5') || ' ' || tap.balance(), '1000 0 120000',
	'a freeze is recorded and moves no money');
SELECT is((SELECT outcome FROM wp_core_legal_order('LO-3', 'Court of Xinzheng', '(2026)豫0183执3号', 'SEIZE',
	tap.acc(), 100000, 'WAGES', '', '2026-10-20 10:00+08')), 'DUPLICATE',
	'a replayed applied order is a duplicate');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_legal_order('LO-1', 'Court of Xinzheng', '(2026)豫0183执1号',
	'SEIZE', tap.acc(), 50000, 'OTHER', 'a supplier''s claim', '2026-10-20 10:00+08')), 'REFUSED WP44',
	'a replayed refused order gets the same refusal');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_legal_order('LO-1', 'Court of Xinzheng', '(2026)豫0183执9号',
	'SEIZE', tap.acc(), 50000, 'OTHER', '', '2026-10-20 10:00+08')), 'REFUSED DU01',
	'DU01: the same Ref for another order');
SELECT is((SELECT count(*) FROM transfer WHERE reason = 'ATTACHMENT'), 2::bigint, 'replays move no money');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_legal_order('LO-6', 'Court of Xinzheng', '(2026)豫0183执6号',
	'SEIZE', '6228489999999999999', 1000, 'WAGES', '', '2026-10-20 10:00+08')), 'REFUSED AC01',
	'AC01: an order against an account that is not a dedicated one is refused');
SELECT is((SELECT count(*) FROM legal_order WHERE ref = 'LO-6'), 1::bigint, 'and recorded');
SELECT is(tap.audits('legal_order.applied') || ' ' || tap.audits('legal_order.refused'), '3 2',
	'every order decided is audited in the account''s chain');
SELECT * FROM tap.invariants('after legal orders');

SELECT * FROM finish();
ROLLBACK;
