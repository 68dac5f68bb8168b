-- common.sql: small shared pieces: money as yuan, China time, masking, and
-- the trigger functions that keep the ledger immutable.

CREATE OR REPLACE FUNCTION wp_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are never updated or deleted', TG_TABLE_NAME
		USING ERRCODE = 'restrict_violation';
END $$;

-- Fen as the console's decimal yuan string: 450000 -> '4500.00'.
CREATE OR REPLACE FUNCTION wp_yuan(p bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p < 0 THEN '-' ELSE '' END || (abs(p) / 100)::text || '.'
		|| lpad((abs(p) % 100)::text, 2, '0')
$$;

-- The wall-clock time in China of an instant.
CREATE OR REPLACE FUNCTION wp_cst(p timestamptz) RETURNS timestamp LANGUAGE sql IMMUTABLE AS $$
	SELECT p AT TIME ZONE INTERVAL '+08:00'
$$;

-- An instant as an ISO dateTime with its +08:00 offset (the alert and voucher
-- schemas require an explicit zone).
CREATE OR REPLACE FUNCTION wp_iso_cst(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT to_char(wp_cst(p), 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00'
$$;

-- Masked ID numbers for an alert's Detail (never a full one, STYLE.md).
CREATE OR REPLACE FUNCTION wp_mask(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN length(p) <= 8 THEN repeat('*', length(p))
		ELSE left(p, 4) || repeat('*', length(p) - 8) || right(p, 4) END
$$;

CREATE OR REPLACE FUNCTION wp_refuse_rekey() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' OR NEW.id <> OLD.id THEN
		RAISE EXCEPTION '% rows are never deleted or renumbered', TG_TABLE_NAME
			USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END $$;

