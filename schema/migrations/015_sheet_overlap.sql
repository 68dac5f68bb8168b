-- 015_sheet_overlap.sql: a sheet decided in three steps that one
-- transaction holds together, so that the daemon can send its lines while
-- it is still reading the rest of the sheet (tests/bench/RESULTS.md, the
-- third session: reading and deciding a 1,000-line sheet took 19 + 22 ms
-- one after the other).
--
--   wp_sheet_open   the checks of the header, the account's row lock, the
--                   sheet's row (RECEIVED), or why not;
--   wp_sheet_lines  a batch of lines checked against the roster and
--                   stored, any number of times, in order;
--   wp_sheet_close  the decision: digest and declared figures stored, the
--                   misuse alerts, then REJECTED, HELD or paid; the report.
--
-- The daemon runs them as BEGIN; open; lines...; close; COMMIT on one
-- connection, and ROLLBACK when the sheet turns out to be refused after
-- all (its signature is checked at its end): nothing of a sheet is ever
-- visible before its decision commits. wp_sheet_submit, the one-call form
-- (every sheet the daemon does not overlap, and a sheet whose MsgId exists
-- or whose header is refused), is now these three calls in one, so both
-- forms run the same checks and the same decision.
--
-- What changes with batches: a worker's WAGE for a month twice in the
-- sheet is found within a batch by the window (as before) and across
-- batches by the "already paid" probe, and then whether the line paid is
-- this sheet's: the answer (AM05, "appears earlier in this sheet") is the
-- same as for the one-call form.

-- Until wp_sheet_close, the sheet's row holds placeholders for what is
-- known only at the sheet's end (its digest, month, declared count and
-- sum); close refuses to decide a sheet whose lines do not number what it
-- declares.
CREATE FUNCTION wp_sheet_open(p_contractor text, p_msg_id text, p_account text,
	p_subcontractor text)
RETURNS TABLE (sheet_id bigint, outcome text, code text, message text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_acc		account%ROWTYPE;
	v_proj		project%ROWTYPE;
	v_sheet		bigint;
BEGIN
	-- the same MsgId from the same contractor is answered from what was decided
	IF EXISTS (SELECT 1 FROM sheet s WHERE s.contractor_uscc = p_contractor::bpchar
	    AND s.msg_id = p_msg_id) THEN
		RETURN QUERY SELECT NULL::bigint, 'EXISTS', NULL::text, NULL::text;
		RETURN;
	END IF;
	SELECT a.* INTO v_acc FROM account a WHERE a.number = p_account AND a.kind = 'DEDICATED'
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT NULL::bigint, 'UNKNOWN_ACCOUNT', 'AC01',
			'debtor account is not a dedicated wage account at this bank';
		RETURN;
	END IF;
	SELECT p.* INTO STRICT v_proj FROM project p WHERE p.account_id = v_acc.id;
	IF v_proj.contractor_uscc <> p_contractor THEN
		RETURN QUERY SELECT NULL::bigint, 'FORBIDDEN', NULL::text, NULL::text;
		RETURN;
	END IF;
	IF v_acc.state <> 'OPEN' THEN
		RETURN QUERY SELECT NULL::bigint, 'ACCOUNT_CLOSED', 'AC04',
			'the project''s dedicated account is closed';
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM project_subcontractor ps
	    WHERE ps.project_id = v_proj.id AND ps.uscc = p_subcontractor) THEN
		RETURN QUERY SELECT NULL::bigint, 'UNKNOWN_SUBCONTRACTOR', 'WP06',
			'the subcontractor (UltmtDbtr) is not on the project''s roster';
		RETURN;
	END IF;
	-- a concurrent submission of the same MsgId waits here, then EXISTS
	INSERT INTO sheet (contractor_uscc, msg_id, digest, project_id, account_id,
		subcontractor_uscc, month, state, nb_of_txs, ctrl_sum, accepted_count, accepted_total)
	VALUES (p_contractor, p_msg_id, '\x'::bytea, v_proj.id, v_acc.id, p_subcontractor,
		date '1970-01-01', 'RECEIVED', 1, 1, 0, 0)		-- placeholders: close
	ON CONFLICT ON CONSTRAINT sheet_contractor_uscc_msg_id_key DO NOTHING
	RETURNING id INTO v_sheet;
	IF v_sheet IS NULL THEN
		RETURN QUERY SELECT NULL::bigint, 'EXISTS', NULL::text, NULL::text;
		RETURN;
	END IF;
	RETURN QUERY SELECT v_sheet, 'OPEN', NULL::text, NULL::text;
END $$;

-- The row of an open sheet, or an error: lines and a decision are only
-- ever for a sheet still RECEIVED (in the transaction that opened it).
CREATE FUNCTION wp_sheet_received(p_sheet bigint) RETURNS sheet
LANGUAGE plpgsql AS $$
DECLARE
	v_sheet		sheet%ROWTYPE;
BEGIN
	SELECT * INTO STRICT v_sheet FROM sheet WHERE id = p_sheet;
	IF v_sheet.state <> 'RECEIVED' THEN
		RAISE EXCEPTION 'sheet % is already decided', p_sheet
			USING ERRCODE = 'invalid_transaction_state';
	END IF;
	RETURN v_sheet;
END $$;

-- Lines p_first, p_first + 1, ... of an open sheet, checked against the
-- roster set-based (as 012's wp_sheet_submit did for the whole sheet).
CREATE FUNCTION wp_sheet_lines(p_sheet bigint, p_first int,
	p_e2e text[], p_amount bigint[], p_name text[], p_idn text[], p_card text[],
	p_bank text[], p_kind text[], p_line_month date[], p_gross bigint[], p_days int[],
	p_at timestamptz[], p_method text[], p_ref text[], p_pre_code text[], p_pre_text text[])
RETURNS int
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_sheet		sheet%ROWTYPE;
	v_n		int;
BEGIN
	v_sheet := wp_sheet_received(p_sheet);
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
		-- already paid: one probe of sheet_line_wage_once a line. A
		-- lateral LIMIT 1, not EXISTS: a generic plan made while the
		-- table was small may hash an EXISTS, that is read every WAGE
		-- line of the project for every batch, for the life of the
		-- connection (measured: latency growing sheet after sheet)
		LEFT JOIN LATERAL (SELECT 1 AS one FROM sheet_line o
			WHERE o.project_id = v_sheet.project_id AND o.id_number = l.idn
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
END $$;

-- The decision of an open sheet whose lines are all stored (as 012's
-- wp_sheet_submit after its lines).
CREATE FUNCTION wp_sheet_close(p_sheet bigint, p_digest bytea, p_month date, p_nb int,
	p_ctrl_sum bigint)
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_sheet		sheet%ROWTYPE;
	v_acc		account%ROWTYPE;
	v_lines		int;
	v_count		int;
	v_total		bigint;
	v_need		bigint;
	v_free		bigint;
	v_state		text;
BEGIN
	v_sheet := wp_sheet_received(p_sheet);
	-- the row lock taken by wp_sheet_open in this transaction
	SELECT a.* INTO STRICT v_acc FROM account a WHERE a.id = v_sheet.account_id FOR UPDATE;
	SELECT count(*), count(*) FILTER (WHERE l.reason_code IS NULL),
		coalesce(sum(l.amount) FILTER (WHERE l.reason_code IS NULL), 0)
	INTO v_lines, v_count, v_total
	FROM sheet_line l WHERE l.sheet_id = p_sheet;
	-- a batch lost on the way would pay a sheet in part: never
	IF v_lines <> p_nb THEN
		RAISE EXCEPTION 'sheet % has % lines stored, % declared', p_sheet, v_lines, p_nb
			USING ERRCODE = 'data_exception';
	END IF;

	-- paying someone off the roster, or a card or name not the worker's, is misuse (000 #16)
	INSERT INTO alert (kind, project_id, balance, month, msg_id, end_to_end_id, detail, dedup_key)
	SELECT 'MISUSE_ATTEMPT', v_sheet.project_id, v_acc.balance, p_month, v_sheet.msg_id,
		l.end_to_end_id, 'sheet line refused (' || l.reason_code || '): ' || l.reason_text,
		'MISUSE:sheet:' || p_sheet || ':' || l.seq
	FROM sheet_line l WHERE l.sheet_id = p_sheet AND l.reason_code IN ('WP01', 'BE01', 'AC01')
	  AND l.reason_text NOT LIKE 'card number check digit%';

	IF v_count = 0 THEN
		UPDATE sheet SET state = 'REJECTED', digest = p_digest, month = p_month,
			nb_of_txs = p_nb, ctrl_sum = p_ctrl_sum
		WHERE id = p_sheet;
	ELSE
		UPDATE sheet SET accepted_count = v_count, accepted_total = v_total,
			digest = p_digest, month = p_month, nb_of_txs = p_nb, ctrl_sum = p_ctrl_sum
		WHERE id = p_sheet;
		v_need := v_total - CASE WHEN v_acc.earmarked = 0 THEN 0		-- earmark
			ELSE wp_sheet_earmark_use(p_sheet) END;
		v_free := v_acc.balance - v_acc.earmarked;
		-- first in, first paid: a sheet that needs free balance waits
		-- behind the held ones; one paid wholly from its own earmarks
		-- takes nothing from them and goes ahead			-- earmark
		IF v_need > v_free OR (v_need > 0 AND EXISTS (SELECT 1 FROM sheet h
		    WHERE h.account_id = v_acc.id AND h.state = 'HELD')) THEN
			-- held whole, never partly paid; paid by itself when money arrives
			UPDATE sheet SET state = 'HELD' WHERE id = p_sheet;
			INSERT INTO alert (kind, project_id, balance, required, shortfall, month, msg_id, detail, dedup_key)
			VALUES ('BALANCE_SHORT', v_sheet.project_id, v_free, v_need,
				greatest(v_need - v_free, 0), p_month, v_sheet.msg_id,
				'wage sheet held: the dedicated account cannot pay it'
				|| CASE WHEN v_need <= v_free
				   THEN ' ahead of older held sheets' ELSE '' END,
				'BALANCE_SHORT:sheet:' || p_sheet);
		ELSE
			PERFORM wp_sheet_pay(p_sheet, v_acc.id, 'contractor:' || v_sheet.contractor_uscc);
		END IF;
	END IF;
	RETURN QUERY SELECT * FROM wp_sheet_report(p_sheet, 'NEW');
END $$;

-- The one-call form: the three steps in one call, and the answer for a
-- MsgId already decided (REPLAY, or CONFLICT for other bytes).
CREATE OR REPLACE FUNCTION wp_sheet_submit(p_contractor text, p_msg_id text, p_digest bytea,
	p_account text, p_subcontractor text, p_month date, p_nb int, p_ctrl_sum bigint,
	p_e2e text[], p_amount bigint[], p_name text[], p_idn text[], p_card text[],
	p_bank text[], p_kind text[], p_line_month date[], p_gross bigint[], p_days int[],
	p_at timestamptz[], p_method text[], p_ref text[], p_pre_code text[], p_pre_text text[])
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_open		record;
	v_old		sheet%ROWTYPE;
BEGIN
	SELECT * INTO STRICT v_open FROM wp_sheet_open(p_contractor, p_msg_id, p_account,
		p_subcontractor);
	IF v_open.outcome = 'EXISTS' THEN
		SELECT * INTO STRICT v_old FROM sheet s
		WHERE s.contractor_uscc = p_contractor::bpchar AND s.msg_id = p_msg_id;
		RETURN QUERY SELECT * FROM wp_sheet_report(v_old.id,
			CASE WHEN v_old.digest = p_digest THEN 'REPLAY' ELSE 'CONFLICT' END);
		RETURN;
	END IF;
	IF v_open.outcome <> 'OPEN' THEN
		RETURN QUERY SELECT 'S', v_open.outcome, NULL::text, NULL::text, v_open.code,
			v_open.message;
		RETURN;
	END IF;
	PERFORM wp_sheet_lines(v_open.sheet_id, 1, p_e2e, p_amount, p_name, p_idn, p_card,
		p_bank, p_kind, p_line_month, p_gross, p_days, p_at, p_method, p_ref, p_pre_code,
		p_pre_text);
	RETURN QUERY SELECT * FROM wp_sheet_close(v_open.sheet_id, p_digest, p_month, p_nb,
		p_ctrl_sum);
END $$;

-- CREATE OR REPLACE resets a function's settings: 009's generic plans again.
ALTER FUNCTION wp_sheet_submit(text, text, bytea, text, text, date, int, bigint,
	text[], bigint[], text[], text[], text[], text[], text[], date[], bigint[], int[],
	timestamptz[], text[], text[], text[], text[])
	SET plan_cache_mode = force_generic_plan;
