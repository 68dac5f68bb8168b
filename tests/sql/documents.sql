-- documents.sql: what the daemon renders as documents
-- (schema/functions/documents.sql: wp_sheet_report, wp_sheet_status,
-- wp_voucher, wp_statement), read as daemon/report.c, sheetapi.c,
-- voucherapi.c and statementapi.c read them.
--
-- The pain.002 rows (the summary with accepted count, total and NbOfTxs,
-- then the refused lines in order, with their reason codes); a replay by
-- MsgId for the contractor who sent it only (not another, not one with a
-- trailing blank); the voucher: a summary, and once PAID the accepted lines
-- not returned, for the contractor only; the statement: FORBIDDEN for anyone
-- but the account's contractor and for an account that is not a dedicated
-- one, TOO_MANY past p_max, else opening and closing balances and the
-- entries between the China dates, in transfer order, with what is behind
-- each (sheet and line, deposit, return and its reason, legal order), the
-- same whatever the session's TimeZone. Transfers are made at now(): the
-- periods are derived from today in China.
BEGIN;
\ir fixtures.sql
SELECT plan(48);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is(tap.deposit('DEP-1', 300000), 'APPLIED', 'the owner deposits 3,000.00');
SELECT is(tap.decide('S-1', ARRAY[tap.l('S1', 1, 10000), tap.l('S2', 2, 20000), tap.l('S3', 8, 5000)]), 'NEW PAID',
	'a sheet of three lines is paid');
SELECT is(tap.codes('S-1'), 'ok,ok,WP01', 'the line of a worker not on the roster is refused (WP01)');
SELECT is(tap.decide('J-1', ARRAY[tap.l('J1', 8, 5000)]), 'NEW REJECTED', 'a sheet of that line alone is rejected');

-- --- the pain.002 rows ---------------------------------------------------------------
SELECT is((SELECT string_agg(concat_ws(' ', r.kind, coalesce(r.outcome, '-'), coalesce(r.state, '-'), r.end_to_end_id,
	coalesce(r.code, '-'), CASE WHEN r.kind = 'S' THEN r.message END), ' | ')
	FROM wp_sheet_report((SELECT id FROM sheet WHERE msg_id = 'S-1'), 'NEW') r),
	'S NEW PAID S-1 - 2 30000 3 | L - - S3 WP01', 'wp_sheet_report: the summary (2 accepted, 30,000 fen, of 3), then the refused line');
SELECT is((SELECT message FROM wp_sheet_report((SELECT id FROM sheet WHERE msg_id = 'S-1'), 'NEW') WHERE kind = 'L'),
	(SELECT reason_text FROM sheet_line WHERE end_to_end_id = 'S3'), 'the refused line carries its reason''s text');
SELECT ok((SELECT length(message) > 0 FROM wp_sheet_report((SELECT id FROM sheet WHERE msg_id = 'S-1'), 'NEW') WHERE kind = 'L'),
	'which is not empty');
SELECT is((SELECT string_agg(concat_ws(' ', r.kind, r.outcome, r.state, r.end_to_end_id, r.code, r.message), ' | ')
	FROM wp_sheet_status(tap.gc(), 'J-1') r), 'S REPLAY REJECTED J-1 0 0 1 | L J1 WP01 '
	|| (SELECT reason_text FROM sheet_line WHERE end_to_end_id = 'J1'),
	'wp_sheet_status: a replay of the rejected sheet''s pain.002');
SELECT is((SELECT count(*) FROM wp_sheet_status(tap.gc(), 'S-1')), 2::bigint, 'the paid sheet''s: its summary and one refused line');
SELECT is((SELECT count(*) FROM wp_sheet_status(tap.gc2(), 'S-1')), 0::bigint, 'another contractor gets nothing (404)');
SELECT is((SELECT count(*) FROM wp_sheet_status(tap.gc() || ' ', 'S-1')), 0::bigint,
	'nor does the contractor''s code with a trailing blank');
SELECT is((SELECT count(*) FROM wp_sheet_status(tap.gc(), 'NO-SUCH')), 0::bigint, 'an unknown MsgId gets nothing');

-- --- the voucher ---------------------------------------------------------------------
CREATE FUNCTION tap.voucher(p_contractor text, p_msg text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(concat_ws(' ', v.kind, v.f1, v.f2, v.f3, v.f4, v.f5, v.amount), ' | ')
	FROM wp_voucher(p_contractor, p_msg) v
$$;
SELECT is(tap.voucher(tap.gc(), 'S-1'),
	'S PAID XM-TAP-0001 ' || tap.sub1() || ' 2026-10 ' || (SELECT wp_iso_cst(paid_at) FROM sheet WHERE msg_id = 'S-1')
	|| ' 30000 | L S1 ' || (tap.w(1)).name || ' ' || (tap.w(1)).idn || ' ' || (tap.w(1)).card || ' 10000'
	|| ' | L S2 ' || (tap.w(2)).name || ' ' || (tap.w(2)).idn || ' ' || (tap.w(2)).card || ' 20000',
	'wp_voucher: the summary (paid at, +08:00), then the paid lines in order, not the refused one');
SELECT is(tap.voucher(tap.gc2(), 'S-1'), NULL, 'another contractor gets no voucher');
SELECT is(tap.voucher(tap.gc(), 'J-1'), 'S REJECTED XM-TAP-0001 ' || tap.sub1() || ' 2026-10 0',
	'a rejected sheet: the summary alone (the daemon answers 404)');
SELECT is((SELECT outcome FROM wp_core_return('R-1', tap.acc(), 10000, '2026-10-07', 'S1', 'AC04')), 'APPLIED',
	'the wage of line S1 comes back');
SELECT is((SELECT string_agg(f1 || ' ' || amount, ' ') FROM wp_voucher(tap.gc(), 'S-1') WHERE kind = 'L'), 'S2 20000',
	'the voucher lists what stayed paid only');
SELECT is((SELECT string_agg(concat_ws(' ', kind, outcome, end_to_end_id, code, split_part(message, ' ', 1)), ' | ')
	FROM wp_sheet_status(tap.gc(), 'S-1') WHERE kind IN ('T', 'G')),
	'T RJCT S1 AC04 RETURNED', 'wp_sheet_status: the returned line, RJCT with the return''s reason, RETURNED (026)');
SELECT is(tap.voucher_marks('S-1'), 'R S1 RETURNED 10000 | L S2 20000',
	'wp_voucher: the returned line marked RETURNED (R), the other as it was');
SELECT is((SELECT string_agg(kind, ',') FROM wp_sheet_report((SELECT id FROM sheet WHERE msg_id = 'S-1'), 'REPLAY')),
	'S,L', 'wp_sheet_report (what POST answers) has no settlement rows');
SELECT is((SELECT outcome || ' ' || coalesce(code, '-') FROM wp_core_legal_order('LO-1', 'Court of Xinzheng',
	'(2026)豫0183执1号', 'SEIZE', tap.acc(), 50000, 'WAGES', '', '2026-10-20 10:00+08')), 'APPLIED -',
	'a wages seizure within the excess over the wages owed');
SELECT is(tap.balance(), 230000::bigint, 'balance: 300,000 - 30,000 + 10,000 - 50,000');
SELECT is(tap.decide('H-1', ARRAY[tap.l('H1', 3, 900000)]), 'NEW HELD', 'a sheet the balance cannot pay is held');
SELECT is(tap.voucher(tap.gc(), 'H-1'), 'S HELD XM-TAP-0001 ' || tap.sub1() || ' 2026-10 900000',
	'a held sheet: the summary alone, no paid time, no lines');

-- --- the statement ---------------------------------------------------------------------
CREATE FUNCTION tap.today() RETURNS date LANGUAGE sql STABLE AS $$ SELECT wp_cst(now())::date $$;
CREATE FUNCTION tap.wage_tx(p_e2e text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT 'T' || t.id FROM transfer t JOIN sheet_line l ON l.sheet_id = t.sheet_id AND l.seq = t.line_seq
	WHERE t.reason = 'WAGE' AND l.end_to_end_id = p_e2e
$$;
-- a statement's summary: "OUTCOME opening closing count"
CREATE FUNCTION tap.stmt(p_contractor text, p_account text, p_from date, p_to date, p_max int DEFAULT 1000)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT concat_ws(' ', s.outcome, s.opening, s.closing, s.amount)
	FROM wp_statement(p_contractor, p_account, p_from, p_to, p_max) s WHERE s.kind = 'S'
$$;
CREATE FUNCTION tap.entries(p_from date, p_to date) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(concat_ws(' ', e.ref, e.amount, CASE WHEN e.credit THEN 'CR' ELSE 'DR' END, e.reason,
		coalesce(e.msg_id, '-'), coalesce(e.e2e, '-'), coalesce(e.ustrd, '-'), coalesce(e.party, '-'),
		coalesce(e.rtr, '-')), ' | ' ORDER BY e.tx_id)
	FROM wp_statement(tap.gc(), tap.acc(), p_from, p_to, 1000) e WHERE e.kind = 'E'
$$;
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today(), tap.today()), 'OK 0 ' || tap.balance() || ' 5',
	'today (China): opening 0, closing the balance, five entries');
SELECT is(tap.entries(tap.today(), tap.today()),
	'DEP-1 300000 CR DEPOSIT - - LABOUR COST Demo Owner - | '
	|| tap.wage_tx('S1') || ' 10000 DR WAGE S-1 S1 WAGE/2026-10 ' || (tap.w(1)).name || ' - | '
	|| tap.wage_tx('S2') || ' 20000 DR WAGE S-1 S2 WAGE/2026-10 ' || (tap.w(2)).name || ' - | '
	|| 'R-1 10000 CR RETURN S-1 S1 RETURN WAGE/2026-10 ' || (tap.w(1)).name || ' AC04 | '
	|| 'LO-1 50000 DR ATTACHMENT - - SEIZE (2026)豫0183执1号 Court of Xinzheng -',
	'the entries in transfer order: the deposit, the wages, the return and its reason, the seizure');
SELECT is((SELECT count(*) FROM wp_statement(tap.gc(), tap.acc(), tap.today(), tap.today(), 1000)
	WHERE kind = 'E' AND booked <> tap.today()), 0::bigint, 'each booked on today''s China date');
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today() - 1, tap.today() + 1), 'OK 0 ' || tap.balance() || ' 5',
	'yesterday to tomorrow: the same');
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today() - 7, tap.today() - 1), 'OK 0 0 0',
	'the week before: nothing, opening and closing 0');
SELECT is(tap.entries(tap.today() - 7, tap.today() - 1), NULL, 'and no entries');
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today() + 1, tap.today() + 2), 'OK ' || tap.balance() || ' ' || tap.balance() || ' 0',
	'tomorrow on: opening and closing the balance (read from the movements since)');
SELECT is(tap.entries(tap.today() + 1, tap.today() + 2), NULL, 'and no entries');
SET LOCAL TimeZone = 'America/Los_Angeles';
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today(), tap.today()), 'OK 0 ' || tap.balance() || ' 5',
	'a session in Los Angeles gets the same statement for the same China date');
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today() + 1, tap.today() + 1), 'OK ' || tap.balance() || ' ' || tap.balance() || ' 0',
	'and the same for the day after');
RESET TimeZone;
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today(), tap.today(), 4), 'TOO_MANY 0 ' || tap.balance() || ' 5',
	'TOO_MANY past p_max entries, with the count');
SELECT is((SELECT count(*) FROM wp_statement(tap.gc(), tap.acc(), tap.today(), tap.today(), 4) WHERE kind = 'E'),
	0::bigint, 'and no entries');
SELECT is(tap.stmt(tap.gc(), tap.acc(), tap.today(), tap.today(), 5), 'OK 0 ' || tap.balance() || ' 5',
	'exactly p_max entries are listed');
SELECT is(tap.stmt(tap.gc2(), tap.acc(), tap.today(), tap.today()), 'FORBIDDEN', 'another contractor: FORBIDDEN');
SELECT is((SELECT count(*) FROM wp_statement(tap.gc2(), tap.acc(), tap.today(), tap.today(), 1000)), 1::bigint,
	'with no entries');
SELECT is(tap.stmt(tap.gc(), '6228489999999999999', tap.today(), tap.today()), 'FORBIDDEN', 'an unknown account: FORBIDDEN');
SELECT is(tap.stmt(tap.gc(), (SELECT number FROM account WHERE kind = 'ATTACHED'), tap.today(), tap.today()), 'FORBIDDEN',
	'the bank''s own ATTACHED account: FORBIDDEN');

SELECT * FROM tap.invariants('after the documents');
SELECT * FROM finish();
ROLLBACK;
