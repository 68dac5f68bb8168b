-- 013_rules_scale.sql: the day-based alert rules (007) cost what changed
-- or fell due, not the whole roster of every project at every run.
--
-- Before: wp_rules_run called, for every active project, 007's
-- wp_rule_wages_overdue, which probed sheet_line once per worker on site
-- in the month judged (1.1 million probes on the benchmark's world), and
-- JIT-compiled the probe of each large project (130-180 ms each). Measured
-- on the world after the benchmark (1,000 projects, 1.1 million rostered
-- workers, 2.7 million sheet lines; psql \timing, each run in a
-- transaction rolled back, the state unchanged between runs): 4.5 to 5.9 s
-- a run (14 runs; one more took 9.3 s), every 60 s; at 100,000 projects it would not finish
-- within its own interval.
--
-- Now, the same way:
-- - a run where nothing the rules read changed: 16.7 to 23.0 ms (10 runs;
--   what is left is a few index probes per active project, ~17 us each);
-- - the first run after this migration, which judges every project-month
--   due: 3.6 to 4.2 s (2 runs), once;
-- - a run on the day a month falls due for every project, as on the
--   benchmark's world, where all pay on the 15th: about what 007 took
--   (1.4 s judging, then 3.7 s counting the workers of the 773 projects
--   whose alert is raised, for the alert's Detail; 007: 4.9 s): what is
--   due is the whole roster then;
-- - a change judges again the project-months it touches: after project
--   1's 99,000 unpaid workers were paid, 0.9 s (its 100,000-worker roster).
-- The triggers below cost the paths that pay (warm, EXPLAIN ANALYZE,
-- 1,000-line sheets): 0.36-0.54 ms per sheet paid; a roster row 0.02 ms.
--
-- How:
-- - WAGES_OVERDUE's truth for a project-month (is anybody on site unpaid?)
--   is remembered in rule_wages_judged with the versions of what it was
--   computed from: the project's roster (rule_roster_version) and the
--   project-month's paid lines (rule_lines_version). Triggers bump a
--   version in the transaction that changes what it covers, so a
--   remembered truth whose versions are still current is still the truth.
--   A project-month is judged again only when it falls due or one of its
--   versions moved.
-- - The remembered truths, and DEPOSIT_SHORT's truth (a sum of a few
--   deposits per project), are compared set-based with alert_condition;
--   007's per-project functions are called only where they differ, which
--   is where 007 would raise or clear. Where they agree, 007's call was a
--   no-op (wp_condition returns NULL and writes nothing), so skipping it
--   changes nothing. Alerts are still written by 007's functions,
--   unchanged: same keys, dedup keys, occurrences and details. A
--   WAGES_OVERDUE that clears is cleared with wp_condition directly, as
--   007 did after counting the roster again to find everybody paid.
-- - jit is off for the run: no statement of it profits from JIT.
-- Checked against 007 on the benchmark's world (12 runs from mid-November
-- to February and back, with returns, roster changes, payments, a deposit
-- and a closed account in between: identical alert and alert_condition
-- rows) and by tests/integration/t0670-rules-incremental.t at every step.
--
-- Why the versions cannot miss a change. The truth of (project P, month M)
-- reads: P's roster entries (on site in M), P's sheet lines of month M that
-- are accepted, on a PAID sheet, and not returned. Whatever changes any of
-- these bumps a version, in the same transaction:
--   roster_entry   insert, delete, or an update of project_id, id_number,
--                  entered or left_on (names and cards do not count):
--                  P's roster version;
--   sheet          a sheet becoming PAID (or, never done, ceasing to be):
--                  the version of every (project, month) of its accepted
--                  lines;
--   sheet_line     lines are inserted only by the sheet functions, and only
--                  into a sheet still RECEIVED (wp_sheet_submit here,
--                  wp_sheet_lines from 015, which refuses any other): they
--                  count once their sheet becomes PAID, above. (A trigger
--                  for lines inserted into a PAID sheet cost every insert
--                  statement a copy of its rows; the raw COPY of the
--                  benchmark about a third more database CPU: removed.)
--   line_return    a returned line: its (project, month).
-- Lines, returns and deposits are never updated or deleted (001, 006), nor
-- sheets deleted or renumbered (009). The judgement reads the versions and
-- computes the truth in one statement, so in one snapshot: a version seen
-- means every change that bumped it is seen. A change committed after that
-- snapshot bumped a version past the one remembered, and the next run
-- judges again. Versions come from one sequence, taken under the version
-- row's lock, so a row's version only grows, and a version once used is
-- never seen again for the same row.
--
-- A roster upload upserts worker by worker (002 wp_roster_upsert): the
-- roster trigger bumps the project's version once per transaction, not
-- once per worker (a setting local to the transaction remembers it; a
-- rolled-back subtransaction forgets it together with its bump; a
-- judgement forgets it too, so that what the same transaction changes
-- after judging bumps again).

CREATE SEQUENCE rule_version;

-- The version of a project's roster, as far as the rules read it.
CREATE TABLE rule_roster_version (
	project_id	bigint PRIMARY KEY,
	version		bigint NOT NULL
);

-- The version of a project-month's paid lines (lines of that month, by
-- the line's own month and project).
CREATE TABLE rule_lines_version (
	project_id	bigint NOT NULL,
	month		date NOT NULL,
	version		bigint NOT NULL,
	PRIMARY KEY (project_id, month)
);

-- WAGES_OVERDUE's truth for a project-month, as of the versions (0: no
-- version row yet) it was computed from. Months before the oldest that can
-- still be judged are pruned.
CREATE TABLE rule_wages_judged (
	project_id	bigint NOT NULL,
	month		date NOT NULL,
	roster_version	bigint NOT NULL,
	lines_version	bigint NOT NULL,
	unpaid		boolean NOT NULL,	-- somebody on site unpaid
	PRIMARY KEY (project_id, month)
);
CREATE INDEX rule_wages_judged_month ON rule_wages_judged (month);

-- --- the triggers that bump the versions -------------------------------------

-- (plpgsql, not sql: its statements' plans are kept for the session)
CREATE FUNCTION wp_rule_roster_bump(p_project bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO rule_roster_version AS v (project_id, version)
	VALUES (p_project, nextval('rule_version'))
	ON CONFLICT (project_id) DO UPDATE SET version = nextval('rule_version');
END $$;

CREATE FUNCTION wp_rule_roster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER roster_entry_rules AFTER INSERT OR DELETE ON roster_entry
	FOR EACH ROW EXECUTE FUNCTION wp_rule_roster_changed();
-- a re-uploaded roster rewrites every row; only who is on site when counts
CREATE TRIGGER roster_entry_rules_update AFTER UPDATE ON roster_entry
	FOR EACH ROW WHEN ((OLD.project_id, OLD.id_number::text, OLD.entered, OLD.left_on)
		IS DISTINCT FROM (NEW.project_id, NEW.id_number::text, NEW.entered, NEW.left_on))
	EXECUTE FUNCTION wp_rule_roster_changed();

CREATE FUNCTION wp_rule_roster_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM wp_rule_roster_bump(p.id) FROM project p ORDER BY p.id;
	RETURN NULL;
END $$;
CREATE TRIGGER roster_entry_rules_truncate AFTER TRUNCATE ON roster_entry
	FOR EACH STATEMENT EXECUTE FUNCTION wp_rule_roster_truncated();

-- A sheet becoming PAID (or ceasing to be) pays (or unpays) its accepted
-- lines: one look at the sheet's lines, which wp_sheet_pay has just read.
CREATE FUNCTION wp_rule_sheet_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO rule_lines_version AS v (project_id, month, version)
	SELECT x.project_id, x.month, nextval('rule_version')
	FROM (SELECT DISTINCT l.project_id, l.month FROM sheet_line l
	      WHERE l.sheet_id = NEW.id AND l.reason_code IS NULL) x
	ORDER BY x.project_id, x.month
	ON CONFLICT (project_id, month) DO UPDATE SET version = nextval('rule_version');
	RETURN NULL;
END $$;
CREATE TRIGGER sheet_rules AFTER UPDATE ON sheet
	FOR EACH ROW WHEN ((OLD.state = 'PAID') IS DISTINCT FROM (NEW.state = 'PAID'))
	EXECUTE FUNCTION wp_rule_sheet_paid();
CREATE TRIGGER sheet_rules_insert AFTER INSERT ON sheet
	FOR EACH ROW WHEN (NEW.state = 'PAID')
	EXECUTE FUNCTION wp_rule_sheet_paid();

-- A returned line is unpaid again.
CREATE FUNCTION wp_rule_line_returned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO rule_lines_version AS v (project_id, month, version)
	SELECT l.project_id, l.month, nextval('rule_version')
	FROM sheet_line l WHERE l.sheet_id = NEW.sheet_id AND l.seq = NEW.line_seq
	ON CONFLICT (project_id, month) DO UPDATE SET version = nextval('rule_version');
	RETURN NULL;
END $$;
CREATE TRIGGER line_return_rules AFTER INSERT ON line_return
	FOR EACH ROW EXECUTE FUNCTION wp_rule_line_returned();

-- --- the run ------------------------------------------------------------------

-- Judges WAGES_OVERDUE for every project-month due at p_now (as 007's
-- wp_rule_wages_overdue chooses it) that was not judged yet, or whose
-- versions moved since; remembers the truth with the versions it was read
-- with (one statement: one snapshot). Returns how many were judged.
-- Projects in id order, so two instances judging at once lock rows in the
-- same order; a judgement read in an older snapshot does not overwrite a
-- newer one (versions only grow).
CREATE FUNCTION wp_rule_wages_judge(p_now timestamptz)
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
					WHERE x.sheet_id = l.sheet_id AND x.line_seq = l.seq)))
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

-- As 007: runs every rule once at p_now; returns the number of alerts
-- raised. 007's per-project rules are called, in the same order (by
-- project, DEPOSIT_SHORT before WAGES_OVERDUE), for the projects whose
-- condition's truth differs from what alert_condition holds (no row: false).
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
				WHERE d.account_id = a.id AND d.booking_date < v_cur), 0)
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
	RETURN v_n;
END $$;
