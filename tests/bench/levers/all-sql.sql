-- The three SQL levers together (no-row-fk, credit-index, generic-plans).
ALTER TABLE transfer DROP CONSTRAINT transfer_debit_account_fkey,
	DROP CONSTRAINT transfer_credit_account_fkey;
ALTER TABLE sheet_line DROP CONSTRAINT sheet_line_sheet_id_fkey;
DROP INDEX transfer_credit;
CREATE INDEX transfer_credit ON transfer (credit_account, created_at) WHERE reason <> 'WAGE';
ALTER FUNCTION wp_sheet_submit(text, text, bytea, text, text, date, int, bigint, json)
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION wp_sheet_pay(bigint, bigint, text) SET plan_cache_mode = force_generic_plan;
