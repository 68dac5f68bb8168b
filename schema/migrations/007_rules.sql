-- 007_rules.sql: the day-based alert rules, run by the daemon's timer with
-- the time passed in (p_now), so that tests choose the day.
--
-- DEPOSIT_SHORT   the owner's labour-cost deposits booked by the end of a
--                 month (its due day) are below the plan up to that month
--                 (003 二(一)); judged once the month is over.
-- WAGES_OVERDUE   workers on site during a month (roster: entered by its
--                 last day, not left before its first) have no paid WAGE or
--                 BACKPAY line for it, not returned, after the project's pay
--                 day of the next month (欠薪预警).
-- ACCOUNTS_OPENED the monthly report to each HRSS office of the dedicated
--                 accounts opened in its region the month before (004 第七条).
--
-- Edge-triggered: a condition has a row in alert_condition; an alert is
-- raised when it becomes true (not while it stays true), and it may be
-- raised again after it was seen false. Each occurrence has its own
-- dedup_key (KEY:n), so two instances running the rules at once raise it
-- once. Months are calendar months in China time (+08:00).

CREATE TABLE alert_condition (
	key		text PRIMARY KEY,	-- KIND:project id:YYYY-MM
	active		boolean NOT NULL,
	occurrences	int NOT NULL CHECK (occurrences >= 0),
	changed_at	timestamptz NOT NULL
);

-- Records the current truth of a condition. Returns the occurrence number
-- when it has just become true (raise the alert), NULL otherwise.
CREATE FUNCTION wp_condition(p_key text, p_true boolean, p_now timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v	alert_condition%ROWTYPE;
BEGIN
	SELECT * INTO v FROM alert_condition WHERE key = p_key FOR UPDATE;
	IF NOT FOUND THEN
		IF NOT p_true THEN
			RETURN NULL;
		END IF;
		INSERT INTO alert_condition (key, active, occurrences, changed_at)
		VALUES (p_key, true, 1, p_now) ON CONFLICT (key) DO NOTHING;
		RETURN CASE WHEN FOUND THEN 1 END;
	END IF;
	IF v.active = p_true THEN
		RETURN NULL;
	END IF;
	UPDATE alert_condition SET active = p_true, changed_at = p_now,
		occurrences = occurrences + CASE WHEN p_true THEN 1 ELSE 0 END
	WHERE key = p_key;
	RETURN CASE WHEN p_true THEN v.occurrences + 1 END;
END $$;

-- Masked ID numbers for an alert's Detail (never a full one, STYLE.md).
CREATE FUNCTION wp_mask(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN length(p) <= 8 THEN repeat('*', length(p))
		ELSE left(p, 4) || repeat('*', length(p) - 8) || right(p, 4) END
$$;

-- DEPOSIT_SHORT for one project, for the month that ended last.
CREATE FUNCTION wp_rule_deposit_short(p_project bigint, p_now timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_cur	date := date_trunc('month', wp_cst(p_now))::date;
	v_month	date := (date_trunc('month', wp_cst(p_now)) - interval '1 month')::date;
	v_plan	bigint;
	v_dep	bigint;
	v_key	text;
	v_occ	int;
BEGIN
	SELECT * INTO STRICT v_proj FROM project WHERE id = p_project;
	IF v_month < v_proj.start_month
	    OR v_month >= v_proj.start_month + make_interval(months => v_proj.contract_months) THEN
		RETURN 0;
	END IF;
	SELECT * INTO STRICT v_acc FROM account WHERE id = v_proj.account_id;
	v_plan := wp_plan_through(v_proj.labour_cost_total, v_proj.contract_months,
		v_proj.start_month, v_month);
	SELECT coalesce(sum(d.amount), 0) INTO v_dep FROM deposit d
	WHERE d.account_id = v_acc.id AND d.booking_date < v_cur;
	v_key := 'DEPOSIT_SHORT:' || v_proj.id || ':' || to_char(v_month, 'YYYY-MM');
	v_occ := wp_condition(v_key, v_dep < v_plan, p_now);
	IF v_occ IS NULL THEN
		RETURN 0;
	END IF;
	INSERT INTO alert (kind, project_id, raised_at, balance, required, shortfall, month, detail, dedup_key)
	VALUES ('DEPOSIT_SHORT', v_proj.id, p_now, v_acc.balance, v_plan, v_plan - v_dep, v_month,
		'labour-cost deposits booked through ' || to_char(v_month, 'YYYY-MM') || ': '
		|| wp_yuan(v_dep) || ' of ' || wp_yuan(v_plan) || ' planned (monthly plan '
		|| wp_yuan(wp_plan_month(v_proj.labour_cost_total, v_proj.contract_months,
			v_proj.start_month, v_month))
		|| ', month ' || (((extract(year FROM v_month) - extract(year FROM v_proj.start_month)) * 12
			+ extract(month FROM v_month) - extract(month FROM v_proj.start_month))::int + 1)
		|| ' of ' || v_proj.contract_months || '); due by '
		|| to_char(v_cur - 1, 'YYYY-MM-DD') || ', short by ' || wp_yuan(v_plan - v_dep),
		v_key || ':' || v_occ)
	ON CONFLICT (dedup_key) DO NOTHING;
	RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

-- WAGES_OVERDUE for one project, for the last month whose pay day has
-- passed (the day after the pay day, China time).
CREATE FUNCTION wp_rule_wages_overdue(p_project bigint, p_now timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj		project%ROWTYPE;
	v_acc		account%ROWTYPE;
	v_today		date := wp_cst(p_now)::date;
	v_cur		date := date_trunc('month', wp_cst(p_now))::date;
	v_month		date;
	v_payday	date;
	v_onsite	int;
	v_unpaid	int;
	v_ids		text;
	v_held		int;
	v_key		text;
	v_occ		int;
BEGIN
	SELECT * INTO STRICT v_proj FROM project WHERE id = p_project;
	v_payday := v_cur + (v_proj.pay_day - 1);
	IF v_today > v_payday THEN
		v_month := (v_cur - interval '1 month')::date;
	ELSE
		v_month := (v_cur - interval '2 months')::date;
		v_payday := (v_payday - interval '1 month')::date;
	END IF;
	IF v_month < v_proj.start_month THEN
		RETURN 0;
	END IF;
	SELECT * INTO STRICT v_acc FROM account WHERE id = v_proj.account_id;
	SELECT count(*), count(*) FILTER (WHERE NOT w.paid) INTO v_onsite, v_unpaid
	FROM (SELECT EXISTS (SELECT 1 FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
			WHERE l.project_id = v_proj.id AND l.id_number = r.id_number
			  AND l.month = v_month AND l.reason_code IS NULL AND s.state = 'PAID'
			  AND NOT EXISTS (SELECT 1 FROM line_return x
				WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq)) AS paid
	      FROM roster_entry r
	      WHERE r.project_id = v_proj.id
		AND r.entered <= (v_month + interval '1 month' - interval '1 day')::date
		AND (r.left_on IS NULL OR r.left_on >= v_month)) w;
	-- the first 20 of them, masked, for the Detail
	IF v_unpaid > 0 THEN
		SELECT string_agg(wp_mask(u.id_number), ', ' ORDER BY u.id_number) INTO v_ids
		FROM (SELECT r.id_number FROM roster_entry r
		      WHERE r.project_id = v_proj.id
			AND r.entered <= (v_month + interval '1 month' - interval '1 day')::date
			AND (r.left_on IS NULL OR r.left_on >= v_month)
			AND NOT EXISTS (SELECT 1 FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
				WHERE l.project_id = v_proj.id AND l.id_number = r.id_number
				  AND l.month = v_month AND l.reason_code IS NULL AND s.state = 'PAID'
				  AND NOT EXISTS (SELECT 1 FROM line_return x
					WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq))
		      ORDER BY r.id_number LIMIT 20) u;
	END IF;
	v_key := 'WAGES_OVERDUE:' || v_proj.id || ':' || to_char(v_month, 'YYYY-MM');
	v_occ := wp_condition(v_key, v_unpaid > 0, p_now);
	IF v_occ IS NULL THEN
		RETURN 0;
	END IF;
	SELECT count(*) INTO v_held FROM sheet s
	WHERE s.project_id = v_proj.id AND s.state = 'HELD' AND s.month = v_month;
	INSERT INTO alert (kind, project_id, raised_at, balance, month, detail, dedup_key)
	VALUES ('WAGES_OVERDUE', v_proj.id, p_now, v_acc.balance, v_month,
		v_unpaid || ' of ' || v_onsite || ' workers on site in ' || to_char(v_month, 'YYYY-MM')
		|| ' unpaid after the pay day ' || to_char(v_payday, 'YYYY-MM-DD')
		|| CASE WHEN v_held > 0 THEN '; ' || v_held || ' sheet(s) for the month held for funds'
		   ELSE '' END
		|| ': ' || v_ids || CASE WHEN v_unpaid > 20 THEN ', ...' ELSE '' END,
		v_key || ':' || v_occ)
	ON CONFLICT (dedup_key) DO NOTHING;
	RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

-- ACCOUNTS_OPENED: one report per HRSS recipient (p_regs, as configured)
-- per month, for the month before p_now's, listing the accounts opened in
-- its region. Sent also when none were opened: the office learns the bank
-- looked.
CREATE FUNCTION wp_rule_accounts_opened(p_now timestamptz, p_regs json)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_cur	date := date_trunc('month', wp_cst(p_now))::date;
	v_month	date := (date_trunc('month', wp_cst(p_now)) - interval '1 month')::date;
	r	record;
	v_key	text;
	v_id	uuid;
	v_count	int;
	v_n	int := 0;
BEGIN
	FOR r IN SELECT * FROM json_to_recordset(p_regs) AS x(name text, region text, authority text)
	    WHERE x.authority = 'hrss' LOOP
		v_key := 'ACCOUNTS_OPENED:' || r.name || ':' || to_char(v_month, 'YYYY-MM');
		CONTINUE WHEN EXISTS (SELECT 1 FROM alert WHERE dedup_key = v_key);
		SELECT count(*) INTO v_count FROM project p JOIN account a ON a.id = p.account_id
		WHERE starts_with(p.region, r.region)
		  AND wp_cst(a.opened_at) >= v_month AND wp_cst(a.opened_at) < v_cur;
		INSERT INTO alert (kind, recipient, raised_at, month, detail, dedup_key)
		VALUES ('ACCOUNTS_OPENED', r.name, p_now, v_month,
			v_count || ' dedicated wage account' || CASE WHEN v_count = 1 THEN '' ELSE 's' END
			|| ' opened in ' || to_char(v_month, 'YYYY-MM') || ' in region ' || r.region
			|| CASE WHEN length(r.region) < 6 THEN '*' ELSE '' END, v_key)
		ON CONFLICT (dedup_key) DO NOTHING
		RETURNING id INTO v_id;
		CONTINUE WHEN v_id IS NULL;
		INSERT INTO alert_opened (alert_id, project_id)
		SELECT v_id, p.id FROM project p JOIN account a ON a.id = p.account_id
		WHERE starts_with(p.region, r.region)
		  AND wp_cst(a.opened_at) >= v_month AND wp_cst(a.opened_at) < v_cur;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END $$;

-- Runs every rule once at p_now; returns the number of alerts raised. Each
-- project in its own sub-transaction would buy little: the rules only read
-- and insert alerts, and the daemon calls this again a minute later.
CREATE FUNCTION wp_rules_run(p_now timestamptz, p_regs json)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj	bigint;
	v_n	int := 0;
BEGIN
	FOR v_proj IN SELECT p.id FROM project p JOIN account a ON a.id = p.account_id
	    WHERE p.state = 'ACTIVE' AND a.state = 'OPEN' ORDER BY p.id LOOP
		v_n := v_n + wp_rule_deposit_short(v_proj, p_now);
		v_n := v_n + wp_rule_wages_overdue(v_proj, p_now);
	END LOOP;
	v_n := v_n + wp_rule_accounts_opened(p_now, p_regs);
	RETURN v_n;
END $$;
