-- approvals.sql: four eyes. A maker proposes (opening a project, marking it
-- complete, closing its account, returning a deposit by hand), a different
-- checker decides; the refusals are decided here, and every step is in the
-- audit trail. 专款专用 (002 §(十一), 004 第七条): a manual debit of a dedicated
-- account is only the return of a named deposit to its payer (WP62-WP66) or
-- the payout of the balance to the account holder at closing; never to
-- another dedicated account (WP60), and a dedicated account is never
-- credited by hand (WP61). Closing (004 第十一条, DESIGN §2) only after the
-- project is complete (WP67), a public notice has run (WP68) and no wages
-- are owed (WP69). Each manual debit raises MANUAL_DEBIT, a closing
-- ACCOUNT_CLOSED.

-- Records a maker's proposal and its approval.proposed record in the 'global'
-- audit chain; returns its id. NULL for an OPEN_ACCOUNT whose project or
-- account number already exists: a project has exactly one dedicated account
-- (002 §(十一)); the console answers 409. Checks nothing else: the kinds that
-- move money are checked first by wp_console_propose. Called by
-- daemon/consoleapi.c (OPEN_ACCOUNT) and by wp_console_propose.
CREATE OR REPLACE FUNCTION wp_approval_propose(p_kind text, p_payload jsonb, p_maker bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_id	bigint;
	v_name	text;
BEGIN
	IF p_kind = 'OPEN_ACCOUNT' AND (EXISTS (SELECT 1 FROM project WHERE code = p_payload->>'code')
	    OR EXISTS (SELECT 1 FROM account WHERE number = p_payload->>'account')) THEN
		RETURN NULL;
	END IF;
	INSERT INTO approval (kind, payload, maker_id) VALUES (p_kind, p_payload, p_maker)
	RETURNING id INTO v_id;
	SELECT name INTO STRICT v_name FROM operator WHERE id = p_maker;
	PERFORM wp_audit_append('operator:' || v_name, 'approval.proposed',
		'approval:' || v_id, p_kind || ' ' || coalesce(p_payload->>'code', ''));
	RETURN v_id;
END $$;

-- Proposes a CLOSE_ACCOUNT, COMPLETE_PROJECT, MANUAL_MOVEMENT or RESET_SECOND_FACTOR
-- (wp_console_propose), or answers
-- why not, as JSON for the console: {"approval": ID} or {"refusal": "..."}.
-- Called by daemon/consoleapi.c (POST /api/projects/{code}/close, POST
-- /api/movements, POST /api/projects/{code}/complete).
CREATE OR REPLACE FUNCTION wp_console_propose_json(p_kind text, p_payload jsonb, p_maker bigint,
	p_now timestamptz)
RETURNS json LANGUAGE sql AS $$
	SELECT json_strip_nulls(json_build_object('approval', r.approval, 'refusal', r.refusal))
	FROM wp_console_propose(p_kind, p_payload, p_maker, p_now) r
$$;

-- A maker's proposal of any kind, checked now against the rules it will be
-- checked against again when approved (the world may change in between):
-- GUARANTEE, GUARANTEE_DRAW and GUARANTEE_RELEASE refused when
-- wp_guarantee_refusal says why (030);
-- CLOSE_ACCOUNT refused while another closing of the project waits or while
-- wp_console_close_refusal says why not; COMPLETE_PROJECT refused while
-- another completion of the project waits (WP70) or when
-- wp_console_complete_refusal says why not; MANUAL_MOVEMENT (a deposit's
-- return: its payload completed by wp_console_move_payload with the
-- accounts and the amount, so that the checker sees what will move) refused
-- while a return of the same deposit waits (WP64) or when
-- wp_console_move_refusal says why not; PLATFORM_REPLAY (a platform fed
-- again from a seq) when wp_platform_replay_refusal says why not (WP75);
-- RESET_SECOND_FACTOR (an operator's TOTP, 031) when
-- wp_operator_reset_refusal says why not. Returns the approval id, or NULL
-- and the refusal. Locks nothing: the decision locks and checks again.
-- Called by wp_console_propose_json.
CREATE OR REPLACE FUNCTION wp_console_propose(p_kind text, p_payload jsonb, p_maker bigint,
	p_now timestamptz, OUT approval bigint, OUT refusal text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
BEGIN
	IF p_kind = 'CLOSE_ACCOUNT' THEN
		SELECT * INTO v_proj FROM project WHERE code = p_payload->>'code';
		IF NOT FOUND THEN
			refusal := 'no such project';
			RETURN;
		END IF;
		IF EXISTS (SELECT 1 FROM approval a WHERE a.kind = 'CLOSE_ACCOUNT'
		    AND a.state = 'PENDING' AND a.payload->>'code' = v_proj.code) THEN
			refusal := 'closing this account is already proposed and waits for a checker';
			RETURN;
		END IF;
		refusal := wp_console_close_refusal(v_proj.id, p_now);
		IF refusal IS NOT NULL THEN
			refusal := 'the account cannot close: ' || refusal;
			RETURN;
		END IF;
	ELSIF p_kind = 'MANUAL_MOVEMENT' THEN
		p_payload := wp_console_move_payload(p_payload);
		SELECT 'WP64: the return of deposit ' || (p_payload->>'deposit')
			|| ' is already proposed and waits for a checker (approval ' || a.id || ')'
		INTO refusal FROM approval a WHERE a.kind = 'MANUAL_MOVEMENT' AND a.state = 'PENDING'
		  AND a.payload->>'deposit' = p_payload->>'deposit' LIMIT 1;
		IF refusal IS NOT NULL THEN
			RETURN;
		END IF;
		refusal := wp_console_move_refusal(p_payload, p_now);
		IF refusal IS NOT NULL THEN
			RETURN;
		END IF;
	ELSIF p_kind = 'COMPLETE_PROJECT' THEN
		IF EXISTS (SELECT 1 FROM approval a WHERE a.kind = 'COMPLETE_PROJECT'
		    AND a.state = 'PENDING' AND a.payload->>'code' = p_payload->>'code') THEN
			refusal := 'WP70: the completion of this project is already proposed and waits '
				|| 'for a checker';
			RETURN;
		END IF;
		refusal := wp_console_complete_refusal(p_payload, p_now);
		IF refusal IS NOT NULL THEN
			RETURN;
		END IF;
	ELSIF p_kind = 'PLATFORM_REPLAY' THEN
		refusal := wp_platform_replay_refusal(p_payload);	-- feed.sql
		IF refusal IS NOT NULL THEN
			RETURN;
		END IF;
	ELSIF p_kind IN ('GUARANTEE', 'GUARANTEE_DRAW', 'GUARANTEE_RELEASE') THEN
		-- the wage guarantee's (030, functions/guarantee.sql)
		p_payload := wp_guarantee_payload(p_kind, p_payload);
		refusal := wp_guarantee_refusal(p_kind, p_payload, p_now, NULL);
		IF refusal IS NOT NULL THEN
			RETURN;
		END IF;
	ELSIF p_kind = 'RESET_SECOND_FACTOR' THEN
		refusal := wp_operator_reset_refusal(p_payload);
		IF refusal IS NOT NULL THEN
			RETURN;
		END IF;
	ELSIF p_kind <> 'OPEN_ACCOUNT' THEN
		refusal := 'unknown kind of proposal';
		RETURN;
	END IF;
	approval := wp_approval_propose(p_kind, p_payload, p_maker);
	IF approval IS NULL THEN
		refusal := 'that project or account number already exists: '
			|| 'a project has exactly one dedicated account';
	END IF;
END $$;

-- wp_approval_decide with the daemon's clock (p_now, which tests may pin with
-- WAGEPAY_CLOCK) set for this transaction, for the checks the approved action
-- makes again (wp_console_now). Called by daemon/consoleapi.c (POST
-- /api/approvals/{id}), in the same statement as wp_approval_json.
CREATE OR REPLACE FUNCTION wp_console_decide(p_id bigint, p_checker bigint, p_decision text,
	p_now timestamptz, OUT state text, OUT outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
	PERFORM set_config('wagepay.console_now', p_now::text, true);
	SELECT d.state, d.outcome INTO state, outcome
	FROM wp_approval_decide(p_id, p_checker, p_decision) d;
END $$;

-- A checker's decision on a PENDING approval. NOT_FOUND; the state it has when
-- already decided; SAME_OPERATOR when the checker is its maker (four eyes: the
-- maker of a proposal cannot approve it); REJECTED; else the approved action
-- runs (wp_project_open, wp_project_complete, wp_console_close,
-- wp_platform_replay, wp_guarantee_approved, wp_operator_factor_reset or
-- wp_console_move): APPROVED, or
-- FAILED with the reason when it is refused (SQLSTATE WP002) or breaks a
-- constraint, the action rolled back to here. The decision is stored and
-- recorded in the 'global' audit chain. Locks first the dedicated account
-- the payload names (wp_feed_lock_first: the platform feed's order), then
-- the approval's row FOR UPDATE, so two checkers cannot both decide it; the actions lock the account rows
-- they touch. Called by wp_console_decide.
CREATE OR REPLACE FUNCTION wp_approval_decide(p_id bigint, p_checker bigint, p_decision text,
	OUT state text, OUT outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_ap	approval%ROWTYPE;
	v_name	text;
BEGIN
	-- the account's row before the approval's: the platform feed's order (feed.sql)
	PERFORM wp_feed_lock_first((SELECT a.payload FROM approval a WHERE a.id = p_id));
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
	ELSE
		-- a failed action is rolled back to here and recorded as FAILED
		BEGIN
			IF v_ap.kind = 'OPEN_ACCOUNT' THEN
				PERFORM wp_project_open(v_ap.payload, 'operator:' || v_name);
				outcome := 'dedicated account ' || (v_ap.payload->>'account') || ' opened';
			ELSIF v_ap.kind = 'CLOSE_ACCOUNT' THEN
				outcome := 'dedicated account of ' || (v_ap.payload->>'code') || ' closed, '
					|| wp_yuan(wp_console_close(v_ap.payload, p_id, 'operator:' || v_name))
					|| ' yuan paid out to the account holder';
			ELSIF v_ap.kind = 'COMPLETE_PROJECT' THEN
				PERFORM wp_project_complete(v_ap.payload, 'operator:' || v_name);
				outcome := 'project ' || (v_ap.payload->>'code') || ' complete on '
					|| (v_ap.payload->>'completed_on') || '; its account may close from '
					|| ((v_ap.payload->>'completed_on')::date
					    + (v_ap.payload->>'notice_days')::int)::text;
			ELSIF v_ap.kind = 'PLATFORM_REPLAY' THEN
				PERFORM wp_platform_replay(v_ap.payload, 'operator:' || v_name);
				outcome := 'platform ' || (v_ap.payload->>'platform') || ' fed again from seq '
					|| (v_ap.payload->>'from_seq');
			ELSIF v_ap.kind IN ('GUARANTEE', 'GUARANTEE_DRAW', 'GUARANTEE_RELEASE') THEN
				outcome := wp_guarantee_approved(v_ap.kind, v_ap.payload, p_id,
					'operator:' || v_name);
			ELSIF v_ap.kind = 'RESET_SECOND_FACTOR' THEN
				PERFORM wp_operator_factor_reset(v_ap.payload, 'operator:' || v_name);
				outcome := 'second factor of operator ' || (v_ap.payload->>'operator')
					|| ' reset: they enrol a new one at their next sign-in';
			ELSE
				PERFORM wp_console_move(v_ap.payload, p_id, 'operator:' || v_name);
				outcome := (v_ap.payload->>'amount') || ' yuan of deposit '
					|| (v_ap.payload->>'deposit') || ' returned from '
					|| (v_ap.payload->>'from') || ' to its payer';
			END IF;
			state := 'APPROVED';
		EXCEPTION WHEN unique_violation OR check_violation OR foreign_key_violation
		    OR not_null_violation OR invalid_datetime_format OR datetime_field_overflow
		    OR SQLSTATE 'WP002' THEN
			state := 'FAILED';
			outcome := SQLERRM;
		END;
	END IF;
	UPDATE approval SET state = wp_approval_decide.state, checker_id = p_checker,
		decided_at = now(), outcome = wp_approval_decide.outcome WHERE id = p_id;
	PERFORM wp_audit_append('operator:' || v_name, 'approval.' || lower(wp_approval_decide.state),
		'approval:' || p_id, coalesce(wp_approval_decide.outcome, ''));
END $$;

-- One approval as the console shows it, a draw's ID numbers masked (the
-- console never shows a whole one; t0990 found them). VOLATILE so that,
-- called in the same statement as wp_console_decide, it sees the decision
-- just made. Called by daemon/consoleapi.c and by wp_console_approvals and
-- wp_console_project.
CREATE OR REPLACE FUNCTION wp_approval_json(p_id bigint) RETURNS json LANGUAGE sql VOLATILE AS $$
	SELECT json_build_object('id', a.id, 'kind', a.kind, 'state', lower(a.state),
		'payload', CASE WHEN jsonb_typeof(a.payload->'lines') = 'array' THEN
			jsonb_set(a.payload, '{lines}', (SELECT coalesce(jsonb_agg(CASE
				WHEN l ? 'id_number' THEN jsonb_set(l, '{id_number}',
					to_jsonb(wp_mask(l->>'id_number'))) ELSE l END ORDER BY o), '[]')
			FROM jsonb_array_elements(a.payload->'lines') WITH ORDINALITY x(l, o)))
			ELSE a.payload END,
		'maker', m.name, 'checker', c.name,
		'created_at', a.created_at, 'decided_at', a.decided_at, 'outcome', a.outcome)
	FROM approval a JOIN operator m ON m.id = a.maker_id
	LEFT JOIN operator c ON c.id = a.checker_id WHERE a.id = p_id
$$;

-- Opens a project and its dedicated account (an approved OPEN_ACCOUNT): the
-- owner and general contractor as companies, the account, the project with its
-- labour-cost plan and pay day; the account's audit chain starts with its
-- opening, and the platform feed with its OPENED account event. A project code already there is refused (unique_violation: one
-- project, one dedicated account, 002 §(十一)). Returns the project id.
-- Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_project_open(p jsonb, p_actor text)
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
	PERFORM wp_feed_account(v_acc, 'OPENED');
	PERFORM wp_audit_append(wp_account_chain(p->>'account'), p_actor, 'account.opened',	-- chain
		'project:' || (p->>'code'),
		'dedicated account ' || (p->>'account'));
	RETURN v_proj;
END $$;

-- Marks a project complete (an approved COMPLETE_PROJECT) when
-- wp_console_complete_refusal, asked again at the daemon's clock, finds
-- nothing against it: its completion date and the public-notice period in
-- force when it was proposed ([rules] closing_notice_days, put in the
-- payload by the daemon), from which wp_console_close_refusal counts
-- (004 第十一条). Recorded in the account's audit chain and the platform
-- feed (a COMPLETED account event). Locks the account's
-- row FOR UPDATE first, as the close does. Raises SQLSTATE WP002 with the
-- refusal. Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_project_complete(p jsonb, p_actor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_why	text;
	v_number	text;
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p->>'code';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such project' USING ERRCODE = 'WP002';
	END IF;
	SELECT number INTO STRICT v_number FROM account WHERE id = v_proj.account_id FOR UPDATE;
	v_why := wp_console_complete_refusal(p, wp_console_now());
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION '%', v_why USING ERRCODE = 'WP002';
	END IF;
	UPDATE project SET state = 'COMPLETE', completed_on = (p->>'completed_on')::date,
		notice_days = (p->>'notice_days')::int WHERE id = v_proj.id;
	PERFORM wp_feed_account(v_proj.account_id, 'COMPLETED');
	PERFORM wp_audit_append(wp_account_chain(v_number), p_actor, 'project.completed',	-- chain
		'project:' || v_proj.code, 'complete on ' || (p->>'completed_on')
		|| '; public notice of ' || (p->>'notice_days') || ' days before the account may close');
END $$;

-- Why a project may not be marked complete as proposed, or NULL: an unknown
-- project; one not ACTIVE (already complete or closed), a completion date
-- that is not a date, lies after today (China time of p_now) or before the
-- project's first month, or a notice period outside 1..3650 days (WP70).
-- Reads only. Called by wp_console_propose and wp_project_complete.
CREATE OR REPLACE FUNCTION wp_console_complete_refusal(p jsonb, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_on	date;
	v_days	int;
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p->>'code';
	IF NOT FOUND THEN
		RETURN 'no such project';
	END IF;
	IF v_proj.state <> 'ACTIVE' THEN
		RETURN 'WP70: project ' || v_proj.code || ' is already ' || lower(v_proj.state)
			|| coalesce(' (complete on ' || v_proj.completed_on || ')', '');
	END IF;
	BEGIN
		v_on := (p->>'completed_on')::date;
		v_days := (p->>'notice_days')::int;
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow
	    OR invalid_text_representation OR numeric_value_out_of_range THEN
		RETURN 'WP70: completed_on must be a date YYYY-MM-DD';
	END;
	IF v_on IS NULL OR v_days IS NULL OR v_days NOT BETWEEN 1 AND 3650 THEN
		RETURN 'WP70: a completion needs its date and the notice period (1 to 3650 days)';
	END IF;
	IF v_on > wp_cst(p_now)::date THEN
		RETURN 'WP70: the completion date ' || v_on || ' is in the future';
	END IF;
	IF v_on < v_proj.start_month THEN
		RETURN 'WP70: the completion date ' || v_on || ' is before the project started ('
			|| to_char(v_proj.start_month, 'YYYY-MM') || ')';
	END IF;
	RETURN NULL;
END $$;

-- Closes a project's dedicated account (an approved CLOSE_ACCOUNT) when
-- wp_console_close_refusal, asked again at the daemon's clock, finds nothing
-- against it: what is left on it is paid out to the account holder (the
-- general contractor) by one MANUAL transfer to the clearing account out,
-- referenced by the approval, recorded as money.manual and raised as
-- MANUAL_DEBIT (wp_manual_debit_alert); the account and the project are
-- closed, the account's audit chain ends with account.closed, and
-- ACCOUNT_CLOSED is raised (to HRSS: wp_alert_recipients); the platform
-- feed gets the payout's MANUAL flow and the CLOSED account event. Returns the
-- amount paid out. Locks the account's row FOR UPDATE first, so no sheet or
-- deposit slips in between the check and the close. Raises SQLSTATE WP002
-- with the refusal. Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_console_close(p jsonb, p_approval bigint, p_actor text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_proj	project%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_why	text;
	v_out	bigint;
	v_holder	text;
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p->>'code';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such project' USING ERRCODE = 'WP002';
	END IF;
	SELECT * INTO STRICT v_acc FROM account WHERE id = v_proj.account_id FOR UPDATE;
	v_why := wp_console_close_refusal(v_proj.id, wp_console_now());
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION 'the account cannot close: %', v_why USING ERRCODE = 'WP002';
	END IF;
	SELECT c.name || ' (' || c.uscc || ')' INTO STRICT v_holder
	FROM company c WHERE c.uscc = v_proj.contractor_uscc;
	IF v_acc.balance > 0 THEN
		INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
		SELECT v_acc.id, o.id, v_acc.balance, 'MANUAL', 'approval:' || p_approval
		FROM account o WHERE o.kind = 'CLEARING_OUT' ORDER BY o.id LIMIT 1;
		UPDATE account SET balance = 0 WHERE id = v_acc.id;
		PERFORM wp_feed_flow(v_acc.id, false, 'MANUAL', v_acc.balance, 'approval:' || p_approval,
			v_holder, NULL, v_proj.contractor_uscc, 'payout of the balance to the account holder at closing');
		PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'money.manual',	-- chain
			'account:' || v_acc.number, wp_yuan(v_acc.balance)
			|| ' yuan paid out to the account holder ' || v_holder
			|| ' at closing, by approval ' || p_approval);
		PERFORM wp_manual_debit_alert(v_proj.id, p_approval, p_actor, v_acc.balance, 0,
			'payout of the balance to the account holder ' || v_holder || ' at closing');
	END IF;
	UPDATE account SET state = 'CLOSED', closed_at = now() WHERE id = v_acc.id;
	UPDATE project SET state = 'CLOSED' WHERE id = v_proj.id;
	PERFORM wp_feed_account(v_acc.id, 'CLOSED');
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'account.closed',	-- chain
		'project:' || v_proj.code, 'dedicated account ' || v_acc.number || ' closed');
	INSERT INTO alert (kind, project_id, balance, detail, dedup_key)
	VALUES ('ACCOUNT_CLOSED', v_proj.id, 0,
		'dedicated account ' || v_acc.number || ' closed by approval ' || p_approval
		|| ' (maker ' || coalesce(wp_approval_maker(p_approval), '-') || ', checker ' || substr(p_actor, 10)
		|| '): project complete on ' || v_proj.completed_on || ', public notice of '
		|| v_proj.notice_days || ' days run, no wages owed; ' || wp_yuan(v_acc.balance)
		|| ' yuan paid out to the account holder ' || v_holder,
		'ACCOUNT_CLOSED:' || v_proj.id);
	RETURN v_acc.balance;
END $$;

-- Why a project's dedicated account may not close now, or NULL if it may
-- (004 第十一条, DESIGN §2): the account is open; the project is marked
-- complete (WP67); its public notice of notice_days has run since the
-- completion date, by China time of p_now (WP68); and no wages are owed
-- (WP69): no sheet held for funds, no returned wages earmarked, no month of
-- work up to the completion with workers unpaid (wp_console_unpaid_months).
-- Money left on it does not stop it: the close pays it out to the account
-- holder. Reads only; wp_console_close holds the row.
-- Called by wp_console_propose, wp_console_close and wp_console_project.
CREATE OR REPLACE FUNCTION wp_console_close_refusal(p_project bigint, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_acc	account%ROWTYPE;
	v_proj	project%ROWTYPE;
	v_n	bigint;
	v_m	record;
BEGIN
	SELECT * INTO v_proj FROM project WHERE id = p_project;
	SELECT a.* INTO v_acc FROM account a WHERE a.id = v_proj.account_id;
	IF NOT FOUND THEN
		RETURN 'no such project';
	END IF;
	IF v_acc.state <> 'OPEN' THEN
		RETURN 'the dedicated account is already closed';
	END IF;
	IF v_proj.completed_on IS NULL THEN
		RETURN 'WP67: the project is not marked complete: a maker proposes its completion '
			|| 'date, a checker approves it, and a public notice runs before the account closes';
	END IF;
	IF wp_cst(p_now)::date < v_proj.completed_on + v_proj.notice_days THEN
		RETURN 'WP68: the public notice of ' || v_proj.notice_days || ' days after completion on '
			|| v_proj.completed_on || ' runs until '
			|| (v_proj.completed_on + v_proj.notice_days - 1) || '; the account may close from '
			|| (v_proj.completed_on + v_proj.notice_days);
	END IF;
	SELECT count(*) INTO v_n FROM sheet WHERE project_id = p_project AND state = 'HELD';
	IF v_n > 0 THEN
		RETURN 'WP69: ' || v_n || ' wage sheet(s) are held for funds';
	END IF;
	IF v_acc.earmarked > 0 THEN
		RETURN 'WP69: returned wages of ' || wp_yuan(v_acc.earmarked)
			|| ' yuan are earmarked for their workers and not yet paid again';
	END IF;
	SELECT count(*) AS n, min(u.month) AS first, sum(u.workers) AS workers INTO v_m
	FROM wp_console_unpaid_months(p_project, p_now) u;
	IF v_m.n > 0 THEN
		RETURN 'WP69: ' || v_m.n || ' month(s) have workers unpaid (' || v_m.workers
			|| ' worker-months, the first ' || to_char(v_m.first, 'YYYY-MM') || ')';
	END IF;
	RETURN NULL;
END $$;

-- A proposed manual movement completed from the deposit it names: "from"
-- the deposit's account and "to" the clearing account out unless given
-- (wp_console_move_refusal then holds them to it), the amount the whole
-- deposit unless given, and the payer as the core reported it. A payload
-- naming no deposit, or an unknown one, is returned as it came.
-- Reads only. Called by wp_console_propose.
CREATE OR REPLACE FUNCTION wp_console_move_payload(p jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT jsonb_strip_nulls(jsonb_build_object(
			'from', a.number,
			'to', (SELECT o.number FROM account o WHERE o.kind = 'CLEARING_OUT' ORDER BY o.id LIMIT 1),
			'amount_fen', d.amount, 'amount', wp_yuan(d.amount),
			'payer_name', d.payer_name, 'payer_uscc', d.payer_uscc)) || p
		FROM deposit d JOIN account a ON a.id = d.account_id
		WHERE d.entry_ref = p->>'deposit'), p)
$$;

-- Returns a deposit to the party that paid it (an approved MANUAL_MOVEMENT)
-- when wp_console_move_refusal, asked again at the daemon's clock, finds
-- nothing against it: one MANUAL transfer from the dedicated account to the
-- clearing account out, referenced by the approval; the balance lowered
-- with it; the deposit_return row (the deposit's entry reference is its
-- key: once); money.manual in the account's chain; MANUAL_DEBIT raised with
-- the approval's maker and checker; a MANUAL flow for the platform feed. Locks the dedicated account's row FOR
-- UPDATE (clearing rows are never locked). Raises SQLSTATE WP002 with the
-- refusal. Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_console_move(p jsonb, p_approval bigint, p_actor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_from	account%ROWTYPE;
	v_to	account%ROWTYPE;
	v_amt	bigint := (p->>'amount_fen')::bigint;
	v_why	text;
	v_proj	bigint;
	v_payer	text;
BEGIN
	SELECT * INTO v_from FROM account WHERE number = p->>'from' AND kind = 'DEDICATED' FOR UPDATE;
	v_why := wp_console_move_refusal(p, wp_console_now());
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION '%', v_why USING ERRCODE = 'WP002';
	END IF;
	SELECT * INTO STRICT v_to FROM account WHERE number = p->>'to';
	SELECT coalesce(d.payer_name, 'the payer') || coalesce(' (' || d.payer_uscc || ')', '')
	INTO STRICT v_payer FROM deposit d WHERE d.entry_ref = p->>'deposit';
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	VALUES (v_from.id, v_to.id, v_amt, 'MANUAL', 'approval:' || p_approval);
	UPDATE account SET balance = balance - v_amt WHERE id = v_from.id;
	PERFORM wp_feed_flow(v_from.id, false, 'MANUAL', v_amt, 'approval:' || p_approval,
		(SELECT d.payer_name FROM deposit d WHERE d.entry_ref = p->>'deposit'), NULL,
		(SELECT d.payer_uscc FROM deposit d WHERE d.entry_ref = p->>'deposit'),
		'return of deposit ' || (p->>'deposit') || ' to its payer');
	INSERT INTO deposit_return (entry_ref, account_id, amount, approval_id)
	VALUES (p->>'deposit', v_from.id, v_amt, p_approval);
	PERFORM wp_audit_append(wp_account_chain(v_from.number), p_actor, 'money.manual',	-- chain
		'account:' || v_from.number, wp_yuan(v_amt) || ' yuan of deposit ' || (p->>'deposit')
		|| ' returned to its payer ' || v_payer || ' by approval ' || p_approval || ': '
		|| coalesce(p->>'reason', ''));
	SELECT id INTO STRICT v_proj FROM project WHERE account_id = v_from.id;
	PERFORM wp_manual_debit_alert(v_proj, p_approval, p_actor, v_amt, v_from.balance - v_amt,
		'return of deposit ' || (p->>'deposit') || ' to its payer ' || v_payer);
END $$;

-- Why a manual movement may not be made, or NULL (002 §(十一), 004 第七条:
-- 专项用于支付该工程建设项目农民工工资). Both accounts exist, differ, are
-- dedicated or clearing, one of them dedicated, both open; a positive
-- amount. Then: never from a dedicated account to another (WP60); never
-- onto a dedicated account by hand, whose deposits come from the core feed
-- as the core's books show them (WP61); a debit of a dedicated account goes
-- to the clearing account out and names a deposit to return (WP62), one of
-- this account (WP63), not returned yet (WP64), for at most its amount
-- (WP65), and leaves what the account owes its workers (wp_wages_owed:
-- wages come first, WP66). The payout at closing is wp_console_close's.
-- Reads only; wp_console_move holds the row. Called by wp_console_propose
-- and wp_console_move.
CREATE OR REPLACE FUNCTION wp_console_move_refusal(p jsonb, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_from	account%ROWTYPE;
	v_to	account%ROWTYPE;
	v_dep	deposit%ROWTYPE;
	v_amt	bigint := (p->>'amount_fen')::bigint;
	v_ret	bigint;
	w	record;
BEGIN
	SELECT * INTO v_from FROM account WHERE number = p->>'from';
	IF NOT FOUND THEN
		RETURN CASE WHEN p ? 'deposit' AND NOT p ? 'from'
			THEN 'WP63: no deposit ' || (p->>'deposit') || ' was booked at this bank'
			ELSE 'no such account to move money from' END;
	END IF;
	SELECT * INTO v_to FROM account WHERE number = p->>'to';
	IF NOT FOUND THEN
		RETURN 'no such account to move money to';
	END IF;
	IF v_from.id = v_to.id THEN
		RETURN 'the two accounts are the same';
	END IF;
	IF v_amt IS NULL OR v_amt <= 0 THEN
		RETURN 'the amount must be positive';
	END IF;
	IF v_from.kind NOT IN ('DEDICATED', 'CLEARING_IN', 'CLEARING_OUT')
	    OR v_to.kind NOT IN ('DEDICATED', 'CLEARING_IN', 'CLEARING_OUT') THEN
		RETURN 'manual movements are between dedicated and clearing accounts only';
	END IF;
	IF v_from.kind <> 'DEDICATED' AND v_to.kind <> 'DEDICATED' THEN
		RETURN 'one side of a manual movement must be a dedicated account';
	END IF;
	IF v_from.kind = 'DEDICATED' AND v_to.kind = 'DEDICATED' THEN
		RETURN 'WP60: a dedicated account is never debited by hand in favour of another '
			|| 'dedicated account: each pays its own project''s wages only (专款专用)';
	END IF;
	IF v_to.kind = 'DEDICATED' THEN
		RETURN 'WP61: a dedicated account is never credited by hand: its deposits come '
			|| 'from the core feed, as the core''s books show them';
	END IF;
	IF v_from.state <> 'OPEN' OR v_to.state <> 'OPEN' THEN
		RETURN 'a closed account neither pays nor receives';
	END IF;
	IF v_to.kind <> 'CLEARING_OUT' OR NOT p ? 'deposit' THEN
		RETURN 'WP62: a manual debit of a dedicated account is only the return of a named '
			|| 'deposit to its payer ("deposit": its NtryRef) or the payout of the balance '
			|| 'to the account holder when the account closes';
	END IF;
	SELECT * INTO v_dep FROM deposit WHERE entry_ref = p->>'deposit';
	IF NOT FOUND OR v_dep.account_id <> v_from.id THEN
		RETURN 'WP63: no deposit ' || (p->>'deposit') || ' was booked on account ' || v_from.number;
	END IF;
	SELECT r.approval_id INTO v_ret FROM deposit_return r WHERE r.entry_ref = v_dep.entry_ref;
	IF FOUND THEN
		RETURN 'WP64: deposit ' || v_dep.entry_ref || ' was already returned (approval '
			|| v_ret || '): a deposit is returned once';
	END IF;
	IF v_amt > v_dep.amount THEN
		RETURN 'WP65: a return of deposit ' || v_dep.entry_ref || ' is at most its amount, '
			|| wp_yuan(v_dep.amount) || ' yuan';
	END IF;
	SELECT * INTO w FROM wp_wages_owed(v_from.id, p_now);
	IF v_from.balance - v_amt < w.owed THEN
		RETURN 'WP66: account ' || v_from.number || ' can give at most '
			|| wp_yuan(greatest(v_from.balance - w.owed, 0))
			|| ' yuan (balance ' || wp_yuan(v_from.balance) || '; owed to its workers: held sheets '
			|| wp_yuan(w.held) || ', this month''s planned labour cost '
			|| wp_yuan(w.planned) || ', earmarked returns ' || wp_yuan(w.earmarked)
			|| ', arrears of months due ' || wp_yuan(w.arrears)
			|| ', frozen by legal orders ' || wp_yuan(w.frozen) || ')';
	END IF;
	RETURN NULL;
END $$;

-- The name of an approval's maker. Called by wp_manual_debit_alert and
-- wp_console_close.
CREATE OR REPLACE FUNCTION wp_approval_maker(p_approval bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT o.name FROM approval a JOIN operator o ON o.id = a.maker_id WHERE a.id = p_approval
$$;

-- Raises MANUAL_DEBIT for a manual debit of a dedicated account (002 §(十一):
-- the regulators hear of every one), naming the approval, its maker and its
-- checker (p_actor, 'operator:NAME'), the amount and what it was for; the
-- balance after it. Once per approval (dedup_key). Called by
-- wp_console_move and wp_console_close, under the account's row lock.
CREATE OR REPLACE FUNCTION wp_manual_debit_alert(p_project bigint, p_approval bigint,
	p_actor text, p_amount bigint, p_balance bigint, p_what text)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO alert (kind, project_id, balance, required, detail, dedup_key)
	VALUES ('MANUAL_DEBIT', p_project, p_balance, p_amount,
		'manual debit of ' || wp_yuan(p_amount) || ' yuan by approval ' || p_approval
		|| ' (maker ' || coalesce(wp_approval_maker(p_approval), '-') || ', checker '
		|| substr(p_actor, length('operator:') + 1) || '): ' || p_what,
		'MANUAL_DEBIT:approval:' || p_approval)
	ON CONFLICT (dedup_key) DO NOTHING
$$;

-- A project with its account, balance, roster size, sheets and months of plan
-- against deposits and wages paid (003 二(一): monthly labour cost = total
-- labour cost / contract months; the last month takes the remainder): the
-- contract of the console's project page. A month's deposited is what the
-- owner paid in (the payer's credit code is the owner's): what counts
-- against the plan; topped_up, beside it, what anyone else paid in (the
-- general contractor's top-ups), which does not. Called by
-- wp_console_project.
CREATE OR REPLACE FUNCTION wp_project_json(p_code text) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'code', p.code, 'name', p.name, 'region', p.region, 'industry', p.industry,
		'state', lower(p.state),
		'owner', json_build_object('uscc', p.owner_uscc, 'name', ow.name),
		'contractor', json_build_object('uscc', p.contractor_uscc, 'name', gc.name),
		'account', json_build_object('number', a.number, 'state', lower(a.state),
			'balance', wp_yuan(a.balance), 'earmarked', wp_yuan(a.earmarked),
			'opened_at', a.opened_at),
		'balance', wp_yuan(a.balance),
		'labour_cost_total', wp_yuan(p.labour_cost_total),
		'contract_months', p.contract_months,
		'start_month', to_char(p.start_month, 'YYYY-MM'),
		'pay_day', p.pay_day,
		'completed_on', p.completed_on, 'notice_days', p.notice_days,
		'closable_from', p.completed_on + p.notice_days,
		'roster_size', (SELECT count(*) FROM roster_entry r WHERE r.project_id = p.id),
		'sheets', (SELECT json_build_object(
			'paid', count(*) FILTER (WHERE s.state = 'PAID'),
			'held', count(*) FILTER (WHERE s.state = 'HELD'),
			'rejected', count(*) FILTER (WHERE s.state = 'REJECTED'),
			'cancelled', count(*) FILTER (WHERE s.state = 'CANCELLED'))
			FROM sheet s WHERE s.project_id = p.id),
		'months', (SELECT json_agg(json_build_object(
			'month', to_char(m.month, 'YYYY-MM'),
			'planned', wp_yuan(m.planned),
			'deposited', wp_yuan(coalesce((SELECT sum(d.amount) FROM deposit d
				WHERE d.account_id = a.id AND date_trunc('month', d.booking_date) = m.month
				  AND d.payer_uscc = p.owner_uscc::text), 0)::bigint),
			'topped_up', wp_yuan(coalesce((SELECT sum(d.amount) FROM deposit d
				WHERE d.account_id = a.id AND date_trunc('month', d.booking_date) = m.month
				  AND d.payer_uscc IS DISTINCT FROM p.owner_uscc::text), 0)::bigint),
			'paid', wp_yuan(coalesce((SELECT sum(s.accepted_total) FROM sheet s
				WHERE s.project_id = p.id AND s.state = 'PAID' AND s.month = m.month), 0)::bigint))
			ORDER BY m.month)
			FROM (SELECT (p.start_month + make_interval(months => i))::date AS month,
				p.labour_cost_total / p.contract_months
				+ CASE WHEN i = p.contract_months - 1
				  THEN p.labour_cost_total % p.contract_months ELSE 0 END AS planned
			      FROM generate_series(0, p.contract_months - 1) AS i) m))
	FROM project p JOIN account a ON a.id = p.account_id
	JOIN company ow ON ow.uscc = p.owner_uscc JOIN company gc ON gc.uscc = p.contractor_uscc
	WHERE p.code = p_code
$$;
