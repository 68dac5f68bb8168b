-- 027_reconciliation.sql: the core's end-of-day statements reconciled
-- against the ledger (issue #19, part 4).
--
-- POST /v1/core/statements brings, for one dedicated account and one day,
-- the core's camt.053.001.08: its opening and closing booked balances and
-- its booked entries. wp_core_statement (functions/reconcile.sql) compares
-- them with the ledger under the account's row lock and records here what
-- it found: core_statement one row per statement (both figures and the
-- outcome), core_statement_entry every entry as the core booked it (what
-- the core has booked is what later days' in-flight orders are judged
-- by), core_statement_break the entries in question of a break. All three
-- are insert-only: a reconciliation is evidence.
-- RECONCILIATION_BREAK becomes an alert kind.

CREATE TABLE core_statement (
	id		bigserial PRIMARY KEY,
	msg_id		text NOT NULL CHECK (length(msg_id) BETWEEN 1 AND 35),
	stmt_id		text NOT NULL CHECK (length(stmt_id) BETWEEN 1 AND 35),
	account_id	bigint NOT NULL REFERENCES account,
	day		date NOT NULL,			-- China time, the CLBD's date
	opening		bigint NOT NULL,		-- the core's OPBD, fen
	closing		bigint NOT NULL,		-- the core's CLBD, fen
	credits		bigint NOT NULL,		-- the statement's booked entries
	debits		bigint NOT NULL,
	entries		int NOT NULL CHECK (entries >= 0),
	ledger_opening	bigint NOT NULL,		-- the ledger at the day's start
	ledger_closing	bigint NOT NULL,		-- and at its end
	in_flight	bigint NOT NULL CHECK (in_flight >= 0),	-- orders debited here, not yet booked by the core
	outcome		text NOT NULL CHECK (outcome IN ('AGREED', 'BREAK')),
	detail		text NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (msg_id, stmt_id)
);
CREATE INDEX core_statement_account_day ON core_statement (account_id, day);
-- a statement reads the account's orders paid in its window or still pending
CREATE INDEX payment_order_account ON payment_order (account_id, created_at);

CREATE TABLE core_statement_entry (
	statement_id	bigint NOT NULL REFERENCES core_statement,
	seq		int NOT NULL,
	account_id	bigint NOT NULL REFERENCES account,
	ref		text NOT NULL CHECK (length(ref) BETWEEN 1 AND 35),	-- NtryRef, else AcctSvcrRef
	credit		boolean NOT NULL,
	amount		bigint NOT NULL CHECK (amount > 0),
	svcr_ref	text,
	end_to_end_id	text,
	booked		date,
	PRIMARY KEY (statement_id, seq)
);
CREATE INDEX core_statement_entry_ref ON core_statement_entry (account_id, ref);

-- CORE_ONLY: the core booked it, the ledger has no such entry that day;
-- LEDGER_ONLY: the ledger has it, the core did not book it (and it is not
-- an order in flight); AMOUNT: both, with other amounts.
CREATE TABLE core_statement_break (
	statement_id	bigint NOT NULL REFERENCES core_statement,
	problem		text NOT NULL CHECK (problem IN ('CORE_ONLY', 'LEDGER_ONLY', 'AMOUNT')),
	ref		text NOT NULL,
	credit		boolean NOT NULL,
	core_amount	bigint,
	ledger_amount	bigint
);
CREATE INDEX core_statement_break_statement ON core_statement_break (statement_id);

CREATE TRIGGER core_statement_immutable BEFORE UPDATE OR DELETE OR TRUNCATE
	ON core_statement FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();
CREATE TRIGGER core_statement_entry_immutable BEFORE UPDATE OR DELETE OR TRUNCATE
	ON core_statement_entry FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();
CREATE TRIGGER core_statement_break_immutable BEFORE UPDATE OR DELETE OR TRUNCATE
	ON core_statement_break FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- every kind the migrations before it allow (025's list), and the break
ALTER TABLE alert DROP CONSTRAINT alert_kind_check;
ALTER TABLE alert ADD CONSTRAINT alert_kind_check CHECK (kind IN ('BALANCE_SHORT',
	'DEPOSIT_SHORT', 'WAGES_OVERDUE', 'MISUSE_ATTEMPT', 'SEIZURE_REFUSED',
	'CARD_CONCENTRATION', 'ACCOUNTS_OPENED', 'LEGAL_ORDER_APPLIED',
	'MANUAL_DEBIT', 'ACCOUNT_CLOSED', 'CARD_CHANGED',
	'PAYMENT_FAILED', 'SETTLEMENT_OVERDUE', 'RECONCILIATION_BREAK'));
