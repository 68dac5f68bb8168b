-- audit.sql: the audit trail's hash chains, one per dedicated account and
-- 'global' for the rest: appending a record and verifying every chain.

CREATE OR REPLACE FUNCTION wp_audit_hash(p_prev bytea, p_id bigint, p_at timestamptz, p_actor text,
	p_action text, p_object text, p_detail text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT sha256(p_prev || convert_to(concat_ws(E'\x1f', p_id::text,
		(extract(epoch FROM p_at) * 1000000)::bigint::text,
		p_actor, p_action, p_object, p_detail), 'UTF8'))
$$;

-- The chain of a dedicated account's records.
CREATE OR REPLACE FUNCTION wp_account_chain(p_number text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT 'account:' || p_number
$$;

-- 002's four-argument form, kept for what is about no account (the daemon's
-- sign-ins and --add-operator, proposals, decisions, roster uploads): the
-- 'global' chain.
CREATE OR REPLACE FUNCTION wp_audit_append(p_actor text, p_action text, p_object text, p_detail text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM wp_audit_append('global', p_actor, p_action, p_object, p_detail);
END $$;

-- Appends one record to chain p_chain, chained to the chain's newest one.
-- Locks the chain's head until the transaction ends: for an account's
-- chain, call it holding the account's row (lock order above). A chain's
-- first record creates its head; two first records at once are safe: the
-- second INSERT waits for the first to commit and then does nothing.
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

-- A record's hash: 002's for 'global', the chain's name added for any other.
CREATE OR REPLACE FUNCTION wp_audit_hash(p_chain text, p_prev bytea, p_id bigint, p_at timestamptz,
	p_actor text, p_action text, p_object text, p_detail text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_chain = 'global'
		THEN wp_audit_hash(p_prev, p_id, p_at, p_actor, p_action, p_object, p_detail)
		ELSE sha256(p_prev || convert_to(concat_ws(E'\x1f', p_id::text,
			(extract(epoch FROM p_at) * 1000000)::bigint::text,
			p_actor, p_action, p_object, p_detail, p_chain), 'UTF8')) END
$$;

CREATE OR REPLACE FUNCTION wp_audit_verify(OUT ok boolean, OUT records bigint, OUT first_broken bigint,
	OUT chains bigint, OUT broken_chain text)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(bool_and(v.ok), true), coalesce(sum(v.records), 0)::bigint,
		min(v.first_broken), count(*),
		(array_agg(v.chain ORDER BY v.first_broken) FILTER (WHERE NOT v.ok))[1]
	FROM wp_audit_verify_chains() v
$$;

-- Verifies each chain: one row per chain (every head, and every chain that
-- has records), ok, how many records, and the first broken record: the
-- lowest id whose prev_hash is not its predecessor's hash, whose hash is
-- not its own, or that its head does not vouch for (newer than the head's
-- last_id, or no head at all); else, if the head does not match the
-- newest record (the newest records were removed, or the head changed),
-- the head's last_id (the newest record it vouches for), or the chain's
-- newest record when the head has none. STABLE: one snapshot, so records
-- appended meanwhile are either wholly seen (record and head) or not.
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

