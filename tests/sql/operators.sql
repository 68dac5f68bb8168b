-- operators.sql: operators, sessions and the second factor
-- (schema/functions/operators.sql), called as daemon/session.c,
-- daemon/operator.c and the four-eyes approval call them.
--
-- A code's time step is accepted once: the same step again, or an older
-- one after a newer, is refused and changes nothing; a sign-in against a
-- secret that changed meanwhile is refused. --add-operator stores a sealed
-- secret and audits it; a name again gets the new secret and role, and no
-- step accepted yet. Enrolment at sign-in happens only for an operator
-- without a secret, once. A reset is a maker's proposal (refused for an
-- unknown operator, or while one waits) and takes effect when a different
-- checker approves: the secret is dropped and every session of the
-- operator ended, audited naming the checker.
BEGIN;
\ir fixtures.sql
SELECT plan(26);

SELECT ok(tap.enrolled('alice', 'maker') > 0, 'wp_operator_add stores an operator');
SELECT is((SELECT length(totp_secret) FROM operator WHERE name = 'alice'), 49, 'with its sealed secret');
SELECT is((SELECT count(*) FROM audit WHERE action = 'operator.added' AND object = 'operator:alice'),
	1::bigint, 'audited');
SELECT is((SELECT (s.id, s.locked, s.totp_secret IS NOT NULL)::text FROM wp_signin_lookup('alice') s),
	((SELECT id FROM operator WHERE name = 'alice'), false, true)::text,
	'wp_signin_lookup: the id, not locked, the sealed secret');
SELECT is((SELECT s.id IS NULL AND s.password_hash IS NULL AND NOT s.locked FROM wp_signin_lookup('nobody') s),
	true, 'one row of NULLs for a name that does not exist');

-- a code once
SELECT is(tap.signin('alice', 1000), 'maker', 'step 1000 signs in: the role');
SELECT is((SELECT totp_last_step FROM operator WHERE name = 'alice'), 1000::bigint, 'the step is recorded');
SELECT is((SELECT count(*) FROM operator_session s JOIN operator o ON o.id = s.operator_id
	WHERE o.name = 'alice'), 1::bigint, 'a session is stored');
SELECT is(tap.signin('alice', 1000), NULL, 'step 1000 again: refused (a replay)');
SELECT is(tap.signin('alice', 999), NULL, 'step 999 after 1000: refused');
SELECT is((SELECT count(*) FROM operator_session s JOIN operator o ON o.id = s.operator_id
	WHERE o.name = 'alice'), 1::bigint, 'and no session stored for them');
SELECT is(tap.signin('alice', 1001, tap.sealed('another')), NULL, 'against another secret: refused');
SELECT is(tap.signin('alice', 1001), 'maker', 'step 1001: signs in');
SELECT is((SELECT count(*) FROM audit WHERE action = 'session.signin' AND object = 'operator:alice'),
	2::bigint, 'each sign-in audited');

-- --add-operator again
SELECT lives_ok($$SELECT tap.enrolled('alice', 'checker')$$, 'the name again');
SELECT is((SELECT role || ' ' || coalesce(totp_last_step::text, 'none') FROM operator WHERE name = 'alice'),
	'checker none', 'gets the new role and no step accepted yet');
SELECT is(tap.signin('alice', 5), 'checker', 'so an early step signs in with the new secret');

-- enrolment at sign-in, and the reset by four eyes
SELECT is(wp_totp_enrol((SELECT id FROM operator WHERE name = 'alice'), tap.sealed('x')), false,
	'wp_totp_enrol: not while a secret is there');
SELECT lives_ok($$SELECT tap.operator('maker9', 'maker'), tap.operator('checker9', 'checker')$$, 'a maker and a checker');
SELECT is((SELECT refusal FROM wp_console_propose('RESET_SECOND_FACTOR', '{"operator":"nobody"}',
	(SELECT id FROM operator WHERE name = 'maker9'), now())), 'no such operator', 'no reset of an unknown operator');
SELECT ok((SELECT approval FROM wp_console_propose('RESET_SECOND_FACTOR', '{"operator":"alice"}',
	(SELECT id FROM operator WHERE name = 'maker9'), now())) IS NOT NULL, 'a maker proposes the reset');
SELECT matches((SELECT refusal FROM wp_console_propose('RESET_SECOND_FACTOR', '{"operator":"alice"}',
	(SELECT id FROM operator WHERE name = 'maker9'), now())), 'already waits', 'not twice while it waits');
SELECT is((SELECT state FROM wp_approval_decide((SELECT max(id) FROM approval),
	(SELECT id FROM operator WHERE name = 'checker9'), 'approve')), 'APPROVED', 'a checker approves');
SELECT is((SELECT (totp_secret IS NULL AND totp_last_step IS NULL
	AND NOT EXISTS (SELECT 1 FROM operator_session WHERE operator_id = o.id))
	FROM operator o WHERE name = 'alice'), true, 'the secret is dropped and her sessions ended');
SELECT is(wp_totp_enrol((SELECT id FROM operator WHERE name = 'alice'), tap.sealed('new')), true,
	'she enrols a new one at her next sign-in');
SELECT is(wp_totp_enrol((SELECT id FROM operator WHERE name = 'alice'), tap.sealed('newer')), false,
	'once: a second enrolment at once loses');

SELECT * FROM finish();
ROLLBACK;
