-- 019_optimistic_lines.sql: wp_sheet_lines asks "already paid?" only when
-- the answer can be yes.
--
-- 015's wp_sheet_lines probed sheet_line_worker_month once for every WAGE
-- line, and the insert then walked the same unique index to the same
-- place to check the same key: a payable WAGE line of a worker-month that
-- is already taken collides there (016). A worker's month paid twice is
-- rare (a contractor resending a month instead of BACKPAY), so the batch
-- is now inserted without the probe inside a savepoint (a plpgsql
-- EXCEPTION block); on unique_violation the savepoint is rolled back and
-- the batch is inserted again with the probe, which refuses the taken
-- worker-months as AM05 exactly as before. Both tries are the one
-- statement, so the rules cannot drift apart: v_probe is a one-time filter
-- in the lateral probe.
--
-- Measured on the benchmark's full world (2.8 million lines, warm; a
-- pgbench script opening a sheet, storing 1,000 rostered lines and rolling
-- back, 150 times, alternating): 15.3-16.7 ms -> 12.7-13.0 ms a sheet.
--
-- The price: each batch is a subtransaction, whose id stays with the
-- sheet's transaction until it commits. PostgreSQL keeps 64 such ids per
-- backend in shared memory before other backends' snapshots must look
-- them up in pg_subtrans; a sheet has at most 64 batches (sheetapi.c reads
-- it in slices of a sixteenth of the body, at most 4 MB, and a body is at
-- most 256 MB), and the one-call form has one.

CREATE OR REPLACE FUNCTION wp_sheet_lines(p_sheet bigint, p_first int,
	p_e2e text[], p_amount bigint[], p_name text[], p_idn text[], p_card text[],
	p_bank text[], p_kind text[], p_line_month date[], p_gross bigint[], p_days int[],
	p_at timestamptz[], p_method text[], p_ref text[], p_pre_code text[], p_pre_text text[])
RETURNS int
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_sheet		sheet%ROWTYPE;
	v_n		int;
	v_probe		boolean := false;
BEGIN
	v_sheet := wp_sheet_received(p_sheet);
	LOOP
		BEGIN
			INSERT INTO sheet_line (sheet_id, seq, end_to_end_id, project_id, id_number, name, card,
				card_bank, kind, month, amount, gross, days_worked, confirmed_at, confirm_method,
				confirm_ref, reason_code, reason_text)
			WITH l AS (
				SELECT p_first - 1 + x.pos::int AS seq, x.e2e, x.amount, x.name, x.idn, x.card,
					x.bank, x.kind, x.month, x.gross, x.days, x.at, x.method, x.ref,
					x.pre_code, x.pre_text
				FROM unnest(p_e2e, p_amount, p_name, p_idn, p_card, p_bank, p_kind, p_line_month,
					p_gross, p_days, p_at, p_method, p_ref, p_pre_code, p_pre_text)
					WITH ORDINALITY AS x(e2e, amount, name, idn, card, bank, kind, month, gross,
					days, at, method, ref, pre_code, pre_text, pos)
			), checked AS MATERIALIZED (
				SELECT l.*, CASE
					WHEN l.pre_code IS NOT NULL THEN l.pre_code
					WHEN r.id_number IS NULL THEN 'WP01'
					WHEN r.employer_uscc <> v_sheet.subcontractor_uscc THEN 'WP02'
					WHEN r.name <> l.name THEN 'BE01'
					WHEN r.card <> l.card OR r.card_bank <> l.bank THEN 'AC01'
					WHEN r.entered > (l.month + interval '1 month' - interval '1 day')::date
					    OR r.left_on < l.month THEN 'WP03'
					WHEN l.kind = 'WAGE' AND paid.one IS NOT NULL THEN 'AM05'
				END AS code
				FROM l LEFT JOIN roster_entry r ON r.project_id = v_sheet.project_id
				    AND r.id_number = l.idn::bpchar AND r.id_number::text = l.idn
				-- already paid: one probe of sheet_line_worker_month a line,
				-- made only on the second try (v_probe: the plan's one-time
				-- filter, so the first try reads no index for it). A
				-- lateral LIMIT 1, not EXISTS: a generic plan made while the
				-- table was small may hash an EXISTS, that is read every WAGE
				-- line of the project for every batch, for the life of the
				-- connection (measured: latency growing sheet after sheet)
				LEFT JOIN LATERAL (SELECT 1 AS one FROM sheet_line o
					WHERE v_probe AND o.project_id = v_sheet.project_id AND o.id_number = l.idn
					AND o.month = l.month AND o.kind = 'WAGE' AND o.reason_code IS NULL
					LIMIT 1) paid ON l.kind = 'WAGE'
			), ranked AS (
				-- the same worker's WAGE for the same month twice in one batch: the later lines are duplicates
				SELECT c.*, CASE WHEN c.code IS NULL AND c.kind = 'WAGE' THEN
					row_number() OVER (PARTITION BY c.idn, c.month, c.kind, c.code IS NULL ORDER BY c.seq)
					ELSE 1 END AS nth
				FROM checked c
			)
			SELECT p_sheet, r.seq, r.e2e, v_sheet.project_id, r.idn, r.name, r.card, r.bank, r.kind,
				r.month, r.amount, r.gross, r.days, r.at, r.method, r.ref,
				CASE WHEN r.nth > 1 THEN 'AM05' ELSE r.code END,
				CASE WHEN r.nth > 1 OR CASE WHEN r.code = 'AM05' AND r.pre_code IS NULL THEN
				    -- paid by an earlier batch of this sheet (this statement's own
				    -- rows are not visible to it)? Rare, so asked only then: a
				    -- CASE, because "NULL AND x" evaluates x; a scalar subquery,
				    -- because an EXISTS may be planned as a hash of all the
				    -- project's paid lines
				    (SELECT true FROM sheet_line o WHERE o.project_id = v_sheet.project_id
				    AND o.id_number = r.idn AND o.month = r.month AND o.kind = 'WAGE'
				    AND o.reason_code IS NULL AND o.sheet_id = p_sheet LIMIT 1) IS NOT NULL
				    ELSE false END
				THEN 'the worker''s wage for this month appears earlier in this sheet'
				WHEN r.code IS NULL THEN NULL
				ELSE CASE r.code
					WHEN 'WP01' THEN 'worker is not on the project''s real-name roster'
					WHEN 'WP02' THEN 'worker is not employed by the subcontractor of this sheet'
					WHEN 'BE01' THEN 'creditor name does not match the name on the roster'
					WHEN 'AC01' THEN coalesce(r.pre_text, 'card is not the wage card registered to this worker on the roster')
					WHEN 'WP03' THEN 'worker was not on site during ' || to_char(r.month, 'YYYY-MM')
					WHEN 'AM05' THEN 'the worker''s wage for ' || to_char(r.month, 'YYYY-MM') || ' was already paid on this project (send arrears as BACKPAY)'
					ELSE r.pre_text END
				END
			FROM ranked r;
			GET DIAGNOSTICS v_n = ROW_COUNT;
			RETURN v_n;
		EXCEPTION WHEN unique_violation THEN
			-- a payable WAGE line of a worker-month already taken (or
			-- any other uniqueness broken): the batch is undone and tried
			-- once more, line by line; what collides then is raised
			IF v_probe THEN
				RAISE;
			END IF;
			v_probe := true;
		END;
	END LOOP;
END $$;

