-- roster.sql: the real-name roster where it is kept (schema/functions/roster.sql:
-- wp_roster_upsert, wp_roster_get), called as daemon/rosterapi.c calls them.
--
-- The roster reason codes the database decides: WP13 (employer not a
-- subcontractor of the project), WP15 (a card already registered to another
-- worker, one person one card, raising CARD_CONCENTRATION); the daemon's own
-- (WP11, WP12, WP14, WP16, WP17, WP18 from proto/roster.c) kept as given;
-- only the project's general contractor uploads or reads; entries upserted
-- by ID number; every upload audited. The roster keeps its history (024):
-- every version of an entry with who sent it and when, an unchanged entry
-- stored once, each sheet line recording the version it was checked
-- against, a changed card raising CARD_CHANGED (to HRSS only) once per
-- change, the console's card history masked. The ledger invariants at the
-- end.
BEGIN;
\ir fixtures.sql
SELECT plan(56);
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

-- --- the roster keeps its history (024) ---------------------------------------
SELECT is((SELECT count(*) FROM roster_version v JOIN roster_entry r USING (project_id, id_number)
	WHERE r.id_number <> (tap.w(2)).idn AND v.version = 1 AND r.version = 1
	  AND v.card = r.card AND v.sent_by = tap.gc()), 7::bigint,
	'every other entry is its version 1, kept with the general contractor as its sender');
SELECT is(tap.versions(2), '1 ' || right((tap.w(2)).card, 4) || ', 2 7146',
	'the new card did not overwrite the old: version 1 keeps the old card, version 2 has the new');
SELECT is((SELECT version FROM roster_entry WHERE id_number = (tap.w(2)).idn), 2,
	'the current entry carries its version number');
SELECT is((SELECT left_on FROM roster_version WHERE id_number = (tap.w(2)).idn AND version = 1), NULL::date,
	'version 1 keeps its own leaving date (none)');
SELECT is((SELECT count(*) FROM roster_version WHERE id_number = (tap.w(2)).idn
	AND sent_by = tap.gc() AND sent_at = now()), 2::bigint,
	'each version records who sent it and when');
SELECT is((SELECT reason_code || ' v' || roster_version FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
	WHERE s.msg_id = 'S-1'), 'AC01 v2',
	'the refused line records the roster version it was checked against (2: the new card)');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'), 1::bigint,
	'the card change raised CARD_CHANGED');
SELECT is((SELECT dedup_key FROM alert WHERE kind = 'CARD_CHANGED'),
	'CARD_CHANGED:' || (SELECT id FROM project WHERE code = 'XM-TAP-0001') || ':' || (tap.w(2)).idn || ':2',
	'keyed by the worker''s new version: once per change');
SELECT ok((SELECT detail FROM alert WHERE kind = 'CARD_CHANGED')
	LIKE 'worker ' || wp_mask((tap.w(2)).idn) || ': wage card changed from card ending ' || right((tap.w(2)).card, 4)
	|| ' (bank 102491000013, version 1) to card ending 7146 (bank 102491000013, version 2)%',
	'its Detail names both cards by their last four digits and the versions');
SELECT ok((SELECT detail NOT LIKE '%' || (tap.w(2)).idn || '%' AND detail NOT LIKE '%' || (tap.w(2)).card || '%'
	AND detail NOT LIKE '%6222024242350597146%' FROM alert WHERE kind = 'CARD_CHANGED'),
	'no full ID or card number in the Detail');

SELECT is(tap.reupload(2, '6222024242350597146', '102491000013', '2026-12-31'), 'OK 1',
	'the same entry sent again is accepted');
SELECT is(tap.versions(2), '1 ' || right((tap.w(2)).card, 4) || ', 2 7146',
	'an unchanged re-upload stores no version');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'), 1::bigint,
	'and raises no CARD_CHANGED');
SELECT is(tap.reupload(2, '6222024242350597146', '102491000013', '2026-11-30'), 'OK 1',
	'a new leaving date, the same card');
SELECT is((SELECT version || ' ' || left_on || ' ' || sent_subject || ' ' || sent_cert FROM roster_version
	WHERE id_number = (tap.w(2)).idn AND version = 3),
	'3 2026-11-30 CN=gc-roster,serialNumber=914101020507452466,O=Demo GC sha256:' || repeat('ab', 32),
	'is version 3, with the certificate that sent it');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'), 1::bigint,
	'a change that keeps the card raises no CARD_CHANGED');
SELECT is(tap.reupload(3, tap.card(1), '105491000016'), 'OK 1', 'worker 3''s card is swapped');
SELECT is(tap.reupload(3, (tap.w(3)).card, (tap.w(3)).bank), 'OK 1', 'and swapped back');
SELECT is((SELECT string_agg(right(dedup_key, 2), ' ' ORDER BY dedup_key) FROM alert WHERE kind = 'CARD_CHANGED'
	AND dedup_key LIKE '%' || (tap.w(3)).idn || '%'), ':2 :3', 'each change raises its own CARD_CHANGED');
SELECT is(tap.reupload(4, (tap.w(4)).card, '105491000016'), 'OK 1', 'worker 4''s card bank changes, not its number');
SELECT is((SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED' AND dedup_key LIKE '%' || (tap.w(4)).idn || '%'),
	1::bigint, 'the same number at another bank is another account: CARD_CHANGED');
SELECT is(tap.reupload(4, (tap.w(4)).card, (tap.w(4)).bank), 'OK 1', 'worker 4 is set back');
SELECT throws_ok('UPDATE roster_version SET card = ''6228480999985718280''', '23001', NULL,
	'a roster version is never changed');

SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner deposits 1,000.00');
SELECT is(tap.decide('S-2', ARRAY[tap.l('L1', 1, 1000), tap.l('L3', 3, 1000),
	tap.lx('L8', '410183200303038663', '胡建', tap.card(2), '102491000013', 1000)]), 'NEW PAID',
	'a sheet pays workers 1 and 3; the third is not on the roster');
SELECT is((SELECT string_agg(coalesce(l.reason_code, 'ok') || ' ' || coalesce('v' || l.roster_version, '-'), ', '
	ORDER BY l.seq) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'S-2'),
	'ok v1, ok v3, WP01 -', 'each line records the version it was checked against (none off the roster)');

SELECT is((SELECT json_array_length(wp_console_worker_cards((tap.w(2)).idn)->'versions')), 3,
	'the console''s card history lists the worker''s three versions');
SELECT is((SELECT string_agg((v->>'version') || ' ' || (v->>'card') || ' ' || (v->>'card_changed') || ' '
	|| (v->>'current'), ', ') FROM json_array_elements(wp_console_worker_cards((tap.w(2)).idn)->'versions') v),
	'1 6222***********7946 false false, 2 6222***********7146 true false, 3 6222***********7146 false true',
	'masked cards, which version changed the card, which is current');
SELECT is(wp_console_worker_cards((tap.w(2)).idn)->>'id_number', '4101**********8389', 'the ID number masked');
SELECT is(wp_console_worker_cards('410183200303038663')::text, NULL, 'a worker never rostered: nothing (404)');
SELECT is((SELECT string_agg(n, ' ' ORDER BY n) FROM wp_alert_recipients(
	(SELECT id FROM alert WHERE kind = 'CARD_CHANGED' AND dedup_key LIKE '%' || (tap.w(2)).idn || '%'),
	'[{"name":"zz-hrss","region":"4101","authority":"hrss"},
	  {"name":"zz-housing","region":"410183","authority":"housing"}]'::json) n), 'zz-hrss',
	'CARD_CHANGED goes to HRSS only, not to the industry authority');

SELECT * FROM tap.invariants('after roster uploads');

SELECT * FROM finish();
ROLLBACK;
