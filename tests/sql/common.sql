-- common.sql: the small shared pieces (schema/functions/common.sql: wp_yuan,
-- wp_cst, wp_iso_cst, wp_mask, and the trigger functions wp_refuse_change
-- and wp_refuse_rekey that keep the ledger as written).
--
-- Fen as yuan (signs, cents, the largest bigint); China time of an instant
-- whatever the session's TimeZone (days and months turning over at Beijing
-- midnight, the ISO form with +08:00); the alert Detail's mask; every ledger
-- table refusing UPDATE, DELETE and TRUNCATE (restrict_violation, 23001) with
-- its rows still there, and account and sheet rows refusing DELETE,
-- renumbering and TRUNCATE while their balance and state may change.
BEGIN;
\ir fixtures.sql
SELECT plan(57);
SET LOCAL client_min_messages = warning;

-- --- wp_yuan ----------------------------------------------------------------------
SELECT is(wp_yuan(450000), '4500.00', 'wp_yuan: 450000 fen are 4500.00');
SELECT is(wp_yuan(0), '0.00', 'wp_yuan: nothing is 0.00');
SELECT is(wp_yuan(5), '0.05', 'wp_yuan: 5 fen are 0.05');
SELECT is(wp_yuan(1234567), '12345.67', 'wp_yuan: fen and jiao kept');
SELECT is(wp_yuan(-150), '-1.50', 'wp_yuan: a negative amount keeps its sign');
SELECT is(wp_yuan(-7), '-0.07', 'wp_yuan: a negative amount under a yuan keeps its sign');
SELECT is(wp_yuan(9223372036854775807), '92233720368547758.07', 'wp_yuan: the largest bigint');

-- --- China time, whatever the session's TimeZone ----------------------------------------
SET LOCAL TimeZone = 'America/New_York';
SELECT is(wp_cst('2026-10-31 16:00:00+00'), timestamp '2026-11-01 00:00:00',
	'wp_cst (session in New York): 16:00 UTC is midnight of the next day in China');
SELECT is(wp_cst('2026-10-31 15:59:59+00'), timestamp '2026-10-31 23:59:59',
	'wp_cst (session in New York): a second earlier is still the day before');
SELECT is(wp_iso_cst('2026-10-31 16:00:00+00'), '2026-11-01T00:00:00+08:00',
	'wp_iso_cst (session in New York): the China dateTime with +08:00');
SELECT is(wp_iso_cst('2026-03-08 12:34:56.789-05'), '2026-03-09T01:34:56+08:00',
	'wp_iso_cst: whole seconds, the day in China');
SET LOCAL TimeZone = 'Pacific/Kiritimati';
SELECT is(wp_cst('2026-10-31 23:30+08'), timestamp '2026-10-31 23:30:00',
	'wp_cst (session at +14): the wall clock in China');
SELECT is(wp_iso_cst('2026-10-31 23:30+08'), '2026-10-31T23:30:00+08:00',
	'wp_iso_cst (session at +14): the same instant, the same text');
SET LOCAL TimeZone = 'UTC';
SELECT is(wp_iso_cst('2026-10-31 23:30+08'), '2026-10-31T23:30:00+08:00',
	'wp_iso_cst (session in UTC): the same text');
SELECT is(wp_cst('2027-01-01 00:00+08')::date, date '2027-01-01',
	'wp_cst (session in UTC): new year in China while it is still 2026 in UTC');
SET LOCAL TimeZone = 'Asia/Shanghai';
SELECT is(wp_cst(now()), now()::timestamp, 'wp_cst is the wall clock of a session set to Asia/Shanghai');
RESET TimeZone;

-- --- wp_mask --------------------------------------------------------------------
SELECT is(wp_mask('410183200211050008'), '4101**********0008', 'wp_mask: an ID number keeps its first and last 4');
SELECT is(wp_mask('41018320030128190X'), '4101**********190X', 'wp_mask: the check character X is kept');
SELECT is(wp_mask('123456789'), '1234*6789', 'wp_mask: 9 characters: one masked');
SELECT is(wp_mask('12345678'), '********', 'wp_mask: 8 characters are masked whole');
SELECT is(wp_mask('123'), '***', 'wp_mask: short ones are masked whole');

-- --- the ledger kept as written -----------------------------------------------------
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'a deposit');
SELECT is(tap.decide('P-1', ARRAY[tap.l('P1', 1, 10000), tap.l('P2', 2, 20000)]), 'NEW PAID', 'a sheet is paid');
SELECT is((SELECT outcome FROM wp_core_return('R-1', tap.acc(), 10000, '2026-10-07', 'P1', 'AC04')),
	'APPLIED', 'a wage comes back');
SELECT is((SELECT outcome || ' ' || code FROM wp_core_debit('DR-1', tap.acc(), 5000,
	'6222020000000000001', 'Gang Boss', 'materials', 'counter')), 'REFUSED AG01', 'a debit request is refused');
SELECT is((SELECT outcome || ' ' || coalesce(code, '-') FROM wp_core_legal_order('LO-1', 'Court of Xinzheng', '(2026)豫0183执1号',
	'FREEZE', tap.acc(), 1000, 'WAGES', '', '2026-10-20 10:00+08')), 'APPLIED -',
	'a legal order is decided (a wages freeze, applied) and recorded');

CREATE TEMP TABLE kept AS SELECT 'transfer' AS t, count(*) AS n FROM transfer
	UNION ALL SELECT 'sheet_line', count(*) FROM sheet_line
	UNION ALL SELECT 'deposit', count(*) FROM deposit
	UNION ALL SELECT 'line_return', count(*) FROM line_return
	UNION ALL SELECT 'debit_request', count(*) FROM debit_request
	UNION ALL SELECT 'legal_order', count(*) FROM legal_order;
SELECT is((SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM kept),
	'debit_request=1 deposit=1 legal_order=1 line_return=1 sheet_line=2 transfer=4',
	'the ledger holds rows of every kind');

SELECT throws_ok('UPDATE transfer SET amount = amount + 1', '23001', 'transfer rows are never updated or deleted',
	'transfers are never updated');
SELECT throws_ok('DELETE FROM transfer', '23001', NULL, 'transfers are never deleted');
SELECT throws_ok('TRUNCATE transfer', '23001', NULL, 'transfers are never truncated');
SELECT throws_ok($$UPDATE sheet_line SET name = 'x'$$, '23001', NULL, 'sheet lines are never updated');
SELECT throws_ok('DELETE FROM sheet_line', '23001', NULL, 'sheet lines are never deleted');
SELECT throws_ok('UPDATE deposit SET amount = 1', '23001', NULL, 'deposits are never updated');
SELECT throws_ok('DELETE FROM deposit', '23001', NULL, 'deposits are never deleted');
SELECT throws_ok('TRUNCATE deposit CASCADE', '23001', NULL, 'deposits are never truncated');
SELECT throws_ok('UPDATE line_return SET amount = 1', '23001', NULL, 'returns are never updated');
SELECT throws_ok('DELETE FROM line_return', '23001', NULL, 'returns are never deleted');
SELECT throws_ok('DELETE FROM earmark_release', '23001', NULL, 'earmark releases are never deleted');
SELECT throws_ok($$UPDATE debit_request SET code = NULL$$, '23001', NULL, 'debit requests are never updated');
SELECT throws_ok('DELETE FROM legal_order', '23001', NULL, 'legal orders are never deleted');
SELECT throws_ok('TRUNCATE audit', '23001', NULL, 'the audit trail is never truncated');
SELECT is((SELECT count(*) FROM kept k WHERE k.n <> CASE k.t
		WHEN 'transfer' THEN (SELECT count(*) FROM transfer) WHEN 'sheet_line' THEN (SELECT count(*) FROM sheet_line)
		WHEN 'deposit' THEN (SELECT count(*) FROM deposit) WHEN 'line_return' THEN (SELECT count(*) FROM line_return)
		WHEN 'debit_request' THEN (SELECT count(*) FROM debit_request)
		WHEN 'legal_order' THEN (SELECT count(*) FROM legal_order) END), 0::bigint,
	'every ledger row is still there');

-- accounts and sheets: their balance and state change, their rows stay
SELECT throws_ok(format('DELETE FROM account WHERE id = %s', tap.account_id()), '23001',
	'account rows are never deleted or renumbered', 'an account row is never deleted');
SELECT throws_ok(format('UPDATE account SET id = id + 1000 WHERE id = %s', tap.account_id()), '23001', NULL,
	'an account row is never renumbered');
SELECT throws_ok('TRUNCATE account CASCADE', '23001', 'account rows are never updated or deleted', 'accounts are never truncated');
SELECT throws_ok($$DELETE FROM sheet WHERE msg_id = 'P-1'$$, '23001', NULL, 'a sheet row is never deleted');
SELECT throws_ok($$UPDATE sheet SET id = id + 1000 WHERE msg_id = 'P-1'$$, '23001', NULL, 'a sheet row is never renumbered');
SELECT throws_ok('TRUNCATE sheet CASCADE', '23001', 'sheet rows are never updated or deleted', 'sheets are never truncated');
SELECT lives_ok(format('UPDATE account SET balance = balance WHERE id = %s', tap.account_id()),
	'an account''s other columns (its balance) may be updated');
SELECT is(tap.balance() || ' ' || tap.state('P-1'), '80000 PAID', 'the account and the sheet are as they were');
SELECT * FROM tap.invariants('after the refused changes');
SELECT * FROM finish();
ROLLBACK;
