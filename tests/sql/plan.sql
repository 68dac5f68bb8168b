-- plan.sql: the labour-cost plan and the wages owed where they are computed
-- (schema/functions/plan.sql: wp_plan_month, wp_plan_through, wp_wages_owed).
--
-- Monthly labour cost = total / contract months, the remainder in the last
-- month, nothing outside the contract (003 二(一)); the plan through a
-- month; what an account owes its workers (held sheets, the month's plan in
-- China time of the given clock, earmarked returns, the arrears of every
-- month whose pay day has passed with a worker on site and no line for it,
-- what legal orders keep frozen), which bounds manual movements. Every time
-- is given, never today's. The world's workers are on site from 2026-03 and
-- nobody is paid for 2026-03..09: at 2026-10-20 (pay day 15 passed) that is
-- seven months of arrears at the plan's 100,000.
BEGIN;
\ir fixtures.sql
SELECT plan(51);
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2026-01-01'), 100000::bigint, 'a month of the plan is total / months');
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2026-12-01'), 100005::bigint, 'the last month takes the remainder');
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2025-12-01'), 0::bigint, 'nothing is planned before the start');
SELECT is(wp_plan_month(1200005, 12, '2026-01-01', '2027-01-01'), 0::bigint, 'nothing is planned after the contract');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2026-03-01'), 300000::bigint, 'the plan through a month sums its months');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2026-12-01'), 1200005::bigint, 'through the last month: the whole total');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2027-06-01'), 1200005::bigint, 'after the contract: still the whole total');
SELECT is(wp_plan_through(1200005, 12, '2026-01-01', '2025-12-01'), 0::bigint, 'before the start: nothing');

SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is(tap.owed(), '0 100000 0 700000 0 800000',
	'an account with nothing held owes its workers the month''s plan and the months unpaid');
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
SELECT is(tap.owed(), '205000 100000 10000 700000 0 1015000',
	'owed: the held sheet, the month''s plan, the earmarked return and the arrears');
SELECT * FROM tap.invariants('after a hold and a return');

-- --- arrears: months due with a worker on site and no line for them ----------------
SELECT is((SELECT arrears FROM wp_wages_owed(tap.account_id(), '2026-10-15 23:59:59+08')), 600000::bigint,
	'on the pay day itself September is not due yet: 2026-03..08');
SELECT is((SELECT arrears FROM wp_wages_owed(tap.account_id(), '2026-10-16 00:00:00+08')), 700000::bigint,
	'the day after it September is in arrears too (China time)');
SELECT is((SELECT arrears FROM wp_wages_owed(tap.account_id(), '2026-10-15 16:00:00+00')), 700000::bigint,
	'16:00 UTC on the 15th is already the 16th in China');
SELECT is((SELECT arrears FROM wp_wages_owed(tap.account_id(), '2026-03-31 10:00+08')), 0::bigint,
	'before any month with workers on site is due there are no arrears');
SELECT is(tap.deposit('DEP-2', 1000000), 'APPLIED', 'the owner deposits 10,000.00; the held sheet is paid');
SELECT is(tap.decide('A-1', ARRAY[tap.l('A1', 1, 10000, 'WAGE', '2026-09-01'), tap.l('A2', 2, 10000, 'WAGE', '2026-09-01'),
	tap.l('A3', 3, 10000, 'WAGE', '2026-09-01'), tap.l('A4', 4, 10000, 'WAGE', '2026-09-01')]), 'NEW PAID',
	'subcontractor one pays its four workers for September');
SELECT is((SELECT arrears FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), 700000::bigint,
	'September is still in arrears while worker 5 (subcontractor two) has no line for it');
SELECT is(tap.decide('A-2', ARRAY[tap.l('A5', 5, 10000, 'WAGE', '2026-09-01')], tap.sub2()), 'NEW PAID',
	'subcontractor two pays its worker for September');
SELECT is(tap.owed(), '0 100000 10000 600000 0 710000', 'September is no longer in arrears');
SELECT is(tap.decide('A-3', ARRAY[tap.l('A6', 1, 2000000, 'WAGE', '2026-08-01')]), 'NEW HELD',
	'a sheet for August that the balance cannot pay is held');
SELECT is((SELECT held || ' ' || arrears FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')),
	'2000000 600000', 'a held line counts in held; August stays in arrears for the workers without a line');
SELECT * FROM tap.invariants('after arrears');

-- --- frozen: what legal orders keep --------------------------------------------------
SELECT is(tap.order('LO-F', '1', 'FREEZE', 30000), 'APPLIED -', 'a wages freeze is applied');
SELECT is((SELECT frozen || ' ' || owed FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')),
	'30000 2740000', 'the frozen amount counts in the wages owed');
SELECT is(tap.order('LO-U', '1', 'UNFREEZE', 30000), 'APPLIED -', 'the freeze is lifted');
SELECT is((SELECT frozen FROM wp_wages_owed(tap.account_id(), '2026-10-20 10:00+08')), 0::bigint,
	'a lifted freeze keeps nothing');
SELECT * FROM tap.invariants('after a freeze and its lifting');
SELECT * FROM finish();
ROLLBACK;
