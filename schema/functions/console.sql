-- console.sql: what the operations console reads, as JSON with ID and card
-- numbers masked (overview, projects, sheets, alerts, approvals, audit,
-- metrics), and the sign-in throttle every instance shares.

-- The payment orders to the core that are not settled yet (026): waiting
-- (PENDING: no [core] payments_url, or the core has not taken them yet),
-- in flight (TAKEN, lines without a final status), overdue (lines without
-- a final status p_hours after the core took the order, as
-- SETTLEMENT_OVERDUE counts them, or after it was written while it still
-- waits), the lines without a final status, the oldest waiting order's
-- time, and the 100 oldest open orders. Reads only the open orders, on
-- their partial indexes (payment_order_due, payment_order_open).
-- Called by wp_console_overview.
CREATE OR REPLACE FUNCTION wp_console_payorders(p_now timestamptz, p_hours int) RETURNS json
LANGUAGE sql STABLE AS $$
	WITH o AS MATERIALIZED (
		SELECT o.*, o.unsettled > 0 AND coalesce(o.taken_at, o.created_at)
			< p_now - make_interval(hours => p_hours) AS overdue
		FROM payment_order o WHERE o.state = 'PENDING' OR o.unsettled > 0
	)
	SELECT json_build_object(
		'settlement_hours', p_hours,
		'waiting', (SELECT count(*) FROM o WHERE o.state = 'PENDING'),
		'waiting_oldest', (SELECT min(o.created_at) FROM o WHERE o.state = 'PENDING'),
		'in_flight', (SELECT count(*) FROM o WHERE o.state = 'TAKEN'),
		'overdue', (SELECT count(*) FROM o WHERE o.overdue),
		'lines_unsettled', (SELECT coalesce(sum(o.unsettled), 0) FROM o),
		'order_list', coalesce((SELECT json_agg(x ORDER BY x.created_at, x.msg_id) FROM (
			SELECT o.msg_id, s.msg_id AS sheet, s.id AS sheet_id, p.code AS project,
				lower(o.state) AS state, o.nb_of_txs AS lines, o.unsettled,
				wp_yuan(o.ctrl_sum) AS total, o.created_at, o.taken_at, o.attempts,
				o.last_status, o.last_error, o.overdue
			FROM o JOIN sheet s ON s.id = o.sheet_id JOIN project p ON p.id = s.project_id
			ORDER BY o.created_at, o.msg_id LIMIT 100) x), '[]'))
$$;

-- The first screen: accounts and balances, held sheets, alerts not yet
-- delivered, projects behind plan, approvals waiting, and the payment
-- orders to the core not settled yet (wp_console_payorders; p_hours is
-- [core] settlement_hours, since 026). Reads only.
-- Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_overview(p_now timestamptz, p_hours int DEFAULT 24)
RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'now', p_now,
		'payment_orders', wp_console_payorders(p_now, p_hours),
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

-- Every project with its account, plan and sheets in one row; p_q filters by
-- code or name, a substring in any case: its % and _ are the characters
-- themselves, not LIKE's wildcards (escaped, with the backslash that escapes
-- them). Reads only. Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_projects(p_q text, p_now timestamptz) RETURNS json
LANGUAGE sql STABLE AS $$
	WITH q(pattern) AS (SELECT '%' || replace(replace(replace(p_q, '\', '\\'),
		'%', '\%'), '_', '\_') || '%')
	SELECT coalesce(json_agg(json_build_object(
		'code', p.code, 'name', p.name, 'region', p.region, 'industry', p.industry,
		'state', lower(p.state), 'account', a.number, 'account_state', lower(a.state),
		'balance', wp_yuan(a.balance), 'earmarked', wp_yuan(a.earmarked),
		'roster_size', (SELECT count(*) FROM roster_entry r WHERE r.project_id = p.id),
		'sheets_held', (SELECT count(*) FROM sheet s WHERE s.project_id = p.id AND s.state = 'HELD'),
		'planned', wp_yuan(pl.planned), 'deposited', wp_yuan(pl.deposited),
		'behind', pl.planned > pl.deposited) ORDER BY p.code), '[]')
	FROM project p JOIN account a ON a.id = p.account_id
	CROSS JOIN LATERAL wp_console_plan(p.id, p_now) pl CROSS JOIN q
	WHERE p_q IS NULL OR p_q = '' OR p.code ILIKE q.pattern ESCAPE '\'
		OR p.name ILIKE q.pattern ESCAPE '\'
$$;

-- A project's wage guarantee (030) for its page, or NULL without one: its
-- kind (ACCOUNT, LETTER or ACCOUNT+LETTER), state, required and held
-- (wp_guarantee_held, today by p_now) amounts, contract amount and rate when
-- given, since when it is short and by when it must be restored; the
-- account (number, balance, state) and its newest 200 deposits; the letters
-- (issuer, number, amount, left, valid from/to); the newest 200 draws with
-- their lines (ID and card numbers masked) and state (PAID, or CLAIMED from
-- a letter's issuer); the release. plpgsql so that its callees in
-- functions/guarantee.sql may be created after it. Reads only. Called by
-- wp_console_project.
CREATE OR REPLACE FUNCTION wp_guarantee_json(p_project bigint, p_now timestamptz)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT json_build_object(
		'kind', CASE WHEN g.account_id IS NULL THEN 'LETTER'
			WHEN EXISTS (SELECT 1 FROM guarantee_letter l WHERE l.project_id = g.project_id)
			THEN 'ACCOUNT+LETTER' ELSE 'ACCOUNT' END,
		'state', lower(g.state), 'required', wp_yuan(g.required),
		'held', wp_yuan(wp_guarantee_held(g.project_id, wp_cst(p_now)::date)),
		'contract_amount', wp_yuan(g.contract_amount), 'rate', g.rate,
		'topup_days', g.topup_days, 'short_since', g.short_since,
		'restore_by', g.short_since + g.topup_days - 1,
		'account', (SELECT json_build_object('number', a.number, 'balance', wp_yuan(a.balance),
			'state', lower(a.state), 'opened_at', a.opened_at, 'deposits',
			coalesce((SELECT json_agg(json_build_object('entry_ref', d.entry_ref,
				'booking_date', d.booking_date, 'amount', wp_yuan(d.amount),
				'payer_name', d.payer_name) ORDER BY d.booking_date DESC, d.entry_ref)
				FROM (SELECT * FROM deposit d WHERE d.account_id = a.id
				      ORDER BY d.booking_date DESC, d.entry_ref LIMIT 200) d), '[]'))
			FROM account a WHERE a.id = g.account_id),
		'letters', coalesce((SELECT json_agg(json_build_object('issuer', l.issuer,
			'number', l.number, 'amount', wp_yuan(l.amount),
			'left', wp_yuan(wp_guarantee_letter_left(l.id)),
			'valid_from', l.valid_from, 'valid_to', l.valid_to) ORDER BY l.id)
			FROM guarantee_letter l WHERE l.project_id = g.project_id), '[]'),
		'draws', coalesce((SELECT json_agg(json_build_object('id', d.id,
			'decision_no', d.decision_no, 'state', lower(d.state),
			'source', CASE WHEN d.letter_id IS NULL THEN 'account' ELSE 'letter' END,
			'total', wp_yuan(d.total), 'created_at', d.created_at, 'paid_at', d.paid_at,
			'approval', d.approval_id,
			'lines', (SELECT json_agg(json_build_object('end_to_end_id', x.end_to_end_id,
				'id_number', coalesce(x.id_mask, wp_mask(x.id_number)),
				'name', coalesce(x.name_mask, x.name),
				'card', coalesce(x.card_mask, wp_mask(x.card)),
				'month', to_char(x.month, 'YYYY-MM'), 'amount', wp_yuan(x.amount))
				ORDER BY x.seq) FROM guarantee_draw_line x WHERE x.draw_id = d.id))
			ORDER BY d.id DESC) FROM (SELECT * FROM guarantee_draw d WHERE d.project_id = g.project_id
			ORDER BY d.id DESC LIMIT 200) d), '[]'),
		'released_at', g.released_at, 'release_notice', g.release_notice)
	FROM guarantee g WHERE g.project_id = p_project);
END $$;

-- A project page: wp_project_json and, beyond it, its sheets, its approvals,
-- its plan to date (the owner's deposits against the plan, others' top-ups
-- apart), its newest 200 deposits each marked by_owner or not, its months
-- with workers unpaid and why it may not close now
-- (wp_console_close_refusal), and its wage guarantee (wp_guarantee_json,
-- 030). Reads only. Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_project(p_code text, p_now timestamptz) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT (wp_project_json(p.code)::jsonb || jsonb_build_object(
		'sheet_list', coalesce((SELECT json_agg(wp_console_sheet_row(s) ORDER BY s.id DESC)
			FROM (SELECT * FROM sheet s WHERE s.project_id = p.id ORDER BY s.id DESC LIMIT 200) s), '[]'),
		'approvals', coalesce((SELECT json_agg(wp_approval_json(ap.id) ORDER BY ap.id DESC)
			FROM approval ap WHERE ap.payload->>'code' = p.code
			   OR ap.payload->>'from' = a.number OR ap.payload->>'to' = a.number), '[]'),
		'plan_to_date', (SELECT json_build_object('planned', wp_yuan(pl.planned),
			'deposited', wp_yuan(pl.deposited), 'months_due', pl.months_due,
			'behind', pl.planned > pl.deposited,
			'topped_up', (SELECT wp_yuan(coalesce(sum(d.amount), 0)::bigint) FROM deposit d
				WHERE d.account_id = a.id AND d.payer_uscc IS DISTINCT FROM p.owner_uscc::text))
			FROM wp_console_plan(p.id, p_now) pl),
		'deposit_list', coalesce((SELECT json_agg(json_build_object('entry_ref', d.entry_ref,
			'booking_date', d.booking_date, 'amount', wp_yuan(d.amount),
			'payer_name', d.payer_name, 'payer_uscc', d.payer_uscc,
			'by_owner', d.payer_uscc IS NOT DISTINCT FROM p.owner_uscc::text)
			ORDER BY d.booking_date DESC, d.entry_ref)
			FROM (SELECT * FROM deposit d WHERE d.account_id = a.id
			      ORDER BY d.booking_date DESC, d.entry_ref LIMIT 200) d), '[]'),
		'unpaid_months', coalesce((SELECT json_agg(json_build_object(
			'month', to_char(u.month, 'YYYY-MM'), 'workers', u.workers))
			FROM wp_console_unpaid_months(p.id, p_now) u), '[]'),
		'close_refusal', wp_console_close_refusal(p.id, p_now),
		'guarantee', wp_guarantee_json(p.id, p_now)))::json
	FROM project p JOIN account a ON a.id = p.account_id WHERE p.code = p_code
$$;

-- Lines of a sheet as the console shows them, in line order from p_offset,
-- at most p_limit (NULL: all): ID and card numbers masked (and, since 032,
-- names: the masks the daemon wrote, else made here from a clear value);
-- the line's status (refused with its reason, held, paid, returned, or the
-- sheet's state) and, for a line paid, its settlement outcome as
-- wp_console_worker_payments tells it: REJECTED by the core (its reason),
-- RETURNED by the card's bank (the return's reason, NARR if none),
-- CREDITED, else PAID (no final status yet). Reads only. Called by
-- wp_console_sheet and wp_console_sheet_csv.
CREATE OR REPLACE FUNCTION wp_console_lines(p_sheet bigint, p_offset int, p_limit int)
RETURNS TABLE (seq int, end_to_end_id text, name text, id_number text, card text,
	card_bank text, kind text, month text, amount text, gross text, days_worked int,
	confirmed_at timestamptz, confirm_method text, status text, returned_at timestamptz,
	return_reason text, reason_code text, reason_text text, outcome text,
	outcome_reason text)
LANGUAGE sql STABLE AS $$
	SELECT l.seq, l.end_to_end_id, coalesce(l.name_mask, l.name),
		coalesce(l.id_mask, wp_console_mask(l.id_number)),
		coalesce(l.card_mask, wp_console_mask(l.card)), l.card_bank, l.kind,
		to_char(l.month, 'YYYY-MM'), wp_yuan(l.amount), wp_yuan(l.gross),
		l.days_worked, l.confirmed_at, l.confirm_method,
		CASE WHEN l.reason_code IS NOT NULL THEN 'refused'
			WHEN x.sheet_id IS NOT NULL THEN 'returned'
			WHEN s.state = 'PAID' THEN 'paid' ELSE lower(s.state) END,
		x.received_at, x.reason_code, l.reason_code, l.reason_text,
		CASE WHEN l.reason_code IS NOT NULL OR s.state <> 'PAID' THEN NULL
			WHEN st.status = 'RJCT' THEN 'REJECTED'
			WHEN x.entry_ref IS NOT NULL THEN 'RETURNED'
			WHEN st.status = 'ACCC' THEN 'CREDITED' ELSE 'PAID' END,
		CASE WHEN l.reason_code IS NOT NULL OR s.state <> 'PAID' THEN NULL
			WHEN st.status = 'RJCT' THEN st.reason
			WHEN x.entry_ref IS NOT NULL THEN coalesce(x.reason_code, 'NARR') END
	FROM sheet s
	JOIN LATERAL (SELECT * FROM sheet_line l WHERE l.sheet_id = s.id
		ORDER BY l.seq OFFSET p_offset LIMIT p_limit) l ON true
	LEFT JOIN line_return x ON x.sheet_id = l.sheet_id AND x.line_seq = l.seq
	LEFT JOIN payment_order o ON o.sheet_id = s.id
	LEFT JOIN payment_settlement st ON st.order_id = o.id AND st.line_seq = l.seq
	WHERE s.id = p_sheet
	ORDER BY l.seq
$$;

-- A sheet with up to 1000 of its lines from p_offset (wp_console_lines),
-- and, added (issue 24), what its payment voucher holds: whether one can be
-- issued (a PAID sheet with a line that stayed paid: GET
-- /v1/sheets/{MsgId}/voucher then answers it, signed by the bank), its
-- Count and Total (the lines paid and not back, over the whole sheet), and
-- how many paid lines came back. Reads only. Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_sheet(p_id bigint, p_offset int) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT (wp_console_sheet_row(s)::jsonb || jsonb_build_object(
		'contractor', s.contractor_uscc,
		'account', (SELECT number FROM account WHERE id = s.account_id),
		'project_name', (SELECT name FROM project WHERE id = s.project_id),
		'offset', p_offset,
		'voucher', (SELECT json_build_object(
			'issuable', s.state = 'PAID' AND count(*) FILTER (WHERE x.sheet_id IS NULL) > 0,
			'count', count(*) FILTER (WHERE x.sheet_id IS NULL),
			'total', wp_yuan(coalesce(sum(l.amount) FILTER (WHERE x.sheet_id IS NULL), 0)::bigint),
			'back', count(*) FILTER (WHERE x.sheet_id IS NOT NULL))
			FROM sheet_line l
			LEFT JOIN line_return x ON x.sheet_id = l.sheet_id AND x.line_seq = l.seq
			WHERE l.sheet_id = s.id AND l.reason_code IS NULL AND s.state = 'PAID'),
		'line_list', coalesce((SELECT json_agg(json_build_object(
			'seq', l.seq, 'end_to_end_id', l.end_to_end_id, 'name', l.name,
			'id_number', l.id_number, 'card', l.card, 'card_bank', l.card_bank,
			'kind', l.kind, 'month', l.month, 'amount', l.amount, 'gross', l.gross,
			'days_worked', l.days_worked, 'confirmed_at', l.confirmed_at,
			'confirm_method', l.confirm_method, 'status', l.status,
			'returned_at', l.returned_at, 'return_reason', l.return_reason,
			'reason_code', l.reason_code, 'reason_text', l.reason_text,
			'outcome', l.outcome, 'outcome_reason', l.outcome_reason) ORDER BY l.seq)
			FROM wp_console_lines(s.id, p_offset, 1000) l), '[]')))::json
	FROM sheet s WHERE s.id = p_id);
END $$;

-- One cell of a CSV file (RFC 4180: every cell quoted, quotes doubled),
-- guarded against formula injection: a value beginning with =, +, -, @, a
-- tab or a carriage return, which a spreadsheet would take for a formula,
-- gets a leading apostrophe (OWASP "CSV Injection"). NULL is the empty
-- cell. Called by wp_console_sheet_csv.
CREATE OR REPLACE FUNCTION wp_csv_cell(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT '"' || replace(CASE WHEN p ~ E'^[=+@\t\r-]' THEN '''' || p
		ELSE coalesce(p, '') END, '"', '""') || '"'
$$;

-- A sheet's lines as CSV for an operator's spreadsheet (GET
-- /api/sheets/{MsgId}/lines.csv, issue 24): a header row naming each column
-- in Chinese and English, then one row per line in line order: EndToEndId,
-- name (masked when stored with keys), ID number and card masked, amount in
-- yuan, status (wp_console_lines; a refusal with its code and reason) and
-- settlement outcome, in Chinese and English; every cell wp_csv_cell's.
-- Rows end in CRLF; the daemon puts the UTF-8 BOM before it. The sheet is
-- found by MsgId, of the contractor p_contractor when given (a MsgId is
-- unique per contractor only): sheets is how many matched, csv is set when
-- exactly one did. Reads only. Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_sheet_csv(p_msg_id text, p_contractor text)
RETURNS TABLE (sheets bigint, csv text) LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_ids	bigint[];
BEGIN
	SELECT array_agg(s.id) INTO v_ids FROM sheet s
	WHERE s.msg_id = p_msg_id
	  AND (p_contractor IS NULL OR s.contractor_uscc::text = p_contractor);
	sheets := coalesce(cardinality(v_ids), 0);
	IF sheets <> 1 THEN
		RETURN NEXT;
		RETURN;
	END IF;
	SELECT '端到端编号 EndToEndId,姓名 Name,身份证号（脱敏）ID number (masked),'
		|| '工资卡（脱敏）Card (masked),金额（元）Amount (CNY),状态 Status,'
		|| '到账结果 Settlement' || E'\r\n'
		|| coalesce(string_agg(concat_ws(',', wp_csv_cell(l.end_to_end_id),
			wp_csv_cell(l.name), wp_csv_cell(l.id_number), wp_csv_cell(l.card),
			wp_csv_cell(l.amount),
			wp_csv_cell(CASE l.status WHEN 'paid' THEN '已支付 paid'
				WHEN 'refused' THEN '已拒绝 refused ' || l.reason_code || ': '
					|| l.reason_text
				WHEN 'held' THEN '待资金 held for funds'
				WHEN 'returned' THEN '资金退回 money back'
				WHEN 'cancelled' THEN '已撤回 withdrawn'
				WHEN 'rejected' THEN '已拒绝 rejected'
				ELSE l.status END),
			wp_csv_cell(CASE l.outcome WHEN 'CREDITED' THEN '已到账 CREDITED'
				WHEN 'REJECTED' THEN '核心拒绝 REJECTED ' || l.outcome_reason
				WHEN 'RETURNED' THEN '银行退回 RETURNED ' || l.outcome_reason
				WHEN 'PAID' THEN '已付款待到账 PAID' END))
			|| E'\r\n', '' ORDER BY l.seq), '')
	INTO csv FROM wp_console_lines(v_ids[1], 0, NULL) l;
	RETURN NEXT;
END $$;

-- A worker's card history (GET /api/workers/{idNumber}/cards): every version
-- of the worker's roster entry on every project, oldest first, with its card
-- masked, the card's bank, who sent it and when, whether it is the current
-- one, and whether its card changed from the version before (what raised
-- CARD_CHANGED). NULL (404) for a worker never rostered. p_idn is the ID
-- number, or with keys (032) its blind index; what is shown is masked.
-- Reads only.
-- Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_worker_cards(p_idn text) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id_number', coalesce(max(x.id_mask), wp_console_mask(p_idn)),
		'versions', json_agg(json_build_object(
			'project', x.code, 'project_name', x.pname, 'version', x.version,
			'name', coalesce(x.name_mask, x.name), 'employer', x.employer_uscc,
			'card', coalesce(x.card_mask, wp_console_mask(x.card)), 'card_bank', x.card_bank,
			'sent_by', x.sent_by, 'sent_subject', x.sent_subject, 'sent_cert', x.sent_cert,
			'sent_at', x.sent_at, 'current', x.current,
			'card_changed', x.prev_card IS NOT NULL
				AND (x.prev_card, x.prev_bank) IS DISTINCT FROM (x.card, x.card_bank))
			ORDER BY x.code, x.version))
	FROM (SELECT v.*, p.code, p.name AS pname,
			r.version IS NOT NULL AS current,
			lag(v.card) OVER w AS prev_card, lag(v.card_bank) OVER w AS prev_bank
	      FROM roster_version v JOIN project p ON p.id = v.project_id
	      LEFT JOIN roster_entry r ON r.project_id = v.project_id
		AND r.id_number = v.id_number AND r.version = v.version
	      WHERE v.id_number = p_idn::bpchar
	      WINDOW w AS (PARTITION BY v.project_id ORDER BY v.version)) x
	HAVING count(*) > 0
$$;

-- Every line paid to one worker (by ID number, or its blind index when
-- personal data is sealed: the daemon passes what the columns hold), on any
-- project, newest month first: project, sheet, EndToEndId, kind and month,
-- amount, when paid, name and card masked, and what became of it: CREDITED
-- or REJECTED with the core's reason (payment_settlement), RETURNED with the
-- return's, else PAID (not settled yet). HRSS's question "was this worker
-- paid for October?" (API.md GET /api/workers/{idNumber}/payments). The
-- projects are those the worker was ever rostered on (roster_version_worker),
-- each read on sheet_line_worker_month's leading columns. Reads only.
-- Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_worker_payments(p_idn text) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id_number', coalesce(max(x.id_mask), wp_console_mask(p_idn)),
		'payments', coalesce(json_agg(json_build_object(
			'project', x.code, 'project_name', x.pname, 'sheet', x.msg_id,
			'end_to_end_id', x.end_to_end_id, 'kind', x.kind,
			'month', to_char(x.month, 'YYYY-MM'), 'amount', wp_yuan(x.amount),
			'paid_at', x.paid_at, 'name', coalesce(x.name_mask, wp_console_mask(x.name)),
			'card', coalesce(x.card_mask, wp_console_mask(x.card)), 'card_bank', x.card_bank,
			'outcome', x.outcome, 'reason', x.reason)
			ORDER BY x.month DESC, x.paid_at DESC, x.end_to_end_id) FILTER (WHERE x.msg_id IS NOT NULL),
			'[]'))
	FROM (SELECT l.id_mask, l.end_to_end_id, l.kind, l.month, l.amount, l.name_mask, l.name,
			l.card_mask, l.card, l.card_bank, s.msg_id, s.paid_at, p.code, p.name AS pname,
			-- a line the core refused is booked back as a return too
			CASE WHEN st.status = 'RJCT' THEN 'REJECTED'
			     WHEN r.entry_ref IS NOT NULL THEN 'RETURNED'
			     WHEN st.status = 'ACCC' THEN 'CREDITED' ELSE 'PAID' END AS outcome,
			CASE WHEN st.status = 'RJCT' THEN st.reason
			     WHEN r.entry_ref IS NOT NULL THEN coalesce(r.reason_code, 'NARR') END AS reason
	      FROM (SELECT DISTINCT v.project_id FROM roster_version v
		    WHERE v.id_number = p_idn::bpchar) w
	      JOIN sheet_line l ON l.project_id = w.project_id AND l.id_number = p_idn::bpchar
		AND l.reason_code IS NULL
	      JOIN sheet s ON s.id = l.sheet_id AND s.state = 'PAID'
	      JOIN project p ON p.id = l.project_id
	      LEFT JOIN payment_order o ON o.sheet_id = s.id
	      LEFT JOIN payment_settlement st ON st.order_id = o.id AND st.line_seq = l.seq
	      LEFT JOIN line_return r ON r.sheet_id = l.sheet_id AND r.line_seq = l.seq) x
$$;

-- Alerts, newest first, at most 500: every one with p_all, else (false or
-- NULL) the open ones (not routed, or with a delivery PENDING or
-- NO_RECIPIENT). Of alerts raised at the same instant, those listed first (by
-- id) are the ones kept within the 500. Each open state is read on its own
-- partial index. Added (issue 24): 'account', the project's dedicated
-- account number. Reads only. Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_alerts(p_all boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', a.id, 'kind', a.kind,
		'project', p.code, 'project_name', p.name, 'region', p.region,
		'account', (SELECT n.number FROM account n WHERE n.id = p.account_id),
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

-- Approvals, newest first, at most 500: every one with p_all, else the pending
-- ones. Reads only. Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_approvals(p_all boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(wp_approval_json(x.id) ORDER BY x.id DESC), '[]')
	FROM ((SELECT id FROM approval WHERE p_all ORDER BY id DESC LIMIT 500)	-- 014
	      UNION ALL
	      (SELECT id FROM approval WHERE NOT coalesce(p_all, false) AND state = 'PENDING'
	       ORDER BY id DESC LIMIT 500)) x
$$;

-- A page of the audit trail, newest first: 100 records before id p_before (the
-- newest 100 when NULL), of every chain; added (issue 24): 'account', the
-- number of the account a record is about (its chain's, account:NUMBER, or
-- its object's), for the page to say in place of the internal id some
-- details carry ("account 7 debited ..."). Reads only.
-- Called by daemon/consoleapi.c.
CREATE OR REPLACE FUNCTION wp_console_audit(p_before bigint) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', x.id, 'chain', x.chain, 'at', x.at, 'actor', x.actor,
		'action', x.action, 'object', x.object, 'detail', x.detail,
		'account', CASE WHEN x.chain LIKE 'account:%' THEN substr(x.chain, 9)
			WHEN x.object LIKE 'account:%' THEN substr(x.object, 9) END,
		'hash', encode(x.hash, 'hex')) ORDER BY x.id DESC), '[]')
	FROM ((SELECT * FROM audit WHERE p_before IS NULL ORDER BY id DESC LIMIT 100)	-- 014
	      UNION ALL
	      (SELECT * FROM audit WHERE id < p_before ORDER BY id DESC LIMIT 100)) x
$$;

-- Each platform's backlog for the console and /metrics: the records
-- numbered and not acknowledged, the events not read yet (of every
-- region: routing happens when they are read; counted up to 100,000, so
-- that a scrape stays cheap), the oldest unacknowledged record's age in
-- seconds, and the delivery's state. Reads only. Called by
-- daemon/consoleapi.c and daemon/metrics.c (through wp_console_platforms).
CREATE OR REPLACE FUNCTION wp_platform_backlog()
RETURNS TABLE (name text, region text, next_seq bigint, acked_seq bigint, unacked bigint,
	unread bigint, oldest_seconds double precision, attempts int, next_attempt_at text,
	last_acked_at text, last_status int, last_error text)
LANGUAGE sql STABLE AS $$
	SELECT f.name, f.region, f.next_seq, f.acked_seq, f.next_seq - 1 - f.acked_seq,
		(SELECT count(*) FROM (SELECT 1 FROM platform_event e
			WHERE (e.xid, e.id) > (f.cursor_xid, f.cursor_id) LIMIT 100000) x),
		coalesce((SELECT extract(epoch FROM now() - e.at) FROM platform_span s
			JOIN platform_event e ON e.id = s.event_id
			WHERE s.platform = f.name AND s.first_seq <= f.acked_seq + 1
			  AND s.first_seq + s.n > f.acked_seq + 1 AND f.acked_seq + 1 < f.next_seq), 0),
		f.attempts, wp_iso_cst(f.next_attempt_at), wp_iso_cst(f.last_acked_at), f.last_status,
		f.last_error
	FROM platform_feed f ORDER BY f.name
$$;

-- The console's view of the feed: {"platforms": [...]}, each platform's
-- backlog and delivery state (wp_platform_backlog). Reads only. Called by
-- daemon/consoleapi.c (GET /api/platforms).
CREATE OR REPLACE FUNCTION wp_console_platforms()
RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('platforms', coalesce(json_agg(json_build_object(
		'name', b.name, 'region', b.region, 'next_seq', b.next_seq,
		'acked_seq', b.acked_seq, 'unacked', b.unacked, 'unread', b.unread,
		'oldest_seconds', round(b.oldest_seconds::numeric, 3), 'attempts', b.attempts,
		'next_attempt_at', b.next_attempt_at, 'last_acked_at', b.last_acked_at,
		'last_status', b.last_status, 'last_error', b.last_error) ORDER BY b.name), '[]'))
	FROM wp_platform_backlog() b
$$;

-- The figures of /metrics: sheets by state, lines and fen paid, fen held,
-- accounts open, dedicated balances, approvals pending, the alert backlog,
-- the payment orders not settled (026: waiting, taken with lines open, the
-- oldest waiting one's age in seconds of the database's clock, as its
-- created_at is, and the lines without a final status); the wage
-- guarantees (030: held, short, draws claimed from a letter's issuer, the
-- guarantee accounts' balances); the sheets read once, the orders on their
-- partial indexes. Reads only. Called by daemon/metrics.c per scrape.
CREATE OR REPLACE FUNCTION wp_console_metrics() RETURNS json LANGUAGE sql STABLE AS $$
	WITH s AS (							-- 014
		SELECT s.state, count(*) AS n, sum(s.accepted_count) AS lines,
			sum(s.accepted_total) AS fen
		FROM sheet s GROUP BY s.state
	)
	SELECT json_build_object(
		'sheets', (SELECT coalesce(json_object_agg(x.state, x.n), '{}') FROM (
			SELECT lower(st) AS state, coalesce((SELECT s.n FROM s WHERE s.state = st), 0) AS n
			FROM unnest(ARRAY['RECEIVED', 'REJECTED', 'HELD', 'PAID', 'CANCELLED']) st) x),
		'lines_paid', (SELECT coalesce(sum(s.lines), 0) FROM s WHERE s.state = 'PAID'),
		'fen_paid', (SELECT coalesce(sum(s.fen), 0) FROM s WHERE s.state = 'PAID'),
		'fen_held', (SELECT coalesce(sum(s.fen), 0) FROM s WHERE s.state = 'HELD'),
		'accounts_open', (SELECT count(*) FROM account WHERE kind = 'DEDICATED' AND state = 'OPEN'),
		'fen_balance', (SELECT coalesce(sum(balance), 0) FROM account WHERE kind = 'DEDICATED'),
		'approvals_pending', (SELECT count(*) FROM approval WHERE state = 'PENDING'),
		'guarantees', (SELECT json_build_object(				-- 030
			'active', count(*) FILTER (WHERE g.state = 'ACTIVE'),
			'short', count(*) FILTER (WHERE g.state = 'ACTIVE' AND g.short_since IS NOT NULL),
			'claimed_draws', (SELECT count(*) FROM guarantee_draw d WHERE d.state = 'CLAIMED'),
			'fen_balance', (SELECT coalesce(sum(a.balance), 0) FROM account a
				WHERE a.kind = 'GUARANTEE'))
			FROM guarantee g),
		'alerts', wp_console_alert_backlog(),
		'payment_orders', (SELECT json_build_object(				-- 026
			'pending', count(*) FILTER (WHERE o.state = 'PENDING'),
			'taken', count(*) FILTER (WHERE o.state = 'TAKEN'),
			'oldest_pending_seconds', coalesce(floor(extract(epoch FROM
				now() - min(o.created_at) FILTER (WHERE o.state = 'PENDING'))), 0)::bigint,
			'lines_unsettled', coalesce(sum(o.unsettled), 0))
			FROM payment_order o WHERE o.state = 'PENDING' OR o.unsettled > 0),
		'platforms', wp_console_platforms()->'platforms')			-- 029
$$;

-- An operator asks for an alert's pending deliveries to be tried now rather
-- than at their backed-off time (wp_alert_retry); recorded in the 'global'
-- audit chain. NULL: no such alert. Called by daemon/consoleapi.c (POST
-- /api/alerts/{uuid}/retry).
CREATE OR REPLACE FUNCTION wp_console_alert_retry(p_alert uuid, p_operator bigint) RETURNS json
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

-- A failed sign-in for p_name: true if this failure locked the name (p_fails
-- within p_secs of the window's first; locked for p_secs), counted in the
-- database so every instance shares the throttle. Rows whose window and lock
-- are both over are dropped on the way: a flood of made-up names (each costing
-- the caller a password hash) leaves no more than a window's worth. An
-- existing operator's failure (p_known), and the lock, go into the audit trail
-- (wp_console_signin_failed); made-up names do not (strangers could flood it).
-- Locks the name's throttle row (upsert).
-- Called by daemon/session.c.
CREATE OR REPLACE FUNCTION wp_signin_failed(p_name text, p_fails int, p_secs int, p_known boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	v_span		interval := make_interval(secs => p_secs);
	v		signin_throttle%ROWTYPE;
	v_locked	boolean := false;
BEGIN
	DELETE FROM signin_throttle
	WHERE first_at < now() - v_span AND (locked_until IS NULL OR locked_until < now())
	  AND name <> p_name;
	INSERT INTO signin_throttle AS t (name, fails, first_at) VALUES (p_name, 1, now())
	ON CONFLICT (name) DO UPDATE SET
		fails = CASE WHEN t.first_at < now() - v_span THEN 1 ELSE t.fails + 1 END,
		first_at = CASE WHEN t.first_at < now() - v_span THEN now() ELSE t.first_at END
	RETURNING * INTO v;
	IF v.fails >= p_fails AND (v.locked_until IS NULL OR v.locked_until <= now()) THEN
		UPDATE signin_throttle SET locked_until = now() + v_span WHERE name = p_name;
		v_locked := true;
	END IF;
	IF p_known THEN
		PERFORM wp_console_signin_failed(p_name, v_locked);
	END IF;
	RETURN v_locked;
END $$;

-- Signs an operator out (the session row deleted) and records it in the
-- 'global' audit chain; false when there was no such session.
-- Called by daemon/session.c.
CREATE OR REPLACE FUNCTION wp_console_signout(p_token_hash bytea) RETURNS boolean
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

-- One sheet of the lists on the overview and on a project page. Called by
-- wp_console_overview, wp_console_project and wp_console_sheet.
CREATE OR REPLACE FUNCTION wp_console_sheet_row(s sheet) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', s.id, 'msg_id', s.msg_id,
		'project', (SELECT code FROM project WHERE id = s.project_id),
		'subcontractor', json_build_object('uscc', s.subcontractor_uscc,
			'name', (SELECT name FROM company WHERE uscc = s.subcontractor_uscc)),
		'month', to_char(s.month, 'YYYY-MM'), 'state', lower(s.state),
		'lines', s.nb_of_txs, 'accepted', s.accepted_count,
		'ctrl_sum', wp_yuan(s.ctrl_sum), 'total', wp_yuan(s.accepted_total),
		'received_at', s.received_at, 'paid_at', s.paid_at)
$$;

-- The plan of a project as of p_now: labour cost planned for the months whose
-- deposits were due (a month's deposits are due by its last day, so the months
-- before p_now's, in China time as the rules count them), and what the owner
-- has deposited so far (paid in by the owner's credit code: a contractor's
-- top-up does not count, as for DEPOSIT_SHORT). Cumulative, like
-- DEPOSIT_SHORT: an owner who paid two months early is not behind. Called by wp_console_overview,
-- wp_console_projects and wp_console_project.
CREATE OR REPLACE FUNCTION wp_console_plan(p_project bigint, p_now timestamptz,
	OUT planned bigint, OUT deposited bigint, OUT months_due int)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(m.planned), 0)::bigint,
		(SELECT coalesce(sum(d.amount), 0)::bigint FROM deposit d
		 WHERE d.account_id = p.account_id AND d.payer_uscc = p.owner_uscc::text),
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
	GROUP BY p.id, p.account_id, p.owner_uscc
$$;

-- Months with workers unpaid, up to p_now's month: a worker on the roster is
-- on site in every month from the later of the project's start and their entry
-- to the month they left (or p_now's, or the project's completion date's
-- once it is complete: nobody works on a completed project, so the months
-- after it are never counted unpaid), and each such month needs a paid line
-- (WAGE, or BACKPAY of that month) on this project that did not come back,
-- or a paid draw on the wage guarantee for it (030): the same test as
-- WAGES_OVERDUE. One row per month short.
-- Called by wp_console_project, wp_console_close_refusal and
-- wp_guarantee_release_refusal.
CREATE OR REPLACE FUNCTION wp_console_unpaid_months(p_project bigint, p_now timestamptz)
RETURNS TABLE (month date, workers bigint) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT m.month::date, count(*)
	FROM project p JOIN roster_entry r ON r.project_id = p.id
	CROSS JOIN LATERAL generate_series(
		greatest(p.start_month, date_trunc('month', r.entered)::date),
		date_trunc('month', least(coalesce(r.left_on, wp_cst(p_now)::date), wp_cst(p_now)::date,
			p.completed_on))::date,
		interval '1 month') AS m(month)
	WHERE p.id = p_project AND NOT EXISTS (
		SELECT 1 FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
		WHERE l.project_id = p.id AND l.id_number = r.id_number
		  AND l.month = m.month::date AND l.reason_code IS NULL AND s.state = 'PAID'
		  AND NOT EXISTS (SELECT 1 FROM line_return x
			WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq))
	  -- a month paid by a draw on the wage guarantee (030)
	  AND NOT EXISTS (SELECT 1 FROM guarantee_line_paid g
		WHERE g.project_id = p.id AND g.id_number = r.id_number::text
		  AND g.month = m.month::date)
	GROUP BY m.month ORDER BY m.month;
END $$;

-- The alerts not yet delivered: how many, the oldest, how many not routed, and
-- the open deliveries by recipient. PENDING and NO_RECIPIENT are read one
-- state at a time, each on its own partial index (one IN over both would read
-- every delivery ever made). Called by wp_console_overview and
-- wp_console_metrics.
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

-- Whether an alert is still open: not routed yet, or with a delivery PENDING
-- or NO_RECIPIENT. Called by wp_console_alerts.
CREATE OR REPLACE FUNCTION wp_console_alert_open(a alert) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT a.routed_at IS NULL OR EXISTS (SELECT 1 FROM alert_delivery d
		WHERE d.alert_id = a.id AND d.state IN ('PENDING', 'NO_RECIPIENT'))
$$;

-- The deliveries of one alert, per recipient, with a state for people: failing
-- is a PENDING delivery whose last attempt failed. Called by
-- wp_console_alerts.
CREATE OR REPLACE FUNCTION wp_console_alert_deliveries(p_alert uuid) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('recipient', d.recipient,
		'state', CASE WHEN d.state = 'PENDING' AND d.attempts > 0 AND d.last_error IS NOT NULL
			THEN 'failing' ELSE lower(d.state) END,
		'attempts', d.attempts, 'next_attempt_at', d.next_attempt_at,
		'last_attempt_at', d.last_attempt_at, 'last_status', d.last_status,
		'last_error', d.last_error, 'delivered_at', d.delivered_at)
		ORDER BY d.recipient), '[]')
	FROM alert_delivery d WHERE d.alert_id = p_alert AND d.state <> 'REROUTED'
$$;

-- The console's mask of an ID or card number, the same as ids_mask() in
-- proto/ids.c: first 4 and last 4 kept, the rest '*'; shorter than 12
-- characters masked whole. Called by wp_console_sheet.
CREATE OR REPLACE FUNCTION wp_console_mask(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN s IS NULL THEN NULL
		WHEN length(s) >= 12 THEN left(s, 4) || repeat('*', length(s) - 8) || right(s, 4)
		ELSE repeat('*', length(s)) END
$$;

-- Records a failed sign-in of an existing operator in the 'global' audit chain
-- (session.refused, or session.locked when it locked the name); unknown names
-- are not recorded: a stranger could fill the trail with them (they are
-- logged). Called by wp_signin_failed.
CREATE OR REPLACE FUNCTION wp_console_signin_failed(p_name text, p_locked boolean) RETURNS void
LANGUAGE sql AS $$
	SELECT wp_audit_append('operator:' || p_name,
		CASE WHEN p_locked THEN 'session.locked' ELSE 'session.refused' END,
		'operator:' || p_name,
		CASE WHEN p_locked THEN 'too many failed sign-ins: locked for a while'
		ELSE 'wrong password or second-factor code' END)
$$;

-- "Now" for a decision: the daemon's clock (clock.c, which tests may move with
-- WAGEPAY_CLOCK) as wp_console_decide set it for this transaction, or the
-- database's. Called by wp_console_close and wp_console_move.
CREATE OR REPLACE FUNCTION wp_console_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('wagepay.console_now', true), '')::timestamptz, now())
$$;
