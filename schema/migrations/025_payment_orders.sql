-- 025_payment_orders.sql: payment orders to the bank's core (issue #19).
--
-- A paid sheet's money has so far left wagepay's books only as WAGE
-- transfers to CLEARING_OUT. From here, the transaction that pays a sheet
-- (wp_sheet_pay, whichever path: decided at once, paid as stored, or a held
-- sheet released by a deposit) also writes one payment_order row: the
-- outbox of a pain.001.001.10 from the bank to its core, built in C at
-- delivery time (proto/payorder.c) and POSTed until the core takes it
-- (daemon/payorders.c).
--
-- Why one row per sheet and no row per line at payment time: the order's
-- lines are exactly the sheet's accepted lines, and sheet_line is
-- insert-only (the ledger's own table: name, card, card bank, amount,
-- EndToEndId, month as paid). Copying them into a second table would add a
-- row and its unique index per paid line to the payment hot path for
-- nothing the ledger does not hold already. The InstrId of a line is
-- derived, never stored: the order's MsgId, '-', the line's seq (unique
-- bank-wide because the MsgId is, at most 35 characters: 22 + 1 + 7).
-- payment_order_line, a view, shows the order line by line. A row per line
-- is written only when the core answers (payment_settlement), which is not
-- on the paying path.
-- PAYMENT_FAILED and SETTLEMENT_OVERDUE become alert kinds.

CREATE TABLE payment_order (
	id		bigserial PRIMARY KEY,
	-- WPPO + the paying day (China time) + the id: the same on every attempt
	msg_id		text NOT NULL UNIQUE CHECK (length(msg_id) BETWEEN 1 AND 35),
	sheet_id	bigint NOT NULL UNIQUE REFERENCES sheet,	-- one order per paid sheet
	account_id	bigint NOT NULL REFERENCES account,
	nb_of_txs	int NOT NULL CHECK (nb_of_txs > 0),
	ctrl_sum	bigint NOT NULL CHECK (ctrl_sum > 0),
	-- PENDING: in the outbox; TAKEN: the core answered 2xx (or a status)
	state		text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'TAKEN')),
	attempts	int NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	last_attempt_at	timestamptz,
	last_status	int,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	taken_at	timestamptz,
	-- lines without a final status (ACCC or RJCT) yet
	unsettled	int NOT NULL CHECK (unsettled >= 0),
	CHECK ((state = 'TAKEN') = (taken_at IS NOT NULL)),
	CHECK (unsettled <= nb_of_txs)
);
-- the delivery loop's claim, and the settlement rule's look at open orders
CREATE INDEX payment_order_due ON payment_order (next_attempt_at) WHERE state = 'PENDING';
CREATE INDEX payment_order_open ON payment_order (taken_at) WHERE unsettled > 0;

-- The core's final status of one line of an order (pain.002 TxInfAndSts):
-- ACCC credited to the card, RJCT refused with its reason (its money is
-- then back on the account, earmarked: a line_return row 'RJCT/' || InstrId).
-- Insert-only: a final status is final.
CREATE TABLE payment_settlement (
	order_id	bigint NOT NULL REFERENCES payment_order,
	line_seq	int NOT NULL,
	sheet_id	bigint NOT NULL,
	status		text NOT NULL CHECK (status IN ('ACCC', 'RJCT')),
	reason		text CHECK (length(reason) BETWEEN 1 AND 35),
	received_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (order_id, line_seq),
	FOREIGN KEY (sheet_id, line_seq) REFERENCES sheet_line,
	CHECK ((status = 'RJCT') = (reason IS NOT NULL))
);
CREATE TRIGGER payment_settlement_immutable BEFORE UPDATE OR DELETE OR TRUNCATE
	ON payment_settlement FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- An order line by line: every accepted line of the order's sheet, its
-- InstrId, and its final status once the core gave one.
CREATE VIEW payment_order_line AS
	SELECT o.id AS order_id, o.msg_id AS order_msg_id, l.sheet_id, l.seq AS line_seq,
		o.msg_id || '-' || l.seq AS instr_id, l.end_to_end_id, l.amount, l.name, l.card,
		l.card_bank, l.kind, l.month, st.status, st.reason, st.received_at AS settled_at
	FROM payment_order o
	JOIN sheet_line l ON l.sheet_id = o.sheet_id AND l.reason_code IS NULL
	LEFT JOIN payment_settlement st ON st.order_id = o.id AND st.line_seq = l.seq;

-- every kind the migrations before it allow (021, 022, 024), and the two of
-- settlement
ALTER TABLE alert DROP CONSTRAINT alert_kind_check;
ALTER TABLE alert ADD CONSTRAINT alert_kind_check CHECK (kind IN ('BALANCE_SHORT',
	'DEPOSIT_SHORT', 'WAGES_OVERDUE', 'MISUSE_ATTEMPT', 'SEIZURE_REFUSED',
	'CARD_CONCENTRATION', 'ACCOUNTS_OPENED', 'LEGAL_ORDER_APPLIED',
	'MANUAL_DEBIT', 'ACCOUNT_CLOSED', 'CARD_CHANGED',
	'PAYMENT_FAILED', 'SETTLEMENT_OVERDUE'));
