-- settlement.sql: payment orders to the core and the core's answers
-- (schema/functions/settlement.sql; the order written by sheet.sql's
-- wp_sheet_pay), called as daemon/payorders.c and daemon/core.c call them.
--
-- One order per paid sheet with one line per paid line: a sheet paid as
-- stored (in one call, and in three steps), one paid at its close (the
-- account keeps earmarks), a held sheet released by a deposit; none for a
-- refused sheet, a held one, or refused lines. InstrIds unique. Claims,
-- taken, backoff. The core's pain.002: ACCC; RJCT (money back, earmarked,
-- PAYMENT_FAILED, audited; a later camt.054 return of it is WP41); a replay
-- is DUPLICATE; WP51 unknown order, WP52 unknown line, WP53 another final
-- status; a group status for every line; SETTLEMENT_OVERDUE once.
-- The ledger invariants after each scenario.
BEGIN;
\ir fixtures.sql
SELECT plan(129);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'an owner''s deposit is booked');

-- --- orders written where sheets are paid -----------------------------------------
SELECT is(tap.decide('P-1', ARRAY[tap.l('P1-1', 1, 3000), tap.l('P1-2', 2, 4000),
	tap.lx('P1-3', (tap.w(8)).idn, (tap.w(8)).name, (tap.w(8)).card, (tap.w(8)).bank, 500)]),
	'NEW PAID', 'a sheet with a refused line is paid');
SELECT is((SELECT pay_as_stored FROM sheet WHERE msg_id = 'P-1'), true, 'it was paid as stored');
SELECT is(tap.order('P-1'), '2 7000', 'its order: one line per paid line, none for the refused one');
SELECT is((SELECT count(*) FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'P-1'), 1::bigint, 'exactly one order for the sheet');
SELECT matches(tap.order_msg('P-1'), '^WPPO[0-9]{8}[0-9]{10}$', 'its MsgId: WPPO, the day, the id');
SELECT is(tap.instr('P-1', 'P1-2'), tap.order_msg('P-1') || '-2', 'an InstrId is the MsgId and the line');
SELECT is((SELECT o.state || ' ' || o.attempts || ' ' || o.unsettled FROM payment_order o
	JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = 'P-1'), 'PENDING 0 2',
	'the order waits in the outbox, nothing settled');
SELECT is(tap.decide('P-1', ARRAY[tap.l('P1-1', 1, 3000), tap.l('P1-2', 2, 4000),
	tap.lx('P1-3', (tap.w(8)).idn, (tap.w(8)).name, (tap.w(8)).card, (tap.w(8)).bank, 500)]),
	'REPLAY PAID', 'the same sheet again is a replay');
SELECT is((SELECT count(*) FROM payment_order), 1::bigint, 'a replay writes no second order');
SELECT is(tap.decide('R-1', ARRAY[tap.lx('R1-1', (tap.w(8)).idn, (tap.w(8)).name, (tap.w(8)).card,
	(tap.w(8)).bank, 500)]), 'NEW REJECTED', 'a sheet with no line accepted is refused');
SELECT is(tap.order('R-1'), NULL, 'a refused sheet has no order');
SELECT ok(tap.open('T-1', 5000) IS NOT NULL, 'a sheet is opened in three steps');
SELECT is(tap.lines((SELECT id FROM sheet WHERE msg_id = 'T-1'), 1,
	ARRAY[tap.l('T1-1', 3, 2000), tap.l('T1-2', 4, 3000)]), 2, 'its lines are stored');
SELECT is(tap.close((SELECT id FROM sheet WHERE msg_id = 'T-1'), '2026-10-01', 2, 5000),
	'NEW PAID', 'and it is paid as stored at its close');
SELECT is(tap.order('T-1'), '2 5000', 'one order with its two lines, paid as stored in steps');
SELECT is(tap.decide('H-1', ARRAY[tap.l('H1-1', 5, 90000, 'WAGE', '2026-10-01')], tap.sub2()),
	'NEW HELD', 'a sheet the balance cannot pay is held');
SELECT is(tap.order('H-1'), NULL, 'a held sheet has no order');
SELECT is(tap.deposit('DEP-2', 50000), 'APPLIED', 'a deposit comes in');
SELECT is(tap.state('H-1'), 'PAID', 'and pays the held sheet');
SELECT is(tap.order('H-1'), '1 90000', 'the released sheet''s order is written in the deposit''s transaction');
SELECT is((SELECT count(DISTINCT instr_id) FROM payment_order_line),
	(SELECT count(*) FROM payment_order_line), 'every InstrId is unique');
SELECT * FROM tap.invariants('after orders');

-- --- the paying daemon sends a fresh order itself ------------------------------------
-- (daemon/payorders.c): the close names it in a last row 'O' and leases it
-- for a minute; a sheet released by a deposit has none, and is due at once
SELECT is((SELECT string_agg(s.msg_id || ' ' || (o.next_attempt_at > now() + interval '50 seconds'),
	',' ORDER BY s.msg_id) FROM payment_order o JOIN sheet s ON s.id = o.sheet_id),
	'H-1 false,P-1 true,T-1 true', 'orders of sheets paid as decided are leased to the paying daemon');
SELECT is((SELECT count(*) FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id IN ('P-1', 'T-1') AND wp_payorder_due(o.id)), 2::bigint,
	'wp_payorder_due lifts the lease (an order its daemon could not send itself)');

-- --- delivery: claims, taken, backoff ---------------------------------------------
SELECT is((SELECT count(DISTINCT order_id) FROM wp_payorder_claim(10, 20)), 3::bigint,
	'the three due orders are claimed');
SELECT is((SELECT count(*) FROM wp_payorder_claim(10, 20)), 0::bigint,
	'claimed orders are not due again before their lease');
SELECT is((SELECT string_agg(remittance || ':' || amount, ',' ORDER BY instr_id) FROM wp_payorder_claim(10, 20)),
	NULL, 'nothing more');
SELECT ok(wp_payorder_failed((SELECT o.id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'T-1'), 503, 'HTTP 503', 300) > now(), 'a failed attempt is retried later');
SELECT is(wp_payorder_taken(ARRAY[(SELECT o.id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'P-1')], ARRAY[202], ARRAY[now()]), 1, 'a 2xx: the core took the order');
SELECT is(wp_payorder_taken(ARRAY[(SELECT o.id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'P-1')], ARRAY[200], ARRAY[now()]), 0, 'taken once');
SELECT is((SELECT o.state FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'P-1'), 'TAKEN', 'the order is TAKEN');
UPDATE payment_order SET next_attempt_at = now() WHERE state = 'PENDING';
SELECT is((SELECT string_agg(DISTINCT msg_id, ',') FROM wp_payorder_claim(10, 20)),
	(SELECT string_agg(msg_id, ',' ORDER BY msg_id) FROM payment_order WHERE state = 'PENDING'),
	'the orders not taken are claimed again with the same MsgId');
SELECT is((SELECT remittance || ' ' || card || ' ' || card_bank || ' ' || name FROM wp_payorder_claim(10, 0) x
	WHERE false), NULL, 'nothing claimed within the lease');

-- --- the core's answers ------------------------------------------------------------
SELECT is(tap.settle(tap.order_msg('P-1'), json_build_array(tap.st(tap.instr('P-1', 'P1-1'), NULL, 'ACCC'))),
	'APPLIED', 'ACCC by InstrId is applied');
SELECT is(tap.settled('P-1', 'P1-1'), 'ACCC', 'the line is credited');
SELECT is(tap.balance(), 150000::bigint - 3000 - 4000 - 5000 - 90000, 'ACCC moves no money');
SELECT is(tap.settle(tap.order_msg('P-1'), json_build_array(tap.st(NULL, 'P1-2', 'RJCT', 'AC04'))),
	'APPLIED', 'RJCT by EndToEndId is applied');
SELECT is(tap.settled('P-1', 'P1-2'), 'RJCT AC04', 'the line is rejected with the core''s reason');
SELECT is(tap.balance(), 150000::bigint - 3000 - 5000 - 90000, 'the rejected line''s money is back on the account');
SELECT is(tap.earmarked(), 4000::bigint, 'earmarked for that worker and month');
SELECT is((SELECT id_number || ' ' || month || ' ' || remaining FROM line_earmark),
	(tap.w(2)).idn || ' 2026-10-01 4000', 'the earmark names the worker and the month');
SELECT is(tap.alerts('PAYMENT_FAILED', 'P-1'), 1::bigint, 'PAYMENT_FAILED is raised');
SELECT is((SELECT end_to_end_id FROM alert WHERE kind = 'PAYMENT_FAILED'), 'P1-2', 'naming the line');
SELECT is(tap.audits('wage.rejected'), 1::bigint, 'the rejection is audited in the account''s chain');
SELECT is((SELECT o.unsettled FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'P-1'), 0, 'the order has no line left to settle');
SELECT * FROM tap.invariants('after ACCC and RJCT');
SELECT is(tap.settle(tap.order_msg('P-1'), json_build_array(tap.st(tap.instr('P-1', 'P1-1'), NULL, 'ACCC'),
	tap.st(NULL, 'P1-2', 'RJCT', 'AC04'))), 'DUPLICATE', 'a replay changes nothing');
SELECT is(tap.balance(), 150000::bigint - 3000 - 5000 - 90000, 'the balance is as it was');
SELECT is(tap.alerts('PAYMENT_FAILED', 'P-1'), 1::bigint, 'no second PAYMENT_FAILED');
SELECT is(tap.settle(tap.order_msg('P-1'), json_build_array(tap.st('', 'P1-1', 'ACCC'),
	tap.st('', 'P1-2', 'RJCT', 'AC04'))), 'DUPLICATE',
	'lines named by EndToEndId alone, OrgnlInstrId empty as the daemon passes it: read (no cast error)');
SELECT is(tap.settle(tap.order_msg('P-1'), json_build_array(tap.st(NULL, 'P1-1', 'RJCT', 'AC06'))),
	'REFUSED WP53', 'WP53: a credited line cannot be rejected afterwards');
SELECT is(tap.settle('WPPO2026101700000099999', json_build_array(tap.st(NULL, 'P1-1', 'ACCC'))),
	'REFUSED WP51', 'WP51: no such order');
SELECT is(tap.settle(tap.order_msg('T-1'), json_build_array(tap.st(NULL, 'T1-1', 'ACCC'),
	tap.st(NULL, 'NO-SUCH', 'ACCC'))), 'REFUSED WP52', 'WP52: a line the order does not have');
SELECT is(tap.settle(tap.order_msg('T-1'), json_build_array(tap.st(tap.order_msg('T-1') || '-9', NULL, 'ACCC'))),
	'REFUSED WP52', 'WP52: an InstrId the order does not have');
SELECT is(tap.settle(tap.order_msg('T-1'), json_build_array(tap.st(tap.instr('P-1', 'P1-1'), NULL, 'ACCC'))),
	'REFUSED WP52', 'WP52: another order''s line');
SELECT is(tap.settle(tap.order_msg('T-1'), json_build_array(tap.st(tap.instr('T-1', 'T1-1'), 'T1-2', 'ACCC'))),
	'REFUSED WP52', 'WP52: an InstrId and an EndToEndId of two lines');
SELECT is(tap.settled('T-1', 'T1-1'), NULL, 'nothing of a refused report is applied');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_return('RET-1', tap.acc(), 4000, '2026-10-20',
	'P1-2', 'AC04')), 'REFUSED WP41', 'a camt.054 return of a line the core rejected finds nothing to return');
SELECT * FROM tap.invariants('after refusals');

-- --- a group status, and settlement overdue --------------------------------------
SELECT is(wp_rule_settlement_overdue(now() + interval '25 hours', 24), 0,
	'no SETTLEMENT_OVERDUE for orders the core has not taken');
SELECT is(wp_payorder_taken(ARRAY[(SELECT o.id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'T-1')], ARRAY[200], ARRAY[now()]), 1, 'the core takes another order');
SELECT is(wp_rule_settlement_overdue(now() + interval '23 hours', 24), 0,
	'within settlement_hours nothing is raised');
SELECT is(wp_rule_settlement_overdue(now() + interval '25 hours', 24), 1,
	'after it, SETTLEMENT_OVERDUE for the order with open lines');
SELECT is(wp_rule_settlement_overdue(now() + interval '26 hours', 24), 0, 'once (edge-triggered)');
SELECT is(tap.alerts('SETTLEMENT_OVERDUE', 'T-1'), 1::bigint, 'about that sheet');
SELECT is(tap.settle(tap.order_msg('T-1'), '[]'::json, 'ACCC'), 'APPLIED',
	'a group ACCC without lines credits every line');
SELECT is(tap.settled('T-1', 'T1-1') || ',' || tap.settled('T-1', 'T1-2'), 'ACCC,ACCC', 'both lines');
SELECT is(tap.settle(tap.order_msg('H-1'), json_build_array(tap.st(NULL, 'H1-1', 'ACSP'))),
	'DUPLICATE', 'a status that is not final changes nothing');
SELECT is((SELECT o.state FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'H-1'), 'TAKEN', 'but an order the core answers is taken');

-- --- a sheet paid at its close (the account keeps earmarks) ----------------------
SELECT is(tap.decide('C-1', ARRAY[tap.l('C1-1', 4, 1000, 'WAGE', '2026-09-01')]), 'NEW PAID',
	'a sheet is paid while the account keeps an earmark');
SELECT is((SELECT pay_as_stored FROM sheet WHERE msg_id = 'C-1'), false, 'not as stored: at its close');
SELECT is(tap.order('C-1'), '1 1000', 'its order is written at the close');
-- --- statuses that tell the truth (026) ------------------------------------------
SELECT is(tap.status_rows('P-1'), 'L P1-3 WP01 worker | T ACCC P1-1 | T RJCT P1-2 AC04 refused',
	'GET: the refused line, then each settled line: ACCC, RJCT with the core''s reason');
SELECT is((SELECT string_agg(kind, ',') FROM wp_sheet_report((SELECT id FROM sheet WHERE msg_id = 'P-1'), 'REPLAY')),
	'S,L', 'POST''s rows (wp_sheet_report) stay as they were: no settlement');
SELECT is(tap.voucher_marks('P-1'), 'L P1-1 CREDITED 3000 | R P1-2 FAILED 4000',
	'the voucher: CREDITED, and FAILED (its money back: not counted)');
SELECT is(tap.decide('ST-1', ARRAY[tap.l('ST1-1', 1, 1000, 'WAGE', '2026-08-01'), tap.l('ST1-2', 2, 2000, 'WAGE', '2026-08-01')]), 'NEW PAID',
	'a sheet of two lines is paid');
SELECT is(tap.status_rows('ST-1'), NULL, 'nothing settled: no line status, the group ACSC');
SELECT is(tap.voucher_marks('ST-1'), 'L ST1-1 1000 | L ST1-2 2000', 'the voucher: no mark yet');
SELECT is(tap.settle(tap.order_msg('ST-1'), json_build_array(tap.st(NULL, 'ST1-1', 'ACCC'))), 'APPLIED',
	'the core credits one line');
SELECT is(tap.status_rows('ST-1'), 'T ACCC ST1-1', 'one line ACCC; the group not yet');
SELECT is(tap.settle(tap.order_msg('ST-1'), '[]', 'ACCC'), 'APPLIED', 'a group ACCC credits the other');
SELECT is(tap.status_rows('ST-1'), 'T ACCC ST1-1 | T ACCC ST1-2 | G ACCC',
	'every paid line of an ACSC sheet credited: a row G, GrpSts ACCC');
SELECT is(tap.status_rows('ST-1', tap.gc2()), NULL, 'another contractor gets nothing');
SELECT is((SELECT outcome FROM wp_core_return('RET-ST', tap.acc(), 2000, '2026-10-22', 'ST1-2', 'AC06')),
	'APPLIED', 'a camt.054 return of a credited line');
SELECT is(tap.status_rows('ST-1'), 'T ACCC ST1-1 | T RJCT ST1-2 AC06 RETURNED',
	'the returned line: RJCT with the return''s reason, RETURNED; the group ACSC again');
SELECT is(tap.voucher_marks('ST-1'), 'L ST1-1 CREDITED 1000 | R ST1-2 RETURNED 2000',
	'the voucher marks it RETURNED');
SELECT is(tap.status_rows('T-1'), 'T ACCC T1-1 | T ACCC T1-2 | G ACCC', 'a sheet credited by a group status');
SELECT is((SELECT w->>'pending' || ' ' || (w->>'taken') || ' ' || (w->>'lines_unsettled')
	FROM (SELECT wp_console_metrics()->'payment_orders' AS w) x),
	(SELECT count(*) FILTER (WHERE state = 'PENDING') || ' ' || count(*) FILTER (WHERE state = 'TAKEN'
	 AND unsettled > 0) || ' ' || sum(unsettled) FROM payment_order),
	'/metrics: orders pending, taken with lines open, the lines open');
SELECT is((SELECT (wp_console_overview(now(), 24)->'payment_orders'->>'waiting')::bigint),
	(SELECT count(*) FROM payment_order WHERE state = 'PENDING'), 'the console: the orders waiting');
SELECT * FROM tap.invariants('after statuses');

-- --- a fresh order's row O --------------------------------------------------------
CREATE TEMP TABLE o1 AS SELECT * FROM tap.submit('O-1', ARRAY[tap.l('O1-1', 1, 2500, 'WAGE',
	'2026-09-01'), tap.l('O1-2', 2, 1500, 'WAGE', '2026-09-01')]);
SELECT is((SELECT outcome || ' ' || state FROM o1 WHERE kind = 'S'), 'NEW PAID', 'a sheet is paid');
SELECT is((SELECT kind || ' ' || outcome || ' ' || (end_to_end_id::bigint = o.id) || ' ' || code || ' '
	|| (x.state ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$') || ' ' || message
	FROM o1 x JOIN payment_order o ON o.msg_id = x.outcome WHERE x.kind = 'O'),
	(SELECT 'O ' || o.msg_id || ' true 2 4000 true ' || p.name FROM payment_order o
	 JOIN sheet s ON s.id = o.sheet_id JOIN project p ON p.id = s.project_id WHERE s.msg_id = 'O-1'),
	'its last row O: the order''s MsgId, id, count and sum, creation time and debtor');
SELECT is((SELECT kind FROM o1 ORDER BY ctid DESC LIMIT 1), 'O', 'the row O is the last');
SELECT is((SELECT count(*) FROM tap.submit('O-1', ARRAY[tap.l('O1-1', 1, 2500, 'WAGE', '2026-09-01'),
	tap.l('O1-2', 2, 1500, 'WAGE', '2026-09-01')]) x WHERE x.kind = 'O'), 0::bigint,
	'a replay names no order to send');
SELECT ok((SELECT o.next_attempt_at > now() + interval '50 seconds' FROM payment_order o
	JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = 'O-1'), 'leased to the paying daemon');
SELECT is(wp_payorder_taken(ARRAY[(SELECT o.id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	WHERE s.msg_id = 'O-1')], ARRAY[202], ARRAY[now()]), 1, 'a fresh order taken');
SELECT is((SELECT attempts || ' ' || (last_attempt_at IS NOT NULL) FROM payment_order o
	JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id = 'O-1'), '1 true', 'its attempt is counted');
-- the daemon records the 2xx heard meanwhile in one call, each at the time
-- it was heard (never later than now); one taken already is left as it is
SELECT is((SELECT count(*) FROM tap.submit('O-2', ARRAY[tap.l('O2-1', 3, 1000, 'WAGE', '2026-09-01')]) x
	WHERE x.kind = 'O'), 1::bigint, 'another sheet paid: its order');
SELECT is((SELECT count(*) FROM tap.submit('O-3', ARRAY[tap.l('O3-1', 3, 1000, 'WAGE', '2026-08-01')]) x
	WHERE x.kind = 'O'), 1::bigint, 'and a third');
SELECT is(wp_payorder_taken(
	(SELECT array_agg(o.id ORDER BY s.msg_id) FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
	 WHERE s.msg_id IN ('O-1', 'O-2', 'O-3')), ARRAY[202, 200, 202],
	ARRAY[now(), now() - interval '5 seconds', now() + interval '1 hour']), 2,
	'one call takes two orders and leaves the one taken already');
SELECT is((SELECT string_agg(s.msg_id || ' ' || o.state || ' ' || o.last_status || ' '
	|| (now() - o.taken_at) || ' ' || (o.last_attempt_at = o.taken_at), ',' ORDER BY s.msg_id)
	FROM payment_order o JOIN sheet s ON s.id = o.sheet_id WHERE s.msg_id IN ('O-2', 'O-3')),
	'O-2 TAKEN 200 00:00:05 true,O-3 TAKEN 202 00:00:00 true',
	'each taken when its 2xx was heard, a time ahead of the database''s clamped to now');

SELECT * FROM tap.invariants('at the end');

SELECT * FROM finish();
ROLLBACK;
