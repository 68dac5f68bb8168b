-- console.sql: what the operations console reads, and the sign-in throttle
-- (schema/functions/console.sql), called as daemon/consoleapi.c and
-- session.c call them (5 failures in 15 minutes lock a name for 15).
--
-- Masking: a sheet's lines show ID and card numbers masked (first and last
-- 4; shorter than 12 masked whole) with each line's status (paid, returned,
-- refused, held), and no console read (overview, projects, a project, the
-- sheets and their CSV, alerts, approvals, the audit trail, metrics) carries a worker's
-- full ID or card number anywhere. The throttle: the p_fails-th failure
-- within the window locks the name once, a failure after the window starts
-- a new count, expired rows of other names are dropped, locked ones kept,
-- and known operators' failures and locks are audited, strangers' never.
-- The throttle reads now(): time passing is simulated by moving the row's
-- window back.
BEGIN;
\ir fixtures.sql
SELECT plan(59);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner deposits 1,000.00');
SELECT is(tap.decide('P-1', ARRAY[tap.l('P1', 1, 10000), tap.l('P2', 2, 20000),
	tap.lx('P3', (tap.w(3)).idn, (tap.w(3)).name, (tap.w(4)).card, (tap.w(4)).bank, 5000)]), 'NEW PAID',
	'a sheet is paid, its line to another worker''s card refused');
SELECT is(tap.codes('P-1'), 'ok,ok,AC01', 'AC01 for the card not the worker''s');
SELECT is((SELECT outcome FROM wp_core_return('R-1', tap.acc(), 20000, '2026-10-07', 'P2', 'AC04')), 'APPLIED',
	'line P2 comes back');
SELECT is(tap.decide('H-1', ARRAY[tap.l('H1', 5, 500000)], tap.sub2()), 'NEW HELD', 'a sheet is held');
SELECT lives_ok($$SELECT wp_rules_run('2026-11-16 09:00+08', tap.regs())$$, 'the rules run the day after the pay day');
SELECT is((SELECT string_agg(left(detail, 40), ' ') FROM alert WHERE kind = 'WAGES_OVERDUE' AND month = '2026-10-01'),
	'4 of 5 workers on site in 2026-10 unpaid', 'WAGES_OVERDUE for 2026-10 is raised: workers 2 to 5 unpaid');

-- --- masking -----------------------------------------------------------------------
CREATE FUNCTION tap.sheet_id(p_msg text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM sheet WHERE msg_id = p_msg
$$;
CREATE FUNCTION tap.lines(p_msg text, p_offset int DEFAULT 0) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(concat_ws(' ', l->>'end_to_end_id', l->>'id_number', l->>'card', l->>'status',
		coalesce(l->>'reason_code', l->>'return_reason', '-')), ' | ')
	FROM json_array_elements(wp_console_sheet(tap.sheet_id(p_msg), p_offset)->'line_list') l
$$;
SELECT is(tap.lines('P-1'),
	'P1 4101**********0008 6228***********8280 paid - | P2 4101**********8389 6222***********7946 returned AC04 | '
	|| 'P3 4101**********6766 6222***********7260 refused AC01',
	'wp_console_sheet: IDs and cards masked, first and last 4 kept; each line paid, returned (why) or refused (why)');
SELECT is(tap.lines('H-1'), 'H1 4101**********9197 6217***********8118 held -', 'a held sheet''s line is held');
SELECT is(tap.lines('P-1', 2), 'P3 4101**********6766 6222***********7260 refused AC01', 'from p_offset on');
SELECT is((SELECT (j->>'state') || ' ' || (j->>'total') || ' ' || (j->>'account') FROM wp_console_sheet(tap.sheet_id('P-1'), 0) j),
	'paid 300.00 ' || tap.acc(), 'the sheet in yuan, with its account');
SELECT is(wp_console_sheet(-1, 0)::text, NULL, 'no such sheet: NULL');
SELECT is(wp_console_mask('123456789012'), '1234****9012', 'wp_console_mask: 12 characters keep 4 and 4');
SELECT is(wp_console_mask('12345678901'), '***********', 'wp_console_mask: shorter ones are masked whole');
SELECT is(wp_console_mask(NULL), NULL, 'wp_console_mask: nothing stays nothing');
-- each line's settlement outcome and the voucher's figures (issue 24)
SELECT is((SELECT string_agg(concat_ws(' ', l->>'end_to_end_id', coalesce(l->>'outcome', '-'),
	coalesce(l->>'outcome_reason', '-')), ' | ')
	FROM json_array_elements(wp_console_sheet(tap.sheet_id('P-1'), 0)->'line_list') l),
	'P1 PAID - | P2 RETURNED AC04 | P3 - -', 'wp_console_sheet: a paid line''s outcome, a returned one''s with its reason, none for a refused one');
SELECT is((SELECT (wp_console_sheet(tap.sheet_id('P-1'), 0)::jsonb->'voucher')::text),
	'{"back": 1, "count": 1, "total": "100.00", "issuable": true}', 'the voucher counts the lines that stayed paid');
SELECT is((SELECT (wp_console_sheet(tap.sheet_id('H-1'), 0)->'voucher'->>'issuable')), 'false', 'a held sheet has no voucher');
-- the CSV of a sheet's lines: formula injection guarded, quoted, masked
SELECT is(wp_csv_cell('=1+2'), '"''=1+2"', 'wp_csv_cell: = gets an apostrophe');
SELECT is(wp_csv_cell('+1') || wp_csv_cell('-1') || wp_csv_cell('@A1') || wp_csv_cell(E'\tx'),
	'"''+1""''-1""''@A1""''' || E'\tx"', 'wp_csv_cell: so do + - @ and a tab');
SELECT is(wp_csv_cell('a"b,c') || wp_csv_cell(NULL) || wp_csv_cell('张三'), '"a""b,c""""张三"',
	'wp_csv_cell: quotes doubled, NULL empty, text as it is');
SELECT is((SELECT sheets || ' ' || split_part(csv, E'\r\n', 2) FROM wp_console_sheet_csv('P-1', NULL)),
	'1 "P1","' || (tap.w(1)).name || '","4101**********0008","6228***********8280","100.00","已支付 paid","已付款待到账 PAID"',
	'wp_console_sheet_csv: a row per line, masked, in yuan, status and outcome');
SELECT is((SELECT array_length(string_to_array(csv, E'\r\n'), 1) FROM wp_console_sheet_csv('P-1', NULL)), 5,
	'the header, three lines, and the last CRLF');
SELECT is((SELECT sheets::text || coalesce(csv, '-') FROM wp_console_sheet_csv('NO-SUCH', NULL)), '0-',
	'wp_console_sheet_csv: an unknown MsgId matches nothing');
-- no console read carries a full ID or card number
CREATE TEMP TABLE reads AS
	SELECT 'overview' AS what, wp_console_overview('2026-11-16 09:00+08')::text AS doc
	UNION ALL SELECT 'projects', wp_console_projects('', '2026-11-16 09:00+08')::text
	UNION ALL SELECT 'project', wp_console_project('XM-TAP-0001', '2026-11-16 09:00+08')::text
	UNION ALL SELECT 'sheet ' || s.msg_id, wp_console_sheet(s.id, 0)::text FROM sheet s
	UNION ALL SELECT 'alerts', wp_console_alerts(true)::text
	UNION ALL SELECT 'approvals', wp_console_approvals(true)::text
	UNION ALL SELECT 'audit', wp_console_audit(NULL)::text
	UNION ALL SELECT 'metrics', wp_console_metrics()::text
	UNION ALL SELECT 'csv ' || s.msg_id, (SELECT csv FROM wp_console_sheet_csv(s.msg_id, s.contractor_uscc::text))
	FROM sheet s;
SELECT is((SELECT count(*) FROM reads WHERE doc LIKE '%' || wp_mask((tap.w(5)).idn) || '%'), 3::bigint,
	'worker 5''s ID appears masked (the held sheet, its CSV, the WAGES_OVERDUE alert)');
SELECT is((SELECT string_agg(r.what || ':' || w.k, ' ') FROM reads r, tap.worker w
	WHERE position(w.idn IN r.doc) > 0 OR position(w.card IN r.doc) > 0), NULL,
	'no console read carries a full ID or card number');

-- --- the project search: a substring of code or name in any case, its % and _
-- --- the characters themselves (LIKE's wildcards escaped), and a backslash too
CREATE FUNCTION tap.search(p_q text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(string_agg(p->>'code', ' '), '-')
	FROM json_array_elements(wp_console_projects(p_q, '2026-11-16 09:00+08')) p
$$;
SELECT is(tap.search('tap-0001'), 'XM-TAP-0001', 'wp_console_projects: a substring of the code, in any case');
SELECT is(tap.search('%'), '-', '% is a percent sign, not any string');
SELECT is(tap.search('_'), '-', '_ is an underscore, not any character');
SELECT is(tap.search('XM_TAP'), '-', '_ does not stand for the - of XM-TAP');
SELECT is(tap.search('\'), '-', 'a backslash is itself');
SELECT is(tap.search(''), 'XM-TAP-0001', 'an empty search lists every project');

-- --- the sign-in throttle -------------------------------------------------------------
SELECT ok(tap.operator('alice', 'maker') IS NOT NULL, 'an operator alice');
CREATE FUNCTION tap.fail(p_name text, p_known boolean DEFAULT true) RETURNS boolean LANGUAGE sql AS $$
	SELECT wp_signin_failed(p_name, 5, 900, p_known)
$$;
CREATE FUNCTION tap.throttle(p_name text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT fails || ' ' || coalesce((extract(epoch FROM locked_until - now())::int)::text, 'unlocked')
	FROM signin_throttle WHERE name = p_name
$$;
CREATE FUNCTION tap.signin_audits(p_name text, p_action text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM audit WHERE chain = 'global' AND action = p_action AND object = 'operator:' || p_name
$$;
SELECT is(ARRAY[tap.fail('alice'), tap.fail('alice'), tap.fail('alice'), tap.fail('alice')], ARRAY[false, false, false, false],
	'four failures do not lock');
SELECT is(tap.throttle('alice'), '4 unlocked', 'four counted');
SELECT is(tap.fail('alice'), true, 'the fifth within the window locks the name');
SELECT is(tap.throttle('alice'), '5 900', 'locked for the window''s length');
SELECT is(tap.fail('alice'), false, 'a failure while locked does not lock again');
SELECT is(tap.throttle('alice'), '6 900', 'it is counted, the lock not extended');
SELECT is(tap.signin_audits('alice', 'session.refused') || ' ' || tap.signin_audits('alice', 'session.locked'), '5 1',
	'an operator''s failures and the lock are in the global audit chain');
SELECT is(ARRAY[tap.fail('mallory', false), tap.fail('mallory', false), tap.fail('mallory', false),
	tap.fail('mallory', false), tap.fail('mallory', false)], ARRAY[false, false, false, false, true],
	'a made-up name is throttled the same');
SELECT is((SELECT count(*) FROM audit WHERE object = 'operator:mallory'), 0::bigint, 'but never audited');
-- time passes: the window (and the lock) end
UPDATE signin_throttle SET first_at = now() - interval '901 seconds', locked_until = now() - interval '1 second'
WHERE name = 'alice';
SELECT is(tap.fail('alice'), false, 'after the window a failure does not lock');
SELECT is(tap.throttle('alice'), '1 -1', 'it starts a new count');
UPDATE signin_throttle SET fails = 4, first_at = now() - interval '899 seconds' WHERE name = 'alice';
SELECT is(tap.fail('alice'), true, 'the fifth failure 899 s after the window''s first locks');
SELECT is(tap.throttle('alice'), '5 900', 'again for the window''s length');
UPDATE signin_throttle SET fails = 4, first_at = now() - interval '901 seconds', locked_until = NULL WHERE name = 'alice';
SELECT is(tap.fail('alice'), false, 'a fifth failure 901 s after the window''s first does not');
SELECT is(tap.throttle('alice'), '1 unlocked', 'it is the first of a new window');
-- expired rows of other names are dropped, locked ones kept
UPDATE signin_throttle SET first_at = now() - interval '901 seconds' WHERE name = 'mallory';
SELECT is(tap.fail('eve', false), false, 'another name fails once');
SELECT is((SELECT string_agg(name, ' ' ORDER BY name) FROM signin_throttle), 'alice eve mallory',
	'a name whose window is over but whose lock is not is kept');
UPDATE signin_throttle SET locked_until = now() - interval '1 second' WHERE name = 'mallory';
UPDATE signin_throttle SET first_at = now() - interval '901 seconds' WHERE name = 'alice';
SELECT is(tap.fail('eve', false), false, 'eve fails again');
SELECT is((SELECT string_agg(name, ' ' ORDER BY name) FROM signin_throttle), 'eve',
	'names whose window and lock are both over are dropped');
SELECT is(tap.throttle('eve'), '2 unlocked', 'eve''s own count goes on');

-- --- retry now -----------------------------------------------------------------------
SELECT lives_ok($$SELECT wp_alert_route(tap.regs(), false, 1000)$$, 'the alerts are routed');
SELECT is((SELECT string_agg(d.recipient || ':' || d.state, ' ' ORDER BY d.recipient) FROM alert_delivery d
	JOIN alert a ON a.id = d.alert_id WHERE a.kind = 'WAGES_OVERDUE'), 'zz-housing:PENDING zz-hrss:PENDING',
	'WAGES_OVERDUE to both regulators of the region');
SELECT is((wp_console_alert_retry((SELECT id FROM alert WHERE kind = 'WAGES_OVERDUE'),
	(SELECT id FROM operator WHERE name = 'alice'))->>'retried')::int, 2,
	'an operator''s retry makes the alert''s two pending deliveries due');
SELECT is(wp_console_alert_retry(gen_random_uuid(), (SELECT id FROM operator WHERE name = 'alice'))::text, NULL,
	'no such alert: NULL');
SELECT is((SELECT count(*) FROM audit WHERE chain = 'global' AND action = 'alert.retry' AND actor = 'operator:alice'),
	1::bigint, 'the retry is audited once');
SELECT * FROM finish();
ROLLBACK;
