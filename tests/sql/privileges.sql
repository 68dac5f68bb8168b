-- privileges.sql: least privilege (schema/functions/privileges.sql), as
-- --migrate left it (tests/sql/run migrates as the owner with no daemon
-- role of its own) and as wp_grant_daemon grants a role of the daemon's.
--
-- Every entry point runs as the owner with search_path fixed; nothing else
-- does; PUBLIC may call no wp_ function. A role granted by
-- wp_grant_daemon may call the entry points and nothing else, read
-- schema_migration and sheet's four columns, and nothing else; it is
-- refused an UPDATE of a balance and the DELETE of a ledger row. A role
-- that does not exist, or one that is a member of the owner, is refused.
BEGIN;
\ir fixtures.sql
SELECT plan(14);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');

SELECT is((SELECT count(*) FROM pg_proc WHERE proname = ANY (wp_daemon_entry_points())
	AND prosecdef AND 'search_path=public, pg_temp' = ANY (proconfig)),
	(SELECT count(*) FROM pg_proc WHERE proname = ANY (wp_daemon_entry_points())),
	'every entry point is SECURITY DEFINER with search_path fixed');
SELECT is((SELECT count(*) FROM pg_proc WHERE proname LIKE 'wp\_%' AND prosecdef
	AND NOT proname = ANY (wp_daemon_entry_points())), 0::bigint, 'no other wp_ function is');
SELECT is((SELECT count(*) FROM pg_proc WHERE proname LIKE 'wp\_%'
	AND has_function_privilege('public', oid, 'EXECUTE')), 0::bigint, 'PUBLIC may call no wp_ function');

CREATE ROLE tap_daemon LOGIN;
SELECT ok(wp_grant_daemon('tap_daemon') > 40, 'wp_grant_daemon grants a role of its own');
SELECT is((SELECT count(*) FROM pg_proc WHERE proname LIKE 'wp\_%'
	AND has_function_privilege('tap_daemon', oid, 'EXECUTE')),
	(SELECT count(*) FROM pg_proc WHERE proname = ANY (wp_daemon_entry_points())),
	'it may call the entry points, and no other wp_ function');
SELECT is((SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
	AND relkind IN ('r', 'v', 'm', 'p')	-- pgTAP's own views aside
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = pg_class.oid AND d.deptype = 'e')
	AND (has_table_privilege('tap_daemon', oid, 'SELECT')
	  OR has_table_privilege('tap_daemon', oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))),
	3::bigint, 'it reads three tables whole (the schema''s record, and pii_keyring: which index key, 032) and writes none');
SELECT ok(has_column_privilege('tap_daemon', 'sheet', 'msg_id', 'SELECT')
	AND NOT has_column_privilege('tap_daemon', 'sheet', 'ctrl_sum', 'SELECT'), 'sheet: its four columns only');

SET ROLE tap_daemon;
SELECT throws_ok($$UPDATE account SET balance = balance + 1$$, '42501', NULL,
	'the role: UPDATE account SET balance refused');
SELECT throws_ok($$DELETE FROM transfer$$, '42501', NULL, 'the role: DELETE of a ledger row refused');
SELECT throws_ok($$SELECT * FROM roster_entry$$, '42501', NULL, 'the role: reading the roster refused');
SELECT lives_ok($$SELECT wp_console_metrics()$$, 'the role: an entry point runs (as the owner)');
RESET ROLE;

CREATE ROLE tap_member LOGIN IN ROLE wagepay;
SELECT throws_ok($$SELECT wp_grant_daemon('tap_member')$$, 'WP003', NULL,
	'a role that is a member of the owner is refused');
SELECT throws_ok($$SELECT wp_grant_daemon('tap_nobody')$$, 'WP003', NULL,
	'a role that does not exist is refused');

SELECT * FROM finish();
ROLLBACK;
