-- sheet.sql: a payroll sheet decided, in one transaction under the dedicated
-- account's row lock. wp_sheet_submit is wp_sheet_open (header checks, the
-- lock, pay-as-stored or not) + wp_sheet_lines per batch (every line against
-- the roster, set-based) + wp_sheet_close (the decision: pay every accepted
-- line, or hold the sheet whole, AM04); the daemon calls the three itself on
-- one session for a large sheet read and decided together. wp_sheet_pay books
-- a decided sheet; wp_release_held pays held sheets first in, first paid when
-- money arrives or a held sheet is withdrawn (wp_sheet_cancel); the earmark
-- functions let BACKPAY lines spend returned wages.

-- A wage sheet (pain.001) decided in one call: wp_sheet_open, then every line
-- in one wp_sheet_lines batch, then wp_sheet_close; returns the rows of the
-- pain.002 (wp_sheet_report). The same MsgId from the same contractor is
-- answered from what was decided: REPLAY when the digest is the same, CONFLICT
-- (DU01, HTTP 409) when it is not; a header refused by wp_sheet_open comes
-- back as one summary row with its code (AC01, AC04, WP06, or FORBIDDEN).
-- p_ctrl_sum goes to the opening as the declared sum that may let the sheet be
-- paid as its lines are stored; p_now, the daemon's clock, goes to the
-- opening too: its China-time month is the current month of the month rules
-- (WP07, WP08, WP09 in wp_sheet_lines). Locks what wp_sheet_open locks: the
-- dedicated account's row FOR UPDATE, to COMMIT.
-- Called by daemon/sheetapi.c (POST /v1/sheets, the lines as arrays built by
-- daemon/sheetlines.c), and after a failed sliced session.
CREATE OR REPLACE FUNCTION wp_sheet_submit(p_contractor text, p_msg_id text, p_digest bytea,
	p_account text, p_subcontractor text, p_month date, p_nb int, p_ctrl_sum bigint,
	p_e2e text[], p_amount bigint[], p_name text[], p_idn text[], p_card text[],
	p_bank text[], p_kind text[], p_line_month date[], p_gross bigint[], p_days int[],
	p_at timestamptz[], p_method text[], p_ref text[], p_pre_code text[], p_pre_text text[],
	p_now timestamptz, p_pii bytea[] DEFAULT NULL, p_id_mask text[] DEFAULT NULL,
	p_card_mask text[] DEFAULT NULL, p_name_mask text[] DEFAULT NULL)
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_open		record;
	v_old		sheet%ROWTYPE;
BEGIN
	SELECT * INTO STRICT v_open FROM wp_sheet_open(p_contractor, p_msg_id, p_account,
		p_subcontractor, p_ctrl_sum, p_now);
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
		p_pre_text, p_pii, p_id_mask, p_card_mask, p_name_mask);
	RETURN QUERY SELECT * FROM wp_sheet_close(v_open.sheet_id, p_digest, p_month, p_nb,
		p_ctrl_sum);
END $$;

-- Opens a sheet: the header checks, in order, and the lock. Outcome EXISTS
-- when this contractor's MsgId is stored already (also when a concurrent
-- submission of it commits first: the INSERT waits on its unique key);
-- UNKNOWN_ACCOUNT (AC01) when the debtor account is not a dedicated wage
-- account at this bank; FORBIDDEN when the caller is not the project's general
-- contractor; ACCOUNT_CLOSED (AC04); UNKNOWN_SUBCONTRACTOR (WP06) when the
-- UltmtDbtr is not on the project's roster; else OPEN with the new RECEIVED
-- sheet's id. Locks the dedicated account's row FOR UPDATE until COMMIT (the
-- lock every money function takes first). Decides pay_as_stored: the declared
-- sum is covered by the free balance, nothing is earmarked and no sheet is
-- held, so wp_sheet_lines may book each line's transfer as it stores it.
-- Keeps p_now, the daemon's clock (required), on the sheet as clock_at: every
-- batch of its lines is judged by that instant's month (WP07, WP08, WP09).
-- Called by wp_sheet_submit, and by daemon/sheetapi.c first in a sliced
-- session (BEGIN, open, lines per slice, close, COMMIT).
CREATE OR REPLACE FUNCTION wp_sheet_open(p_contractor text, p_msg_id text, p_account text,
	p_subcontractor text, p_declared_sum bigint, p_now timestamptz)
RETURNS TABLE (sheet_id bigint, outcome text, code text, message text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_acc		account%ROWTYPE;
	v_proj		project%ROWTYPE;
	v_sheet		bigint;
	v_stored	boolean;
BEGIN
	IF p_now IS NULL THEN
		RAISE EXCEPTION 'a sheet is opened with the daemon''s clock, not NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
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
	-- paid as stored: the whole sheet, as declared, is covered by the free
	-- balance, and no older sheet waits for money. The account's row is
	-- locked from here to COMMIT, so this stays true to the close
	v_stored := p_declared_sum > 0 AND v_acc.earmarked = 0
		AND p_declared_sum <= v_acc.balance
		AND NOT EXISTS (SELECT 1 FROM sheet h WHERE h.account_id = v_acc.id
		    AND h.state = 'HELD');
	-- a concurrent submission of the same MsgId waits here, then EXISTS
	INSERT INTO sheet (contractor_uscc, msg_id, digest, project_id, account_id,
		subcontractor_uscc, month, state, nb_of_txs, ctrl_sum, accepted_count, accepted_total,
		pay_as_stored, clock_at)
	VALUES (p_contractor, p_msg_id, '\x'::bytea, v_proj.id, v_acc.id, p_subcontractor,
		date '1970-01-01', 'RECEIVED', 1, 1, 0, 0,		-- placeholders: close
		coalesce(v_stored, false), p_now)
	ON CONFLICT ON CONSTRAINT sheet_contractor_uscc_msg_id_key DO NOTHING
	RETURNING id INTO v_sheet;
	IF v_sheet IS NULL THEN
		RETURN QUERY SELECT NULL::bigint, 'EXISTS', NULL::text, NULL::text;
		RETURN;
	END IF;
	RETURN QUERY SELECT v_sheet, 'OPEN', NULL::text, NULL::text;
END $$;

-- Stores one batch of a RECEIVED sheet's lines, from p_first on, each checked
-- against the project's real-name roster in one set-based statement, and
-- returns how many were stored. A line's reason, first that applies: the
-- reader's own (p_pre_code, from proto/sheet.c: WP05 an ID number failing its
-- GB 11643 check, AC01 a card failing its Luhn check); WP01 not on the roster
-- (000 #3, 002 §(三)); WP02 not employed by the sheet's subcontractor; BE01 not
-- the name on the roster; AC01 not the card and bank registered to the worker
-- (002 二(一), 000 #31: pays only the worker themself); WP07 a WAGE month
-- after the current one; WP08 a BACKPAY month not before the current one;
-- WP03 not on site that month (in the current month: entered after the
-- clock's day, not yet on site); WP09 the worker's confirmation dated after the
-- daemon's clock; AM05 the worker's WAGE for the month already paid (or
-- held) on the project, drawn on its wage guarantee (030), or earlier in the
-- same sheet (月结月清, 002 §(五)). The
-- current month and the clock are the sheet's clock_at (wp_sheet_open), China
-- time. A refused line takes no worker-month. Each line records the version
-- of the worker's roster entry it was checked against (read by the same
-- roster join; NULL when not on the roster). When the sheet is paid as
-- stored, the accepted lines' WAGE transfers are booked here too. A unique
-- violation (a worker-month taken by a concurrent sheet) undoes the batch and
-- tries it once more with the already-paid probe on; what collides then is
-- raised.
-- Personal data (032): with keys, p_name, p_idn and p_card are the daemon's
-- blind indexes (proto/pii.c), so every equality here is as before; p_pii
-- each line's sealed record, p_id_mask, p_card_mask and p_name_mask what is
-- shown of it, stored as given (NULL from callers without them).
-- Takes no lock of its own: the caller holds the account's row from
-- wp_sheet_open. Called by wp_sheet_submit and by daemon/sheetapi.c per slice.
CREATE OR REPLACE FUNCTION wp_sheet_lines(p_sheet bigint, p_first int,
	p_e2e text[], p_amount bigint[], p_name text[], p_idn text[], p_card text[],
	p_bank text[], p_kind text[], p_line_month date[], p_gross bigint[], p_days int[],
	p_at timestamptz[], p_method text[], p_ref text[], p_pre_code text[], p_pre_text text[],
	p_pii bytea[] DEFAULT NULL, p_id_mask text[] DEFAULT NULL, p_card_mask text[] DEFAULT NULL,
	p_name_mask text[] DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_sheet		sheet%ROWTYPE;
	v_n		int;
	v_probe		boolean := false;
	v_out		bigint;
	v_cur		date;
	v_today		date;
	v_drawn		boolean;
BEGIN
	v_sheet := wp_sheet_received(p_sheet);
	v_today := wp_cst(v_sheet.clock_at)::date;
	-- a project with draws on its wage guarantee (030): their months are paid
	v_drawn := EXISTS (SELECT 1 FROM guarantee_draw d WHERE d.project_id = v_sheet.project_id);
	v_cur := date_trunc('month', v_today)::date;
	IF v_sheet.pay_as_stored THEN
		SELECT id INTO STRICT v_out FROM account WHERE kind = 'CLEARING_OUT';
	END IF;
	LOOP
		BEGIN
			INSERT INTO sheet_line (sheet_id, seq, end_to_end_id, project_id, id_number, name, card,
				card_bank, kind, month, amount, gross, days_worked, confirmed_at, confirm_method,
				confirm_ref, reason_code, reason_text, roster_version, pii, id_mask, card_mask,
				name_mask)
			WITH l AS (
				SELECT p_first - 1 + x.pos::int AS seq, x.e2e, x.amount, x.name, x.idn, x.card,
					x.bank, x.kind, x.month, x.gross, x.days, x.at, x.method, x.ref,
					x.pre_code, x.pre_text, x.pii, x.id_mask, x.card_mask, x.name_mask
				FROM unnest(p_e2e, p_amount, p_name, p_idn, p_card, p_bank, p_kind, p_line_month,
					p_gross, p_days, p_at, p_method, p_ref, p_pre_code, p_pre_text, p_pii,
					p_id_mask, p_card_mask, p_name_mask)
					WITH ORDINALITY AS x(e2e, amount, name, idn, card, bank, kind, month, gross,
					days, at, method, ref, pre_code, pre_text, pii, id_mask, card_mask,
					name_mask, pos)
			), checked AS MATERIALIZED (
				SELECT l.*, CASE
					WHEN l.pre_code IS NOT NULL THEN l.pre_code
					WHEN r.id_number IS NULL THEN 'WP01'
					WHEN r.employer_uscc <> v_sheet.subcontractor_uscc THEN 'WP02'
					WHEN r.name <> l.name THEN 'BE01'
					WHEN r.card <> l.card OR r.card_bank <> l.bank THEN 'AC01'
					WHEN l.kind = 'WAGE' AND l.month > v_cur THEN 'WP07'
					WHEN l.kind = 'BACKPAY' AND l.month >= v_cur THEN 'WP08'
					WHEN r.entered > least((l.month + interval '1 month' - interval '1 day')::date,
					    v_today) OR r.left_on < l.month THEN 'WP03'
					WHEN l.at > v_sheet.clock_at THEN 'WP09'
					WHEN l.kind = 'WAGE' AND (paid.one IS NOT NULL OR drawn.one IS NOT NULL) THEN 'AM05'
				END AS code, r.version AS rv
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
				-- drawn on the wage guarantee (030): only on a project with draws
				LEFT JOIN LATERAL (SELECT 1 AS one FROM guarantee_draw_line g
					WHERE v_drawn AND g.project_id = v_sheet.project_id AND g.id_number = l.idn
					AND g.month = l.month LIMIT 1) drawn ON l.kind = 'WAGE'
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
					WHEN 'WP07' THEN 'the wage month ' || to_char(r.month, 'YYYY-MM') || ' is after the current month ' || to_char(v_cur, 'YYYY-MM')
					WHEN 'WP08' THEN 'a BACKPAY month must be before the current month ' || to_char(v_cur, 'YYYY-MM') || ', not ' || to_char(r.month, 'YYYY-MM')
					WHEN 'WP09' THEN 'the worker''s confirmation is dated ' || wp_iso_cst(r.at) || ', after the bank''s clock ' || wp_iso_cst(v_sheet.clock_at)
					WHEN 'AM05' THEN 'the worker''s wage for ' || to_char(r.month, 'YYYY-MM') || ' was already paid on this project (send arrears as BACKPAY)'
					ELSE r.pre_text END
				END, r.rv, r.pii, r.id_mask, r.card_mask, r.name_mask
			FROM ranked r;
			GET DIAGNOSTICS v_n = ROW_COUNT;
			-- each accepted line's transfer, as wp_sheet_pay would book it
			-- at the close (now() is the transaction's time), read back by
			-- the key just written. One statement with the insert above
			-- (a data-modifying WITH ... RETURNING) was dearer: pgbench on
			-- the benchmark's world, wp_sheet_submit rolled back, medians of
			-- 8 alternations, 100 / 1,000 lines: 015's 4.55 / 26.9 ms, that
			-- 5.00 / 27.6, this 4.26 / 24.7 (015's 4.58 / 25.1 beside it)
			IF v_sheet.pay_as_stored THEN
				INSERT INTO transfer (debit_account, credit_account, amount, reason,
					reference, sheet_id, line_seq)
				SELECT v_sheet.account_id, v_out, l.amount, 'WAGE',
					v_sheet.msg_id || '/' || l.end_to_end_id, p_sheet, l.seq
				FROM sheet_line l WHERE l.sheet_id = p_sheet
				  AND l.seq BETWEEN p_first AND p_first + v_n - 1 AND l.reason_code IS NULL;
			END IF;
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

-- Decides a RECEIVED sheet whose lines are stored, and returns its pain.002
-- rows (wp_sheet_report, outcome NEW). Raises when fewer or more lines are
-- stored than NbOfTxs declares: a sheet is never paid in part. Every line
-- refused as WP01, BE01 or AC01 raises MISUSE_ATTEMPT (000 #16), except one
-- whose reason text starts 'card number check digit'. No line accepted:
-- REJECTED. Else the sheet is paid whole by wp_sheet_pay, or held whole (HELD,
-- AM04, BALANCE_SHORT alert) when what it needs from the free balance (its
-- total less the earmarks its BACKPAY lines may spend) exceeds balance -
-- earmarked, or when it needs free balance and other sheets are held already:
-- first in, first paid; held sheets are paid by wp_release_held when money
-- arrives. A sheet paid as stored that would be held raises instead (only a
-- lying CtrlSum gets there; the daemon then decides it afresh in one call).
-- A sheet paid here adds a last row 'O' (outcome: its payment order's
-- MsgId; state: the order's creation time, ISO; end_to_end_id: the order's
-- id; code: its count and sum, 'N FEN'; message: the project's name, the
-- order's debtor), from which the
-- daemon sends the order itself once the transaction commits.
-- Locks the dedicated account's row FOR UPDATE (already held since
-- wp_sheet_open). Called by wp_sheet_submit and by daemon/sheetapi.c at the
-- end of a sliced session.
CREATE OR REPLACE FUNCTION wp_sheet_close(p_sheet bigint, p_digest bytea, p_month date, p_nb int,
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
	v_paid		boolean := false;
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
			-- its transfers are booked already: held, they would pay
			-- it in part. Only a CtrlSum that lied can bring this
			-- here, and the reader refuses that sheet; all of it is
			-- undone, and the one-call form decides it afresh
			IF v_sheet.pay_as_stored THEN
				RAISE EXCEPTION 'sheet % was paid as its lines were stored, but its '
					'accepted total % exceeds the free balance % or waits behind '
					'held sheets', p_sheet, v_need, v_free
					USING ERRCODE = 'data_exception';
			END IF;
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
			v_paid := true;
		END IF;
	END IF;
	RETURN QUERY SELECT * FROM wp_sheet_report(p_sheet, 'NEW');
	IF v_paid THEN
		-- the order leaves from the daemon that paid it, as soon as
		-- this commits (daemon/payorders.c, payorders_fresh_*; that
		-- attempt is counted when it is recorded): wp_sheet_pay wrote
		-- it leased for a minute (more than an attempt's 30 s
		-- deadline), which the claim of any instance respects; after
		-- that it is due like any other
		RETURN QUERY SELECT 'O'::text, o.msg_id, wp_iso_cst(o.created_at), o.id::text,
			o.nb_of_txs || ' ' || o.ctrl_sum,
			(SELECT p.name FROM project p WHERE p.id = v_sheet.project_id)
		FROM payment_order o WHERE o.sheet_id = p_sheet;
	END IF;
END $$;

-- A HELD sheet withdrawn by the project's general contractor (POST
-- /v1/sheets/{MsgId}/cancel): it becomes CANCELLED and is never paid, a
-- sheet.cancelled record is appended to the account's audit chain, and the
-- held sheets behind it are released first in, first paid
-- (wp_release_held), so the next one is paid if the free balance covers it.
-- Returns the pain.002 rows (wp_sheet_report) with outcome CANCELLED, or
-- REPLAY for a sheet already cancelled (a retried cancel is answered the
-- same); NOT_HELD with the current report for a sheet PAID or REJECTED (HTTP
-- 409); one summary row FORBIDDEN when the caller is not, or no longer, the
-- project's general contractor (403); no rows for a MsgId this contractor
-- never sent (404, as GET /v1/sheets/{MsgId}). The sheet is found by its
-- (contractor, MsgId) key, as wp_sheet_status finds it. Locks the dedicated
-- account's row FOR UPDATE first, as every money function does, and decides
-- on the sheet's state read under it (a deposit may have paid it
-- meanwhile); the chain's head is locked after it. Called by
-- daemon/sheetapi.c.
CREATE OR REPLACE FUNCTION wp_sheet_cancel(p_contractor text, p_msg_id text, p_actor text)
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_sheet		sheet%ROWTYPE;
	v_acc		account%ROWTYPE;
	v_gc		text;
BEGIN
	SELECT s.* INTO v_sheet FROM sheet s
	WHERE s.contractor_uscc = p_contractor::bpchar AND s.contractor_uscc::text = p_contractor
	  AND s.msg_id = p_msg_id;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT a.* INTO STRICT v_acc FROM account a WHERE a.id = v_sheet.account_id FOR UPDATE;
	SELECT p.contractor_uscc INTO STRICT v_gc FROM project p WHERE p.id = v_sheet.project_id;
	IF v_gc <> p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL::text, NULL::text, NULL::text, NULL::text;
		RETURN;
	END IF;
	-- a step run twice cannot cancel twice, nor cancel what was paid
	UPDATE sheet s SET state = 'CANCELLED', cancelled_at = now()
	WHERE s.id = v_sheet.id AND s.state = 'HELD';
	IF NOT FOUND THEN
		SELECT s.state INTO STRICT v_sheet.state FROM sheet s WHERE s.id = v_sheet.id;
		RETURN QUERY SELECT * FROM wp_sheet_report(v_sheet.id,
			CASE WHEN v_sheet.state = 'CANCELLED' THEN 'REPLAY' ELSE 'NOT_HELD' END);
		RETURN;
	END IF;
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'sheet.cancelled',
		'sheet:' || v_sheet.msg_id,
		'held sheet withdrawn by its general contractor, ' || v_sheet.accepted_total
		|| ' fen never paid');
	PERFORM wp_release_held(v_acc.id, p_actor);
	RETURN QUERY SELECT * FROM wp_sheet_report(v_sheet.id, 'CANCELLED');
END $$;

-- Pays the account's HELD sheets first in, first paid (by id) while the free
-- balance covers each one's need (its total less the earmarks its BACKPAY
-- lines may spend), stopping at the first it cannot pay so that no later sheet
-- jumps the queue; returns how many were paid. The caller holds the dedicated
-- account's row FOR UPDATE. Called by wp_core_deposit after a deposit is
-- booked, by wp_console_move after money came in by hand, and by
-- wp_sheet_cancel after a held sheet left the queue.
CREATE OR REPLACE FUNCTION wp_release_held(p_account bigint, p_actor text)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_acc	account%ROWTYPE;
	v_sheet	record;
	v_n	int := 0;
BEGIN
	FOR v_sheet IN SELECT id, accepted_total FROM sheet
	    WHERE account_id = p_account AND state = 'HELD' ORDER BY id LOOP
		SELECT * INTO v_acc FROM account WHERE id = p_account;
		EXIT WHEN v_sheet.accepted_total - CASE WHEN v_acc.earmarked = 0 THEN 0	-- earmark
			ELSE wp_sheet_earmark_use(v_sheet.id) END > v_acc.balance - v_acc.earmarked;
		IF wp_sheet_pay(v_sheet.id, p_account, p_actor) THEN
			v_n := v_n + 1;
		END IF;
	END LOOP;
	RETURN v_n;
END $$;

-- Books a decided sheet: RECEIVED or HELD becomes PAID (false, and nothing
-- done, when it is neither: a step run twice cannot pay twice); one WAGE
-- transfer per accepted line to CLEARING_OUT, unless wp_sheet_lines booked
-- them already (paid as stored); the earmarks its BACKPAY lines spend are
-- released (wp_earmark_release, skipped when the account keeps none); the
-- balance and earmarked lowered together, the account's CHECKs (balance >= 0,
-- earmarked <= balance) failing rather than overdrawing; a sheet.paid record
-- appended to the account's audit chain; the sheet's payment order to
-- the core written (payment_order, delivered by daemon/payorders.c): one per
-- paid sheet, exactly once, since only the step that pays writes it (paid
-- as stored too: the close pays through here); and the platform feed's
-- WAGE flow and PAID payline events (wp_feed_flow, wp_feed_payline: one
-- row each per sheet). The caller holds the
-- dedicated account's row FOR UPDATE; the chain's head is locked after it. Called by
-- wp_sheet_close and wp_release_held.
CREATE OR REPLACE FUNCTION wp_sheet_pay(p_sheet bigint, p_account bigint, p_actor text)
RETURNS boolean LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_out	bigint;
	v_total	bigint;
	v_msg	text;
	v_used	bigint;
	v_acc	record;
	v_stored boolean;
	v_count	int;
	v_fresh	boolean;
BEGIN
	-- RECEIVED: decided now, by the daemon that will send its order
	SELECT s.state = 'RECEIVED' INTO v_fresh FROM sheet s WHERE s.id = p_sheet;
	UPDATE sheet SET state = 'PAID', paid_at = now()
	WHERE id = p_sheet AND state IN ('RECEIVED', 'HELD')
	RETURNING accepted_total, accepted_count, msg_id, pay_as_stored
	INTO v_total, v_count, v_msg, v_stored;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	-- the payment order to the core (025), one row: its lines are the
	-- sheet's accepted lines. A sheet paid as it is decided (RECEIVED) has
	-- its order sent by the daemon that decided it, once this commits
	-- (wp_sheet_close's row 'O'): leased to it for a minute, claimed by
	-- no one meanwhile. A held sheet released is due at once (claimed).
	INSERT INTO payment_order (id, msg_id, sheet_id, account_id, nb_of_txs, ctrl_sum,
		unsettled, next_attempt_at)
	SELECT n, 'WPPO' || to_char(wp_cst(now()), 'YYYYMMDD') || lpad(n::text, 10, '0'),
		p_sheet, p_account, v_count, v_total, v_count,
		CASE WHEN v_fresh THEN now() + interval '60 seconds' ELSE now() END
	FROM (SELECT nextval('payment_order_id_seq') AS n) x;
	-- a sheet paid as stored has its transfers from wp_sheet_lines (020)
	IF NOT v_stored THEN
		SELECT id INTO STRICT v_out FROM account WHERE kind = 'CLEARING_OUT';
		INSERT INTO transfer (debit_account, credit_account, amount, reason, reference,
			sheet_id, line_seq)
		SELECT p_account, v_out, l.amount, 'WAGE', v_msg || '/' || l.end_to_end_id, p_sheet,
			l.seq
		FROM sheet_line l WHERE l.sheet_id = p_sheet AND l.reason_code IS NULL;
	END IF;
	-- earmark: nothing to release on an account that keeps none (the
	-- common case: no scan of the sheet's lines for BACKPAY)
	SELECT a.earmarked, a.number INTO STRICT v_acc FROM account a WHERE a.id = p_account;	-- chain
	v_used := CASE WHEN v_acc.earmarked = 0
		THEN 0 ELSE wp_earmark_release(p_sheet) END;
	-- fails on the CHECK (balance >= 0, earmarked <= balance) rather than overdraw
	UPDATE account SET balance = balance - v_total, earmarked = earmarked - v_used
	WHERE id = p_account;
	-- the platform feed (029): one flow and one payline event per sheet,
	-- whatever its size; the delivery expands the lines
	PERFORM wp_feed_flow(p_account, false, 'WAGE', v_total, v_msg, NULL, NULL, NULL,
		'wages of ' || v_count || ' line(s) to the workers'' cards');
	PERFORM wp_feed_payline(p_sheet, NULL, 'PAID', NULL);
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'sheet.paid',	-- chain
		'sheet:' || v_msg,
		'account ' || p_account || ' debited ' || v_total || ' fen'
		|| CASE WHEN v_used > 0 THEN ', ' || v_used || ' fen of it from earmarks' ELSE '' END);
	RETURN true;
END $$;

-- The row of a sheet still RECEIVED, or an error (invalid_transaction_state):
-- lines and a decision are only ever for a sheet still open in the transaction
-- that opened it. Locks nothing. Called by wp_sheet_lines and wp_sheet_close.
CREATE OR REPLACE FUNCTION wp_sheet_received(p_sheet bigint) RETURNS sheet
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

-- How much of a sheet's total its accepted BACKPAY lines may take from the
-- earmarks kept for the same worker and month (returned wages, spendable only
-- by them); the rest must come from the free balance, balance - earmarked.
-- Reads only. Called by wp_sheet_close and wp_release_held (when the account
-- keeps earmarks) and by wp_wages_owed.
CREATE OR REPLACE FUNCTION wp_sheet_earmark_use(p_sheet bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(least(b.amount, (SELECT coalesce(sum(e.remaining), 0) FROM line_earmark e
		WHERE e.project_id = b.project_id AND e.id_number = b.id_number
		  AND e.month = b.month))), 0)::bigint
	FROM (SELECT l.project_id, l.id_number, l.month, sum(l.amount) AS amount
	      FROM sheet_line l WHERE l.sheet_id = p_sheet AND l.reason_code IS NULL
	        AND l.kind = 'BACKPAY' GROUP BY 1, 2, 3) b
$$;

-- Releases the earmarks a paid sheet's accepted BACKPAY lines spend, line by
-- line, oldest return first, as earmark_release rows; returns the fen released
-- (what wp_sheet_earmark_use said the sheet may take). The caller holds the
-- dedicated account's row FOR UPDATE. Called by wp_sheet_pay.
CREATE OR REPLACE FUNCTION wp_earmark_release(p_sheet bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	l	record;
	e	record;
	v_left	bigint;
	v_take	bigint;
	v_total	bigint := 0;
BEGIN
	FOR l IN SELECT seq, project_id, id_number, month, amount FROM sheet_line
	    WHERE sheet_id = p_sheet AND reason_code IS NULL AND kind = 'BACKPAY' ORDER BY seq LOOP
		v_left := l.amount;
		FOR e IN SELECT m.entry_ref, m.remaining FROM line_earmark m
		    JOIN line_return r ON r.entry_ref = m.entry_ref
		    WHERE m.project_id = l.project_id AND m.id_number = l.id_number
		      AND m.month = l.month AND m.remaining > 0
		    ORDER BY r.received_at, r.entry_ref LOOP
			EXIT WHEN v_left = 0;
			v_take := least(v_left, e.remaining);
			INSERT INTO earmark_release (entry_ref, sheet_id, line_seq, amount)
			VALUES (e.entry_ref, p_sheet, l.seq, v_take);
			v_left := v_left - v_take;
			v_total := v_total + v_take;
		END LOOP;
	END LOOP;
	RETURN v_total;
END $$;
