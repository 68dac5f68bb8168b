-- fixtures.sql: the one world every tests/sql file builds on, and the ledger
-- invariants every scenario ends with. \ir'd by each test file inside its
-- own transaction (BEGIN ... ROLLBACK), so what is made here is gone after
-- each file; tests/sql/run does not run this file on its own.
--
-- Everything is made through the functions the daemon calls (wp_project_open,
-- wp_roster_upsert, wp_core_deposit, wp_sheet_submit), with the daemon's
-- arguments: no row of the world is inserted by hand. IDs are valid GB 11643
-- numbers and cards Luhn-valid (tests/tools/wpids.py demo workers; companies
-- of tests/data/demo.env). No fixture reads today's date: every time is
-- given (the project runs 2026-01..2026-12, the sheets are for 2026-10).

CREATE SCHEMA tap;

-- The demo world's companies and accounts (tests/data/demo.env).
CREATE FUNCTION tap.gc() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '914101020507452466' $$;
CREATE FUNCTION tap.gc2() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '914101030517925382' $$;
CREATE FUNCTION tap.owner() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '914101830496979538' $$;
CREATE FUNCTION tap.sub1() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '91410105052839828U' $$;
CREATE FUNCTION tap.sub2() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '914101220538871198' $$;
CREATE FUNCTION tap.acc() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '6228480000000000001' $$;
CREATE FUNCTION tap.acc2() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '6228480000000000002' $$;

-- The roster of the demo project: k, as wpids.py's demo workers.
--  1..4  subcontractor one, on site from 2026-03-01
--  5     subcontractor two, on site from 2026-03-01
--  6     subcontractor one, left the site 2026-05-20
--  7     subcontractor one, entered the site 2026-11-10
--  8     never rostered (a valid ID and card nobody registered)
CREATE TABLE tap.worker (k int PRIMARY KEY, idn text, name text, employer text, card text,
	bank text, signed date, entered date, left_on date, rostered boolean);
INSERT INTO tap.worker VALUES
 (1, '410183200211050008', '王建军', '91410105052839828U', '6228480999985718280', '103491000018', '2026-02-20', '2026-03-01', NULL, true),
 (2, '410183200211208389', '张建',   '91410105052839828U', '6222021000005717946', '102491000013', '2026-02-20', '2026-03-01', NULL, true),
 (3, '410183200212086766', '陈建洋', '91410105052839828U', '6228481000025717603', '103491000018', '2026-02-20', '2026-03-01', NULL, true),
 (4, '410183200212245149', '黄建斌', '91410105052839828U', '6222021000045717260', '102491000013', '2026-02-20', '2026-03-01', NULL, true),
 (5, '410183200211129197', '李建明', '914101220538871198', '6217000999995718118', '105491000016', '2026-02-20', '2026-03-01', NULL, true),
 (6, '410183200301123522', '吴建',   '91410105052839828U', '6228481000065716929', '103491000018', '2026-02-20', '2026-03-01', '2026-05-20', true),
 (7, '41018320030128190X', '徐建凯', '91410105052839828U', '6222021000085716586', '102491000013', '2026-11-01', '2026-11-10', NULL, true),
 (8, '410183200302160288', '马建华', '91410105052839828U', '6228481000105716244', '103491000018', '2026-02-20', '2026-03-01', NULL, false);

CREATE FUNCTION tap.w(p_k int) RETURNS tap.worker LANGUAGE sql STABLE AS $$
	SELECT * FROM tap.worker WHERE k = p_k
$$;

-- A project and its dedicated account, opened as an approved OPEN_ACCOUNT
-- does it (the console's payload shape). Plan: 1,200,000 fen over 12
-- months from 2026-01, i.e. 100,000 fen a month; pay day 15.
CREATE FUNCTION tap.project_payload(p_code text, p_account text, p_contractor text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('code', p_code, 'name', 'Project ' || p_code,
		'region', '410183', 'industry', 'housing',
		'owner', jsonb_build_object('uscc', tap.owner(), 'name', 'Demo Owner'),
		'contractor', jsonb_build_object('uscc', p_contractor, 'name', 'Contractor ' || p_contractor),
		'account', p_account, 'labour_cost_fen', 1200000, 'contract_months', 12,
		'start_month', '2026-01', 'pay_day', 15)
$$;
CREATE FUNCTION tap.open_project(p_code text, p_account text, p_contractor text)
RETURNS bigint LANGUAGE sql AS $$
	SELECT wp_project_open(tap.project_payload(p_code, p_account, p_contractor), 'operator:tap')
$$;

-- Roster entries as rosterapi.c sends them (pre_code: what proto/roster.c
-- refused already).
CREATE FUNCTION tap.roster_json(p_ks int[]) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('idn', w.idn, 'name', w.name, 'employer', w.employer,
		'card', w.card, 'bank', w.bank, 'signed', w.signed, 'entered', w.entered,
		'left', w.left_on, 'pre_code', NULL, 'pre_text', NULL) ORDER BY w.k), '[]')
	FROM tap.worker w WHERE w.k = ANY (p_ks)
$$;
CREATE FUNCTION tap.subs_json() RETURNS json LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_array(json_build_object('uscc', tap.sub1(), 'name', 'Demo Subcontractor One'),
		json_build_object('uscc', tap.sub2(), 'name', 'Demo Subcontractor Two'))
$$;

-- The world: the demo project XM-TAP-0001 (account tap.acc(), general
-- contractor tap.gc()), its two subcontractors, workers 1..7 on its roster,
-- and no money yet.
CREATE FUNCTION tap.world() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM tap.open_project('XM-TAP-0001', tap.acc(), tap.gc());
	PERFORM * FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
		tap.roster_json(ARRAY(SELECT k FROM tap.worker WHERE rostered)));
END $$;

CREATE FUNCTION tap.account_id(p_number text DEFAULT tap.acc()) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT id FROM account WHERE number = p_number $$;
CREATE FUNCTION tap.balance(p_number text DEFAULT tap.acc()) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT balance FROM account WHERE number = p_number $$;
CREATE FUNCTION tap.earmarked(p_number text DEFAULT tap.acc()) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT earmarked FROM account WHERE number = p_number $$;

-- An owner's deposit, as one camt.054 credit entry: its outcome.
CREATE FUNCTION tap.deposit(p_ref text, p_fen bigint, p_account text DEFAULT tap.acc(),
	p_booking date DEFAULT '2026-10-05')
RETURNS text LANGUAGE sql AS $$
	SELECT outcome || coalesce(' ' || code, '')
	FROM wp_core_deposit(p_ref, p_account, p_fen, p_booking, 'Demo Owner', tap.owner())
$$;

-- A sheet line as sheetlines.c sends it.
CREATE TYPE tap.line AS (e2e text, idn text, name text, card text, bank text, amount bigint,
	kind text, month date, pre_code text, pre_text text);

-- Line E2E paying rostered worker K (their own name, card and bank).
CREATE FUNCTION tap.l(p_e2e text, p_k int, p_amount bigint, p_kind text DEFAULT 'WAGE',
	p_month date DEFAULT '2026-10-01')
RETURNS tap.line LANGUAGE sql STABLE AS $$
	SELECT ROW(p_e2e, w.idn, w.name, w.card, w.bank, p_amount, p_kind, p_month, NULL, NULL)::tap.line
	FROM tap.worker w WHERE w.k = p_k
$$;

-- Any line, field by field (a name, card or bank not the roster's; a
-- pre_code of the daemon's own checks).
CREATE FUNCTION tap.lx(p_e2e text, p_idn text, p_name text, p_card text, p_bank text,
	p_amount bigint, p_pre_code text DEFAULT NULL, p_pre_text text DEFAULT NULL)
RETURNS tap.line LANGUAGE sql IMMUTABLE AS $$
	SELECT ROW(p_e2e, p_idn, p_name, p_card, p_bank, p_amount, 'WAGE', date '2026-10-01',
		p_pre_code, p_pre_text)::tap.line
$$;

-- The daemon's clock the sheets are submitted at (sheetapi.c passes
-- clock.c's): China time 2026-11-05, so the current month is 2026-11 and
-- the fixtures' 2026-10 sheets, confirmed 2026-10-31, are in the past.
CREATE FUNCTION tap.now() RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
	SELECT timestamptz '2026-11-05 10:00+08'
$$;

-- Submits a sheet in one call, as sheetapi.c does: NbOfTxs and CtrlSum
-- are the lines' (what the reader holds them to), the sheet's month is
-- the first line's, the digest the MsgId's unless given; at the daemon's
-- clock p_now, every line confirmed by its worker at p_at.
CREATE FUNCTION tap.submit(p_msg text, p_lines tap.line[], p_sub text DEFAULT tap.sub1(),
	p_contractor text DEFAULT tap.gc(), p_account text DEFAULT tap.acc(),
	p_digest bytea DEFAULT NULL, p_now timestamptz DEFAULT tap.now(),
	p_at timestamptz DEFAULT '2026-10-31 12:00+08')
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE sql AS $$
	SELECT s.* FROM (SELECT
		array_agg(l.e2e ORDER BY o) e2e, array_agg(l.amount ORDER BY o) amount,
		array_agg(l.name ORDER BY o) nm, array_agg(l.idn ORDER BY o) idn,
		array_agg(l.card ORDER BY o) card, array_agg(l.bank ORDER BY o) bank,
		array_agg(l.kind ORDER BY o) kind, array_agg(l.month ORDER BY o) lm,
		array_agg(l.amount ORDER BY o) gross, array_agg(22 ORDER BY o) days,
		array_agg(p_at ORDER BY o) at,
		array_agg('SIGN'::text ORDER BY o) meth, array_agg('R-' || l.e2e ORDER BY o) ref,
		array_agg(l.pre_code ORDER BY o) pc, array_agg(l.pre_text ORDER BY o) pt,
		count(*)::int n, sum(l.amount)::bigint total, (array_agg(l.month ORDER BY o))[1] AS month
	      FROM unnest(p_lines) WITH ORDINALITY AS l(e2e, idn, name, card, bank, amount, kind,
		month, pre_code, pre_text, o)) a,
	wp_sheet_submit(p_contractor, p_msg, coalesce(p_digest, sha256(convert_to(p_msg, 'UTF8'))),
		p_account, p_sub, a.month, a.n, a.total, a.e2e, a.amount, a.nm, a.idn, a.card, a.bank,
		a.kind, a.lm, a.gross, a.days, a.at, a.meth, a.ref, a.pc, a.pt, p_now) s
$$;

-- The first row of a submission: "OUTCOME STATE" (or "OUTCOME CODE" when refused whole).
CREATE FUNCTION tap.decide(p_msg text, p_lines tap.line[], p_sub text DEFAULT tap.sub1(),
	p_contractor text DEFAULT tap.gc(), p_account text DEFAULT tap.acc(),
	p_digest bytea DEFAULT NULL, p_now timestamptz DEFAULT tap.now(),
	p_at timestamptz DEFAULT '2026-10-31 12:00+08')
RETURNS text LANGUAGE sql AS $$
	SELECT s.outcome || ' ' || coalesce(s.state, s.code, '-')
	FROM tap.submit(p_msg, p_lines, p_sub, p_contractor, p_account, p_digest, p_now, p_at) s
	WHERE s.kind = 'S'
$$;

-- The three steps of a sheet read and decided together (sheetapi.c on a
-- session): the opening's "OUTCOME" and sheet id, a batch of lines from
-- line FIRST, and the close's first row "OUTCOME STATE".
CREATE FUNCTION tap.open(p_msg text, p_declared bigint, p_sub text DEFAULT tap.sub1())
RETURNS bigint LANGUAGE sql AS $$
	SELECT sheet_id FROM wp_sheet_open(tap.gc(), p_msg, tap.acc(), p_sub, p_declared, tap.now())
$$;
CREATE FUNCTION tap.lines(p_sheet bigint, p_first int, p_lines tap.line[]) RETURNS int
LANGUAGE sql AS $$
	SELECT wp_sheet_lines(p_sheet, p_first,
		array_agg(l.e2e ORDER BY o), array_agg(l.amount ORDER BY o), array_agg(l.name ORDER BY o),
		array_agg(l.idn ORDER BY o), array_agg(l.card ORDER BY o), array_agg(l.bank ORDER BY o),
		array_agg(l.kind ORDER BY o), array_agg(l.month ORDER BY o), array_agg(l.amount ORDER BY o),
		array_agg(22 ORDER BY o), array_agg(timestamptz '2026-10-31 12:00+08' ORDER BY o),
		array_agg('SIGN'::text ORDER BY o), array_agg('R-' || l.e2e ORDER BY o),
		array_agg(l.pre_code ORDER BY o), array_agg(l.pre_text ORDER BY o))
	FROM unnest(p_lines) WITH ORDINALITY AS l(e2e, idn, name, card, bank, amount, kind,
		month, pre_code, pre_text, o)
$$;
CREATE FUNCTION tap.close(p_sheet bigint, p_month date, p_nb int, p_ctrl_sum bigint)
RETURNS text LANGUAGE sql AS $$
	SELECT c.outcome || ' ' || c.state
	FROM wp_sheet_close(p_sheet, sha256(convert_to(p_sheet::text, 'UTF8')), p_month, p_nb,
		p_ctrl_sum) c WHERE c.kind = 'S'
$$;

CREATE FUNCTION tap.state(p_msg text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT state FROM sheet WHERE msg_id = p_msg
$$;
-- Each line's decision in order: 'ok' or its reason code.
CREATE FUNCTION tap.codes(p_msg text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(coalesce(l.reason_code, 'ok'), ',' ORDER BY l.seq)
	FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = p_msg
$$;
-- The sheet's WAGE transfers: "COUNT TOTAL".
CREATE FUNCTION tap.paid(p_msg text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT count(t.id) || ' ' || coalesce(sum(t.amount), 0)
	FROM sheet s LEFT JOIN transfer t ON t.sheet_id = s.id AND t.reason = 'WAGE'
	WHERE s.msg_id = p_msg
$$;
-- Alerts of a kind about one MsgId (or core reference).
CREATE FUNCTION tap.alerts(p_kind text, p_msg text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM alert WHERE kind = p_kind AND msg_id = p_msg
$$;
-- Audit records of an action in an account's chain.
CREATE FUNCTION tap.audits(p_action text, p_number text DEFAULT tap.acc()) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM audit WHERE chain = wp_account_chain(p_number) AND action = p_action
$$;

-- Operators for four eyes: returns the id of a new operator NAME with ROLE.
CREATE FUNCTION tap.operator(p_name text, p_role text) RETURNS bigint LANGUAGE sql AS $$
	INSERT INTO operator (name, role, password_hash) VALUES (p_name, p_role, 'not-a-hash')
	RETURNING id
$$;

-- --- the ledger invariants ------------------------------------------------------
-- Six assertions, after every scenario (tests/integration/lib.sh's
-- ledger_exact and t0430's chain check, written once):
--  1. money is neither made nor lost: the dedicated balances on their rows
--     plus the clearing and attached accounts' balances derived from their
--     transfers sum to zero;
--  2. every dedicated balance equals its credits less its debits;
--  3. every dedicated account's earmark equals what is left of its returns;
--  4. a PAID sheet has exactly one WAGE transfer per accepted line, of its
--     amount, and no other; a sheet not PAID has none;
--  5. no worker is paid WAGE twice for a month on a project;
--  6. every audit chain verifies.
CREATE FUNCTION tap.invariants(p_when text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN NEXT is((SELECT sum(CASE WHEN a.kind = 'DEDICATED' THEN a.balance
		ELSE coalesce((SELECT sum(amount) FROM transfer WHERE credit_account = a.id), 0)
		   - coalesce((SELECT sum(amount) FROM transfer WHERE debit_account = a.id), 0) END)
		FROM account a), 0::numeric, p_when || ': the ledger sums to zero');
	RETURN NEXT is((SELECT count(*) FROM account a WHERE a.kind = 'DEDICATED' AND a.balance <>
		coalesce((SELECT sum(amount) FROM transfer WHERE credit_account = a.id), 0)
		- coalesce((SELECT sum(amount) FROM transfer WHERE debit_account = a.id), 0)), 0::bigint,
		p_when || ': every dedicated balance equals its transfers');
	RETURN NEXT is((SELECT count(*) FROM account a WHERE a.kind = 'DEDICATED' AND a.earmarked <>
		coalesce((SELECT sum(e.remaining) FROM line_earmark e WHERE e.account_id = a.id), 0)),
		0::bigint, p_when || ': every earmark equals what is left of its returns');
	RETURN NEXT is((SELECT count(*) FROM sheet s JOIN sheet_line l ON l.sheet_id = s.id
		FULL JOIN (SELECT * FROM transfer WHERE reason = 'WAGE') t
		  ON t.sheet_id = l.sheet_id AND t.line_seq = l.seq
		WHERE (s.state = 'PAID' AND l.reason_code IS NULL) IS DISTINCT FROM (t.id IS NOT NULL)
		   OR t.amount <> l.amount OR t.debit_account <> s.account_id), 0::bigint,
		p_when || ': a paid sheet''s accepted lines and its WAGE transfers are one to one');
	RETURN NEXT is((SELECT count(*) FROM (SELECT l.project_id, l.id_number, l.month
		FROM transfer t JOIN sheet_line l ON l.sheet_id = t.sheet_id AND l.seq = t.line_seq
		WHERE t.reason = 'WAGE' AND l.kind = 'WAGE' GROUP BY 1, 2, 3 HAVING count(*) > 1) x),
		0::bigint, p_when || ': no worker is paid WAGE twice for a month');
	RETURN NEXT is((SELECT string_agg(chain, ' ') FROM wp_audit_verify_chains() WHERE NOT ok),
		NULL, p_when || ': every audit chain verifies');
END $$;

-- --- regulators and other regions ------------------------------------------------
-- The configured regulators as daemon/alerts.c's alerts_regulators_json()
-- passes them (t0300's): Zhengzhou's HRSS office (4101) and housing
-- authority (410183) cover the demo project (region 410183, housing);
-- Kaifeng's HRSS office (4102) and Henan's transport authority (41) do not.
CREATE FUNCTION tap.regs() RETURNS json LANGUAGE sql IMMUTABLE AS $$
	SELECT '[{"name":"zz-hrss","region":"4101","authority":"hrss"},
		{"name":"zz-housing","region":"410183","authority":"housing"},
		{"name":"kf-hrss","region":"4102","authority":"hrss"},
		{"name":"ha-transport","region":"41","authority":"transport"}]'::json
$$;

-- A project like the demo one but in another region and industry (opened
-- as tap.open_project does).
CREATE FUNCTION tap.open_project_in(p_code text, p_account text, p_region text, p_industry text)
RETURNS bigint LANGUAGE sql AS $$
	SELECT wp_project_open(tap.project_payload(p_code, p_account, tap.gc())
		|| jsonb_build_object('region', p_region, 'industry', p_industry), 'operator:tap')
$$;

-- payment orders (025) -------------------------------------------------------------
-- The payment order of a sheet: "LINES TOTAL" of its one order (NULL when
-- it has none), as payment_order_line lists it and payment_order counts it.
CREATE FUNCTION tap.order(p_msg text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT (SELECT count(*) FROM payment_order_line l WHERE l.order_id = o.id) || ' '
		|| (SELECT sum(l.amount) FROM payment_order_line l WHERE l.order_id = o.id)
		|| CASE WHEN o.nb_of_txs = (SELECT count(*) FROM payment_order_line l
			WHERE l.order_id = o.id) THEN '' ELSE ' (NbOfTxs differs)' END
	FROM sheet s JOIN payment_order o ON o.sheet_id = s.id WHERE s.msg_id = p_msg
$$;
-- The order's MsgId of a sheet, and a line's InstrId by EndToEndId.
CREATE FUNCTION tap.order_msg(p_msg text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT o.msg_id FROM sheet s JOIN payment_order o ON o.sheet_id = s.id WHERE s.msg_id = p_msg
$$;
CREATE FUNCTION tap.instr(p_msg text, p_e2e text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT l.instr_id FROM sheet s JOIN payment_order o ON o.sheet_id = s.id
	JOIN payment_order_line l ON l.order_id = o.id
	WHERE s.msg_id = p_msg AND l.end_to_end_id = p_e2e
$$;
-- A pain.002 from the core as daemon/core.c passes it: "OUTCOME[ CODE]".
CREATE FUNCTION tap.settle(p_order text, p_lines json, p_group text DEFAULT 'PART',
	p_group_reason text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
	SELECT outcome || coalesce(' ' || code, '')
	FROM wp_settlement_apply(p_order, p_group, p_group_reason, p_lines)
$$;
-- One status: {instr, e2e, sts, reason}.
CREATE FUNCTION tap.st(p_instr text, p_e2e text, p_sts text, p_reason text DEFAULT NULL)
RETURNS json LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('instr', p_instr, 'e2e', p_e2e, 'sts', p_sts, 'reason', p_reason)
$$;
-- A line's settlement: "STATUS[ REASON]", or NULL while it has none.
CREATE FUNCTION tap.settled(p_msg text, p_e2e text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT l.status || coalesce(' ' || l.reason, '') FROM sheet s
	JOIN payment_order o ON o.sheet_id = s.id JOIN payment_order_line l ON l.order_id = o.id
	WHERE s.msg_id = p_msg AND l.end_to_end_id = p_e2e
$$;

-- legal orders (021) ---------------------------------------------------------------
-- A legal order against the demo account as core.c sends it (Authority the
-- court of Xinzheng, OrderNo "(2026)豫0183执" NO "号"), judged at the pinned
-- time 2026-10-20 10:00 China time unless given: "OUTCOME CODE" ("-" when
-- there is no code).
CREATE FUNCTION tap.order(p_ref text, p_no text, p_kind text, p_fen bigint,
	p_reason text DEFAULT 'WAGES', p_account text DEFAULT tap.acc(),
	p_now timestamptz DEFAULT '2026-10-20 10:00+08')
RETURNS text LANGUAGE sql AS $$
	SELECT outcome || ' ' || coalesce(code, '-')
	FROM wp_core_legal_order(p_ref, 'Court of Xinzheng', '(2026)豫0183执' || p_no || '号', p_kind,
		p_account, p_fen, p_reason, '', p_now)
$$;
-- What an order did: "ATTACHED UNFROZEN" (what it took or froze, and what
-- of its OrderNo's freeze it lifted or took).
CREATE FUNCTION tap.order_did(p_ref text) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT attached || ' ' || unfrozen FROM legal_order WHERE ref = p_ref);
END $$;
-- The wages owed of the demo account at a time: "HELD PLANNED EARMARKED
-- ARREARS FROZEN OWED".
-- (plpgsql, bound when called: these files load on a schema before 021 too)
CREATE FUNCTION tap.owed(p_now timestamptz DEFAULT '2026-10-20 10:00+08') RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT held || ' ' || planned || ' ' || earmarked || ' ' || arrears || ' ' || frozen
		|| ' ' || owed FROM wp_wages_owed(tap.account_id(), p_now));
END $$;
-- The money moved to the ATTACHED account by one order: "COUNT TOTAL".
CREATE FUNCTION tap.attachment(p_ref text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT count(*) || ' ' || coalesce(sum(amount), 0) FROM transfer
	WHERE reason = 'ATTACHMENT' AND reference = p_ref
	  AND debit_account = tap.account_id()
	  AND credit_account = (SELECT id FROM account WHERE kind = 'ATTACHED')
$$;

-- --- months and cancel (023) ----------------------------------------------------
-- A held sheet withdrawn as sheetapi.c asks (POST /v1/sheets/{MsgId}/cancel):
-- the first row of wp_sheet_cancel, "OUTCOME STATE" ('-' for none), or
-- 'NONE' when there is no row (404).
CREATE FUNCTION tap.cancel(p_msg text, p_contractor text DEFAULT tap.gc()) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce((SELECT c.outcome || ' ' || coalesce(c.state, '-')
		FROM wp_sheet_cancel(p_contractor, p_msg, 'contractor:' || p_contractor) c
		WHERE c.kind = 'S'), 'NONE')
$$;
-- A line's reason text, by MsgId and EndToEndId.
CREATE FUNCTION tap.reason(p_msg text, p_e2e text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT l.reason_text FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id
	WHERE s.msg_id = p_msg AND l.end_to_end_id = p_e2e
$$;

-- owner deposits and roster history (024) -------------------------------------

-- A top-up by someone who is not the owner (by default the general
-- contractor), as one camt.054 credit entry: its outcome. NULL payer: an
-- entry that names no payer's credit code.
CREATE FUNCTION tap.topup(p_ref text, p_fen bigint, p_booking date DEFAULT '2026-10-06',
	p_payer text DEFAULT tap.gc(), p_name text DEFAULT 'Demo Contractor')
RETURNS text LANGUAGE sql AS $$
	SELECT outcome || coalesce(' ' || code, '')
	FROM wp_core_deposit(p_ref, tap.acc(), p_fen, p_booking, p_name, p_payer)
$$;

-- The day-based rules at p_now with no regulator configured: alerts raised.
CREATE FUNCTION tap.rules(p_now timestamptz) RETURNS int LANGUAGE sql AS $$
	SELECT wp_rules_run(p_now, '[]'::json)
$$;

-- Fresh Luhn-valid cards nobody holds (wpids.py card 61, 62, 63).
CREATE FUNCTION tap.card(p_n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT (ARRAY['6217000000612707913', '6222020000622707743', '6216610000632707574'])[p_n]
$$;

-- Worker K's entry uploaded again by the general contractor with this card,
-- bank and leaving date, sent with a certificate (subject, fingerprint), as
-- rosterapi.c sends it: the receipt's "OUTCOME ACCEPTED".
CREATE FUNCTION tap.reupload(p_k int, p_card text, p_bank text, p_left date DEFAULT NULL,
	p_subject text DEFAULT 'CN=gc-roster,serialNumber=914101020507452466,O=Demo GC',
	p_cert text DEFAULT 'sha256:' || repeat('ab', 32))
RETURNS text LANGUAGE sql AS $$
	SELECT u.outcome || ' ' || u.message FROM wp_roster_upsert(tap.gc(), 'XM-TAP-0001', tap.subs_json(),
		(SELECT json_build_array(json_build_object('idn', w.idn, 'name', w.name,
			'employer', w.employer, 'card', p_card, 'bank', p_bank, 'signed', w.signed,
			'entered', w.entered, 'left', p_left)) FROM tap.worker w WHERE w.k = p_k),
		p_subject, p_cert) u
	WHERE u.kind = 'S'
$$;

-- Worker K's versions on the demo project: "VERSION CARD-LAST-4" in order.
CREATE FUNCTION tap.versions(p_k int) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(v.version || ' ' || right(v.card, 4), ', ' ORDER BY v.version)
	FROM roster_version v WHERE v.id_number = (tap.w(p_k)).idn
$$;

-- --- manual movements and closing (022) -------------------------------------------
-- The console's four eyes as consoleapi.c calls them: maker1 proposes,
-- checker1 decides, at the daemon's clock p_now (never today's date).
CREATE FUNCTION tap.four_eyes() RETURNS void LANGUAGE sql AS $$
	SELECT tap.operator('maker1', 'maker'), tap.operator('checker1', 'checker')
$$;
CREATE FUNCTION tap.op(p_name text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM operator WHERE name = p_name
$$;
-- maker1's proposal: the approval id, or the refusal.
CREATE FUNCTION tap.propose(p_kind text, p_payload jsonb, p_now timestamptz) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(r.approval::text, r.refusal)
	FROM wp_console_propose(p_kind, p_payload, tap.op('maker1'), p_now) r
$$;
-- An operator's decision on an approval: its state.
CREATE FUNCTION tap.decide_as(p_who text, p_id text, p_now timestamptz,
	p_decision text DEFAULT 'approve')
RETURNS text LANGUAGE sql AS $$
	SELECT d.state FROM wp_console_decide(p_id::bigint, tap.op(p_who), p_decision, p_now) d
$$;
-- Proposed by maker1 and approved by checker1 at p_now: the decided state, or
-- the refusal of the proposal.
CREATE FUNCTION tap.four_eyed(p_kind text, p_payload jsonb, p_now timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v	text := tap.propose(p_kind, p_payload, p_now);
BEGIN
	IF v !~ '^[0-9]+$' THEN
		RETURN v;
	END IF;
	RETURN tap.decide_as('checker1', v, p_now);
END $$;
-- The payload of a deposit's return as consoleapi.c sends it (amount optional).
CREATE FUNCTION tap.return_payload(p_ref text, p_fen bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object('deposit', p_ref, 'amount_fen', p_fen,
		'amount', wp_yuan(p_fen), 'reason', 'paid in error, returned to the owner'))
$$;
-- Why a movement (its payload as proposed) may not be made at p_now, or NULL.
CREATE FUNCTION tap.move_refusal(p_payload jsonb, p_now timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT wp_console_move_refusal(wp_console_move_payload(p_payload), p_now)
$$;
-- The completion of a project as consoleapi.c proposes it.
CREATE FUNCTION tap.complete_payload(p_code text, p_on text, p_days int DEFAULT 30) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('code', p_code, 'completed_on', p_on, 'notice_days', p_days,
		'reason', 'works complete, accepted')
$$;
-- Why a project's account may not close at p_now, or NULL.
CREATE FUNCTION tap.close_refusal(p_code text, p_now timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT wp_console_close_refusal((SELECT id FROM project WHERE code = p_code), p_now)
$$;
-- Alerts of a kind about a project: their details, oldest first.
CREATE FUNCTION tap.alert_details(p_kind text, p_code text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(a.detail, ' | ' ORDER BY a.raised_at, a.detail) FROM alert a
	JOIN project p ON p.id = a.project_id WHERE a.kind = p_kind AND p.code = p_code
$$;
-- Closes a project's empty account at p_now the one way there is: its
-- completion 40 days before (a public notice of 30), then the close, each
-- proposed and approved with four eyes (operators tap-maker, tap-checker).
-- Returns the two decisions' states.
CREATE FUNCTION tap.close_account(p_code text, p_now timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_m	bigint;
	v_c	bigint;
	v_a	bigint;
	v_b	bigint;
BEGIN
	SELECT id INTO v_m FROM operator WHERE name = 'tap-maker';
	IF NOT FOUND THEN
		v_m := tap.operator('tap-maker', 'maker');
		v_c := tap.operator('tap-checker', 'checker');
	END IF;
	SELECT id INTO STRICT v_c FROM operator WHERE name = 'tap-checker';
	SELECT approval INTO STRICT v_a FROM wp_console_propose('COMPLETE_PROJECT',
		tap.complete_payload(p_code, (wp_cst(p_now)::date - 40)::text), v_m, p_now);
	PERFORM wp_console_decide(v_a, v_c, 'approve', p_now);
	SELECT approval INTO STRICT v_b FROM wp_console_propose('CLOSE_ACCOUNT',
		jsonb_build_object('code', p_code), v_m, p_now);
	RETURN (SELECT state FROM approval WHERE id = v_a) || ' '
		|| (SELECT d.state FROM wp_console_decide(v_b, v_c, 'approve', p_now) d);
END $$;

-- settlement statuses (026) -----------------------------------------------------------
-- GET /v1/sheets/{MsgId}'s rows after the summary, as daemon/report.c reads
-- them: "KIND OUTCOME E2E CODE FIRST-WORD-OF-MESSAGE", ' | '-separated (L:
-- refused, T: a line's settlement, G: the group credited).
CREATE FUNCTION tap.status_rows(p_msg text, p_contractor text DEFAULT tap.gc()) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT string_agg(concat_ws(' ', r.kind, r.outcome, r.end_to_end_id, nullif(r.code, ''),
		split_part(r.message, ' ', 1)), ' | ')
	FROM wp_sheet_status(p_contractor, p_msg) r WHERE r.kind <> 'S'
$$;
-- The voucher's lines: "KIND E2E MARK AMOUNT", ' | '-separated.
CREATE FUNCTION tap.voucher_marks(p_msg text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(concat_ws(' ', v.kind, v.f1, v.f5, v.amount), ' | ')
	FROM wp_voucher(tap.gc(), p_msg) v WHERE v.kind <> 'S'
$$;

-- --- reconciliation (027) ------------------------------------------------------
-- The day the ledger's transfers made now are booked on (China time).
CREATE FUNCTION tap.day0() RETURNS date LANGUAGE sql STABLE AS $$
	SELECT wp_cst(now())::date
$$;
-- One entry of the core's statement as daemon/core.c passes it.
CREATE FUNCTION tap.se(p_ref text, p_credit boolean, p_fen bigint, p_e2e text DEFAULT NULL)
RETURNS json LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('ref', p_ref, 'credit', p_credit, 'amount', p_fen,
		'svcr', 'CORE-' || p_ref, 'e2e', coalesce(p_e2e, ''), 'booked', '')
$$;
-- The core's end-of-day statement (MsgId 'M-' || Stmt/Id): its outcome and code.
CREATE FUNCTION tap.core_stmt(p_id text, p_opening bigint, p_closing bigint, p_entries json,
	p_day date DEFAULT NULL, p_account text DEFAULT tap.acc())
RETURNS text LANGUAGE sql AS $$
	SELECT outcome || coalesce(' ' || code, '')
	FROM wp_core_statement('M-' || p_id, p_id, p_account, coalesce(p_day, tap.day0()),
		p_opening, p_closing, p_entries)
$$;
-- A recorded statement: its outcome, the core's and the ledger's closing, in flight.
CREATE FUNCTION tap.recon(p_id text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT outcome || ' ' || closing || ' ' || ledger_closing || ' ' || in_flight
	FROM core_statement WHERE stmt_id = p_id
$$;
-- The entries in question of a recorded statement.
CREATE FUNCTION tap.breaks(p_id text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(b.problem || ' ' || b.ref || ' ' || coalesce(b.core_amount::text, '-')
		|| ' ' || coalesce(b.ledger_amount::text, '-'), ', ' ORDER BY b.problem, b.ref)
	FROM core_statement_break b JOIN core_statement s ON s.id = b.statement_id
	WHERE s.stmt_id = p_id
$$;
-- The core takes a paid sheet's order (a 2xx to its delivery).
CREATE FUNCTION tap.take(p_msg text) RETURNS boolean LANGUAGE sql AS $$
	SELECT wp_payorder_taken(ARRAY[(SELECT o.id FROM payment_order o JOIN sheet s ON s.id = o.sheet_id
		WHERE s.msg_id = p_msg)], ARRAY[202], ARRAY[now()]) = 1
$$;

-- platform feed (029) --------------------------------------------------------------
-- How many feed events of a kind were written.
CREATE FUNCTION tap.ev(p_kind text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM platform_event WHERE kind = p_kind
$$;
-- A platform's claim as daemon/platform.c makes it, its fields as jsonb;
-- lease 0 unless given, so that a test may claim again at once.
CREATE FUNCTION tap.claim(p_name text, p_region text, p_max int, p_lease int DEFAULT 0)
RETURNS TABLE (seq bigint, id text, kind text, at text, f jsonb) LANGUAGE sql AS $$
	SELECT c.seq, c.id, c.kind, c.at, c.fields::jsonb
	FROM wp_platform_claim(p_name, p_region, p_max, p_lease) c
$$;
-- A 2xx to the platform's latest claim, up to p_last: the acknowledged seq.
CREATE FUNCTION tap.ack(p_name text, p_last bigint) RETURNS bigint LANGUAGE sql AS $$
	SELECT wp_platform_acked(p_name, (SELECT claim_no FROM platform_feed WHERE name = p_name),
		p_last, 200)
$$;

-- --- the wage guarantee (030) ------------------------------------------------------
-- A guarantee account's proposal as guaranteeapi.c sends it: required from
-- the contract amount and the rate (percent), top-up period 30 days.
CREATE FUNCTION tap.g_account(p_code text, p_account text, p_contract bigint, p_rate text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('code', p_code, 'kind', 'ACCOUNT', 'account', p_account,
		'contract_amount_fen', p_contract, 'contract_amount', wp_yuan(p_contract),
		'rate', p_rate, 'topup_days', 30)
$$;
-- A guarantee letter's proposal.
CREATE FUNCTION tap.g_letter(p_code text, p_number text, p_fen bigint, p_from text, p_to text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('code', p_code, 'kind', 'LETTER', 'issuer', 'Test Issuing Bank',
		'number', p_number, 'amount_fen', p_fen, 'amount', wp_yuan(p_fen),
		'valid_from', p_from, 'valid_to', p_to, 'topup_days', 30)
$$;
-- A draw's proposal: lines of (worker K, fen, 'YYYY-MM'), or a raw ID number
-- when K is 0 (p_idn).
CREATE FUNCTION tap.g_draw(p_code text, p_decision text, p_ks int[], p_fens bigint[],
	p_months text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('code', p_code, 'decision_no', p_decision, 'lines',
		(SELECT jsonb_agg(jsonb_build_object('id_number', w.idn, 'amount_fen', x.fen,
			'amount', wp_yuan(x.fen), 'month', x.month) ORDER BY x.o)
		 FROM unnest(p_ks, p_fens, p_months) WITH ORDINALITY AS x(k, fen, month, o)
		 JOIN tap.worker w ON w.k = x.k))
$$;
-- A deposit to a guarantee account (the contractor paying in), as the core
-- feed books it: its outcome.
CREATE FUNCTION tap.g_deposit(p_ref text, p_fen bigint, p_account text) RETURNS text
LANGUAGE sql AS $$
	SELECT outcome || coalesce(' ' || code, '')
	FROM wp_core_deposit(p_ref, p_account, p_fen, '2026-11-05', 'Contractor', tap.gc())
$$;
-- Worker K's card.
CREATE FUNCTION tap.card_of(p_k int) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT card FROM tap.worker WHERE k = p_k
$$;

-- --- operators' second factor (031) ----------------------------------------------
-- A sealed TOTP secret as daemon/totp.c makes one: 49 bytes (key id 1,
-- nonce, ciphertext, tag); the database never opens it, so any 49 bytes do.
CREATE FUNCTION tap.sealed(p_seed text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT '\x01'::bytea || substr(sha256(convert_to(p_seed, 'UTF8')) || sha256(convert_to(p_seed || '+', 'UTF8')), 1, 48)
$$;
-- An operator as --add-operator stores one (wp_operator_add): its id.
CREATE FUNCTION tap.enrolled(p_name text, p_role text) RETURNS bigint LANGUAGE sql AS $$
	SELECT wp_operator_add(p_name, p_role, 'not-a-hash', tap.sealed(p_name))
$$;
-- A sign-in as daemon/session.c completes it: the role, or NULL (refused).
CREATE FUNCTION tap.signin(p_name text, p_step bigint, p_secret bytea DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
	SELECT wp_session_open(sha256(convert_to(p_name || p_step || random(), 'UTF8')),
		(SELECT id FROM operator WHERE name = p_name),
		coalesce(p_secret, (SELECT totp_secret FROM operator WHERE name = p_name)),
		p_step, 1800, 28800)
$$;

-- --- personal data at rest (032) -----------------------------------------------
-- What daemon/piikeys.c and proto/pii.c send with [security] keys, stood in
-- for in SQL (the database never sees a key, and needs none: it compares):
-- a blind index is 18 base64url characters, a deterministic function of the
-- field and the value; a sealed record is opaque bytes naming a key id; the
-- masks are ids_mask's and pii_mask_name's.
CREATE FUNCTION tap.ix(p_field text, p_value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT left(translate(encode(decode(md5(p_field || ':' || p_value), 'hex'), 'base64'),
		'+/', '-_'), 18)
$$;
CREATE FUNCTION tap.pii_sealed(p_value text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT '\x01a1b2c3d4'::bytea || decode(md5('nonce' || p_value) || md5(p_value), 'hex')
$$;
CREATE FUNCTION tap.mask(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT left(p, 4) || repeat('*', length(p) - 8) || right(p, 4)
$$;
CREATE FUNCTION tap.name_mask(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT left(p, 1) || repeat('*', length(p) - 1)
$$;
-- Roster entries as rosterapi.c sends them with keys.
CREATE FUNCTION tap.roster_sealed(p_ks int[], p_card text DEFAULT NULL) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('idn', tap.ix('idn', w.idn),
		'name', tap.ix('name', w.name), 'employer', w.employer,
		'card', tap.ix('card', coalesce(p_card, w.card)), 'bank', w.bank, 'signed', w.signed,
		'entered', w.entered, 'left', w.left_on, 'pre_code', NULL, 'pre_text', NULL,
		'pii', encode(tap.pii_sealed(w.idn), 'hex'), 'id_mask', tap.mask(w.idn),
		'card_mask', tap.mask(coalesce(p_card, w.card)), 'name_mask', tap.name_mask(w.name))
		ORDER BY w.k), '[]')
	FROM tap.worker w WHERE w.k = ANY (p_ks)
$$;
-- A sheet submitted as sheetapi.c does with keys: the lines' name, ID and
-- card as indexes, each line's sealed record and masks after the clock.
CREATE FUNCTION tap.submit_sealed(p_msg text, p_lines tap.line[])
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE sql AS $$
	SELECT s.* FROM (SELECT
		array_agg(l.e2e ORDER BY o) e2e, array_agg(l.amount ORDER BY o) amount,
		array_agg(tap.ix('name', l.name) ORDER BY o) nm, array_agg(tap.ix('idn', l.idn) ORDER BY o) idn,
		array_agg(tap.ix('card', l.card) ORDER BY o) card, array_agg(l.bank ORDER BY o) bank,
		array_agg(l.kind ORDER BY o) kind, array_agg(l.month ORDER BY o) lm,
		array_agg(22 ORDER BY o) days, array_agg('R-' || l.e2e ORDER BY o) ref,
		array_agg(tap.pii_sealed(l.idn) ORDER BY o) pii, array_agg(tap.mask(l.idn) ORDER BY o) im,
		array_agg(tap.mask(l.card) ORDER BY o) cm, array_agg(tap.name_mask(l.name) ORDER BY o) nmask,
		count(*)::int n, sum(l.amount)::bigint total, (array_agg(l.month ORDER BY o))[1] AS month
	      FROM unnest(p_lines) WITH ORDINALITY AS l(e2e, idn, name, card, bank, amount, kind,
		month, pre_code, pre_text, o)) a,
	wp_sheet_submit(tap.gc(), p_msg, sha256(convert_to(p_msg, 'UTF8')), tap.acc(), tap.sub1(),
		a.month, a.n, a.total, a.e2e, a.amount, a.nm, a.idn, a.card, a.bank, a.kind, a.lm,
		a.amount, a.days, array_fill(timestamptz '2026-10-31 12:00+08', ARRAY[a.n]),
		array_fill('SIGN'::text, ARRAY[a.n]), a.ref, array_fill(NULL::text, ARRAY[a.n]),
		array_fill(NULL::text, ARRAY[a.n]), tap.now(), a.pii, a.im, a.cm, a.nmask) s
$$;
