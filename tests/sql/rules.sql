-- rules.sql: the day-based alert rules where they are decided
-- (schema/functions/rules.sql: wp_rules_run, wp_rule_wages_judge,
-- wp_rule_deposit_short, wp_rule_wages_overdue, wp_rule_accounts_opened,
-- wp_condition, and the trigger functions that keep the versions the
-- incremental judging reads), run as daemon/rules.c runs them, at pinned
-- clocks in China time.
--
-- DEPOSIT_SHORT (the owner's deposits booked before this month below the
-- plan through the month that ended last), WAGES_OVERDUE (workers on site
-- without a paid, not returned line for the last month whose pay day has
-- passed, masked IDs and held sheets in the Detail) and ACCOUNTS_OPENED
-- (one report per HRSS office and month): edge-triggered, raised once when
-- the condition becomes true, not while it stays true, again (a new
-- occurrence) when it comes back. A paid sheet, a return and a roster
-- change make the month judged again, nothing else does. Closed accounts
-- are not judged. The regulators are left out ('[]') of the runs that are
-- not about ACCOUNTS_OPENED, whose count depends on today.
BEGIN;
\ir fixtures.sql
SELECT plan(77);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT ok(tap.open_project('XM-TAP-0002', tap.acc2(), tap.gc()) IS NOT NULL, 'a second project is opened');
SELECT is(tap.close_account('XM-TAP-0002', '2026-02-20 10:00+08'), 'APPROVED APPROVED',
	'its empty account is closed (completed 2026-01-11, 30 days of notice): it is never judged');

CREATE FUNCTION tap.run(p_now timestamptz) RETURNS int LANGUAGE sql AS $$
	SELECT wp_rules_run(p_now, '[]')
$$;
CREATE FUNCTION tap.pid() RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM project WHERE code = 'XM-TAP-0001'
$$;
-- alerts of a kind for a month
CREATE FUNCTION tap.raised(p_kind text, p_month date) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM alert WHERE kind = p_kind AND month = p_month
$$;
-- a condition: "active occurrences"
CREATE FUNCTION tap.cond(p_kind text, p_month text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT active || ' ' || occurrences FROM alert_condition
	WHERE key = p_kind || ':' || tap.pid() || ':' || p_month
$$;
CREATE FUNCTION tap.judged(p_month date) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT unpaid FROM rule_wages_judged WHERE project_id = tap.pid() AND month = p_month
$$;

-- --- nothing due yet --------------------------------------------------------------
SELECT is(tap.run('2026-01-10 09:00+08'), 0, '2026-01-10: no month of the project has ended');
SELECT is((SELECT count(*) FROM alert_condition) + (SELECT count(*) FROM rule_wages_judged), 0::bigint,
	'no condition recorded, no month judged');

-- --- DEPOSIT_SHORT ------------------------------------------------------------------
-- plan: 100,000 fen a month from 2026-01
SELECT is(tap.deposit('DEP-1', 150000, tap.acc(), '2026-01-20'), 'APPLIED', 'the owner deposits 1,500.00 in January');
SELECT is(tap.run('2026-02-01 08:00+08'), 0, '2026-01''s plan (1,000.00) is covered');
SELECT is(tap.run('2026-02-28 23:59+08'), 0, 'the last minute of February (China time): 2026-02 is not judged yet');
SELECT is(tap.run('2026-02-28 16:30+00'), 1, '00:30 of March 1st in China (16:30 UTC): 2026-02 is short, raised');
SELECT is((SELECT kind || ' ' || month || ' ' || balance || ' ' || required || ' ' || shortfall || ' '
	|| raised_at::text || ' ' || dedup_key FROM alert WHERE kind = 'DEPOSIT_SHORT'),
	'DEPOSIT_SHORT 2026-02-01 150000 200000 50000 ' || timestamptz '2026-03-01 00:30+08' || ' DEPOSIT_SHORT:'
	|| tap.pid() || ':2026-02:1', 'DEPOSIT_SHORT: the month, balance, plan through it, shortfall, the run''s time, first occurrence');
SELECT is((SELECT detail FROM alert WHERE kind = 'DEPOSIT_SHORT'),
	'the owner''s labour-cost deposits booked through 2026-02: 1500.00 of 2000.00 planned (monthly plan 1000.00, month 2 of 12); due by 2026-02-28, short by 500.00',
	'its Detail in yuan');
SELECT is(tap.run('2026-03-01 00:30+08'), 0, 'the same run again raises nothing');
SELECT is(tap.run('2026-03-20 10:00+08'), 0, 'while it stays short it is not raised again');
SELECT is(tap.cond('DEPOSIT_SHORT', '2026-02'), 'true 1', 'the condition is true, one occurrence');
SELECT is(tap.deposit('DEP-2', 50000, tap.acc(), '2026-03-05'), 'APPLIED', 'a deposit booked in March');
SELECT is(tap.run('2026-03-21 10:00+08'), 0, 'counts for March, not for February''s plan: nothing changes');
SELECT is(tap.cond('DEPOSIT_SHORT', '2026-02'), 'true 1', 'February stays short');
SELECT is(tap.deposit('DEP-3', 50000, tap.acc(), '2026-02-27'), 'APPLIED', 'a deposit booked 2026-02-27, notified late');
SELECT is(tap.run('2026-03-22 10:00+08'), 0, 'February is covered now: the condition clears, raising nothing');
SELECT is(tap.cond('DEPOSIT_SHORT', '2026-02') || ' ' || tap.raised('DEPOSIT_SHORT', '2026-02-01'), 'false 1 1',
	'the condition is false, still one alert');
SELECT is(tap.run('2026-04-01 08:00+08'), 1, '2026-03: 2,500.00 deposited of 3,000.00 planned, raised');
SELECT is((SELECT shortfall || ' ' || dedup_key FROM alert WHERE kind = 'DEPOSIT_SHORT' AND month = '2026-03-01'),
	'50000 DEPOSIT_SHORT:' || tap.pid() || ':2026-03:1', 'a month of its own, its own key');
SELECT is(tap.deposit('DEP-4', 750000, tap.acc(), '2026-04-02'), 'APPLIED', 'the owner deposits the plan through 2026-10');
SELECT is(tap.run('2026-04-02 08:00+08'), 0, 'March stays in the past: judged only in its own month after');
SELECT is(tap.run('2027-02-01 08:00+08'), 1, '2027-02-01: one alert raised');
SELECT is(tap.raised('DEPOSIT_SHORT', '2027-01-01'), 0::bigint,
	'2027-01 is after the contract''s 12 months: no DEPOSIT_SHORT however little is deposited');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'DEPOSIT_SHORT'), 2::bigint, 'two DEPOSIT_SHORT in all');
SELECT is((SELECT count(*) FROM alert a JOIN project p ON p.id = a.project_id WHERE p.code = 'XM-TAP-0002'
	AND a.kind <> 'ACCOUNT_CLOSED'), 0::bigint,
	'nothing for the project whose account is closed (nothing deposited, nothing paid) but its ACCOUNT_CLOSED');
-- back to 2026: the run of 2027 raised WAGES_OVERDUE for 2026-12 (nobody paid);
-- what follows is about 2026-09 and 2026-10
SELECT is(tap.raised('WAGES_OVERDUE', '2026-12-01'), 1::bigint, '(2027-02-01: 2026-12''s wages overdue, raised)');

-- --- WAGES_OVERDUE ----------------------------------------------------------------------
-- on site in 2026-09 and 2026-10: workers 1..5 (6 left in May, 7 enters in November)
SELECT is(tap.run('2026-11-15 23:00+08'), 1, 'on 2026-11-15 (the pay day), the month judged is 2026-09');
SELECT is((SELECT detail FROM alert WHERE kind = 'WAGES_OVERDUE' AND month = '2026-09-01'),
	'5 of 5 workers on site in 2026-09 unpaid after the pay day 2026-10-15: '
	|| (SELECT string_agg(wp_mask(idn), ', ' ORDER BY idn) FROM tap.worker WHERE k <= 5),
	'WAGES_OVERDUE 2026-09: who, masked, after which pay day');
SELECT is((SELECT count(*) FROM alert a, tap.worker w WHERE a.detail LIKE '%' || w.idn || '%'), 0::bigint,
	'no alert names a full ID number');
SELECT is(tap.raised('WAGES_OVERDUE', '2026-10-01') || ' ' || tap.judged('2026-10-01') IS NULL, true,
	'2026-10 is neither raised nor judged before its pay day has passed');
SELECT is(tap.decide('P-10', ARRAY[tap.l('P1', 1, 10000), tap.l('P2', 2, 10000), tap.l('P3', 3, 10000),
	tap.l('P4', 4, 10000)]), 'NEW PAID', 'subcontractor one pays its four workers for 2026-10');
SELECT is(tap.decide('Q-10', ARRAY[tap.l('Q5', 5, 990000)], tap.sub2()), 'NEW HELD',
	'subcontractor two''s sheet for worker 5 is held for funds');
SELECT is(tap.run('2026-11-16 00:30+08'), 1, 'the day after the pay day (China time): 2026-10 is raised');
SELECT is((SELECT balance || ' ' || dedup_key || ' ' || detail FROM alert WHERE kind = 'WAGES_OVERDUE' AND month = '2026-10-01'),
	'960000 WAGES_OVERDUE:' || tap.pid() || ':2026-10:1 1 of 5 workers on site in 2026-10 unpaid after the pay day 2026-11-15; '
	|| '1 sheet(s) for the month held for funds: ' || wp_mask((tap.w(5)).idn),
	'WAGES_OVERDUE 2026-10: the one unpaid, masked, and the sheet held');
SELECT is(tap.judged('2026-10-01'), true, 'the judgement is remembered: somebody unpaid');
SELECT is(tap.run('2026-11-20 10:00+08'), 0, 'while they stay unpaid it does not fire again');
SELECT is(wp_rule_wages_judge('2026-11-20 10:00+08'), 0, 'nothing changed: no month is judged again');
SELECT is(tap.raised('WAGES_OVERDUE', '2026-09-01'), 1::bigint, '2026-09 stays raised once');

-- a sheet paid: judged again, cleared
SELECT is(tap.deposit('DEP-5', 100000, tap.acc(), '2026-11-18'), 'APPLIED', 'a deposit');
SELECT is(tap.state('Q-10'), 'PAID', 'pays the held sheet');
SELECT cmp_ok((SELECT version FROM rule_lines_version WHERE project_id = tap.pid() AND month = '2026-10-01'), '>',
	(SELECT lines_version FROM rule_wages_judged WHERE project_id = tap.pid() AND month = '2026-10-01'),
	'the sheet becoming PAID moved the version of 2026-10''s lines past the one judged');
SELECT is(wp_rule_wages_judge('2026-11-20 11:00+08'), 1, 'so 2026-10 is judged again');
SELECT is(tap.judged('2026-10-01'), false, 'everybody paid');
SELECT is(tap.run('2026-11-20 11:00+08'), 0, 'clearing raises nothing');
SELECT is(tap.cond('WAGES_OVERDUE', '2026-10') || ' ' || tap.raised('WAGES_OVERDUE', '2026-10-01'), 'false 1 1',
	'the condition is false, one alert');

-- a wage returned: unpaid again, raised again
SELECT is((SELECT outcome FROM wp_core_return('R-1', tap.acc(), 990000, '2026-11-19', 'Q5', 'AC04')), 'APPLIED',
	'worker 5''s wage comes back');
SELECT is(tap.run('2026-11-21 10:00+08'), 1, 'the return made 2026-10 judged again: raised a second time');
SELECT is((SELECT detail FROM alert WHERE dedup_key = 'WAGES_OVERDUE:' || tap.pid() || ':2026-10:2'),
	'1 of 5 workers on site in 2026-10 unpaid after the pay day 2026-11-15: ' || wp_mask((tap.w(5)).idn),
	'the second occurrence has its own key, no sheet held');
SELECT is(tap.decide('B-10', ARRAY[tap.l('B5', 5, 990000, 'BACKPAY', '2026-10-01')], tap.sub2()), 'NEW PAID',
	'the returned wage is paid again as BACKPAY for 2026-10');
SELECT is(tap.run('2026-11-22 10:00+08'), 0, 'cleared again');
SELECT is(tap.cond('WAGES_OVERDUE', '2026-10'), 'false 2', 'false after two occurrences');

-- the roster: the same upload again changes nothing, a changed entry is judged again
CREATE TEMP TABLE rv AS SELECT version FROM rule_roster_version WHERE project_id = tap.pid();
SELECT lives_ok($$SELECT * FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
	tap.roster_json(ARRAY(SELECT k FROM tap.worker WHERE rostered)))$$, 'the same roster is uploaded again');
SELECT is((SELECT version FROM rule_roster_version WHERE project_id = tap.pid()), (SELECT version FROM rv),
	'an unchanged roster does not move the roster version');
SELECT is(wp_rule_wages_judge('2026-11-22 11:00+08'), 0, 'and nothing is judged again');
UPDATE tap.worker SET signed = '2026-10-01', entered = '2026-10-10' WHERE k = 7;
SELECT is((SELECT count(*) FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(), tap.roster_json(ARRAY[7]))
	WHERE kind = 'W' AND outcome <> 'ACCEPTED'), 0::bigint, 'worker 7''s entry changes: on site from 2026-10-10');
SELECT cmp_ok((SELECT version FROM rule_roster_version WHERE project_id = tap.pid()), '>', (SELECT version FROM rv),
	'the change moves the roster version (after a judgement in the same transaction too)');
SELECT is(tap.run('2026-11-23 10:00+08'), 1, '2026-10 judged again: worker 7 was on site unpaid, raised');
SELECT is((SELECT detail FROM alert WHERE dedup_key = 'WAGES_OVERDUE:' || tap.pid() || ':2026-10:3'),
	'1 of 6 workers on site in 2026-10 unpaid after the pay day 2026-11-15: ' || wp_mask((tap.w(7)).idn),
	'the third occurrence names worker 7');
SELECT lives_ok('TRUNCATE roster_entry CASCADE', 'the roster is emptied');
SELECT is(tap.run('2026-11-24 10:00+08'), 0, 'the emptied roster made 2026-10 judged again: nobody on site');
SELECT is(tap.cond('WAGES_OVERDUE', '2026-10'), 'false 3', 'the condition cleared');
SELECT is((SELECT count(*) FROM rule_wages_judged WHERE month < '2026-09-01'), 0::bigint,
	'judgements of months no longer due are dropped');

-- --- ACCOUNTS_OPENED ---------------------------------------------------------------------
-- the demo account was opened now(): the report for this month (China time)
-- is raised on the first of the next
CREATE FUNCTION tap.first_of(p_months int) RETURNS timestamptz LANGUAGE sql STABLE AS $$
	SELECT (date_trunc('month', wp_cst(now())) + make_interval(months => p_months) + interval '30 minutes')
		AT TIME ZONE INTERVAL '+08:00'
$$;
SELECT is(wp_rule_accounts_opened(tap.first_of(0), tap.regs()), 2, 'a report for last month to each HRSS office');
SELECT is(wp_rule_accounts_opened(tap.first_of(1), tap.regs()), 2, 'on the first of next month: this month''s');
SELECT is(wp_rule_accounts_opened(tap.first_of(1) + interval '1 day', tap.regs()), 0,
	'one report per office and month, however often the rules run');
SELECT is((SELECT string_agg(recipient || ': ' || detail, ' | ' ORDER BY recipient) FROM alert
	WHERE kind = 'ACCOUNTS_OPENED' AND month = date_trunc('month', wp_cst(now()))::date),
	'kf-hrss: 0 dedicated wage accounts opened in ' || to_char(wp_cst(now()), 'YYYY-MM') || ' in region 4102* | '
	|| 'zz-hrss: 2 dedicated wage accounts opened in ' || to_char(wp_cst(now()), 'YYYY-MM') || ' in region 4101*',
	'this month''s: Zhengzhou''s two accounts (one since closed), none in Kaifeng; nothing to the housing authority');
SELECT is((SELECT string_agg(p.code, ' ' ORDER BY p.code) FROM alert a JOIN alert_opened o ON o.alert_id = a.id
	JOIN project p ON p.id = o.project_id WHERE a.kind = 'ACCOUNTS_OPENED' AND a.recipient = 'zz-hrss'),
	'XM-TAP-0001 XM-TAP-0002', 'Zhengzhou''s report lists both projects');
SELECT is((SELECT detail FROM alert WHERE kind = 'ACCOUNTS_OPENED' AND recipient = 'zz-hrss'
	AND month = (date_trunc('month', wp_cst(now())) - interval '1 month')::date),
	'0 dedicated wage accounts opened in ' || to_char(wp_cst(now()) - interval '1 month', 'YYYY-MM') || ' in region 4101*',
	'last month''s lists none');

SELECT * FROM tap.invariants('after the rules');
SELECT * FROM finish();
ROLLBACK;
