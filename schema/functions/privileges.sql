-- privileges.sql: least privilege in the database (issue 22). The daemon's
-- role ([database] dsn) may only call the functions it calls, and read the
-- few columns it names in its own SQL; everything that writes goes through
-- a function that runs as the schema's owner (SECURITY DEFINER, with a fixed
-- search_path so that no object of the caller's can stand in for ours).
-- --migrate ([database] migrate_dsn, the owner) calls wp_grant_daemon last,
-- after every functions file: CREATE OR REPLACE resets a function's
-- SECURITY and SET clauses, so they are set again on every run.

-- The functions daemon/*.c calls, and only those (t0790 compares this list
-- with the C). Each runs as the owner: per call, a search_path set and reset
-- and no inlining of a SQL function into the caller's query. The helpers
-- they call (wp_yuan, wp_mask, triggers, ...) stay SECURITY INVOKER and
-- inlinable: inside an entry point they already run as the owner.
CREATE OR REPLACE FUNCTION wp_daemon_entry_points() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT ARRAY[
		'wp_alert_claim', 'wp_alert_delivered', 'wp_alert_failed',
		'wp_approval_json', 'wp_approval_propose', 'wp_audit_verify',
		'wp_console_alert_retry', 'wp_console_alerts', 'wp_console_approvals',
		'wp_console_audit', 'wp_console_decide', 'wp_console_metrics',
		'wp_console_overview', 'wp_console_project', 'wp_console_projects',
		'wp_console_propose_json', 'wp_console_sheet', 'wp_console_sheet_csv',
		'wp_console_signout',
		'wp_console_worker_cards', 'wp_console_worker_payments', 'wp_core_debit', 'wp_core_legal_order',
		'wp_core_notify', 'wp_core_statement', 'wp_payorder_claim', 'wp_payorder_due',
		'wp_payorder_failed', 'wp_payorder_taken', 'wp_platform_acked',
		'wp_platform_claim', 'wp_platform_failed', 'wp_console_platforms', 'wp_roster_get',
		'wp_roster_upsert', 'wp_rule_settlement_overdue', 'wp_rules_run',
		'wp_session_open', 'wp_session_touch', 'wp_settlement_apply',
		'wp_sheet_cancel', 'wp_sheet_close', 'wp_sheet_lines', 'wp_sheet_open',
		'wp_sheet_status', 'wp_sheet_submit', 'wp_signin_failed',
		'wp_signin_lookup', 'wp_statement', 'wp_totp_enrol', 'wp_voucher']
$$;

-- Makes every entry point SECURITY DEFINER with search_path = this schema,
-- pg_temp; takes EXECUTE on every wp_* function from PUBLIC; and, when
-- p_role (the daemon's role, the user of [database] dsn) is not the caller,
-- gives p_role exactly: USAGE on the schema, EXECUTE on the entry points,
-- SELECT on the schema's record (the start-up check reads it), on
-- pii_keyring (the start-up check of the [security] keys, 032) and on the
-- four columns of sheet that the sheet-in-slices SQL names
-- (daemon/sheetapi.c: a sheet found by its contractor and MsgId). Any
-- other privilege p_role held on the schema's tables, sequences and
-- functions is revoked first, so that running it again converges. Refuses
-- (SQLSTATE WP003) a p_role that does not exist, is a superuser, or is a
-- member of the owner (it would hold all the owner's rights).
-- Locks nothing of the data. Called by daemon/migrate.c, last.
CREATE OR REPLACE FUNCTION wp_grant_daemon(p_role text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	v_schema	text := current_schema();
	v_fn		regprocedure;
	v_n		int := 0;
BEGIN
	EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', v_schema);
	FOR v_fn IN SELECT p.oid::regprocedure FROM pg_proc p
	    WHERE p.pronamespace = v_schema::regnamespace AND p.proname LIKE 'wp\_%'
	    AND p.prokind = 'f' LOOP
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_fn);
	END LOOP;
	FOR v_fn IN SELECT p.oid::regprocedure FROM pg_proc p
	    WHERE p.pronamespace = v_schema::regnamespace
	    AND p.proname = ANY (wp_daemon_entry_points()) AND p.prokind = 'f' LOOP
		EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp',
			v_fn, v_schema);
		v_n := v_n + 1;
	END LOOP;
	IF p_role IS NULL OR p_role = current_user THEN
		RETURN v_n;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role) THEN
		RAISE EXCEPTION 'the daemon''s role % does not exist: create it (CREATE ROLE % LOGIN) and run --migrate again', p_role, p_role
			USING ERRCODE = 'WP003';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role AND rolsuper)
	    OR pg_has_role(p_role, current_user, 'MEMBER') THEN
		RAISE EXCEPTION 'the daemon''s role % is a superuser or a member of the schema owner %: it would hold every right; give the daemon a role of its own', p_role, current_user
			USING ERRCODE = 'WP003';
	END IF;
	EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', v_schema, p_role);
	EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', v_schema, p_role);
	EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM %I', v_schema, p_role);
	EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema, p_role);
	FOR v_fn IN SELECT p.oid::regprocedure FROM pg_proc p
	    WHERE p.pronamespace = v_schema::regnamespace
	    AND p.proname = ANY (wp_daemon_entry_points()) AND p.prokind = 'f' LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_fn, p_role);
	END LOOP;
	EXECUTE format('GRANT SELECT ON schema_migration, schema_function_file TO %I', p_role);
	-- which index key the personal data is indexed with (032): checked at start
	EXECUTE format('GRANT SELECT ON pii_keyring TO %I', p_role);
	EXECUTE format('GRANT SELECT (id, contractor_uscc, msg_id, state) ON sheet TO %I', p_role);
	RETURN v_n;
END $$;
