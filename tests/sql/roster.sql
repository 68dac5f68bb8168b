-- roster.sql: the real-name roster where it is kept (schema/functions/roster.sql:
-- wp_roster_upsert, wp_roster_get), called as daemon/rosterapi.c calls them.
--
-- The roster reason codes the database decides: WP13 (employer not a
-- subcontractor of the project), WP15 (a card already registered to another
-- worker, one person one card, raising CARD_CONCENTRATION); the daemon's own
-- (WP11, WP12, WP14, WP16, WP17, WP18 from proto/roster.c) kept as given;
-- only the project's general contractor uploads or reads; entries upserted
-- by ID number; every upload audited. The ledger invariants at the end.
BEGIN;
\ir fixtures.sql
SELECT plan(25);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is((SELECT count(*) FROM roster_entry), 7::bigint, 'the world''s roster has its seven workers');

SELECT is((SELECT outcome FROM wp_roster_upsert(tap.gc2(), 'XM-TAP-0001', tap.subs_json(),
	tap.roster_json(ARRAY[8])) WHERE kind = 'S'), 'FORBIDDEN',
	'another general contractor may not upload the project''s roster');
SELECT is((SELECT outcome FROM wp_roster_upsert(tap.gc(), 'XM-NONE', tap.subs_json(),
	tap.roster_json(ARRAY[8])) WHERE kind = 'S'), 'FORBIDDEN',
	'an unknown project is answered as forbidden (nothing about it is told)');
SELECT is((SELECT count(*) FROM roster_entry WHERE id_number = (tap.w(8)).idn), 0::bigint,
	'a forbidden upload stores nothing');

CREATE TEMP TABLE receipt AS SELECT * FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
	json_build_array(
	json_build_object('idn', (tap.w(8)).idn, 'name', (tap.w(8)).name, 'employer', tap.owner(),
		'card', (tap.w(8)).card, 'bank', (tap.w(8)).bank, 'signed', '2026-02-20', 'entered', '2026-03-01'),
	json_build_object('idn', '410183200303038663', 'name', '胡建', 'employer', tap.sub1(),
		'card', (tap.w(1)).card, 'bank', (tap.w(1)).bank, 'signed', '2026-02-20', 'entered', '2026-03-01'),
	json_build_object('idn', '410183200303038664', 'name', '胡建', 'employer', tap.sub1(),
		'card', '6222024242350597146', 'bank', '102491000013', 'signed', '2026-02-20', 'entered', '2026-03-01',
		'pre_code', 'WP11', 'pre_text', 'ID number 4101**********8664: check digit or birth date is wrong'),
	json_build_object('idn', '410183200302160288', 'name', '马建华', 'employer', tap.sub1(),
		'card', (tap.w(8)).card, 'bank', (tap.w(8)).bank, 'signed', '2026-02-20', 'entered', '2026-03-01')));
SELECT is((SELECT outcome || ' ' || message FROM receipt WHERE kind = 'S'), 'OK 1',
	'an upload with three entries refused accepts the fourth');
SELECT is((SELECT string_agg(id_number || ' ' || code, ', ' ORDER BY id_number) FROM receipt WHERE kind = 'R'),
	'410183200302160288 WP13, 410183200303038663 WP15, 410183200303038664 WP11',
	'WP13 employer not a subcontractor, WP15 a card already another worker''s, WP11 pre-coded kept');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'CARD_CONCENTRATION'
	AND dedup_key = 'CARD:' || (tap.w(1)).card || ':410183200303038663'), 1::bigint,
	'WP15 raises CARD_CONCENTRATION');
SELECT is((SELECT id_number::text FROM card_owner WHERE card = (tap.w(1)).card), (tap.w(1)).idn,
	'one person, one card: the card stays its first owner''s');
SELECT is((SELECT employer_uscc::text FROM roster_entry WHERE id_number = (tap.w(8)).idn), tap.sub1(),
	'the accepted entry is on the roster with its subcontractor');
SELECT is((SELECT count(*) FROM roster_entry WHERE id_number IN ('410183200303038663', '410183200303038664')),
	0::bigint, 'refused entries are not on the roster');
SELECT is((SELECT count(*) FROM audit WHERE chain = 'global' AND action = 'roster.upload'
	AND detail = '1 accepted, 3 refused'), 1::bigint, 'the upload is audited in the global chain');

SELECT is((SELECT message FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
	json_build_array(json_build_object('idn', (tap.w(2)).idn, 'name', (tap.w(2)).name, 'employer', tap.sub1(),
		'card', '6222024242350597146', 'bank', '102491000013', 'signed', '2026-02-20',
		'entered', '2026-03-01', 'left', '2026-12-31'))) WHERE kind = 'S'), '1',
	'a worker''s entry is uploaded again with a new card and a leaving date');
SELECT is((SELECT card || ' ' || left_on FROM roster_entry WHERE id_number = (tap.w(2)).idn),
	'6222024242350597146 2026-12-31', 'the entry is replaced by ID number');
SELECT is((SELECT count(*) FROM roster_entry WHERE id_number = (tap.w(2)).idn), 1::bigint,
	'one entry per worker and project');
SELECT is(tap.decide('S-1', ARRAY[tap.l('S1', 2, 1000)]), 'NEW REJECTED',
	'a sheet still paying the old card is refused');
SELECT is(tap.codes('S-1'), 'AC01', 'AC01: the card is no longer the one registered to the worker');

SELECT is((SELECT a FROM wp_roster_get(tap.gc2(), 'XM-TAP-0001') WHERE kind = 'S'), 'FORBIDDEN',
	'another general contractor may not read the roster');
SELECT is((SELECT count(*) FROM wp_roster_get(tap.gc(), 'XM-TAP-0001') WHERE kind = 'W'), 8::bigint,
	'the project''s general contractor reads every worker');

SELECT * FROM tap.invariants('after roster uploads');

SELECT * FROM finish();
ROLLBACK;
