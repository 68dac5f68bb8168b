-- plan.sql: the owner's deposit plan (labour cost by month) and the wages
-- owed for a project and month (held, planned, earmarked, arrears, frozen),
-- which bound what a manual movement may take.

-- What a dedicated account owes its workers now, which no other taker may
-- have: the held sheets (less what they would take from earmarks, counted in
-- earmarked); the planned labour cost of the current month (China time of
-- p_now); the returned wages kept for their workers (earmarked); the arrears:
-- every month from the project's start whose wages were due (its pay day in
-- the next month has passed, China time, as WAGES_OVERDUE judges it) and in
-- which a worker on site (entered by its last day, not left before its first)
-- has no accepted line for it (WAGE, or BACKPAY of that month) in a paid or
-- held sheet nor a draw on the wage guarantee (030), each such month at the plan's monthly labour cost (wp_plan_month;
-- a returned line's money is already in earmarked, a held one's in held, so
-- neither counts twice); and what applied legal orders keep frozen
-- (wp_legal_frozen: a wages FREEZE reserves its amount for the workers'
-- enforcement). owed is their sum. A manual movement may take only the
-- balance above it (wp_console_move_refusal); a wages legal order is not
-- bound by it (003 三(五): it is the workers' own enforcement, applied up to
-- the balance less what other orders keep frozen, wp_core_legal_order, which
-- reports these figures). Reads only; the callers hold the account's row FOR
-- UPDATE. Called by wp_core_legal_order and wp_console_move_refusal.
CREATE OR REPLACE FUNCTION wp_wages_owed(p_account bigint, p_now timestamptz,
	OUT held bigint, OUT planned bigint, OUT earmarked bigint, OUT arrears bigint,
	OUT frozen bigint, OUT owed bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
	v_today	date := wp_cst(p_now)::date;
	v_cur	date := date_trunc('month', wp_cst(p_now))::date;
	v_last	date;
BEGIN
	SELECT * INTO STRICT v_proj FROM project WHERE account_id = p_account;
	SELECT coalesce(sum(s.accepted_total - wp_sheet_earmark_use(s.id)), 0) INTO held
	FROM sheet s WHERE s.account_id = p_account AND s.state = 'HELD';
	planned := wp_plan_month(v_proj.labour_cost_total, v_proj.contract_months,
		v_proj.start_month, v_cur);
	SELECT a.earmarked INTO STRICT earmarked FROM account a WHERE a.id = p_account;
	-- the last month whose wages were due: last month once this month's pay
	-- day has passed, else the month before
	v_last := CASE WHEN v_today > v_cur + (v_proj.pay_day - 1)
		THEN (v_cur - interval '1 month')::date ELSE (v_cur - interval '2 months')::date END;
	-- set-based (a hash anti-join of the months' workers on site against
	-- the lines for them), not a probe per worker and month: 10,000 workers
	-- paid for 7 months cost 390 ms probed one by one
	WITH onsite AS (
		SELECT m.month::date AS month, r.id_number::text AS id_number
		FROM generate_series(v_proj.start_month, v_last, interval '1 month') AS m(month)
		JOIN roster_entry r ON r.project_id = v_proj.id
		  AND r.entered <= (m.month + interval '1 month' - interval '1 day')::date
		  AND (r.left_on IS NULL OR r.left_on >= m.month::date)
	), covered AS (
		SELECT l.month, l.id_number
		FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
		WHERE l.project_id = v_proj.id AND l.month >= v_proj.start_month AND l.month <= v_last
		  AND l.reason_code IS NULL AND s.state IN ('PAID', 'HELD')
		UNION ALL
		-- drawn on the wage guarantee (030), paid or claimed
		SELECT g.month, g.id_number FROM guarantee_draw_line g
		WHERE g.project_id = v_proj.id AND g.month >= v_proj.start_month AND g.month <= v_last
	)
	SELECT coalesce(sum(wp_plan_month(v_proj.labour_cost_total, v_proj.contract_months,
		v_proj.start_month, u.month)), 0) INTO arrears
	FROM (SELECT DISTINCT o.month FROM onsite o
	      WHERE NOT EXISTS (SELECT 1 FROM covered c
		WHERE c.month = o.month AND c.id_number = o.id_number)) u;
	frozen := wp_legal_frozen(p_account, NULL);
	owed := held + planned + earmarked + arrears + frozen;
END $$;

-- The plan of 003 二(一) for month p_month of a project that starts p_start:
-- monthly labour cost = total / contract months, the last month taking the
-- remainder; 0 outside the contract months. Called by wp_wages_owed and
-- wp_rule_deposit_short.
CREATE OR REPLACE FUNCTION wp_plan_month(p_total bigint, p_months int, p_start date, p_month date)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN i < 0 OR i >= p_months THEN 0::bigint
		ELSE p_total / p_months + CASE WHEN i = p_months - 1 THEN p_total % p_months ELSE 0 END
		END
	FROM (SELECT ((extract(year FROM p_month) - extract(year FROM p_start)) * 12
		+ extract(month FROM p_month) - extract(month FROM p_start))::int AS i) x
$$;

-- The plan from the first month up to and including p_month: what the owner
-- must have deposited by that month's last day (DEPOSIT_SHORT). Called by
-- wp_rules_run and wp_rule_deposit_short.
CREATE OR REPLACE FUNCTION wp_plan_through(p_total bigint, p_months int, p_start date, p_month date)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN k <= 0 THEN 0::bigint
		ELSE p_total / p_months * k + CASE WHEN k = p_months THEN p_total % p_months ELSE 0 END
		END
	FROM (SELECT least(p_months, ((extract(year FROM p_month) - extract(year FROM p_start)) * 12
		+ extract(month FROM p_month) - extract(month FROM p_start))::int + 1) AS k) x
$$;
