-- 008_documents.sql: what the contractor API's documents are made from:
-- the payment voucher of a paid sheet (代发工资凭证, 004 第八条) and the
-- account statement (camt.053). Read-only; each answers only the project's
-- general contractor.

-- The voucher of a sheet: a summary row ('S': state, project code,
-- subcontractor, month YYYY-MM, paid at +08:00), then one row per line paid
-- and not returned ('L': EndToEndId, name, ID number, card, amount in fen),
-- in sheet order. No rows: no such sheet from this contractor.
CREATE FUNCTION wp_voucher(p_contractor text, p_msg_id text)
RETURNS TABLE (kind text, f1 text, f2 text, f3 text, f4 text, f5 text, amount bigint)
LANGUAGE sql STABLE AS $$
	SELECT 'S', s.state, p.code, s.subcontractor_uscc::text, to_char(s.month, 'YYYY-MM'),
		CASE WHEN s.paid_at IS NOT NULL THEN wp_iso_cst(s.paid_at) END, s.accepted_total
	FROM sheet s JOIN project p ON p.id = s.project_id
	WHERE s.contractor_uscc = p_contractor AND s.msg_id = p_msg_id
	UNION ALL
	(SELECT 'L', l.end_to_end_id, l.name, l.id_number, l.card, NULL, l.amount
	FROM sheet s JOIN sheet_line l ON l.sheet_id = s.id
	WHERE s.contractor_uscc = p_contractor AND s.msg_id = p_msg_id AND s.state = 'PAID'
	  AND l.reason_code IS NULL
	  AND NOT EXISTS (SELECT 1 FROM line_return r WHERE r.sheet_id = l.sheet_id AND r.line_seq = l.seq)
	ORDER BY l.seq)
$$;

-- The statement of a dedicated account over China-time dates p_from..p_to
-- (inclusive). First row 'S': outcome OK, FORBIDDEN (no such account, or
-- not this contractor's) or TOO_MANY (more than p_max entries: ask for a
-- shorter period), the opening and closing balances in fen, the account's
-- project code in ref and the number of entries in amount. Then one 'E' row
-- per transfer, oldest first: its reference (NtryRef), amount, credit or
-- not, booking date, reason, and what the statement says about it (the
-- sheet's MsgId and line's EndToEndId, the remittance text, the other
-- party's name, the return reason).
CREATE FUNCTION wp_statement(p_contractor text, p_account text, p_from date, p_to date, p_max int)
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
	SELECT coalesce(sum(CASE WHEN t.credit_account = v_acc.id THEN t.amount ELSE -t.amount END), 0)
	INTO v_open FROM transfer t
	WHERE (t.credit_account = v_acc.id OR t.debit_account = v_acc.id) AND t.created_at < v_from;
	SELECT coalesce(sum(CASE WHEN t.credit_account = v_acc.id THEN t.amount ELSE -t.amount END), 0),
		count(*)
	INTO v_net, v_n FROM transfer t
	WHERE (t.credit_account = v_acc.id OR t.debit_account = v_acc.id)
	  AND t.created_at >= v_from AND t.created_at < v_to;
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
		coalesce(l.name, rl.name, d.payer_name, o.authority),
		r.reason_code, t.id
	FROM transfer t
	LEFT JOIN sheet s ON t.reason = 'WAGE' AND s.id = t.sheet_id
	LEFT JOIN sheet_line l ON t.reason = 'WAGE' AND l.sheet_id = t.sheet_id AND l.seq = t.line_seq
	LEFT JOIN deposit d ON t.reason = 'DEPOSIT' AND d.entry_ref = t.reference
	LEFT JOIN line_return r ON t.reason = 'RETURN' AND r.entry_ref = t.reference
	LEFT JOIN sheet_line rl ON rl.sheet_id = r.sheet_id AND rl.seq = r.line_seq
	LEFT JOIN sheet rs ON rs.id = r.sheet_id
	LEFT JOIN legal_order o ON t.reason = 'ATTACHMENT' AND o.ref = t.reference
	WHERE (t.credit_account = v_acc.id OR t.debit_account = v_acc.id)
	  AND t.created_at >= v_from AND t.created_at < v_to
	ORDER BY t.id;
END $$;
