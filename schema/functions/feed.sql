-- feed.sql: the real-time feed to the provincial monitoring platforms
-- (API.md "Provincial platform feed", migration 029). The writers
-- (wp_feed_account, wp_feed_flow, wp_feed_payline) are called by the money
-- functions in the transaction of what they report; the delivery
-- (daemon/platform.c) claims each platform's next records in order
-- (wp_platform_claim: routing by region prefix and numbering without gaps
-- happen there, not in the paying transaction), acknowledges them or backs
-- off; an approved PLATFORM_REPLAY sends a platform everything again from a
-- seq. Field names follow the national construction-worker platform and the
-- provincial bank interfaces (the mapping: README.md "Provincial platform
-- feed").

-- An account event: the dedicated account of p_account opened, completed
-- or closed (p_status OPENED, COMPLETED, CLOSED) with its project, holder
-- (the general contractor), opening date and balance now. The caller holds
-- the account's row (or just made it). Called by wp_project_open,
-- wp_project_complete and wp_console_close.
CREATE OR REPLACE FUNCTION wp_feed_account(p_account bigint, p_status text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO platform_event (kind, project_id, data)
	SELECT 'account', p.id, jsonb_strip_nulls(jsonb_build_object(
		'projectCode', p.code, 'projectName', p.name, 'regionCode', p.region,
		'industry', p.industry, 'corpCode', p.contractor_uscc, 'corpName', c.name,
		'salaryAccount', a.number, 'salaryAccountName', c.name,
		'openAccountDate', to_char(wp_cst(a.opened_at), 'YYYY-MM-DD'),
		'accountBalance', wp_yuan(a.balance), 'accountStatus', p_status,
		'completedDate', to_char(p.completed_on, 'YYYY-MM-DD'),
		'statusDate', to_char(wp_cst(now()), 'YYYY-MM-DD')))
	FROM account a JOIN project p ON p.account_id = a.id
	JOIN company c ON c.uscc = p.contractor_uscc
	WHERE a.id = p_account;
END $$;

-- A flow event: a movement of p_amount fen on the dedicated account
-- p_account, already booked (its balance on the row is the balance after
-- it): p_in true for money in (billType 1), false for out (2); p_type
-- DEPOSIT, WAGE, RETURN, REJECTED (a line the core refused, money back),
-- ATTACHMENT or MANUAL; p_batch the MsgId or entry reference it came
-- under; the other party as far as known (never a worker's name or card:
-- those travel encrypted in paylines). The caller holds the account's row.
-- Called by wp_sheet_pay, wp_core_deposit, wp_line_back,
-- wp_core_legal_order, wp_console_move and wp_console_close. plpgsql, not
-- sql: a sql function's INSERT is planned again at every call (measured:
-- 0.5-0.8 ms a sheet for the two writers; plpgsql keeps the plan).
CREATE OR REPLACE FUNCTION wp_feed_flow(p_account bigint, p_in boolean, p_type text,
	p_amount bigint, p_batch text, p_other_name text, p_other_account text,
	p_other_code text, p_excerpt text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO platform_event (kind, project_id, data)
	SELECT 'flow', p.id, jsonb_strip_nulls(jsonb_build_object(
		'projectCode', p.code, 'salaryAccount', a.number,
		'billType', CASE WHEN p_in THEN 1 ELSE 2 END, 'flowType', p_type,
		'billDate', to_char(wp_cst(now()), 'YYYY-MM-DD HH24:MI:SS'),
		'billAmount', wp_yuan(p_amount), 'accountBalance', wp_yuan(a.balance),
		'batchNumber', p_batch, 'counterpartyName', nullif(p_other_name, ''),
		'counterpartyAccount', nullif(p_other_account, ''),
		'counterpartyCode', nullif(p_other_code, ''), 'excerpt', left(p_excerpt, 100)))
	FROM account a JOIN project p ON p.account_id = a.id
	WHERE a.id = p_account;
END $$;

-- A payline event: lines p_lines of sheet p_sheet (NULL: every accepted
-- line, the sheet just paid) had p_outcome: PAID, SETTLED (their final
-- status is in payment_settlement) or RETURNED (p_ref the return's entry
-- reference). One row whatever the number of lines: the delivery expands
-- them. Called by wp_sheet_pay, wp_settlement_book and wp_core_return.
CREATE OR REPLACE FUNCTION wp_feed_payline(p_sheet bigint, p_lines int[], p_outcome text,
	p_ref text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO platform_event (kind, project_id, sheet_id, lines, outcome, ref)
	SELECT 'payline', s.project_id, s.id, p_lines, p_outcome, p_ref
	FROM sheet s WHERE s.id = p_sheet;
END $$;

-- Locks FOR UPDATE the dedicated account an approval's payload names (its
-- project's "code", or the account "from" which money moves), if any. The
-- feed's order rests on it: a platform gets an account's events in the
-- order of their transactions' ids (wp_platform_number), which is their
-- commit order when the account's row lock is the first thing each of
-- those transactions writes (the lock assigns the id; whoever holds the
-- row first has the smaller one). wp_approval_decide locks the approval's
-- row too, so it takes the account's first, here. Called by
-- wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_feed_lock_first(p_payload jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM account a
	WHERE a.kind = 'DEDICATED' AND (a.number = p_payload->>'from'
	    OR a.id = (SELECT p.account_id FROM project p WHERE p.code = p_payload->>'code'))
	ORDER BY a.id FOR UPDATE;
END $$;

-- Numbers the platform's next events: up to p_events events after its
-- cursor, in (xid, id) order, of transactions older than every one still
-- running (p_xmin; and the claiming transaction's own, p_own, which only a
-- test has), routed by the project's region prefix (p_region); each
-- routed event gets the next seqs, one per record (a payline event one per
-- line, its lines resolved now), as a platform_span row. The cursor moves
-- past every event read, routed or not. The caller holds the feed's row.
-- Called by wp_platform_claim.
CREATE OR REPLACE FUNCTION wp_platform_number(p_name text, p_region text, p_xmin xid8,
	p_own xid8, p_events int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_feed	platform_feed%ROWTYPE;
	v_last	record;
	v_n	bigint;
BEGIN
	SELECT * INTO STRICT v_feed FROM platform_feed WHERE name = p_name;
	IF to_regclass('pg_temp.wp_feed_read') IS NULL THEN
		CREATE TEMP TABLE wp_feed_read (id bigint, xid xid8, project_id bigint,
			kind text, sheet_id bigint, lines int[]) ON COMMIT DROP;
	ELSE
		TRUNCATE wp_feed_read;
	END IF;
	INSERT INTO wp_feed_read
	SELECT e.id, e.xid, e.project_id, e.kind, e.sheet_id, e.lines FROM platform_event e
	WHERE (e.xid, e.id) > (v_feed.cursor_xid, v_feed.cursor_id)
	  AND (e.xid < p_xmin OR e.xid = p_own)
	ORDER BY e.xid, e.id LIMIT p_events;
	SELECT r.xid, r.id INTO v_last FROM wp_feed_read r ORDER BY r.xid DESC, r.id DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	WITH routed AS (
		SELECT r.id, r.xid, r.kind, CASE WHEN r.kind <> 'payline' THEN NULL
			WHEN r.lines IS NOT NULL THEN r.lines
			ELSE ARRAY(SELECT l.seq FROM sheet_line l WHERE l.sheet_id = r.sheet_id
			    AND l.reason_code IS NULL ORDER BY l.seq) END AS lines
		FROM wp_feed_read r JOIN project p ON p.id = r.project_id
		WHERE p.region LIKE p_region || '%'
	), counted AS (
		SELECT x.*, CASE WHEN x.kind = 'payline' THEN cardinality(x.lines) ELSE 1 END AS n
		FROM routed x
	), numbered AS (
		SELECT c.*, v_feed.next_seq + sum(c.n) OVER (ORDER BY c.xid, c.id) - c.n AS first
		FROM counted c WHERE c.n > 0
	), ins AS (
		INSERT INTO platform_span (platform, first_seq, n, event_id, lines)
		SELECT p_name, x.first, x.n, x.id, x.lines FROM numbered x
		RETURNING n
	)
	SELECT coalesce(sum(i.n), 0) INTO v_n FROM ins i;
	UPDATE platform_feed SET cursor_xid = v_last.xid, cursor_id = v_last.id,
		next_seq = next_seq + v_n
	WHERE name = p_name;
END $$;

-- Claims the platform's next batch: its row (made at the first claim, the
-- cursor at the beginning of the outbox) locked FOR UPDATE SKIP LOCKED and
-- only when its next attempt is due, so that one delivery at a time runs
-- per platform across instances; numbers more events while fewer than
-- p_max records wait (wp_platform_number); returns the records from
-- acked_seq + 1, at most p_max, in seq order (wp_platform_records), and
-- moves next_attempt_at p_lease seconds ahead: a daemon killed mid-POST
-- sends the same batch again after the lease. No rows: nothing to send, or
-- not due, or claimed by another instance. Each row carries the claim's
-- number (claim), which the attempt's outcome names (wp_platform_acked,
-- wp_platform_failed). p_region is the platform's configured prefix (a
-- reload may change it: events read after it are routed by the new one).
-- Called by daemon/platform.c.
CREATE OR REPLACE FUNCTION wp_platform_claim(p_name text, p_region text, p_max int, p_lease int)
RETURNS TABLE (seq bigint, id text, kind text, at text, fields text, claim bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	-- first, before this transaction writes: what is committed for good
	v_xmin	xid8 := pg_snapshot_xmin(pg_current_snapshot());
	v_own	xid8 := pg_current_xact_id_if_assigned();
	v_feed	platform_feed%ROWTYPE;
BEGIN
	IF p_max < 1 OR p_region !~ '^[0-9]{2,6}$' THEN
		RAISE EXCEPTION 'a claim takes at least one record, and a region prefix of 2 to 6 digits'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO platform_feed (name, region) VALUES (p_name, p_region)
	ON CONFLICT (name) DO NOTHING;
	SELECT f.* INTO v_feed FROM platform_feed f
	WHERE f.name = p_name AND f.next_attempt_at <= now() FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF v_feed.region <> p_region THEN
		UPDATE platform_feed f SET region = p_region WHERE f.name = p_name;
	END IF;
	IF v_feed.next_seq - 1 - v_feed.acked_seq < p_max THEN
		PERFORM wp_platform_number(p_name, p_region, v_xmin, v_own, 1000);
		SELECT f.* INTO STRICT v_feed FROM platform_feed f WHERE f.name = p_name;
	END IF;
	IF v_feed.next_seq - 1 = v_feed.acked_seq THEN
		RETURN;
	END IF;
	UPDATE platform_feed f SET attempts = f.attempts + 1, last_attempt_at = now(),
		next_attempt_at = now() + make_interval(secs => p_lease), claim_no = f.claim_no + 1
	WHERE f.name = p_name;
	RETURN QUERY SELECT r.*, v_feed.claim_no + 1 FROM wp_platform_records(p_name,
		v_feed.acked_seq + 1, least(v_feed.acked_seq + p_max, v_feed.next_seq - 1)) r;
END $$;

-- One payline record's fields, from the rows the records' join found:
-- line l of sheet sh (project code, the paying account, the employer's
-- name), and what event e says happened to it (payStatus PAID, CREDITED,
-- REJECTED with the core's reason st, RETURNED with the return's r). An
-- expression without a FROM, so that the planner inlines it into
-- wp_platform_records' one set-based join (a function running its own
-- query per line delivered 6,400 records a second; this, 15,000, measured
-- on a 20,000-line sheet claimed and acknowledged 500 at a time, tables
-- analyzed). Called by wp_platform_records.
CREATE OR REPLACE FUNCTION wp_platform_payline(e platform_event, l sheet_line, sh sheet,
	p_project text, p_account text, p_corp text, st payment_settlement, r line_return)
RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_strip_nulls(json_build_object(
		'projectCode', p_project, 'corpCode', sh.subcontractor_uscc, 'corpName', p_corp,
		'thirdPayRollCode', sh.msg_id, 'endToEndId', l.end_to_end_id,
		'idNumber', l.id_number, 'name', l.name, 'card', l.card, 'payRollBankCode', l.card_bank,
		-- stored sealed (032): the three above are blind indexes, and the
		-- daemon opens this in their place (daemon/platform.c)
		'_pii', encode(l.pii, 'hex'),
		'payBankCardNumber', p_account, 'totalPayAmount', wp_yuan(l.gross),
		'actualAmount', wp_yuan(l.amount), 'days', l.days_worked,
		'payMonth', to_char(CASE WHEN l.kind = 'WAGE' THEN l.month ELSE wp_cst(sh.paid_at) END, 'YYYY-MM'),
		'isBackPay', CASE WHEN l.kind = 'BACKPAY' THEN 1 ELSE 0 END,
		'backPayMonth', CASE WHEN l.kind = 'BACKPAY' THEN to_char(l.month, 'YYYY-MM') END,
		'balanceDate', to_char(wp_cst(sh.paid_at), 'YYYY-MM-DD'),
		'payStatus', CASE e.outcome WHEN 'PAID' THEN 'PAID' WHEN 'RETURNED' THEN 'RETURNED'
			WHEN 'SETTLED' THEN CASE st.status WHEN 'ACCC' THEN 'CREDITED' ELSE 'REJECTED' END END,
		'statusReason', CASE e.outcome WHEN 'SETTLED' THEN st.reason
			WHEN 'RETURNED' THEN coalesce(r.reason_code, 'NARR') END,
		'statusDate', to_char(CASE e.outcome WHEN 'SETTLED' THEN wp_cst(st.received_at)
			WHEN 'RETURNED' THEN r.booking_date ELSE wp_cst(sh.paid_at) END, 'YYYY-MM-DD')))
$$;

-- The platform's records p_from .. p_to, numbered as platform_span says,
-- in seq order: seq, the stable id ('wp-' event, '-' line for a payline),
-- kind, the event's time (ISO, +08:00) and the record's other fields as a
-- JSON object, in clear (daemon/platform.c encrypts idNumber, name and card
-- for a platform with crypto = sm). A payline's fields are read from the
-- ledger's insert-only rows (sheet_line, sheet, payment_settlement,
-- line_return), so a record sent again is the same record; one join for
-- the whole batch (wp_platform_payline). plpgsql, so that its plan is
-- kept for the session (as sql it was planned at every claim: 5 ms of a
-- 500-record batch's 30). Reads only. Called by wp_platform_claim.
CREATE OR REPLACE FUNCTION wp_platform_records(p_name text, p_from bigint, p_to bigint)
RETURNS TABLE (seq bigint, id text, kind text, at text, fields text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY WITH r AS (
		SELECT s.first_seq + u.k - 1 AS seq, e, u.line
		FROM platform_span s JOIN platform_event e ON e.id = s.event_id
		CROSS JOIN LATERAL (
			-- a slice, not the whole array: a batch costs its own lines
			SELECT x.line, greatest(p_from - s.first_seq, 0) + x.k AS k
			FROM unnest(s.lines[greatest(p_from - s.first_seq, 0) + 1 : p_to - s.first_seq + 1])
				WITH ORDINALITY AS x(line, k)
			WHERE s.lines IS NOT NULL
			UNION ALL SELECT NULL::int, 1 WHERE s.lines IS NULL
		) u
		WHERE s.platform = p_name AND s.first_seq <= p_to
		  AND s.first_seq >= coalesce((SELECT max(m.first_seq) FROM platform_span m
		      WHERE m.platform = p_name AND m.first_seq <= p_from), p_from)
		  AND s.first_seq + u.k - 1 BETWEEN p_from AND p_to
	)
	SELECT r.seq, 'wp-' || (r.e).id || coalesce('-' || r.line, ''), (r.e).kind, wp_iso_cst((r.e).at),
		CASE WHEN (r.e).kind <> 'payline' THEN (r.e).data::text
		ELSE wp_platform_payline(r.e, l, sh, p.code, a.number, c.name, st, rt)::text END
	FROM r
	LEFT JOIN sheet_line l ON l.sheet_id = (r.e).sheet_id AND l.seq = r.line
	LEFT JOIN sheet sh ON sh.id = (r.e).sheet_id
	LEFT JOIN project p ON p.id = sh.project_id
	LEFT JOIN account a ON a.id = sh.account_id
	LEFT JOIN company c ON c.uscc = sh.subcontractor_uscc
	LEFT JOIN payment_order o ON (r.e).outcome = 'SETTLED' AND o.sheet_id = (r.e).sheet_id
	LEFT JOIN payment_settlement st ON st.order_id = o.id AND st.line_seq = r.line
	LEFT JOIN line_return rt ON (r.e).outcome = 'RETURNED' AND rt.entry_ref = (r.e).ref
	ORDER BY 1;
END $$;

-- The platform acknowledged every record up to p_last (a 2xx to the batch
-- claim p_claim sent): acked_seq moves there (never back), the attempts
-- start again, the next batch is due at once. NULL, and nothing changed,
-- when the platform has been claimed again or replayed since (its lease
-- ran out, an admin replayed it): what the late batch carried is sent again
-- by the newer claim, with the same seqs and ids. Called by
-- daemon/platform.c.
CREATE OR REPLACE FUNCTION wp_platform_acked(p_name text, p_claim bigint, p_last bigint,
	p_status int)
RETURNS bigint LANGUAGE sql AS $$
	UPDATE platform_feed SET acked_seq = greatest(acked_seq, least(p_last, next_seq - 1)),
		attempts = 0, next_attempt_at = now(), last_acked_at = now(),
		last_status = p_status, last_error = NULL
	WHERE name = p_name AND claim_no = p_claim
	RETURNING acked_seq
$$;

-- Anything but a 2xx (another status, a timeout, a refused connection):
-- the next attempt after 1 s doubling with each attempt, capped at p_max
-- seconds, as for alerts and payment orders; returns when. NULL, nothing
-- changed, for a claim that is no longer the platform's latest. Called by
-- daemon/platform.c.
CREATE OR REPLACE FUNCTION wp_platform_failed(p_name text, p_claim bigint, p_status int,
	p_error text, p_max int)
RETURNS timestamptz LANGUAGE sql AS $$
	UPDATE platform_feed SET last_status = p_status, last_error = left(p_error, 500),
		next_attempt_at = now() + make_interval(secs => least(p_max,
			1::bigint << least(greatest(attempts - 1, 0), 30)))
	WHERE name = p_name AND claim_no = p_claim
	RETURNING next_attempt_at
$$;

-- Why a replay of platform p->>'platform' from seq p->>'from_seq' cannot
-- be made, or NULL: WP75 an unknown platform (never claimed), a seq that is
-- not a whole number from 1 to the platform's acknowledged seq + 1 (a
-- replay goes back, never skips ahead). Reads only. Called by
-- wp_platform_replay and daemon/consoleapi.c before proposing.
CREATE OR REPLACE FUNCTION wp_platform_replay_refusal(p jsonb)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_feed	platform_feed%ROWTYPE;
	v_from	bigint;
BEGIN
	SELECT * INTO v_feed FROM platform_feed WHERE name = p->>'platform';
	IF NOT FOUND THEN
		RETURN 'WP75: no platform ' || coalesce('"' || (p->>'platform') || '"', '(none named)')
			|| ' has been fed';
	END IF;
	IF coalesce(p->>'from_seq', '') !~ '^[0-9]{1,15}$' THEN
		RETURN 'WP75: from_seq must be a whole number';
	END IF;
	v_from := (p->>'from_seq')::bigint;
	IF v_from < 1 OR v_from > v_feed.acked_seq + 1 THEN
		RETURN 'WP75: platform ' || v_feed.name || ' can be replayed from seq 1 to '
			|| (v_feed.acked_seq + 1) || ' (acknowledged up to ' || v_feed.acked_seq || '), not '
			|| v_from;
	END IF;
	RETURN NULL;
END $$;

-- Replays a platform from a seq (an approved PLATFORM_REPLAY): its
-- acknowledged seq goes back to from_seq - 1, so that every record from
-- there is sent again, in order, with the same seq and id, and the next
-- attempt is due at once. Recorded in the 'global' audit chain. Locks the
-- feed's row and counts a claim: a delivery in flight finishes, but its
-- acknowledgement no longer moves acked_seq (wp_platform_acked). Raises
-- SQLSTATE WP002 with the refusal. Called by wp_approval_decide.
CREATE OR REPLACE FUNCTION wp_platform_replay(p jsonb, p_actor text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_why	text;
	v_old	bigint;
BEGIN
	SELECT acked_seq INTO v_old FROM platform_feed WHERE name = p->>'platform' FOR UPDATE;
	v_why := wp_platform_replay_refusal(p);
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION '%', v_why USING ERRCODE = 'WP002';
	END IF;
	UPDATE platform_feed SET acked_seq = (p->>'from_seq')::bigint - 1, attempts = 0,
		next_attempt_at = now(), claim_no = claim_no + 1
	WHERE name = p->>'platform';
	PERFORM wp_audit_append(p_actor, 'platform.replay', 'platform:' || (p->>'platform'),
		'records from seq ' || (p->>'from_seq') || ' sent again (acknowledged up to '
		|| v_old || ')');
END $$;
