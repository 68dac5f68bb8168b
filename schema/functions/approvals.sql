-- approvals.sql: four eyes. A maker proposes (opening a project, closing an
-- account, moving money by hand), a different checker decides; the refusals
-- (sheets held, returns earmarked, months unpaid, money left; never the money
-- wages wait for) are decided here, and every step is in the audit trail.

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

-- Proposes a CLOSE_ACCOUNT or MANUAL_MOVEMENT (wp_console_propose), or answers
-- why not, as JSON for the console: {"approval": ID} or {"refusal": "..."}.
-- Called by daemon/consoleapi.c (POST /api/projects/{code}/close, POST
-- /api/movements).
CREATE OR REPLACE FUNCTION wp_console_propose_json(p_kind text, p_payload jsonb, p_maker bigint,
	p_now timestamptz)
RETURNS json LANGUAGE sql AS $$
	SELECT json_strip_nulls(json_build_object('approval', r.approval, 'refusal', r.refusal))
	FROM wp_console_propose(p_kind, p_payload, p_maker, p_now) r
$$;

-- A maker's proposal of any kind, checked now against the rules it will be
-- checked against again when approved (the world may change in between):
-- CLOSE_ACCOUNT refused while another closing of the project waits or while
-- wp_console_close_refusal says why not; MANUAL_MOVEMENT refused when
-- wp_console_move_refusal says why not. Returns the approval id, or NULL and
-- the refusal. Locks nothing: the decision locks and checks again.
-- Called by wp_console_propose_json.
CREATE OR REPLACE FUNCTION wp_console_propose(p_kind text, p_payload jsonb, p_maker bigint,
	p_now timestamptz, OUT approval bigint, OUT refusal text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
	v_from	account%ROWTYPE;
	v_to	account%ROWTYPE;
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
		SELECT * INTO v_from FROM account WHERE number = p_payload->>'from';
		SELECT * INTO v_to FROM account WHERE number = p_payload->>'to';
		refusal := wp_console_move_refusal(v_from, v_to, (p_payload->>'amount_fen')::bigint, p_now);
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
-- runs (wp_project_open, wp_console_close or wp_console_move): APPROVED, or
-- FAILED with the reason when it is refused (SQLSTATE WP002) or breaks a
-- constraint, the action rolled back to here. The decision is stored and
-- recorded in the 'global' audit chain. Locks the approval's row FOR UPDATE,
-- so two checkers cannot both decide it; the actions lock the account rows
-- they touch. Called by wp_console_decide.
CREATE OR REPLACE FUNCTION wp_approval_decide(p_id bigint, p_checker bigint, p_decision text,
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
	ELSE
		-- a failed action is rolled back to here and recorded as FAILED
		BEGIN
			IF v_ap.kind = 'OPEN_ACCOUNT' THEN
				PERFORM wp_project_open(v_ap.payload, 'operator:' || v_name);
				outcome := 'dedicated account ' || (v_ap.payload->>'account') || ' opened';
			ELSIF v_ap.kind = 'CLOSE_ACCOUNT' THEN
				PERFORM wp_console_close(v_ap.payload, 'operator:' || v_name);
				outcome := 'dedicated account of ' || (v_ap.payload->>'code') || ' closed';
			ELSE
				PERFORM wp_console_move(v_ap.payload, p_id, 'operator:' || v_name);
				outcome := (v_ap.payload->>'amount') || ' yuan moved from '
					|| (v_ap.payload->>'from') || ' to ' || (v_ap.payload->>'to');
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

-- One approval as the console shows it. VOLATILE so that, called in the same
-- statement as wp_console_decide, it sees the decision just made. Called by
-- daemon/consoleapi.c and by wp_console_approvals and wp_console_project.
CREATE OR REPLACE FUNCTION wp_approval_json(p_id bigint) RETURNS json LANGUAGE sql VOLATILE AS $$
	SELECT json_build_object('id', a.id, 'kind', a.kind, 'state', lower(a.state),
		'payload', a.payload, 'maker', m.name, 'checker', c.name,
		'created_at', a.created_at, 'decided_at', a.decided_at, 'outcome', a.outcome)
	FROM approval a JOIN operator m ON m.id = a.maker_id
	LEFT JOIN operator c ON c.id = a.checker_id WHERE a.id = p_id
$$;

-- Opens a project and its dedicated account (an approved OPEN_ACCOUNT): the
-- owner and general contractor as companies, the account, the project with its
-- labour-cost plan and pay day; the account's audit chain starts with its
-- opening. A project code already there is refused (unique_violation: one
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
	PERFORM wp_audit_append(wp_account_chain(p->>'account'), p_actor, 'account.opened',	-- chain
		'project:' || (p->>'code'),
		'dedicated account ' || (p->>'account'));
	RETURN v_proj;
END $$;

-- Closes a project's dedicated account (an approved CLOSE_ACCOUNT) when
-- wp_console_close_refusal, asked again at the daemon's clock, finds nothing
-- against it; the account's audit chain ends with its closing. Locks the
-- account's row FOR UPDATE first, so no sheet or deposit slips in between the
-- check and the close. Raises SQLSTATE WP002 with the refusal.
-- Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_console_close(p jsonb, p_actor text)
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
	PERFORM 1 FROM account WHERE id = v_proj.account_id FOR UPDATE;
	v_why := wp_console_close_refusal(v_proj.id, wp_console_now());
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION 'the account cannot close: %', v_why USING ERRCODE = 'WP002';
	END IF;
	UPDATE account SET state = 'CLOSED', closed_at = now() WHERE id = v_proj.account_id;
	UPDATE project SET state = 'CLOSED' WHERE id = v_proj.id;
	SELECT number INTO STRICT v_number FROM account WHERE id = v_proj.account_id;	-- chain
	PERFORM wp_audit_append(wp_account_chain(v_number), p_actor, 'account.closed',
		'project:' || v_proj.code, 'dedicated account ' || v_number || ' closed');
END $$;

-- Moves money by hand (an approved MANUAL_MOVEMENT) when
-- wp_console_move_refusal, asked again at the daemon's clock, finds nothing
-- against it: one MANUAL transfer referenced by the approval, the dedicated
-- balances changed with it, the record in the chain of each dedicated side,
-- and, if money came into a dedicated account, its held sheets paid as a
-- deposit would (wp_release_held). Locks the dedicated account rows FOR UPDATE
-- in id order (clearing rows are never locked), then their chains in the same
-- order. Raises SQLSTATE WP002 with the refusal.
-- Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_console_move(p jsonb, p_approval bigint, p_actor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_from	account%ROWTYPE;
	v_to	account%ROWTYPE;
	v_amt	bigint := (p->>'amount_fen')::bigint;
	v_why	text;
	v_n	int;
	v_chain	text;
BEGIN
	-- lock order: dedicated account rows by id (clearing rows are never locked)
	PERFORM 1 FROM account WHERE number IN (p->>'from', p->>'to') AND kind = 'DEDICATED'
	ORDER BY id FOR UPDATE;
	SELECT * INTO v_from FROM account WHERE number = p->>'from';
	SELECT * INTO v_to FROM account WHERE number = p->>'to';
	v_why := wp_console_move_refusal(v_from, v_to, v_amt, wp_console_now());
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION '%', v_why USING ERRCODE = 'WP002';
	END IF;
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	VALUES (v_from.id, v_to.id, v_amt, 'MANUAL', 'approval:' || p_approval);
	UPDATE account SET balance = balance - v_amt WHERE id = v_from.id AND kind = 'DEDICATED';
	UPDATE account SET balance = balance + v_amt WHERE id = v_to.id AND kind = 'DEDICATED';
	-- chain: the same record in the chain of each dedicated account the
	-- money moved on, in the order their rows were locked
	FOR v_chain IN SELECT wp_account_chain(a.number) FROM account a
	    WHERE a.id IN (v_from.id, v_to.id) AND a.kind = 'DEDICATED' ORDER BY a.id LOOP
		PERFORM wp_audit_append(v_chain, p_actor, 'money.manual', 'account:' || v_from.number,
			wp_yuan(v_amt) || ' yuan to ' || v_to.number || ' by approval ' || p_approval
			|| ': ' || coalesce(p->>'reason', ''));
	END LOOP;
	IF v_to.kind = 'DEDICATED' THEN
		v_n := wp_release_held(v_to.id, p_actor);
	END IF;
END $$;

-- Why a project's dedicated account may not close now, or NULL if it may: only
-- after the project's wages are all paid (DESIGN §2): no sheet held for funds,
-- no returned wages earmarked, no month with workers unpaid
-- (wp_console_unpaid_months), and nothing left on it (returned to the owner by
-- a manual movement first). Reads only; wp_console_close holds the row.
-- Called by wp_console_propose, wp_console_close and wp_console_project.
CREATE OR REPLACE FUNCTION wp_console_close_refusal(p_project bigint, p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_acc	account%ROWTYPE;
	v_n	bigint;
	v_m	record;
BEGIN
	SELECT a.* INTO v_acc FROM account a JOIN project p ON p.account_id = a.id
	WHERE p.id = p_project;
	IF NOT FOUND THEN
		RETURN 'no such project';
	END IF;
	IF v_acc.state <> 'OPEN' THEN
		RETURN 'the dedicated account is already closed';
	END IF;
	SELECT count(*) INTO v_n FROM sheet WHERE project_id = p_project AND state = 'HELD';
	IF v_n > 0 THEN
		RETURN v_n || ' wage sheet(s) are held for funds';
	END IF;
	IF v_acc.earmarked > 0 THEN
		RETURN 'returned wages of ' || wp_yuan(v_acc.earmarked)
			|| ' yuan are earmarked for their workers and not yet paid again';
	END IF;
	SELECT count(*) AS n, min(u.month) AS first, sum(u.workers) AS workers INTO v_m
	FROM wp_console_unpaid_months(p_project, p_now) u;
	IF v_m.n > 0 THEN
		RETURN v_m.n || ' month(s) have workers unpaid (' || v_m.workers
			|| ' worker-months, the first ' || to_char(v_m.first, 'YYYY-MM') || ')';
	END IF;
	IF v_acc.balance > 0 THEN
		RETURN 'the account still holds ' || wp_yuan(v_acc.balance)
			|| ' yuan: return it to the owner by a manual movement first';
	END IF;
	RETURN NULL;
END $$;

-- Why a manual movement may not be made, or NULL. A movement has a dedicated
-- account on at least one side and the bank's clearing accounts (money from or
-- to outside the bank) or another dedicated account on the other; both open; a
-- positive amount. A dedicated account gives only what it holds beyond what it
-- owes its workers as wp_wages_owed counts it for legal orders (held sheets,
-- this month's planned labour cost, earmarked returns): wages come first.
-- Reads only; wp_console_move holds the rows. Called by wp_console_propose and
-- wp_console_move.
CREATE OR REPLACE FUNCTION wp_console_move_refusal(p_from account, p_to account, p_amount bigint,
	p_now timestamptz)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	w	record;
BEGIN
	IF p_from.id IS NULL THEN
		RETURN 'no such account to move money from';
	END IF;
	IF p_to.id IS NULL THEN
		RETURN 'no such account to move money to';
	END IF;
	IF p_from.id = p_to.id THEN
		RETURN 'the two accounts are the same';
	END IF;
	IF p_amount IS NULL OR p_amount <= 0 THEN
		RETURN 'the amount must be positive';
	END IF;
	IF p_from.kind NOT IN ('DEDICATED', 'CLEARING_IN', 'CLEARING_OUT')
	    OR p_to.kind NOT IN ('DEDICATED', 'CLEARING_IN', 'CLEARING_OUT') THEN
		RETURN 'manual movements are between dedicated and clearing accounts only';
	END IF;
	IF p_from.kind <> 'DEDICATED' AND p_to.kind <> 'DEDICATED' THEN
		RETURN 'one side of a manual movement must be a dedicated account';
	END IF;
	IF p_from.state <> 'OPEN' OR p_to.state <> 'OPEN' THEN
		RETURN 'a closed account neither pays nor receives';
	END IF;
	IF p_from.kind = 'DEDICATED' THEN
		SELECT * INTO w FROM wp_wages_owed(p_from.id, p_now);
		IF p_from.balance - p_amount < w.owed THEN
			RETURN 'account ' || p_from.number || ' can give at most '
				|| wp_yuan(greatest(p_from.balance - w.owed, 0))
				|| ' yuan (balance ' || wp_yuan(p_from.balance) || '; owed to its workers: held sheets '
				|| wp_yuan(w.held) || ', this month''s planned labour cost '
				|| wp_yuan(w.planned) || ', earmarked returns ' || wp_yuan(w.earmarked) || ')';
		END IF;
	END IF;
	RETURN NULL;
END $$;

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
