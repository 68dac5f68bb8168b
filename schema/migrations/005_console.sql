-- 005_console.sql: what the operations console reads, and the two
-- four-eyes actions beyond opening: closing a dedicated account and a
-- manual money movement.
--
-- Every read returns one JSON value, so that the daemon routes and never
-- reshapes. ID and card numbers leave the database only masked (wp_console_mask):
-- the console process never holds a full one. Every state change appends an
-- audit record in the same transaction (lock order as in 002: dedicated
-- account rows by id, then audit_head).

-- The console's mask of an ID or card number, the same as ids_mask() in
-- proto/ids.c: first 4 and last 4 kept, the rest '*'; shorter than 12
-- characters masked whole.
CREATE FUNCTION wp_console_mask(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN s IS NULL THEN NULL
		WHEN length(s) >= 12 THEN left(s, 4) || repeat('*', length(s) - 8) || right(s, 4)
		ELSE repeat('*', length(s)) END
$$;

-- The plan of a project as of p_now: labour cost planned for the months whose
-- deposits were due (a month's deposits are due by its last day, so the
-- months before p_now's, in China time as 007's rules count them), and what
-- the owner has deposited so far. Cumulative, like DEPOSIT_SHORT: an owner
-- who paid two months early is not behind.
CREATE FUNCTION wp_console_plan(p_project bigint, p_now timestamptz,
	OUT planned bigint, OUT deposited bigint, OUT months_due int)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(m.planned), 0)::bigint,
		(SELECT coalesce(sum(d.amount), 0)::bigint FROM deposit d WHERE d.account_id = p.account_id),
		count(m.month)::int
	FROM project p
	LEFT JOIN LATERAL (
		SELECT (p.start_month + make_interval(months => i))::date AS month,
			p.labour_cost_total / p.contract_months
			+ CASE WHEN i = p.contract_months - 1
			  THEN p.labour_cost_total % p.contract_months ELSE 0 END AS planned
		FROM generate_series(0, p.contract_months - 1) AS i) m
	  ON m.month < date_trunc('month', wp_cst(p_now))::date
	WHERE p.id = p_project
	GROUP BY p.id, p.account_id
$$;

-- Months with workers unpaid, up to p_now's month: a worker on the roster
-- is on site in every month from the later of the project's start and their
-- entry to the month they left (or p_now's), and each such month needs a
-- paid line (WAGE, or BACKPAY of that month) on this project that did not
-- come back (006's line_return) -- the same test as 007's WAGES_OVERDUE.
-- One row per month short. plpgsql because line_return is made by a later
-- migration (006).
CREATE FUNCTION wp_console_unpaid_months(p_project bigint, p_now timestamptz)
RETURNS TABLE (month date, workers bigint) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT m.month::date, count(*)
	FROM project p JOIN roster_entry r ON r.project_id = p.id
	CROSS JOIN LATERAL generate_series(
		greatest(p.start_month, date_trunc('month', r.entered)::date),
		date_trunc('month', least(coalesce(r.left_on, wp_cst(p_now)::date), wp_cst(p_now)::date))::date,
		interval '1 month') AS m(month)
	WHERE p.id = p_project AND NOT EXISTS (
		SELECT 1 FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
		WHERE l.project_id = p.id AND l.id_number = r.id_number
		  AND l.month = m.month::date AND l.reason_code IS NULL AND s.state = 'PAID'
		  AND NOT EXISTS (SELECT 1 FROM line_return x
			WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq))
	GROUP BY m.month ORDER BY m.month;
END $$;

-- Why a project's account may not close now, or NULL if it may
-- (DESIGN §2: only after the project is complete and no wages are owed).
CREATE FUNCTION wp_console_close_refusal(p_project bigint, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_acc	account%ROWTYPE;
	v_n	bigint;
	v_m	record;
BEGIN
	SELECT a.* INTO v_acc FROM account a JOIN project p ON p.account_id = a.id
	WHERE p.id = p_project;
	IF NOT FOUND THEN
		RETURN 'no such project';
	END IF;
	IF v_acc.state <> 'OPEN' THEN
		RETURN 'the dedicated account is already closed';
	END IF;
	SELECT count(*) INTO v_n FROM sheet WHERE project_id = p_project AND state = 'HELD';
	IF v_n > 0 THEN
		RETURN v_n || ' wage sheet(s) are held for funds';
	END IF;
	IF v_acc.earmarked > 0 THEN
		RETURN 'returned wages of ' || wp_yuan(v_acc.earmarked)
			|| ' yuan are earmarked for their workers and not yet paid again';
	END IF;
	SELECT count(*) AS n, min(u.month) AS first, sum(u.workers) AS workers INTO v_m
	FROM wp_console_unpaid_months(p_project, p_now) u;
	IF v_m.n > 0 THEN
		RETURN v_m.n || ' month(s) have workers unpaid (' || v_m.workers
			|| ' worker-months, the first ' || to_char(v_m.first, 'YYYY-MM') || ')';
	END IF;
	IF v_acc.balance > 0 THEN
		RETURN 'the account still holds ' || wp_yuan(v_acc.balance)
			|| ' yuan: return it to the owner by a manual movement first';
	END IF;
	RETURN NULL;
END $$;

-- --- proposals -------------------------------------------------------------

-- A maker's proposal of any kind, checked now against the rules it will be
-- checked against again when approved (the world may change in between).
-- Returns the approval id, or NULL and the refusal.
CREATE FUNCTION wp_console_propose(p_kind text, p_payload jsonb, p_maker bigint,
	p_now timestamptz, OUT approval bigint, OUT refusal text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
	v_from	account%ROWTYPE;
	v_to	account%ROWTYPE;
BEGIN
	IF p_kind = 'CLOSE_ACCOUNT' THEN
		SELECT * INTO v_proj FROM project WHERE code = p_payload->>'code';
		IF NOT FOUND THEN
			refusal := 'no such project';
			RETURN;
		END IF;
		IF EXISTS (SELECT 1 FROM approval a WHERE a.kind = 'CLOSE_ACCOUNT'
		    AND a.state = 'PENDING' AND a.payload->>'code' = v_proj.code) THEN
			refusal := 'closing this account is already proposed and waits for a checker';
			RETURN;
		END IF;
		refusal := wp_console_close_refusal(v_proj.id, p_now);
		IF refusal IS NOT NULL THEN
			refusal := 'the account cannot close: ' || refusal;
			RETURN;
		END IF;
	ELSIF p_kind = 'MANUAL_MOVEMENT' THEN
		SELECT * INTO v_from FROM account WHERE number = p_payload->>'from';
		SELECT * INTO v_to FROM account WHERE number = p_payload->>'to';
		refusal := wp_console_move_refusal(v_from, v_to, (p_payload->>'amount_fen')::bigint, p_now);
		IF refusal IS NOT NULL THEN
			RETURN;
		END IF;
	ELSIF p_kind <> 'OPEN_ACCOUNT' THEN
		refusal := 'unknown kind of proposal';
		RETURN;
	END IF;
	approval := wp_approval_propose(p_kind, p_payload, p_maker);
	IF approval IS NULL THEN
		refusal := 'that project or account number already exists: '
			|| 'a project has exactly one dedicated account';
	END IF;
END $$;

-- Why a manual movement may not be made, or NULL. A movement has a
-- dedicated account on at least one side and the bank's clearing accounts
-- (money from or to outside the bank) or another dedicated account on the
-- other. A dedicated account gives only what it holds beyond what it owes
-- its workers as 006's wp_wages_owed counts it for legal orders (held
-- sheets, this month's planned labour cost, earmarked returns): wages come
-- first. plpgsql because wp_wages_owed is made by a later migration.
CREATE FUNCTION wp_console_move_refusal(p_from account, p_to account, p_amount bigint,
	p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	w	record;
BEGIN
	IF p_from.id IS NULL THEN
		RETURN 'no such account to move money from';
	END IF;
	IF p_to.id IS NULL THEN
		RETURN 'no such account to move money to';
	END IF;
	IF p_from.id = p_to.id THEN
		RETURN 'the two accounts are the same';
	END IF;
	IF p_amount IS NULL OR p_amount <= 0 THEN
		RETURN 'the amount must be positive';
	END IF;
	IF p_from.kind NOT IN ('DEDICATED', 'CLEARING_IN', 'CLEARING_OUT')
	    OR p_to.kind NOT IN ('DEDICATED', 'CLEARING_IN', 'CLEARING_OUT') THEN
		RETURN 'manual movements are between dedicated and clearing accounts only';
	END IF;
	IF p_from.kind <> 'DEDICATED' AND p_to.kind <> 'DEDICATED' THEN
		RETURN 'one side of a manual movement must be a dedicated account';
	END IF;
	IF p_from.state <> 'OPEN' OR p_to.state <> 'OPEN' THEN
		RETURN 'a closed account neither pays nor receives';
	END IF;
	IF p_from.kind = 'DEDICATED' THEN
		SELECT * INTO w FROM wp_wages_owed(p_from.id, p_now);
		IF p_from.balance - p_amount < w.owed THEN
			RETURN 'account ' || p_from.number || ' can give at most '
				|| wp_yuan(greatest(p_from.balance - w.owed, 0))
				|| ' yuan (balance ' || wp_yuan(p_from.balance) || '; owed to its workers: held sheets '
				|| wp_yuan(w.held) || ', this month''s planned labour cost '
				|| wp_yuan(w.planned) || ', earmarked returns ' || wp_yuan(w.earmarked) || ')';
		END IF;
	END IF;
	RETURN NULL;
END $$;

-- --- the approved actions ---------------------------------------------------

-- "Now" for a decision: the daemon's clock (clock.c, which tests may move
-- with WAGEPAY_CLOCK) as wp_console_decide set it for this transaction, or
-- the database's.
CREATE FUNCTION wp_console_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('wagepay.console_now', true), '')::timestamptz, now())
$$;

-- Closes a project's dedicated account (approved CLOSE_ACCOUNT). The account
-- row is locked first, so no sheet or deposit slips in between the check and
-- the close. Raises SQLSTATE WP002 with the refusal.
CREATE FUNCTION wp_console_close(p jsonb, p_actor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_why	text;
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p->>'code';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such project' USING ERRCODE = 'WP002';
	END IF;
	PERFORM 1 FROM account WHERE id = v_proj.account_id FOR UPDATE;
	v_why := wp_console_close_refusal(v_proj.id, wp_console_now());
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION 'the account cannot close: %', v_why USING ERRCODE = 'WP002';
	END IF;
	UPDATE account SET state = 'CLOSED', closed_at = now() WHERE id = v_proj.account_id;
	UPDATE project SET state = 'CLOSED' WHERE id = v_proj.id;
	PERFORM wp_audit_append(p_actor, 'account.closed', 'project:' || v_proj.code,
		'dedicated account ' || (SELECT number FROM account WHERE id = v_proj.account_id)
		|| ' closed');
END $$;

-- Moves money by hand (approved MANUAL_MOVEMENT): one MANUAL transfer
-- referenced by the approval, the dedicated balances changed with it, and,
-- if money came into a dedicated account, its held sheets released as a
-- deposit would. Raises SQLSTATE WP002 with the refusal.
CREATE FUNCTION wp_console_move(p jsonb, p_approval bigint, p_actor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_from	account%ROWTYPE;
	v_to	account%ROWTYPE;
	v_amt	bigint := (p->>'amount_fen')::bigint;
	v_why	text;
	v_n	int;
BEGIN
	-- lock order: dedicated account rows by id (clearing rows are never locked)
	PERFORM 1 FROM account WHERE number IN (p->>'from', p->>'to') AND kind = 'DEDICATED'
	ORDER BY id FOR UPDATE;
	SELECT * INTO v_from FROM account WHERE number = p->>'from';
	SELECT * INTO v_to FROM account WHERE number = p->>'to';
	v_why := wp_console_move_refusal(v_from, v_to, v_amt, wp_console_now());
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION '%', v_why USING ERRCODE = 'WP002';
	END IF;
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	VALUES (v_from.id, v_to.id, v_amt, 'MANUAL', 'approval:' || p_approval);
	UPDATE account SET balance = balance - v_amt WHERE id = v_from.id AND kind = 'DEDICATED';
	UPDATE account SET balance = balance + v_amt WHERE id = v_to.id AND kind = 'DEDICATED';
	PERFORM wp_audit_append(p_actor, 'money.manual', 'account:' || v_from.number,
		wp_yuan(v_amt) || ' yuan to ' || v_to.number || ' by approval ' || p_approval
		|| ': ' || coalesce(p->>'reason', ''));
	IF v_to.kind = 'DEDICATED' THEN
		v_n := wp_release_held(v_to.id, p_actor);
	END IF;
END $$;

-- wp_approval_decide of 002 with the two kinds it did not handle. Same
-- signature, same four-eyes refusal, same audit record.
CREATE OR REPLACE FUNCTION wp_approval_decide(p_id bigint, p_checker bigint, p_decision text,
	OUT state text, OUT outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_ap	approval%ROWTYPE;
	v_name	text;
BEGIN
	SELECT * INTO v_ap FROM approval WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		state := 'NOT_FOUND';
		RETURN;
	END IF;
	IF v_ap.state <> 'PENDING' THEN
		state := v_ap.state;
		outcome := 'already decided: ' || coalesce(v_ap.outcome, '');
		RETURN;
	END IF;
	IF v_ap.maker_id = p_checker THEN
		state := 'SAME_OPERATOR';
		outcome := 'the maker of a proposal cannot approve it (four eyes)';
		RETURN;
	END IF;
	SELECT name INTO STRICT v_name FROM operator WHERE id = p_checker;
	IF p_decision = 'reject' THEN
		state := 'REJECTED';
		outcome := 'rejected by ' || v_name;
	ELSE
		-- a failed action is rolled back to here and recorded as FAILED
		BEGIN
			IF v_ap.kind = 'OPEN_ACCOUNT' THEN
				PERFORM wp_project_open(v_ap.payload, 'operator:' || v_name);
				outcome := 'dedicated account ' || (v_ap.payload->>'account') || ' opened';
			ELSIF v_ap.kind = 'CLOSE_ACCOUNT' THEN
				PERFORM wp_console_close(v_ap.payload, 'operator:' || v_name);
				outcome := 'dedicated account of ' || (v_ap.payload->>'code') || ' closed';
			ELSE
				PERFORM wp_console_move(v_ap.payload, p_id, 'operator:' || v_name);
				outcome := (v_ap.payload->>'amount') || ' yuan moved from '
					|| (v_ap.payload->>'from') || ' to ' || (v_ap.payload->>'to');
			END IF;
			state := 'APPROVED';
		EXCEPTION WHEN unique_violation OR check_violation OR foreign_key_violation
		    OR not_null_violation OR invalid_datetime_format OR datetime_field_overflow
		    OR SQLSTATE 'WP002' THEN
			state := 'FAILED';
			outcome := SQLERRM;
		END;
	END IF;
	UPDATE approval SET state = wp_approval_decide.state, checker_id = p_checker,
		decided_at = now(), outcome = wp_approval_decide.outcome WHERE id = p_id;
	PERFORM wp_audit_append('operator:' || v_name, 'approval.' || lower(wp_approval_decide.state),
		'approval:' || p_id, coalesce(wp_approval_decide.outcome, ''));
END $$;

-- --- reads -----------------------------------------------------------------

-- One sheet of the list on the overview and on a project page.
CREATE FUNCTION wp_console_sheet_row(s sheet) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', s.id, 'msg_id', s.msg_id,
		'project', (SELECT code FROM project WHERE id = s.project_id),
		'subcontractor', json_build_object('uscc', s.subcontractor_uscc,
			'name', (SELECT name FROM company WHERE uscc = s.subcontractor_uscc)),
		'month', to_char(s.month, 'YYYY-MM'), 'state', lower(s.state),
		'lines', s.nb_of_txs, 'accepted', s.accepted_count,
		'ctrl_sum', wp_yuan(s.ctrl_sum), 'total', wp_yuan(s.accepted_total),
		'received_at', s.received_at, 'paid_at', s.paid_at)
$$;

-- --- alerts ------------------------------------------------------------------
-- Delivery state per recipient is 004's alert_delivery (one row per alert
-- and recipient; recipient '' with NO_RECIPIENT when no [regulator] covers
-- the project, REROUTED once a later configuration does). An alert is open
-- (not delivered) while it is not yet routed, or while one of its
-- deliveries is PENDING or NO_RECIPIENT.

CREATE FUNCTION wp_console_alert_open(a alert) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT a.routed_at IS NULL OR EXISTS (SELECT 1 FROM alert_delivery d
		WHERE d.alert_id = a.id AND d.state IN ('PENDING', 'NO_RECIPIENT'))
$$;

-- Alerts not yet delivered everywhere: how many, the oldest, and how many
-- deliveries wait per recipient ('' is "no recipient configured").
CREATE FUNCTION wp_console_alert_backlog() RETURNS json LANGUAGE sql STABLE AS $$
	-- set-based on 004's partial indexes (alert_unrouted, alert_delivery_due,
	-- alert_delivery_orphan): a scrape must not walk every alert ever raised
	WITH open AS (
		SELECT a.id, a.raised_at FROM alert a WHERE a.routed_at IS NULL
		UNION
		SELECT a.id, a.raised_at FROM alert a
		WHERE a.id IN (SELECT d.alert_id FROM alert_delivery d
			       WHERE d.state IN ('PENDING', 'NO_RECIPIENT')))
	SELECT json_build_object(
		'count', (SELECT count(*) FROM open),
		'oldest', (SELECT min(raised_at) FROM open),
		'unrouted', (SELECT count(*) FROM alert a WHERE a.routed_at IS NULL),
		'by_recipient', (SELECT coalesce(json_object_agg(x.recipient, x.n), '{}') FROM (
			SELECT u.recipient, count(*) AS n FROM alert_undelivered u
			GROUP BY u.recipient ORDER BY u.recipient) x))
$$;

-- The deliveries of one alert, per recipient, with a state for people:
-- failing is a PENDING delivery whose last attempt failed.
CREATE FUNCTION wp_console_alert_deliveries(p_alert uuid) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('recipient', d.recipient,
		'state', CASE WHEN d.state = 'PENDING' AND d.attempts > 0 AND d.last_error IS NOT NULL
			THEN 'failing' ELSE lower(d.state) END,
		'attempts', d.attempts, 'next_attempt_at', d.next_attempt_at,
		'last_attempt_at', d.last_attempt_at, 'last_status', d.last_status,
		'last_error', d.last_error, 'delivered_at', d.delivered_at)
		ORDER BY d.recipient), '[]')
	FROM alert_delivery d WHERE d.alert_id = p_alert AND d.state <> 'REROUTED'
$$;

-- Alerts, newest first: those not yet delivered everywhere, or all (500 at most).
CREATE FUNCTION wp_console_alerts(p_all boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', a.id, 'kind', a.kind,
		'project', p.code, 'project_name', p.name, 'region', p.region,
		'raised_at', a.raised_at, 'month', to_char(a.month, 'YYYY-MM'),
		'balance', wp_yuan(a.balance), 'required', wp_yuan(a.required),
		'shortfall', wp_yuan(a.shortfall), 'msg_id', a.msg_id,
		'end_to_end_id', a.end_to_end_id, 'detail', a.detail,
		'routed', a.routed_at IS NOT NULL, 'delivered', NOT wp_console_alert_open(a),
		'deliveries', wp_console_alert_deliveries(a.id)) ORDER BY a.raised_at DESC, a.id), '[]')
	FROM (SELECT * FROM alert a WHERE p_all OR a.routed_at IS NULL
		 OR a.id IN (SELECT d.alert_id FROM alert_delivery d
			     WHERE d.state IN ('PENDING', 'NO_RECIPIENT'))
	      ORDER BY a.raised_at DESC LIMIT 500) a
	LEFT JOIN project p ON p.id = a.project_id
$$;

-- An operator asks for an alert's pending deliveries to be tried now
-- rather than at their backed-off time (004's wp_alert_retry), recorded.
-- NULL: no such alert.
CREATE FUNCTION wp_console_alert_retry(p_alert uuid, p_operator bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	v_name	text;
	v_n	int;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM alert WHERE id = p_alert) THEN
		RETURN NULL;
	END IF;
	SELECT name INTO STRICT v_name FROM operator WHERE id = p_operator;
	v_n := wp_alert_retry(p_alert);
	PERFORM wp_audit_append('operator:' || v_name, 'alert.retry', 'alert:' || p_alert,
		v_n || ' delivery(ies) made due now');
	RETURN json_build_object('alert', p_alert, 'retried', v_n);
END $$;

-- The first screen: accounts and balances, held sheets, alerts not yet
-- delivered, projects behind plan, approvals waiting.
CREATE FUNCTION wp_console_overview(p_now timestamptz) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'now', p_now,
		'accounts', (SELECT json_build_object(
			'open', count(*) FILTER (WHERE a.state = 'OPEN'),
			'closed', count(*) FILTER (WHERE a.state = 'CLOSED'),
			'balance', wp_yuan(coalesce(sum(a.balance), 0)::bigint),
			'earmarked', wp_yuan(coalesce(sum(a.earmarked), 0)::bigint))
			FROM account a WHERE a.kind = 'DEDICATED'),
		'account_list', coalesce((SELECT json_agg(x ORDER BY x.project) FROM (
			SELECT p.code AS project, p.name, a.number AS account, lower(a.state) AS state,
				wp_yuan(a.balance) AS balance, wp_yuan(a.earmarked) AS earmarked
			FROM project p JOIN account a ON a.id = p.account_id
			ORDER BY a.state DESC, p.code LIMIT 200) x), '[]'),
		'held_sheets', coalesce((SELECT json_agg(wp_console_sheet_row(s) ORDER BY s.id)
			FROM sheet s WHERE s.state = 'HELD'), '[]'),
		'projects_behind', coalesce((SELECT json_agg(json_build_object(
				'code', p.code, 'name', p.name, 'planned', wp_yuan(pl.planned),
				'deposited', wp_yuan(pl.deposited),
				'shortfall', wp_yuan(pl.planned - pl.deposited),
				'months_due', pl.months_due) ORDER BY pl.planned - pl.deposited DESC)
			FROM project p CROSS JOIN LATERAL wp_console_plan(p.id, p_now) pl
			WHERE p.state = 'ACTIVE' AND pl.planned > pl.deposited), '[]'),
		'approvals_pending', (SELECT count(*) FROM approval WHERE state = 'PENDING'),
		'alerts_undelivered', wp_console_alert_backlog())
$$;

-- Every project with its account, plan and sheets in one row; q filters
-- by code or name.
CREATE FUNCTION wp_console_projects(p_q text, p_now timestamptz) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object(
		'code', p.code, 'name', p.name, 'region', p.region, 'industry', p.industry,
		'state', lower(p.state), 'account', a.number, 'account_state', lower(a.state),
		'balance', wp_yuan(a.balance), 'earmarked', wp_yuan(a.earmarked),
		'roster_size', (SELECT count(*) FROM roster_entry r WHERE r.project_id = p.id),
		'sheets_held', (SELECT count(*) FROM sheet s WHERE s.project_id = p.id AND s.state = 'HELD'),
		'planned', wp_yuan(pl.planned), 'deposited', wp_yuan(pl.deposited),
		'behind', pl.planned > pl.deposited) ORDER BY p.code), '[]')
	FROM project p JOIN account a ON a.id = p.account_id
	CROSS JOIN LATERAL wp_console_plan(p.id, p_now) pl
	WHERE p_q IS NULL OR p_q = '' OR p.code ILIKE '%' || p_q || '%' OR p.name ILIKE '%' || p_q || '%'
$$;

-- A project page: wp_project_json (the contract of GET /api/projects/{code})
-- and, beyond it, its sheets, its approvals, its plan to date and whether it
-- may close now.
CREATE FUNCTION wp_console_project(p_code text, p_now timestamptz) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT (wp_project_json(p.code)::jsonb || jsonb_build_object(
		'sheet_list', coalesce((SELECT json_agg(wp_console_sheet_row(s) ORDER BY s.id DESC)
			FROM (SELECT * FROM sheet s WHERE s.project_id = p.id ORDER BY s.id DESC LIMIT 200) s), '[]'),
		'approvals', coalesce((SELECT json_agg(wp_approval_json(ap.id) ORDER BY ap.id DESC)
			FROM approval ap WHERE ap.payload->>'code' = p.code
			   OR ap.payload->>'from' = a.number OR ap.payload->>'to' = a.number), '[]'),
		'plan_to_date', (SELECT json_build_object('planned', wp_yuan(pl.planned),
			'deposited', wp_yuan(pl.deposited), 'months_due', pl.months_due,
			'behind', pl.planned > pl.deposited) FROM wp_console_plan(p.id, p_now) pl),
		'unpaid_months', coalesce((SELECT json_agg(json_build_object(
			'month', to_char(u.month, 'YYYY-MM'), 'workers', u.workers))
			FROM wp_console_unpaid_months(p.id, p_now) u), '[]'),
		'close_refusal', wp_console_close_refusal(p.id, p_now)))::json
	FROM project p JOIN account a ON a.id = p.account_id WHERE p.code = p_code
$$;

-- A sheet with its lines, ID and card numbers masked. A line's status:
-- refused (with its reason), held, paid, or returned (006's line_return).
-- plpgsql because line_return is made by a later migration.
CREATE FUNCTION wp_console_sheet(p_id bigint, p_offset int) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT (wp_console_sheet_row(s)::jsonb || jsonb_build_object(
		'contractor', s.contractor_uscc,
		'account', (SELECT number FROM account WHERE id = s.account_id),
		'project_name', (SELECT name FROM project WHERE id = s.project_id),
		'offset', p_offset,
		'line_list', coalesce((SELECT json_agg(json_build_object(
			'seq', l.seq, 'end_to_end_id', l.end_to_end_id, 'name', l.name,
			'id_number', wp_console_mask(l.id_number), 'card', wp_console_mask(l.card),
			'card_bank', l.card_bank, 'kind', l.kind, 'month', to_char(l.month, 'YYYY-MM'),
			'amount', wp_yuan(l.amount), 'gross', wp_yuan(l.gross),
			'days_worked', l.days_worked, 'confirmed_at', l.confirmed_at,
			'confirm_method', l.confirm_method,
			'status', CASE WHEN l.reason_code IS NOT NULL THEN 'refused'
				WHEN x.sheet_id IS NOT NULL THEN 'returned'
				WHEN s.state = 'PAID' THEN 'paid' ELSE lower(s.state) END,
			'returned_at', x.received_at, 'return_reason', x.reason_code,
			'reason_code', l.reason_code, 'reason_text', l.reason_text) ORDER BY l.seq)
			FROM (SELECT * FROM sheet_line l WHERE l.sheet_id = s.id
			      ORDER BY l.seq OFFSET p_offset LIMIT 1000) l
			LEFT JOIN line_return x ON x.sheet_id = l.sheet_id AND x.line_seq = l.seq), '[]')))::json
	FROM sheet s WHERE s.id = p_id);
END $$;

-- Approvals, newest first: those waiting, or all.
CREATE FUNCTION wp_console_approvals(p_all boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(wp_approval_json(x.id) ORDER BY x.id DESC), '[]')
	FROM (SELECT id FROM approval WHERE p_all OR state = 'PENDING'
	      ORDER BY id DESC LIMIT 500) x
$$;

-- The audit trail, newest first, 100 records before p_before (NULL: the
-- newest). The hash is shown so that an auditor can compare it with a copy.
CREATE FUNCTION wp_console_audit(p_before bigint) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', x.id, 'at', x.at, 'actor', x.actor,
		'action', x.action, 'object', x.object, 'detail', x.detail,
		'hash', encode(x.hash, 'hex')) ORDER BY x.id DESC), '[]')
	FROM (SELECT * FROM audit WHERE p_before IS NULL OR id < p_before
	      ORDER BY id DESC LIMIT 100) x
$$;

-- Proposes a CLOSE_ACCOUNT or MANUAL_MOVEMENT, or answers why not, as JSON
-- for the console: {"approval": ID} or {"refusal": "..."}.
CREATE FUNCTION wp_console_propose_json(p_kind text, p_payload jsonb, p_maker bigint,
	p_now timestamptz)
RETURNS json LANGUAGE sql AS $$
	SELECT json_strip_nulls(json_build_object('approval', r.approval, 'refusal', r.refusal))
	FROM wp_console_propose(p_kind, p_payload, p_maker, p_now) r
$$;

-- wp_approval_decide with the daemon's clock for the checks it makes.
CREATE FUNCTION wp_console_decide(p_id bigint, p_checker bigint, p_decision text,
	p_now timestamptz, OUT state text, OUT outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
	PERFORM set_config('wagepay.console_now', p_now::text, true);
	SELECT d.state, d.outcome INTO state, outcome
	FROM wp_approval_decide(p_id, p_checker, p_decision) d;
END $$;

-- Signs an operator out and records it.
CREATE FUNCTION wp_console_signout(p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_name	text;
BEGIN
	DELETE FROM operator_session s USING operator o
	WHERE s.token_hash = p_token_hash AND o.id = s.operator_id
	RETURNING o.name INTO v_name;
	IF v_name IS NULL THEN
		RETURN false;
	END IF;
	PERFORM wp_audit_append('operator:' || v_name, 'session.signout', 'operator:' || v_name, '');
	RETURN true;
END $$;

-- A failed sign-in of an existing operator, recorded (unknown names are
-- not: a stranger could fill the trail with them; they are logged).
CREATE FUNCTION wp_console_signin_failed(p_name text, p_locked boolean) RETURNS void
LANGUAGE sql AS $$
	SELECT wp_audit_append('operator:' || p_name,
		CASE WHEN p_locked THEN 'session.locked' ELSE 'session.refused' END,
		'operator:' || p_name,
		CASE WHEN p_locked THEN 'too many failed sign-ins: locked for a while'
		ELSE 'wrong password' END)
$$;

-- The figures of /metrics that only the database knows, as JSON.
-- lines and amounts come from the sheet rows (accepted_count and
-- accepted_total of PAID sheets), not from the lines: one row per sheet.
CREATE FUNCTION wp_console_metrics() RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'sheets', (SELECT coalesce(json_object_agg(x.state, x.n), '{}') FROM (
			SELECT lower(st) AS state, (SELECT count(*) FROM sheet s WHERE s.state = st) AS n
			FROM unnest(ARRAY['RECEIVED', 'REJECTED', 'HELD', 'PAID']) st) x),
		'lines_paid', (SELECT coalesce(sum(accepted_count), 0) FROM sheet WHERE state = 'PAID'),
		'fen_paid', (SELECT coalesce(sum(accepted_total), 0) FROM sheet WHERE state = 'PAID'),
		'fen_held', (SELECT coalesce(sum(accepted_total), 0) FROM sheet WHERE state = 'HELD'),
		'accounts_open', (SELECT count(*) FROM account WHERE kind = 'DEDICATED' AND state = 'OPEN'),
		'fen_balance', (SELECT coalesce(sum(balance), 0) FROM account WHERE kind = 'DEDICATED'),
		'approvals_pending', (SELECT count(*) FROM approval WHERE state = 'PENDING'),
		'alerts', wp_console_alert_backlog())
$$;
