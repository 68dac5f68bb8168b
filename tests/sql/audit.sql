-- audit.sql: the audit hash chains where they are kept (schema/functions/
-- audit.sql: wp_audit_hash, wp_account_chain, wp_audit_append,
-- wp_audit_verify, wp_audit_verify_chains).
--
-- Each dedicated account has its own chain and everything else is in
-- 'global'; a record's prev_hash is its chain's previous hash (sha256('')
-- for the first), an account chain's hash covers the chain's name; the
-- ledger and the trail are never updated or deleted; a changed record is
-- found as the lowest first broken one of its chain, the other chains
-- still verifying. The ledger invariants before the trail is tampered with.
BEGIN;
\ir fixtures.sql
SELECT plan(20);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT is(tap.deposit('DEP-1', 100000), 'APPLIED', 'the owner deposits 1,000.00');
SELECT is(tap.decide('S-1', ARRAY[tap.l('S1', 1, 10000)]), 'NEW PAID', 'a sheet is paid');
SELECT is((SELECT string_agg(action, ',' ORDER BY id) FROM audit WHERE chain = wp_account_chain(tap.acc())),
	'account.opened,deposit.booked,sheet.paid', 'the account''s chain: opened, deposit, sheet paid');
SELECT is((SELECT prev_hash FROM audit WHERE chain = wp_account_chain(tap.acc()) ORDER BY id LIMIT 1),
	sha256(''::bytea), 'a chain''s first record follows sha256('''')');
SELECT is((SELECT count(*) FROM (SELECT prev_hash IS DISTINCT FROM lag(hash) OVER (ORDER BY id) AS bad, id,
	min(id) OVER () AS first FROM audit WHERE chain = wp_account_chain(tap.acc())) x WHERE bad AND id <> first),
	0::bigint, 'each record follows its chain''s previous one');
SELECT is((SELECT hash FROM audit_head WHERE chain = wp_account_chain(tap.acc())),
	(SELECT hash FROM audit WHERE chain = wp_account_chain(tap.acc()) ORDER BY id DESC LIMIT 1),
	'the chain''s head holds its newest hash');
SELECT isnt(wp_audit_hash('account:A', sha256(''::bytea), 1, '2026-10-20 10:00+08', 'core', 'x', 'y', 'z'),
	wp_audit_hash('account:B', sha256(''::bytea), 1, '2026-10-20 10:00+08', 'core', 'x', 'y', 'z'),
	'an account chain''s hash covers the chain''s name');
SELECT is(wp_audit_hash('global', sha256(''::bytea), 1, '2026-10-20 10:00+08', 'core', 'x', 'y', 'z'),
	wp_audit_hash(sha256(''::bytea), 1, '2026-10-20 10:00+08', 'core', 'x', 'y', 'z'),
	'global records are hashed as before the chains (old records verify unchanged)');
SELECT * FROM tap.invariants('after a deposit and a paid sheet');
SELECT throws_ok($$UPDATE audit SET detail = 'x'$$, '23001', NULL, 'audit records are never updated');
SELECT throws_ok($$DELETE FROM transfer$$, '23001', NULL, 'transfers are never deleted');
-- tampering, behind the immutability trigger (undone by the ROLLBACK)
ALTER TABLE audit DISABLE TRIGGER audit_immutable;
UPDATE audit SET detail = detail || ' (altered)' WHERE chain = wp_account_chain(tap.acc()) AND action = 'deposit.booked';
SELECT is((SELECT first_broken FROM wp_audit_verify_chains() WHERE chain = wp_account_chain(tap.acc())),
	(SELECT id FROM audit WHERE chain = wp_account_chain(tap.acc()) AND action = 'deposit.booked'),
	'a changed record is its chain''s first broken one');
SELECT is((SELECT string_agg(chain, ' ' ORDER BY chain) FROM wp_audit_verify_chains() WHERE ok), 'global',
	'the other chains still verify');
SELECT is((SELECT ok::text || ' ' || broken_chain FROM wp_audit_verify()), 'false ' || wp_account_chain(tap.acc()),
	'the whole trail is not ok and names the broken chain');
SELECT * FROM finish();
ROLLBACK;
