-- Lever on trial (tests/bench/run EXTRA_SQL=...): the per-row foreign
-- keys of the two insert-only ledger tables. Each line pays three RI
-- checks (SELECT ... FOR KEY SHARE through SPI: executor start-up, an index
-- probe and a row lock); every wage transfer share-locks the one
-- CLEARING_OUT row, which all payers share. What they check is true by
-- construction inside wp_sheet_submit/wp_sheet_pay (the account ids come
-- from the rows the function has just locked, the sheet id from the row it
-- has just inserted). If adopted, the facts move to a check once per
-- statement, not once per row.
ALTER TABLE transfer DROP CONSTRAINT transfer_debit_account_fkey,
	DROP CONSTRAINT transfer_credit_account_fkey;
ALTER TABLE sheet_line DROP CONSTRAINT sheet_line_sheet_id_fkey;
