-- 002_money.sql: every movement of money, each one function = one
-- transaction, called by the daemon as a single statement.
--
-- Why functions: a paid sheet must be all or nothing with the dedicated
-- account's row locked (DESIGN §5). Doing it in one statement makes it atomic
-- by construction, takes one round trip, and leaves the daemon's event loop
-- with nothing to roll back after a lost connection: a retry with the same
-- MsgId (or NtryRef) is answered from what was committed.
--
-- Lock order, everywhere: the dedicated account row, then audit_head.

-- Appends one audit record chained to the previous one.
CREATE FUNCTION wp_audit_append(p_actor text, p_action text, p_object text, p_detail text)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_prev	bytea;
	v_id	bigint;
	v_at	timestamptz := clock_timestamp();
BEGIN
	SELECT hash INTO v_prev FROM audit_head FOR UPDATE;
	v_id := nextval('audit_id_seq');
	INSERT INTO audit (id, at, actor, action, object, detail, prev_hash, hash)
	VALUES (v_id, v_at, p_actor, p_action, p_object, p_detail, v_prev,
		wp_audit_hash(v_prev, v_id, v_at, p_actor, p_action, p_object, p_detail));
	UPDATE audit_head SET hash = (SELECT hash FROM audit WHERE id = v_id);
END $$;

CREATE FUNCTION wp_audit_hash(p_prev bytea, p_id bigint, p_at timestamptz, p_actor text,
	p_action text, p_object text, p_detail text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT sha256(p_prev || convert_to(concat_ws(E'\x1f', p_id::text,
		(extract(epoch FROM p_at) * 1000000)::bigint::text,
		p_actor, p_action, p_object, p_detail), 'UTF8'))
$$;

-- Walks the chain: ok, how many records, and the first broken one.
CREATE FUNCTION wp_audit_verify(OUT ok boolean, OUT records bigint, OUT first_broken bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	r	record;
	v_prev	bytea := sha256(''::bytea);
BEGIN
	ok := true;
	records := 0;
	FOR r IN SELECT * FROM audit ORDER BY id LOOP
		records := records + 1;
		IF ok AND (r.prev_hash <> v_prev OR r.hash <> wp_audit_hash(r.prev_hash, r.id,
		    r.at, r.actor, r.action, r.object, r.detail)) THEN
			ok := false;
			first_broken := r.id;
		END IF;
		v_prev := r.hash;
	END LOOP;
	IF ok AND v_prev <> (SELECT hash FROM audit_head) THEN
		-- the newest records were removed
		ok := false;
		first_broken := (SELECT coalesce(max(id), 0) + 1 FROM audit);
	END IF;
END $$;

-- The pain.002 of a decided sheet: a summary row, then one row per refused line.
CREATE FUNCTION wp_sheet_report(p_sheet bigint, p_outcome text)
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE sql STABLE AS $$
	SELECT 'S', p_outcome, s.state, s.msg_id, NULL::text,
		s.accepted_count || ' ' || s.accepted_total || ' ' || s.nb_of_txs
	FROM sheet s WHERE s.id = p_sheet
	UNION ALL
	(SELECT 'L', NULL, NULL, l.end_to_end_id, l.reason_code, l.reason_text
	FROM sheet_line l WHERE l.sheet_id = p_sheet AND l.reason_code IS NOT NULL
	ORDER BY l.seq)
$$;

-- Pays every accepted line of a sheet from its dedicated account (locked by
-- the caller) in this transaction. The state guard makes a second call a
-- no-op, so a sheet can never be paid twice.
CREATE FUNCTION wp_sheet_pay(p_sheet bigint, p_account bigint, p_actor text)
RETURNS boolean LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_out	bigint;
	v_total	bigint;
	v_msg	text;
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
	-- fails on the CHECK (balance >= 0, earmarked <= balance) rather than overdraw
	UPDATE account SET balance = balance - v_total WHERE id = p_account;
	PERFORM wp_audit_append(p_actor, 'sheet.paid', 'sheet:' || v_msg,
		'account ' || p_account || ' debited ' || v_total || ' fen');
	RETURN true;
END $$;

-- Pays held sheets of an account oldest first while the money lasts; the
-- first that does not fit stops the queue (first in, first paid).
CREATE FUNCTION wp_release_held(p_account bigint, p_actor text)
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
		EXIT WHEN v_sheet.accepted_total > v_acc.balance - v_acc.earmarked;
		IF wp_sheet_pay(v_sheet.id, p_account, p_actor) THEN
			v_n := v_n + 1;
		END IF;
	END LOOP;
	RETURN v_n;
END $$;

-- Decides and, when the money is there, pays a wage sheet.
--
-- p_lines: a JSON array of objects {seq, e2e, amount, name, idn, card, bank,
-- kind, month (YYYY-MM-01), gross, days, at, method, ref, pre_code, pre_text}
-- as read and format-checked by the daemon; pre_code refuses a line for a
-- reason found without the database (check digits).
--
-- Outcomes (first row): NEW, REPLAY (same MsgId, same bytes), CONFLICT (same
-- MsgId, other bytes), FORBIDDEN (not this project's general contractor),
-- UNKNOWN_ACCOUNT, ACCOUNT_CLOSED, UNKNOWN_SUBCONTRACTOR.
CREATE FUNCTION wp_sheet_submit(p_contractor text, p_msg_id text, p_digest bytea,
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
		IF v_total > v_acc.balance - v_acc.earmarked OR EXISTS (SELECT 1 FROM sheet h
		    WHERE h.account_id = v_acc.id AND h.state = 'HELD') THEN
			-- held whole, never partly paid; paid by itself when money arrives
			v_state := 'HELD';
			UPDATE sheet SET state = v_state WHERE id = v_sheet;
			INSERT INTO alert (kind, project_id, balance, required, shortfall, month, msg_id, detail, dedup_key)
			VALUES ('BALANCE_SHORT', v_proj.id, v_acc.balance - v_acc.earmarked, v_total,
				greatest(v_total - (v_acc.balance - v_acc.earmarked), 0), p_month, p_msg_id,
				'wage sheet held: the dedicated account cannot pay it'
				|| CASE WHEN v_total <= v_acc.balance - v_acc.earmarked
				   THEN ' ahead of older held sheets' ELSE '' END,
				'BALANCE_SHORT:sheet:' || v_sheet);
		ELSE
			PERFORM wp_sheet_pay(v_sheet, v_acc.id, v_actor);
		END IF;
	END IF;
	RETURN QUERY SELECT * FROM wp_sheet_report(v_sheet, 'NEW');
END $$;

-- The current report of a sheet for its contractor (GET /v1/sheets/{MsgId}).
CREATE FUNCTION wp_sheet_status(p_contractor text, p_msg_id text)
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE sql STABLE AS $$
	SELECT r.* FROM sheet s, wp_sheet_report(s.id, 'REPLAY') r
	WHERE s.contractor_uscc = p_contractor AND s.msg_id = p_msg_id
$$;

-- Books one camt.054 credit entry. Replays of the same NtryRef change nothing.
CREATE FUNCTION wp_core_deposit(p_ref text, p_account text, p_amount bigint,
	p_booking date, p_payer_name text, p_payer_uscc text,
	OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_acc	account%ROWTYPE;
	v_in	bigint;
	v_old	deposit%ROWTYPE;
	v_n	int;
BEGIN
	SELECT * INTO v_old FROM deposit WHERE entry_ref = p_ref;
	IF FOUND THEN
		outcome := 'DUPLICATE';
		message := 'entry ' || p_ref || ' was already booked';
		IF v_old.amount <> p_amount THEN
			outcome := 'REFUSED';
			code := 'DU01';
			message := 'entry ' || p_ref || ' was already booked with another amount';
		END IF;
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
	INSERT INTO deposit (entry_ref, account_id, amount, booking_date, payer_name, payer_uscc)
	VALUES (p_ref, v_acc.id, p_amount, p_booking, nullif(p_payer_name, ''), nullif(p_payer_uscc, ''))
	ON CONFLICT (entry_ref) DO NOTHING;
	IF NOT FOUND THEN
		-- a concurrent replay committed first
		outcome := 'DUPLICATE';
		message := 'entry ' || p_ref || ' was already booked';
		RETURN;
	END IF;
	SELECT id INTO STRICT v_in FROM account WHERE kind = 'CLEARING_IN';
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	VALUES (v_in, v_acc.id, p_amount, 'DEPOSIT', p_ref);
	UPDATE account SET balance = balance + p_amount WHERE id = v_acc.id;
	PERFORM wp_audit_append('core', 'deposit.booked', 'account:' || p_account,
		'entry ' || p_ref || ' credited ' || p_amount || ' fen');
	v_n := wp_release_held(v_acc.id, 'core');
	outcome := 'APPLIED';
	message := 'credited; ' || v_n || ' held sheet(s) paid';
END $$;

-- Upserts roster entries of a project by ID number.
-- p_subs: [{uscc, name}]; p_workers: [{idn, name, employer, card, bank,
-- signed, entered, left, pre_code, pre_text}].
-- Rows: a summary ('S', outcome OK/FORBIDDEN/UNKNOWN_PROJECT, accepted count)
-- then one row per refused entry ('R', id number, code, message).
CREATE FUNCTION wp_roster_upsert(p_contractor text, p_project text, p_subs json, p_workers json)
RETURNS TABLE (kind text, outcome text, id_number text, code text, message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj		project%ROWTYPE;
	w		record;
	v_owner		text;
	v_accepted	int := 0;
	v_refused	text[] := '{}';
	v_codes		text[] := '{}';
	v_msgs		text[] := '{}';
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p_project FOR UPDATE;
	IF NOT FOUND OR v_proj.contractor_uscc <> p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL::text, NULL::text, NULL::text;
		RETURN;
	END IF;
	INSERT INTO company (uscc, name)
	SELECT s.uscc, s.name FROM json_to_recordset(p_subs) AS s(uscc text, name text)
	ON CONFLICT (uscc) DO NOTHING;
	INSERT INTO project_subcontractor (project_id, uscc)
	SELECT v_proj.id, s.uscc FROM json_to_recordset(p_subs) AS s(uscc text, name text)
	ON CONFLICT DO NOTHING;

	FOR w IN SELECT * FROM json_to_recordset(p_workers) AS x(idn text, name text,
	    employer text, card text, bank text, signed date, entered date, "left" date,
	    pre_code text, pre_text text) LOOP
		IF w.pre_code IS NOT NULL THEN
			v_refused := v_refused || w.idn; v_codes := v_codes || w.pre_code;
			v_msgs := v_msgs || w.pre_text;
			CONTINUE;
		END IF;
		IF NOT EXISTS (SELECT 1 FROM project_subcontractor
		    WHERE project_id = v_proj.id AND uscc = w.employer) THEN
			v_refused := v_refused || w.idn; v_codes := v_codes || 'WP13'::text;
			v_msgs := v_msgs || 'employer is not a subcontractor of this project'::text;
			CONTINUE;
		END IF;
		-- one person, one card: the card's first owner keeps it
		INSERT INTO card_owner (card, id_number) VALUES (w.card, w.idn)
		ON CONFLICT (card) DO NOTHING;
		SELECT c.id_number INTO v_owner FROM card_owner c WHERE c.card = w.card;
		IF v_owner <> w.idn THEN
			v_refused := v_refused || w.idn; v_codes := v_codes || 'WP15'::text;
			v_msgs := v_msgs || 'card is already registered to another worker (one person, one card)'::text;
			INSERT INTO alert (kind, project_id, detail, dedup_key)
			VALUES ('CARD_CONCENTRATION', v_proj.id,
				'roster tried to register a card of another worker; card ending '
				|| right(w.card, 4), 'CARD:' || w.card || ':' || w.idn)
			ON CONFLICT (dedup_key) DO NOTHING;
			CONTINUE;
		END IF;
		INSERT INTO roster_entry (project_id, id_number, name, employer_uscc, card, card_bank,
			contract_signed, entered, left_on)
		VALUES (v_proj.id, w.idn, w.name, w.employer, w.card, w.bank, w.signed, w.entered, w."left")
		ON CONFLICT (project_id, id_number) DO UPDATE SET name = EXCLUDED.name,
			employer_uscc = EXCLUDED.employer_uscc, card = EXCLUDED.card,
			card_bank = EXCLUDED.card_bank, contract_signed = EXCLUDED.contract_signed,
			entered = EXCLUDED.entered, left_on = EXCLUDED.left_on, updated_at = now();
		v_accepted := v_accepted + 1;
	END LOOP;
	PERFORM wp_audit_append('contractor:' || p_contractor, 'roster.upload', 'project:' || p_project,
		v_accepted || ' accepted, ' || cardinality(v_refused) || ' refused');
	RETURN QUERY SELECT 'S', 'OK', NULL::text, NULL::text, v_accepted::text;
	RETURN QUERY SELECT 'R', NULL::text, u.i, u.c, u.m FROM unnest(v_refused, v_codes, v_msgs) AS u(i, c, m);
END $$;

-- Opens a project and its dedicated account (after a checker approved).
CREATE FUNCTION wp_project_open(p jsonb, p_actor text)
RETURNS bigint LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_acc	bigint;
	v_proj	bigint;
BEGIN
	IF EXISTS (SELECT 1 FROM project WHERE code = p->>'code') THEN
		RAISE EXCEPTION 'project % already has a dedicated account', p->>'code'
			USING ERRCODE = 'unique_violation';
	END IF;
	INSERT INTO company (uscc, name) VALUES (p->'owner'->>'uscc', p->'owner'->>'name')
	ON CONFLICT (uscc) DO NOTHING;
	INSERT INTO company (uscc, name) VALUES (p->'contractor'->>'uscc', p->'contractor'->>'name')
	ON CONFLICT (uscc) DO NOTHING;
	INSERT INTO account (number, kind) VALUES (p->>'account', 'DEDICATED') RETURNING id INTO v_acc;
	INSERT INTO project (code, name, region, industry, owner_uscc, contractor_uscc, account_id,
		labour_cost_total, contract_months, start_month, pay_day)
	VALUES (p->>'code', p->>'name', p->>'region', p->>'industry', p->'owner'->>'uscc',
		p->'contractor'->>'uscc', v_acc, (p->>'labour_cost_fen')::bigint,
		(p->>'contract_months')::int, (p->>'start_month' || '-01')::date, (p->>'pay_day')::int)
	RETURNING id INTO v_proj;
	PERFORM wp_audit_append(p_actor, 'account.opened', 'project:' || (p->>'code'),
		'dedicated account ' || (p->>'account'));
	RETURN v_proj;
END $$;

-- A checker decides a pending approval. Returns the approval's new state and
-- outcome text; refuses the maker deciding their own proposal.
CREATE FUNCTION wp_approval_decide(p_id bigint, p_checker bigint, p_decision text,
	OUT state text, OUT outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_ap	approval%ROWTYPE;
	v_name	text;
BEGIN
	SELECT * INTO v_ap FROM approval WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		state := 'NOT_FOUND';
		RETURN;
	END IF;
	IF v_ap.state <> 'PENDING' THEN
		state := v_ap.state;
		outcome := 'already decided: ' || coalesce(v_ap.outcome, '');
		RETURN;
	END IF;
	IF v_ap.maker_id = p_checker THEN
		state := 'SAME_OPERATOR';
		outcome := 'the maker of a proposal cannot approve it (four eyes)';
		RETURN;
	END IF;
	SELECT name INTO STRICT v_name FROM operator WHERE id = p_checker;
	IF p_decision = 'reject' THEN
		state := 'REJECTED';
		outcome := 'rejected by ' || v_name;
	ELSIF v_ap.kind = 'OPEN_ACCOUNT' THEN
		BEGIN
			PERFORM wp_project_open(v_ap.payload, 'operator:' || v_name);
			state := 'APPROVED';
			outcome := 'dedicated account ' || (v_ap.payload->>'account') || ' opened';
		EXCEPTION WHEN unique_violation OR check_violation OR foreign_key_violation
		    OR not_null_violation OR invalid_datetime_format OR datetime_field_overflow THEN
			state := 'FAILED';
			outcome := SQLERRM;
		END;
	ELSE
		state := 'FAILED';
		outcome := 'approval kind ' || v_ap.kind || ' is not handled yet';
	END IF;
	UPDATE approval SET state = wp_approval_decide.state, checker_id = p_checker,
		decided_at = now(), outcome = wp_approval_decide.outcome WHERE id = p_id;
	PERFORM wp_audit_append('operator:' || v_name, 'approval.' || lower(wp_approval_decide.state),
		'approval:' || p_id, coalesce(wp_approval_decide.outcome, ''));
END $$;

-- The current roster of a project, for its general contractor only:
-- a summary row ('S', OK or FORBIDDEN), then subcontractors ('C': uscc,
-- name) and workers ('W': id, name, employer, card, bank, signed, entered, left).
CREATE FUNCTION wp_roster_get(p_contractor text, p_project text)
RETURNS TABLE (kind text, a text, b text, c text, d text, e text, f text, g text, h text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p_project;
	IF NOT FOUND OR v_proj.contractor_uscc <> p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL, NULL, NULL, NULL, NULL, NULL, NULL;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'S', 'OK', NULL, NULL, NULL, NULL, NULL, NULL, NULL;
	RETURN QUERY SELECT 'C', ps.uscc::text, co.name, NULL, NULL, NULL, NULL, NULL, NULL
		FROM project_subcontractor ps JOIN company co USING (uscc)
		WHERE ps.project_id = v_proj.id ORDER BY ps.uscc;
	RETURN QUERY SELECT 'W', r.id_number::text, r.name, r.employer_uscc::text, r.card,
		r.card_bank::text, r.contract_signed::text, r.entered::text, r.left_on::text
		FROM roster_entry r WHERE r.project_id = v_proj.id ORDER BY r.id_number;
END $$;

-- Books the entries of one camt.054 notification, all or nothing: if one
-- entry is refused, nothing of the message is booked and the refusal names
-- the entry. APPLIED when at least one new entry was booked, DUPLICATE when
-- every entry had been booked before.
-- p_entries: [{ref, account, amount, booking, payer_name, payer_uscc, is_return, e2e, reason}]
CREATE FUNCTION wp_core_notify(p_entries json, OUT outcome text, OUT code text, OUT message text)
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
				outcome := 'REFUSED';
				code := 'WP40';
				message := 'entry ' || e.ref || ': returned wage payments are not booked by this version';
				RAISE EXCEPTION USING ERRCODE = 'WP001';
			END IF;
			SELECT * INTO r FROM wp_core_deposit(e.ref, e.account, e.amount, e.booking,
				e.payer_name, e.payer_uscc);
			IF r.outcome = 'REFUSED' THEN
				outcome := 'REFUSED';
				code := r.code;
				message := 'entry ' || e.ref || ': ' || r.message || '; nothing of this notification was booked';
				RAISE EXCEPTION USING ERRCODE = 'WP001';
			ELSIF r.outcome = 'DUPLICATE' THEN
				v_dup := v_dup + 1;
			ELSE
				v_applied := v_applied + 1;
				v_released := v_released || ' ' || r.message;
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
