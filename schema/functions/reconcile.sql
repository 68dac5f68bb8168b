-- reconcile.sql: the core's end-of-day statement of a dedicated account, or
-- of a wage guarantee account (030: a paid draw's order stands for its
-- GUARANTEE transfers as a sheet's for its WAGE ones; a release is a manual
-- debit) (camt.053.001.08, POST /v1/core/statements) reconciled against the
-- ledger.
--
-- How the core books what wagepay does (the contract the fake core keeps,
-- tests/tools/fakecore statement):
--   a deposit         CRDT, NtryRef the camt.054 entry's, on its booking date
--   a wage return     CRDT, NtryRef the camt.054 entry's; a line the core
--                     rejected (pain.002 RJCT) comes back as CRDT with NtryRef
--                     'RJCT/' || its InstrId; both on the day wagepay booked them
--   a payment order   ONE DBIT per order (the order's CtrlSum), NtryRef the
--                     order's MsgId (WPPO...), on the day the core took it
--                     (sheets paid before 025 have no order; they are older
--                     than any statement)
--   a legal order     DBIT, NtryRef the order's Ref; a manual debit DBIT,
--                     NtryRef 'approval:' || its approval; on their day
-- A day is China time; a deposit's is its booking date as the core gave it.
--
-- In flight: a payment order is debited here when its sheet is paid, and on
-- the core only once the core takes it. An order the core has not booked
-- (in this statement or an earlier one of the account) is in flight for
-- day D when it was not taken before D: it may be booked on D or the day
-- after, and its amount is added to the ledger's closing balance before the
-- two are compared, so timing never raises a break. An order taken before
-- D and still not booked by the core is a real difference (LEDGER_ONLY).

-- The window of the ledger a statement is compared with: the days before
-- the statement's day that are read. Work is in proportion to the window and
-- to the orders the core has not booked, never to the account's history: a
-- balance at the end of a day is the account's balance less what was booked
-- after it. An order taken before the window and never booked is no longer
-- named as an entry in question; its amount keeps breaking the balance.
CREATE OR REPLACE FUNCTION wp_recon_window() RETURNS int LANGUAGE sql IMMUTABLE AS $$
	SELECT 7
$$;

-- Compares one statement's entries (p_entries: [{ref, credit, amount, svcr,
-- e2e, booked}]) with the ledger of p_account for p_day, into temporary
-- tables dropped at COMMIT: wp_recon_in, the statement's entries;
-- wp_recon_l, the account's movements booked since the window began, each
-- with the day the core books it (a deposit: its booking date; wage debits
-- one by one, as transfers); wp_recon_cmp, one row per entry in question
-- (CORE_ONLY, LEDGER_ONLY, AMOUNT) or order in flight (IN_FLIGHT): the
-- day's movements but wages, and every order paid by the day's end that the
-- core has not booked on an earlier day (one debit per order, its CtrlSum).
-- Called by wp_core_statement under the account's row lock.
CREATE OR REPLACE FUNCTION wp_recon_compare(p_account bigint, p_day date, p_entries json)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_from	timestamptz := (p_day - wp_recon_window())::timestamp AT TIME ZONE INTERVAL '+08:00';
	v_end	timestamptz := (p_day + 1)::timestamp AT TIME ZONE INTERVAL '+08:00';
BEGIN
	IF to_regclass('pg_temp.wp_recon_in') IS NOT NULL THEN
		DROP TABLE pg_temp.wp_recon_in, pg_temp.wp_recon_l, pg_temp.wp_recon_cmp;
	END IF;
	CREATE TEMP TABLE wp_recon_in ON COMMIT DROP AS
	SELECT x.ordinality::int AS seq, x.e->>'ref' AS ref, (x.e->>'credit')::boolean AS credit,
		(x.e->>'amount')::bigint AS amount, nullif(x.e->>'svcr', '') AS svcr,
		nullif(x.e->>'e2e', '') AS e2e, nullif(x.e->>'booked', '')::date AS booked
	FROM json_array_elements(p_entries) WITH ORDINALITY AS x(e, ordinality);
	CREATE TEMP TABLE wp_recon_l ON COMMIT DROP AS
	SELECT t.reference AS ref, true AS credit, t.amount, t.reason,
		coalesce(d.booking_date, wp_cst(t.created_at)::date) AS day
	FROM transfer t LEFT JOIN deposit d ON t.reason = 'DEPOSIT' AND d.entry_ref = t.reference
	WHERE t.credit_account = p_account AND t.created_at >= v_from
	UNION ALL
	SELECT t.reference, false, t.amount, t.reason, wp_cst(t.created_at)::date
	FROM transfer t WHERE t.debit_account = p_account AND t.created_at >= v_from;
	CREATE TEMP TABLE wp_recon_cmp ON COMMIT DROP AS
	WITH core AS (
		SELECT ref, credit, sum(amount)::bigint AS amount FROM wp_recon_in GROUP BY 1, 2
	), ledger AS (
		SELECT l.ref, l.credit, sum(l.amount)::bigint AS amount, false AS is_order,
			NULL::date AS taken_on
		FROM wp_recon_l l WHERE l.day = p_day AND l.reason NOT IN ('WAGE', 'GUARANTEE') GROUP BY 1, 2
		UNION ALL
		SELECT o.msg_id, false, o.ctrl_sum, true, wp_cst(o.taken_at)::date
		FROM payment_order o
		WHERE o.account_id = p_account AND o.created_at < v_end
		  AND (o.state = 'PENDING' OR o.taken_at >= v_from)
		  AND NOT EXISTS (SELECT 1 FROM core_statement_entry e
			JOIN core_statement s ON s.id = e.statement_id
			WHERE e.account_id = p_account AND e.ref = o.msg_id AND s.day < p_day)
	)
	SELECT CASE WHEN l.ref IS NULL THEN 'CORE_ONLY'
		    WHEN c.ref IS NOT NULL THEN 'AMOUNT'
		    WHEN l.is_order AND (l.taken_on IS NULL OR l.taken_on >= p_day) THEN 'IN_FLIGHT'
		    ELSE 'LEDGER_ONLY' END AS problem,
		coalesce(c.ref, l.ref) AS ref, coalesce(c.credit, l.credit) AS credit,
		c.amount AS core_amount, l.amount AS ledger_amount
	FROM core c FULL JOIN ledger l ON l.ref = c.ref AND l.credit = c.credit
	WHERE c.amount IS DISTINCT FROM l.amount;
END $$;

-- Reconciles the core's end-of-day statement (GrpHdr/MsgId p_msg_id,
-- Stmt/Id p_stmt_id) of dedicated account p_account for day p_day (China
-- time): the core's opening and closing booked balances (fen) and its
-- booked entries (p_entries, as wp_recon_compare reads them). A break is
-- any of: the core's closing balance is not the ledger's at the end of the
-- day plus the orders in flight; an entry one side has and the other does
-- not, or with another amount; the statement does not add up (opening +
-- credits - debits); its opening is not the closing of the core's statement
-- of the day before (when there is one). Every statement is recorded
-- (core_statement with both figures, its entries, the entries in question)
-- and audited in the account's chain; a break raises RECONCILIATION_BREAK
-- (once per statement) with both figures and the entries in question.
-- Outcome APPLIED (code WP55 when a break was found), DUPLICATE for the
-- same MsgId and Stmt/Id again (answered as decided, nothing recorded), or
-- REFUSED, nothing recorded: WP56 not a dedicated account at this bank;
-- DU01 the same MsgId and Stmt/Id for another account, day or balances.
-- Locks the account's row FOR UPDATE (no sheet pays while it is compared).
-- Called by daemon/core.c (POST /v1/core/statements).
CREATE OR REPLACE FUNCTION wp_core_statement(p_msg_id text, p_stmt_id text, p_account text,
	p_day date, p_opening bigint, p_closing bigint, p_entries json,
	OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_acc		account%ROWTYPE;
	v_old		core_statement%ROWTYPE;
	v_in		record;
	v_led		record;
	v_why		text[] := '{}';
	v_prev		bigint;
	v_expect	bigint;
BEGIN
	SELECT * INTO v_acc FROM account WHERE number = p_account
	  AND kind IN ('DEDICATED', 'GUARANTEE') FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'REFUSED'; code := 'WP56';
		message := 'no dedicated wage account ' || left(p_account, 34) || ' at this bank';
		RETURN;
	END IF;
	SELECT * INTO v_old FROM core_statement WHERE msg_id = p_msg_id AND stmt_id = p_stmt_id;
	IF FOUND AND (v_old.account_id <> v_acc.id OR v_old.day <> p_day
	    OR v_old.opening <> p_opening OR v_old.closing <> p_closing) THEN
		outcome := 'REFUSED'; code := 'DU01';
		message := 'MsgId ' || p_msg_id || ' and statement ' || p_stmt_id
			|| ' were used before for another statement';
		RETURN;
	ELSIF FOUND THEN
		outcome := 'DUPLICATE'; code := CASE WHEN v_old.outcome = 'BREAK' THEN 'WP55' END;
		message := 'statement ' || p_stmt_id || ' was reconciled already: ' || v_old.detail;
		RETURN;
	END IF;
	PERFORM wp_recon_compare(v_acc.id, p_day, p_entries);
	SELECT count(*)::int AS n, coalesce(sum(amount) FILTER (WHERE credit), 0)::bigint AS credits,
		coalesce(sum(amount) FILTER (WHERE NOT credit), 0)::bigint AS debits
	INTO v_in FROM wp_recon_in;
	-- the balance at the day's end: today's less what was booked after it
	SELECT v_acc.balance - coalesce(sum(CASE WHEN credit THEN amount ELSE -amount END)
			FILTER (WHERE day > p_day), 0)::bigint AS closing,
		coalesce(sum(CASE WHEN credit THEN amount ELSE -amount END)
			FILTER (WHERE day = p_day), 0)::bigint AS day_net,
		(SELECT coalesce(sum(ledger_amount), 0) FROM wp_recon_cmp
		 WHERE problem = 'IN_FLIGHT')::bigint AS in_flight
	INTO v_led FROM wp_recon_l;
	v_expect := v_led.closing + v_led.in_flight;
	IF p_closing <> v_expect THEN
		v_why := v_why || ('closing balance: the core ' || wp_yuan(p_closing) || ', the ledger '
			|| wp_yuan(v_led.closing) || CASE WHEN v_led.in_flight > 0 THEN ' and '
			|| wp_yuan(v_led.in_flight) || ' of orders in flight' ELSE '' END);
	END IF;
	IF p_opening + v_in.credits - v_in.debits <> p_closing THEN
		v_why := v_why || ('the statement does not add up: opening ' || wp_yuan(p_opening)
			|| ' + credits ' || wp_yuan(v_in.credits) || ' - debits '
			|| wp_yuan(v_in.debits) || ' is not its closing');
	END IF;
	SELECT s.closing INTO v_prev FROM core_statement s
	WHERE s.account_id = v_acc.id AND s.day = p_day - 1 ORDER BY s.id DESC LIMIT 1;
	IF v_prev IS DISTINCT FROM p_opening AND v_prev IS NOT NULL THEN
		v_why := v_why || ('opening balance ' || wp_yuan(p_opening) || ' is not the closing '
			|| wp_yuan(v_prev) || ' of the day before');
	END IF;
	SELECT * INTO outcome, code, message FROM wp_recon_record(v_acc, p_msg_id, p_stmt_id, p_day,
		p_opening, p_closing, v_in.credits, v_in.debits, v_in.n, v_led.closing - v_led.day_net,
		v_led.closing, v_led.in_flight, v_why);
END $$;

-- Records a reconciled statement (wp_core_statement's figures, the temporary
-- tables of wp_recon_compare): core_statement, its entries, the entries in
-- question; audits it in the account's chain; raises RECONCILIATION_BREAK
-- when p_why or an entry in question says it broke. Returns the answer.
CREATE OR REPLACE FUNCTION wp_recon_record(p_acc account, p_msg_id text, p_stmt_id text,
	p_day date, p_opening bigint, p_closing bigint, p_credits bigint, p_debits bigint,
	p_n int, p_ledger_opening bigint, p_ledger_closing bigint, p_in_flight bigint,
	p_why text[], OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
DECLARE
	v_id		bigint;
	v_entries	text;
	v_nbad		int;
	v_detail	text;
	v_expect	bigint := p_ledger_closing + p_in_flight;
BEGIN
	SELECT count(*), string_agg(problem || ' ' || CASE WHEN credit THEN 'CRDT ' ELSE 'DBIT ' END
		|| ref || ' core ' || coalesce(wp_yuan(core_amount), '-') || ' ledger '
		|| coalesce(wp_yuan(ledger_amount), '-'), '; ' ORDER BY problem, ref)
	INTO v_nbad, v_entries FROM wp_recon_cmp WHERE problem <> 'IN_FLIGHT';
	IF v_nbad > 0 THEN
		p_why := p_why || (v_nbad || ' entr' || CASE WHEN v_nbad = 1 THEN 'y' ELSE 'ies' END
			|| ' in question: ' || v_entries);
	END IF;
	v_detail := left(CASE WHEN cardinality(p_why) = 0 THEN 'AGREED' ELSE 'BREAK' END
		|| ': account ' || p_acc.number || ' on ' || p_day || ': the core''s closing '
		|| wp_yuan(p_closing) || ', the ledger''s ' || wp_yuan(p_ledger_closing)
		|| ' (' || wp_yuan(p_in_flight) || ' of orders in flight); '
		|| p_n || ' entries' || CASE WHEN cardinality(p_why) = 0 THEN ''
		   ELSE '; ' || array_to_string(p_why, '; ') END, 2000);
	INSERT INTO core_statement (msg_id, stmt_id, account_id, day, opening, closing, credits,
		debits, entries, ledger_opening, ledger_closing, in_flight, outcome, detail)
	VALUES (p_msg_id, p_stmt_id, p_acc.id, p_day, p_opening, p_closing, p_credits, p_debits,
		p_n, p_ledger_opening, p_ledger_closing, p_in_flight,
		CASE WHEN cardinality(p_why) = 0 THEN 'AGREED' ELSE 'BREAK' END, v_detail)
	RETURNING id INTO v_id;
	INSERT INTO core_statement_entry (statement_id, seq, account_id, ref, credit, amount,
		svcr_ref, end_to_end_id, booked)
	SELECT v_id, seq, p_acc.id, ref, credit, amount, svcr, e2e, booked FROM wp_recon_in;
	INSERT INTO core_statement_break (statement_id, problem, ref, credit, core_amount,
		ledger_amount)
	SELECT v_id, problem, ref, credit, core_amount, ledger_amount FROM wp_recon_cmp
	WHERE problem <> 'IN_FLIGHT';
	PERFORM wp_audit_append(wp_account_chain(p_acc.number), 'core',
		CASE WHEN cardinality(p_why) = 0 THEN 'statement.agreed' ELSE 'statement.break' END,
		'statement:' || p_stmt_id, v_detail || wp_core_peer_note());
	outcome := 'APPLIED';
	message := v_detail;
	IF cardinality(p_why) = 0 THEN
		RETURN;
	END IF;
	code := 'WP55';
	INSERT INTO alert (kind, project_id, balance, required, shortfall, msg_id, detail, dedup_key)
	SELECT 'RECONCILIATION_BREAK', p.id, CASE WHEN p_closing >= 0 THEN p_closing END,
		CASE WHEN v_expect >= 0 THEN v_expect END,
		nullif(abs(v_expect - p_closing), 0), p_msg_id, v_detail,
		'RECONCILIATION_BREAK:' || v_id
	FROM project p WHERE p.id = wp_account_project(p_acc.id)
	ON CONFLICT (dedup_key) DO NOTHING;
END $$;
