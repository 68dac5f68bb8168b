-- 011_audit_chains.sql: one audit hash chain per dedicated account instead
-- of one for the whole bank.
--
-- Before: every record, whoever appended it, locked the one row of
-- audit_head until its transaction committed, so every paid sheet of every
-- project queued on it (tests/bench/RESULTS.md: 4.1 ms per paid sheet at 8
-- clients, the realistic mix's wait). Now each record belongs to a chain:
-- - 'account:<number>': what happens to a dedicated account and its money
--   (opened, sheet.paid, deposit.booked, wage.returned, money.manual,
--   debit.refused, legal_order.*, closed), appended by the transaction that
--   holds the account's row, so the chain's head adds no wait of its own
--   and sheets of different accounts never wait on each other;
-- - 'global': everything else (sign-ins, proposals and decisions, roster
--   uploads, alert retries, operators added) and every record written
--   before this migration, kept as it was: same ids, same hashes.
--
-- Each chain is verified on its own: a record's prev_hash is the hash of the
-- record before it in its chain (by id; ids are taken under the chain head's
-- lock, so they increase in chain order), the first record's is
-- sha256(''), and its head row holds the newest record's hash and id.
-- Records of account chains also hash their chain's name, so a record moved
-- to another chain breaks; records of 'global' are hashed as before 011
-- (the name is implied), so the old records verify unchanged.
--
-- Lock order, everywhere: the dedicated account's row, then that account's
-- chain head (only a holder of the row locks it), then the 'global' head.
--
-- Replaces, from their newest definitions, every function that appends a
-- record about a dedicated account, only to name its chain (lines marked
-- "chain"): wp_sheet_pay, wp_core_deposit, wp_core_return, wp_core_debit,
-- wp_core_legal_order (006), wp_project_open (002), wp_console_close,
-- wp_console_move (005); and wp_audit_verify, wp_console_audit.

-- --- the chains --------------------------------------------------------------

-- The chain of a dedicated account's records.
CREATE FUNCTION wp_account_chain(p_number text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT 'account:' || p_number
$$;

-- Existing records stay where they were: in 'global', not rewritten (a
-- column with a constant default is added without touching the rows, so
-- the immutability trigger has nothing to refuse). New records name their
-- chain.
ALTER TABLE audit ADD COLUMN chain text NOT NULL DEFAULT 'global'
	CHECK (chain ~ '^[a-z]+(:[0-9A-Za-z._-]{1,64})?$');
ALTER TABLE audit ALTER COLUMN chain DROP DEFAULT;
CREATE INDEX audit_chain ON audit (chain, id);

-- One head per chain: the newest record's hash and id (NULL before the
-- first). The old single row becomes the head of 'global'.
ALTER TABLE audit_head ADD COLUMN chain text NOT NULL DEFAULT 'global',
	ADD COLUMN last_id bigint;
UPDATE audit_head SET last_id = (SELECT max(id) FROM audit);
ALTER TABLE audit_head DROP CONSTRAINT audit_head_pkey, DROP COLUMN one,
	ALTER COLUMN chain DROP DEFAULT, ADD PRIMARY KEY (chain),
	ADD CHECK (chain ~ '^[a-z]+(:[0-9A-Za-z._-]{1,64})?$');
-- every append updates its chain's head: room for HOT updates, as on account
ALTER TABLE audit_head SET (fillfactor = 70);

-- A record's hash: 002's for 'global', the chain's name added for any other.
CREATE FUNCTION wp_audit_hash(p_chain text, p_prev bytea, p_id bigint, p_at timestamptz,
	p_actor text, p_action text, p_object text, p_detail text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_chain = 'global'
		THEN wp_audit_hash(p_prev, p_id, p_at, p_actor, p_action, p_object, p_detail)
		ELSE sha256(p_prev || convert_to(concat_ws(E'\x1f', p_id::text,
			(extract(epoch FROM p_at) * 1000000)::bigint::text,
			p_actor, p_action, p_object, p_detail, p_chain), 'UTF8')) END
$$;

-- Appends one record to chain p_chain, chained to the chain's newest one.
-- Locks the chain's head until the transaction ends: for an account's
-- chain, call it holding the account's row (lock order above). A chain's
-- first record creates its head; two first records at once are safe: the
-- second INSERT waits for the first to commit and then does nothing.
CREATE FUNCTION wp_audit_append(p_chain text, p_actor text, p_action text, p_object text,
	p_detail text)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_prev	bytea;
	v_id	bigint;
	v_at	timestamptz := clock_timestamp();
	v_hash	bytea;
BEGIN
	SELECT hash INTO v_prev FROM audit_head WHERE chain = p_chain FOR UPDATE;
	IF NOT FOUND THEN
		INSERT INTO audit_head (chain, hash) VALUES (p_chain, sha256(''::bytea))
		ON CONFLICT (chain) DO NOTHING;
		SELECT hash INTO STRICT v_prev FROM audit_head WHERE chain = p_chain FOR UPDATE;
	END IF;
	v_id := nextval('audit_id_seq');
	v_hash := wp_audit_hash(p_chain, v_prev, v_id, v_at, p_actor, p_action, p_object, p_detail);
	INSERT INTO audit (id, chain, at, actor, action, object, detail, prev_hash, hash)
	VALUES (v_id, p_chain, v_at, p_actor, p_action, p_object, p_detail, v_prev, v_hash);
	UPDATE audit_head SET hash = v_hash, last_id = v_id WHERE chain = p_chain;
END $$;

-- 002's four-argument form, kept for what is about no account (the daemon's
-- sign-ins and --add-operator, proposals, decisions, roster uploads): the
-- 'global' chain.
CREATE OR REPLACE FUNCTION wp_audit_append(p_actor text, p_action text, p_object text, p_detail text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM wp_audit_append('global', p_actor, p_action, p_object, p_detail);
END $$;

-- Verifies each chain: one row per chain (every head, and every chain that
-- has records), ok, how many records, and the first broken record: the
-- lowest id whose prev_hash is not its predecessor's hash, whose hash is
-- not its own, or that its head does not vouch for (newer than the head's
-- last_id, or no head at all); else, if the head does not match the
-- newest record (the newest records were removed, or the head changed),
-- the head's last_id (the newest record it vouches for), or the chain's
-- newest record when the head has none. STABLE: one snapshot, so records
-- appended meanwhile are either wholly seen (record and head) or not.
CREATE FUNCTION wp_audit_verify_chains()
RETURNS TABLE (chain text, ok boolean, records bigint, first_broken bigint)
LANGUAGE sql STABLE AS $$
	WITH r AS (
		SELECT a.chain, a.id, a.hash,
			a.prev_hash IS DISTINCT FROM lag(a.hash, 1, sha256(''::bytea)) OVER w
			OR a.hash IS DISTINCT FROM wp_audit_hash(a.chain, a.prev_hash, a.id, a.at,
				a.actor, a.action, a.object, a.detail)
			OR h.last_id IS NULL OR a.id > h.last_id AS bad
		FROM audit a LEFT JOIN audit_head h ON h.chain = a.chain
		WINDOW w AS (PARTITION BY a.chain ORDER BY a.id)
	), c AS (
		SELECT r.chain, count(*) AS records, min(r.id) FILTER (WHERE r.bad) AS bad,
			max(r.id) AS last_id, (array_agg(r.hash ORDER BY r.id DESC))[1] AS last_hash
		FROM r GROUP BY r.chain
	), v AS (
		SELECT coalesce(c.chain, h.chain) AS chain, coalesce(c.records, 0) AS records,
			coalesce(c.bad, CASE WHEN h.hash IS DISTINCT FROM coalesce(c.last_hash, sha256(''::bytea))
			    OR h.last_id IS DISTINCT FROM c.last_id
			THEN coalesce(h.last_id, c.last_id, 0) END) AS first_broken
		FROM c FULL JOIN audit_head h ON h.chain = c.chain
	)
	SELECT v.chain, v.first_broken IS NULL, v.records::bigint, v.first_broken FROM v
	ORDER BY v.chain
$$;

-- 002's whole-trail check over every chain, as the console reads it:
-- ok when every chain is, all records, and the lowest first broken record
-- with its chain; also how many chains there are.
DROP FUNCTION wp_audit_verify();
CREATE FUNCTION wp_audit_verify(OUT ok boolean, OUT records bigint, OUT first_broken bigint,
	OUT chains bigint, OUT broken_chain text)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(bool_and(v.ok), true), coalesce(sum(v.records), 0)::bigint,
		min(v.first_broken), count(*),
		(array_agg(v.chain ORDER BY v.first_broken) FILTER (WHERE NOT v.ok))[1]
	FROM wp_audit_verify_chains() v
$$;

-- --- the callers that append about a dedicated account ------------------------

-- As 006; the record goes to the account's chain. 009's generic plan is
-- set again: CREATE OR REPLACE resets a function's settings.
CREATE OR REPLACE FUNCTION wp_sheet_pay(p_sheet bigint, p_account bigint, p_actor text)
RETURNS boolean LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
	v_out	bigint;
	v_total	bigint;
	v_msg	text;
	v_used	bigint;
	v_acc	record;
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
	SELECT a.earmarked, a.number INTO STRICT v_acc FROM account a WHERE a.id = p_account;	-- chain
	v_used := CASE WHEN v_acc.earmarked = 0
		THEN 0 ELSE wp_earmark_release(p_sheet) END;
	-- fails on the CHECK (balance >= 0, earmarked <= balance) rather than overdraw
	UPDATE account SET balance = balance - v_total, earmarked = earmarked - v_used
	WHERE id = p_account;
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), p_actor, 'sheet.paid',	-- chain
		'sheet:' || v_msg,
		'account ' || p_account || ' debited ' || v_total || ' fen'
		|| CASE WHEN v_used > 0 THEN ', ' || v_used || ' fen of it from earmarks' ELSE '' END);
	RETURN true;
END $$;

-- As 002: books one camt.054 credit entry. Replays of the same NtryRef
-- change nothing. The record goes to the account's chain.
CREATE OR REPLACE FUNCTION wp_core_deposit(p_ref text, p_account text, p_amount bigint,
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
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), 'core', 'deposit.booked',	-- chain
		'account:' || p_account,
		'entry ' || p_ref || ' credited ' || p_amount || ' fen');
	v_n := wp_release_held(v_acc.id, 'core');
	outcome := 'APPLIED';
	message := 'credited; ' || v_n || ' held sheet(s) paid';
END $$;

-- As 006; the record goes to the account's chain.
-- Books one returned wage payment (camt.054 entry with RtrInf): matched by
-- the original EndToEndId to an accepted line of a PAID sheet of this
-- account that has not come back yet. If several match (an EndToEndId is
-- unique only within its sheet), the line of the most recently paid sheet
-- is taken: a bank returns the latest payment first, and an older line with
-- the same EndToEndId stays matchable by a later return. The amount must be
-- the line's. The money goes back from CLEARING_OUT to the dedicated
-- account and is earmarked for the worker and month of the line.
-- Replays of the same NtryRef change nothing.
CREATE OR REPLACE FUNCTION wp_core_return(p_ref text, p_account text, p_amount bigint, p_booking date,
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
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), 'core', 'wage.returned',	-- chain
		'sheet:' || v_line.msg_id,
		'line ' || p_e2e || ' returned (' || coalesce(nullif(p_reason, ''), 'no reason') || '), entry '
		|| p_ref || ': ' || p_amount || ' fen back to account ' || p_account || ', earmarked for '
		|| to_char(v_line.month, 'YYYY-MM'));
	outcome := 'APPLIED';
	message := 'line ' || p_e2e || ' of ' || v_line.msg_id || ' returned; '
		|| wp_yuan(p_amount) || ' earmarked for the worker''s ' || to_char(v_line.month, 'YYYY-MM')
		|| ' (pay it as BACKPAY/' || to_char(v_line.month, 'YYYY-MM') || ')';
END $$;

-- As 006; a dedicated account's row is locked before its chain is
-- appended to, and the record goes to that chain ('global' when the account
-- is not a dedicated one).
-- Refuses, records and (for a dedicated account) raises MISUSE_ATTEMPT.
-- outcome is always REFUSED: AG01 (transaction forbidden on this type of
-- account), AC01 (not a dedicated account), or DU01 (the Ref was used for
-- another request). A replay of the same request gets the same answer and
-- raises nothing new.
CREATE OR REPLACE FUNCTION wp_core_debit(p_ref text, p_account text, p_amount bigint, p_beneficiary text,
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
	-- chain: the row first, as every writer of an account's chain
	SELECT * INTO v_acc FROM account WHERE number = p_account AND kind = 'DEDICATED' FOR UPDATE;
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
	PERFORM wp_audit_append(CASE WHEN v_acc.id IS NULL THEN 'global'	-- chain
		ELSE wp_account_chain(v_acc.number) END, 'core', 'debit.refused', 'account:' || p_account,
		'request ' || p_ref || ' of ' || p_amount || ' fen refused (' || code || ')');
END $$;

-- As 006; the record goes to the account's chain.
-- Decides a legal order. Reason OTHER: REFUSED (WP44). Reason WAGES: at most
-- the excess of the balance over the wages owed is attached; none: REFUSED
-- (WP45); part: APPLIED with code WP45. A SEIZE or DEDUCT moves what is
-- attached to the ATTACHED account; a FREEZE only records it (the account
-- can pay nothing but wages anyway, which is what a wage freeze protects).
-- Whatever is refused raises SEIZURE_REFUSED, and the answer carries the
-- account's legal status. Replays: the same answer (DUPLICATE for an
-- applied order); the same Ref for another order: REFUSED DU01.
CREATE OR REPLACE FUNCTION wp_core_legal_order(p_ref text, p_authority text, p_order_no text, p_kind text,
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
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), 'core',	-- chain
		'legal_order.' || lower(outcome), 'account:' || p_account,
		p_kind || ' ' || p_order_no || ' (' || p_reason || ') of ' || p_amount || ' fen: '
		|| v_attach || ' fen attached');
END $$;

-- As 002; the new account's chain starts with its opening.
-- Opens a project and its dedicated account (after a checker approved).
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

-- As 005; the account's chain ends with its closing.
-- Closes a project's dedicated account (approved CLOSE_ACCOUNT). The account
-- row is locked first, so no sheet or deposit slips in between the check and
-- the close. Raises SQLSTATE WP002 with the refusal.
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

-- As 005; the record goes to the chain of each dedicated side.
-- Moves money by hand (approved MANUAL_MOVEMENT): one MANUAL transfer
-- referenced by the approval, the dedicated balances changed with it, and,
-- if money came into a dedicated account, its held sheets released as a
-- deposit would. Raises SQLSTATE WP002 with the refusal.
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

-- --- the console ---------------------------------------------------------------

-- As 005, and each record's chain: the audit trail, newest first, 100
-- records before p_before (NULL: the newest). The hash is shown so that an
-- auditor can compare it with a copy.
CREATE OR REPLACE FUNCTION wp_console_audit(p_before bigint) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', x.id, 'chain', x.chain, 'at', x.at, 'actor', x.actor,
		'action', x.action, 'object', x.object, 'detail', x.detail,
		'hash', encode(x.hash, 'hex')) ORDER BY x.id DESC), '[]')
	FROM (SELECT * FROM audit WHERE p_before IS NULL OR id < p_before
	      ORDER BY id DESC LIMIT 100) x
$$;
