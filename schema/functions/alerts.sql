-- alerts.sql: delivery of the alert outbox to the regulators: routing each
-- alert to its recipients, claiming due deliveries, backoff and retry.

-- Routes what is new (wp_alert_route), then claims up to p_limit due
-- deliveries to recipients that are configured (p_regs) and returns everything
-- the daemon needs to build each Alert. A claim counts the attempt and moves
-- next_attempt_at p_lease seconds ahead, so that a daemon killed in the middle
-- of a POST leaves the delivery to be retried after the lease (by itself after
-- a restart, or by another instance), never lost.
-- Locks the claimed alert_delivery rows FOR UPDATE SKIP LOCKED, so two
-- instances never claim the same row at once. Amounts are fen (bigint); times
-- are ISO dateTimes at +08:00; opened is a JSON array [{code, name, account,
-- opened_at}] for ACCOUNTS_OPENED, and [{code, name, contractor, kind,
-- required, held, drawn, expires}] (fen; expires a date or null) for the
-- GUARANTEES ledger (030).
-- Called by daemon/alerts.c on every poll or kick.
CREATE OR REPLACE FUNCTION wp_alert_claim(p_regs json, p_reroute boolean, p_limit int, p_lease int)
RETURNS TABLE (delivery_id bigint, recipient text, attempts int, alert_id text, kind text,
	raised_at text, project_code text, project_name text, region text, industry text,
	account text, balance bigint, required bigint, shortfall bigint, month text,
	msg_id text, end_to_end_id text, detail text, opened json)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
	PERFORM wp_alert_route(p_regs, p_reroute, 1000);
	RETURN QUERY
	WITH c AS (
		SELECT d.id FROM alert_delivery d
		WHERE d.state = 'PENDING' AND d.next_attempt_at <= now()
		  AND d.recipient IN (SELECT r.name FROM json_to_recordset(p_regs) AS r(name text))
		ORDER BY d.next_attempt_at LIMIT p_limit
		FOR UPDATE SKIP LOCKED
	), u AS (
		UPDATE alert_delivery d SET attempts = d.attempts + 1, last_attempt_at = now(),
			next_attempt_at = now() + make_interval(secs => p_lease)
		FROM c WHERE d.id = c.id
		RETURNING d.id, d.recipient, d.attempts, d.alert_id
	)
	SELECT u.id, u.recipient, u.attempts, a.id::text, a.kind, wp_iso_cst(a.raised_at),
		p.code, p.name, p.region::text, p.industry, acc.number, a.balance, a.required,
		a.shortfall, to_char(a.month, 'YYYY-MM'), a.msg_id, a.end_to_end_id, a.detail,
		CASE WHEN a.kind = 'ACCOUNTS_OPENED' THEN coalesce((SELECT json_agg(json_build_object(
			'code', op.code, 'name', op.name, 'account', oa.number,
			'opened_at', wp_iso_cst(oa.opened_at)) ORDER BY oa.opened_at, op.code)
			FROM alert_opened o JOIN project op ON op.id = o.project_id
			JOIN account oa ON oa.id = op.account_id WHERE o.alert_id = a.id), '[]'::json)
		WHEN a.kind = 'GUARANTEES' THEN coalesce((SELECT json_agg(json_build_object(
			'code', gp.code, 'name', gp.name, 'contractor', gp.contractor_uscc,
			'kind', g.kind, 'required', g.required, 'held', g.held, 'drawn', g.drawn,
			'expires', g.expires) ORDER BY gp.code)
			FROM alert_guarantees g JOIN project gp ON gp.id = g.project_id
			WHERE g.alert_id = a.id), '[]'::json) END
	FROM u JOIN alert a ON a.id = u.alert_id
	LEFT JOIN project p ON p.id = a.project_id
	LEFT JOIN account acc ON acc.id = p.account_id
	ORDER BY u.id;
END $$;

-- A 2xx came back: the delivery is DELIVERED, never sent again; NULL when it
-- was not PENDING. Called by daemon/alerts.c.
CREATE OR REPLACE FUNCTION wp_alert_delivered(p_delivery bigint, p_status int)
RETURNS boolean LANGUAGE sql AS $$
	UPDATE alert_delivery SET state = 'DELIVERED', delivered_at = now(),
		last_status = p_status, last_error = NULL
	WHERE id = p_delivery AND state = 'PENDING'
	RETURNING true
$$;

-- Anything else (another status, a timeout, a refused connection): the next
-- attempt after 1 s doubling with each attempt, capped at p_max seconds;
-- returns when. p_status is NULL when no HTTP answer came.
-- Called by daemon/alerts.c.
CREATE OR REPLACE FUNCTION wp_alert_failed(p_delivery bigint, p_status int, p_error text, p_max int)
RETURNS timestamptz LANGUAGE sql AS $$
	UPDATE alert_delivery SET last_status = p_status, last_error = left(p_error, 500),
		next_attempt_at = now() + make_interval(secs => least(p_max,
			1::bigint << least(greatest(attempts - 1, 0), 30)))
	WHERE id = p_delivery AND state = 'PENDING'
	RETURNING next_attempt_at
$$;

-- The console's "retry now": the alert's pending deliveries become due.
-- Returns how many were made due. Called by wp_console_alert_retry.
CREATE OR REPLACE FUNCTION wp_alert_retry(p_alert uuid) RETURNS int LANGUAGE sql AS $$
	WITH u AS (UPDATE alert_delivery SET next_attempt_at = now()
		WHERE alert_id = p_alert AND state = 'PENDING' RETURNING 1)
	SELECT count(*)::int FROM u
$$;

-- Makes the delivery rows of alerts not yet routed (oldest first, at most
-- p_limit), one per recipient wp_alert_recipients names, or one NO_RECIPIENT
-- row when none covers the alert; with p_reroute also of alerts that had no
-- recipient, in case the configuration now covers them (the NO_RECIPIENT row
-- becomes REROUTED). Returns the number of alerts routed. Locks the alert rows
-- it routes FOR UPDATE SKIP LOCKED.
-- Called by wp_alert_claim.
CREATE OR REPLACE FUNCTION wp_alert_route(p_regs json, p_reroute boolean, p_limit int)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_alert	uuid;
	v_n	int := 0;
	v_orph	record;
BEGIN
	FOR v_alert IN SELECT a.id FROM alert a WHERE a.routed_at IS NULL
	    ORDER BY a.raised_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		INSERT INTO alert_delivery (alert_id, recipient)
		SELECT v_alert, n FROM wp_alert_recipients(v_alert, p_regs) AS n
		ON CONFLICT (alert_id, recipient) DO NOTHING;
		IF NOT FOUND THEN
			INSERT INTO alert_delivery (alert_id, recipient, state)
			VALUES (v_alert, '', 'NO_RECIPIENT')
			ON CONFLICT (alert_id, recipient) DO NOTHING;
		END IF;
		UPDATE alert SET routed_at = now() WHERE id = v_alert;
		v_n := v_n + 1;
	END LOOP;
	IF p_reroute THEN
		FOR v_orph IN SELECT d.id, d.alert_id FROM alert_delivery d
		    WHERE d.state = 'NO_RECIPIENT' FOR UPDATE SKIP LOCKED LOOP
			INSERT INTO alert_delivery (alert_id, recipient)
			SELECT v_orph.alert_id, n FROM wp_alert_recipients(v_orph.alert_id, p_regs) AS n
			ON CONFLICT (alert_id, recipient) DO NOTHING;
			IF FOUND THEN
				UPDATE alert_delivery SET state = 'REROUTED' WHERE id = v_orph.id;
				v_n := v_n + 1;
			END IF;
		END LOOP;
	END IF;
	RETURN v_n;
END $$;

-- The configured recipients of one alert: the one it names (ACCOUNTS_OPENED),
-- or every regulator whose region prefix covers the project's region code and
-- whose authority is HRSS or the project's industry; CARD_CHANGED (the
-- real-name roster, HRSS's own record), ACCOUNT_CLOSED (004 第十一条: the
-- closing is reported to HRSS) and the wage guarantee's GUARANTEE_SHORT,
-- GUARANTEE_EXPIRING and GUARANTEE_RELEASED (HRSS orders its use and its
-- return, 030) go to HRSS only. Called by
-- wp_alert_route.
CREATE OR REPLACE FUNCTION wp_alert_recipients(p_alert uuid, p_regs json) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
	SELECT r.name FROM alert a
	LEFT JOIN project p ON p.id = a.project_id
	CROSS JOIN json_to_recordset(p_regs) AS r(name text, region text, authority text)
	WHERE a.id = p_alert AND r.name <> ''
	  AND CASE WHEN a.recipient IS NOT NULL THEN r.name = a.recipient
	      ELSE p.id IS NOT NULL AND starts_with(p.region, r.region)
		   AND (r.authority = 'hrss'
			OR (r.authority = p.industry AND a.kind NOT IN ('CARD_CHANGED', 'ACCOUNT_CLOSED',
				'GUARANTEE_SHORT', 'GUARANTEE_EXPIRING', 'GUARANTEE_RELEASED'))) END
$$;
