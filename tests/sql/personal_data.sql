-- personal_data.sql: personal data at rest (032, issue 22) through the
-- functions that store and read it (roster.sql, sheet.sql, console.sql,
-- documents.sql, settlement.sql), called as the daemon calls them with
-- [security] keys: the name, ID and card go as blind indexes and every
-- rule matches on them as on the clear values; each row keeps its sealed
-- record and masks as given; what is shown is the masks, never an index;
-- what the daemon reads back carries the sealed record to open. The ledger
-- invariants at the end.
BEGIN;
\ir fixtures.sql
SELECT plan(30);

SELECT lives_ok($$SELECT tap.open_project('XM-TAP-0001', tap.acc(), tap.gc())$$, 'a project is opened');
CREATE TEMP TABLE r1 AS SELECT * FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
	tap.roster_sealed(ARRAY[1, 2, 3, 4, 5]));
SELECT is((SELECT outcome || ' ' || message FROM r1 WHERE kind = 'S'), 'OK 5', 'five sealed entries accepted');
SELECT is((SELECT count(*) FROM roster_entry WHERE id_number = tap.ix('idn', (tap.w(1)).idn)
	AND name = tap.ix('name', (tap.w(1)).name) AND card = tap.ix('card', (tap.w(1)).card)
	AND pii = tap.pii_sealed((tap.w(1)).idn) AND id_mask = '4101**********0008'
	AND card_mask = '6228***********8280' AND name_mask = '王**'), 1::bigint,
	'the entry keeps the indexes, the sealed record and the masks as given');
SELECT is((SELECT count(*) FROM roster_version WHERE pii IS NOT NULL AND id_mask IS NOT NULL), 5::bigint,
	'each version keeps its sealed record and masks');
SELECT is((SELECT count(*) FROM card_owner WHERE NOT in_clear), 5::bigint,
	'card owners stored with keys are not in clear (--migrate leaves them alone)');
SELECT is((SELECT count(*) FROM roster_entry r, tap.worker w WHERE r.id_number = w.idn
	OR r.card = w.card OR r.name = w.name), 0::bigint, 'no clear ID, card or name is stored');

SELECT is((SELECT outcome || ' ' || message FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001',
	tap.subs_json(), tap.roster_sealed(ARRAY[1])) WHERE kind = 'S'), 'OK 1',
	'the same entry again (another sealed record, the same indexes) ...');
SELECT is((SELECT count(*) FROM roster_version WHERE id_number = tap.ix('idn', (tap.w(1)).idn)),
	1::bigint, '... stores no new version: the indexes are what is compared');
CREATE TEMP TABLE r2 AS SELECT * FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
	tap.roster_sealed(ARRAY[6], (tap.w(1)).card));
SELECT is((SELECT id_number || ' ' || code FROM r2 WHERE kind = 'R'),
	tap.ix('idn', (tap.w(6)).idn) || ' WP15',
	'one person, one card on the indexes: refused, named by the index the daemon sent');
SELECT is((SELECT detail FROM alert WHERE kind = 'CARD_CONCENTRATION'),
	'roster tried to register a card of another worker; card ending 8280',
	'CARD_CONCENTRATION names the card''s last four digits from its mask, not the index');
SELECT is((SELECT outcome FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
	tap.roster_sealed(ARRAY[2], '6222021000005717146')) WHERE kind = 'S'), 'OK', 'worker 2 changes card');
SELECT matches((SELECT detail FROM alert WHERE kind = 'CARD_CHANGED'),
	'^worker 4101\*\*\*\*\*\*\*\*\*\*8389: wage card changed from card ending 7946 .* to card ending 7146 ',
	'CARD_CHANGED shows the masked ID and the cards'' last digits from the masks');

SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner deposits 1,000.00');
CREATE TEMP TABLE s1 AS SELECT * FROM tap.submit_sealed('S-1', ARRAY[tap.l('L1', 1, 1000),
	tap.l('L3', 3, 1000), tap.lx('L4', (tap.w(4)).idn, '别人', (tap.w(4)).card, (tap.w(4)).bank, 1000),
	tap.lx('L5', (tap.w(2)).idn, (tap.w(2)).name, (tap.w(1)).card, (tap.w(2)).bank, 1000),
	tap.l('L8', 8, 1000)]);
SELECT is((SELECT outcome || ' ' || state FROM s1 WHERE kind = 'S'), 'NEW PAID', 'a sealed sheet is decided');
SELECT is(tap.codes('S-1'), 'ok,ok,BE01,AC01,WP01',
	'the roster match on indexes: paid, another name BE01, another card AC01, off the roster WP01');
SELECT is((SELECT count(*) FROM sheet_line WHERE pii IS NOT NULL AND id_mask LIKE '4101%'
	AND card_mask LIKE '62%' AND name_mask IS NOT NULL), 5::bigint,
	'every line keeps its sealed record and masks');
CREATE TEMP TABLE s2 AS SELECT * FROM tap.submit_sealed('S-2', ARRAY[tap.l('M1', 1, 500)]);
SELECT is(tap.codes('S-2'), 'AM05', 'a worker-month paid is found paid on the indexes (AM05)');

SELECT is((SELECT string_agg((l->>'name') || ' ' || (l->>'id_number') || ' ' || (l->>'card'), ', ')
	FROM json_array_elements(wp_console_sheet((SELECT id FROM sheet WHERE msg_id = 'S-1'), 0)->'line_list') l
	WHERE (l->>'seq')::int <= 2),
	'王** 4101**********0008 6228***********8280, 陈** 4101**********6766 6228***********7603',
	'the console shows the masks');
SELECT is(wp_console_worker_cards(tap.ix('idn', (tap.w(2)).idn))->>'id_number', '4101**********8389',
	'the card history, found by the index, shows the masked ID number');
SELECT is((SELECT string_agg(f2 || ' ' || f3 || ' ' || f4, ', ') FROM wp_voucher(tap.gc(), 'S-1')
	WHERE kind = 'L' AND f1 = 'L1'), tap.ix('name', '王建军') || ' 4101**********0008 6228***********8280',
	'the voucher: the masks, and the sealed record for the daemon to open the name');
SELECT is((SELECT decode(pii, 'hex') FROM wp_voucher(tap.gc(), 'S-1') WHERE f1 = 'L1'),
	tap.pii_sealed((tap.w(1)).idn), 'the voucher''s sealed record is the line''s');
SELECT is((SELECT count(*) FROM wp_roster_get(tap.gc(), 'XM-TAP-0001') g JOIN roster_entry r
	ON r.id_number = g.a::bpchar AND encode(r.pii, 'hex') = g.pii WHERE g.kind = 'W'), 5::bigint,
	'wp_roster_get returns each worker''s sealed record');
-- the paying daemon holds its order's lease (it writes the order from the
-- lines it read); one it could not send is made due and claimed
SELECT ok((SELECT bool_and(wp_payorder_due(id)) FROM payment_order), 'the order is made due');
SELECT is((SELECT count(*) FROM wp_payorder_claim(10, 20) c JOIN sheet_line l
	ON l.end_to_end_id = c.end_to_end_id AND encode(l.pii, 'hex') = c.pii), 2::bigint,
	'the payment order''s claim returns each paid line''s sealed record');

SELECT * FROM tap.invariants('after sealed rosters and sheets');
SELECT * FROM finish();
ROLLBACK;
