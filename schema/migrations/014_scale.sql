-- 014_scale.sql: more of what the database did per request (or per scrape)
-- in proportion to the size of its tables rather than of the request,
-- after 012. Found with auto_explain on the benchmark's world (1,000
-- projects, 7,933 sheets, 2.7M sheet lines and transfers, 1.1M roster
-- entries); figures are that world's, warm, before -> after.
--
-- Contractor API and core feed:
-- 1. wp_statement (GET .../statement) summed the account's transfers with
--    "credit_account = id OR debit_account = id", which no index serves:
--    009 made transfer_credit partial (reason <> 'WAGE') and the OR was
--    planned as a scan of every transfer of the bank (3.4M rows read, 781
--    ms for a statement of 1,544 entries; 70 ms for a month without any).
--    Each side now uses its own index: debits on transfer_debit, credits
--    on transfer_credit with reason <> 'WAGE' stated (a dedicated account
--    is never credited a WAGE: wages credit CLEARING-OUT, 009 §2). The
--    opening balance was a sum over the account's whole history before
--    the period; when the period is nearer now than the account's
--    opening, it is the row's balance less what moved since (001: a
--    dedicated account's balance equals its credits minus its debits, the
--    same snapshot). November (1,544 entries): 0.8-1.6 s -> 16-35 ms;
--    June (none): 50-70 ms -> 3-9 ms. 16 statements (4 accounts x 4
--    periods, both ways of the opening) compared row for row: identical.
-- 2. wp_sheet_status (GET /v1/sheets/{MsgId}) compared the char(18)
--    contractor with text, as 012 found for the replay lookup: the whole
--    unique index of sheets read for one sheet. Cast as in 012; the exact
--    text comparison is kept. 140 -> 4 buffers.
-- 3. wp_core_return found the returned line among the account's paid
--    sheets with no index on sheet.account_id: every sheet of the bank read
--    per returned payment (683 buffers, 7.5 ms). A partial index in the
--    query's own order (newest paid first) serves the LIMIT 1.
-- 4. wp_core_legal_order's SEIZE/DEDUCT read every account for the one
--    ATTACHED account (as 012 found for the CLEARING ones).
--
-- Console (and /metrics):
-- 5. wp_console_alerts without "all" took the open alerts by an OR over
--    two conditions and a subquery: every alert ever raised read. The open
--    ones come from 004's partial indexes now (as wp_console_alert_backlog
--    does); "all" walks alert_raised newest first.
-- 6. wp_console_approvals without "all", the pending counts of the overview
--    and /metrics, and the "already proposed" check read every approval
--    (one per account ever opened) for the few pending: a partial index.
-- 7. wp_console_project's approvals of a project matched three payload
--    fields of every approval ever made: expression indexes serve them.
-- 8. wp_console_audit's "older than" page walked the trail from the newest
--    record down to p_before under a generic plan ("p_before IS NULL OR id
--    < p_before" is no index condition): now an index range from p_before.
-- 9. wp_console_metrics read the sheets six times per scrape (four counts,
--    three sums, HELD on its index): once now. Still one pass over all
--    sheets per scrape (left: exact figures without that pass would need
--    counters on a row that every payment of the bank updates).
-- 10. wp_console_alert_backlog (every scrape and every overview) read every
--    delivery ever made, twice: "state IN ('PENDING', 'NO_RECIPIENT')" is
--    served by neither of 004's one-state partial indexes. One state at a
--    time now.
-- With 200,000 delivered alerts and 100,000 decided approvals added (in a
-- rolled-back transaction): open alerts 40 -> 25 ms (500 listed), pending
-- approvals 14 -> 0.3 ms, a project page 60 -> 22 ms, an older audit page
-- 2.3 -> 0.6 ms (7,472 records), /metrics 145-168 -> 24-30 ms, the
-- overview 164-188 -> 42-47 ms; the same JSON before and after (md5).

-- --- 1. the statement ----------------------------------------------------------

-- As 008: the same rows and figures, each side of the account on its index.
CREATE OR REPLACE FUNCTION wp_statement(p_contractor text, p_account text, p_from date, p_to date, p_max int)
RETURNS TABLE (kind text, outcome text, opening bigint, closing bigint, ref text, amount bigint,
	credit boolean, booked date, reason text, msg_id text, e2e text, ustrd text, party text,
	rtr text, tx_id bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	v_acc	account%ROWTYPE;
	v_proj	project%ROWTYPE;
	v_from	timestamptz := p_from::timestamp AT TIME ZONE INTERVAL '+08:00';
	v_to	timestamptz := (p_to + 1)::timestamp AT TIME ZONE INTERVAL '+08:00';
	v_open	bigint;
	v_net	bigint;
	v_n	bigint;
	v_since	bigint;
BEGIN
	SELECT a.* INTO v_acc FROM account a WHERE a.number = p_account AND a.kind = 'DEDICATED';
	IF FOUND THEN
		SELECT p.* INTO v_proj FROM project p WHERE p.account_id = v_acc.id;
	END IF;
	IF v_acc.id IS NULL OR v_proj.contractor_uscc IS DISTINCT FROM p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL::bigint, NULL::bigint, NULL::text,
			NULL::bigint, NULL::boolean, NULL::date, NULL::text, NULL::text, NULL::text,
			NULL::text, NULL::text, NULL::text, NULL::bigint;
		RETURN;
	END IF;
	-- 014: the shorter of the account's history before the period and its
	-- movements since the period began is read, never both
	IF v_from - v_acc.opened_at <= now() - v_from THEN
		SELECT coalesce(sum(x.net), 0) INTO v_open FROM (
			SELECT -t.amount AS net FROM transfer t
			WHERE t.debit_account = v_acc.id AND t.created_at < v_from
			UNION ALL
			SELECT t.amount FROM transfer t
			WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE' AND t.created_at < v_from) x;
		SELECT coalesce(sum(x.net), 0), count(*) INTO v_net, v_n FROM (
			SELECT -t.amount AS net FROM transfer t
			WHERE t.debit_account = v_acc.id AND t.created_at >= v_from AND t.created_at < v_to
			UNION ALL
			SELECT t.amount FROM transfer t
			WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE'
			  AND t.created_at >= v_from AND t.created_at < v_to) x;
	ELSE
		SELECT coalesce(sum(x.net), 0), coalesce(sum(x.net) FILTER (WHERE x.at < v_to), 0),
			count(*) FILTER (WHERE x.at < v_to)
		INTO v_since, v_net, v_n FROM (
			SELECT -t.amount AS net, t.created_at AS at FROM transfer t
			WHERE t.debit_account = v_acc.id AND t.created_at >= v_from
			UNION ALL
			SELECT t.amount, t.created_at FROM transfer t
			WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE' AND t.created_at >= v_from) x;
		v_open := v_acc.balance - v_since;
	END IF;
	IF v_n > p_max THEN
		RETURN QUERY SELECT 'S', 'TOO_MANY', v_open, v_open + v_net, v_proj.code, v_n,
			NULL::boolean, NULL::date, NULL::text, NULL::text, NULL::text, NULL::text,
			NULL::text, NULL::text, NULL::bigint;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'S', 'OK', v_open, v_open + v_net, v_proj.code, v_n,
		NULL::boolean, NULL::date, NULL::text, NULL::text, NULL::text, NULL::text,
		NULL::text, NULL::text, NULL::bigint;
	RETURN QUERY
	SELECT 'E', NULL::text, NULL::bigint, NULL::bigint,
		CASE WHEN t.reason IN ('DEPOSIT', 'RETURN', 'ATTACHMENT') THEN t.reference
		     ELSE 'T' || t.id END,
		t.amount, t.credit_account = v_acc.id, wp_cst(t.created_at)::date, t.reason,
		coalesce(s.msg_id, rs.msg_id),
		coalesce(l.end_to_end_id, rl.end_to_end_id),
		CASE WHEN l.seq IS NOT NULL THEN l.kind || '/' || to_char(l.month, 'YYYY-MM')
		     WHEN rl.seq IS NOT NULL THEN 'RETURN ' || rl.kind || '/' || to_char(rl.month, 'YYYY-MM')
		     WHEN o.ref IS NOT NULL THEN left(o.kind || ' ' || o.order_no, 140)
		     WHEN t.reason = 'DEPOSIT' THEN 'LABOUR COST' END,
		coalesce(l.name, rl.name, d.payer_name, o.authority),
		r.reason_code, t.id
	FROM (SELECT * FROM transfer t						-- 014
	      WHERE t.debit_account = v_acc.id AND t.created_at >= v_from AND t.created_at < v_to
	      UNION ALL
	      SELECT * FROM transfer t
	      WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE'
	        AND t.created_at >= v_from AND t.created_at < v_to) t
	LEFT JOIN sheet s ON t.reason = 'WAGE' AND s.id = t.sheet_id
	LEFT JOIN sheet_line l ON t.reason = 'WAGE' AND l.sheet_id = t.sheet_id AND l.seq = t.line_seq
	LEFT JOIN deposit d ON t.reason = 'DEPOSIT' AND d.entry_ref = t.reference
	LEFT JOIN line_return r ON t.reason = 'RETURN' AND r.entry_ref = t.reference
	LEFT JOIN sheet_line rl ON rl.sheet_id = r.sheet_id AND rl.seq = r.line_seq
	LEFT JOIN sheet rs ON rs.id = r.sheet_id
	LEFT JOIN legal_order o ON t.reason = 'ATTACHMENT' AND o.ref = t.reference
	ORDER BY t.id;
END $$;

-- --- 2. a sheet's status ---------------------------------------------------------

-- As 002, the sheet found by its unique index (012's cast; the text
-- comparison keeps a contractor with trailing blanks matching nothing).
CREATE OR REPLACE FUNCTION wp_sheet_status(p_contractor text, p_msg_id text)
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE sql STABLE AS $$
	SELECT r.* FROM sheet s, wp_sheet_report(s.id, 'REPLAY') r
	WHERE s.contractor_uscc = p_contractor::bpchar AND s.contractor_uscc::text = p_contractor
	  AND s.msg_id = p_msg_id
$$;

-- --- 3. a returned payment's line ---------------------------------------------

-- wp_core_return's search: the account's paid sheets, most recently paid
-- first, each probed for the EndToEndId on sheet_line's unique index.
CREATE INDEX sheet_account_paid ON sheet (account_id, paid_at DESC, id DESC) WHERE state = 'PAID';

-- --- 4. the ATTACHED account ----------------------------------------------------

CREATE INDEX account_attached ON account (kind) WHERE kind = 'ATTACHED';

-- --- 5. open alerts -------------------------------------------------------------

-- As 005: the same alerts. NULL p_all, as before, lists the open ones.
-- Of alerts raised at the same instant, those that are listed first (by
-- id) are the ones kept within the 500; before, which of them was kept
-- depended on the plan.
CREATE OR REPLACE FUNCTION wp_console_alerts(p_all boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', a.id, 'kind', a.kind,
		'project', p.code, 'project_name', p.name, 'region', p.region,
		'raised_at', a.raised_at, 'month', to_char(a.month, 'YYYY-MM'),
		'balance', wp_yuan(a.balance), 'required', wp_yuan(a.required),
		'shortfall', wp_yuan(a.shortfall), 'msg_id', a.msg_id,
		'end_to_end_id', a.end_to_end_id, 'detail', a.detail,
		'routed', a.routed_at IS NOT NULL, 'delivered', NOT wp_console_alert_open(a),
		'deliveries', wp_console_alert_deliveries(a.id)) ORDER BY a.raised_at DESC, a.id), '[]')
	FROM ((SELECT * FROM alert a WHERE p_all				-- 014
	       ORDER BY a.raised_at DESC, a.id LIMIT 500)
	      UNION ALL
	      (SELECT * FROM alert a WHERE NOT coalesce(p_all, false) AND a.id IN (
		SELECT u.id FROM alert u WHERE u.routed_at IS NULL
		UNION
		SELECT d.alert_id FROM alert_delivery d WHERE d.state = 'PENDING'
		UNION
		SELECT d.alert_id FROM alert_delivery d WHERE d.state = 'NO_RECIPIENT')
	       ORDER BY a.raised_at DESC, a.id LIMIT 500)) a
	LEFT JOIN project p ON p.id = a.project_id
$$;

-- --- 6. pending approvals -------------------------------------------------------

CREATE INDEX approval_pending ON approval (id) WHERE state = 'PENDING';

-- As 005: the same approvals.
CREATE OR REPLACE FUNCTION wp_console_approvals(p_all boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(wp_approval_json(x.id) ORDER BY x.id DESC), '[]')
	FROM ((SELECT id FROM approval WHERE p_all ORDER BY id DESC LIMIT 500)	-- 014
	      UNION ALL
	      (SELECT id FROM approval WHERE NOT coalesce(p_all, false) AND state = 'PENDING'
	       ORDER BY id DESC LIMIT 500)) x
$$;

-- --- 7. a project's approvals ---------------------------------------------------

CREATE INDEX approval_code ON approval ((payload->>'code'));
CREATE INDEX approval_from ON approval ((payload->>'from'));
CREATE INDEX approval_to ON approval ((payload->>'to'));

-- --- 8. the audit trail's pages -------------------------------------------------

-- As 011: the same records.
CREATE OR REPLACE FUNCTION wp_console_audit(p_before bigint) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', x.id, 'chain', x.chain, 'at', x.at, 'actor', x.actor,
		'action', x.action, 'object', x.object, 'detail', x.detail,
		'hash', encode(x.hash, 'hex')) ORDER BY x.id DESC), '[]')
	FROM ((SELECT * FROM audit WHERE p_before IS NULL ORDER BY id DESC LIMIT 100)	-- 014
	      UNION ALL
	      (SELECT * FROM audit WHERE id < p_before ORDER BY id DESC LIMIT 100)) x
$$;

-- --- 9. /metrics ----------------------------------------------------------------

-- As 005: the same figures, the sheets read once.
CREATE OR REPLACE FUNCTION wp_console_metrics() RETURNS json LANGUAGE sql STABLE AS $$
	WITH s AS (							-- 014
		SELECT s.state, count(*) AS n, sum(s.accepted_count) AS lines,
			sum(s.accepted_total) AS fen
		FROM sheet s GROUP BY s.state
	)
	SELECT json_build_object(
		'sheets', (SELECT coalesce(json_object_agg(x.state, x.n), '{}') FROM (
			SELECT lower(st) AS state, coalesce((SELECT s.n FROM s WHERE s.state = st), 0) AS n
			FROM unnest(ARRAY['RECEIVED', 'REJECTED', 'HELD', 'PAID']) st) x),
		'lines_paid', (SELECT coalesce(sum(s.lines), 0) FROM s WHERE s.state = 'PAID'),
		'fen_paid', (SELECT coalesce(sum(s.fen), 0) FROM s WHERE s.state = 'PAID'),
		'fen_held', (SELECT coalesce(sum(s.fen), 0) FROM s WHERE s.state = 'HELD'),
		'accounts_open', (SELECT count(*) FROM account WHERE kind = 'DEDICATED' AND state = 'OPEN'),
		'fen_balance', (SELECT coalesce(sum(balance), 0) FROM account WHERE kind = 'DEDICATED'),
		'approvals_pending', (SELECT count(*) FROM approval WHERE state = 'PENDING'),
		'alerts', wp_console_alert_backlog())
$$;

-- --- 10. the alert backlog (/metrics and the overview) ----------------------------

-- As 005: the same figures. "state IN ('PENDING', 'NO_RECIPIENT')" is served
-- by neither of 004's partial indexes (each covers one state), so every
-- delivery ever made was read, twice per scrape; one state at a time, each
-- on its own index. The view alert_undelivered is left as it was.
CREATE OR REPLACE FUNCTION wp_console_alert_backlog() RETURNS json LANGUAGE sql STABLE AS $$
	WITH d AS (							-- 014
		SELECT d.alert_id, d.recipient FROM alert_delivery d WHERE d.state = 'PENDING'
		UNION ALL
		SELECT d.alert_id, d.recipient FROM alert_delivery d WHERE d.state = 'NO_RECIPIENT'
	), open AS (
		SELECT a.id, a.raised_at FROM alert a WHERE a.routed_at IS NULL
		UNION
		SELECT a.id, a.raised_at FROM alert a WHERE a.id IN (SELECT d.alert_id FROM d))
	SELECT json_build_object(
		'count', (SELECT count(*) FROM open),
		'oldest', (SELECT min(raised_at) FROM open),
		'unrouted', (SELECT count(*) FROM alert a WHERE a.routed_at IS NULL),
		'by_recipient', (SELECT coalesce(json_object_agg(x.recipient, x.n), '{}') FROM (
			SELECT d.recipient, count(*) AS n FROM d JOIN alert a ON a.id = d.alert_id
			GROUP BY d.recipient ORDER BY d.recipient) x))
$$;
