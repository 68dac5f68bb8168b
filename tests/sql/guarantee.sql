-- guarantee.sql: the wage guarantee where its rules live
-- (schema/functions/guarantee.sql, and what it changed elsewhere: the core
-- feed's deposits, debit requests and legal orders on a guarantee account,
-- AM05 for a drawn month, the payment order's claim and settlement of a
-- draw, the day rules), called as the daemon calls them, at the daemon's
-- clock passed in (never today's date).
--
-- Registration with four eyes (required = contract amount x rate; WP80);
-- deposits on the core feed; protection (AG01 + MISUSE_ATTEMPT, WP44 +
-- SEIZURE_REFUSED, no manual movement); draws (WP81-WP85, AM05), paid from
-- the account through a payment order whose lines the claim reads, the
-- months then paid (a sheet's WAGE line AM05), the core's ACCC and RJCT
-- (money back, PAYMENT_FAILED, the month unpaid again); a draw on a letter
-- claimed and paid when the issuer's money arrives; GUARANTEE_SHORT after
-- the top-up period, GUARANTEE_EXPIRING 30 days before a letter ends; the
-- monthly GUARANTEES ledger per HRSS office; the release (WP86, WP87; the
-- balance back to the contractor, the account closed, GUARANTEE_RELEASED).
-- The ledger invariants after.
BEGIN;
\ir fixtures.sql
SELECT plan(105);
SELECT lives_ok('SELECT tap.world()', 'the demo world');
SELECT lives_ok('SELECT tap.four_eyes()', 'maker1 and checker1');
SELECT lives_ok($$SELECT tap.open_project('XM-TAP-0002', tap.acc2(), tap.gc())$$,
	'a second project, nobody on its roster');
CREATE TEMP TABLE ga AS SELECT 'GA-0001'::text AS n;

-- --- registration -------------------------------------------------------------------
CREATE TEMP TABLE ap AS SELECT tap.propose('GUARANTEE',
	tap.g_account('XM-TAP-0001', 'GA-0001', 10000000, '2'), '2026-11-05 10:00+08') AS id;
SELECT ok((SELECT id ~ '^[0-9]+$' FROM ap), 'a maker proposes a guarantee account');
SELECT is((SELECT payload->>'required' FROM approval WHERE id = (SELECT id::bigint FROM ap)),
	'2000.00', 'the proposal carries required = contract amount x rate (100,000.00 x 2 %)');
SELECT is(tap.decide_as('maker1', (SELECT id FROM ap), '2026-11-05 10:00+08'), 'SAME_OPERATOR',
	'four eyes: the maker cannot approve it');
SELECT is(tap.decide_as('checker1', (SELECT id FROM ap), '2026-11-05 10:00+08'), 'APPROVED',
	'a checker approves it');
SELECT is((SELECT kind || ' ' || state || ' ' || balance FROM account WHERE number = 'GA-0001'),
	'GUARANTEE OPEN 0', 'the guarantee account is open, empty');
SELECT is((SELECT required || ' ' || short_since FROM guarantee g JOIN project p ON p.id = g.project_id
	WHERE p.code = 'XM-TAP-0001'), '200000 2026-11-05',
	'required 200,000 fen; short from the day it was registered');
SELECT is(tap.audits('account.opened', 'GA-0001'), 1::bigint, 'its audit chain starts');
SELECT matches(tap.propose('GUARANTEE', tap.g_account('XM-TAP-0001', 'GA-0009', 100, '1'),
	'2026-11-05 10:00+08'), '^WP80: .* already has a guarantee account', 'one guarantee account a project');
SELECT matches(tap.propose('GUARANTEE', tap.g_account('XM-TAP-0002', tap.acc(), 100, '1'),
	'2026-11-05 10:00+08'), '^WP80: account number .* already in use', 'a number in use refused');
SELECT matches(tap.propose('GUARANTEE', tap.g_account('XM-TAP-0002', 'GA-0009', 100000, '150'),
	'2026-11-05 10:00+08'), '^WP80: the rate is a percentage', 'a rate above 100 % refused');
SELECT matches(tap.propose('GUARANTEE', tap.g_account('XM-TAP-0002', 'GA-0009', 10, '1'),
	'2026-11-05 10:00+08'), '^WP80: the required amount must be positive',
	'a required amount that rounds to nothing refused');
SELECT is(tap.propose('GUARANTEE', tap.g_account('NO-SUCH', 'GA-0009', 100, '1'),
	'2026-11-05 10:00+08'), 'no such project', 'an unknown project');
SELECT matches(tap.propose('GUARANTEE', tap.g_letter('XM-TAP-0001', 'BH-0', 1000, '2026-10-01',
	'2026-10-31'), '2026-11-05 10:00+08'), '^WP80: the letter expired', 'an expired letter refused');

-- --- deposits and protection ----------------------------------------------------------
SELECT is(tap.g_deposit('GD-1', 200000, 'GA-0001'), 'APPLIED', 'the contractor''s deposit is booked');
SELECT is(tap.balance('GA-0001'), 200000::bigint, 'the guarantee account holds it');
SELECT is((SELECT short_since FROM guarantee g JOIN account a ON a.id = g.account_id
	WHERE a.number = 'GA-0001'), NULL, 'no longer short');
SELECT is(tap.g_deposit('GD-1', 200000, 'GA-0001'), 'DUPLICATE', 'a replay changes nothing');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_debit('DR-G1', 'GA-0001', 5000, '6222021001122334458',
	'Materials Ltd', 'materials', 'COUNTER')), 'REFUSED AG01', 'a debit request refused (AG01)');
SELECT is((SELECT count(*) FROM alert a JOIN project p ON p.id = a.project_id
	WHERE a.kind = 'MISUSE_ATTEMPT' AND a.msg_id = 'DR-G1' AND p.code = 'XM-TAP-0001'), 1::bigint,
	'MISUSE_ATTEMPT raised for the project');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_legal_order('LO-G1', 'Court', '(2026)1',
	'SEIZE', 'GA-0001', 5000, 'OTHER', NULL, '2026-11-05 10:00+08')), 'REFUSED WP44',
	'a seizure for anything but wages refused (WP44)');
SELECT is(tap.alerts('SEIZURE_REFUSED', 'LO-G1'), 1::bigint, 'SEIZURE_REFUSED raised');
SELECT is(tap.balance('GA-0001'), 200000::bigint, 'nothing left the guarantee account');
SELECT is(tap.move_refusal(jsonb_build_object('from', 'GA-0001', 'to', 'CLEARING-OUT',
	'amount_fen', 100, 'reason', 'x'), '2026-11-05 10:00+08'),
	'manual movements are between dedicated and clearing accounts only',
	'no manual movement from the guarantee account');

-- --- draws ----------------------------------------------------------------------------
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner pays in');
SELECT is(tap.decide('SH-1', ARRAY[tap.l('E1', 2, 3000)]), 'NEW PAID', 'worker 2 is paid for 2026-10 by a sheet');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[8],
	ARRAY[1000::bigint], ARRAY['2026-10']), '2026-11-05 10:00+08'), '^WP82: line 1 ',
	'a worker not on the roster refused (WP82)');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[1, 7],
	ARRAY[1000::bigint, 1000], ARRAY['2026-10', '2026-10']), '2026-11-05 10:00+08'), '^WP83: line 2 ',
	'a month the worker was not on site refused (WP83)');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[1],
	ARRAY[1000::bigint], ARRAY['2026-12']), '2026-11-05 10:00+08'), '^WP83: ',
	'a month after the current one refused (WP83)');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[2],
	ARRAY[1000::bigint], ARRAY['2026-10']), '2026-11-05 10:00+08'), '^AM05: line 1 ',
	'a month paid by a sheet refused (AM05)');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[1, 1],
	ARRAY[1000::bigint, 1000], ARRAY['2026-10', '2026-10']), '2026-11-05 10:00+08'), '^WP84: line 2 ',
	'the same worker-month twice refused (WP84)');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[1],
	ARRAY[200001::bigint], ARRAY['2026-10']), '2026-11-05 10:00+08'), '^WP85: ',
	'more than the guarantee holds refused (WP85)');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0002', 'HRSS-1', ARRAY[1],
	ARRAY[1000::bigint], ARRAY['2026-10']), '2026-11-05 10:00+08'), '^WP81: .* no active wage guarantee',
	'a project without a guarantee refused (WP81)');
SELECT is(tap.four_eyed('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[1, 3],
	ARRAY[30000::bigint, 25000], ARRAY['2026-10', '2026-09']), '2026-11-05 10:00+08'), 'APPROVED',
	'HRSS''s decision: two workers, proposed and approved');
SELECT is(tap.balance('GA-0001'), 145000::bigint, 'paid from the guarantee account');
SELECT is((SELECT nb_of_txs || ' ' || ctrl_sum || ' ' || (sheet_id IS NULL) FROM payment_order
	WHERE draw_id IS NOT NULL), '2 55000 true', 'one payment order for the draw, no sheet');
SELECT is((SELECT string_agg(instr_id || ' ' || amount || ' ' || card || ' ' || remittance, '; '
	ORDER BY instr_id) FROM wp_payorder_claim(10, 60) WHERE account = 'GA-0001'),
	(SELECT o.msg_id || '-1 30000 ' || tap.card_of(1) || ' WAGE/2026-10; ' || o.msg_id || '-2 25000 '
	 || tap.card_of(3) || ' WAGE/2026-09' FROM payment_order o WHERE o.draw_id IS NOT NULL),
	'the claim reads the draw''s lines: InstrId, amount, the rostered card, the month');
SELECT is((SELECT count(*) FROM transfer WHERE reason = 'GUARANTEE'), 2::bigint, 'a transfer per line');
SELECT is(tap.core_stmt('GS-1', 200000, 200000, '[]', NULL, 'GA-0001'), 'APPLIED',
	'the core''s statement of the guarantee account, the draw''s order not booked yet, reconciles');
SELECT is(tap.recon('GS-1'), 'AGREED 200000 145000 55000', 'agreed: the draw''s order in flight');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-1', ARRAY[4],
	ARRAY[1000::bigint], ARRAY['2026-10']), '2026-11-05 10:00+08'), '^WP81: decision HRSS-1 was already',
	'a decision is drawn once (WP81)');
SELECT matches(tap.propose('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-2', ARRAY[1],
	ARRAY[1000::bigint], ARRAY['2026-10']), '2026-11-05 10:00+08'), '^WP84: line 1 ',
	'a worker-month is drawn once (WP84)');
SELECT is(tap.decide('SH-2', ARRAY[tap.l('E1', 1, 3000), tap.l('E2', 4, 3000)]), 'NEW PAID',
	'a sheet for 2026-10 is decided');
SELECT is(tap.codes('SH-2'), 'AM05,ok', 'the drawn month is paid: the sheet''s WAGE line for it is AM05');
SELECT is((SELECT count(*) FROM guarantee_line_paid), 2::bigint, 'both drawn lines count as paid');

-- --- the core's answer -----------------------------------------------------------------
CREATE TEMP TABLE gmsg AS SELECT msg_id FROM payment_order WHERE draw_id IS NOT NULL;
SELECT is(tap.settle((SELECT msg_id FROM gmsg), json_build_array(
	tap.st((SELECT msg_id FROM gmsg) || '-9', NULL, 'ACCC'))), 'REFUSED WP52',
	'a line the draw does not have refused (WP52)');
SELECT is(tap.settle((SELECT msg_id FROM gmsg), json_build_array(
	tap.st((SELECT msg_id FROM gmsg) || '-1', NULL, 'ACCC'),
	tap.st(NULL, 'WPGD' || (SELECT draw_id FROM payment_order WHERE draw_id IS NOT NULL) || '-2',
		'RJCT', 'AC04'))), 'APPLIED', 'the core credits one line and rejects the other');
SELECT is(tap.balance('GA-0001'), 170000::bigint, 'the rejected line''s money is back on the guarantee');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'PAYMENT_FAILED' AND msg_id = (SELECT msg_id FROM gmsg)),
	1::bigint, 'PAYMENT_FAILED raised');
SELECT is((SELECT count(*) FROM guarantee_line_paid), 1::bigint, 'the rejected worker-month is unpaid again');
SELECT is((SELECT unsettled FROM payment_order WHERE draw_id IS NOT NULL), 0, 'the order is settled');
SELECT is(tap.settle((SELECT msg_id FROM gmsg), json_build_array(
	tap.st((SELECT msg_id FROM gmsg) || '-1', NULL, 'ACCC'))), 'DUPLICATE', 'a replay changes nothing');
SELECT is(tap.settle((SELECT msg_id FROM gmsg), json_build_array(
	tap.st((SELECT msg_id FROM gmsg) || '-1', NULL, 'RJCT'))), 'REFUSED WP53',
	'another final status refused (WP53)');

-- --- top-up and expiry -----------------------------------------------------------------
SELECT is((SELECT short_since FROM guarantee g JOIN account a ON a.id = g.account_id
	WHERE a.number = 'GA-0001'), '2026-11-05'::date, 'short since the draw');
SELECT is(wp_rule_guarantee('2026-12-04 10:00+08'), 0, 'within the 30 days: nothing raised');
SELECT is(wp_rule_guarantee('2026-12-05 10:00+08'), 1, 'the 30th day after: GUARANTEE_SHORT');
SELECT is((SELECT required || ' ' || balance || ' ' || shortfall FROM alert WHERE kind = 'GUARANTEE_SHORT'),
	'200000 170000 30000', 'with required, held and shortfall');
SELECT is(wp_rule_guarantee('2026-12-06 10:00+08'), 0, 'raised once while it stays short');
SELECT is(tap.g_deposit('GD-2', 30000, 'GA-0001'), 'APPLIED', 'the contractor tops it up');
SELECT is((SELECT short_since FROM guarantee g JOIN account a ON a.id = g.account_id
	WHERE a.number = 'GA-0001'), NULL, 'restored: no longer short');
SELECT is(tap.four_eyed('GUARANTEE', tap.g_letter('XM-TAP-0001', 'BH-1', 300000, '2026-11-01',
	'2027-01-03'), '2026-11-05 10:00+08'), 'APPROVED', 'a guarantee letter registered beside the account');
SELECT is(wp_guarantee_held((SELECT id FROM project WHERE code = 'XM-TAP-0001'), '2026-11-05'),
	500000::bigint, 'held: the account and the letter');
SELECT is(wp_rule_guarantee('2026-12-03 10:00+08'), 0, '31 days before the letter ends: nothing');
SELECT is(wp_rule_guarantee('2026-12-04 10:00+08'), 1, '30 days before: GUARANTEE_EXPIRING');
SELECT is(wp_rule_guarantee('2026-12-05 10:00+08'), 0, 'raised once');

-- --- a drawn line sent back by the card's bank ---------------------------------------------
CREATE TEMP TABLE e2e1 AS SELECT l.end_to_end_id AS e FROM guarantee_draw_line l
	JOIN guarantee_draw d ON d.id = l.draw_id WHERE d.decision_no = 'HRSS-1' AND l.seq = 1;
SELECT is((SELECT outcome || coalesce(' ' || code, '') FROM wp_core_return('RET-G1', 'GA-0001', 29999,
	'2026-11-06', (SELECT e FROM e2e1), 'AC04')), 'REFUSED WP42', 'a return of another amount refused (WP42)');
SELECT is((SELECT outcome FROM wp_core_return('RET-G1', 'GA-0001', 30000, '2026-11-06',
	(SELECT e FROM e2e1), 'AC04')), 'APPLIED', 'the credited line comes back from the card''s bank');
SELECT is(tap.balance('GA-0001'), 230000::bigint, 'its money is back on the guarantee account');
SELECT is((SELECT count(*) FROM guarantee_line_paid), 0::bigint, 'the worker''s month is unpaid again');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'PAYMENT_FAILED' AND end_to_end_id = (SELECT e FROM e2e1)),
	1::bigint, 'PAYMENT_FAILED raised');
SELECT is((SELECT outcome FROM wp_core_return('RET-G1', 'GA-0001', 30000, '2026-11-06',
	(SELECT e FROM e2e1), 'AC04')), 'DUPLICATE', 'a replay changes nothing');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('RET-G2', 'GA-0001', 30000, '2026-11-06',
	(SELECT e FROM e2e1), 'AC04')), 'REFUSED WP41', 'a line comes back once (WP41)');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_notify(json_build_array(json_build_object(
	'ref', 'RET-G1', 'account', 'GA-0001', 'amount', 30000, 'booking', '2026-11-06',
	'is_return', false)))), 'REFUSED DU01', 'its NtryRef is not booked again as a deposit (DU01)');

-- --- a draw on the letter ----------------------------------------------------------------
SELECT is(tap.four_eyed('GUARANTEE_DRAW', tap.g_draw('XM-TAP-0001', 'HRSS-3', ARRAY[4],
	ARRAY[250000::bigint], ARRAY['2026-09']), '2026-11-05 10:00+08'), 'APPROVED',
	'a draw the account cannot cover, approved');
SELECT is((SELECT state || ' ' || (letter_id IS NOT NULL) FROM guarantee_draw WHERE decision_no = 'HRSS-3'),
	'CLAIMED true', 'claimed from the letter''s issuer');
SELECT is(tap.balance('GA-0001'), 230000::bigint, 'nothing paid before the issuer''s money arrives');
SELECT is(tap.g_deposit('GD-3', 250000, 'GA-0001'), 'APPLIED', 'the issuer pays the claim');
SELECT is((SELECT state FROM guarantee_draw WHERE decision_no = 'HRSS-3'), 'PAID', 'then the draw is paid');
SELECT is(tap.balance('GA-0001'), 230000::bigint, 'through the guarantee account');
SELECT ok(wp_payorder_taken(ARRAY[(SELECT o.id FROM payment_order o JOIN guarantee_draw d ON d.id = o.draw_id
	WHERE d.decision_no = 'HRSS-3')], ARRAY[202], ARRAY[now()]) = 1, 'the core takes its order');
SELECT is(wp_rule_settlement_overdue(now() + interval '2 days', 24), 1,
	'no status 24 hours after: SETTLEMENT_OVERDUE for the draw''s order');
SELECT is((SELECT a.msg_id || ' ' || a.end_to_end_id FROM alert a WHERE a.kind = 'SETTLEMENT_OVERDUE'),
	(SELECT o.msg_id || ' WPGD' || d.id || '-1' FROM payment_order o JOIN guarantee_draw d ON d.id = o.draw_id
	 WHERE d.decision_no = 'HRSS-3'), 'naming the order and its first open line');

-- --- the monthly ledger ------------------------------------------------------------------
SELECT is(wp_rule_guarantees_ledger('2026-12-02 10:00+08', tap.regs()), 2,
	'one GUARANTEES ledger per HRSS office');
SELECT is((SELECT string_agg(a.recipient || ':' || (SELECT count(*) FROM alert_guarantees g
	WHERE g.alert_id = a.id), ' ' ORDER BY a.recipient) FROM alert a WHERE a.kind = 'GUARANTEES'),
	'kf-hrss:0 zz-hrss:1', 'listing the guarantees of its region');
SELECT is((SELECT kind || ' ' || required || ' ' || held || ' ' || drawn || ' ' || expires
	FROM alert_guarantees), 'ACCOUNT+LETTER 200000 280000 305000 2027-01-03',
	'kind, required, held, drawn and the letter''s expiry');
SELECT is(wp_rule_guarantees_ledger('2026-12-20 10:00+08', tap.regs()), 0, 'once a month');

-- --- release -----------------------------------------------------------------------------
SELECT matches(tap.propose('GUARANTEE_RELEASE', '{"code":"XM-TAP-0001","notice_no":"R-1"}',
	'2026-11-05 10:00+08'), '^WP86: the project is not marked complete', 'not before completion (WP86)');
SELECT is(tap.four_eyed('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0001', '2026-11-05'),
	'2026-11-05 10:00+08'), 'APPROVED', 'the project is complete');
SELECT matches(tap.propose('GUARANTEE_RELEASE', '{"code":"XM-TAP-0001","notice_no":"R-1"}',
	'2026-11-05 10:00+08'), '^WP87: .* month\(s\) have workers unpaid', 'not while wages are owed (WP87)');
SELECT is(tap.four_eyed('GUARANTEE', tap.g_account('XM-TAP-0002', 'GA-0002', 5000000, '1.5'),
	'2026-11-05 10:00+08'), 'APPROVED', 'the second project''s guarantee account');
SELECT is(tap.g_deposit('GD-4', 75000, 'GA-0002'), 'APPLIED', 'paid in');
SELECT is(tap.four_eyed('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0002', '2026-11-05'),
	'2026-11-05 10:00+08'), 'APPROVED', 'complete, nobody unpaid');
SELECT is(tap.four_eyed('GUARANTEE_RELEASE', '{"code":"XM-TAP-0002","notice_no":"R-2"}',
	'2026-11-06 10:00+08'), 'APPROVED', 'HRSS''s release notice, approved');
SELECT is((SELECT state || ' ' || balance FROM account WHERE number = 'GA-0002'), 'CLOSED 0',
	'the balance went back to the contractor, the account closed');
SELECT is((SELECT count(*) FROM alert a JOIN project p ON p.id = a.project_id
	WHERE a.kind = 'GUARANTEE_RELEASED' AND p.code = 'XM-TAP-0002'), 1::bigint, 'GUARANTEE_RELEASED raised');
SELECT is(tap.g_deposit('GD-5', 100, 'GA-0002'), 'REFUSED AC04', 'a closed guarantee account takes nothing');

SELECT is((SELECT count(*) FROM account a WHERE a.kind = 'GUARANTEE' AND a.balance <>
	coalesce((SELECT sum(amount) FROM transfer WHERE credit_account = a.id), 0)
	- coalesce((SELECT sum(amount) FROM transfer WHERE debit_account = a.id), 0)), 0::bigint,
	'every guarantee balance equals its transfers');
SELECT * FROM tap.invariants('after the guarantee');
SELECT * FROM finish();
ROLLBACK;
