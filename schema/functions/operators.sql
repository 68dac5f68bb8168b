-- operators.sql: bank operators, their sessions and their second factor
-- (TOTP, RFC 6238; issue 22, migration 031). The daemon verifies the
-- password (scrypt) and the code (liboath) itself; the database keeps the
-- password's hash, the TOTP secret encrypted under [console] totp_key
-- (AES-256-GCM, done in daemon/totp.c: the database never holds the key),
-- and the last time step accepted, so that a code is accepted once. Every
-- sign-in, enrolment and reset is in the 'global' audit chain.

-- One row whatever the name: the operator's id, password hash and
-- encrypted TOTP secret (NULLs for a name that does not exist or is
-- disabled), and whether the name is locked by failed sign-ins
-- (signin_throttle). Locks nothing. Called by daemon/session.c.
CREATE OR REPLACE FUNCTION wp_signin_lookup(p_name text, OUT id bigint, OUT password_hash text,
	OUT locked boolean, OUT totp_secret bytea)
LANGUAGE sql STABLE AS $$
	SELECT o.id, o.password_hash, EXISTS (SELECT 1 FROM signin_throttle t
		WHERE t.name = p_name AND t.locked_until > now()), o.totp_secret
	FROM (SELECT 1) x LEFT JOIN operator o ON o.name = p_name AND NOT o.disabled
$$;

-- Opens a session for an operator whose password and code the daemon
-- checked: p_step is the code's RFC 6238 time step, p_secret the encrypted
-- secret it was checked against. Accepted once: a step not after the last
-- one accepted (the same code again, or an older one) is a replay, and a
-- secret changed meanwhile (reset, re-enrolled) is refused; both answer
-- NULL and change nothing. Otherwise records the step, drops expired and
-- idle sessions and the name's failed sign-ins, stores the session (the
-- token's SHA-256 only) and returns the operator's role. Locks the
-- operator's row (UPDATE). Called by daemon/session.c.
CREATE OR REPLACE FUNCTION wp_session_open(p_token_hash bytea, p_operator bigint, p_secret bytea,
	p_step bigint, p_idle int, p_life int)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_role	text;
	v_name	text;
BEGIN
	UPDATE operator SET totp_last_step = p_step
	WHERE id = p_operator AND NOT disabled AND totp_secret = p_secret
	  AND (totp_last_step IS NULL OR totp_last_step < p_step)
	RETURNING role, name INTO v_role, v_name;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	DELETE FROM operator_session WHERE expires_at < now()
		OR last_seen < now() - make_interval(secs => p_idle);
	DELETE FROM signin_throttle WHERE name = v_name;
	INSERT INTO operator_session (token_hash, operator_id, expires_at)
	VALUES (p_token_hash, p_operator, now() + make_interval(secs => p_life));
	PERFORM wp_audit_append('operator:' || v_name, 'session.signin', 'operator:' || v_name, '');
	RETURN v_role;
END $$;

-- The session of a token's hash, if it is alive: at most 8 hours (the
-- daemon's p_life when it was opened) and p_idle seconds since its last
-- request, its operator not disabled; this request counts as one (017).
-- Returns the operator's id, name and role, or no row. Locks the session's
-- row (UPDATE). Called by daemon/session.c for every signed-in call.
CREATE OR REPLACE FUNCTION wp_session_touch(p_token_hash bytea, p_idle int,
	OUT id bigint, OUT name text, OUT role text)
RETURNS SETOF record LANGUAGE sql AS $$
	UPDATE operator_session s SET last_seen = now()
	FROM operator o WHERE o.id = s.operator_id AND s.token_hash = p_token_hash
	  AND s.expires_at > now() AND s.last_seen > now() - make_interval(secs => p_idle)
	  AND NOT o.disabled
	RETURNING o.id, o.name, o.role
$$;

-- An operator without a second factor (one whose factor a checker reset,
-- or one stored before 031) enrols one at a sign-in with the right
-- password: the daemon makes the secret and this stores it, encrypted,
-- only if the operator still has none (two sign-ins at once: the first
-- wins, the other gets false). Locks the operator's row. Called by
-- daemon/session.c.
CREATE OR REPLACE FUNCTION wp_totp_enrol(p_operator bigint, p_secret bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_name	text;
BEGIN
	UPDATE operator SET totp_secret = p_secret, totp_last_step = NULL
	WHERE id = p_operator AND totp_secret IS NULL AND NOT disabled
	RETURNING name INTO v_name;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM wp_audit_append('operator:' || v_name, 'operator.factor_enrolled',
		'operator:' || v_name, 'at sign-in');
	RETURN true;
END $$;

-- --add-operator: stores an operator (a name already there gets the new
-- role and password and is enabled again) with a new second factor
-- (p_secret, encrypted; no step accepted yet), and records it. Locks the
-- operator's row (upsert). Called by daemon/operator.c, with [database]
-- migrate_dsn when set (an administrator's act, not the daemon's: the
-- daemon's role may not call it).
CREATE OR REPLACE FUNCTION wp_operator_add(p_name text, p_role text, p_hash text, p_secret bytea)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_id	bigint;
BEGIN
	INSERT INTO operator (name, role, password_hash, totp_secret)
	VALUES (p_name, p_role, p_hash, p_secret)
	ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role,
		password_hash = EXCLUDED.password_hash, disabled = false,
		totp_secret = EXCLUDED.totp_secret, totp_last_step = NULL
	RETURNING id INTO v_id;
	PERFORM wp_audit_append('cli', 'operator.added', 'operator:' || p_name,
		'role ' || p_role || ', second factor enrolled');
	RETURN v_id;
END $$;

-- Why a RESET_SECOND_FACTOR of p_payload's operator cannot be proposed, or
-- NULL: no such operator, or a reset of it already waits for a checker.
-- Locks nothing. Called by wp_console_propose.
CREATE OR REPLACE FUNCTION wp_operator_reset_refusal(p_payload jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE
		WHEN NOT EXISTS (SELECT 1 FROM operator WHERE name = p_payload->>'operator')
		THEN 'no such operator'
		WHEN EXISTS (SELECT 1 FROM approval a WHERE a.kind = 'RESET_SECOND_FACTOR'
		    AND a.state = 'PENDING' AND a.payload->>'operator' = p_payload->>'operator')
		THEN 'a reset of this operator''s second factor already waits for a checker'
	END
$$;

-- An approved RESET_SECOND_FACTOR: the operator's secret is dropped and
-- every session of theirs ended; they enrol a new factor at their next
-- sign-in with their password (wp_totp_enrol), or an administrator runs
-- --add-operator. Raises WP002 for an operator gone meanwhile. Locks the
-- operator's row. Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_operator_factor_reset(p jsonb, p_actor text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_id	bigint;
BEGIN
	UPDATE operator SET totp_secret = NULL, totp_last_step = NULL
	WHERE name = p->>'operator' RETURNING id INTO v_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such operator' USING ERRCODE = 'WP002';
	END IF;
	DELETE FROM operator_session WHERE operator_id = v_id;
	PERFORM wp_audit_append(p_actor, 'operator.factor_reset', 'operator:' || (p->>'operator'),
		'second factor reset; sessions ended');
END $$;
