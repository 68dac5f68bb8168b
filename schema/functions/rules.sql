-- rules.sql: the alert rules: day-based (DEPOSIT_SHORT, WAGES_OVERDUE,
-- ACCOUNTS_OPENED) run by wp_rules_run at the daemon's clock, judging again
-- only what fell due or changed (the versions kept by the trigger functions).

-- Runs every rule once at p_now; returns the number of alerts raised. Judges
-- WAGES_OVERDUE where it may have changed (wp_rule_wages_judge), then, by
-- project, for the active projects with an open account whose condition's
-- truth differs from what alert_condition holds (no row: false): DEPOSIT_SHORT
-- (wp_rule_deposit_short: the owner's deposits, paid in by the owner's credit
-- code, below plan for the month that ended last, 003 二(一)) before WAGES_OVERDUE (wp_rule_wages_overdue: workers
-- on site unpaid after the pay day, 欠薪预警; cleared without a count when judged
-- all paid); then ACCOUNTS_OPENED (wp_rule_accounts_opened), and the wage
-- guarantee's GUARANTEE_SHORT, GUARANTEE_EXPIRING (wp_rule_guarantee) and
-- monthly GUARANTEES ledger (wp_rule_guarantees_ledger, 030). Rules are
-- edge-triggered: a condition that stays true does not fire again. Called by
-- daemon/rules.c on its timer, with the configured regulators as p_regs.
CREATE OR REPLACE FUNCTION wp_rules_run(p_now timestamptz, p_regs json)
RETURNS int LANGUAGE plpgsql SET jit = off AS $$
#variable_conflict use_column
DECLARE
	v_today	date := wp_cst(p_now)::date;
	v_cur	date := date_trunc('month', wp_cst(p_now))::date;
	v_month	date := (date_trunc('month', wp_cst(p_now)) - interval '1 month')::date;
	r	record;
	v_n	int := 0;
BEGIN
	PERFORM wp_rule_wages_judge(p_now);
	FOR r IN
		SELECT p.id, w.month, j.unpaid,
			-- 007 wp_rule_deposit_short: the month that ended last, within the contract
			(v_month >= p.start_month
			 AND v_month < p.start_month + make_interval(months => p.contract_months)
			 AND (coalesce((SELECT sum(d.amount) FROM deposit d
				WHERE d.account_id = a.id AND d.booking_date < v_cur
				  AND d.payer_uscc = p.owner_uscc::text), 0)
			      < wp_plan_through(p.labour_cost_total, p.contract_months,
				p.start_month, v_month))
			    IS DISTINCT FROM coalesce((SELECT c.active FROM alert_condition c
				WHERE c.key = 'DEPOSIT_SHORT:' || p.id || ':' || to_char(v_month, 'YYYY-MM')),
				false)) AS deposit,
			-- 007 wp_rule_wages_overdue: the last month whose pay day has passed
			-- (not judged: NULL, differs, 007 judges it)
			(w.month >= p.start_month
			 AND j.unpaid IS DISTINCT FROM coalesce((SELECT c.active FROM alert_condition c
				WHERE c.key = 'WAGES_OVERDUE:' || p.id || ':' || to_char(w.month, 'YYYY-MM')),
				false)) AS wages
		FROM project p JOIN account a ON a.id = p.account_id
		CROSS JOIN LATERAL (SELECT CASE WHEN v_today > v_cur + (p.pay_day - 1)
			THEN (v_cur - interval '1 month')::date
			ELSE (v_cur - interval '2 months')::date END AS month) w
		LEFT JOIN rule_wages_judged j ON j.project_id = p.id AND j.month = w.month
		WHERE p.state = 'ACTIVE' AND a.state = 'OPEN'
		ORDER BY p.id
	LOOP
		IF r.deposit THEN
			v_n := v_n + wp_rule_deposit_short(r.id, p_now);
		END IF;
		IF r.wages AND r.unpaid IS NOT DISTINCT FROM false THEN
			-- all paid: 007 would count the roster again to find so, and clear
			PERFORM wp_condition('WAGES_OVERDUE:' || r.id || ':' || to_char(r.month, 'YYYY-MM'),
				false, p_now);
		ELSIF r.wages THEN
			v_n := v_n + wp_rule_wages_overdue(r.id, p_now);
		END IF;
	END LOOP;
	v_n := v_n + wp_rule_accounts_opened(p_now, p_regs);
	-- the wage guarantee's (030, functions/guarantee.sql)
	v_n := v_n + wp_rule_guarantee(p_now) + wp_rule_guarantees_ledger(p_now, p_regs);
	RETURN v_n;
END $$;

-- Judges WAGES_OVERDUE for every project-month due at p_now (the last month
-- whose pay day has passed, as wp_rule_wages_overdue chooses it) that was not
-- judged yet, or whose roster or lines versions moved since; remembers the
-- truth with the versions it was read with (one statement: one snapshot).
-- Returns how many were judged. Projects in id order, so two instances judging
-- at once lock rule_wages_judged rows in the same order; a judgement read in
-- an older snapshot does not overwrite a newer one (versions only grow).
-- Called by wp_rules_run.
CREATE OR REPLACE FUNCTION wp_rule_wages_judge(p_now timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_today	date := wp_cst(p_now)::date;
	v_cur	date := date_trunc('month', wp_cst(p_now))::date;
	v_n	int;
BEGIN
	-- the roster trigger bumps once per transaction: a change made after
	-- this judgement by the same transaction must bump again
	PERFORM set_config('wagepay.rule_roster_bumped', '', true);
	-- no month before this one is due at p_now
	DELETE FROM rule_wages_judged WHERE month < (v_cur - interval '2 months')::date;
	INSERT INTO rule_wages_judged AS j (project_id, month, roster_version, lines_version, unpaid)
	SELECT d.id, d.month, d.rv, d.lv,
		EXISTS (SELECT 1 FROM roster_entry r
			WHERE r.project_id = d.id
			  AND r.entered <= (d.month + interval '1 month' - interval '1 day')::date
			  AND (r.left_on IS NULL OR r.left_on >= d.month)
			  AND NOT EXISTS (SELECT 1 FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
				WHERE l.project_id = d.id AND l.id_number = r.id_number
				  AND l.month = d.month AND l.reason_code IS NULL AND s.state = 'PAID'
				  AND NOT EXISTS (SELECT 1 FROM line_return x
					WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq))
			  AND NOT EXISTS (SELECT 1 FROM guarantee_line_paid g	-- 030
				WHERE g.project_id = d.id AND g.id_number = r.id_number::text
				  AND g.month = d.month))
	FROM (SELECT p.id, x.month,
			coalesce((SELECT v.version FROM rule_roster_version v
				WHERE v.project_id = p.id), 0) AS rv,
			coalesce((SELECT v.version FROM rule_lines_version v
				WHERE v.project_id = p.id AND v.month = x.month), 0) AS lv
	      FROM project p JOIN account a ON a.id = p.account_id
	      CROSS JOIN LATERAL (SELECT CASE WHEN v_today > v_cur + (p.pay_day - 1)
			THEN (v_cur - interval '1 month')::date
			ELSE (v_cur - interval '2 months')::date END AS month) x
	      WHERE p.state = 'ACTIVE' AND a.state = 'OPEN' AND x.month >= p.start_month) d
	WHERE NOT EXISTS (SELECT 1 FROM rule_wages_judged o
		WHERE o.project_id = d.id AND o.month = d.month
		  AND o.roster_version = d.rv AND o.lines_version = d.lv)
	ORDER BY d.id
	ON CONFLICT (project_id, month) DO UPDATE
	SET roster_version = EXCLUDED.roster_version, lines_version = EXCLUDED.lines_version,
		unpaid = EXCLUDED.unpaid
	WHERE j.roster_version <= EXCLUDED.roster_version AND j.lines_version <= EXCLUDED.lines_version;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END $$;

-- DEPOSIT_SHORT for one project, for the month that ended last, within the
-- contract months: the owner's deposits booked before this month are below the
-- plan through that month (wp_plan_through, 003 二(一)). Only money paid in by
-- the owner counts (the payer's credit code is the project's owner's): a
-- top-up by the general contractor or anyone else does not hide the owner's
-- default, and is named apart in the Detail. Raises the alert when the
-- condition has just become true (wp_condition); returns 1 if raised.
-- Called by wp_rules_run.
CREATE OR REPLACE FUNCTION wp_rule_deposit_short(p_project bigint, p_now timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_cur	date := date_trunc('month', wp_cst(p_now))::date;
	v_month	date := (date_trunc('month', wp_cst(p_now)) - interval '1 month')::date;
	v_plan	bigint;
	v_dep	bigint;
	v_other	bigint;
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
	SELECT coalesce(sum(d.amount) FILTER (WHERE d.payer_uscc = v_proj.owner_uscc::text), 0),
		coalesce(sum(d.amount) FILTER (WHERE d.payer_uscc IS DISTINCT FROM v_proj.owner_uscc::text), 0)
	INTO v_dep, v_other FROM deposit d
	WHERE d.account_id = v_acc.id AND d.booking_date < v_cur;
	v_key := 'DEPOSIT_SHORT:' || v_proj.id || ':' || to_char(v_month, 'YYYY-MM');
	v_occ := wp_condition(v_key, v_dep < v_plan, p_now);
	IF v_occ IS NULL THEN
		RETURN 0;
	END IF;
	INSERT INTO alert (kind, project_id, raised_at, balance, required, shortfall, month, detail, dedup_key)
	VALUES ('DEPOSIT_SHORT', v_proj.id, p_now, v_acc.balance, v_plan, v_plan - v_dep, v_month,
		'the owner''s labour-cost deposits booked through ' || to_char(v_month, 'YYYY-MM') || ': '
		|| wp_yuan(v_dep) || ' of ' || wp_yuan(v_plan) || ' planned (monthly plan '
		|| wp_yuan(wp_plan_month(v_proj.labour_cost_total, v_proj.contract_months,
			v_proj.start_month, v_month))
		|| ', month ' || (((extract(year FROM v_month) - extract(year FROM v_proj.start_month)) * 12
			+ extract(month FROM v_month) - extract(month FROM v_proj.start_month))::int + 1)
		|| ' of ' || v_proj.contract_months || '); due by '
		|| to_char(v_cur - 1, 'YYYY-MM-DD') || ', short by ' || wp_yuan(v_plan - v_dep)
		|| CASE WHEN v_other > 0 THEN '; top-ups by others (not the owner) '
			|| wp_yuan(v_other) || ', not counted' ELSE '' END,
		v_key || ':' || v_occ)
	ON CONFLICT (dedup_key) DO NOTHING;
	RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

-- WAGES_OVERDUE for one project, for the last month whose pay day has passed
-- (the day after the pay day, China time): workers on site that month without
-- a paid, not returned line for it (the early warning of arrears, 欠薪预警).
-- Raises the alert, with the first 20 ID numbers masked and the month's held
-- sheets, when the condition has just become true (wp_condition); returns 1 if
-- raised. Called by wp_rules_run.
CREATE OR REPLACE FUNCTION wp_rule_wages_overdue(p_project bigint, p_now timestamptz)
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
				WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq))
		  OR EXISTS (SELECT 1 FROM guarantee_line_paid g	-- 030
			WHERE g.project_id = v_proj.id AND g.id_number = r.id_number::text
			  AND g.month = v_month) AS paid
	      FROM roster_entry r
	      WHERE r.project_id = v_proj.id
		AND r.entered <= (v_month + interval '1 month' - interval '1 day')::date
		AND (r.left_on IS NULL OR r.left_on >= v_month)) w;
	-- the first 20 of them, masked, for the Detail
	IF v_unpaid > 0 THEN
		SELECT string_agg(coalesce(u.id_mask, wp_mask(u.id_number)), ', '
			ORDER BY u.id_number) INTO v_ids
		FROM (SELECT r.id_number, r.id_mask FROM roster_entry r
		      WHERE r.project_id = v_proj.id
			AND r.entered <= (v_month + interval '1 month' - interval '1 day')::date
			AND (r.left_on IS NULL OR r.left_on >= v_month)
			AND NOT EXISTS (SELECT 1 FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
				WHERE l.project_id = v_proj.id AND l.id_number = r.id_number
				  AND l.month = v_month AND l.reason_code IS NULL AND s.state = 'PAID'
				  AND NOT EXISTS (SELECT 1 FROM line_return x
					WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq))
			AND NOT EXISTS (SELECT 1 FROM guarantee_line_paid g	-- 030
				WHERE g.project_id = v_proj.id AND g.id_number = r.id_number::text
				  AND g.month = v_month)
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

-- ACCOUNTS_OPENED: one report per HRSS recipient (p_regs, as configured) per
-- month, for the month before p_now's, listing the accounts opened in its
-- region (004 第七条). Sent also when none were opened: the office learns the
-- bank looked. Returns the number raised. Called by wp_rules_run.
CREATE OR REPLACE FUNCTION wp_rule_accounts_opened(p_now timestamptz, p_regs json)
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

-- Records the current truth of a condition (an alert_condition row by key).
-- Returns the occurrence number when it has just become true (raise the
-- alert), NULL otherwise. Locks the condition's row FOR UPDATE. Called by
-- wp_rules_run, wp_rule_deposit_short and wp_rule_wages_overdue.
CREATE OR REPLACE FUNCTION wp_condition(p_key text, p_true boolean, p_now timestamptz)
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

-- Trigger (sheet_rules, sheet_rules_insert): a sheet becoming PAID (or ceasing
-- to be) pays (or unpays) its accepted lines: bumps the lines version of each
-- project-month they are for, so WAGES_OVERDUE is judged again. One look at
-- the sheet's lines, which wp_sheet_pay has just read.
CREATE OR REPLACE FUNCTION wp_rule_sheet_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO rule_lines_version AS v (project_id, month, version)
	SELECT x.project_id, x.month, nextval('rule_version')
	FROM (SELECT DISTINCT l.project_id, l.month FROM sheet_line l
	      WHERE l.sheet_id = NEW.id AND l.reason_code IS NULL) x
	ORDER BY x.project_id, x.month
	ON CONFLICT (project_id, month) DO UPDATE SET version = nextval('rule_version');
	RETURN NULL;
END $$;

-- Trigger (line_return_rules): a returned line is unpaid again: bumps the
-- lines version of its project-month.
CREATE OR REPLACE FUNCTION wp_rule_line_returned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO rule_lines_version AS v (project_id, month, version)
	SELECT l.project_id, l.month, nextval('rule_version')
	FROM sheet_line l WHERE l.sheet_id = NEW.sheet_id AND l.seq = NEW.line_seq
	ON CONFLICT (project_id, month) DO UPDATE SET version = nextval('rule_version');
	RETURN NULL;
END $$;

-- Trigger (roster_entry_rules, roster_entry_rules_update): a roster entry
-- added, removed, or changed in project, ID number, entry or leaving date
-- bumps the project's roster version (wp_rule_roster_bump), once per
-- transaction and project (an upload upserts worker by worker), and the old
-- project's too when the entry moved.
CREATE OR REPLACE FUNCTION wp_rule_roster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_new	bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.project_id ELSE NEW.project_id END;
	v_mark	text := pg_current_xact_id()::text || ':' || v_new;
BEGIN
	-- once per transaction and project: an upload upserts worker by worker
	IF current_setting('wagepay.rule_roster_bumped', true) IS DISTINCT FROM v_mark THEN
		PERFORM wp_rule_roster_bump(v_new);
		PERFORM set_config('wagepay.rule_roster_bumped', v_mark, true);
	END IF;
	IF TG_OP = 'UPDATE' AND OLD.project_id <> NEW.project_id THEN
		PERFORM wp_rule_roster_bump(OLD.project_id);
	END IF;
	RETURN NULL;
END $$;

-- Trigger (roster_entry_rules_truncate): the roster emptied bumps every
-- project's roster version, in id order.
CREATE OR REPLACE FUNCTION wp_rule_roster_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM wp_rule_roster_bump(p.id) FROM project p ORDER BY p.id;
	RETURN NULL;
END $$;

-- Bumps a project's roster version. plpgsql, not sql: its statements' plans
-- are kept for the session. Called by wp_rule_roster_changed and
-- wp_rule_roster_truncated.
CREATE OR REPLACE FUNCTION wp_rule_roster_bump(p_project bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO rule_roster_version AS v (project_id, version)
	VALUES (p_project, nextval('rule_version'))
	ON CONFLICT (project_id) DO UPDATE SET version = nextval('rule_version');
END $$;
