-- core.sql: the core feed where it is decided (schema/functions/core.sql:
-- wp_core_notify, wp_core_deposit, wp_core_return, wp_core_debit,
-- wp_core_legal_order), called as daemon/core.c calls them.
--
-- Deposits (APPLIED, DUPLICATE, DU01, AC01, AC04; a notification all or
-- nothing), returned wage payments (WP41, WP42, DU01; the money back and
-- earmarked), debit requests (AG01 with MISUSE_ATTEMPT; AC01; DU01),
-- legal orders (WP44 refused whole with SEIZURE_REFUSED; a WAGES order
-- applied up to the balance less earmarks and other orders' freezes, WP45 in
-- part or not at all; SEIZE/DEDUCT moved to ATTACHED; a FREEZE kept against
-- other orders while sheets may spend it; UNFREEZE, WP46 naming no freeze; a
-- deduction taking its own freeze; LEGAL_ORDER_APPLIED for each applied
-- order; replays; DU01; AC01). The ledger invariants after each scenario. Legal
-- orders are judged at a pinned time (2026-10-20, China time: month
-- 2026-10 of the plan, 100,000 fen).
BEGIN;
\ir fixtures.sql
SELECT plan(137);
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

-- --- legal orders: only for the project's wages, up to the balance --------------------
-- Here: balance 85,000, earmarked 10,000, the sheet H-1 of 90,000 held; wages
-- owed at 2026-10-20 also 700,000 of arrears (2026-03..09, nobody paid).
SELECT is(tap.order('LO-1', '1', 'SEIZE', 50000, 'OTHER'), 'REFUSED WP44',
	'WP44: a seizure that is not for the project''s wages is refused whole');
SELECT is((SELECT required || ' ' || shortfall FROM alert WHERE kind = 'SEIZURE_REFUSED' AND msg_id = 'LO-1'),
	'50000 50000', 'the refusal raises SEIZURE_REFUSED for the whole amount');
SELECT is(tap.alerts('LEGAL_ORDER_APPLIED', 'LO-1'), 0::bigint, 'a refused order is not reported as applied');
SELECT is(tap.attachment('LO-1') || ' ' || tap.balance(), '0 0 85000', 'a refused order moves no money');
SELECT is(tap.order('LO-2', '2', 'DEDUCT', 10000), 'APPLIED -',
	'a wages deduction is applied although the wages owed exceed the balance (the workers'' own enforcement)');
SELECT is((SELECT balance || ' ' || owed || ' ' || frozen FROM legal_order WHERE ref = 'LO-2'), '85000 900000 0',
	'recorded with the wages owed: held 90,000, plan 100,000, earmark 10,000, arrears 700,000');
SELECT is(tap.attachment('LO-2') || ' ' || tap.balance(), '1 10000 75000',
	'the deducted money moves to the ATTACHED account');
SELECT is((SELECT required || ' ' || shortfall FROM alert WHERE kind = 'LEGAL_ORDER_APPLIED' AND msg_id = 'LO-2'),
	'10000 0', 'LEGAL_ORDER_APPLIED is raised for the applied order');
SELECT is(tap.alerts('SEIZURE_REFUSED', 'LO-2'), 0::bigint, 'nothing refused, no SEIZURE_REFUSED');
SELECT is(tap.order('LO-3', '3', 'SEIZE', 100000), 'APPLIED WP45',
	'WP45: a wages seizure above the balance is applied up to it');
SELECT is(tap.order_did('LO-3') || ' ' || tap.attachment('LO-3') || ' ' || tap.balance() || ' ' || tap.earmarked(),
	'65000 0 1 65000 10000 10000', 'it takes the balance less the earmarked returns kept for named workers');
SELECT is((SELECT required || ' ' || shortfall FROM alert WHERE kind = 'LEGAL_ORDER_APPLIED' AND msg_id = 'LO-3'),
	'100000 35000', 'LEGAL_ORDER_APPLIED says what was not applied');
SELECT is(tap.order('LO-4', '4', 'DEDUCT', 1000), 'REFUSED WP45', 'WP45: a wages order with nothing to take is refused');
SELECT is(tap.alerts('SEIZURE_REFUSED', 'LO-4'), 1::bigint, 'and raises SEIZURE_REFUSED');
SELECT * FROM tap.invariants('after wages seizures and deductions');

SELECT is(tap.deposit('DEP-2', 300000), 'APPLIED', 'the owner deposits 3,000.00; the held sheet is paid');
SELECT is(tap.balance(), 220000::bigint, 'balance: 10,000 + 300,000 - 90,000');
SELECT is(tap.order('LO-5', '5', 'FREEZE', 50000), 'APPLIED -', 'a wages freeze is applied');
SELECT is(tap.order_did('LO-5') || ' ' || tap.attachment('LO-5') || ' ' || tap.balance(), '50000 0 0 0 220000',
	'a freeze moves no money: the balance stays');
SELECT is(tap.alerts('LEGAL_ORDER_APPLIED', 'LO-5'), 1::bigint, 'the freeze is reported as LEGAL_ORDER_APPLIED');
SELECT is((SELECT frozen FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), 50000::bigint,
	'the frozen amount counts in the wages owed that bound manual movements');
SELECT is(tap.order('LO-6', '6', 'SEIZE', 10000, 'OTHER'), 'REFUSED WP44', 'an order for another reason is still refused whole');
SELECT is(tap.order('LO-7', '7', 'SEIZE', 500000), 'APPLIED WP45',
	'a wages seizure under another order number is applied in part');
SELECT is(tap.order_did('LO-7') || ' ' || tap.balance(), '160000 0 60000',
	'it takes the balance less the earmark and less what the freeze keeps: the frozen money stays');
SELECT is((SELECT frozen FROM legal_order WHERE ref = 'LO-7'), 50000::bigint, 'recorded with what other orders kept frozen');
SELECT is(tap.order('LO-8', '8', 'FREEZE', 1000), 'REFUSED WP45', 'a second freeze finds nothing unfrozen to freeze');
SELECT is(tap.decide('F-1', ARRAY[tap.l('F1', 4, 40000)]), 'NEW PAID',
	'a sheet paying the project''s workers may still spend the frozen money');
SELECT is(tap.balance(), 20000::bigint, 'the sheet is paid from the frozen money');
SELECT is(tap.order('LO-8B', '8B', 'DEDUCT', 1000), 'REFUSED WP45',
	'what is left is still kept by the freeze (and the earmark) against another order');
SELECT * FROM tap.invariants('after a freeze');

SELECT is(tap.deposit('DEP-3', 100000), 'APPLIED', 'the owner deposits 1,000.00');
SELECT is((SELECT frozen FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), 50000::bigint,
	'the freeze keeps its amount of what is credited later');
SELECT is(tap.order('LO-9', '9', 'FREEZE', 20000), 'APPLIED -', 'a second freeze of unfrozen money is applied');
SELECT is((SELECT frozen FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), 70000::bigint, 'both are kept');
SELECT is(tap.order('LO-10', '9', 'UNFREEZE', 20000), 'APPLIED -', 'an UNFREEZE with the freeze''s OrderNo is applied');
SELECT is(tap.order_did('LO-10') || ' ' || tap.attachment('LO-10') || ' ' || tap.balance(), '0 20000 0 0 120000',
	'it lifts the freeze and moves no money');
SELECT is((SELECT frozen FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), 50000::bigint,
	'only the other freeze is kept');
SELECT is(tap.alerts('LEGAL_ORDER_APPLIED', 'LO-10'), 1::bigint, 'the UNFREEZE is reported as LEGAL_ORDER_APPLIED');
SELECT is(tap.order('LO-11', '404', 'UNFREEZE', 1000), 'REFUSED WP46', 'WP46: an UNFREEZE naming no freeze is refused');
SELECT is(tap.alerts('SEIZURE_REFUSED', 'LO-11'), 1::bigint, 'and reported as SEIZURE_REFUSED');
SELECT is(tap.order('LO-12', '9', 'UNFREEZE', 20000), 'REFUSED WP46', 'WP46: a freeze is lifted once');
SELECT is(tap.order('LO-13', '5', 'DEDUCT', 70000), 'APPLIED -',
	'a deduction under the freeze''s own OrderNo is applied (冻结后扣划)');
SELECT is(tap.order_did('LO-13') || ' ' || tap.attachment('LO-13') || ' ' || tap.balance(), '70000 50000 1 70000 50000',
	'it takes the frozen money first, and the freeze is spent');
SELECT is((SELECT frozen FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), 0::bigint, 'nothing is frozen any more');
SELECT is(tap.order('LO-14', '5', 'UNFREEZE', 50000), 'REFUSED WP46', 'WP46: a freeze taken by its deduction cannot be lifted');
SELECT * FROM tap.invariants('after unfreezes');

SELECT is((SELECT outcome FROM wp_core_legal_order('LO-3', 'Court of Xinzheng', '(2026)豫0183执3号', 'SEIZE',
	tap.acc(), 100000, 'WAGES', '', '2026-10-20 10:00+08')), 'DUPLICATE',
	'a replayed applied order is a duplicate');
SELECT is(tap.order('LO-1', '1', 'SEIZE', 50000, 'OTHER'), 'REFUSED WP44', 'a replayed refused order gets the same refusal');
SELECT is(tap.order('LO-1', '99', 'SEIZE', 50000, 'OTHER'), 'REFUSED DU01', 'DU01: the same Ref for another order');
SELECT is((SELECT count(*) FROM transfer WHERE reason = 'ATTACHMENT'), 4::bigint, 'replays move no money');
SELECT is(tap.order('LO-X', '98', 'SEIZE', 1000, 'WAGES', '6228489999999999999'), 'REFUSED AC01',
	'AC01: an order against an account that is not a dedicated one is refused');
SELECT is((SELECT count(*) FROM legal_order WHERE ref = 'LO-X'), 1::bigint, 'and recorded');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'LEGAL_ORDER_APPLIED') || ' '
	|| (SELECT count(*) FROM legal_order WHERE outcome = 'APPLIED'), '7 7',
	'every applied order is reported once as LEGAL_ORDER_APPLIED, replays raise nothing new');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'SEIZURE_REFUSED') || ' '
	|| (SELECT count(*) FROM legal_order WHERE outcome = 'REFUSED' AND account_id IS NOT NULL), '8 8',
	'every refused order against a project''s account is reported once as SEIZURE_REFUSED');
SELECT is(tap.audits('legal_order.applied') || ' ' || tap.audits('legal_order.refused'), '7 8',
	'every order decided is audited in the account''s chain');
SELECT * FROM tap.invariants('after legal orders');

-- the platform feed (029): each attachment is an expense flow with the balance after it
SELECT is((SELECT count(*) FROM platform_event e WHERE e.kind = 'flow' AND e.data->>'flowType' = 'ATTACHMENT'),
	(SELECT count(*) FROM transfer WHERE reason = 'ATTACHMENT'), 'one ATTACHMENT flow per attachment transfer');
SELECT is((SELECT e.data->>'accountBalance' FROM platform_event e WHERE e.kind = 'flow'
	AND e.project_id = (SELECT id FROM project WHERE code = 'XM-TAP-0001') ORDER BY e.id DESC LIMIT 1),
	wp_yuan(tap.balance()), 'the last flow''s balance after is the account''s balance');

SELECT * FROM finish();
ROLLBACK;
