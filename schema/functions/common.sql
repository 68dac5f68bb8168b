-- common.sql: small shared pieces: money as yuan, China time, masking, and
-- the trigger functions that keep the ledger immutable.

-- Trigger: refuses every UPDATE, DELETE or TRUNCATE (restrict_violation) of a
-- ledger table whose rows are kept as written, at least 3 years after the
-- project closes (004 第十一条): transfer, sheet_line, deposit, audit,
-- line_return, earmark_release, debit_request, legal_order, roster_version;
-- and TRUNCATE of account and sheet.
CREATE OR REPLACE FUNCTION wp_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are never updated or deleted', TG_TABLE_NAME
		USING ERRCODE = 'restrict_violation';
END $$;

-- Trigger: refuses deleting or renumbering an account or sheet row
-- (restrict_violation), which the ledger's rows point at; other updates
-- (balance, state) go through.
CREATE OR REPLACE FUNCTION wp_refuse_rekey() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' OR NEW.id <> OLD.id THEN
		RAISE EXCEPTION '% rows are never deleted or renumbered', TG_TABLE_NAME
			USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END $$;

-- Fen as the console's decimal yuan string: 450000 -> '4500.00'. Used for
-- every amount a person reads (console, refusals, alert Details).
CREATE OR REPLACE FUNCTION wp_yuan(p bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p < 0 THEN '-' ELSE '' END || (abs(p) / 100)::text || '.'
		|| lpad((abs(p) % 100)::text, 2, '0')
$$;

-- An instant as an ISO dateTime with its +08:00 offset (the alert and voucher
-- schemas require an explicit zone). Used by wp_alert_claim and wp_voucher.
CREATE OR REPLACE FUNCTION wp_iso_cst(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT to_char(wp_cst(p), 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00'
$$;

-- The wall-clock time in China of an instant: what decides which day or month
-- something falls in (rules, plan, statement dates).
CREATE OR REPLACE FUNCTION wp_cst(p timestamptz) RETURNS timestamp LANGUAGE sql IMMUTABLE AS $$
	SELECT p AT TIME ZONE INTERVAL '+08:00'
$$;

-- An ID number masked for an alert's Detail (never a full one, STYLE.md):
-- first and last 4 kept, the rest '*', 8 characters or fewer masked whole.
-- Used by wp_rule_wages_overdue.
CREATE OR REPLACE FUNCTION wp_mask(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN length(p) <= 8 THEN repeat('*', length(p))
		ELSE left(p, 4) || repeat('*', length(p) - 8) || right(p, 4) END
$$;
