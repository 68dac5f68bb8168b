-- approvals.sql: four eyes and the manual money rules where they live
-- (schema/functions/approvals.sql: wp_console_propose, wp_console_decide,
-- wp_approval_propose, wp_approval_decide, wp_project_open,
-- wp_console_close_refusal, wp_console_close, wp_console_move_refusal,
-- wp_console_move), called as daemon/consoleapi.c calls them, with the
-- daemon's clock passed in (never today's date).
--
-- Opening with four eyes (the maker may not approve; a second account for a
-- project refused); the closing refusals (held sheets, earmarked returns,
-- months with workers unpaid, money left, already closed); the manual
-- movement refusals (what the account owes its workers, the same account,
-- no positive amount, no dedicated side, other kinds of account, a closed
-- account); an approved movement returning money to the owner, one
-- releasing held sheets, an approved close. The ledger invariants after each.
BEGIN;
\ir fixtures.sql
SELECT plan(62);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
CREATE TEMP TABLE op AS SELECT tap.operator('maker1', 'maker') AS maker, tap.operator('checker1', 'checker') AS checker;
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
CREATE FUNCTION pg_temp.refusal(p_from text, p_to text, p_fen bigint, p_now timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT wp_console_move_refusal((SELECT a FROM account a WHERE number = p_from),
		(SELECT a FROM account a WHERE number = p_to), p_fen, p_now)
$$;
CREATE FUNCTION pg_temp.close_refusal(p_now timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT wp_console_close_refusal((SELECT id FROM project WHERE code = 'XM-TAP-0003'), p_now)
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

-- --- closing: refused while anything is owed -------------------------------------------
SELECT is(tap.deposit('P3-DEP-1', 50000, '6228480000000000003'), 'APPLIED', 'the owner deposits 500.00');
SELECT is(tap.decide('P3-1', ARRAY[tap.l('M3', 1, 60000, 'WAGE', '2026-03-01')], p_account => '6228480000000000003'),
	'NEW HELD', 'a sheet of 600.00 is held');
SELECT is(pg_temp.close_refusal('2027-01-20 10:00+08'), '1 wage sheet(s) are held for funds',
	'closing is refused while a sheet is held');
SELECT is(tap.deposit('P3-DEP-2', 20000, '6228480000000000003'), 'APPLIED', 'a deposit pays it');
SELECT is((SELECT outcome FROM wp_core_return('P3-RET-1', '6228480000000000003', 60000, '2027-01-06', 'M3', 'AC04')),
	'APPLIED', 'the payment comes back');
SELECT is(pg_temp.close_refusal('2027-01-20 10:00+08'),
	'returned wages of 600.00 yuan are earmarked for their workers and not yet paid again',
	'closing is refused while returned wages are earmarked');
SELECT is(tap.decide('P3-2', ARRAY[tap.l('B3', 1, 60000, 'BACKPAY', '2026-03-01')], p_account => '6228480000000000003'),
	'NEW PAID', 'the worker''s March is paid again as BACKPAY from its earmark');
SELECT is(pg_temp.close_refusal('2027-01-20 10:00+08'),
	'1 month(s) have workers unpaid (1 worker-months, the first 2026-04)',
	'closing is refused while a month has a worker unpaid (April; March counts as paid by its BACKPAY)');
SELECT is(tap.decide('P3-3', ARRAY[tap.l('A4', 1, 5000, 'WAGE', '2026-04-01')], p_account => '6228480000000000003'),
	'NEW PAID', 'April is paid');
SELECT is(pg_temp.close_refusal('2027-01-20 10:00+08'),
	'the account still holds 50.00 yuan: return it to the owner by a manual movement first',
	'closing is refused while money is left on the account');
SELECT matches(pg_temp.propose('CLOSE_ACCOUNT', '{"code": "XM-TAP-0003"}', '2027-01-20 10:00+08'),
	'^the account cannot close: the account still holds', 'a maker''s proposal to close is refused with the reason');
SELECT * FROM tap.invariants('after the closing refusals');

-- --- manual movements: never what the account owes its workers ---------------------------
SELECT is(pg_temp.refusal('6228480000000000003', 'CLEARING-IN', 5001, '2027-01-20 10:00+08'),
	'account 6228480000000000003 can give at most 50.00 yuan (balance 50.00; owed to its workers: held sheets 0.00, this month''s planned labour cost 0.00, earmarked returns 0.00)',
	'a movement of more than the balance is refused');
SELECT matches(pg_temp.refusal('6228480000000000003', 'CLEARING-IN', 1, '2026-12-20 10:00+08'),
	'can give at most 0.00 yuan .*this month''s planned labour cost 1000.00',
	'in a contract month, the month''s planned labour cost stays on the account (owed to its workers)');
SELECT is(pg_temp.refusal('6228480000000000003', '6228480000000000003', 100, '2027-01-20 10:00+08'),
	'the two accounts are the same', 'a movement to the same account is refused');
SELECT is(pg_temp.refusal('6228480000000000003', 'CLEARING-IN', 0, '2027-01-20 10:00+08'),
	'the amount must be positive', 'a movement of no money is refused');
SELECT is(pg_temp.refusal('CLEARING-IN', 'CLEARING-OUT', 100, '2027-01-20 10:00+08'),
	'one side of a manual movement must be a dedicated account', 'a movement between clearing accounts is refused');
SELECT is(pg_temp.refusal('6228480000000000003', 'ATTACHED', 100, '2027-01-20 10:00+08'),
	'manual movements are between dedicated and clearing accounts only', 'a movement to the attached account is refused');
SELECT is(pg_temp.refusal('6228480000000000003', 'NO-SUCH', 100, '2027-01-20 10:00+08'),
	'no such account to move money to', 'a movement to an unknown account is refused');
SELECT ok(tap.open_project('XM-TAP-0002', tap.acc2(), tap.gc()) IS NOT NULL, 'another project is opened');
SELECT lives_ok($$SELECT set_config('wagepay.console_now', '2026-10-20 10:00+08', true);
	SELECT wp_console_close('{"code": "XM-TAP-0002"}', 'operator:tap')$$, 'and its empty account closed');
SELECT is(pg_temp.refusal('CLEARING-IN', tap.acc2(), 100, '2027-01-20 10:00+08'),
	'a closed account neither pays nor receives', 'a movement to a closed account is refused');

CREATE TEMP TABLE mv AS SELECT pg_temp.propose('MANUAL_MOVEMENT', jsonb_build_object('from', '6228480000000000003',
	'to', 'CLEARING-IN', 'amount_fen', 5000, 'amount', '50.00', 'reason', 'what is left, back to the owner'),
	'2027-01-20 10:00+08') AS id;
SELECT ok((SELECT id ~ '^[0-9]+$' FROM mv), 'a maker proposes returning what is left to the owner');
SELECT is(pg_temp.decide((SELECT id FROM mv), 'checker', '2027-01-20 11:00+08'), 'APPROVED', 'a checker approves it');
SELECT is(tap.balance('6228480000000000003'), 0::bigint, 'the account is empty');
SELECT is((SELECT count(*) FROM transfer WHERE reason = 'MANUAL' AND reference = 'approval:' || (SELECT id FROM mv)),
	1::bigint, 'one MANUAL transfer referenced by the approval');
SELECT is(tap.audits('money.manual', '6228480000000000003'), 1::bigint, 'the movement is audited in the account''s chain');
SELECT * FROM tap.invariants('after a manual movement');

-- --- a movement into an account pays its held sheets; the close -----------------------------
SELECT is(tap.decide('H-1', ARRAY[tap.l('H1', 1, 1000)]), 'NEW HELD', 'a sheet on the empty demo account is held');
CREATE TEMP TABLE mv2 AS SELECT pg_temp.propose('MANUAL_MOVEMENT', jsonb_build_object('from', 'CLEARING-IN',
	'to', tap.acc(), 'amount_fen', 1000, 'amount', '10.00', 'reason', 'a correction'), '2026-10-20 10:00+08') AS id;
SELECT is(pg_temp.decide((SELECT id FROM mv2), 'checker', '2026-10-20 11:00+08'), 'APPROVED',
	'a checker approves moving money into the demo account');
SELECT is(tap.state('H-1') || ' ' || tap.balance(), 'PAID 0', 'money moved into a dedicated account pays its held sheets');
CREATE TEMP TABLE cl AS SELECT pg_temp.propose('CLOSE_ACCOUNT', '{"code": "XM-TAP-0003"}', '2027-01-20 10:00+08') AS id;
SELECT ok((SELECT id ~ '^[0-9]+$' FROM cl), 'closing an empty account with nothing owed is proposed');
SELECT is(pg_temp.propose('CLOSE_ACCOUNT', '{"code": "XM-TAP-0003"}', '2027-01-20 10:00+08'),
	'closing this account is already proposed and waits for a checker', 'a second proposal to close is refused');
SELECT is(pg_temp.decide((SELECT id FROM cl), 'checker', '2027-01-20 11:00+08'), 'APPROVED', 'a checker approves the close');
SELECT is((SELECT a.state || ' ' || p.state FROM project p JOIN account a ON a.id = p.account_id
	WHERE p.code = 'XM-TAP-0003'), 'CLOSED CLOSED', 'the account and the project are closed');
SELECT is(tap.audits('account.closed', '6228480000000000003'), 1::bigint, 'the account''s chain ends with its closing');
SELECT is(pg_temp.close_refusal('2027-01-21 10:00+08'), 'the dedicated account is already closed',
	'a closed account cannot close again');
SELECT * FROM tap.invariants('after the close');

SELECT * FROM finish();
ROLLBACK;
