-- plan.sql: the labour-cost plan and the wages owed where they are computed
-- (schema/functions/plan.sql: wp_plan_month, wp_plan_through, wp_wages_owed).
--
-- Monthly labour cost = total / contract months, the remainder in the last
-- month, nothing outside the contract (003 二(一)); the plan through a
-- month; what an account owes its workers (held sheets, the month's plan in
-- China time of the given clock, earmarked returns), which bounds legal
-- orders and manual movements. Every time is given, never today's.
BEGIN;
\ir fixtures.sql
SELECT plan(24);
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2026-01-01'), 100000::bigint, 'a month of the plan is total / months');
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2026-12-01'), 100005::bigint, 'the last month takes the remainder');
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2025-12-01'), 0::bigint, 'nothing is planned before the start');
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2027-01-01'), 0::bigint, 'nothing is planned after the contract');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2026-03-01'), 300000::bigint, 'the plan through a month sums its months');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2026-12-01'), 1200005::bigint, 'through the last month: the whole total');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2027-06-01'), 1200005::bigint, 'after the contract: still the whole total');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2025-12-01'), 0::bigint, 'before the start: nothing');

SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is((SELECT held || ' ' || planned || ' ' || earmarked || ' ' || owed
	FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), '0 100000 0 100000',
	'an account with nothing held owes its workers the month''s plan');
SELECT is((SELECT planned FROM wp_wages_owed(tap.account_id(), '2025-12-31 15:59:59+00')), 0::bigint,
	'23:59:59 on 2025-12-31 in China is before the plan''s first month');
SELECT is((SELECT planned FROM wp_wages_owed(tap.account_id(), '2025-12-31 16:00:00+00')), 100000::bigint,
	'midnight of 2026-01-01 in China is its first month (China time, whatever the clock''s zone)');
SELECT is((SELECT planned FROM wp_wages_owed(tap.account_id(), '2027-01-20 10:00+08')), 0::bigint,
	'after the contract months nothing is planned');
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner deposits 1,000.00');
SELECT is(tap.decide('S-1', ARRAY[tap.l('S1', 1, 10000)]), 'NEW PAID', 'a sheet is paid');
SELECT is((SELECT outcome FROM wp_core_return('RET-1', tap.acc(), 10000, '2026-10-07', 'S1', '')), 'APPLIED',
	'its line comes back');
SELECT is(tap.decide('S-2', ARRAY[tap.l('S1', 2, 200000), tap.l('S2', 3, 5000)]), 'NEW HELD',
	'a sheet of 2,050.00 is held');
SELECT is((SELECT held || ' ' || planned || ' ' || earmarked || ' ' || owed
	FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), '205000 100000 10000 315000',
	'owed: the held sheet, the month''s plan and the earmarked return');
SELECT * FROM tap.invariants('after a hold and a return');
SELECT * FROM finish();
ROLLBACK;
