-- approvals.sql: four eyes and the manual money rules where they live
-- (schema/functions/approvals.sql: wp_console_propose, wp_console_decide,
-- wp_approval_propose, wp_approval_decide, wp_project_open,
-- wp_project_complete, wp_console_complete_refusal, wp_console_close_refusal,
-- wp_console_close, wp_console_move_payload, wp_console_move_refusal,
-- wp_console_move), called as daemon/consoleapi.c calls them, with the
-- daemon's clock passed in (never today's date).
--
-- Opening with four eyes (the maker may not approve; a second account for a
-- project refused); completion (four eyes, a date not in the future);
-- the closing refusals (not complete WP67, the public notice WP68, held
-- sheets, earmarked returns, months with workers unpaid WP69, already
-- closed); the manual movement refusals (to another dedicated account WP60,
-- a credit from clearing WP61, a debit naming no deposit WP62, another
-- account's deposit WP63, twice WP64, more than the deposit WP65, the wages
-- owed WP66, and the general ones); a deposit returned with MANUAL_DEBIT
-- naming maker and checker; the close paying the balance out with
-- MANUAL_DEBIT and ACCOUNT_CLOSED. The ledger invariants after each.
BEGIN;
\ir fixtures.sql
SELECT plan(99);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT lives_ok('SELECT tap.four_eyes()', 'maker1 and checker1');
CREATE TEMP TABLE op AS SELECT tap.op('maker1') AS maker, tap.op('checker1') AS checker;
CREATE FUNCTION pg_temp.propose(p_kind text, p_payload jsonb, p_now timestamptz) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(r.approval::text, r.refusal)
	FROM op, wp_console_propose(p_kind, p_payload, op.maker, p_now) r
$$;
CREATE FUNCTION pg_temp.decide(p_id text, p_who text, p_now timestamptz) RETURNS text
LANGUAGE sql AS $$
	SELECT d.state FROM op, wp_console_decide(p_id::bigint,
		CASE p_who WHEN 'maker' THEN op.maker ELSE op.checker END, 'approve', p_now) d
$$;
-- --- opening: four eyes ---------------------------------------------------------------
CREATE TEMP TABLE ap AS SELECT pg_temp.propose('OPEN_ACCOUNT',
	tap.project_payload('XM-TAP-0003', '6228480000000000003', tap.gc()), '2026-01-05 10:00+08') AS id;
SELECT ok((SELECT id ~ '^[0-9]+$' FROM ap), 'a maker proposes opening a project''s dedicated account');
SELECT is(pg_temp.decide((SELECT id FROM ap), 'maker', '2026-01-05 11:00+08'), 'SAME_OPERATOR',
	'four eyes: the maker may not approve their own proposal');
SELECT is((SELECT count(*) FROM project WHERE code = 'XM-TAP-0003'), 0::bigint, 'nothing is opened by the maker alone');
SELECT is(pg_temp.decide((SELECT id FROM ap), 'checker', '2026-01-05 11:00+08'), 'APPROVED',
	'a different checker approves');
SELECT is((SELECT a.kind || ' ' || a.state FROM project p JOIN account a ON a.id = p.account_id
	WHERE p.code = 'XM-TAP-0003'), 'DEDICATED OPEN', 'the project and its dedicated account are open');
SELECT is(tap.audits('account.opened', '6228480000000000003'), 1::bigint, 'the opening starts the account''s chain');
SELECT is(pg_temp.propose('OPEN_ACCOUNT', tap.project_payload('XM-TAP-0003', '6228480000000000009', tap.gc()),
	'2026-01-06 10:00+08'), 'that project or account number already exists: a project has exactly one dedicated account',
	'a second dedicated account for a project is refused');
SELECT is((SELECT outcome FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0003', tap.subs_json(), json_build_array(
	json_build_object('idn', (tap.w(1)).idn, 'name', (tap.w(1)).name, 'employer', tap.sub1(), 'card', (tap.w(1)).card,
	'bank', (tap.w(1)).bank, 'signed', '2026-02-20', 'entered', '2026-03-01', 'left', '2026-04-30')))
	WHERE kind = 'S'), 'OK', 'one worker on its roster, on site 2026-03-01 to 2026-04-30');

-- --- closing: only after completion and its public notice (WP67, WP68) ---------------
\set P3 '''6228480000000000003'''
SELECT is(tap.deposit('P3-DEP-1', 50000, :P3), 'APPLIED', 'the owner deposits 500.00');
SELECT is(tap.decide('P3-1', ARRAY[tap.l('M3', 1, 60000, 'WAGE', '2026-03-01')], p_account => :P3),
	'NEW HELD', 'a sheet of 600.00 is held');
SELECT matches(tap.close_refusal('XM-TAP-0003', '2027-01-20 10:00+08'), '^WP67: the project is not marked complete',
	'closing is refused before the project is marked complete');
SELECT matches(tap.propose('CLOSE_ACCOUNT', '{"code": "XM-TAP-0003"}', '2027-01-20 10:00+08'),
	'^the account cannot close: WP67', 'a maker''s proposal to close is refused with the reason');
SELECT is(tap.propose('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0003', '2027-01-06'), '2027-01-05 10:00+08'),
	'WP70: the completion date 2027-01-06 is in the future', 'a completion date in the future is refused');
SELECT is(tap.propose('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0003', '2025-12-31'), '2027-01-05 10:00+08'),
	'WP70: the completion date 2025-12-31 is before the project started (2026-01)', 'and one before the start');
CREATE TEMP TABLE cp AS SELECT tap.propose('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0003', '2026-12-31'),
	'2027-01-05 10:00+08') AS id;
SELECT ok((SELECT id ~ '^[0-9]+$' FROM cp), 'a maker proposes the completion on 2026-12-31');
SELECT is(tap.propose('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0003', '2026-12-30'), '2027-01-05 10:00+08'),
	'WP70: the completion of this project is already proposed and waits for a checker', 'one completion waits at a time');
SELECT is(tap.decide_as('maker1', (SELECT id FROM cp), '2027-01-05 11:00+08'), 'SAME_OPERATOR',
	'four eyes: the maker may not approve the completion');
SELECT is(tap.decide_as('checker1', (SELECT id FROM cp), '2027-01-05 11:00+08'), 'APPROVED', 'a checker approves it');
SELECT is((SELECT state || ' ' || completed_on || ' ' || notice_days FROM project WHERE code = 'XM-TAP-0003'),
	'COMPLETE 2026-12-31 30', 'the project is complete, with its date and notice period');
SELECT is(tap.audits('project.completed', :P3), 1::bigint, 'the completion is in the account''s chain');
SELECT matches(tap.propose('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0003', '2026-12-31'), '2027-01-06 10:00+08'),
	'^WP70: project XM-TAP-0003 is already complete', 'a project is completed once');
SELECT is(tap.close_refusal('XM-TAP-0003', '2027-01-29 23:00+08'),
	'WP68: the public notice of 30 days after completion on 2026-12-31 runs until 2027-01-29; the account may close from 2027-01-30',
	'closing is refused before the public notice has run');

-- --- closing: refused while wages are owed (WP69) -----------------------------------------
SELECT is(tap.close_refusal('XM-TAP-0003', '2027-01-30 10:00+08'), 'WP69: 1 wage sheet(s) are held for funds',
	'closing is refused while a sheet is held');
SELECT is(tap.deposit('P3-DEP-2', 20000, :P3), 'APPLIED', 'a deposit pays it');
SELECT is((SELECT outcome FROM wp_core_return('P3-RET-1', :P3, 60000, '2027-01-06', 'M3', 'AC04')),
	'APPLIED', 'the payment comes back');
SELECT is(tap.close_refusal('XM-TAP-0003', '2027-01-30 10:00+08'),
	'WP69: returned wages of 600.00 yuan are earmarked for their workers and not yet paid again',
	'closing is refused while returned wages are earmarked');
SELECT is(tap.decide('P3-2', ARRAY[tap.l('B3', 1, 60000, 'BACKPAY', '2026-03-01')], p_account => :P3),
	'NEW PAID', 'the worker''s March is paid again as BACKPAY from its earmark');
SELECT is(tap.close_refusal('XM-TAP-0003', '2027-01-30 10:00+08'),
	'WP69: 1 month(s) have workers unpaid (1 worker-months, the first 2026-04)',
	'closing is refused while a month has a worker unpaid (April; March counts as paid by its BACKPAY)');
SELECT is(tap.decide('P3-3', ARRAY[tap.l('A4', 1, 5000, 'WAGE', '2026-04-01')], p_account => :P3),
	'NEW PAID', 'April is paid');
SELECT is(tap.close_refusal('XM-TAP-0003', '2027-01-30 10:00+08'), NULL,
	'nothing owed, the notice run: the account may close, with 50.00 still on it (paid out at the close)');
SELECT * FROM tap.invariants('after the closing refusals');

-- --- manual movements: 专款专用, no back doors (WP60-WP62) --------------------------------
SELECT matches(tap.move_refusal(jsonb_build_object('from', :P3, 'to', tap.acc(), 'amount_fen', 100), '2027-01-30 10:00+08'),
	'^WP60: a dedicated account is never debited by hand in favour of another dedicated account',
	'a movement to another dedicated account is refused');
SELECT matches(tap.propose('MANUAL_MOVEMENT', jsonb_build_object('from', :P3, 'to', tap.acc(), 'amount_fen', 100,
	'amount', '1.00', 'reason', 'x'), '2027-01-30 10:00+08'), '^WP60', 'and not even proposed');
SELECT matches(tap.propose('MANUAL_MOVEMENT', jsonb_build_object('from', 'CLEARING-IN', 'to', tap.acc(),
	'amount_fen', 100000000, 'amount', '1000000.00', 'reason', 'x'), '2026-10-20 10:00+08'),
	'^WP61: a dedicated account is never credited by hand', 'a credit from the clearing account is refused');
SELECT matches(tap.move_refusal(jsonb_build_object('from', :P3, 'to', 'CLEARING-OUT', 'amount_fen', 100), '2027-01-30 10:00+08'),
	'^WP62: a manual debit of a dedicated account is only the return of a named deposit',
	'a debit out to the clearing account that names no deposit is refused');
SELECT matches(tap.move_refusal(jsonb_build_object('from', :P3, 'to', 'CLEARING-IN', 'amount_fen', 100,
	'deposit', 'P3-DEP-1'), '2027-01-30 10:00+08'), '^WP62', 'a return goes to the clearing account out only');
SELECT is((SELECT count(*) FROM approval WHERE kind = 'MANUAL_MOVEMENT'), 0::bigint, 'no movement was proposed');
SELECT is(tap.move_refusal(jsonb_build_object('from', :P3, 'to', :P3, 'amount_fen', 100), '2027-01-30 10:00+08'),
	'the two accounts are the same', 'a movement to the same account is refused');
SELECT is(tap.move_refusal(tap.return_payload('P3-DEP-1', 0), '2027-01-30 10:00+08'),
	'the amount must be positive', 'a return of no money is refused');
SELECT is(tap.move_refusal(jsonb_build_object('from', 'CLEARING-IN', 'to', 'CLEARING-OUT', 'amount_fen', 100), '2027-01-30 10:00+08'),
	'one side of a manual movement must be a dedicated account', 'a movement between clearing accounts is refused');
SELECT is(tap.move_refusal(jsonb_build_object('from', :P3, 'to', 'ATTACHED', 'amount_fen', 100), '2027-01-30 10:00+08'),
	'manual movements are between dedicated and clearing accounts only', 'a movement to the attached account is refused');
SELECT is(tap.move_refusal(jsonb_build_object('from', :P3, 'to', 'NO-SUCH', 'amount_fen', 100), '2027-01-30 10:00+08'),
	'no such account to move money to', 'a movement to an unknown account is refused');

-- --- a deposit returned to its payer: at most its amount, once, never the wages (WP63-WP66)
SELECT is(tap.deposit('D-1', 150000, tap.acc()), 'APPLIED', 'the owner deposits 1500.00 on the demo account');
SELECT is(tap.deposit('D-2', 10000, tap.acc()), 'APPLIED', 'and 100.00');
SELECT is(tap.deposit('D-0', 700000, tap.acc()), 'APPLIED',
	'and 7000.00, what the arrears take: seven months before October whose pay day passed with workers on site unpaid, at 1000.00 each');
SELECT is(tap.move_refusal(tap.return_payload('NO-SUCH'), '2026-10-20 10:00+08'),
	'WP63: no deposit NO-SUCH was booked at this bank', 'an unknown deposit is refused');
SELECT is(tap.move_refusal(tap.return_payload('P3-DEP-1') || jsonb_build_object('from', tap.acc()), '2026-10-20 10:00+08'),
	'WP63: no deposit P3-DEP-1 was booked on account ' || tap.acc(), 'another account''s deposit is refused');
SELECT is(tap.move_refusal(tap.return_payload('D-1', 150001), '2026-10-20 10:00+08'),
	'WP65: a return of deposit D-1 is at most its amount, 1500.00 yuan', 'more than the deposit is refused');
SELECT is(tap.move_refusal(tap.return_payload('D-1'), '2026-10-20 10:00+08'),
	'WP66: account ' || tap.acc() || ' can give at most 600.00 yuan (balance 8600.00; owed to its workers: held sheets 0.00, this month''s planned labour cost 1000.00, earmarked returns 0.00, arrears of months due 7000.00, frozen by legal orders 0.00)',
	'a return that would take the wages owed (October''s planned labour cost) is refused');
CREATE TEMP TABLE r1 AS SELECT tap.propose('MANUAL_MOVEMENT', tap.return_payload('D-1', 50000), '2026-10-20 10:00+08') AS id;
SELECT ok((SELECT id ~ '^[0-9]+$' FROM r1), 'a maker proposes returning 500.00 of deposit D-1');
SELECT is((SELECT payload->>'from' || ' ' || (payload->>'to') || ' ' || (payload->>'amount') || ' ' || (payload->>'payer_name')
	FROM approval WHERE id = (SELECT id::bigint FROM r1)), tap.acc() || ' CLEARING-OUT 500.00 Demo Owner',
	'the proposal shows the checker the account, the way out, the amount and the payer');
SELECT is(tap.propose('MANUAL_MOVEMENT', tap.return_payload('D-1', 100), '2026-10-20 10:00+08'),
	'WP64: the return of deposit D-1 is already proposed and waits for a checker (approval ' || (SELECT id FROM r1) || ')',
	'a second return of the same deposit waits for none');
SELECT is(tap.decide_as('maker1', (SELECT id FROM r1), '2026-10-20 11:00+08'), 'SAME_OPERATOR',
	'four eyes: the maker may not approve the return');
SELECT is(tap.balance(), 860000::bigint, 'nothing moves before a checker approves');
SELECT is(tap.decide_as('checker1', (SELECT id FROM r1), '2026-10-20 11:00+08'), 'APPROVED', 'a checker approves it');
SELECT is(tap.balance(), 810000::bigint, 'the account gave 500.00');
SELECT is((SELECT count(*) || ' ' || sum(t.amount) FROM transfer t JOIN account o ON o.id = t.credit_account
	WHERE t.reason = 'MANUAL' AND t.reference = 'approval:' || (SELECT id FROM r1) AND o.kind = 'CLEARING_OUT'),
	'1 50000', 'one MANUAL transfer to the clearing account out, referenced by the approval');
SELECT is((SELECT amount FROM deposit_return WHERE entry_ref = 'D-1'), 50000::bigint, 'the deposit is recorded as returned');
SELECT is(tap.alert_details('MANUAL_DEBIT', 'XM-TAP-0001'),
	'manual debit of 500.00 yuan by approval ' || (SELECT id FROM r1)
	|| ' (maker maker1, checker checker1): return of deposit D-1 to its payer Demo Owner (' || tap.owner() || ')',
	'MANUAL_DEBIT is raised to the regulators with the approval''s maker and checker');
SELECT is(tap.audits('money.manual'), 1::bigint, 'the return is in the account''s chain');
SELECT is(tap.move_refusal(tap.return_payload('D-1', 100), '2026-10-20 12:00+08'),
	'WP64: deposit D-1 was already returned (approval ' || (SELECT id FROM r1) || '): a deposit is returned once',
	'a deposit is returned once');
CREATE TEMP TABLE r2 AS SELECT tap.propose('MANUAL_MOVEMENT', tap.return_payload('D-2'), '2026-10-20 12:00+08') AS id;
SELECT is(tap.decide('H-1', ARRAY[tap.l('H1', 1, 900000)]), 'NEW HELD', 'meanwhile a sheet of 9000.00 is held');
SELECT is(tap.decide_as('checker1', (SELECT id FROM r2), '2026-10-20 13:00+08'), 'FAILED',
	'the return of D-2, no longer covered when approved, fails');
SELECT matches((SELECT outcome FROM approval WHERE id = (SELECT id::bigint FROM r2)), '^WP66: .*held sheets 9000.00',
	'its outcome says why');
SELECT is(tap.balance() || ' ' || (SELECT count(*) FROM deposit_return), '810000 1', 'and nothing moved');
SELECT * FROM tap.invariants('after the deposit returns');

-- --- the close pays the balance out to the account holder ------------------------------------
CREATE TEMP TABLE cl AS SELECT tap.propose('CLOSE_ACCOUNT', '{"code": "XM-TAP-0003"}', '2027-01-30 10:00+08') AS id;
SELECT ok((SELECT id ~ '^[0-9]+$' FROM cl), 'closing, with nothing owed and the notice run, is proposed');
SELECT is(tap.propose('CLOSE_ACCOUNT', '{"code": "XM-TAP-0003"}', '2027-01-30 10:00+08'),
	'closing this account is already proposed and waits for a checker', 'a second proposal to close is refused');
SELECT is(tap.decide_as('checker1', (SELECT id FROM cl), '2027-01-30 11:00+08'), 'APPROVED', 'a checker approves the close');
SELECT is((SELECT a.state || ' ' || p.state || ' ' || a.balance FROM project p JOIN account a ON a.id = p.account_id
	WHERE p.code = 'XM-TAP-0003'), 'CLOSED CLOSED 0', 'the account and the project are closed, the account empty');
SELECT is((SELECT count(*) || ' ' || sum(t.amount) FROM transfer t
	WHERE t.reason = 'MANUAL' AND t.reference = 'approval:' || (SELECT id FROM cl)), '1 5000',
	'the 50.00 left is paid out by one MANUAL transfer referenced by the approval');
SELECT is(tap.alert_details('MANUAL_DEBIT', 'XM-TAP-0003'),
	'manual debit of 50.00 yuan by approval ' || (SELECT id FROM cl)
	|| ' (maker maker1, checker checker1): payout of the balance to the account holder '
	|| (SELECT name FROM company WHERE uscc = tap.gc()) || ' (' || tap.gc() || ') at closing',
	'the payout raises MANUAL_DEBIT with maker and checker');
SELECT matches(tap.alert_details('ACCOUNT_CLOSED', 'XM-TAP-0003'),
	'^dedicated account 6228480000000000003 closed by approval [0-9]+ \(maker maker1, checker checker1\): project complete on 2026-12-31',
	'the closing raises ACCOUNT_CLOSED');
SELECT is(tap.audits('money.manual', :P3) || ' ' || tap.audits('account.closed', :P3), '1 1',
	'the payout and the closing are in the account''s chain');
SELECT is(tap.close_refusal('XM-TAP-0003', '2027-01-31 10:00+08'), 'the dedicated account is already closed',
	'a closed account cannot close again');
SELECT is(tap.move_refusal(tap.return_payload('P3-DEP-2', 100), '2027-01-31 10:00+08'),
	'a closed account neither pays nor receives', 'nothing is returned from a closed account');
SELECT * FROM tap.invariants('after the close');

-- --- a completed project's months: none after its completion ----------------------------------
SELECT is(tap.four_eyed('COMPLETE_PROJECT', tap.complete_payload('XM-TAP-0001', '2026-03-20'), '2026-10-20 14:00+08'),
	'APPROVED', 'the demo project is marked complete on 2026-03-20');
SELECT is((SELECT string_agg(to_char(u.month, 'YYYY-MM'), ',') FROM wp_console_unpaid_months(
	(SELECT id FROM project WHERE code = 'XM-TAP-0001'), '2026-10-20 14:00+08') u), '2026-03',
	'months unpaid end with its completion: March only, not every month to the clock''s');

-- --- the platform feed (029): the account's life and its manual debits -------------------------
SELECT is((SELECT string_agg(e.data->>'accountStatus', ',' ORDER BY e.id) FROM platform_event e
	JOIN project p ON p.id = e.project_id WHERE p.code = 'XM-TAP-0003' AND e.kind = 'account'),
	'OPENED,COMPLETED,CLOSED', 'the feed has the account opened, completed and closed');
SELECT is((SELECT string_agg((e.data->>'flowType') || ' ' || (e.data->>'billType') || ' '
	|| (e.data->>'billAmount') || ' ' || (e.data->>'accountBalance'), ',' ORDER BY e.id)
	FROM platform_event e JOIN project p ON p.id = e.project_id
	WHERE p.code = 'XM-TAP-0003' AND e.kind = 'flow' AND e.data->>'flowType' = 'MANUAL'),
	'MANUAL 2 50.00 0.00', 'the payout at closing is an expense flow, nothing left after it');
SELECT is((SELECT (e.data->>'billAmount') || ' ' || (e.data->>'batchNumber') || ' ' || (e.data->>'counterpartyCode')
	FROM platform_event e JOIN project p ON p.id = e.project_id
	WHERE p.code = 'XM-TAP-0001' AND e.kind = 'flow' AND e.data->>'flowType' = 'MANUAL'),
	'500.00 approval:' || (SELECT id FROM r1) || ' ' || tap.owner(),
	'a deposit returned to its payer is an expense flow naming the approval and the payer');

SELECT * FROM finish();
ROLLBACK;
