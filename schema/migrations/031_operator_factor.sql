-- 031_operator_factor.sql: a second factor for operators (issue 22, part 3).
-- Each operator's TOTP secret (RFC 6238), encrypted by the daemon under
-- [console] totp_key (AES-256-GCM: key id byte, 12-byte nonce, ciphertext,
-- 16-byte tag; the operator's name is the associated data), and the last
-- time step of a code accepted, so that a code signs in once. An operator
-- stored before this migration has no secret: they enrol one at their next
-- sign-in with their password (schema/functions/operators.sql), or an
-- administrator runs --add-operator again.
-- A reset of an operator's second factor is a four-eyes approval,
-- RESET_SECOND_FACTOR (the kinds re-listed from the constraint as it is,
-- as 022 does).
-- Least privilege (part 2) needs no migration: wp_grant_daemon
-- (functions/privileges.sql), called by --migrate after every functions
-- file, sets the entry points SECURITY DEFINER and grants the daemon's role.
ALTER TABLE operator ADD COLUMN totp_secret bytea,
	ADD COLUMN totp_last_step bigint;

DO $$
DECLARE
	c	record;
	v_kinds	text;
BEGIN
	FOR c IN SELECT * FROM (VALUES
		('approval', 'approval_kind_check', ARRAY['RESET_SECOND_FACTOR'])) AS x(tab, con, more)
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_constraint
		    WHERE conname = c.con AND conrelid = c.tab::regclass) THEN
			RAISE EXCEPTION 'constraint % of % not found', c.con, c.tab;
		END IF;
		SELECT string_agg(quote_literal(k), ', ' ORDER BY k) INTO v_kinds FROM (
			SELECT m[1] AS k FROM pg_constraint pc
			CROSS JOIN LATERAL regexp_matches(pg_get_constraintdef(pc.oid), '''([A-Z_]+)''', 'g') AS m
			WHERE pc.conname = c.con AND pc.conrelid = c.tab::regclass
			UNION SELECT unnest(c.more)) ks;
		EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (kind IN (%s))',
			c.tab, c.con, c.con, v_kinds);
	END LOOP;
END $$;

-- a reset waiting for its checker is looked up by the operator's name
CREATE INDEX approval_reset_operator ON approval ((payload->>'operator'))
	WHERE kind = 'RESET_SECOND_FACTOR' AND state = 'PENDING';
