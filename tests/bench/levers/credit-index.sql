-- Lever on trial: every wage transfer credits CLEARING_OUT, so the
-- transfer_credit index gets one entry per line, all under one key, at the
-- same right-most leaf, for a clearing account whose balance is a sum over
-- the whole table anyway. Statements of dedicated accounts need their
-- credits (deposits, returns), which are never WAGE.
DROP INDEX transfer_credit;
CREATE INDEX transfer_credit ON transfer (credit_account, created_at) WHERE reason <> 'WAGE';
