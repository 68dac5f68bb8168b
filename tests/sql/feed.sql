-- feed.sql: the platform feed's outbox and delivery (schema/functions/feed.sql,
-- migration 029), called as the money functions and daemon/platform.c call
-- them.
--
-- Events written in the transaction of what they report (an account opened,
-- a deposit, a sheet paid: one flow and one payline event whatever its
-- size, the core's statuses, a return); a platform's claim numbers them
-- without gaps in order, expands a sheet's payline into one record per
-- line, routes by region prefix, leases, acknowledges, backs off; a replay
-- goes back (four eyes in approvals.sql), never ahead (WP75).
BEGIN;
\ir fixtures.sql
SELECT plan(50);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');

CREATE TEMP TABLE got AS SELECT * FROM tap.claim('hn', '41', 1) WHERE false;

SELECT is((SELECT data->>'accountStatus' || ' ' || (data->>'salaryAccount') FROM platform_event
	WHERE kind = 'account'), 'OPENED ' || tap.acc(), 'opening the account writes its OPENED event');
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'an owner''s deposit is booked');
SELECT is((SELECT (data->>'flowType') || ' ' || (data->>'billType') || ' ' || (data->>'billAmount') || ' '
	|| (data->>'accountBalance') || ' ' || (data->>'batchNumber') || ' ' || (data->>'counterpartyCode')
	FROM platform_event WHERE kind = 'flow'), 'DEPOSIT 1 1000.00 1000.00 DEP-1 ' || tap.owner(),
	'the deposit is an income flow with the balance after it and its payer');
SELECT is(tap.decide('P-1', ARRAY[tap.l('P1-1', 1, 3000), tap.l('P1-2', 2, 4000),
	tap.lx('P1-3', (tap.w(8)).idn, (tap.w(8)).name, (tap.w(8)).card, (tap.w(8)).bank, 500)]),
	'NEW PAID', 'a sheet with a refused line is paid');
SELECT is(tap.ev('flow') || ' ' || tap.ev('payline'), '2 1',
	'a paid sheet writes one flow and one payline event, not one per line');
SELECT is((SELECT (data->>'flowType') || ' ' || (data->>'billType') || ' ' || (data->>'billAmount') || ' '
	|| (data->>'accountBalance') || ' ' || (data->>'batchNumber') FROM platform_event
	WHERE kind = 'flow' ORDER BY id DESC LIMIT 1), 'WAGE 2 70.00 930.00 P-1',
	'the wage payment is one expense flow for the sheet, with the balance after');

-- --- delivery: numbering, order, lease, acknowledgement ---------------------------
INSERT INTO got SELECT * FROM tap.claim('hn', '41', 3, 30);
SELECT is((SELECT string_agg(seq || ':' || kind, ' ' ORDER BY seq) FROM got),
	'1:account 2:flow 3:flow', 'the first claim: three records, numbered from 1, in order');
SELECT is((SELECT count(*) FROM tap.claim('hn', '41', 3)), 0::bigint,
	'nothing is claimed while the batch is out (its lease)');
UPDATE platform_feed SET next_attempt_at = now() WHERE name = 'hn';
SELECT is((SELECT string_agg(seq::text, ' ' ORDER BY seq) FROM tap.claim('hn', '41', 3)),
	'1 2 3', 'after the lease the same batch again, the same seqs');
SELECT is(tap.ack('hn', 3), 3::bigint, 'a 2xx acknowledges up to the batch''s last seq');
TRUNCATE got;
INSERT INTO got SELECT * FROM tap.claim('hn', '41', 10);
SELECT is((SELECT string_agg(seq || ':' || kind, ' ' ORDER BY seq) FROM got),
	'4:payline 5:payline', 'the paid sheet is one record per paid line, the refused one not among them');
SELECT is((SELECT f->>'idNumber' FROM got WHERE seq = 4), (tap.w(1)).idn, 'a payline names the worker');
SELECT is((SELECT (f->>'name') || ' ' || (f->>'card') || ' ' || (f->>'payRollBankCode') FROM got WHERE seq = 5),
	(tap.w(2)).name || ' ' || (tap.w(2)).card || ' ' || (tap.w(2)).bank, 'with name, card and card bank');
SELECT is((SELECT (f->>'actualAmount') || ' ' || (f->>'totalPayAmount') || ' ' || (f->>'payMonth') || ' '
	|| (f->>'isBackPay') || ' ' || (f->>'payStatus') || ' ' || (f->>'thirdPayRollCode') || ' '
	|| (f->>'endToEndId') || ' ' || (f->>'payBankCardNumber') FROM got WHERE seq = 4),
	'30.00 30.00 2026-10 0 PAID P-1 P1-1 ' || tap.acc(), 'its pay, month, status and batch');
SELECT ok((SELECT f ? 'backPayMonth' FROM got WHERE seq = 4) = false, 'no backPayMonth for a WAGE line');
SELECT matches((SELECT string_agg(id, ' ' ORDER BY seq) FROM got), '^wp-[0-9]+-1 wp-[0-9]+-2$',
	'a payline''s id is its event''s and its line''s');
SELECT is(tap.ack('hn', 5), 5::bigint, 'acknowledged');

-- --- routing ----------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM tap.claim('kf', '4102', 10)), 0::bigint,
	'a platform of another region gets nothing of the demo project (410183)');
SELECT is((SELECT next_seq FROM platform_feed WHERE name = 'kf'), 1::bigint, 'and numbers nothing');
SELECT is((SELECT count(*) FROM tap.claim('zz', '410183', 100)), 5::bigint,
	'a platform covering it gets the same five records, numbered its own way');

-- --- the core's statuses, a return --------------------------------------------------
SELECT ok(tap.take('P-1'), 'the core takes the order');
SELECT is(tap.settle(tap.order_msg('P-1'), json_build_array(tap.st(tap.instr('P-1', 'P1-1'), NULL, 'ACCC'),
	tap.st(tap.instr('P-1', 'P1-2'), NULL, 'RJCT', 'AC04'))), 'APPLIED', 'the core credits one line, rejects the other');
SELECT is(tap.ev('payline'), 2::bigint, 'one SETTLED payline event for the report');
TRUNCATE got;
INSERT INTO got SELECT * FROM tap.claim('hn', '41', 10);
SELECT is((SELECT string_agg(seq || ':' || kind || ':' || coalesce(f->>'payStatus', f->>'flowType'), ' ' ORDER BY seq) FROM got),
	'6:payline:CREDITED 7:payline:REJECTED 8:flow:REJECTED',
	'the statuses, then the rejected line''s money back, in order');
SELECT is((SELECT (f->>'statusReason') || ' ' || (f->>'endToEndId') FROM got WHERE seq = 7), 'AC04 P1-2',
	'a rejected line carries the core''s reason');
SELECT is((SELECT (f->>'billAmount') || ' ' || (f->>'accountBalance') || ' ' || (f->>'billType') FROM got WHERE seq = 8),
	'40.00 970.00 1', 'the money back is an income flow with the balance after');
SELECT is(tap.ack('hn', 8), 8::bigint, 'acknowledged');
SELECT is((SELECT outcome FROM wp_core_return('RET-1', tap.acc(), 3000, '2026-11-06', 'P1-1', 'AC06')), 'APPLIED',
	'the credited line comes back from the card''s bank');
TRUNCATE got;
INSERT INTO got SELECT * FROM tap.claim('hn', '41', 10);
SELECT is((SELECT string_agg(seq || ':' || coalesce(f->>'flowType', f->>'payStatus') || ':'
	|| coalesce(f->>'statusReason', f->>'accountBalance'), ' ' ORDER BY seq) FROM got),
	'9:RETURN:1000.00 10:RETURNED:AC06', 'a return: its flow and the line RETURNED with its reason');

-- --- failures and replays -----------------------------------------------------------
SELECT ok(wp_platform_failed('hn', (SELECT claim_no FROM platform_feed WHERE name = 'hn'), 503, 'HTTP 503', 300)
	> now(), 'a failure backs off');
SELECT is((SELECT count(*) FROM tap.claim('hn', '41', 10)), 0::bigint, 'and nothing is claimed before then');
SELECT is(wp_platform_replay_refusal('{"platform":"hn","from_seq":"10"}'), 'WP75: platform hn can be replayed '
	'from seq 1 to 9 (acknowledged up to 8), not 10', 'a replay never skips ahead');
SELECT matches(wp_platform_replay_refusal('{"platform":"nope","from_seq":"1"}'), '^WP75: no platform',
	'nor names a platform never fed');
CREATE TEMP TABLE stale AS SELECT claim_no FROM platform_feed WHERE name = 'hn';
SELECT lives_ok($$SELECT wp_platform_replay('{"platform":"hn","from_seq":"2"}', 'operator:tap')$$,
	'an approved replay from seq 2');
SELECT is(wp_platform_acked('hn', (SELECT claim_no FROM stale), 10, 200), NULL,
	'a late acknowledgement of the claim before the replay changes nothing');
SELECT is((SELECT string_agg(seq::text, ' ' ORDER BY seq) FROM tap.claim('hn', '41', 4)), '2 3 4 5',
	'everything from seq 2 is sent again, the same seqs');
SELECT is((SELECT string_agg(first_seq || '+' || n, ' ' ORDER BY first_seq) FROM platform_span WHERE platform = 'hn'),
	'1+1 2+1 3+1 4+2 6+2 8+1 9+1 10+1', 'the numbering has no gap and no overlap');
SELECT is((SELECT unacked::text || ' ' || unread FROM wp_platform_backlog() WHERE name = 'hn'), '9 0',
	'the backlog: 9 records to send again, no event unread');
-- --- a held sheet released by a deposit ------------------------------------------------
SELECT is(tap.decide('H-1', ARRAY[tap.l('H1-1', 3, 200000)]), 'NEW HELD', 'a sheet the balance cannot pay is held');
SELECT is((SELECT count(*) FROM platform_event e JOIN sheet s ON s.id = e.sheet_id WHERE s.msg_id = 'H-1'),
	0::bigint, 'a held sheet is not in the feed: nothing moved');
SELECT is(tap.deposit('DEP-2', 300000), 'APPLIED', 'a deposit comes in and pays it');
SELECT is((SELECT string_agg(coalesce(e.data->>'flowType', e.outcome) || ' '
	|| coalesce(e.data->>'accountBalance', '-'), ',' ORDER BY e.xid, e.id) FROM platform_event e
	WHERE e.id > (SELECT max(id) FROM platform_event WHERE ref = 'RET-1')),
	'DEPOSIT 4000.00,WAGE 2000.00,PAID -', 'in the deposit''s transaction: the deposit, then the released sheet''s payment');
SELECT throws_ok($$UPDATE platform_event SET lines = NULL$$, '23001', NULL, 'events are never changed');
SELECT * FROM tap.invariants('at the end');
SELECT * FROM finish();
ROLLBACK;
