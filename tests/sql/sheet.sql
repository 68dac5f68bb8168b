-- sheet.sql: the wage sheet decided where it lives (schema/functions/sheet.sql:
-- wp_sheet_submit, wp_sheet_open, wp_sheet_lines, wp_sheet_close,
-- wp_sheet_received, wp_sheet_pay, wp_release_held, wp_sheet_earmark_use,
-- wp_earmark_release), called as sheetapi.c calls them.
--
-- Every reason code the database decides for a sheet or a line (README
-- "Status codes"): AC01 (sheet: not a dedicated account; line: card or bank
-- not the roster's), AC04, WP06, WP01, WP02, BE01, WP03 (entered after /
-- left before the month), AM05 (paid before, held, twice in a sheet, twice
-- across batches), AM04 (held whole for funds), DU01 (a MsgId reused with
-- other bytes: CONFLICT), and a daemon's pre-code (WP05) kept as given;
-- MISUSE_ATTEMPT for WP01/BE01/AC01 lines; holds and their first-in,
-- first-paid release by deposits; paid as stored; returns' earmarks spent
-- only by their BACKPAY; the months judged by the daemon's clock (WP07 a
-- WAGE month after the current one, WP08 a BACKPAY month not before it,
-- WP03 in the current month for a worker not yet entered, WP09 a
-- confirmation after the clock), refused lines taking no worker-month; a
-- held sheet withdrawn (wp_sheet_cancel: CANCELLED, audited, the next held
-- sheet released; 404, 403, 409 answers). The ledger invariants after each
-- scenario.
BEGIN;
\ir fixtures.sql
SELECT plan(158);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');

-- --- refused whole, before any line -------------------------------------------
SELECT is(tap.decide('A-1', ARRAY[tap.l('A1', 1, 1000)], p_account => '6228489999999999999'),
	'UNKNOWN_ACCOUNT AC01', 'AC01: a debtor account that is not a dedicated account refuses the sheet');
SELECT is(tap.decide('A-2', ARRAY[tap.l('A1', 1, 1000)], p_contractor => tap.gc2()),
	'FORBIDDEN -', 'another general contractor than the project''s is forbidden (HTTP 403)');
SELECT is(tap.decide('A-3', ARRAY[tap.l('A1', 1, 1000)], p_sub => tap.owner()),
	'UNKNOWN_SUBCONTRACTOR WP06', 'WP06: a subcontractor (UltmtDbtr) not on the project''s roster refuses the sheet');
SELECT ok(tap.open_project('XM-TAP-0002', tap.acc2(), tap.gc()) IS NOT NULL, 'a second project is opened');
SELECT is(tap.close_account('XM-TAP-0002', '2026-10-20 10:00+08'), 'APPROVED APPROVED',
	'its empty account is closed (as an approved CLOSE_ACCOUNT does it) (completed, the notice run, closed: four eyes each)');
SELECT is(tap.decide('A-4', ARRAY[tap.l('A1', 1, 1000)], p_account => tap.acc2()),
	'ACCOUNT_CLOSED AC04', 'AC04: a sheet on a closed dedicated account is refused');
SELECT is((SELECT count(*) FROM sheet WHERE msg_id LIKE 'A-%'), 0::bigint,
	'a sheet refused whole leaves no sheet row');

-- --- every line rule, in one sheet --------------------------------------------
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner deposits 1,000.00');
SELECT is(tap.decide('B-1', ARRAY[
	tap.l('B1', 1, 10000),
	tap.l('B2', 8, 1000),
	tap.l('B3', 5, 1000),
	tap.lx('B4', (tap.w(2)).idn, '张建国', (tap.w(2)).card, (tap.w(2)).bank, 1000),
	tap.lx('B5', (tap.w(3)).idn, (tap.w(3)).name, (tap.w(4)).card, (tap.w(3)).bank, 1000),
	tap.lx('B6', (tap.w(4)).idn, (tap.w(4)).name, (tap.w(4)).card, '103491000018', 1000),
	tap.l('B7', 6, 1000),
	tap.l('B8', 7, 1000),
	tap.l('B9', 2, 10000),
	tap.l('B10', 1, 1000),
	tap.l('B11', 1, 5000, 'BACKPAY', '2026-09-01'),
	tap.lx('B12', '410183200211050009', '王建军', (tap.w(1)).card, (tap.w(1)).bank, 1000,
		'WP05', 'ID number 4101**********0009 fails its GB 11643 check')]),
	'NEW PAID', 'a sheet with some lines refused pays the rest (PART)');
SELECT is(tap.codes('B-1'), 'ok,WP01,WP02,BE01,AC01,AC01,WP03,WP03,ok,AM05,ok,WP05',
	'each line decided: WP01 off the roster, WP02 another employer, BE01 name, AC01 card, AC01 bank code, WP03 left before the month, WP03 entered after it, AM05 twice in the sheet, BACKPAY of a month allowed, WP05 pre-coded kept');
SELECT is((SELECT reason_text FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
	WHERE s.msg_id = 'B-1' AND l.end_to_end_id = 'B10'),
	'the worker''s wage for this month appears earlier in this sheet',
	'AM05: the later of two WAGE lines of one worker-month says it appears earlier in the sheet');
SELECT is((SELECT accepted_count || ' ' || accepted_total FROM sheet WHERE msg_id = 'B-1'),
	'3 25000', 'the sheet''s accepted figures are its accepted lines');
SELECT is(tap.paid('B-1'), '3 25000', 'one WAGE transfer per accepted line, none for a refused one');
SELECT is(tap.balance(), 75000::bigint, 'the balance is debited by the accepted total only');
SELECT is((SELECT pay_as_stored FROM sheet WHERE msg_id = 'B-1'), true,
	'a sheet the free balance covers as declared is paid as stored');
SELECT is((SELECT count(*) FROM wp_sheet_report((SELECT id FROM sheet WHERE msg_id = 'B-1'), 'NEW')
	WHERE kind = 'L'), 9::bigint, 'the report has one row per refused line');
SELECT is((SELECT string_agg(end_to_end_id, ',' ORDER BY end_to_end_id) FROM alert
	WHERE kind = 'MISUSE_ATTEMPT' AND msg_id = 'B-1'), 'B2,B4,B5,B6',
	'MISUSE_ATTEMPT raised for WP01, BE01 and AC01 lines, not for WP02, WP03, AM05 or WP05');
SELECT is(tap.audits('sheet.paid'), 1::bigint, 'the payment is audited in the account''s chain');
SELECT * FROM tap.invariants('after a sheet paid in part');

-- --- AM05 across sheets; the same MsgId again ---------------------------------
SELECT is(tap.decide('C-1', ARRAY[tap.l('C1', 1, 10000), tap.l('C2', 3, 10000)]), 'NEW PAID',
	'a sheet repeating a paid worker-month is decided');
SELECT is(tap.codes('C-1'), 'AM05,ok', 'AM05: the worker''s WAGE for a month already paid on the project');
SELECT matches((SELECT reason_text FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
	WHERE s.msg_id = 'C-1' AND l.seq = 1), 'was already paid on this project',
	'AM05 says the month was already paid (send arrears as BACKPAY)');
SELECT is(tap.decide('C-1', ARRAY[tap.l('C1', 1, 10000), tap.l('C2', 3, 10000)]), 'REPLAY PAID',
	'the same MsgId with the same bytes is answered from what was decided');
SELECT is(tap.decide('C-1', ARRAY[tap.l('C1', 1, 10000), tap.l('C2', 3, 10000)],
	p_digest => '\x00'::bytea), 'CONFLICT PAID',
	'DU01: the same MsgId with other bytes is a conflict');
SELECT is(tap.paid('C-1'), '1 10000', 'neither a replay nor a conflict pays again');
SELECT is(tap.decide('C-2', ARRAY[tap.l('C1', 8, 1000)]), 'NEW REJECTED',
	'a sheet with every line refused is REJECTED (RJCT)');
SELECT is(tap.paid('C-2'), '0 0', 'a rejected sheet books no transfer');
SELECT is(tap.balance(), 65000::bigint, 'the balance: 75,000 less the one line paid');
SELECT * FROM tap.invariants('after AM05, a replay, a conflict and a rejection');

-- --- AM04: held whole, first in, first paid -----------------------------------
SELECT is(tap.decide('D-1', ARRAY[tap.l('D1', 1, 40000, 'WAGE', '2026-09-01'),
	tap.l('D2', 2, 40000, 'WAGE', '2026-09-01')]), 'NEW HELD',
	'AM04: a sheet the balance cannot pay is held whole (PDNG)');
SELECT is(tap.paid('D-1'), '0 0', 'a held sheet is not paid in part');
SELECT is(tap.balance(), 65000::bigint, 'a held sheet leaves the balance untouched');
SELECT is((SELECT balance || ' ' || required || ' ' || shortfall FROM alert
	WHERE kind = 'BALANCE_SHORT' AND msg_id = 'D-1'), '65000 80000 15000',
	'BALANCE_SHORT raised with the free balance, what is needed and the shortfall');
SELECT is(tap.decide('D-2', ARRAY[tap.l('D1', 3, 1000, 'WAGE', '2026-09-01')]), 'NEW HELD',
	'first in, first paid: a sheet the balance covers is held behind an older held one');
SELECT matches((SELECT detail || ' / ' || shortfall FROM alert WHERE kind = 'BALANCE_SHORT'
	AND msg_id = 'D-2'), 'ahead of older held sheets / 0$',
	'its BALANCE_SHORT says it waits behind older held sheets, shortfall 0');
SELECT is(tap.decide('D-3', ARRAY[tap.l('D1', 1, 1000, 'WAGE', '2026-09-01')]), 'NEW REJECTED',
	'a worker-month on a held sheet cannot be sent again');
SELECT is(tap.codes('D-3'), 'AM05', 'AM05: the worker''s WAGE for the month is held');
SELECT is(tap.deposit('DEP-2', 10000), 'APPLIED', 'a deposit too small for the oldest held sheet');
SELECT is(tap.state('D-1') || ' ' || tap.state('D-2'), 'HELD HELD',
	'first in, first paid: the queue stops at the oldest sheet that does not fit, the younger one waits though it would fit');
SELECT is((SELECT message FROM wp_core_deposit('DEP-3', tap.acc(), 10000, '2026-10-06', 'Demo Owner',
	tap.owner())), 'credited; 2 held sheet(s) paid', 'a deposit that covers them pays the held sheets');
SELECT is(tap.state('D-1') || ' ' || tap.state('D-2'), 'PAID PAID', 'both held sheets are paid, oldest first');
SELECT is(tap.paid('D-1') || ' / ' || tap.paid('D-2'), '2 80000 / 1 1000',
	'the held sheets are paid by their own transfers');
SELECT is((SELECT pay_as_stored FROM sheet WHERE msg_id = 'D-1'), false, 'a held sheet was not paid as stored');
SELECT is(tap.balance(), 4000::bigint, 'the balance: 65,000 + 20,000 less 81,000');
SELECT * FROM tap.invariants('after holds and their release');

-- --- read and decided together: open, lines, close ----------------------------
SELECT is(tap.deposit('DEP-4', 50000), 'APPLIED', 'the owner deposits 500.00 more');
SELECT is((SELECT outcome FROM wp_sheet_open(tap.gc(), 'C-1', tap.acc(), tap.sub1(), 1000, tap.now())),
	'EXISTS', 'opening a MsgId already decided answers EXISTS');
SELECT ok(tap.open('E-1', 30000) IS NOT NULL, 'a sheet is opened');
SELECT is((SELECT pay_as_stored FROM sheet WHERE msg_id = 'E-1'), true,
	'opened as paid as stored: its declared sum is covered and nothing is held');
SELECT is(tap.lines((SELECT id FROM sheet WHERE msg_id = 'E-1'), 1,
	ARRAY[tap.l('E1', 4, 10000, 'WAGE', '2026-09-01')]), 1, 'a first batch of one line is stored');
SELECT is(tap.paid('E-1'), '1 10000', 'paid as stored: the batch''s transfer is booked with it');
SELECT is(tap.lines((SELECT id FROM sheet WHERE msg_id = 'E-1'), 2,
	ARRAY[tap.l('E2', 4, 10000, 'WAGE', '2026-09-01'), tap.l('E3', 2, 5000, 'BACKPAY', '2026-09-01')]),
	2, 'a second batch of two lines is stored');
SELECT is(tap.close((SELECT id FROM sheet WHERE msg_id = 'E-1'), '2026-09-01', 3, 25000),
	'NEW PAID', 'the close pays it');
SELECT is(tap.codes('E-1'), 'ok,AM05,ok', 'AM05: a worker-month paid by an earlier batch of the same sheet');
SELECT is((SELECT reason_text FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
	WHERE s.msg_id = 'E-1' AND l.seq = 2), 'the worker''s wage for this month appears earlier in this sheet',
	'AM05 across batches says it appears earlier in this sheet');
SELECT is(tap.paid('E-1') || ' ' || tap.balance(), '2 15000 39000',
	'its transfers are the accepted lines''; the balance debited once');
SELECT throws_ok($$SELECT tap.lines((SELECT id FROM sheet WHERE msg_id = 'E-1'), 4,
	ARRAY[tap.l('E4', 3, 1000, 'WAGE', '2026-08-01')])$$, '25000', NULL,
	'lines for a sheet already decided are refused');
SELECT throws_ok($$SELECT tap.close(o.s, '2026-08-01', 2, 2000)
	FROM (SELECT tap.open('E-2', 2000) AS s) o,
	LATERAL (SELECT tap.lines(o.s, 1, ARRAY[tap.l('E1', 3, 1000, 'WAGE', '2026-08-01')])) x$$,
	'22000', NULL, 'a close with fewer lines stored than declared raises: never paid in part');
SELECT throws_like($$SELECT tap.close(o.s, '2026-08-01', 1, 1000)
	FROM (SELECT tap.open('E-3', 1000) AS s) o,
	LATERAL (SELECT tap.lines(o.s, 1, ARRAY[tap.l('E1', 3, 90000, 'WAGE', '2026-08-01')])) x$$,
	'%was paid as its lines were stored%', 'a paid-as-stored sheet whose accepted total the balance does not cover raises');
SELECT is((SELECT count(*) FROM sheet WHERE msg_id IN ('E-2', 'E-3')), 0::bigint,
	'nothing of a sheet whose close raised is left');
SELECT * FROM tap.invariants('after sheets read and decided together');

-- --- returns and earmarks: the money kept for its worker and month -------------
SELECT is((SELECT outcome FROM wp_core_return('RET-1', tap.acc(), 10000, '2026-10-06', 'B1', 'AC04')),
	'APPLIED', 'a paid line comes back from the card''s bank');
SELECT is(tap.balance() || ' ' || tap.earmarked(), '49000 10000',
	'the money is back on the account, earmarked for the worker''s month');
SELECT is((SELECT state FROM sheet_line_state WHERE msg_id = 'B-1' AND end_to_end_id = 'B1'),
	'RETURNED', 'the line reads RETURNED');
SELECT is(tap.decide('F-1', ARRAY[tap.l('F1', 3, 40000, 'WAGE', '2026-08-01')]), 'NEW HELD',
	'AM04: a sheet is held when only the earmarked money would cover it');
SELECT is((SELECT pay_as_stored FROM sheet WHERE msg_id = 'F-1'), false,
	'not paid as stored while an earmark is kept');
SELECT is((SELECT shortfall FROM alert WHERE kind = 'BALANCE_SHORT' AND msg_id = 'F-1'), 1000::bigint,
	'its shortfall counts only the free balance (balance less earmarks)');
SELECT is(wp_sheet_earmark_use((SELECT id FROM sheet WHERE msg_id = 'F-1')), 0::bigint,
	'a WAGE line may take nothing from an earmark');
SELECT is(tap.decide('F-2', ARRAY[tap.l('F1', 1, 10000, 'BACKPAY', '2026-10-01')]), 'NEW PAID',
	'a BACKPAY line of the returned worker-month is paid ahead of the held sheet: it takes only its earmark');
SELECT is(tap.balance() || ' ' || tap.earmarked(), '39000 0', 'the earmark is released by the BACKPAY');
SELECT is((SELECT amount FROM earmark_release WHERE entry_ref = 'RET-1'), 10000::bigint,
	'the release is recorded against the return');
SELECT matches((SELECT detail FROM audit WHERE action = 'sheet.paid' AND object = 'sheet:F-2'),
	'10000 fen of it from earmarks', 'the payment''s audit record says what came from earmarks');
SELECT is(tap.state('F-1'), 'HELD', 'the held sheet still waits for free money');
SELECT is((SELECT outcome FROM wp_core_return('RET-2', tap.acc(), 10000, '2026-10-07', 'B9', NULL)),
	'APPLIED', 'another paid line comes back');
SELECT is(tap.decide('F-3', ARRAY[tap.l('F2', 2, 12000, 'BACKPAY', '2026-10-01')]), 'NEW HELD',
	'a BACKPAY above its earmark needs free balance for the rest, so it queues behind the held sheet');
SELECT is(wp_sheet_earmark_use((SELECT id FROM sheet WHERE msg_id = 'F-3')), 10000::bigint,
	'it may take its whole earmark and no more');
SELECT is(tap.deposit('DEP-5', 3000), 'APPLIED', 'the owner deposits 30.00');
SELECT is(tap.state('F-1') || ' ' || tap.state('F-3'), 'PAID PAID',
	'the deposit pays both held sheets, oldest first, the BACKPAY from its earmark');
SELECT is(tap.balance() || ' ' || tap.earmarked(), '0 0', 'every fen paid out, no earmark left');
SELECT * FROM tap.invariants('after returns, earmarks and BACKPAY');

-- --- months: judged by the daemon's clock (tap.now(): 2026-11-05, China) -------
SELECT is(tap.deposit('DEP-M1', 50000), 'APPLIED', 'the owner deposits 500.00');
SELECT is(tap.decide('M-1', ARRAY[
	tap.l('M1', 1, 1000, 'WAGE', '2026-12-01'),
	tap.l('M2', 2, 1000, 'WAGE', '2026-11-01'),
	tap.l('M3', 3, 1000, 'BACKPAY', '2026-11-01'),
	tap.l('M4', 4, 1000, 'BACKPAY', '2027-01-01'),
	tap.l('M5', 6, 1000, 'BACKPAY', '2026-08-01'),
	tap.l('M6', 7, 1000, 'WAGE', '2026-11-01'),
	tap.l('M7', 3, 1000, 'WAGE', '2026-11-01'),
	tap.l('M8', 1, 1000, 'BACKPAY', '2026-10-01')]), 'NEW PAID',
	'a sheet with lines of months refused pays the rest');
SELECT is(tap.codes('M-1'), 'WP07,ok,WP08,WP08,WP03,WP03,ok,ok',
	'WP07 a WAGE month after the current one; WAGE of the current month paid; WP08 BACKPAY of the current month and of a later one; WP03 BACKPAY of a month the worker was gone, WAGE of the current month for a worker entering after today; BACKPAY of an earlier month on site paid');
SELECT is(tap.reason('M-1', 'M1'), 'the wage month 2026-12 is after the current month 2026-11',
	'WP07 names the line''s month and the current one');
SELECT is(tap.reason('M-1', 'M3'), 'a BACKPAY month must be before the current month 2026-11, not 2026-11',
	'WP08 names the current month and the line''s');
SELECT is(tap.alerts('MISUSE_ATTEMPT', 'M-1'), 0::bigint, 'month refusals are not misuse');
SELECT is(tap.paid('M-1'), '3 3000', 'only the accepted lines are paid');
SELECT is((SELECT clock_at FROM sheet WHERE msg_id = 'M-1'), tap.now(),
	'the sheet keeps the daemon''s clock it was judged by');
SELECT is(tap.decide('M-2', ARRAY[tap.l('M1', 1, 1000, 'WAGE', '2026-12-01')],
	p_now => '2026-12-03 09:00+08'), 'NEW PAID',
	'the month refused as WP07 is paid once the clock is in it: a refused line took no worker-month');
SELECT is(tap.decide('M-3', ARRAY[tap.l('M1', 4, 1000, 'WAGE', '2026-11-01')],
	p_at => '2026-11-05 10:00:01+08'), 'NEW REJECTED',
	'a sheet whose only line was confirmed after the daemon''s clock is refused');
SELECT is(tap.codes('M-3'), 'WP09', 'WP09: the worker''s confirmation is dated in the future');
SELECT matches(tap.reason('M-3', 'M1'), '^the worker''s confirmation is dated 2026-11-05T10:00:01\+08:00, after',
	'WP09 says when the confirmation is dated');
SELECT is(tap.decide('M-4', ARRAY[tap.l('M1', 4, 1000, 'WAGE', '2026-11-01')],
	p_at => '2026-11-05 10:00+08'), 'NEW PAID',
	'the same worker-month confirmed at the clock''s instant is paid: WP09 took no worker-month');
SELECT ok(tap.open('M-5', 1000) IS NOT NULL, 'a sheet is opened to be read and decided together');
SELECT is(tap.lines((SELECT id FROM sheet WHERE msg_id = 'M-5'), 1,
	ARRAY[tap.l('M1', 4, 1000, 'WAGE', '2026-12-01')]), 1, 'its batch is stored');
SELECT is(tap.codes('M-5'), 'WP07', 'each batch is judged by the clock the opening kept: WP07');
SELECT is(tap.close((SELECT id FROM sheet WHERE msg_id = 'M-5'), '2026-12-01', 1, 1000),
	'NEW REJECTED', 'and the sheet is refused');
SELECT throws_ok($$SELECT wp_sheet_open(tap.gc(), 'M-6', tap.acc(), tap.sub1(), 1000, NULL)$$,
	'22004', NULL, 'a sheet is never opened without the daemon''s clock');
SELECT is(tap.balance(), 45000::bigint, 'the balance: 50,000 less the 5 lines paid');
SELECT * FROM tap.invariants('after the month rules');

-- --- a held sheet withdrawn by its general contractor ----------------------------
SELECT is(tap.decide('G-1', ARRAY[tap.l('G1', 1, 40000, 'WAGE', '2026-07-01'),
	tap.l('G2', 2, 10000, 'WAGE', '2026-07-01')]), 'NEW HELD', 'a sheet over the balance is held');
SELECT is(tap.decide('G-2', ARRAY[tap.l('G1', 4, 5000, 'WAGE', '2026-07-01')]), 'NEW HELD',
	'a sheet the balance covers waits behind it');
SELECT is(tap.cancel('G-1', tap.gc2()), 'NONE',
	'another contractor''s cancel finds no sheet of its own by that MsgId (HTTP 404, as GET)');
UPDATE project SET contractor_uscc = tap.owner() WHERE code = 'XM-TAP-0001';	-- as if the project changed hands
SELECT is(tap.cancel('G-1'), 'FORBIDDEN -',
	'a contractor no longer the project''s general contractor may not cancel (HTTP 403)');
UPDATE project SET contractor_uscc = tap.gc() WHERE code = 'XM-TAP-0001';
SELECT is(tap.state('G-1'), 'HELD', 'neither touched the sheet');
SELECT is(tap.cancel('G-1'), 'CANCELLED CANCELLED', 'the general contractor withdraws the held sheet (CANC)');
SELECT is(tap.paid('G-1'), '0 0', 'the cancelled sheet is never paid');
SELECT ok((SELECT cancelled_at IS NOT NULL FROM sheet WHERE msg_id = 'G-1'), 'when is kept');
SELECT is(tap.state('G-2'), 'PAID', 'the next held sheet moves up and is paid: the balance covers it');
SELECT is(tap.balance(), 40000::bigint, 'the balance: 45,000 less the released sheet only');
SELECT is(tap.audits('sheet.cancelled'), 1::bigint, 'the cancel is audited in the account''s chain');
SELECT is((SELECT actor FROM audit WHERE action = 'sheet.cancelled'), 'contractor:' || tap.gc(),
	'by the general contractor');
SELECT is(tap.cancel('G-1'), 'REPLAY CANCELLED', 'a cancel repeated is answered the same, changing nothing');
SELECT is(tap.audits('sheet.cancelled'), 1::bigint, 'and is not audited twice');
SELECT is(tap.cancel('G-2'), 'NOT_HELD PAID', 'a paid sheet cannot be cancelled (HTTP 409, its report)');
SELECT is(tap.cancel('C-2'), 'NOT_HELD REJECTED', 'nor a refused one');
SELECT is(tap.cancel('NO-SUCH'), 'NONE', 'an unknown MsgId has no report (HTTP 404)');
SELECT is(tap.decide('G-3', ARRAY[tap.l('G1', 3, 1000, 'WAGE', '2026-07-01')]), 'NEW PAID',
	'nothing is held any more: a new sheet is paid at once');
SELECT is(tap.decide('G-4', ARRAY[tap.l('G1', 1, 1000, 'WAGE', '2026-07-01')]), 'NEW REJECTED',
	'the worker-months of a cancelled sheet stay taken (its lines are kept as decided)');
SELECT is((SELECT state FROM wp_sheet_status(tap.gc(), 'G-1') WHERE kind = 'S'), 'CANCELLED',
	'GET /v1/sheets/{MsgId} reports the cancelled sheet');
SELECT is((SELECT (wp_console_metrics()->'sheets'->>'cancelled')), '1', '/metrics counts cancelled sheets');
SELECT * FROM tap.invariants('after a held sheet withdrawn');

SELECT * FROM finish();
ROLLBACK;
