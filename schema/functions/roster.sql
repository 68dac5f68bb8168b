-- roster.sql: the project's real-name roster (实名制): an upload's entries
-- checked and stored (WP11-WP18) as new versions of the workers' entries,
-- every version kept (CARD_CHANGED when a card changes), and the roster read
-- back.

-- Stores a roster upload of a project, for its general contractor only (else
-- FORBIDDEN): the subcontractors (p_subs: [{uscc, name}]) added, then each
-- worker entry (p_workers: [{idn, name, employer, card, bank, signed, entered,
-- left, pre_code, pre_text, pii, id_mask, card_mask, name_mask}]) upserted by
-- ID number, or refused (032: with keys, idn, name and card are the daemon's
-- blind indexes, pii the sealed record in hex, the masks what is shown;
-- the refused rows name the entry by its idn as given): the reader's
-- own code (pre_code: WP11, WP12, WP14, WP16, WP17, WP18, from
-- proto/roster.c); WP13 the employer is not a subcontractor of this project;
-- WP15 the card already belongs to another worker (one person, one card, 一人一卡:
-- the card's first owner keeps it, bank-wide), which raises CARD_CONCENTRATION
-- (a card routed to a gang boss). The roster keeps its history: an upsert
-- never overwrites. An entry that is new, or differs from the current one,
-- becomes the worker's next version (wp_roster_version: kept with who sent it,
-- p_contractor and its certificate's p_subject and p_cert, and when); an entry
-- sent again unchanged stores nothing. A version whose card or card bank
-- differs from the one before raises CARD_CHANGED, once per change (a card
-- swapped to a gang boss's is the classic diversion). Returns a summary row
-- ('S', OK, accepted count) then one row per refused entry ('R', ID number,
-- code, message); one roster.upload record in the 'global' audit chain.
-- Locks the project's row FOR UPDATE, so uploads of one project queue (and
-- versions of a worker are numbered without gaps or races).
-- Called by daemon/rosterapi.c (POST /v1/projects/{projectCode}/roster).
CREATE OR REPLACE FUNCTION wp_roster_upsert(p_contractor text, p_project text, p_subs json,
	p_workers json, p_subject text DEFAULT NULL, p_cert text DEFAULT NULL)
RETURNS TABLE (kind text, outcome text, id_number text, code text, message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_proj		project%ROWTYPE;
	w		record;
	v_owner		text;
	v_accepted	int := 0;
	v_refused	text[] := '{}';
	v_codes		text[] := '{}';
	v_msgs		text[] := '{}';
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p_project FOR UPDATE;
	IF NOT FOUND OR v_proj.contractor_uscc <> p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL::text, NULL::text, NULL::text;
		RETURN;
	END IF;
	INSERT INTO company (uscc, name)
	SELECT s.uscc, s.name FROM json_to_recordset(p_subs) AS s(uscc text, name text)
	ON CONFLICT (uscc) DO NOTHING;
	INSERT INTO project_subcontractor (project_id, uscc)
	SELECT v_proj.id, s.uscc FROM json_to_recordset(p_subs) AS s(uscc text, name text)
	ON CONFLICT DO NOTHING;

	FOR w IN SELECT * FROM json_to_recordset(p_workers) AS x(idn text, name text,
	    employer text, card text, bank text, signed date, entered date, "left" date,
	    pre_code text, pre_text text, pii text, id_mask text, card_mask text,
	    name_mask text) LOOP
		IF w.pre_code IS NOT NULL THEN
			v_refused := v_refused || w.idn; v_codes := v_codes || w.pre_code;
			v_msgs := v_msgs || w.pre_text;
			CONTINUE;
		END IF;
		IF NOT EXISTS (SELECT 1 FROM project_subcontractor
		    WHERE project_id = v_proj.id AND uscc = w.employer) THEN
			v_refused := v_refused || w.idn; v_codes := v_codes || 'WP13'::text;
			v_msgs := v_msgs || 'employer is not a subcontractor of this project'::text;
			CONTINUE;
		END IF;
		-- one person, one card: the card's first owner keeps it
		INSERT INTO card_owner (card, id_number, in_clear) VALUES (w.card, w.idn, w.pii IS NULL)
		ON CONFLICT (card) DO NOTHING;
		SELECT c.id_number INTO v_owner FROM card_owner c WHERE c.card = w.card;
		IF v_owner <> w.idn THEN
			v_refused := v_refused || w.idn; v_codes := v_codes || 'WP15'::text;
			v_msgs := v_msgs || 'card is already registered to another worker (one person, one card)'::text;
			INSERT INTO alert (kind, project_id, detail, dedup_key)
			VALUES ('CARD_CONCENTRATION', v_proj.id,
				'roster tried to register a card of another worker; card ending '
				|| right(coalesce(w.card_mask, w.card), 4), 'CARD:' || w.card || ':' || w.idn)
			ON CONFLICT (dedup_key) DO NOTHING;
			CONTINUE;
		END IF;
		PERFORM wp_roster_version(v_proj.id, w.idn, w.name, w.employer, w.card, w.bank,
			w.signed, w.entered, w."left", p_contractor, p_subject, p_cert,
			decode(w.pii, 'hex'), w.id_mask, w.card_mask, w.name_mask);
		v_accepted := v_accepted + 1;
	END LOOP;
	PERFORM wp_audit_append('contractor:' || p_contractor, 'roster.upload', 'project:' || p_project,
		v_accepted || ' accepted, ' || cardinality(v_refused) || ' refused');
	RETURN QUERY SELECT 'S', 'OK', NULL::text, NULL::text, v_accepted::text;
	RETURN QUERY SELECT 'R', NULL::text, u.i, u.c, u.m FROM unnest(v_refused, v_codes, v_msgs) AS u(i, c, m);
END $$;

-- One accepted roster entry of a worker on a project: stored as the worker's
-- next version when it is new or differs from the current entry (the current
-- entry in roster_entry carries that version number, the version itself is
-- kept in roster_version with its sender and time, never overwritten), left
-- alone when it is the same. A version whose card number or card bank differs
-- from the one before raises CARD_CHANGED (to HRSS: wp_alert_recipients),
-- its key the worker's new version, so once per change; the Detail masks the
-- ID number and shows only the cards' last four digits (the masks the daemon
-- made, 032, else made here from a clear value). p_pii, the sealed record,
-- and the masks are stored with the version. Returns the worker's
-- current version. Takes no lock of its own: the caller holds the project's
-- row. Called by wp_roster_upsert.
CREATE OR REPLACE FUNCTION wp_roster_version(p_project bigint, p_idn text, p_name text,
	p_employer text, p_card text, p_bank text, p_signed date, p_entered date, p_left date,
	p_sender text, p_subject text, p_cert text, p_pii bytea DEFAULT NULL,
	p_id_mask text DEFAULT NULL, p_card_mask text DEFAULT NULL, p_name_mask text DEFAULT NULL)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_cur	roster_entry%ROWTYPE;
	v_ver	int;
BEGIN
	SELECT * INTO v_cur FROM roster_entry WHERE project_id = p_project AND id_number = p_idn::char(18);
	IF NOT FOUND THEN
		v_ver := 1;
		INSERT INTO roster_entry (project_id, id_number, name, employer_uscc, card, card_bank,
			contract_signed, entered, left_on, version, pii, id_mask, card_mask, name_mask)
		VALUES (p_project, p_idn, p_name, p_employer, p_card, p_bank, p_signed, p_entered,
			p_left, v_ver, p_pii, p_id_mask, p_card_mask, p_name_mask);
	ELSIF (v_cur.name, v_cur.employer_uscc::text, v_cur.card, v_cur.card_bank::text,
	       v_cur.contract_signed, v_cur.entered, v_cur.left_on)
	      IS NOT DISTINCT FROM (p_name, p_employer, p_card, p_bank, p_signed, p_entered, p_left) THEN
		RETURN v_cur.version;
	ELSE
		v_ver := v_cur.version + 1;
		UPDATE roster_entry SET name = p_name, employer_uscc = p_employer, card = p_card,
			card_bank = p_bank, contract_signed = p_signed, entered = p_entered,
			left_on = p_left, version = v_ver, updated_at = now(), pii = p_pii,
			id_mask = p_id_mask, card_mask = p_card_mask, name_mask = p_name_mask
		WHERE project_id = p_project AND id_number = p_idn::char(18);
		IF v_cur.card <> p_card OR v_cur.card_bank::text <> p_bank THEN
			INSERT INTO alert (kind, project_id, detail, dedup_key)
			VALUES ('CARD_CHANGED', p_project,
				'worker ' || coalesce(p_id_mask, wp_mask(p_idn))
				|| ': wage card changed from card ending '
				|| right(coalesce(v_cur.card_mask, v_cur.card), 4) || ' (bank '
				|| v_cur.card_bank || ', version ' || v_cur.version
				|| ') to card ending ' || right(coalesce(p_card_mask, p_card), 4) || ' (bank '
				|| p_bank || ', version ' || v_ver || '), sent by ' || p_sender
				|| coalesce(' (certificate ' || left(p_subject, 300) || ')', ''),
				'CARD_CHANGED:' || p_project || ':' || p_idn || ':' || v_ver)
			ON CONFLICT (dedup_key) DO NOTHING;
		END IF;
	END IF;
	INSERT INTO roster_version (project_id, id_number, version, name, employer_uscc, card,
		card_bank, contract_signed, entered, left_on, sent_by, sent_subject, sent_cert,
		pii, id_mask, card_mask, name_mask)
	VALUES (p_project, p_idn, v_ver, p_name, p_employer, p_card, p_bank, p_signed, p_entered,
		p_left, p_sender, p_subject, p_cert, p_pii, p_id_mask, p_card_mask, p_name_mask);
	RETURN v_ver;
END $$;

-- The current roster of a project, for its general contractor only: a summary
-- row ('S', OK or FORBIDDEN, also for an unknown project), then its
-- subcontractors ('C': uscc, name) and workers ('W': ID number, name,
-- employer, card, bank, contract signed, entered, left; and pii, the sealed
-- record in hex that the daemon opens for the clear values, 032, NULL when
-- stored in clear). Reads only.
-- Called by daemon/rosterapi.c (GET /v1/projects/{projectCode}/roster).
CREATE OR REPLACE FUNCTION wp_roster_get(p_contractor text, p_project text)
RETURNS TABLE (kind text, a text, b text, c text, d text, e text, f text, g text, h text,
	pii text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	v_proj	project%ROWTYPE;
BEGIN
	SELECT * INTO v_proj FROM project WHERE code = p_project;
	IF NOT FOUND OR v_proj.contractor_uscc <> p_contractor THEN
		RETURN QUERY SELECT 'S', 'FORBIDDEN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'S', 'OK', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL;
	RETURN QUERY SELECT 'C', ps.uscc::text, co.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL
		FROM project_subcontractor ps JOIN company co USING (uscc)
		WHERE ps.project_id = v_proj.id ORDER BY ps.uscc;
	RETURN QUERY SELECT 'W', r.id_number::text, r.name, r.employer_uscc::text, r.card,
		r.card_bank::text, r.contract_signed::text, r.entered::text, r.left_on::text,
		encode(r.pii, 'hex')
		FROM roster_entry r WHERE r.project_id = v_proj.id ORDER BY r.id_number;
END $$;
