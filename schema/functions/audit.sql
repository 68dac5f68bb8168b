-- audit.sql: the audit trail's hash chains, one per dedicated account and
-- 'global' for the rest: appending a record and verifying every chain.

-- Appends one record to chain p_chain, chained to the chain's newest one by
-- its hash (wp_audit_hash). Locks the chain's head row FOR UPDATE until the
-- transaction ends. Lock order, everywhere: the dedicated account's row, then
-- that account's chain head (only a holder of the row locks it), then the
-- 'global' head; so for an account's chain, call it holding the account's row.
-- A chain's first record creates its head; two first records at once are safe:
-- the second INSERT waits for the first to commit and then does nothing.
-- Called by every function that moves money on an account (wp_sheet_pay,
-- wp_core_deposit, wp_core_return, wp_core_debit, wp_core_legal_order,
-- wp_project_open, wp_console_close, wp_console_move), with the chain named by
-- wp_account_chain.
CREATE OR REPLACE FUNCTION wp_audit_append(p_chain text, p_actor text, p_action text, p_object text,
	p_detail text)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_prev	bytea;
	v_id	bigint;
	v_at	timestamptz := clock_timestamp();
	v_hash	bytea;
BEGIN
	SELECT hash INTO v_prev FROM audit_head WHERE chain = p_chain FOR UPDATE;
	IF NOT FOUND THEN
		INSERT INTO audit_head (chain, hash) VALUES (p_chain, sha256(''::bytea))
		ON CONFLICT (chain) DO NOTHING;
		SELECT hash INTO STRICT v_prev FROM audit_head WHERE chain = p_chain FOR UPDATE;
	END IF;
	v_id := nextval('audit_id_seq');
	v_hash := wp_audit_hash(p_chain, v_prev, v_id, v_at, p_actor, p_action, p_object, p_detail);
	INSERT INTO audit (id, chain, at, actor, action, object, detail, prev_hash, hash)
	VALUES (v_id, p_chain, v_at, p_actor, p_action, p_object, p_detail, v_prev, v_hash);
	UPDATE audit_head SET hash = v_hash, last_id = v_id WHERE chain = p_chain;
END $$;

-- The four-argument form: a record in the 'global' chain, for what is about no
-- account. Called by daemon/session.c (sign-ins), daemon/operator.c
-- (--add-operator), and by wp_approval_propose, wp_approval_decide,
-- wp_roster_upsert, wp_console_alert_retry, wp_console_signout and
-- wp_console_signin_failed.
CREATE OR REPLACE FUNCTION wp_audit_append(p_actor text, p_action text, p_object text, p_detail text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM wp_audit_append('global', p_actor, p_action, p_object, p_detail);
END $$;

-- One answer for the whole trail: ok when every chain verifies, the number of
-- records and chains, and the first broken record with its chain (the lowest
-- broken id of all). Reads one snapshot. Called by daemon/consoleapi.c (the
-- console's audit check).
CREATE OR REPLACE FUNCTION wp_audit_verify(OUT ok boolean, OUT records bigint, OUT first_broken bigint,
	OUT chains bigint, OUT broken_chain text)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(bool_and(v.ok), true), coalesce(sum(v.records), 0)::bigint,
		min(v.first_broken), count(*),
		(array_agg(v.chain ORDER BY v.first_broken) FILTER (WHERE NOT v.ok))[1]
	FROM wp_audit_verify_chains() v
$$;

-- Verifies each chain: one row per chain (every head, and every chain that has
-- records), ok, how many records, and the first broken record: the lowest id
-- whose prev_hash is not its predecessor's hash, whose hash is not its own, or
-- that its head does not vouch for (newer than the head's last_id, or no head
-- at all); else, if the head does not match the newest record (the newest
-- records were removed, or the head changed), the head's last_id (the newest
-- record it vouches for), or the chain's newest record when the head has none.
-- STABLE: one snapshot, so records appended meanwhile are either wholly seen
-- (record and head) or not. Called by wp_audit_verify.
CREATE OR REPLACE FUNCTION wp_audit_verify_chains()
RETURNS TABLE (chain text, ok boolean, records bigint, first_broken bigint)
LANGUAGE sql STABLE AS $$
	WITH r AS (
		SELECT a.chain, a.id, a.hash,
			a.prev_hash IS DISTINCT FROM lag(a.hash, 1, sha256(''::bytea)) OVER w
			OR a.hash IS DISTINCT FROM wp_audit_hash(a.chain, a.prev_hash, a.id, a.at,
				a.actor, a.action, a.object, a.detail)
			OR h.last_id IS NULL OR a.id > h.last_id AS bad
		FROM audit a LEFT JOIN audit_head h ON h.chain = a.chain
		WINDOW w AS (PARTITION BY a.chain ORDER BY a.id)
	), c AS (
		SELECT r.chain, count(*) AS records, min(r.id) FILTER (WHERE r.bad) AS bad,
			max(r.id) AS last_id, (array_agg(r.hash ORDER BY r.id DESC))[1] AS last_hash
		FROM r GROUP BY r.chain
	), v AS (
		SELECT coalesce(c.chain, h.chain) AS chain, coalesce(c.records, 0) AS records,
			coalesce(c.bad, CASE WHEN h.hash IS DISTINCT FROM coalesce(c.last_hash, sha256(''::bytea))
			    OR h.last_id IS DISTINCT FROM c.last_id
			THEN coalesce(h.last_id, c.last_id, 0) END) AS first_broken
		FROM c FULL JOIN audit_head h ON h.chain = c.chain
	)
	SELECT v.chain, v.first_broken IS NULL, v.records::bigint, v.first_broken FROM v
	ORDER BY v.chain
$$;

-- The name of a dedicated account's chain: 'account:' and its number.
CREATE OR REPLACE FUNCTION wp_account_chain(p_number text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT 'account:' || p_number
$$;

-- A record's hash: sha256 of the previous hash and the record's fields; the
-- chain's name is hashed too for every chain but 'global' (a record moved to
-- another chain breaks), and 'global' records keep the hash they always had
-- (the name implied), so they verify unchanged. Called by wp_audit_append and
-- wp_audit_verify_chains.
CREATE OR REPLACE FUNCTION wp_audit_hash(p_chain text, p_prev bytea, p_id bigint, p_at timestamptz,
	p_actor text, p_action text, p_object text, p_detail text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_chain = 'global'
		THEN wp_audit_hash(p_prev, p_id, p_at, p_actor, p_action, p_object, p_detail)
		ELSE sha256(p_prev || convert_to(concat_ws(E'\x1f', p_id::text,
			(extract(epoch FROM p_at) * 1000000)::bigint::text,
			p_actor, p_action, p_object, p_detail, p_chain), 'UTF8')) END
$$;

-- The hash of a 'global' record: sha256 of the previous hash and the record's
-- id, time (microseconds), actor, action, object and detail, separated by
-- U+001F.
CREATE OR REPLACE FUNCTION wp_audit_hash(p_prev bytea, p_id bigint, p_at timestamptz, p_actor text,
	p_action text, p_object text, p_detail text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT sha256(p_prev || convert_to(concat_ws(E'\x1f', p_id::text,
		(extract(epoch FROM p_at) * 1000000)::bigint::text,
		p_actor, p_action, p_object, p_detail), 'UTF8'))
$$;
