-- 010_sheet_arrays.sql: wp_sheet_submit takes a sheet's lines as typed
-- arrays, one per column, instead of one json document (tests/bench/RESULTS.md,
-- "lines as arrays instead of JSON": json_to_recordset cost the server 3.9 ms
-- per 1,000 lines, unnest of typed arrays 1.0 ms). The daemon sends them as
-- binary parameters (daemon/sheetlines.c); confirmed_at goes as text and is
-- read as timestamptz in the calling statement, as json_to_recordset read it.
--
-- The body is 006's, apart from the first CTE (l) reading the arrays: every
-- line gets the same columns, seq being its position (1, 2, ...) as the json
-- "seq" was. 009's generic plans are set again on the new signature.

DROP FUNCTION wp_sheet_submit(text, text, bytea, text, text, date, int, bigint, json);

-- As 006 (which was as 002 plus the earmarks); only the lines' source differs.
CREATE FUNCTION wp_sheet_submit(p_contractor text, p_msg_id text, p_digest bytea,
	p_account text, p_subcontractor text, p_month date, p_nb int, p_ctrl_sum bigint,
	p_e2e text[], p_amount bigint[], p_name text[], p_idn text[], p_card text[],
	p_bank text[], p_kind text[], p_line_month date[], p_gross bigint[], p_days int[],
	p_at timestamptz[], p_method text[], p_ref text[], p_pre_code text[], p_pre_text text[])
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_old		sheet%ROWTYPE;
	v_acc		account%ROWTYPE;
	v_proj		project%ROWTYPE;
	v_sheet		bigint;
	v_count		int;
	v_total		bigint;
	v_need		bigint;
	v_free		bigint;
	v_state		text;
	v_actor		text := 'contractor:' || p_contractor;
BEGIN
	-- the same MsgId from the same contractor is answered from what was decided
	SELECT * INTO v_old FROM sheet s WHERE s.contractor_uscc = p_contractor AND s.msg_id = p_msg_id;
	IF FOUND THEN
		RETURN QUERY SELECT * FROM wp_sheet_report(v_old.id,
			CASE WHEN v_old.digest = p_digest THEN 'REPLAY' ELSE 'CONFLICT' END);
		RETURN;
	END IF;

	SELECT a.* INTO v_acc FROM account a WHERE a.number = p_account AND a.kind = 'DEDICATED'
	FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'S', 'UNKNOWN_ACCOUNT', NULL::text, NULL::text, 'AC01',
			'debtor account is not a dedicated wage account at this bank';
		RETURN;
	END IF;
	SELECT p.* INTO STRICT v_proj FROM project p WHERE p.account_id = v_acc.id;
	IF v_proj.contractor_uscc <> p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL::text, NULL::text, NULL::text, NULL::text;
		RETURN;
	END IF;
	IF v_acc.state <> 'OPEN' THEN
		RETURN QUERY SELECT 'S', 'ACCOUNT_CLOSED', NULL::text, NULL::text, 'AC04',
			'the project''s dedicated account is closed';
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM project_subcontractor ps
	    WHERE ps.project_id = v_proj.id AND ps.uscc = p_subcontractor) THEN
		RETURN QUERY SELECT 'S', 'UNKNOWN_SUBCONTRACTOR', NULL::text, NULL::text, 'WP06',
			'the subcontractor (UltmtDbtr) is not on the project''s roster';
		RETURN;
	END IF;

	-- a concurrent submission of the same MsgId waits here and then replays
	INSERT INTO sheet (contractor_uscc, msg_id, digest, project_id, account_id,
		subcontractor_uscc, month, state, nb_of_txs, ctrl_sum, accepted_count, accepted_total)
	VALUES (p_contractor, p_msg_id, p_digest, v_proj.id, v_acc.id, p_subcontractor,
		p_month, 'RECEIVED', p_nb, p_ctrl_sum, 0, 0)
	ON CONFLICT ON CONSTRAINT sheet_contractor_uscc_msg_id_key DO NOTHING
	RETURNING id INTO v_sheet;
	IF v_sheet IS NULL THEN
		SELECT * INTO STRICT v_old FROM sheet s WHERE s.contractor_uscc = p_contractor AND s.msg_id = p_msg_id;
		RETURN QUERY SELECT * FROM wp_sheet_report(v_old.id,
			CASE WHEN v_old.digest = p_digest THEN 'REPLAY' ELSE 'CONFLICT' END);
		RETURN;
	END IF;

	-- every line checked against the roster, set-based, in one statement
	INSERT INTO sheet_line (sheet_id, seq, end_to_end_id, project_id, id_number, name, card,
		card_bank, kind, month, amount, gross, days_worked, confirmed_at, confirm_method,
		confirm_ref, reason_code, reason_text)
	WITH l AS (
		-- the same columns as 006's json_to_recordset, seq being the position
		SELECT x.seq::int AS seq, x.e2e, x.amount, x.name, x.idn, x.card, x.bank, x.kind,
			x.month, x.gross, x.days, x.at, x.method, x.ref, x.pre_code, x.pre_text
		FROM unnest(p_e2e, p_amount, p_name, p_idn, p_card, p_bank, p_kind, p_line_month,
			p_gross, p_days, p_at, p_method, p_ref, p_pre_code, p_pre_text)
			WITH ORDINALITY AS x(e2e, amount, name, idn, card, bank, kind, month, gross,
			days, at, method, ref, pre_code, pre_text, seq)
	), checked AS (
		SELECT l.*, CASE
			WHEN l.pre_code IS NOT NULL THEN l.pre_code
			WHEN r.id_number IS NULL THEN 'WP01'
			WHEN r.employer_uscc <> p_subcontractor THEN 'WP02'
			WHEN r.name <> l.name THEN 'BE01'
			WHEN r.card <> l.card OR r.card_bank <> l.bank THEN 'AC01'
			WHEN r.entered > (l.month + interval '1 month' - interval '1 day')::date
			    OR r.left_on < l.month THEN 'WP03'
			WHEN l.kind = 'WAGE' AND EXISTS (SELECT 1 FROM sheet_line o
			    WHERE o.project_id = v_proj.id AND o.id_number = l.idn AND o.month = l.month
			    AND o.kind = 'WAGE' AND o.reason_code IS NULL) THEN 'AM05'
		END AS code
		FROM l LEFT JOIN roster_entry r ON r.project_id = v_proj.id AND r.id_number = l.idn
	), ranked AS (
		-- the same worker's WAGE for the same month twice in one sheet: the later lines are duplicates
		SELECT c.*, CASE WHEN c.code IS NULL AND c.kind = 'WAGE' THEN
			row_number() OVER (PARTITION BY c.idn, c.month, c.kind, c.code IS NULL ORDER BY c.seq)
			ELSE 1 END AS nth
		FROM checked c
	)
	SELECT v_sheet, r.seq, r.e2e, v_proj.id, r.idn, r.name, r.card, r.bank, r.kind, r.month,
		r.amount, r.gross, r.days, r.at, r.method, r.ref,
		CASE WHEN r.nth > 1 THEN 'AM05' ELSE r.code END,
		CASE WHEN r.nth > 1 THEN 'the worker''s wage for this month appears earlier in this sheet'
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

	SELECT count(*), coalesce(sum(l.amount), 0) INTO v_count, v_total
	FROM sheet_line l WHERE l.sheet_id = v_sheet AND l.reason_code IS NULL;

	-- paying someone off the roster, or a card or name not the worker's, is misuse (000 #16)
	INSERT INTO alert (kind, project_id, balance, month, msg_id, end_to_end_id, detail, dedup_key)
	SELECT 'MISUSE_ATTEMPT', v_proj.id, v_acc.balance, p_month, p_msg_id, l.end_to_end_id,
		'sheet line refused (' || l.reason_code || '): ' || l.reason_text,
		'MISUSE:sheet:' || v_sheet || ':' || l.seq
	FROM sheet_line l WHERE l.sheet_id = v_sheet AND l.reason_code IN ('WP01', 'BE01', 'AC01')
	  AND l.reason_text NOT LIKE 'card number check digit%';

	IF v_count = 0 THEN
		v_state := 'REJECTED';
		UPDATE sheet SET state = v_state WHERE id = v_sheet;
	ELSE
		UPDATE sheet SET accepted_count = v_count, accepted_total = v_total WHERE id = v_sheet;
		v_need := v_total - CASE WHEN v_acc.earmarked = 0 THEN 0		-- earmark
			ELSE wp_sheet_earmark_use(v_sheet) END;
		v_free := v_acc.balance - v_acc.earmarked;
		-- first in, first paid: a sheet that needs free balance waits
		-- behind the held ones; one paid wholly from its own earmarks
		-- takes nothing from them and goes ahead			-- earmark
		IF v_need > v_free OR (v_need > 0 AND EXISTS (SELECT 1 FROM sheet h
		    WHERE h.account_id = v_acc.id AND h.state = 'HELD')) THEN
			-- held whole, never partly paid; paid by itself when money arrives
			v_state := 'HELD';
			UPDATE sheet SET state = v_state WHERE id = v_sheet;
			INSERT INTO alert (kind, project_id, balance, required, shortfall, month, msg_id, detail, dedup_key)
			VALUES ('BALANCE_SHORT', v_proj.id, v_free, v_need,
				greatest(v_need - v_free, 0), p_month, p_msg_id,
				'wage sheet held: the dedicated account cannot pay it'
				|| CASE WHEN v_need <= v_free
				   THEN ' ahead of older held sheets' ELSE '' END,
				'BALANCE_SHORT:sheet:' || v_sheet);
		ELSE
			PERFORM wp_sheet_pay(v_sheet, v_acc.id, v_actor);
		END IF;
	END IF;
	RETURN QUERY SELECT * FROM wp_sheet_report(v_sheet, 'NEW');
END $$;

ALTER FUNCTION wp_sheet_submit(text, text, bytea, text, text, date, int, bigint,
	text[], bigint[], text[], text[], text[], text[], text[], date[], bigint[], int[],
	timestamptz[], text[], text[], text[], text[])
	SET plan_cache_mode = force_generic_plan;
