-- core.sql: what the bank's core tells wagepay, each call one transaction
-- under the account's row lock: deposits (which release held sheets),
-- returned wage payments (earmarked for the worker), debit requests (refused:
-- the account pays wages only, AG01 + MISUSE_ATTEMPT) and legal orders
-- (only for the project's wages, up to the balance less what other orders
-- keep frozen: WP44/WP45; UNFREEZE lifts a freeze, WP46).

-- The certificate that spoke for the core in this call, for its audit record:
-- '; certificate SUBJECT sha256:HEX' as daemon/core.c set it
-- (set_config('wagepay.peer', ..., true) in the same statement, so for that
-- transaction only), or '' when nothing set it (a call from psql or a test).
-- Called by wp_core_debit, wp_core_legal_order, wp_core_deposit and
-- wp_core_return.
CREATE OR REPLACE FUNCTION wp_core_peer_note()
RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT coalesce('; certificate ' || nullif(current_setting('wagepay.peer', true), ''), '')
$$;

-- Books one camt.054 notification, all or nothing: each entry a deposit
-- (wp_core_deposit) or, with RtrInf, a returned wage payment (wp_core_return).
-- An entry booked before as a return and sent again as a deposit is refused
-- (DU01). The first refused entry (AC01, AC04, DU01, WP41, WP42) refuses the
-- whole notification, nothing booked, with that entry's reason; else APPLIED
-- with counts and the held sheets each deposit paid, or DUPLICATE when every
-- entry was booked already (a replay changes nothing).
-- Locks each entry's dedicated account row FOR UPDATE through the functions it
-- calls. Called by daemon/core.c (POST /v1/core/notifications).
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
			ELSIF EXISTS (SELECT 1 FROM line_return WHERE entry_ref = e.ref)
			    OR EXISTS (SELECT 1 FROM guarantee_line_return WHERE entry_ref = e.ref) THEN
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

-- Decides a debit request from the core: always REFUSED. AG01 when the account
-- is a dedicated wage account or a wage guarantee account (030) (transaction forbidden on this type of account:
-- it pays wages and nothing else, 002 §(十一), 000 #14), recorded and raised as
-- MISUSE_ATTEMPT (000 #16); AC01 when it is not a dedicated account at this
-- bank; DU01 when the Ref was used for another request. A replay of the same
-- request gets the same answer and raises nothing new.
-- Locks the dedicated account's row FOR UPDATE before appending to its audit
-- chain ('global' when the account is not a dedicated one). Called by
-- daemon/core.c (POST /v1/core/debit-requests).
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
	SELECT * INTO v_acc FROM account WHERE number = p_account
	  AND kind IN ('DEDICATED', 'GUARANTEE') FOR UPDATE;
	IF NOT FOUND THEN
		code := 'AC01';
		message := 'account ' || p_account || ' is not a dedicated wage account at this bank';
	ELSE
		SELECT * INTO STRICT v_proj FROM project WHERE id = wp_account_project(v_acc.id);
		code := 'AG01';
		IF v_acc.kind = 'GUARANTEE' THEN
			message := 'refused: a wage guarantee account is used only for the project''s '
				|| 'workers'' wages, by HRSS''s decision (工资保证金, 003 三(五)); debit of '
				|| wp_yuan(p_amount) || ' for "' || left(p_purpose, 40)
				|| '" recorded and reported to the regulators';
		ELSE
			message := 'refused: a dedicated wage account pays wages only (农民工工资专用账户, '
				|| '002 §(十一)); debit of ' || wp_yuan(p_amount) || ' for "'
				|| left(p_purpose, 40) || '" recorded and reported to the regulators';
		END IF;
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
		'request ' || p_ref || ' of ' || p_amount || ' fen refused (' || code || ')'
		|| wp_core_peer_note());
END $$;

-- Decides a legal order against a dedicated account or a wage guarantee
-- account (030; the same rule, its own balance and freezes, the project's
-- wages owed) (003 三(五): its money may be frozen, seized or deducted only
-- to pay this project's workers).
--  - Reason other than WAGES (FREEZE, SEIZE or DEDUCT): REFUSED whole, WP44.
--  - Reason WAGES: the workers' own enforcement, applied up to what the
--    account holds less what other orders keep frozen and less the earmarked
--    returns (wages that came back, kept on the account for named workers of
--    this project; the ledger holds earmarked <= balance): avail = balance -
--    earmarked - wp_legal_frozen of every other OrderNo (a FREEZE: of every
--    OrderNo, its own too, so no money is frozen twice). It is not bound by
--    the rest of the wages owed (held sheets, plan, arrears: wp_wages_owed),
--    which bounds the other takers. A SEIZE or
--    DEDUCT moves what it takes to the ATTACHED account, taking first what a
--    freeze under its own OrderNo keeps (冻结后扣划; that freeze shrinks by
--    it, recorded in unfrozen). A FREEZE moves nothing: it reserves the
--    amount (attached) so that no manual movement (wp_wages_owed counts it)
--    and no other order may take it, while sheets paying the project's
--    workers still may (the balance stays; a freeze keeps at most what is on
--    the account). Above avail: APPLIED up to it with code WP45; nothing
--    available: REFUSED, WP45.
--  - UNFREEZE, any Reason: lifts up to Amount of what the freezes under the
--    same OrderNo on this account keep frozen (unfrozen), APPLIED; when they
--    keep nothing (no such freeze applied, or lifted or taken already):
--    REFUSED, WP46.
-- Every order against a project's account is reported to the regulators in
-- the same transaction: applied (also in part) LEGAL_ORDER_APPLIED (required
-- the Amount, shortfall the part not applied), refused SEIZURE_REFUSED
-- (shortfall the Amount). AC01 for an account that is not dedicated
-- (recorded, no alert: no project of ours). The answer carries the account's
-- legal status. Replays: the same answer (DUPLICATE for an applied order);
-- the same Ref for another order: REFUSED DU01. Locks the dedicated account's
-- row FOR UPDATE; every decided order goes to its audit chain. Called by
-- daemon/core.c (POST /v1/core/legal-orders).
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
	v_own		bigint;		-- what this OrderNo's freezes keep
	v_others	bigint;		-- what other OrderNos' freezes keep (<= balance)
	v_avail		bigint;
	v_attach	bigint := 0;
	v_unfrozen	bigint := 0;
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
	SELECT * INTO v_acc FROM account WHERE number = p_account
	  AND kind IN ('DEDICATED', 'GUARANTEE') FOR UPDATE;
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
	-- a guarantee account (030) is protected as its project's dedicated one:
	-- the wages owed are the dedicated account's, its frozen amounts its own
	SELECT * INTO STRICT v_proj FROM project WHERE id = wp_account_project(v_acc.id);
	SELECT * INTO STRICT v_owed FROM wp_wages_owed(v_proj.account_id, p_now);
	-- what this OrderNo's freezes keep, as ordered (not bounded by the balance)
	SELECT greatest(coalesce(sum(CASE WHEN o.kind = 'FREEZE' THEN o.attached ELSE 0 END)
		- sum(o.unfrozen), 0), 0) INTO v_own
	FROM legal_order o
	WHERE o.account_id = v_acc.id AND o.outcome = 'APPLIED' AND o.order_no = p_order_no;
	v_others := wp_legal_frozen(v_acc.id, p_order_no);
	v_avail := greatest(v_acc.balance - v_acc.earmarked - CASE WHEN p_kind = 'FREEZE'
		THEN wp_legal_frozen(v_acc.id, NULL) ELSE v_others END, 0);
	-- the CoreAck's message keeps 255 characters: the rule and what a wages
	-- order may take first, the wages owed after (whole in the record and the alert)
	v_status := CASE WHEN v_acc.kind = 'GUARANTEE' THEN 'wage guarantee'
		ELSE 'dedicated wage' END || ' account of project ' || v_proj.code
		|| ': only for its wages (003 三(五)); balance ' || wp_yuan(v_acc.balance)
		|| ', frozen by other orders ' || wp_yuan(v_others) || ', earmarked '
		|| wp_yuan(v_acc.earmarked) || ': a wages order may take '
		|| wp_yuan(greatest(v_acc.balance - v_acc.earmarked - v_others, 0))
		|| '; wages owed ' || wp_yuan(v_owed.owed) || ' (held ' || wp_yuan(v_owed.held)
		|| ', plan ' || wp_yuan(v_owed.planned) || ', earmarked ' || wp_yuan(v_owed.earmarked)
		|| ', arrears ' || wp_yuan(v_owed.arrears) || ', frozen ' || wp_yuan(v_owed.frozen)
		|| ' of which this order ' || wp_yuan(least(v_own, v_owed.frozen)) || ')';
	IF p_kind = 'UNFREEZE' THEN
		v_unfrozen := least(p_amount, v_own);
		IF v_unfrozen = 0 THEN
			outcome := 'REFUSED';
			code := 'WP46';
			message := 'UNFREEZE refused: no freeze under order ' || p_order_no
				|| ' keeps anything frozen on this account; ' || v_status;
		ELSE
			outcome := 'APPLIED';
			message := 'UNFREEZE applied: ' || wp_yuan(v_unfrozen) || ' of order ' || p_order_no
				|| ' no longer frozen; ' || v_status;
		END IF;
	ELSIF p_reason <> 'WAGES' THEN
		outcome := 'REFUSED';
		code := 'WP44';
		message := p_kind || ' refused: ' || v_status;
	ELSE
		v_attach := least(p_amount, v_avail);
		IF p_kind <> 'FREEZE' THEN
			v_unfrozen := least(v_attach, v_own);
		END IF;
		IF v_attach = 0 THEN
			outcome := 'REFUSED';
			code := 'WP45';
			message := p_kind || ' refused, nothing on the account that other orders do not keep frozen: '
				|| v_status;
		ELSE
			outcome := 'APPLIED';
			code := CASE WHEN v_attach < p_amount THEN 'WP45' END;
			message := p_kind || ' applied to ' || wp_yuan(v_attach) || ' of '
				|| wp_yuan(p_amount) || CASE WHEN v_unfrozen > 0 THEN ' (' || wp_yuan(v_unfrozen)
				|| ' of it frozen by this order before)' ELSE '' END || ': ' || v_status;
		END IF;
	END IF;
	INSERT INTO legal_order (ref, authority, order_no, kind, account, account_id, amount, reason,
		detail, outcome, code, attached, unfrozen, frozen, balance, owed, message)
	VALUES (p_ref, p_authority, p_order_no, p_kind, p_account, v_acc.id, p_amount, p_reason,
		nullif(p_detail, ''), outcome, code, v_attach, v_unfrozen, v_others, v_acc.balance,
		v_owed.owed, message);
	IF v_attach > 0 AND p_kind IN ('SEIZE', 'DEDUCT') THEN
		SELECT id INTO STRICT v_att FROM account WHERE kind = 'ATTACHED';
		INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
		VALUES (v_acc.id, v_att, v_attach, 'ATTACHMENT', p_ref);
		UPDATE account SET balance = balance - v_attach WHERE id = v_acc.id;
	END IF;
	IF outcome = 'APPLIED' THEN
		INSERT INTO alert (kind, project_id, balance, required, shortfall, msg_id, detail, dedup_key)
		VALUES ('LEGAL_ORDER_APPLIED', v_proj.id, v_acc.balance, p_amount,
			p_amount - greatest(v_attach, v_unfrozen), p_ref,
			p_kind || ' order ' || p_order_no || ' of ' || p_authority || ' (reason ' || p_reason
			|| ') for ' || wp_yuan(p_amount) || ': ' || CASE WHEN p_kind = 'UNFREEZE'
				THEN wp_yuan(v_unfrozen) || ' no longer frozen'
				WHEN p_kind = 'FREEZE' THEN wp_yuan(v_attach) || ' frozen'
				ELSE wp_yuan(v_attach) || ' moved to the court''s attachment account' END
			|| CASE WHEN greatest(v_attach, v_unfrozen) < p_amount THEN ', '
				|| wp_yuan(p_amount - greatest(v_attach, v_unfrozen)) || ' not applied' ELSE '' END
			|| '; ' || v_status || '; core reference ' || p_ref,
			'LEGAL_ORDER:' || p_ref)
		ON CONFLICT (dedup_key) DO NOTHING;
	ELSE
		INSERT INTO alert (kind, project_id, balance, required, shortfall, msg_id, detail, dedup_key)
		VALUES ('SEIZURE_REFUSED', v_proj.id, v_acc.balance, p_amount, p_amount, p_ref,
			p_kind || ' order ' || p_order_no || ' of ' || p_authority || ' (reason ' || p_reason
			|| ') for ' || wp_yuan(p_amount) || ' refused (' || code || '); ' || v_status
			|| '; core reference ' || p_ref,
			'SEIZURE:' || p_ref)
		ON CONFLICT (dedup_key) DO NOTHING;
	END IF;
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), 'core',	-- chain
		'legal_order.' || lower(outcome), 'account:' || p_account,
		p_kind || ' ' || p_order_no || ' (' || p_reason || ') of ' || p_amount || ' fen: '
		|| CASE WHEN p_kind = 'UNFREEZE' THEN v_unfrozen || ' fen unfrozen'
			WHEN p_kind = 'FREEZE' THEN v_attach || ' fen frozen'
			ELSE v_attach || ' fen attached' || CASE WHEN v_unfrozen > 0
				THEN ' (' || v_unfrozen || ' fen of its freeze)' ELSE '' END END
		|| wp_core_peer_note());
END $$;

-- What applied legal orders keep frozen on a dedicated account, in fen:
-- per OrderNo, its FREEZEs' attached less what its UNFREEZEs lifted and its
-- SEIZEs/DEDUCTs took of it (unfrozen), summed over every OrderNo but
-- p_except (NULL: every one), and at most the balance (sheets paying the
-- project's workers may spend frozen money; a freeze keeps what is left, and
-- what is credited later up to its amount, until lifted). Reads only
-- legal_order's immutable rows (index legal_order_applied); callers hold the
-- account's row. Called by wp_core_legal_order and wp_wages_owed.
CREATE OR REPLACE FUNCTION wp_legal_frozen(p_account bigint, p_except text)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT least(coalesce(sum(f.kept), 0), (SELECT a.balance FROM account a WHERE a.id = p_account))::bigint
	FROM (SELECT greatest(sum(CASE WHEN o.kind = 'FREEZE' THEN o.attached ELSE 0 END)
			- sum(o.unfrozen), 0) AS kept
	      FROM legal_order o
	      WHERE o.account_id = p_account AND o.outcome = 'APPLIED'
		AND (p_except IS NULL OR o.order_no <> p_except)
	      GROUP BY o.order_no) f
$$;

-- Books one camt.054 credit entry: a labour-cost deposit to a dedicated
-- account (a DEPOSIT transfer from CLEARING_IN), recorded in the account's
-- audit chain, then pays the held sheets it now covers (wp_release_held);
-- or a deposit to a wage guarantee account (030), which pays the draws
-- claimed from a letter's issuer that it now covers (wp_guarantee_credited).
-- Refused: AC01 not a dedicated account, AC04 closed, DU01 the NtryRef booked
-- before with another amount; the same NtryRef again is DUPLICATE and changes
-- nothing. Locks the dedicated account's row FOR UPDATE. Called by
-- wp_core_notify.
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
	SELECT * INTO v_acc FROM account WHERE number = p_account
	  AND kind IN ('DEDICATED', 'GUARANTEE') FOR UPDATE;
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
		'entry ' || p_ref || ' credited ' || p_amount || ' fen' || wp_core_peer_note());
	outcome := 'APPLIED';
	IF v_acc.kind = 'GUARANTEE' THEN
		-- a guarantee account (030): the draws waiting for money are paid
		v_n := wp_guarantee_credited(v_acc.id, 'core');
		message := 'credited to the wage guarantee; ' || v_n || ' claimed draw(s) paid';
		RETURN;
	END IF;
	v_n := wp_release_held(v_acc.id, 'core');
	message := 'credited; ' || v_n || ' held sheet(s) paid';
END $$;

-- Books one returned wage payment (camt.054 entry with RtrInf): matched by the
-- original EndToEndId to an accepted line of a PAID sheet of this account that
-- has not come back yet. If several match (an EndToEndId is unique only within
-- its sheet), the line of the most recently paid sheet is taken: a bank
-- returns the latest payment first, and an older line with the same EndToEndId
-- stays matchable by a later return. The money goes back from CLEARING_OUT to
-- the dedicated account and is earmarked for the worker and month of the line,
-- until a BACKPAY line for them spends it. On a wage guarantee account the
-- line is a draw's (wp_guarantee_return, 030). Refused: WP41 no such line waiting,
-- WP42 another amount than the line's, AC01, AC04, DU01 (the NtryRef booked
-- with another amount, or as a deposit); the same NtryRef again is DUPLICATE.
-- Locks the dedicated account's row FOR UPDATE; the record goes to its audit
-- chain. Called by wp_core_notify.
CREATE OR REPLACE FUNCTION wp_core_return(p_ref text, p_account text, p_amount bigint, p_booking date,
	p_e2e text, p_reason text, OUT outcome text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_old	line_return%ROWTYPE;
	v_acc	account%ROWTYPE;
	v_line	record;
BEGIN
	SELECT * INTO v_old FROM line_return WHERE entry_ref = p_ref;
	IF NOT FOUND THEN
		-- or booked as a guarantee draw's line (030): its amount decides
		SELECT entry_ref, amount INTO v_old.entry_ref, v_old.amount
		FROM guarantee_line_return WHERE entry_ref = p_ref;
	END IF;
	IF v_old.entry_ref IS NOT NULL THEN
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
	SELECT * INTO v_acc FROM account WHERE number = p_account
	  AND kind IN ('DEDICATED', 'GUARANTEE') FOR UPDATE;
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
	IF v_acc.kind = 'GUARANTEE' THEN
		-- a line a guarantee draw paid (030)
		SELECT * INTO outcome, code, message
		FROM wp_guarantee_return(p_ref, v_acc, p_amount, p_booking, p_e2e, p_reason);
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
	PERFORM wp_line_back(p_ref, v_acc.id, v_line.sheet_id, v_line.seq, p_reason, p_booking);
	PERFORM wp_audit_append(wp_account_chain(v_acc.number), 'core', 'wage.returned',	-- chain
		'sheet:' || v_line.msg_id,
		'line ' || p_e2e || ' returned (' || coalesce(nullif(p_reason, ''), 'no reason') || '), entry '
		|| p_ref || ': ' || p_amount || ' fen back to account ' || p_account || ', earmarked for '
		|| to_char(v_line.month, 'YYYY-MM') || wp_core_peer_note());
	outcome := 'APPLIED';
	message := 'line ' || p_e2e || ' of ' || v_line.msg_id || ' returned; '
		|| wp_yuan(p_amount) || ' earmarked for the worker''s ' || to_char(v_line.month, 'YYYY-MM')
		|| ' (pay it as BACKPAY/' || to_char(v_line.month, 'YYYY-MM') || ')';
END $$;

-- Puts a paid line's money back on its dedicated account, earmarked for the
-- worker and month of the line (a line_return row under p_ref: no other
-- sheet may spend it, a BACKPAY line for that worker and month releases
-- it), as one RETURN transfer CLEARING_OUT -> the account; returns the fen
-- booked back. A line comes back once (line_return's unique key raises
-- otherwise). Writes no audit record and no alert: the caller says why.
-- The caller holds the dedicated account's row FOR UPDATE. Called by
-- wp_core_return (a camt.054 return) and wp_settlement_apply (a line the
-- core rejected, pain.002 RJCT).
CREATE OR REPLACE FUNCTION wp_line_back(p_ref text, p_account bigint, p_sheet bigint, p_seq int,
	p_reason text, p_booking date)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_amount	bigint;
	v_out		bigint;
BEGIN
	INSERT INTO line_return (entry_ref, sheet_id, line_seq, account_id, project_id, id_number,
		month, amount, reason_code, booking_date)
	SELECT p_ref, l.sheet_id, l.seq, p_account, l.project_id, l.id_number, l.month, l.amount,
		nullif(p_reason, ''), p_booking
	FROM sheet_line l WHERE l.sheet_id = p_sheet AND l.seq = p_seq
	RETURNING amount INTO STRICT v_amount;
	SELECT id INTO STRICT v_out FROM account WHERE kind = 'CLEARING_OUT';
	INSERT INTO transfer (debit_account, credit_account, amount, reason, reference)
	VALUES (v_out, p_account, v_amount, 'RETURN', p_ref);
	UPDATE account SET balance = balance + v_amount, earmarked = earmarked + v_amount
	WHERE id = p_account;
	RETURN v_amount;
END $$;
