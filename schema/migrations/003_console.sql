-- 003_console.sql: what the operations console reads and proposes.

-- Fen as the console's decimal yuan string: 450000 -> '4500.00'.
CREATE FUNCTION wp_yuan(p bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p < 0 THEN '-' ELSE '' END || (abs(p) / 100)::text || '.'
		|| lpad((abs(p) % 100)::text, 2, '0')
$$;

-- A maker's proposal to open a project's dedicated account. NULL when the
-- project or the account number already exists (the console answers 409).
CREATE FUNCTION wp_approval_propose(p_kind text, p_payload jsonb, p_maker bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_id	bigint;
	v_name	text;
BEGIN
	IF p_kind = 'OPEN_ACCOUNT' AND (EXISTS (SELECT 1 FROM project WHERE code = p_payload->>'code')
	    OR EXISTS (SELECT 1 FROM account WHERE number = p_payload->>'account')) THEN
		RETURN NULL;
	END IF;
	INSERT INTO approval (kind, payload, maker_id) VALUES (p_kind, p_payload, p_maker)
	RETURNING id INTO v_id;
	SELECT name INTO STRICT v_name FROM operator WHERE id = p_maker;
	PERFORM wp_audit_append('operator:' || v_name, 'approval.proposed',
		'approval:' || v_id, p_kind || ' ' || coalesce(p_payload->>'code', ''));
	RETURN v_id;
END $$;

-- One approval as the console shows it. VOLATILE so that, called in the
-- same statement as wp_approval_decide, it sees the decision just made.
CREATE FUNCTION wp_approval_json(p_id bigint) RETURNS json LANGUAGE sql VOLATILE AS $$
	SELECT json_build_object('id', a.id, 'kind', a.kind, 'state', lower(a.state),
		'payload', a.payload, 'maker', m.name, 'checker', c.name,
		'created_at', a.created_at, 'decided_at', a.decided_at, 'outcome', a.outcome)
	FROM approval a JOIN operator m ON m.id = a.maker_id
	LEFT JOIN operator c ON c.id = a.checker_id WHERE a.id = p_id
$$;

-- A project with its account, balance, roster size, sheets and months of
-- plan against deposits and wages paid (003 二(一): monthly labour cost =
-- total labour cost / contract months; the last month takes the remainder).
CREATE FUNCTION wp_project_json(p_code text) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'code', p.code, 'name', p.name, 'region', p.region, 'industry', p.industry,
		'state', lower(p.state),
		'owner', json_build_object('uscc', p.owner_uscc, 'name', ow.name),
		'contractor', json_build_object('uscc', p.contractor_uscc, 'name', gc.name),
		'account', json_build_object('number', a.number, 'state', lower(a.state),
			'balance', wp_yuan(a.balance), 'earmarked', wp_yuan(a.earmarked),
			'opened_at', a.opened_at),
		'balance', wp_yuan(a.balance),
		'labour_cost_total', wp_yuan(p.labour_cost_total),
		'contract_months', p.contract_months,
		'start_month', to_char(p.start_month, 'YYYY-MM'),
		'pay_day', p.pay_day,
		'roster_size', (SELECT count(*) FROM roster_entry r WHERE r.project_id = p.id),
		'sheets', (SELECT json_build_object(
			'paid', count(*) FILTER (WHERE s.state = 'PAID'),
			'held', count(*) FILTER (WHERE s.state = 'HELD'),
			'rejected', count(*) FILTER (WHERE s.state = 'REJECTED'))
			FROM sheet s WHERE s.project_id = p.id),
		'months', (SELECT json_agg(json_build_object(
			'month', to_char(m.month, 'YYYY-MM'),
			'planned', wp_yuan(m.planned),
			'deposited', wp_yuan(coalesce((SELECT sum(d.amount) FROM deposit d
				WHERE d.account_id = a.id AND date_trunc('month', d.booking_date) = m.month), 0)::bigint),
			'paid', wp_yuan(coalesce((SELECT sum(s.accepted_total) FROM sheet s
				WHERE s.project_id = p.id AND s.state = 'PAID' AND s.month = m.month), 0)::bigint))
			ORDER BY m.month)
			FROM (SELECT (p.start_month + make_interval(months => i))::date AS month,
				p.labour_cost_total / p.contract_months
				+ CASE WHEN i = p.contract_months - 1
				  THEN p.labour_cost_total % p.contract_months ELSE 0 END AS planned
			      FROM generate_series(0, p.contract_months - 1) AS i) m))
	FROM project p JOIN account a ON a.id = p.account_id
	JOIN company ow ON ow.uscc = p.owner_uscc JOIN company gc ON gc.uscc = p.contractor_uscc
	WHERE p.code = p_code
$$;
