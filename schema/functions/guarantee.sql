-- guarantee.sql: the wage guarantee (工资保证金 / 保函; 000 #11-12, 002 §(九),
-- 003 二(二) 三(五), 004 第六条; tables in migration 030). Four eyes, as for
-- the dedicated account: a maker proposes, a different checker approves,
-- and the rules are checked at both steps (wp_console_propose,
-- wp_approval_decide call in here).
--  - GUARANTEE: a guarantee account (kind GUARANTEE, required = contract
--    amount x rate, or as given) or a guarantee letter (issuer, number,
--    amount, valid from/to). WP80.
--  - GUARANTEE_DRAW: HRSS's decision to use it (动用): each line a worker on
--    the project's roster, on site in the month, not paid for it (AM05) nor
--    drawn for it; paid from the account to the worker's card on the roster
--    (payment order to the core, as a sheet's), or claimed from a letter's
--    issuer and paid when the money arrives. WP81-WP85.
--  - GUARANTEE_RELEASE: HRSS's release notice (退还), after completion with
--    no wages owed: the balance back to the contractor, the account closed,
--    GUARANTEE_RELEASED to HRSS. WP86-WP87.
-- Lock order as everywhere: the dedicated account's row, then the guarantee
-- account's row, then the audit chains' heads.

-- What is left of a letter: its amount less every draw claimed on it.
-- Reads only. Called by wp_guarantee_held and wp_guarantee_draw_source.
CREATE OR REPLACE FUNCTION wp_guarantee_letter_left(p_letter bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT (l.amount - coalesce((SELECT sum(d.total) FROM guarantee_draw d
		WHERE d.letter_id = l.id), 0))::bigint
	FROM guarantee_letter l WHERE l.id = p_letter
$$;

-- What a project's guarantee holds on p_day (China date): the guarantee
-- account's balance and what is left of each letter valid that day (its
-- amount less the draws claimed on it). Reads only. Called by
-- wp_guarantee_json, wp_guarantee_short_check, wp_rule_guarantee and the
-- ledger.
CREATE OR REPLACE FUNCTION wp_guarantee_held(p_project bigint, p_day date)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT (coalesce((SELECT a.balance FROM guarantee g JOIN account a ON a.id = g.account_id
		WHERE g.project_id = p_project AND a.state = 'OPEN'), 0)
	      + coalesce((SELECT sum(wp_guarantee_letter_left(l.id)) FROM guarantee_letter l
		WHERE l.project_id = p_project AND p_day BETWEEN l.valid_from AND l.valid_to), 0))::bigint
$$;

-- Why a guarantee proposal may not be made (or approved) now, or NULL.
-- Common: a known project, ACTIVE (a draw also when COMPLETE: wages may be
-- owed after completion), and no proposal of the same kind for it waiting
-- (WP80 for a registration, WP81 for a draw, WP86 for a release). Then the
-- kind's own rules (wp_guarantee_register_refusal, wp_guarantee_draw_refusal,
-- wp_guarantee_release_refusal). Reads only. Called by wp_console_propose
-- and by the approved actions.
CREATE OR REPLACE FUNCTION wp_guarantee_refusal(p_kind text, p jsonb, p_now timestamptz,
	p_approval bigint)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_code	text := CASE p_kind WHEN 'GUARANTEE' THEN 'WP80' WHEN 'GUARANTEE_DRAW' THEN 'WP81'
			ELSE 'WP86' END;
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p->>'code';
	IF NOT FOUND THEN
		RETURN 'no such project';
	END IF;
	IF v_proj.state = 'CLOSED' OR (v_proj.state <> 'ACTIVE' AND p_kind = 'GUARANTEE') THEN
		RETURN v_code || ': project ' || v_proj.code || ' is ' || lower(v_proj.state);
	END IF;
	IF p_approval IS NULL AND EXISTS (SELECT 1 FROM approval a WHERE a.kind = p_kind
	    AND a.state = 'PENDING' AND a.payload->>'code' = v_proj.code
	    AND (p_kind <> 'GUARANTEE_DRAW' OR a.payload->>'decision_no' = p->>'decision_no')) THEN
		RETURN v_code || ': a ' || lower(replace(p_kind, '_', ' ')) || ' of this project '
			|| CASE WHEN p_kind = 'GUARANTEE_DRAW' THEN 'under decision ' || (p->>'decision_no')
			   || ' ' ELSE '' END || 'is already proposed and waits for a checker';
	END IF;
	IF p_kind = 'GUARANTEE' THEN
		RETURN wp_guarantee_register_refusal(v_proj, p, p_now);
	ELSIF p_kind = 'GUARANTEE_DRAW' THEN
		RETURN wp_guarantee_draw_refusal(v_proj, p, p_now);
	END IF;
	RETURN wp_guarantee_release_refusal(v_proj, p, p_now);
END $$;

-- A registration's own rules (WP80): an ACCOUNT needs a number no account
-- has, a rate (when the required amount is the contract amount's share)
-- above 0 and at most 100 percent, and a positive required amount, and the
-- project no guarantee account
-- yet; a LETTER an issuer, a number not registered before for that issuer,
-- a positive amount and a validity that has not ended (valid_to today or
-- later, not before valid_from). A released guarantee takes nothing more.
-- Reads only. Called by wp_guarantee_refusal.
CREATE OR REPLACE FUNCTION wp_guarantee_register_refusal(p_proj project, p jsonb, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_g	guarantee%ROWTYPE;
	v_from	date;
	v_to	date;
BEGIN
	SELECT * INTO v_g FROM guarantee WHERE project_id = p_proj.id;
	IF FOUND AND v_g.state <> 'ACTIVE' THEN
		RETURN 'WP80: the guarantee of project ' || p_proj.code || ' was released';
	END IF;
	IF p->>'kind' = 'ACCOUNT' THEN
		IF v_g.account_id IS NOT NULL THEN
			RETURN 'WP80: project ' || p_proj.code || ' already has a guarantee account ('
				|| (SELECT number FROM account WHERE id = v_g.account_id) || ')';
		END IF;
		IF EXISTS (SELECT 1 FROM account WHERE number = p->>'account') THEN
			RETURN 'WP80: account number ' || (p->>'account') || ' is already in use';
		END IF;
		IF p ? 'rate' AND (p->>'rate')::numeric NOT BETWEEN 0.001 AND 100 THEN
			RETURN 'WP80: the rate is a percentage of the contract amount, above 0 and at most 100';
		END IF;
		IF coalesce((p->>'required_fen')::bigint, 0) <= 0 THEN
			RETURN 'WP80: the required amount must be positive';
		END IF;
		RETURN NULL;
	END IF;
	IF EXISTS (SELECT 1 FROM guarantee_letter l WHERE l.issuer = p->>'issuer'
	    AND l.number = p->>'number') THEN
		RETURN 'WP80: letter ' || (p->>'number') || ' of ' || (p->>'issuer')
			|| ' is already registered';
	END IF;
	BEGIN
		v_from := (p->>'valid_from')::date;
		v_to := (p->>'valid_to')::date;
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
		RETURN 'WP80: valid_from and valid_to must be dates YYYY-MM-DD';
	END;
	IF v_to < v_from THEN
		RETURN 'WP80: the letter''s validity ends (' || v_to || ') before it starts ('
			|| v_from || ')';
	END IF;
	IF v_to < wp_cst(p_now)::date THEN
		RETURN 'WP80: the letter expired on ' || v_to;
	END IF;
	IF v_g.project_id IS NULL AND coalesce((p->>'required_fen')::bigint,
	    (p->>'amount_fen')::bigint) <= 0 THEN
		RETURN 'WP80: the required amount must be positive';
	END IF;
	RETURN NULL;
END $$;

-- Registers an approved GUARANTEE: the project's guarantee row (required,
-- contract amount and rate when given, topup_days as proposed; short from
-- today until the guarantee holds the required amount), and either the
-- guarantee account (opened, its audit chain started) or the letter.
-- Returns what the approval's outcome says. Raises WP002 with the refusal.
-- Called by wp_guarantee_approved.
CREATE OR REPLACE FUNCTION wp_guarantee_register(p jsonb, p_approval bigint, p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_acc	bigint;
	v_what	text;
BEGIN
	SELECT * INTO STRICT v_proj FROM project WHERE code = p->>'code';
	PERFORM 1 FROM account WHERE id = v_proj.account_id FOR UPDATE;
	INSERT INTO guarantee (project_id, required, contract_amount, rate, topup_days, short_since)
	VALUES (v_proj.id, coalesce((p->>'required_fen')::bigint, (p->>'amount_fen')::bigint),
		(p->>'contract_amount_fen')::bigint, (p->>'rate')::numeric,
		(p->>'topup_days')::int, wp_cst(wp_console_now())::date)
	ON CONFLICT (project_id) DO NOTHING;
	IF p ? 'required_fen' THEN
		UPDATE guarantee SET required = (p->>'required_fen')::bigint,
			contract_amount = coalesce((p->>'contract_amount_fen')::bigint, contract_amount),
			rate = coalesce((p->>'rate')::numeric, rate)
		WHERE project_id = v_proj.id;
	END IF;
	IF p->>'kind' = 'ACCOUNT' THEN
		INSERT INTO account (number, kind) VALUES (p->>'account', 'GUARANTEE') RETURNING id INTO v_acc;
		UPDATE guarantee SET account_id = v_acc WHERE project_id = v_proj.id;
		v_what := 'guarantee account ' || (p->>'account') || ' opened, required '
			|| wp_yuan((p->>'required_fen')::bigint) || ' yuan';
		PERFORM wp_audit_append(wp_account_chain(p->>'account'), p_actor, 'account.opened',	-- chain
			'project:' || v_proj.code, v_what || ' by approval ' || p_approval);
	ELSE
		INSERT INTO guarantee_letter (project_id, issuer, number, amount, valid_from, valid_to,
			approval_id)
		VALUES (v_proj.id, p->>'issuer', p->>'number', (p->>'amount_fen')::bigint,
			(p->>'valid_from')::date, (p->>'valid_to')::date, p_approval);
		v_what := 'guarantee letter ' || (p->>'number') || ' of ' || (p->>'issuer') || ' for '
			|| wp_yuan((p->>'amount_fen')::bigint) || ' yuan registered, valid '
			|| (p->>'valid_from') || ' to ' || (p->>'valid_to');
		PERFORM wp_audit_append(p_actor, 'guarantee.letter', 'project:' || v_proj.code,
			v_what || ' by approval ' || p_approval);
	END IF;
	PERFORM wp_guarantee_short_check(v_proj.id, wp_console_now());
	RETURN v_what;
END $$;

-- Keeps guarantee.short_since true to what the guarantee holds on the day of
-- p_now: set (to that day) when it holds less than required and was not
-- short, cleared when it holds the required amount again (the contractor's
-- top-up arrived). Called under the guarantee account's row (or with none)
-- by wp_guarantee_register, wp_guarantee_draw_pay, wp_guarantee_credited.
CREATE OR REPLACE FUNCTION wp_guarantee_short_check(p_project bigint, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_day	date := wp_cst(p_now)::date;
BEGIN
	UPDATE guarantee g SET short_since = CASE
		WHEN wp_guarantee_held(g.project_id, v_day) >= g.required THEN NULL
		ELSE coalesce(g.short_since, v_day) END
	WHERE g.project_id = p_project AND g.state = 'ACTIVE';
END $$;

-- The approved actions of the guarantee's approvals: register, draw or
-- release, each asking wp_guarantee_refusal again at the decision's clock
-- first (the world may have changed since the proposal). Returns the
-- approval's outcome text. Raises SQLSTATE WP002 with the refusal, which
-- wp_approval_decide records as FAILED. Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_guarantee_approved(p_kind text, p jsonb, p_approval bigint,
	p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_why	text;
	v_dedicated	bigint;
BEGIN
	-- the dedicated account's row first: a draw and a sheet for the same
	-- worker-month (or a release and a last sheet) are decided one after
	-- the other, never both
	SELECT p2.account_id INTO v_dedicated FROM project p2 WHERE p2.code = p->>'code';
	PERFORM 1 FROM account WHERE id = v_dedicated FOR UPDATE;
	PERFORM 1 FROM account a JOIN guarantee g ON g.account_id = a.id
	WHERE g.project_id = (SELECT id FROM project WHERE code = p->>'code') FOR UPDATE OF a;
	v_why := wp_guarantee_refusal(p_kind, p, wp_console_now(), p_approval);
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION '%', v_why USING ERRCODE = 'WP002';
	END IF;
	IF p_kind = 'GUARANTEE' THEN
		RETURN wp_guarantee_register(p, p_approval, p_actor);
	ELSIF p_kind = 'GUARANTEE_DRAW' THEN
		RETURN wp_guarantee_draw(p, p_approval, p_actor);
	END IF;
	RETURN wp_guarantee_release(p, p_approval, p_actor);
END $$;

-- A draw's own rules. WP81: the project has an active guarantee; the
-- decision number (1 to 64 characters) was not used for this project
-- before; 1 to 1000 lines. Then the first line, in order, that is wrong
-- (WP82: not a worker on the project's roster, or an amount that is not
-- positive, or a month that is not YYYY-MM; WP83: a month after the current
-- one, or one the worker was not on site; AM05: the worker's WAGE for the
-- month is paid or held in a sheet (月结月清); WP84: the worker's month was
-- drawn before, or twice in this decision). WP85: neither the account's
-- free balance (less what legal orders keep frozen) nor what is left of one
-- valid letter covers the total (wp_guarantee_draw_source). Reads only.
-- Called by wp_guarantee_refusal.
CREATE OR REPLACE FUNCTION wp_guarantee_draw_refusal(p_proj project, p jsonb, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_g	guarantee%ROWTYPE;
	v_cur	date := date_trunc('month', wp_cst(p_now))::date;
	v_bad	record;
	v_total	bigint;
BEGIN
	SELECT * INTO v_g FROM guarantee WHERE project_id = p_proj.id;
	IF NOT FOUND OR v_g.state <> 'ACTIVE' THEN
		RETURN 'WP81: project ' || p_proj.code || ' has no active wage guarantee';
	END IF;
	IF coalesce(length(p->>'decision_no'), 0) NOT BETWEEN 1 AND 64 THEN
		RETURN 'WP81: decision_no must be HRSS''s decision number, 1 to 64 characters';
	END IF;
	IF EXISTS (SELECT 1 FROM guarantee_draw d WHERE d.project_id = p_proj.id
	    AND d.decision_no = p->>'decision_no') THEN
		RETURN 'WP81: decision ' || (p->>'decision_no') || ' was already drawn on this guarantee';
	END IF;
	IF jsonb_typeof(p->'lines') IS DISTINCT FROM 'array'
	    OR jsonb_array_length(p->'lines') NOT BETWEEN 1 AND 1000 THEN
		RETURN 'WP81: a draw has 1 to 1000 lines';
	END IF;
	SELECT * INTO v_bad FROM (SELECT x.n, x.idn, x.month, CASE
		WHEN r.id_number IS NULL OR x.fen IS NULL OR x.fen <= 0 OR x.month IS NULL THEN 'WP82'
		WHEN x.month > v_cur OR r.entered > (x.month + interval '1 month' - interval '1 day')::date
		  OR r.left_on < x.month THEN 'WP83'
		WHEN EXISTS (SELECT 1 FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
		    WHERE l.project_id = p_proj.id AND l.id_number = x.idn AND l.month = x.month
		      AND l.kind = 'WAGE' AND l.reason_code IS NULL AND s.state IN ('PAID', 'HELD')) THEN 'AM05'
		WHEN x.nth > 1 OR EXISTS (SELECT 1 FROM guarantee_draw_line g
		    WHERE g.project_id = p_proj.id AND g.id_number = x.idn AND g.month = x.month) THEN 'WP84'
		END AS code
	FROM wp_guarantee_lines(p->'lines') x
	LEFT JOIN roster_entry r ON r.project_id = p_proj.id AND r.id_number::text = x.idn) b
	WHERE b.code IS NOT NULL ORDER BY b.n LIMIT 1;
	IF v_bad.code IS NOT NULL THEN
		RETURN v_bad.code || ': line ' || v_bad.n || ' (worker ' || wp_mask(coalesce(v_bad.idn, ''))
			|| coalesce(', ' || to_char(v_bad.month, 'YYYY-MM'), '') || '): ' || CASE v_bad.code
			WHEN 'WP82' THEN 'not a worker on the project''s real-name roster, or no positive '
				|| 'amount, or no month YYYY-MM'
			WHEN 'WP83' THEN 'the month is after the current one or the worker was not on site in it'
			WHEN 'AM05' THEN 'the worker''s wage for the month is already paid or held in a sheet'
			ELSE 'the worker''s month was drawn on the guarantee before, or twice in this decision' END;
	END IF;
	SELECT sum(x.fen) INTO v_total FROM wp_guarantee_lines(p->'lines') x;
	IF wp_guarantee_draw_source(p_proj.id, v_total, wp_cst(p_now)::date) IS NULL THEN
		RETURN 'WP85: the guarantee cannot cover ' || wp_yuan(v_total) || ' yuan: the account '
			|| 'holds ' || wp_yuan(coalesce((SELECT a.balance FROM account a
				WHERE a.id = v_g.account_id), 0))
			|| ' yuan (free of legal orders: ' || wp_yuan(wp_guarantee_free(v_g.account_id))
			|| ') and no valid letter has that much left';
	END IF;
	RETURN NULL;
END $$;

-- A draw's lines as proposed, numbered from 1: ID number, amount in fen
-- (NULL unless a positive whole number), month (NULL unless YYYY-MM), and
-- the how-manieth line of the same worker and month it is. Reads only.
-- Called by wp_guarantee_draw_refusal and wp_guarantee_draw.
CREATE OR REPLACE FUNCTION wp_guarantee_lines(p_lines jsonb)
RETURNS TABLE (n int, idn text, fen bigint, month date, nth int)
LANGUAGE sql IMMUTABLE AS $$
	SELECT y.n, y.idn, y.fen, y.month,
		row_number() OVER (PARTITION BY y.idn, y.month ORDER BY y.n)::int
	FROM (SELECT x.n::int AS n, x.l->>'id_number' AS idn,
		CASE WHEN x.l->>'amount_fen' ~ '^[0-9]{1,15}$' THEN (x.l->>'amount_fen')::bigint END AS fen,
		CASE WHEN x.l->>'month' ~ '^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$'
		     THEN (x.l->>'month' || '-01')::date END AS month
	      FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS x(l, n)) y
$$;

-- What a guarantee account may pay: its balance less what legal orders keep
-- frozen on it (0 without an account). Reads only. Called by
-- wp_guarantee_draw_source, wp_guarantee_draw_refusal, wp_guarantee_credited.
CREATE OR REPLACE FUNCTION wp_guarantee_free(p_account bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT a.balance - wp_legal_frozen(a.id, NULL) FROM account a
		WHERE a.id = p_account AND a.state = 'OPEN'), 0)::bigint
$$;

-- Where a draw of p_total is taken from: 0 the guarantee account, when its
-- free balance covers it; else the id of the letter valid on p_day with the
-- most left that covers it (the draw is claimed from its issuer and paid
-- through the guarantee account when the money arrives, so the project
-- needs one); NULL when nothing covers it. Reads only. Called by
-- wp_guarantee_draw_refusal and wp_guarantee_draw.
CREATE OR REPLACE FUNCTION wp_guarantee_draw_source(p_project bigint, p_total bigint, p_day date)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN wp_guarantee_free(g.account_id) >= p_total THEN 0::bigint
		ELSE (SELECT l.id FROM guarantee_letter l
		      WHERE l.project_id = g.project_id AND g.account_id IS NOT NULL
			AND p_day BETWEEN l.valid_from AND l.valid_to
			AND wp_guarantee_letter_left(l.id) >= p_total
		      ORDER BY wp_guarantee_letter_left(l.id) DESC, l.id LIMIT 1) END
	FROM guarantee g WHERE g.project_id = p_project
$$;

-- Records an approved GUARANTEE_DRAW: the draw and its lines, each with the
-- worker's name, card and card bank as the roster has them now (pays only
-- the worker themself, 002 二(一)), EndToEndId WPGD<draw>-<line>. Drawn on
-- the account it is paid now (wp_guarantee_draw_pay); on a letter it is
-- CLAIMED from the issuer, paid when the money arrives on the guarantee
-- account (wp_guarantee_credited). Returns the outcome text. The caller
-- holds the dedicated and guarantee accounts' rows. Called by
-- wp_guarantee_approved.
CREATE OR REPLACE FUNCTION wp_guarantee_draw(p jsonb, p_approval bigint, p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_total	bigint;
	v_n	int;
	v_src	bigint;
	v_draw	bigint;
	v_what	text;
BEGIN
	SELECT * INTO STRICT v_proj FROM project WHERE code = p->>'code';
	SELECT sum(x.fen), count(*) INTO v_total, v_n FROM wp_guarantee_lines(p->'lines') x;
	v_src := wp_guarantee_draw_source(v_proj.id, v_total, wp_cst(wp_console_now())::date);
	INSERT INTO guarantee_draw (project_id, decision_no, approval_id, letter_id, nb_of_txs, total,
		state)
	VALUES (v_proj.id, p->>'decision_no', p_approval, nullif(v_src, 0), v_n, v_total, 'CLAIMED')
	RETURNING id INTO v_draw;
	-- 032: with keys the ID, name and card are the roster's blind indexes,
	-- and the line copies its sealed record and masks
	INSERT INTO guarantee_draw_line (draw_id, seq, end_to_end_id, project_id, id_number, name, card,
		card_bank, month, amount, pii, id_mask, card_mask, name_mask)
	SELECT v_draw, x.n, 'WPGD' || v_draw || '-' || x.n, v_proj.id, x.idn, r.name, r.card,
		r.card_bank, x.month, x.fen, r.pii, r.id_mask, r.card_mask, r.name_mask
	FROM wp_guarantee_lines(p->'lines') x
	JOIN roster_entry r ON r.project_id = v_proj.id AND r.id_number::text = x.idn;
	v_what := 'draw ' || v_draw || ' under HRSS decision ' || (p->>'decision_no') || ': '
		|| v_n || ' line(s), ' || wp_yuan(v_total) || ' yuan';
	IF v_src = 0 THEN
		PERFORM wp_guarantee_draw_pay(v_draw, p_actor);
		v_what := v_what || ' paid from the guarantee account to the workers'' cards';
	ELSE
		PERFORM wp_audit_append(p_actor, 'guarantee.claimed', 'project:' || v_proj.code,
			v_what || ' claimed from the issuer of letter '
			|| (SELECT l.number || ' (' || l.issuer || ')' FROM guarantee_letter l WHERE l.id = v_src));
		v_what := v_what || ' claimed from the issuer of letter '
			|| (SELECT l.number FROM guarantee_letter l WHERE l.id = v_src)
			|| '; paid when its money arrives on the guarantee account';
	END IF;
	PERFORM wp_guarantee_short_check(v_proj.id, wp_console_now());
	RETURN v_what;
END $$;

-- Pays a CLAIMED draw from its project's guarantee account, once (the state
-- step is the guard; false if it was paid already): one GUARANTEE transfer
-- per line to the clearing account out, the balance lowered (the CHECK
-- refuses an overdraft), the payment order to the core written in the same
-- transaction as a sheet's is (payment_order.draw_id; its lines are the
-- draw's, read by wp_payorder_claim), the months' lines version bumped so
-- that WAGES_OVERDUE is judged again, and guarantee.drawn in the account's
-- audit chain. The caller holds the guarantee account's row. Called by
-- wp_guarantee_draw and wp_guarantee_credited.
CREATE OR REPLACE FUNCTION wp_guarantee_draw_pay(p_draw bigint, p_actor text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	v_d	guarantee_draw%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_out	bigint;
BEGIN
	UPDATE guarantee_draw SET state = 'PAID', paid_at = now()
	WHERE id = p_draw AND state = 'CLAIMED' RETURNING * INTO v_d;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	SELECT a.* INTO STRICT v_acc FROM account a JOIN guarantee g ON g.account_id = a.id
	WHERE g.project_id = v_d.project_id;
	SELECT id INTO STRICT v_out FROM account WHERE kind = 'CLEARING_OUT';
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	SELECT v_acc.id, v_out, l.amount, 'GUARANTEE', 'draw:' || p_draw || '/' || l.seq
	FROM guarantee_draw_line l WHERE l.draw_id = p_draw;
	UPDATE account SET balance = balance - v_d.total WHERE id = v_acc.id;
	INSERT INTO payment_order (id, msg_id, draw_id, account_id, nb_of_txs, ctrl_sum, unsettled)
	SELECT n, 'WPPO' || to_char(wp_cst(now()), 'YYYYMMDD') || lpad(n::text, 10, '0'),
		p_draw, v_acc.id, v_d.nb_of_txs, v_d.total, v_d.nb_of_txs
	FROM (SELECT nextval('payment_order_id_seq') AS n) x;
	INSERT INTO rule_lines_version AS v (project_id, month, version)
	SELECT DISTINCT v_d.project_id, l.month, 1 FROM guarantee_draw_line l WHERE l.draw_id = p_draw
	ON CONFLICT (project_id, month) DO UPDATE SET version = v.version + 1;
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'guarantee.drawn',	-- chain
		'account:' || v_acc.number, 'draw ' || p_draw || ' (HRSS decision ' || v_d.decision_no
		|| '): ' || v_d.nb_of_txs || ' line(s), ' || v_d.total || ' fen paid to the workers');
	RETURN true;
END $$;

-- Money arrived on a guarantee account (a camt.054 credit: the contractor's
-- deposit or top-up, or a letter's issuer paying a claim): the CLAIMED draws
-- of its project are paid, oldest first, while its free balance covers the
-- next one; then short_since is brought up to date. Returns how many draws
-- were paid. The caller holds the account's row. Called by wp_core_deposit.
CREATE OR REPLACE FUNCTION wp_guarantee_credited(p_account bigint, p_actor text)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	v_project	bigint;
	d		record;
	v_n		int := 0;
BEGIN
	SELECT project_id INTO STRICT v_project FROM guarantee WHERE account_id = p_account;
	FOR d IN SELECT id, total FROM guarantee_draw
	    WHERE project_id = v_project AND state = 'CLAIMED' ORDER BY id LOOP
		EXIT WHEN wp_guarantee_free(p_account) < d.total;
		PERFORM wp_guarantee_draw_pay(d.id, p_actor);
		v_n := v_n + 1;
	END LOOP;
	PERFORM wp_guarantee_short_check(v_project, now());
	RETURN v_n;
END $$;

-- Why a guarantee may not be released (退还) now, or NULL. WP86: the project
-- has an active guarantee and is marked complete (wp_project_complete);
-- HRSS's notice number is 1 to 64 characters. WP87: no wages are owed: no
-- draw claimed from a letter's issuer still waits for its money, no wage
-- sheet is held for funds, no returned wages are earmarked on the dedicated
-- account, no month of work up to the completion has workers unpaid
-- (wp_console_unpaid_months, which counts drawn months as paid). Reads
-- only. Called by wp_guarantee_refusal.
CREATE OR REPLACE FUNCTION wp_guarantee_release_refusal(p_proj project, p jsonb, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_n	bigint;
	v_m	record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM guarantee g WHERE g.project_id = p_proj.id AND g.state = 'ACTIVE') THEN
		RETURN 'WP86: project ' || p_proj.code || ' has no active wage guarantee';
	END IF;
	IF p_proj.completed_on IS NULL THEN
		RETURN 'WP86: the project is not marked complete: the guarantee is returned only after '
			|| 'completion with no wages owed';
	END IF;
	IF coalesce(length(p->>'notice_no'), 0) NOT BETWEEN 1 AND 64 THEN
		RETURN 'WP86: notice_no must be HRSS''s release notice number, 1 to 64 characters';
	END IF;
	SELECT count(*) INTO v_n FROM guarantee_draw d WHERE d.project_id = p_proj.id AND d.state = 'CLAIMED';
	IF v_n > 0 THEN
		RETURN 'WP87: ' || v_n || ' draw(s) claimed from a letter''s issuer wait for the money';
	END IF;
	SELECT count(*) INTO v_n FROM sheet WHERE project_id = p_proj.id AND state = 'HELD';
	IF v_n > 0 THEN
		RETURN 'WP87: ' || v_n || ' wage sheet(s) are held for funds';
	END IF;
	IF (SELECT a.earmarked FROM account a WHERE a.id = p_proj.account_id) > 0 THEN
		RETURN 'WP87: returned wages are earmarked on the dedicated account, not yet paid again';
	END IF;
	SELECT count(*) AS n, min(u.month) AS first, sum(u.workers) AS workers INTO v_m
	FROM wp_console_unpaid_months(p_proj.id, p_now) u;
	IF v_m.n > 0 THEN
		RETURN 'WP87: ' || v_m.n || ' month(s) have workers unpaid (' || v_m.workers
			|| ' worker-months, the first ' || to_char(v_m.first, 'YYYY-MM') || ')';
	END IF;
	RETURN NULL;
END $$;

-- Releases a guarantee (an approved GUARANTEE_RELEASE, HRSS's notice):
-- what is left on the guarantee account goes back to the contractor by one
-- MANUAL transfer to the clearing account out, referenced by the approval
-- (money.manual in the account's chain), the account closes, the letters
-- end with the guarantee (state RELEASED, the notice kept), and
-- GUARANTEE_RELEASED is raised (to HRSS). Returns the outcome text. The
-- caller holds the accounts' rows. Called by wp_guarantee_approved.
CREATE OR REPLACE FUNCTION wp_guarantee_release(p jsonb, p_approval bigint, p_actor text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_g	guarantee%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_holder text;
	v_what	text;
BEGIN
	SELECT * INTO STRICT v_proj FROM project WHERE code = p->>'code';
	SELECT * INTO STRICT v_g FROM guarantee WHERE project_id = v_proj.id;
	SELECT c.name || ' (' || c.uscc || ')' INTO STRICT v_holder
	FROM company c WHERE c.uscc = v_proj.contractor_uscc;
	SELECT * INTO v_acc FROM account WHERE id = v_g.account_id;
	v_what := 'wage guarantee of project ' || v_proj.code || ' released under HRSS notice '
		|| (p->>'notice_no');
	IF v_acc.id IS NOT NULL THEN
		IF v_acc.balance > 0 THEN
			INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
			SELECT v_acc.id, o.id, v_acc.balance, 'MANUAL', 'approval:' || p_approval
			FROM account o WHERE o.kind = 'CLEARING_OUT' ORDER BY o.id LIMIT 1;
			UPDATE account SET balance = 0 WHERE id = v_acc.id;
			PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'money.manual',	-- chain
				'account:' || v_acc.number, wp_yuan(v_acc.balance) || ' yuan returned to the '
				|| 'contractor ' || v_holder || ' at the guarantee''s release, by approval '
				|| p_approval);
		END IF;
		UPDATE account SET state = 'CLOSED', closed_at = now() WHERE id = v_acc.id;
		PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'account.closed',	-- chain
			'project:' || v_proj.code, 'guarantee account ' || v_acc.number || ' closed');
		v_what := v_what || '; ' || wp_yuan(v_acc.balance) || ' yuan returned to the contractor '
			|| v_holder || ', guarantee account ' || v_acc.number || ' closed';
	END IF;
	UPDATE guarantee SET state = 'RELEASED', released_at = now(), release_notice = p->>'notice_no',
		short_since = NULL
	WHERE project_id = v_proj.id;
	INSERT INTO alert (kind, project_id, balance, required, detail, dedup_key)
	VALUES ('GUARANTEE_RELEASED', v_proj.id, 0, v_g.required,
		v_what || ' (approval ' || p_approval || ', maker '
		|| coalesce(wp_approval_maker(p_approval), '-') || ', checker ' || substr(p_actor, 10)
		|| '); project complete on ' || v_proj.completed_on || ', no wages owed',
		'GUARANTEE_RELEASED:' || v_proj.id);
	PERFORM wp_audit_append(p_actor, 'guarantee.released', 'project:' || v_proj.code, v_what);
	RETURN v_what;
END $$;

-- The guarantee's day rules at p_now (China date), for guarantees not
-- released of projects not closed: short_since brought up to date (a letter
-- that ended lowers what is held); GUARANTEE_SHORT (to HRSS) when the
-- guarantee has held less than required for guarantee.topup_days since it
-- fell short (after a draw, or since it was registered), once per
-- shortfall (dedup by the day it began); GUARANTEE_EXPIRING (to HRSS) once
-- per letter of an ACTIVE project whose validity ends within 30 days.
-- Returns how many alerts were raised. Called by wp_rules_run.
CREATE OR REPLACE FUNCTION wp_rule_guarantee(p_now timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	v_day	date := wp_cst(p_now)::date;
	v_n	int;
	v_m	int;
BEGIN
	UPDATE guarantee g SET short_since = CASE
		WHEN wp_guarantee_held(g.project_id, v_day) >= g.required THEN NULL
		ELSE coalesce(g.short_since, v_day) END
	WHERE g.state = 'ACTIVE' AND (g.short_since IS NULL) <>
		(wp_guarantee_held(g.project_id, v_day) >= g.required);
	INSERT INTO alert (kind, project_id, raised_at, balance, required, shortfall, detail, dedup_key)
	SELECT 'GUARANTEE_SHORT', g.project_id, p_now, h.held, g.required, g.required - h.held,
		'the wage guarantee holds ' || wp_yuan(h.held) || ' of the required '
		|| wp_yuan(g.required) || ' yuan since ' || g.short_since || ' and was not restored within '
		|| g.topup_days || ' days (by ' || (g.short_since + g.topup_days - 1) || ')'
		|| coalesce('; last draw ' || (SELECT d.decision_no || ' of ' || wp_cst(d.created_at)::date
			FROM guarantee_draw d WHERE d.project_id = g.project_id ORDER BY d.id DESC LIMIT 1), ''),
		'GUARANTEE_SHORT:' || g.project_id || ':' || g.short_since
	FROM guarantee g JOIN project p ON p.id = g.project_id
	CROSS JOIN LATERAL (SELECT wp_guarantee_held(g.project_id, v_day) AS held) h
	WHERE g.state = 'ACTIVE' AND p.state <> 'CLOSED' AND g.short_since IS NOT NULL
	  AND v_day >= g.short_since + g.topup_days
	ON CONFLICT (dedup_key) DO NOTHING;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	INSERT INTO alert (kind, project_id, raised_at, required, detail, dedup_key)
	SELECT 'GUARANTEE_EXPIRING', l.project_id, p_now, wp_guarantee_letter_left(l.id),
		'guarantee letter ' || l.number || ' of ' || l.issuer || ' ('
		|| wp_yuan(wp_guarantee_letter_left(l.id)) || ' yuan left) expires on ' || l.valid_to
		|| ' (' || (l.valid_to - v_day) || ' days) while the project is active: '
		|| 'the contractor renews it or deposits the guarantee',
		'GUARANTEE_EXPIRING:' || l.id
	FROM guarantee_letter l JOIN guarantee g ON g.project_id = l.project_id
	JOIN project p ON p.id = l.project_id
	WHERE g.state = 'ACTIVE' AND p.state = 'ACTIVE'
	  AND l.valid_to >= v_day AND l.valid_to - v_day <= 30
	ON CONFLICT (dedup_key) DO NOTHING;
	GET DIAGNOSTICS v_m = ROW_COUNT;
	RETURN v_n + v_m;
END $$;

-- GUARANTEES: the monthly ledger (台账, 004 第六条) to each HRSS recipient
-- (p_regs as configured), for the month before p_now's, of the guarantees
-- this bank holds for projects in its region: each with project,
-- contractor, kind (ACCOUNT, LETTER or both), required and held (at p_now),
-- drawn in all, and the latest letter's expiry, fixed in alert_guarantees
-- so that every retry says the same. Sent also when there are none. Once
-- per recipient and month. Returns the number raised. Called by
-- wp_rules_run.
CREATE OR REPLACE FUNCTION wp_rule_guarantees_ledger(p_now timestamptz, p_regs json)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_day	date := wp_cst(p_now)::date;
	v_month	date := (date_trunc('month', wp_cst(p_now)) - interval '1 month')::date;
	r	record;
	v_key	text;
	v_id	uuid;
	v_n	int := 0;
BEGIN
	FOR r IN SELECT * FROM json_to_recordset(p_regs) AS x(name text, region text, authority text)
	    WHERE x.authority = 'hrss' LOOP
		v_key := 'GUARANTEES:' || r.name || ':' || to_char(v_month, 'YYYY-MM');
		CONTINUE WHEN EXISTS (SELECT 1 FROM alert WHERE dedup_key = v_key);
		INSERT INTO alert (kind, recipient, raised_at, month, detail, dedup_key)
		VALUES ('GUARANTEES', r.name, p_now, v_month, 'wage guarantee ledger', v_key)
		ON CONFLICT (dedup_key) DO NOTHING
		RETURNING id INTO v_id;
		CONTINUE WHEN v_id IS NULL;
		INSERT INTO alert_guarantees (alert_id, project_id, kind, required, held, drawn, expires)
		SELECT v_id, g.project_id,
			CASE WHEN g.account_id IS NULL THEN 'LETTER'
			     WHEN EXISTS (SELECT 1 FROM guarantee_letter l WHERE l.project_id = g.project_id)
			     THEN 'ACCOUNT+LETTER' ELSE 'ACCOUNT' END,
			g.required, wp_guarantee_held(g.project_id, v_day),
			coalesce((SELECT sum(d.total) FROM guarantee_draw d WHERE d.project_id = g.project_id), 0),
			(SELECT max(l.valid_to) FROM guarantee_letter l WHERE l.project_id = g.project_id)
		FROM guarantee g JOIN project p ON p.id = g.project_id
		WHERE starts_with(p.region, r.region) AND g.state = 'ACTIVE';
		UPDATE alert SET detail = (SELECT count(*) || ' wage guarantee(s) held in region ' || r.region
			|| CASE WHEN length(r.region) < 6 THEN '*' ELSE '' END || ' at the end of '
			|| to_char(v_month, 'YYYY-MM') || ': required ' || wp_yuan(coalesce(sum(x.required), 0)::bigint)
			|| ', held ' || wp_yuan(coalesce(sum(x.held), 0)::bigint) || ', drawn '
			|| wp_yuan(coalesce(sum(x.drawn), 0)::bigint) || ' yuan'
			FROM alert_guarantees x WHERE x.alert_id = v_id)
		WHERE id = v_id;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END $$;

-- The project an account serves: its dedicated account's, or its wage
-- guarantee account's; NULL for any other. Reads only. Called by
-- wp_core_debit and wp_core_legal_order.
CREATE OR REPLACE FUNCTION wp_account_project(p_account bigint)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT p.id FROM project p WHERE p.account_id = p_account),
		(SELECT g.project_id FROM guarantee g WHERE g.account_id = p_account))
$$;

-- A proposed GUARANTEE completed so that the checker sees what will be
-- registered: required_fen, when not given, is the contract amount x the
-- rate (percent), rounded to the fen; required in yuan beside it. Any
-- other payload is returned as it came. Reads nothing. Called by
-- wp_console_propose.
CREATE OR REPLACE FUNCTION wp_guarantee_payload(p_kind text, p jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_fen	bigint;
BEGIN
	IF p_kind <> 'GUARANTEE' THEN
		RETURN p;
	END IF;
	v_fen := coalesce((p->>'required_fen')::bigint,
		round((p->>'contract_amount_fen')::numeric * (p->>'rate')::numeric / 100)::bigint);
	IF v_fen IS NULL THEN
		RETURN p;
	END IF;
	RETURN p || jsonb_build_object('required_fen', v_fen, 'required', wp_yuan(v_fen));
END $$;

-- The core's pain.002 about a paid draw's order, as wp_settlement_apply
-- does it for a sheet's (same codes, same all-or-nothing): each status
-- resolved to a line of the draw by InstrId (<MsgId>-<seq>) or EndToEndId
-- (WP52 a line the order does not have, WP53 another final status than the
-- one it has or two in this message); ACCC and RJCT only count; a group
-- ACCC/RJCT with no lines stands for every line not settled yet. A new RJCT
-- puts the line's money back on the guarantee account (one RETURN transfer
-- from the clearing account out, referenced RJCT/<InstrId>; nothing more
-- if the card's bank sent it back already), raises PAYMENT_FAILED, and the
-- worker's month counts unpaid again (guarantee_line_paid): pay it as
-- BACKPAY. The caller holds the guarantee
-- account's row and the order's. Called by wp_settlement_apply.
CREATE OR REPLACE FUNCTION wp_guarantee_settlement(p_order payment_order, p_group text,
	p_group_reason text, p_lines json, OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_bad	record;
	v_new	int;
	v_rj	int := 0;
	r	record;
BEGIN
	IF to_regclass('pg_temp.wp_gsettle_in') IS NULL THEN
		CREATE TEMP TABLE wp_gsettle_in (seq int, instr text, e2e text, sts text,
			reason text) ON COMMIT DROP;
	ELSE
		TRUNCATE wp_gsettle_in;
	END IF;
	INSERT INTO wp_gsettle_in
	SELECT CASE WHEN coalesce(x.instr, '') = '' THEN e.seq
		    WHEN i.seq IS NOT NULL AND (coalesce(x.e2e, '') = '' OR e.seq = i.seq) THEN i.seq END,
		nullif(x.instr, ''), nullif(x.e2e, ''), x.sts,
		CASE WHEN x.sts = 'RJCT' THEN left(coalesce(nullif(x.reason, ''), 'NARR'), 35) END
	FROM json_to_recordset(p_lines) AS x(instr text, e2e text, sts text, reason text)
	LEFT JOIN guarantee_draw_line i ON i.draw_id = p_order.draw_id
	  AND x.instr = p_order.msg_id || '-' || i.seq
	LEFT JOIN guarantee_draw_line e ON e.draw_id = p_order.draw_id AND e.end_to_end_id = x.e2e;
	IF json_array_length(p_lines) = 0 AND p_group IN ('ACCC', 'RJCT') THEN
		INSERT INTO wp_gsettle_in
		SELECT l.seq, p_order.msg_id || '-' || l.seq, l.end_to_end_id, p_group,
			CASE WHEN p_group = 'RJCT' THEN left(coalesce(nullif(p_group_reason, ''), 'NARR'), 35) END
		FROM guarantee_draw_line l WHERE l.draw_id = p_order.draw_id
		  AND NOT EXISTS (SELECT 1 FROM payment_settlement s
		      WHERE s.order_id = p_order.id AND s.line_seq = l.seq);
	END IF;
	DELETE FROM wp_gsettle_in WHERE seq IS NOT NULL AND sts NOT IN ('ACCC', 'RJCT');
	SELECT * INTO v_bad FROM wp_gsettle_in WHERE seq IS NULL LIMIT 1;
	IF FOUND THEN
		outcome := 'REFUSED'; code := 'WP52';
		message := 'order ' || p_order.msg_id || ' has no line '
			|| coalesce('InstrId ' || v_bad.instr, 'EndToEndId ' || v_bad.e2e, '(unnamed)')
			|| '; nothing of this status report was applied';
		RETURN;
	END IF;
	SELECT i.seq INTO v_bad FROM wp_gsettle_in i
	LEFT JOIN payment_settlement s ON s.order_id = p_order.id AND s.line_seq = i.seq
	WHERE s.status <> i.sts OR EXISTS (SELECT 1 FROM wp_gsettle_in j WHERE j.seq = i.seq AND j.sts <> i.sts)
	LIMIT 1;
	IF FOUND THEN
		outcome := 'REFUSED'; code := 'WP53';
		message := 'line ' || p_order.msg_id || '-' || v_bad.seq || ' has another final status'
			|| '; nothing of this status report was applied';
		RETURN;
	END IF;
	INSERT INTO payment_settlement (order_id, line_seq, sheet_id, status, reason)
	SELECT DISTINCT p_order.id, i.seq, NULL::bigint, i.sts, i.reason FROM wp_gsettle_in i
	WHERE NOT EXISTS (SELECT 1 FROM payment_settlement s WHERE s.order_id = p_order.id
	    AND s.line_seq = i.seq);
	GET DIAGNOSTICS v_new = ROW_COUNT;
	FOR r IN SELECT s.line_seq, s.reason, l.end_to_end_id, l.amount, l.month, l.project_id
	    FROM payment_settlement s JOIN guarantee_draw_line l ON l.draw_id = p_order.draw_id
	      AND l.seq = s.line_seq
	    WHERE s.order_id = p_order.id AND s.status = 'RJCT' AND NOT EXISTS (SELECT 1 FROM transfer t
		WHERE t.reason = 'RETURN' AND t.reference = 'RJCT/' || p_order.msg_id || '-' || s.line_seq)
	      -- nothing more if the card's bank sent it back already
	      AND NOT EXISTS (SELECT 1 FROM guarantee_line_return x WHERE x.draw_id = p_order.draw_id
		AND x.line_seq = s.line_seq)
	    ORDER BY 1 LOOP
		v_rj := v_rj + 1;
		PERFORM wp_guarantee_line_back(p_order, r.line_seq, r.reason, r.amount, r.month,
			r.project_id, r.end_to_end_id);
	END LOOP;
	UPDATE payment_order SET unsettled = unsettled - v_new, state = 'TAKEN',
		taken_at = coalesce(taken_at, now())
	WHERE id = p_order.id;
	outcome := CASE WHEN v_new = 0 THEN 'DUPLICATE' ELSE 'APPLIED' END;
	message := 'order ' || p_order.msg_id || ' (guarantee draw ' || p_order.draw_id || '): '
		|| CASE WHEN v_new = 0 THEN 'every line status known already; nothing changed'
		   ELSE (v_new - v_rj) || ' credited, ' || v_rj
			|| ' rejected (money back on the guarantee account)' END;
END $$;

-- A drawn line the core rejected: its amount back from the clearing
-- account out to the guarantee account (RETURN transfer RJCT/<InstrId>,
-- once by transfer_entry_once), PAYMENT_FAILED raised, the record in the
-- account's audit chain. The caller holds the account's row. Called by
-- wp_guarantee_settlement.
CREATE OR REPLACE FUNCTION wp_guarantee_line_back(p_order payment_order, p_seq int, p_reason text,
	p_amount bigint, p_month date, p_project bigint, p_e2e text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_acc	account%ROWTYPE;
BEGIN
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	SELECT o.id, p_order.account_id, p_amount, 'RETURN', 'RJCT/' || p_order.msg_id || '-' || p_seq
	FROM account o WHERE o.kind = 'CLEARING_OUT';
	UPDATE account SET balance = balance + p_amount WHERE id = p_order.account_id
	RETURNING * INTO v_acc;
	INSERT INTO rule_lines_version AS v (project_id, month, version)
	VALUES (p_project, p_month, 1)
	ON CONFLICT (project_id, month) DO UPDATE SET version = v.version + 1;
	INSERT INTO alert (kind, project_id, balance, required, month, msg_id, end_to_end_id,
		detail, dedup_key)
	VALUES ('PAYMENT_FAILED', p_project, v_acc.balance, p_amount, p_month, p_order.msg_id, p_e2e,
		'the core refused the payment from the wage guarantee (draw ' || p_order.draw_id
		|| ') to the worker''s card (' || p_reason || '): the worker is unpaid for '
		|| to_char(p_month, 'YYYY-MM') || '; ' || wp_yuan(p_amount)
		|| ' back on the guarantee account (pay it as BACKPAY)',
		'PAYMENT_FAILED:' || p_order.id || ':' || p_seq)
	ON CONFLICT (dedup_key) DO NOTHING;
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), 'core', 'wage.rejected',	-- chain
		'draw:' || p_order.draw_id, 'line ' || p_e2e || ' of order ' || p_order.msg_id
		|| ' rejected by the core (' || p_reason || '): ' || p_amount
		|| ' fen back to account ' || v_acc.number);
END $$;

-- Books a paid drawn line sent back by the card's bank (camt.054 entry with
-- RtrInf on the guarantee account): matched by its EndToEndId (WPGD<draw>-<n>)
-- to a line of a PAID draw of this account's project, not rejected by the
-- core nor back already (WP41 otherwise; WP42 another amount). The money goes
-- back from the clearing account out to the guarantee account (RETURN
-- transfer under the NtryRef), the worker's month is unpaid again
-- (guarantee_line_paid), PAYMENT_FAILED is raised, the record goes to the
-- account's audit chain. The caller holds the account's row and has checked
-- the NtryRef is new. Called by wp_core_return.
CREATE OR REPLACE FUNCTION wp_guarantee_return(p_ref text, p_acc account, p_amount bigint,
	p_booking date, p_e2e text, p_reason text, OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
DECLARE
	v_line	record;
BEGIN
	SELECT g.draw_id, g.seq, g.amount, g.month, g.project_id INTO v_line
	FROM guarantee_line_paid g JOIN guarantee x ON x.project_id = g.project_id
	JOIN guarantee_draw_line l ON l.draw_id = g.draw_id AND l.seq = g.seq
	WHERE x.account_id = p_acc.id AND l.end_to_end_id = p_e2e;
	IF NOT FOUND THEN
		outcome := 'REFUSED'; code := 'WP41';
		message := 'entry ' || p_ref || ': no paid guarantee draw line with EndToEndId ' || p_e2e
			|| ' of this account is waiting to come back';
		RETURN;
	END IF;
	IF v_line.amount <> p_amount THEN
		outcome := 'REFUSED'; code := 'WP42';
		message := 'entry ' || p_ref || ': returned ' || wp_yuan(p_amount) || ' but line ' || p_e2e
			|| ' paid ' || wp_yuan(v_line.amount);
		RETURN;
	END IF;
	INSERT INTO guarantee_line_return (entry_ref, draw_id, line_seq, account_id, amount, reason_code,
		booking_date)
	VALUES (p_ref, v_line.draw_id, v_line.seq, p_acc.id, p_amount, nullif(p_reason, ''), p_booking);
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	SELECT o.id, p_acc.id, p_amount, 'RETURN', p_ref FROM account o WHERE o.kind = 'CLEARING_OUT';
	UPDATE account SET balance = balance + p_amount WHERE id = p_acc.id;
	INSERT INTO alert (kind, project_id, balance, required, month, end_to_end_id, detail, dedup_key)
	VALUES ('PAYMENT_FAILED', v_line.project_id, p_acc.balance + p_amount, p_amount, v_line.month,
		p_e2e, 'the card''s bank sent back the payment from the wage guarantee (draw '
		|| v_line.draw_id || ', ' || coalesce(nullif(p_reason, ''), 'no reason') || '): the worker is '
		|| 'unpaid for ' || to_char(v_line.month, 'YYYY-MM') || '; ' || wp_yuan(p_amount)
		|| ' back on the guarantee account (pay it as BACKPAY)', 'PAYMENT_FAILED:return:' || p_ref)
	ON CONFLICT (dedup_key) DO NOTHING;
	INSERT INTO rule_lines_version AS v (project_id, month, version)
	VALUES (v_line.project_id, v_line.month, 1)
	ON CONFLICT (project_id, month) DO UPDATE SET version = v.version + 1;
	PERFORM wp_audit_append(wp_account_chain(p_acc.number), 'core', 'wage.returned',	-- chain
		'draw:' || v_line.draw_id, 'line ' || p_e2e || ' returned (' || coalesce(nullif(p_reason, ''),
		'no reason') || '), entry ' || p_ref || ': ' || p_amount || ' fen back to account '
		|| p_acc.number || wp_core_peer_note());
	outcome := 'APPLIED';
	message := 'line ' || p_e2e || ' of guarantee draw ' || v_line.draw_id || ' returned; '
		|| wp_yuan(p_amount) || ' back on the guarantee account';
END $$;
