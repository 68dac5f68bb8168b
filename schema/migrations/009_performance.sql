-- 009_performance.sql: what the month-end benchmark measured to pay
-- (tests/bench/RESULTS.md; each lever timed alone and together: PostgreSQL
-- CPU per 1,000 lines 32.6 -> 21.1 ms with the signature lever).

-- 1. The per-row foreign keys of the two insert-only ledger tables.
-- Every line paid three referential checks (an SPI query, an index probe and
-- a FOR KEY SHARE row lock each); every wage transfer share-locked the one
-- CLEARING-OUT row that all payers share. Rows are inserted only by the
-- functions of 002/006, with account ids read from rows they have just
-- locked and sheet ids they have just inserted. What the keys guarded
-- against afterwards - an account or sheet disappearing or changing id -
-- is refused outright instead: neither is ever deleted (records are kept
-- at least 3 years after the project closes, 004 第十一条) nor renumbered.
ALTER TABLE transfer DROP CONSTRAINT transfer_debit_account_fkey,
	DROP CONSTRAINT transfer_credit_account_fkey;
ALTER TABLE sheet_line DROP CONSTRAINT sheet_line_sheet_id_fkey;

CREATE FUNCTION wp_refuse_rekey() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' OR NEW.id <> OLD.id THEN
		RAISE EXCEPTION '% rows are never deleted or renumbered', TG_TABLE_NAME
			USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER account_kept BEFORE DELETE OR UPDATE OF id ON account
	FOR EACH ROW EXECUTE FUNCTION wp_refuse_rekey();
CREATE TRIGGER account_not_truncated BEFORE TRUNCATE ON account
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();
CREATE TRIGGER sheet_kept BEFORE DELETE OR UPDATE OF id ON sheet
	FOR EACH ROW EXECUTE FUNCTION wp_refuse_rekey();
CREATE TRIGGER sheet_not_truncated BEFORE TRUNCATE ON sheet
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- 2. Every wage transfer credits CLEARING-OUT: one index entry per line, all
-- under one key at the same right-most leaf, for an account whose balance is
-- a sum over the whole table anyway. Statements of dedicated accounts need
-- their credits (deposits, returns), which are never WAGE.
DROP INDEX transfer_credit;
CREATE INDEX transfer_credit ON transfer (credit_account, created_at) WHERE reason <> 'WAGE';

-- 3. plpgsql re-planned wp_sheet_submit's statements with custom plans, a
-- quarter of a small sheet's database work; the parameters do not change
-- the best plan, so one generic plan serves every call.
ALTER FUNCTION wp_sheet_submit(text, text, bytea, text, text, date, int, bigint, json)
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION wp_sheet_pay(bigint, bigint, text) SET plan_cache_mode = force_generic_plan;
