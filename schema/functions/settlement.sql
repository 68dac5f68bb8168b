-- settlement.sql: payment orders to the bank's core and what the core says
-- of them. The order rows are written by wp_sheet_pay (sheet.sql) in the
-- paying transaction; here: claiming due orders for delivery
-- (daemon/payorders.c), recording an attempt (taken, or failed with
-- backoff), applying the core's pain.002 per line (ACCC, or RJCT: money back
-- to the account, earmarked, PAYMENT_FAILED), and the SETTLEMENT_OVERDUE rule.

-- Claims up to p_limit due orders (PENDING, next_attempt_at passed), oldest
-- first, and returns one row per line of each (in order, then line order)
-- with what the daemon needs to build the pain.001.001.10: the order's
-- MsgId (the same on every attempt), its creation time, count and sum, the
-- dedicated account (a paid guarantee draw's: the guarantee account, 030)
-- and the project's name (the debtor), and per line the
-- InstrId, EndToEndId, amount, worker's name, card, card bank and
-- remittance (WAGE/YYYY-MM); with keys (032) name and card are blind indexes
-- and pii is the line's sealed record in hex, which the daemon opens for
-- the clear name and card (NULL: stored in clear). A claim counts the attempt and moves
-- next_attempt_at p_lease seconds ahead, so that a daemon killed mid-POST
-- leaves the order due again after the lease, never lost.
-- Locks the claimed payment_order rows FOR UPDATE SKIP LOCKED: two instances
-- never claim the same order at once. Called by daemon/payorders.c.
CREATE OR REPLACE FUNCTION wp_payorder_claim(p_limit int, p_lease int)
RETURNS TABLE (order_id bigint, msg_id text, attempts int, created_at text, nb_of_txs int,
	ctrl_sum bigint, account text, debtor text, instr_id text, end_to_end_id text,
	amount bigint, name text, card text, card_bank text, remittance text, pii text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	WITH c AS (
		SELECT o.id FROM payment_order o
		WHERE o.state = 'PENDING' AND o.next_attempt_at <= now()
		ORDER BY o.next_attempt_at LIMIT p_limit
		FOR UPDATE SKIP LOCKED
	), u AS (
		UPDATE payment_order o SET attempts = o.attempts + 1, last_attempt_at = now(),
			next_attempt_at = now() + make_interval(secs => p_lease)
		FROM c WHERE o.id = c.id
		RETURNING o.id, o.msg_id, o.attempts, o.created_at, o.nb_of_txs, o.ctrl_sum,
			o.account_id, o.sheet_id, o.draw_id
	)
	SELECT x.id, x.msg_id, x.attempts, x.created, x.nb_of_txs, x.ctrl_sum, x.number, x.name,
		x.instr, x.e2e, x.amount, x.cname, x.card, x.card_bank, x.rmt, x.pii
	FROM (SELECT u.id, u.msg_id, u.attempts, wp_iso_cst(u.created_at) AS created, u.nb_of_txs,
		u.ctrl_sum, a.number, p.name, u.msg_id || '-' || l.seq AS instr, l.end_to_end_id AS e2e,
		l.amount, l.name AS cname, l.card, l.card_bank,
		l.kind || '/' || to_char(l.month, 'YYYY-MM') AS rmt, l.seq, encode(l.pii, 'hex') AS pii
	FROM u JOIN account a ON a.id = u.account_id
	JOIN project p ON p.account_id = a.id
	JOIN sheet_line l ON l.sheet_id = u.sheet_id AND l.reason_code IS NULL
	UNION ALL
	-- a paid draw on the wage guarantee (030): its lines, from its account
	SELECT u.id, u.msg_id, u.attempts, wp_iso_cst(u.created_at), u.nb_of_txs, u.ctrl_sum,
		a.number, p.name, u.msg_id || '-' || l.seq, l.end_to_end_id, l.amount, l.name,
		l.card, l.card_bank, 'WAGE/' || to_char(l.month, 'YYYY-MM'), l.seq, encode(l.pii, 'hex')
	FROM u JOIN account a ON a.id = u.account_id
	JOIN guarantee_draw_line l ON l.draw_id = u.draw_id
	JOIN project p ON p.id = l.project_id) x
	ORDER BY x.id, x.seq;
END $$;

-- 2xx answers came back: each order named is TAKEN, never sent again, at the
-- time the daemon heard its 2xx (p_at, its wall clock; never later than
-- now(), never before the attempt began), not when this statement reaches
-- the database behind the sheets queued in the daemon's pool. The daemon
-- gathers the 2xx that arrive while the previous call runs into one call:
-- one commit for many orders. An order not PENDING (taken already, by a
-- status or another instance) is left as it is. A fresh order (sent by the
-- daemon that paid it, never claimed) has its attempt counted here.
-- Returns how many became TAKEN. Locks the rows in id order. Called by
-- daemon/payorders.c.
CREATE OR REPLACE FUNCTION wp_payorder_taken(p_orders bigint[], p_status int[],
	p_at timestamptz[])
RETURNS int LANGUAGE sql AS $$
	WITH t AS (
		SELECT x.id, x.status, least(x.at, now()) AS at
		FROM unnest(p_orders, p_status, p_at) AS x(id, status, at)
	), l AS (
		SELECT o.id FROM payment_order o
		WHERE o.id = ANY (p_orders) AND o.state = 'PENDING'
		ORDER BY o.id FOR UPDATE
	), u AS (
		UPDATE payment_order o SET state = 'TAKEN',
			taken_at = greatest(coalesce(t.at, now()), o.last_attempt_at),
			last_status = t.status, last_error = NULL, attempts = greatest(o.attempts, 1),
			last_attempt_at = coalesce(o.last_attempt_at, t.at, now())
		FROM l JOIN t ON t.id = l.id
		WHERE o.id = l.id AND o.state = 'PENDING'
		RETURNING 1
	)
	SELECT count(*)::int FROM u
$$;

-- A fresh order the daemon that paid it could not send itself (too many in
-- flight, or a big sheet decided in one call, whose lines are not kept):
-- due now rather than after the lease wp_sheet_close gave it; its counted
-- attempt stays (the backoff is not the core's doing). NULL when it is not
-- PENDING. Called by daemon/payorders.c.
CREATE OR REPLACE FUNCTION wp_payorder_due(p_order bigint)
RETURNS boolean LANGUAGE sql AS $$
	UPDATE payment_order SET next_attempt_at = now()
	WHERE id = p_order AND state = 'PENDING'
	RETURNING true
$$;

-- Anything else (another status, a timeout, a refused connection): the next
-- attempt after 1 s doubling with each attempt, capped at p_max seconds, as
-- for alerts (wp_alert_failed); returns when. p_status is NULL when no HTTP
-- answer came; a fresh order's attempt is counted here, as in
-- wp_payorder_taken. Called by daemon/payorders.c.
CREATE OR REPLACE FUNCTION wp_payorder_failed(p_order bigint, p_status int, p_error text,
	p_max int)
RETURNS timestamptz LANGUAGE sql AS $$
	UPDATE payment_order SET last_status = p_status, last_error = left(p_error, 500),
		attempts = greatest(attempts, 1), last_attempt_at = coalesce(last_attempt_at, now()),
		next_attempt_at = now() + make_interval(secs => least(p_max,
			1::bigint << least(greatest(attempts - 1, 0), 30)))
	WHERE id = p_order AND state = 'PENDING'
	RETURNING next_attempt_at
$$;

-- Applies the core's pain.002.001.11 about one order (OrgnlMsgId p_msg_id),
-- all or nothing: p_lines is a JSON array [{instr, e2e, sts, reason}], each
-- line named by its InstrId (OrgnlInstrId) or EndToEndId (OrgnlEndToEndId),
-- or both (then they must name the same line); with no lines, a group
-- status ACCC or RJCT (p_group, p_group_reason) stands for every line not
-- settled yet. Final statuses only count: ACCC (credited to the card) and
-- RJCT (refused, with its reason, default NARR); others (ACSP, PDNG, ...)
-- change nothing. A new RJCT puts the line's money back on the dedicated
-- account, earmarked for the worker and month (wp_line_back, as a camt.054
-- return does; nothing more if the line came back already), raises
-- PAYMENT_FAILED (a worker is unpaid) and goes to the account's audit chain.
-- Outcome APPLIED (counts), DUPLICATE (every status known already: a replay
-- changes nothing), or REFUSED, nothing applied: WP51 no order with that
-- MsgId; WP52 a line the order does not have; WP53 a line given another
-- final status than the one it has (or two in this message).
-- An order the core answers is taken, whatever its delivery said. A paid
-- guarantee draw's order is settled by wp_guarantee_settlement (030).
-- Locks the dedicated account's row FOR UPDATE, then the order's row.
-- Called by daemon/core.c (POST /v1/core/payment-status).
CREATE OR REPLACE FUNCTION wp_settlement_apply(p_msg_id text, p_group text, p_group_reason text,
	p_lines json, OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_order		payment_order%ROWTYPE;
	v_bad		record;
	v_new		int;
	v_dup		int;
	v_rj		int;
BEGIN
	SELECT * INTO v_order FROM payment_order WHERE msg_id = p_msg_id;
	IF NOT FOUND THEN
		outcome := 'REFUSED'; code := 'WP51';
		message := 'no payment order with MsgId ' || left(p_msg_id, 35);
		RETURN;
	END IF;
	PERFORM 1 FROM account WHERE id = v_order.account_id FOR UPDATE;
	SELECT * INTO STRICT v_order FROM payment_order WHERE id = v_order.id FOR UPDATE;
	IF v_order.draw_id IS NOT NULL THEN
		-- a guarantee draw's order (030, functions/guarantee.sql)
		SELECT * INTO outcome, code, message
		FROM wp_guarantee_settlement(v_order, p_group, p_group_reason, p_lines);
		RETURN;
	END IF;
	-- the statuses of this message, resolved, dropped at COMMIT
	IF to_regclass('pg_temp.wp_settle_in') IS NULL THEN
		CREATE TEMP TABLE wp_settle_in (seq int, instr text, e2e text, sts text,
			reason text, fresh boolean) ON COMMIT DROP;
	ELSE
		TRUNCATE wp_settle_in;
	END IF;
	-- each status resolved to its line (seq NULL: the order has no such line)
	INSERT INTO wp_settle_in
	SELECT CASE WHEN x.instr IS NULL OR x.instr = '' THEN e.seq
		    WHEN i.seq IS NOT NULL AND (coalesce(x.e2e, '') = '' OR e.seq = i.seq) THEN i.seq
		    END,
		nullif(x.instr, ''), nullif(x.e2e, ''), x.sts,
		CASE WHEN x.sts = 'RJCT' THEN coalesce(nullif(x.reason, ''), 'NARR') END, false
	FROM json_to_recordset(p_lines) AS x(instr text, e2e text, sts text, reason text)
	LEFT JOIN sheet_line i ON i.sheet_id = v_order.sheet_id AND i.reason_code IS NULL
	  AND x.instr LIKE v_order.msg_id || '-%'
	  -- the cast only under the CASE: AND does not order its evaluation, and
	  -- an absent OrgnlInstrId ('' from the daemon) cast to int failed the
	  -- whole report (found by t0740: a status naming lines by EndToEndId)
	  AND i.seq = CASE WHEN substr(x.instr, length(v_order.msg_id) + 2) ~ '^[1-9][0-9]{0,8}$'
	      THEN substr(x.instr, length(v_order.msg_id) + 2)::int END
	LEFT JOIN sheet_line e ON e.sheet_id = v_order.sheet_id AND e.reason_code IS NULL
	  AND e.end_to_end_id = x.e2e;
	IF json_array_length(p_lines) = 0 AND p_group IN ('ACCC', 'RJCT') THEN
		INSERT INTO wp_settle_in
		SELECT l.seq, v_order.msg_id || '-' || l.seq, l.end_to_end_id, p_group,
			CASE WHEN p_group = 'RJCT' THEN coalesce(nullif(p_group_reason, ''), 'NARR') END,
			false
		FROM sheet_line l WHERE l.sheet_id = v_order.sheet_id AND l.reason_code IS NULL
		  AND NOT EXISTS (SELECT 1 FROM payment_settlement s
		      WHERE s.order_id = v_order.id AND s.line_seq = l.seq);
	END IF;
	DELETE FROM wp_settle_in WHERE seq IS NOT NULL AND sts NOT IN ('ACCC', 'RJCT');
	SELECT * INTO v_bad FROM wp_settle_in WHERE seq IS NULL LIMIT 1;
	IF FOUND THEN
		outcome := 'REFUSED'; code := 'WP52';
		message := 'order ' || v_order.msg_id || ' has no line '
			|| coalesce('InstrId ' || v_bad.instr, 'EndToEndId ' || v_bad.e2e, '(unnamed)')
			|| CASE WHEN v_bad.instr IS NOT NULL AND v_bad.e2e IS NOT NULL
			   THEN ' with EndToEndId ' || v_bad.e2e ELSE '' END
			|| '; nothing of this status report was applied';
		RETURN;
	END IF;
	SELECT i.seq INTO v_bad FROM wp_settle_in i
	LEFT JOIN payment_settlement s ON s.order_id = v_order.id AND s.line_seq = i.seq
	WHERE s.status <> i.sts
	   OR EXISTS (SELECT 1 FROM wp_settle_in j WHERE j.seq = i.seq AND j.sts <> i.sts)
	LIMIT 1;
	IF FOUND THEN
		outcome := 'REFUSED'; code := 'WP53';
		message := 'line ' || v_order.msg_id || '-' || v_bad.seq || ' has another final status'
			|| '; nothing of this status report was applied';
		RETURN;
	END IF;
	SELECT count(*) FILTER (WHERE s.order_id IS NOT NULL) INTO v_dup
	FROM (SELECT DISTINCT seq FROM wp_settle_in) i
	LEFT JOIN payment_settlement s ON s.order_id = v_order.id AND s.line_seq = i.seq;
	SELECT * INTO v_new, v_rj FROM wp_settlement_book(v_order);
	UPDATE payment_order SET unsettled = unsettled - v_new,
		state = 'TAKEN', taken_at = coalesce(taken_at, now())
	WHERE id = v_order.id;
	IF v_new = 0 THEN
		outcome := 'DUPLICATE';
		message := 'order ' || v_order.msg_id || ': ' || v_dup
			|| ' line status(es) known already; nothing changed';
	ELSE
		outcome := 'APPLIED';
		message := 'order ' || v_order.msg_id || ': ' || (v_new - v_rj) || ' credited, '
			|| v_rj || ' rejected (money back, earmarked), ' || v_dup || ' known already';
	END IF;
END $$;

-- Books the new final statuses of wp_settle_in (lines without one yet) for
-- an order: the payment_settlement rows, one SETTLED payline event of the
-- platform feed naming them, and for each RJCT the money back
-- (wp_line_back, unless the line came back already), PAYMENT_FAILED and an
-- audit record. Returns how many statuses were new and how many of them
-- RJCT. The caller holds the account's row and the order's FOR UPDATE.
-- Called by wp_settlement_apply.
CREATE OR REPLACE FUNCTION wp_settlement_book(p_order payment_order, OUT n_new int,
	OUT n_rjct int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	r	record;
	v_acc	account%ROWTYPE;
	v_sheet	sheet%ROWTYPE;
BEGIN
	UPDATE wp_settle_in i SET fresh = true
	WHERE NOT EXISTS (SELECT 1 FROM payment_settlement s
	    WHERE s.order_id = p_order.id AND s.line_seq = i.seq);
	INSERT INTO payment_settlement (order_id, line_seq, sheet_id, status, reason)
	SELECT DISTINCT p_order.id, i.seq, p_order.sheet_id, i.sts, left(i.reason, 35)
	FROM wp_settle_in i WHERE i.fresh;
	GET DIAGNOSTICS n_new = ROW_COUNT;
	-- the platform feed: one SETTLED payline event naming the lines
	IF n_new > 0 THEN
		PERFORM wp_feed_payline(p_order.sheet_id, ARRAY(SELECT DISTINCT i.seq
			FROM wp_settle_in i WHERE i.fresh ORDER BY 1), 'SETTLED', p_order.msg_id);
	END IF;
	n_rjct := 0;
	SELECT * INTO STRICT v_sheet FROM sheet WHERE id = p_order.sheet_id;
	-- rejections are rare: one line at a time
	FOR r IN SELECT DISTINCT i.seq AS line_seq, left(i.reason, 35) AS reason, l.end_to_end_id,
		l.month, l.amount, (SELECT true FROM line_return x WHERE x.sheet_id = l.sheet_id
		 AND x.line_seq = l.seq) AS back
	    FROM wp_settle_in i JOIN sheet_line l ON l.sheet_id = p_order.sheet_id
	      AND l.seq = i.seq
	    WHERE i.fresh AND i.sts = 'RJCT' ORDER BY 1 LOOP
		n_rjct := n_rjct + 1;
		IF r.back IS NULL THEN
			PERFORM wp_line_back('RJCT/' || p_order.msg_id || '-' || r.line_seq,
				p_order.account_id, p_order.sheet_id, r.line_seq, r.reason,
				wp_cst(now())::date);
		END IF;
		SELECT * INTO STRICT v_acc FROM account WHERE id = p_order.account_id;
		INSERT INTO alert (kind, project_id, balance, required, month, msg_id, end_to_end_id,
			detail, dedup_key)
		VALUES ('PAYMENT_FAILED', v_sheet.project_id, v_acc.balance, r.amount, r.month,
			v_sheet.msg_id, r.end_to_end_id,
			'the core refused the wage payment to the worker''s card (' || r.reason
			|| '): the worker is unpaid; ' || wp_yuan(r.amount) || ' back on the account, '
			|| 'earmarked for ' || to_char(r.month, 'YYYY-MM')
			|| CASE WHEN r.back THEN ' (it had come back already)' ELSE '' END,
			'PAYMENT_FAILED:' || p_order.id || ':' || r.line_seq)
		ON CONFLICT (dedup_key) DO NOTHING;
		PERFORM wp_audit_append(wp_account_chain(v_acc.number), 'core', 'wage.rejected',
			'sheet:' || v_sheet.msg_id,
			'line ' || r.end_to_end_id || ' of order ' || p_order.msg_id
			|| ' rejected by the core (' || r.reason || ')'
			|| CASE WHEN r.back THEN '' ELSE ': ' || r.amount || ' fen back to account '
			   || v_acc.number || ', earmarked for ' || to_char(r.month, 'YYYY-MM') END);
	END LOOP;
END $$;

-- SETTLEMENT_OVERDUE: an order the core took more than p_hours ago (at
-- p_now, the daemon's clock) that still has lines without a final status.
-- One alert per order (its line count and the first EndToEndId), raised once
-- (dedup_key: edge-triggered; it stays raised while lines stay open); a
-- guarantee draw's order (030) too, its MsgId the order's.
-- Returns how many were raised. Reads only open orders (payment_order_open).
-- Called by daemon/rules.c on its timer, beside wp_rules_run.
CREATE OR REPLACE FUNCTION wp_rule_settlement_overdue(p_now timestamptz, p_hours int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	v_n	int;
BEGIN
	INSERT INTO alert (kind, project_id, raised_at, balance, msg_id, end_to_end_id, detail,
		dedup_key)
	SELECT 'SETTLEMENT_OVERDUE', coalesce(s.project_id, d.project_id), p_now, a.balance,
		coalesce(s.msg_id, o.msg_id),
		coalesce((SELECT l.end_to_end_id FROM payment_order_line l WHERE l.order_id = o.id
		 AND l.status IS NULL ORDER BY l.line_seq LIMIT 1),
		 (SELECT g.end_to_end_id FROM guarantee_draw_line g WHERE g.draw_id = o.draw_id
		  AND NOT EXISTS (SELECT 1 FROM payment_settlement x WHERE x.order_id = o.id
		      AND x.line_seq = g.seq) ORDER BY g.seq LIMIT 1)),
		o.unsettled || ' line(s) of payment order ' || o.msg_id
		|| CASE WHEN d.id IS NOT NULL THEN ' (wage guarantee draw ' || d.id || ', HRSS decision '
		   || d.decision_no || ')' ELSE '' END || ' taken by the core at '
		|| wp_iso_cst(o.taken_at) || ' have no final status after ' || p_hours || ' hours',
		'SETTLEMENT_OVERDUE:' || o.id
	FROM payment_order o LEFT JOIN sheet s ON s.id = o.sheet_id
	LEFT JOIN guarantee_draw d ON d.id = o.draw_id	-- 030
	JOIN account a ON a.id = o.account_id
	WHERE o.unsettled > 0 AND o.taken_at < p_now - make_interval(hours => p_hours)
	ON CONFLICT (dedup_key) DO NOTHING;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END $$;
