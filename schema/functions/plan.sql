-- plan.sql: the owner's deposit plan (labour cost by month) and the wages
-- owed for a project and month, which bound what a legal order may attach.

-- What a dedicated account owes its workers now: the held sheets (less what
-- they would take from earmarks, counted in earmarked), the planned labour
-- cost of the current month (China time of p_now), and the returned wages kept
-- for their workers; owed is their sum. Only money above it may be attached by
-- a wages order (WP45, 003 三(五)) or moved by hand: wages come first. Reads
-- only; the callers hold the account's row FOR UPDATE. Called by
-- wp_core_legal_order and wp_console_move_refusal.
CREATE OR REPLACE FUNCTION wp_wages_owed(p_account bigint, p_now timestamptz,
	OUT held bigint, OUT planned bigint, OUT earmarked bigint, OUT owed bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
BEGIN
	SELECT * INTO STRICT v_proj FROM project WHERE account_id = p_account;
	SELECT coalesce(sum(s.accepted_total - wp_sheet_earmark_use(s.id)), 0) INTO held
	FROM sheet s WHERE s.account_id = p_account AND s.state = 'HELD';
	planned := wp_plan_month(v_proj.labour_cost_total, v_proj.contract_months,
		v_proj.start_month, date_trunc('month', wp_cst(p_now))::date);
	SELECT a.earmarked INTO STRICT earmarked FROM account a WHERE a.id = p_account;
	owed := held + planned + earmarked;
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
