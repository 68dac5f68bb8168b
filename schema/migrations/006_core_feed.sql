-- 006_core_feed.sql: the rest of the core feed. Returned wage payments and
-- the earmark that keeps their money for the worker; debit requests, always
-- refused; legal orders, refused unless for the project's wages and then
-- only above the wages owed. Each call is one function = one transaction,
-- like 002, with the same lock order: the dedicated account row, then
-- audit_head.
--
-- Replaces wp_sheet_submit, wp_sheet_pay, wp_release_held (an earmark is
-- spent only by the BACKPAY line it is kept for) and wp_core_notify
-- (returns are booked instead of refused with WP40). 002's versions stay in
-- the released file; these are the same apart from the lines marked
-- "earmark".

-- The plan of 003 二(一): monthly labour cost = total / contract months; the
-- last month takes the remainder. Month p_month of a project that starts
-- p_start; 0 outside the contract months.
CREATE FUNCTION wp_plan_month(p_total bigint, p_months int, p_start date, p_month date)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN i < 0 OR i >= p_months THEN 0::bigint
		ELSE p_total / p_months + CASE WHEN i = p_months - 1 THEN p_total % p_months ELSE 0 END
		END
	FROM (SELECT ((extract(year FROM p_month) - extract(year FROM p_start)) * 12
		+ extract(month FROM p_month) - extract(month FROM p_start))::int AS i) x
$$;

-- The plan from the first month up to and including p_month.
CREATE FUNCTION wp_plan_through(p_total bigint, p_months int, p_start date, p_month date)
RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN k <= 0 THEN 0::bigint
		ELSE p_total / p_months * k + CASE WHEN k = p_months THEN p_total % p_months ELSE 0 END
		END
	FROM (SELECT least(p_months, ((extract(year FROM p_month) - extract(year FROM p_start)) * 12
		+ extract(month FROM p_month) - extract(month FROM p_start))::int + 1) AS k) x
$$;

-- Where attached money goes: one bank-side account, its balance derived
-- from the transfers like the clearing accounts'.
INSERT INTO account (number, kind) VALUES ('ATTACHED', 'ATTACHED');

-- ---------------------------------------------------------------------------
-- Returns and earmarks

-- A paid line that the receiving bank sent back (camt.054 with RtrInf).
-- Insert-only, like sheet_line: the line is "returned" by this row's
-- existence. The money is earmarked for the worker (id_number) and month of
-- the line until BACKPAY lines release it (earmark_release).
CREATE TABLE line_return (
	entry_ref	text PRIMARY KEY,		-- the core's NtryRef
	sheet_id	bigint NOT NULL,
	line_seq	int NOT NULL,
	account_id	bigint NOT NULL REFERENCES account,
	project_id	bigint NOT NULL REFERENCES project,
	id_number	text NOT NULL,
	month		date NOT NULL,
	amount		bigint NOT NULL CHECK (amount > 0),
	reason_code	text,				-- RtrInf/Rsn/Cd
	booking_date	date NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (sheet_id, line_seq) REFERENCES sheet_line,
	UNIQUE (sheet_id, line_seq)			-- a line comes back once
);
CREATE INDEX line_return_worker ON line_return (project_id, id_number, month);

-- The part of a return's earmark that a paid BACKPAY line spent.
CREATE TABLE earmark_release (
	entry_ref	text NOT NULL REFERENCES line_return,
	sheet_id	bigint NOT NULL,
	line_seq	int NOT NULL,
	amount		bigint NOT NULL CHECK (amount > 0),
	released_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (entry_ref, sheet_id, line_seq),
	FOREIGN KEY (sheet_id, line_seq) REFERENCES sheet_line
);
CREATE TRIGGER line_return_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON line_return
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();
CREATE TRIGGER earmark_release_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON earmark_release
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- What is left of each return's earmark. account.earmarked is the sum of
-- remaining over the account's returns (kept on the row, changed in the
-- same transactions).
CREATE VIEW line_earmark AS
	SELECT r.entry_ref, r.account_id, r.project_id, r.id_number, r.month, r.amount,
		r.amount - coalesce((SELECT sum(x.amount) FROM earmark_release x
			WHERE x.entry_ref = r.entry_ref), 0) AS remaining
	FROM line_return r;

-- Every line with what became of it, for the console and the documents:
-- REFUSED (reason_code), PENDING (its sheet held), PAID, or RETURNED.
CREATE VIEW sheet_line_state AS
	SELECT l.sheet_id, l.seq, l.end_to_end_id, s.msg_id, l.project_id, l.kind, l.month, l.amount,
		CASE WHEN l.reason_code IS NOT NULL THEN 'REFUSED'
		     WHEN r.entry_ref IS NOT NULL THEN 'RETURNED'
		     WHEN s.state = 'PAID' THEN 'PAID'
		     WHEN s.state = 'HELD' THEN 'PENDING'
		     ELSE 'REFUSED' END AS state,
		coalesce(l.reason_code, r.reason_code) AS reason_code,
		r.entry_ref AS return_ref, r.received_at AS returned_at
	FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
	LEFT JOIN line_return r ON r.sheet_id = l.sheet_id AND r.line_seq = l.seq;

-- How much of a sheet's total its accepted BACKPAY lines may take from
-- earmarks kept for the same worker and month (the rest must come from the
-- free balance, balance - earmarked).
CREATE FUNCTION wp_sheet_earmark_use(p_sheet bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(least(b.amount, (SELECT coalesce(sum(e.remaining), 0) FROM line_earmark e
		WHERE e.project_id = b.project_id AND e.id_number = b.id_number
		  AND e.month = b.month))), 0)::bigint
	FROM (SELECT l.project_id, l.id_number, l.month, sum(l.amount) AS amount
	      FROM sheet_line l WHERE l.sheet_id = p_sheet AND l.reason_code IS NULL
	        AND l.kind = 'BACKPAY' GROUP BY 1, 2, 3) b
$$;

-- Releases the earmarks a paid sheet's BACKPAY lines spend, oldest return
-- first; returns the fen released (what wp_sheet_earmark_use said).
CREATE FUNCTION wp_earmark_release(p_sheet bigint) RETURNS bigint
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

-- As 002, and: BACKPAY lines release the earmarks kept for their worker and
-- month, in the same transaction as the payment.
CREATE OR REPLACE FUNCTION wp_sheet_pay(p_sheet bigint, p_account bigint, p_actor text)
RETURNS boolean LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_out	bigint;
	v_total	bigint;
	v_msg	text;
	v_used	bigint;
BEGIN
	UPDATE sheet SET state = 'PAID', paid_at = now()
	WHERE id = p_sheet AND state IN ('RECEIVED', 'HELD')
	RETURNING accepted_total, msg_id INTO v_total, v_msg;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	SELECT id INTO STRICT v_out FROM account WHERE kind = 'CLEARING_OUT';
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference, sheet_id, line_seq)
	SELECT p_account, v_out, l.amount, 'WAGE', v_msg || '/' || l.end_to_end_id, p_sheet, l.seq
	FROM sheet_line l WHERE l.sheet_id = p_sheet AND l.reason_code IS NULL;
	-- earmark: nothing to release on an account that keeps none (the
	-- common case: no scan of the sheet's lines for BACKPAY)
	v_used := CASE WHEN (SELECT a.earmarked FROM account a WHERE a.id = p_account) = 0
		THEN 0 ELSE wp_earmark_release(p_sheet) END;
	-- fails on the CHECK (balance >= 0, earmarked <= balance) rather than overdraw
	UPDATE account SET balance = balance - v_total, earmarked = earmarked - v_used
	WHERE id = p_account;
	PERFORM wp_audit_append(p_actor, 'sheet.paid', 'sheet:' || v_msg,
		'account ' || p_account || ' debited ' || v_total || ' fen'
		|| CASE WHEN v_used > 0 THEN ', ' || v_used || ' fen of it from earmarks' ELSE '' END);
	RETURN true;
END $$;

-- As 002; a sheet needs from the free balance its total less the earmarks
-- its BACKPAY lines may spend.
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

-- As 002; the only changes are the availability check and the
-- BALANCE_SHORT figures, which count the earmarks the sheet's BACKPAY lines
-- may spend, and that a sheet paid wholly from its earmarks is not queued
-- behind held sheets.
CREATE OR REPLACE FUNCTION wp_sheet_submit(p_contractor text, p_msg_id text, p_digest bytea,
	p_account text, p_subcontractor text, p_month date, p_nb int, p_ctrl_sum bigint,
	p_lines json)
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
		SELECT * FROM json_to_recordset(p_lines) AS x(seq int, e2e text, amount bigint,
			name text, idn text, card text, bank text, kind text, month date, gross bigint,
			days int, at timestamptz, method text, ref text, pre_code text, pre_text text)
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

-- Books one returned wage payment (camt.054 entry with RtrInf): matched by
-- the original EndToEndId to an accepted line of a PAID sheet of this
-- account that has not come back yet. If several match (an EndToEndId is
-- unique only within its sheet), the line of the most recently paid sheet
-- is taken: a bank returns the latest payment first, and an older line with
-- the same EndToEndId stays matchable by a later return. The amount must be
-- the line's. The money goes back from CLEARING_OUT to the dedicated
-- account and is earmarked for the worker and month of the line.
-- Replays of the same NtryRef change nothing.
CREATE FUNCTION wp_core_return(p_ref text, p_account text, p_amount bigint, p_booking date,
	p_e2e text, p_reason text, OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_old	line_return%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_line	record;
	v_out	bigint;
BEGIN
	SELECT * INTO v_old FROM line_return WHERE entry_ref = p_ref;
	IF FOUND THEN
		IF v_old.amount <> p_amount THEN
			outcome := 'REFUSED';
			code := 'DU01';
			message := 'entry ' || p_ref || ' was already booked with another amount';
		ELSE
			outcome := 'DUPLICATE';
			message := 'entry ' || p_ref || ' was already booked';
		END IF;
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM deposit WHERE entry_ref = p_ref) THEN
		outcome := 'REFUSED';
		code := 'DU01';
		message := 'entry ' || p_ref || ' was already booked as a deposit';
		RETURN;
	END IF;
	SELECT * INTO v_acc FROM account WHERE number = p_account AND kind = 'DEDICATED' FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'REFUSED';
		code := 'AC01';
		message := 'account ' || p_account || ' is not a dedicated wage account';
		RETURN;
	END IF;
	IF v_acc.state <> 'OPEN' THEN
		outcome := 'REFUSED';
		code := 'AC04';
		message := 'account ' || p_account || ' is closed';
		RETURN;
	END IF;
	SELECT l.sheet_id, l.seq, l.project_id, l.id_number, l.month, l.amount, s.msg_id
	INTO v_line
	FROM sheet s JOIN sheet_line l ON l.sheet_id = s.id
	WHERE s.account_id = v_acc.id AND s.state = 'PAID' AND l.end_to_end_id = p_e2e
	  AND l.reason_code IS NULL
	  AND NOT EXISTS (SELECT 1 FROM line_return r WHERE r.sheet_id = l.sheet_id AND r.line_seq = l.seq)
	ORDER BY s.paid_at DESC, s.id DESC
	LIMIT 1;
	IF NOT FOUND THEN
		outcome := 'REFUSED';
		code := 'WP41';
		message := 'entry ' || p_ref || ': no paid wage line with EndToEndId ' || p_e2e
			|| ' of this account is waiting to come back';
		RETURN;
	END IF;
	IF v_line.amount <> p_amount THEN
		outcome := 'REFUSED';
		code := 'WP42';
		message := 'entry ' || p_ref || ': returned ' || wp_yuan(p_amount) || ' but line '
			|| p_e2e || ' of ' || v_line.msg_id || ' paid ' || wp_yuan(v_line.amount);
		RETURN;
	END IF;
	INSERT INTO line_return (entry_ref, sheet_id, line_seq, account_id, project_id, id_number,
		month, amount, reason_code, booking_date)
	VALUES (p_ref, v_line.sheet_id, v_line.seq, v_acc.id, v_line.project_id, v_line.id_number,
		v_line.month, p_amount, nullif(p_reason, ''), p_booking);
	SELECT id INTO STRICT v_out FROM account WHERE kind = 'CLEARING_OUT';
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	VALUES (v_out, v_acc.id, p_amount, 'RETURN', p_ref);
	UPDATE account SET balance = balance + p_amount, earmarked = earmarked + p_amount
	WHERE id = v_acc.id;
	PERFORM wp_audit_append('core', 'wage.returned', 'sheet:' || v_line.msg_id,
		'line ' || p_e2e || ' returned (' || coalesce(nullif(p_reason, ''), 'no reason') || '), entry '
		|| p_ref || ': ' || p_amount || ' fen back to account ' || p_account || ', earmarked for '
		|| to_char(v_line.month, 'YYYY-MM'));
	outcome := 'APPLIED';
	message := 'line ' || p_e2e || ' of ' || v_line.msg_id || ' returned; '
		|| wp_yuan(p_amount) || ' earmarked for the worker''s ' || to_char(v_line.month, 'YYYY-MM')
		|| ' (pay it as BACKPAY/' || to_char(v_line.month, 'YYYY-MM') || ')';
END $$;

-- As 002, and returned wage payments are booked (wp_core_return) instead of
-- refused. All or nothing per notification, as before.
CREATE OR REPLACE FUNCTION wp_core_notify(p_entries json, OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	e		record;
	r		record;
	v_applied	int := 0;
	v_dup		int := 0;
	v_released	text := '';
BEGIN
	BEGIN
		FOR e IN SELECT * FROM json_to_recordset(p_entries) AS x(ref text, account text,
		    amount bigint, booking date, payer_name text, payer_uscc text,
		    is_return boolean, e2e text, reason text) LOOP
			IF e.is_return THEN
				SELECT * INTO r FROM wp_core_return(e.ref, e.account, e.amount, e.booking,
					e.e2e, e.reason);
			ELSIF EXISTS (SELECT 1 FROM line_return WHERE entry_ref = e.ref) THEN
				SELECT 'REFUSED' AS outcome, 'DU01' AS code, 'entry ' || e.ref
					|| ' was already booked as a returned payment' AS message INTO r;
			ELSE
				SELECT * INTO r FROM wp_core_deposit(e.ref, e.account, e.amount, e.booking,
					e.payer_name, e.payer_uscc);
			END IF;
			IF r.outcome = 'REFUSED' THEN
				outcome := 'REFUSED';
				code := r.code;
				message := CASE WHEN r.message LIKE 'entry %' THEN r.message
					ELSE 'entry ' || e.ref || ': ' || r.message END
					|| '; nothing of this notification was booked';
				RAISE EXCEPTION USING ERRCODE = 'WP001';
			ELSIF r.outcome = 'DUPLICATE' THEN
				v_dup := v_dup + 1;
			ELSE
				v_applied := v_applied + 1;
				IF NOT e.is_return THEN
					v_released := v_released || ' ' || r.message;
				END IF;
			END IF;
		END LOOP;
	EXCEPTION WHEN SQLSTATE 'WP001' THEN
		RETURN;
	END;
	IF v_applied = 0 THEN
		outcome := 'DUPLICATE';
		message := v_dup || ' entr' || CASE WHEN v_dup = 1 THEN 'y was' ELSE 'ies were' END
			|| ' already booked; nothing changed';
	ELSE
		outcome := 'APPLIED';
		message := v_applied || ' entr' || CASE WHEN v_applied = 1 THEN 'y' ELSE 'ies' END
			|| ' booked, ' || v_dup || ' already booked;' || v_released;
	END IF;
END $$;

-- ---------------------------------------------------------------------------
-- Debit requests: the account pays wages and nothing else (002 §(十一)).

-- Every debit request the core sent, refused, as received.
CREATE TABLE debit_request (
	ref		text PRIMARY KEY,
	account		text NOT NULL,
	account_id	bigint REFERENCES account,	-- NULL: not a dedicated account
	amount		bigint NOT NULL CHECK (amount > 0),
	beneficiary	text NOT NULL,
	beneficiary_name text NOT NULL,
	purpose		text NOT NULL,
	channel		text NOT NULL,
	code		text NOT NULL,			-- why it was refused
	message		text NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER debit_request_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON debit_request
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- Refuses, records and (for a dedicated account) raises MISUSE_ATTEMPT.
-- outcome is always REFUSED: AG01 (transaction forbidden on this type of
-- account), AC01 (not a dedicated account), or DU01 (the Ref was used for
-- another request). A replay of the same request gets the same answer and
-- raises nothing new.
CREATE FUNCTION wp_core_debit(p_ref text, p_account text, p_amount bigint, p_beneficiary text,
	p_beneficiary_name text, p_purpose text, p_channel text,
	OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_old	debit_request%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_proj	project%ROWTYPE;
BEGIN
	outcome := 'REFUSED';
	SELECT * INTO v_old FROM debit_request WHERE ref = p_ref;
	IF FOUND THEN
		IF (v_old.account, v_old.amount, v_old.beneficiary, v_old.beneficiary_name,
		    v_old.purpose, v_old.channel) IS DISTINCT FROM (p_account, p_amount,
		    p_beneficiary, p_beneficiary_name, p_purpose, p_channel) THEN
			code := 'DU01';
			message := 'Ref ' || p_ref || ' was already used for another debit request';
		ELSE
			code := v_old.code;
			message := v_old.message;
		END IF;
		RETURN;
	END IF;
	SELECT * INTO v_acc FROM account WHERE number = p_account AND kind = 'DEDICATED';
	IF NOT FOUND THEN
		code := 'AC01';
		message := 'account ' || p_account || ' is not a dedicated wage account at this bank';
	ELSE
		SELECT * INTO STRICT v_proj FROM project WHERE account_id = v_acc.id;
		code := 'AG01';
		message := 'refused: a dedicated wage account pays wages only (农民工工资专用账户, 002 §(十一)); '
			|| 'debit of ' || wp_yuan(p_amount) || ' for "' || left(p_purpose, 40)
			|| '" recorded and reported to the regulators';
	END IF;
	INSERT INTO debit_request (ref, account, account_id, amount, beneficiary, beneficiary_name,
		purpose, channel, code, message)
	VALUES (p_ref, p_account, v_acc.id, p_amount, p_beneficiary, p_beneficiary_name,
		p_purpose, p_channel, code, message)
	ON CONFLICT (ref) DO NOTHING;
	IF NOT FOUND THEN
		-- a concurrent replay committed first: answer from it
		SELECT * INTO STRICT v_old FROM debit_request WHERE ref = p_ref;
		code := v_old.code;
		message := v_old.message;
		RETURN;
	END IF;
	IF v_acc.id IS NOT NULL THEN
		INSERT INTO alert (kind, project_id, balance, required, msg_id, detail, dedup_key)
		VALUES ('MISUSE_ATTEMPT', v_proj.id, v_acc.balance, p_amount, p_ref,
			'non-wage debit refused (AG01): ' || wp_yuan(p_amount) || ' to account ending '
			|| right(p_beneficiary, 4) || ' (' || p_beneficiary_name || ') for "' || p_purpose
			|| '" via ' || p_channel || '; core reference ' || p_ref,
			'MISUSE:debit:' || p_ref)
		ON CONFLICT (dedup_key) DO NOTHING;
	END IF;
	PERFORM wp_audit_append('core', 'debit.refused', 'account:' || p_account,
		'request ' || p_ref || ' of ' || p_amount || ' fen refused (' || code || ')');
END $$;

-- ---------------------------------------------------------------------------
-- Legal orders: the account's money may not be frozen, seized or deducted
-- for anything but wages (003 三(五)).

-- What the account owes its workers now: the held sheets (less what they
-- would take from earmarks, counted in earmarked), the planned labour cost
-- of the current month (China time of p_now), and the returned wages kept
-- for their workers.
CREATE FUNCTION wp_wages_owed(p_account bigint, p_now timestamptz,
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

-- Every order, with what was decided.
CREATE TABLE legal_order (
	ref		text PRIMARY KEY,
	authority	text NOT NULL,
	order_no	text NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('FREEZE', 'SEIZE', 'DEDUCT')),
	account		text NOT NULL,
	account_id	bigint REFERENCES account,	-- NULL: not a dedicated account
	amount		bigint NOT NULL CHECK (amount > 0),
	reason		text NOT NULL CHECK (reason IN ('WAGES', 'OTHER')),
	detail		text,
	outcome		text NOT NULL CHECK (outcome IN ('APPLIED', 'REFUSED')),
	code		text,
	attached	bigint NOT NULL DEFAULT 0 CHECK (attached >= 0),
	balance		bigint,				-- the account's, when decided
	owed		bigint,				-- wages owed, when decided
	message		text NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((outcome = 'APPLIED') = (attached > 0))
);
CREATE TRIGGER legal_order_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON legal_order
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- Decides a legal order. Reason OTHER: REFUSED (WP44). Reason WAGES: at most
-- the excess of the balance over the wages owed is attached; none: REFUSED
-- (WP45); part: APPLIED with code WP45. A SEIZE or DEDUCT moves what is
-- attached to the ATTACHED account; a FREEZE only records it (the account
-- can pay nothing but wages anyway, which is what a wage freeze protects).
-- Whatever is refused raises SEIZURE_REFUSED, and the answer carries the
-- account's legal status. Replays: the same answer (DUPLICATE for an
-- applied order); the same Ref for another order: REFUSED DU01.
CREATE FUNCTION wp_core_legal_order(p_ref text, p_authority text, p_order_no text, p_kind text,
	p_account text, p_amount bigint, p_reason text, p_detail text, p_now timestamptz,
	OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_old		legal_order%ROWTYPE;
	v_acc		account%ROWTYPE;
	v_proj		project%ROWTYPE;
	v_owed		record;
	v_excess	bigint;
	v_attach	bigint := 0;
	v_status	text;
	v_att		bigint;
BEGIN
	SELECT * INTO v_old FROM legal_order WHERE ref = p_ref;
	IF FOUND THEN
		IF (v_old.authority, v_old.order_no, v_old.kind, v_old.account, v_old.amount,
		    v_old.reason) IS DISTINCT FROM (p_authority, p_order_no, p_kind, p_account,
		    p_amount, p_reason) THEN
			outcome := 'REFUSED';
			code := 'DU01';
			message := 'Ref ' || p_ref || ' was already used for another order';
		ELSE
			outcome := CASE WHEN v_old.outcome = 'APPLIED' THEN 'DUPLICATE' ELSE 'REFUSED' END;
			code := v_old.code;
			message := v_old.message;
		END IF;
		RETURN;
	END IF;
	SELECT * INTO v_acc FROM account WHERE number = p_account AND kind = 'DEDICATED' FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'REFUSED';
		code := 'AC01';
		message := 'account ' || p_account || ' is not a dedicated wage account at this bank';
		INSERT INTO legal_order (ref, authority, order_no, kind, account, amount, reason, detail,
			outcome, code, message)
		VALUES (p_ref, p_authority, p_order_no, p_kind, p_account, p_amount, p_reason,
			nullif(p_detail, ''), outcome, code, message);
		RETURN;
	END IF;
	SELECT * INTO STRICT v_proj FROM project WHERE account_id = v_acc.id;
	SELECT * INTO STRICT v_owed FROM wp_wages_owed(v_acc.id, p_now);
	v_excess := greatest(v_acc.balance - v_owed.owed, 0);
	v_status := 'dedicated wage account of project ' || v_proj.code
		|| ': attachable only for its wages (003 三(五)); balance ' || wp_yuan(v_acc.balance)
		|| ', wages owed ' || wp_yuan(v_owed.owed) || ' (held ' || wp_yuan(v_owed.held)
		|| ', plan ' || wp_yuan(v_owed.planned) || ', earmarked ' || wp_yuan(v_owed.earmarked)
		|| '), excess ' || wp_yuan(v_excess);
	IF p_reason <> 'WAGES' THEN
		outcome := 'REFUSED';
		code := 'WP44';
		message := p_kind || ' refused: ' || v_status;
	ELSE
		v_attach := least(p_amount, v_excess);
		IF v_attach = 0 THEN
			outcome := 'REFUSED';
			code := 'WP45';
			message := p_kind || ' refused, nothing above the wages owed: ' || v_status;
		ELSE
			outcome := 'APPLIED';
			code := CASE WHEN v_attach < p_amount THEN 'WP45' END;
			message := p_kind || ' applied to ' || wp_yuan(v_attach) || ' of '
				|| wp_yuan(p_amount) || ': ' || v_status;
		END IF;
	END IF;
	INSERT INTO legal_order (ref, authority, order_no, kind, account, account_id, amount, reason,
		detail, outcome, code, attached, balance, owed, message)
	VALUES (p_ref, p_authority, p_order_no, p_kind, p_account, v_acc.id, p_amount, p_reason,
		nullif(p_detail, ''), outcome, code, v_attach, v_acc.balance, v_owed.owed, message);
	IF v_attach > 0 AND p_kind IN ('SEIZE', 'DEDUCT') THEN
		SELECT id INTO STRICT v_att FROM account WHERE kind = 'ATTACHED';
		INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
		VALUES (v_acc.id, v_att, v_attach, 'ATTACHMENT', p_ref);
		UPDATE account SET balance = balance - v_attach WHERE id = v_acc.id;
	END IF;
	IF v_attach < p_amount THEN
		INSERT INTO alert (kind, project_id, balance, required, shortfall, msg_id, detail, dedup_key)
		VALUES ('SEIZURE_REFUSED', v_proj.id, v_acc.balance, p_amount, p_amount - v_attach, p_ref,
			p_kind || ' order ' || p_order_no || ' of ' || p_authority || ' (reason ' || p_reason
			|| ') for ' || wp_yuan(p_amount) || ': ' || wp_yuan(p_amount - v_attach)
			|| ' refused, ' || wp_yuan(v_attach) || ' attached; ' || v_status
			|| '; core reference ' || p_ref,
			'SEIZURE:' || p_ref)
		ON CONFLICT (dedup_key) DO NOTHING;
	END IF;
	PERFORM wp_audit_append('core', 'legal_order.' || lower(outcome), 'account:' || p_account,
		p_kind || ' ' || p_order_no || ' (' || p_reason || ') of ' || p_amount || ' fen: '
		|| v_attach || ' fen attached');
END $$;
