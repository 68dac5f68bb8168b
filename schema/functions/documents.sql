-- documents.sql: what the daemon renders as documents: a sheet's decision
-- (pain.002), its voucher, and the account statement (camt.053).

-- The settlement outcome of each accepted line of a sheet that has one, in
-- line order: RJCT with the return's reason (NARR when the camt.054 gave
-- none) and a message beginning RETURNED once the card's bank returned it
-- (a line_return row of a camt.054, whatever the core said before); else
-- RJCT with the core's reason once the core refused it (its line_return row,
-- 'RJCT/' || InstrId, is the money back, not a return); else ACCC once the
-- core credited it. Lines without an outcome yet are not listed. Sheets
-- paid before 025 have no order: only their returns are listed. Reads only,
-- by the sheet's keys (sheet_line, payment_settlement, line_return).
-- Called by wp_sheet_status.
CREATE OR REPLACE FUNCTION wp_sheet_settlement(p_sheet bigint)
RETURNS TABLE (line_seq int, status text, end_to_end_id text, code text, message text)
LANGUAGE sql STABLE AS $$
	SELECT l.seq,
		CASE WHEN rt.entry_ref IS NULL AND st.status = 'ACCC' THEN 'ACCC' ELSE 'RJCT' END,
		l.end_to_end_id,
		CASE WHEN rt.entry_ref IS NOT NULL THEN coalesce(rt.reason_code, 'NARR')
		     ELSE st.reason END,
		CASE WHEN rt.entry_ref IS NOT NULL THEN 'RETURNED by the card''s bank, booked '
			|| to_char(rt.booking_date, 'YYYY-MM-DD') || ': back on the dedicated account, '
			|| 'earmarked for ' || to_char(l.month, 'YYYY-MM')
		     WHEN st.status = 'RJCT' THEN 'refused by the core: back on the dedicated '
			|| 'account, earmarked for ' || to_char(l.month, 'YYYY-MM') END
	FROM sheet_line l
	LEFT JOIN payment_order o ON o.sheet_id = l.sheet_id
	LEFT JOIN payment_settlement st ON st.order_id = o.id AND st.line_seq = l.seq
	LEFT JOIN line_return rt ON rt.sheet_id = l.sheet_id AND rt.line_seq = l.seq
	  AND rt.entry_ref IS DISTINCT FROM 'RJCT/' || o.msg_id || '-' || l.seq
	WHERE l.sheet_id = p_sheet AND l.reason_code IS NULL
	  AND (st.status IS NOT NULL OR rt.entry_ref IS NOT NULL)
	ORDER BY l.seq
$$;

-- The pain.002 of a contractor's sheet by MsgId, as a replay (outcome REPLAY);
-- no rows for a MsgId that contractor never sent (404). The sheet is found by
-- its unique index; the text comparison keeps a contractor with trailing
-- blanks matching nothing. After wp_sheet_report's rows (the decision, as
-- POST /v1/sheets answered it), the settlement (026): a row 'T' per paid
-- line with an outcome (wp_sheet_settlement: outcome is the TxSts, ACCC or
-- RJCT, code its reason, message its AddtlInf), in line order, then a row
-- 'G' (outcome ACCC) when the sheet paid every line (ACSC) and every one
-- of them is credited and none came back. Only GET reads these: the paying
-- path (wp_sheet_submit, wp_sheet_close) answers with wp_sheet_report
-- alone. Reads only.
-- Called by daemon/sheetapi.c (GET /v1/sheets/{MsgId}).
CREATE OR REPLACE FUNCTION wp_sheet_status(p_contractor text, p_msg_id text)
RETURNS TABLE (kind text, outcome text, state text, end_to_end_id text, code text, message text)
LANGUAGE sql STABLE AS $$
	WITH s AS MATERIALIZED (
		SELECT s.id, s.state, s.accepted_count, s.nb_of_txs FROM sheet s
		WHERE s.contractor_uscc = p_contractor::bpchar AND s.contractor_uscc::text = p_contractor
		  AND s.msg_id = p_msg_id
	), t AS MATERIALIZED (
		SELECT x.* FROM s, wp_sheet_settlement(s.id) x WHERE s.state = 'PAID'
	)
	SELECT r.* FROM s, wp_sheet_report(s.id, 'REPLAY') r
	UNION ALL
	(SELECT 'T', t.status, NULL, t.end_to_end_id, t.code, t.message FROM t ORDER BY t.line_seq)
	UNION ALL
	SELECT 'G', 'ACCC', NULL, NULL, NULL, NULL FROM s
	WHERE s.state = 'PAID' AND s.accepted_count = s.nb_of_txs
	  AND s.accepted_count = (SELECT count(*) FROM t WHERE t.status = 'ACCC')
$$;

-- The payment voucher (代发工资凭证) of a contractor's sheet: a summary row
-- ('S': state, project, subcontractor, month, paid at, total), then, once
-- PAID, one row per accepted line in line order: 'L' for a line paid and not
-- back (EndToEndId, name, ID number, card, f5 CREDITED once the core
-- credited it, else NULL, amount; 032: pii, the sealed record in hex the
-- daemon opens for the name, and f3 and f4 the masks, when stored with keys),
-- 'R' for a line whose money came back (f5
-- FAILED: the core refused it; RETURNED: the card's bank returned it, a
-- camt.054). The voucher's Count and Total are the 'L' rows'; the daemon
-- answers 404 until the sheet is paid and when no 'L' row is left. Reads
-- only.
-- Called by daemon/voucherapi.c (GET /v1/sheets/{MsgId}/voucher).
CREATE OR REPLACE FUNCTION wp_voucher(p_contractor text, p_msg_id text)
RETURNS TABLE (kind text, f1 text, f2 text, f3 text, f4 text, f5 text, amount bigint,
	pii text)
LANGUAGE sql STABLE AS $$
	SELECT 'S', s.state, p.code, s.subcontractor_uscc::text, to_char(s.month, 'YYYY-MM'),
		CASE WHEN s.paid_at IS NOT NULL THEN wp_iso_cst(s.paid_at) END, s.accepted_total,
		NULL
	FROM sheet s JOIN project p ON p.id = s.project_id
	WHERE s.contractor_uscc = p_contractor::bpchar AND s.msg_id = p_msg_id
	UNION ALL
	(SELECT CASE WHEN r.entry_ref IS NULL THEN 'L' ELSE 'R' END, l.end_to_end_id, l.name,
		CASE WHEN l.pii IS NULL THEN l.id_number ELSE l.id_mask END,
		CASE WHEN l.pii IS NULL THEN l.card ELSE l.card_mask END,
		CASE WHEN r.entry_ref = 'RJCT/' || o.msg_id || '-' || l.seq THEN 'FAILED'
		     WHEN r.entry_ref IS NOT NULL THEN 'RETURNED'
		     WHEN st.status = 'ACCC' THEN 'CREDITED' END,
		l.amount, encode(l.pii, 'hex')
	FROM sheet s JOIN sheet_line l ON l.sheet_id = s.id
	LEFT JOIN line_return r ON r.sheet_id = l.sheet_id AND r.line_seq = l.seq
	LEFT JOIN payment_order o ON o.sheet_id = s.id
	LEFT JOIN payment_settlement st ON st.order_id = o.id AND st.line_seq = l.seq
	WHERE s.contractor_uscc = p_contractor::bpchar AND s.msg_id = p_msg_id AND s.state = 'PAID'
	  AND l.reason_code IS NULL
	ORDER BY l.seq)
$$;

-- The camt.053 statement of a dedicated account from p_from to p_to (China
-- dates), for its general contractor only: a summary row ('S': FORBIDDEN for
-- anyone else and for an unknown account; TOO_MANY past p_max entries; else OK
-- with opening and closing balance), then one row per entry ('E') in transfer
-- order, with its reference, the sheet and line, deposit, return or legal
-- order behind it. The opening balance is read from the shorter of the
-- account's history before the period and its movements since the period
-- began, never both; each side of the account is read on its own index.
-- Reads only. Called by daemon/statementapi.c (GET
-- /v1/accounts/{account}/statement).
CREATE OR REPLACE FUNCTION wp_statement(p_contractor text, p_account text, p_from date, p_to date, p_max int)
RETURNS TABLE (kind text, outcome text, opening bigint, closing bigint, ref text, amount bigint,
	credit boolean, booked date, reason text, msg_id text, e2e text, ustrd text, party text,
	rtr text, tx_id bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	v_acc	account%ROWTYPE;
	v_proj	project%ROWTYPE;
	v_from	timestamptz := p_from::timestamp AT TIME ZONE INTERVAL '+08:00';
	v_to	timestamptz := (p_to + 1)::timestamp AT TIME ZONE INTERVAL '+08:00';
	v_open	bigint;
	v_net	bigint;
	v_n	bigint;
	v_since	bigint;
BEGIN
	SELECT a.* INTO v_acc FROM account a WHERE a.number = p_account AND a.kind = 'DEDICATED';
	IF FOUND THEN
		SELECT p.* INTO v_proj FROM project p WHERE p.account_id = v_acc.id;
	END IF;
	IF v_acc.id IS NULL OR v_proj.contractor_uscc IS DISTINCT FROM p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL::bigint, NULL::bigint, NULL::text,
			NULL::bigint, NULL::boolean, NULL::date, NULL::text, NULL::text, NULL::text,
			NULL::text, NULL::text, NULL::text, NULL::bigint;
		RETURN;
	END IF;
	-- 014: the shorter of the account's history before the period and its
	-- movements since the period began is read, never both
	IF v_from - v_acc.opened_at <= now() - v_from THEN
		SELECT coalesce(sum(x.net), 0) INTO v_open FROM (
			SELECT -t.amount AS net FROM transfer t
			WHERE t.debit_account = v_acc.id AND t.created_at < v_from
			UNION ALL
			SELECT t.amount FROM transfer t
			WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE' AND t.created_at < v_from) x;
		SELECT coalesce(sum(x.net), 0), count(*) INTO v_net, v_n FROM (
			SELECT -t.amount AS net FROM transfer t
			WHERE t.debit_account = v_acc.id AND t.created_at >= v_from AND t.created_at < v_to
			UNION ALL
			SELECT t.amount FROM transfer t
			WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE'
			  AND t.created_at >= v_from AND t.created_at < v_to) x;
	ELSE
		SELECT coalesce(sum(x.net), 0), coalesce(sum(x.net) FILTER (WHERE x.at < v_to), 0),
			count(*) FILTER (WHERE x.at < v_to)
		INTO v_since, v_net, v_n FROM (
			SELECT -t.amount AS net, t.created_at AS at FROM transfer t
			WHERE t.debit_account = v_acc.id AND t.created_at >= v_from
			UNION ALL
			SELECT t.amount, t.created_at FROM transfer t
			WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE' AND t.created_at >= v_from) x;
		v_open := v_acc.balance - v_since;
	END IF;
	IF v_n > p_max THEN
		RETURN QUERY SELECT 'S', 'TOO_MANY', v_open, v_open + v_net, v_proj.code, v_n,
			NULL::boolean, NULL::date, NULL::text, NULL::text, NULL::text, NULL::text,
			NULL::text, NULL::text, NULL::bigint;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'S', 'OK', v_open, v_open + v_net, v_proj.code, v_n,
		NULL::boolean, NULL::date, NULL::text, NULL::text, NULL::text, NULL::text,
		NULL::text, NULL::text, NULL::bigint;
	RETURN QUERY
	SELECT 'E', NULL::text, NULL::bigint, NULL::bigint,
		CASE WHEN t.reason IN ('DEPOSIT', 'RETURN', 'ATTACHMENT') THEN t.reference
		     ELSE 'T' || t.id END,
		t.amount, t.credit_account = v_acc.id, wp_cst(t.created_at)::date, t.reason,
		coalesce(s.msg_id, rs.msg_id),
		coalesce(l.end_to_end_id, rl.end_to_end_id),
		CASE WHEN l.seq IS NOT NULL THEN l.kind || '/' || to_char(l.month, 'YYYY-MM')
		     WHEN rl.seq IS NOT NULL THEN 'RETURN ' || rl.kind || '/' || to_char(rl.month, 'YYYY-MM')
		     WHEN o.ref IS NOT NULL THEN left(o.kind || ' ' || o.order_no, 140)
		     WHEN t.reason = 'DEPOSIT' THEN 'LABOUR COST' END,
		-- 032: a worker's name as the console shows it (the mask the
		-- daemon wrote; the clear name of a line stored in clear)
		coalesce(l.name_mask, l.name, rl.name_mask, rl.name, d.payer_name, o.authority),
		r.reason_code, t.id
	FROM (SELECT * FROM transfer t						-- 014
	      WHERE t.debit_account = v_acc.id AND t.created_at >= v_from AND t.created_at < v_to
	      UNION ALL
	      SELECT * FROM transfer t
	      WHERE t.credit_account = v_acc.id AND t.reason <> 'WAGE'
	        AND t.created_at >= v_from AND t.created_at < v_to) t
	LEFT JOIN sheet s ON t.reason = 'WAGE' AND s.id = t.sheet_id
	LEFT JOIN sheet_line l ON t.reason = 'WAGE' AND l.sheet_id = t.sheet_id AND l.seq = t.line_seq
	LEFT JOIN deposit d ON t.reason = 'DEPOSIT' AND d.entry_ref = t.reference
	LEFT JOIN line_return r ON t.reason = 'RETURN' AND r.entry_ref = t.reference
	LEFT JOIN sheet_line rl ON rl.sheet_id = r.sheet_id AND rl.seq = r.line_seq
	LEFT JOIN sheet rs ON rs.id = r.sheet_id
	LEFT JOIN legal_order o ON t.reason = 'ATTACHMENT' AND o.ref = t.reference
	ORDER BY t.id;
END $$;

-- The pain.002 of a decided sheet: a summary row ('S', with p_outcome, the
-- state, and accepted count, accepted total and NbOfTxs), then one row per
-- refused line ('L', EndToEndId, reason code and text) in line order.
-- Reads only. Called by wp_sheet_close (NEW), wp_sheet_submit (REPLAY or
-- CONFLICT) and wp_sheet_status (REPLAY); daemon/report.c renders the rows.
CREATE OR REPLACE FUNCTION wp_sheet_report(p_sheet bigint, p_outcome text)
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
