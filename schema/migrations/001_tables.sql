-- 001_tables.sql: the data of wagepay.
--
-- Constraints live here, not only in C: one dedicated account per project,
-- amounts > 0, states by CHECK, a worker's WAGE month paid at most once per
-- project, and ledger rows that can never be updated or deleted (004 第十一条:
-- payment records are kept at least 3 years after the project closes).
-- Money is bigint fen everywhere.

CREATE TABLE company (
	uscc		char(18) PRIMARY KEY CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

-- Every account the ledger knows. Only DEDICATED accounts keep a balance on
-- the row (the rules read it under a row lock); the bank's clearing accounts'
-- balances are derived from the transfers, so that they are not a hot row
-- every payment would queue on.
CREATE TABLE account (
	id		bigserial PRIMARY KEY,
	number		text NOT NULL UNIQUE CHECK (number ~ '^[0-9A-Za-z-]{1,34}$'),
	kind		text NOT NULL CHECK (kind IN ('DEDICATED', 'CLEARING_IN', 'CLEARING_OUT', 'ATTACHED')),
	balance		bigint NOT NULL DEFAULT 0,
	-- returned wages kept for their worker and month (issue: returns)
	earmarked	bigint NOT NULL DEFAULT 0 CHECK (earmarked >= 0),
	state		text NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'CLOSED')),
	opened_at	timestamptz NOT NULL DEFAULT now(),
	closed_at	timestamptz,
	CHECK (kind <> 'DEDICATED' OR (balance >= 0 AND earmarked <= balance)),
	CHECK (kind = 'DEDICATED' OR (balance = 0 AND earmarked = 0))
) WITH (fillfactor = 70);

-- The bank's side of every movement: deposits come in from CLEARING_IN,
-- wages go out to CLEARING_OUT (towards the workers' card banks).
INSERT INTO account (number, kind) VALUES
	('CLEARING-IN', 'CLEARING_IN'),
	('CLEARING-OUT', 'CLEARING_OUT');

CREATE TABLE project (
	id			bigserial PRIMARY KEY,
	code			text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
	name			text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	region			char(6) NOT NULL CHECK (region ~ '^[0-9]{6}$'),
	industry		text NOT NULL CHECK (industry IN ('housing', 'transport', 'water', 'agriculture')),
	owner_uscc		char(18) NOT NULL REFERENCES company,
	contractor_uscc		char(18) NOT NULL REFERENCES company,
	-- exactly one dedicated account per project, and an account serves one project
	account_id		bigint NOT NULL UNIQUE REFERENCES account,
	labour_cost_total	bigint NOT NULL CHECK (labour_cost_total > 0),
	contract_months		int NOT NULL CHECK (contract_months BETWEEN 1 AND 240),
	start_month		date NOT NULL CHECK (extract(day FROM start_month) = 1),
	pay_day			int NOT NULL CHECK (pay_day BETWEEN 1 AND 28),
	state			text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'COMPLETE', 'CLOSED')),
	created_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX project_contractor ON project (contractor_uscc);

CREATE TABLE project_subcontractor (
	project_id	bigint NOT NULL REFERENCES project,
	uscc		char(18) NOT NULL REFERENCES company,
	PRIMARY KEY (project_id, uscc)
);

-- The real-name roster (实名制), upserted by ID number.
CREATE TABLE roster_entry (
	project_id	bigint NOT NULL,
	id_number	char(18) NOT NULL CHECK (id_number ~ '^[0-9]{17}[0-9X]$'),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 140),
	employer_uscc	char(18) NOT NULL,
	card		text NOT NULL CHECK (card ~ '^[0-9]{12,19}$'),
	card_bank	char(12) NOT NULL CHECK (card_bank ~ '^[0-9]{12}$'),
	contract_signed	date NOT NULL,
	entered		date NOT NULL,
	left_on		date,
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (project_id, id_number),
	FOREIGN KEY (project_id, employer_uscc) REFERENCES project_subcontractor,
	-- 先签订劳动合同后进场 (000 #3)
	CHECK (contract_signed <= entered),
	CHECK (left_on IS NULL OR left_on >= entered)
);

-- One person, one card (一人一卡), across the whole bank.
CREATE TABLE card_owner (
	card		text PRIMARY KEY,
	id_number	char(18) NOT NULL
);

CREATE TABLE sheet (
	id			bigserial PRIMARY KEY,
	contractor_uscc		char(18) NOT NULL,
	msg_id			text NOT NULL,
	digest			bytea NOT NULL,		-- SHA-256 of the bytes as received
	project_id		bigint NOT NULL REFERENCES project,
	account_id		bigint NOT NULL REFERENCES account,
	subcontractor_uscc	char(18) NOT NULL,
	month			date NOT NULL CHECK (extract(day FROM month) = 1),
	-- RECEIVED is only ever seen inside the transaction that decides the sheet
	state			text NOT NULL CHECK (state IN ('RECEIVED', 'REJECTED', 'HELD', 'PAID')),
	nb_of_txs		int NOT NULL CHECK (nb_of_txs > 0),
	ctrl_sum		bigint NOT NULL CHECK (ctrl_sum > 0),
	accepted_count		int NOT NULL CHECK (accepted_count >= 0),
	accepted_total		bigint NOT NULL CHECK (accepted_total >= 0),
	received_at		timestamptz NOT NULL DEFAULT now(),
	paid_at			timestamptz,
	UNIQUE (contractor_uscc, msg_id),
	CHECK ((state = 'PAID') = (paid_at IS NOT NULL)),
	CHECK (state IN ('RECEIVED', 'REJECTED') OR accepted_count > 0)
) WITH (fillfactor = 80);
-- held sheets are released oldest first
CREATE INDEX sheet_held ON sheet (account_id, id) WHERE state = 'HELD';
CREATE INDEX sheet_project_month ON sheet (project_id, month);

-- The lines as submitted and decided. Insert-only: a line is accepted when
-- reason_code is NULL; it is paid when its sheet is PAID (one transaction).
CREATE TABLE sheet_line (
	sheet_id	bigint NOT NULL REFERENCES sheet,
	seq		int NOT NULL CHECK (seq > 0),
	end_to_end_id	text NOT NULL CHECK (length(end_to_end_id) BETWEEN 1 AND 35),
	project_id	bigint NOT NULL,
	id_number	text NOT NULL,
	name		text NOT NULL,
	card		text NOT NULL,
	card_bank	text NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('WAGE', 'BACKPAY')),
	month		date NOT NULL CHECK (extract(day FROM month) = 1),
	amount		bigint NOT NULL CHECK (amount > 0),
	gross		bigint NOT NULL CHECK (gross >= 0),
	days_worked	int NOT NULL CHECK (days_worked BETWEEN 0 AND 31),
	confirmed_at	timestamptz NOT NULL,
	confirm_method	text NOT NULL CHECK (confirm_method IN ('SIGN', 'FACE', 'APP')),
	confirm_ref	text NOT NULL,
	reason_code	text,
	reason_text	text,
	PRIMARY KEY (sheet_id, seq),
	UNIQUE (sheet_id, end_to_end_id),
	CHECK ((reason_code IS NULL) = (reason_text IS NULL))
);
-- 月结月清: a worker's wage for a month is paid at most once per project.
CREATE UNIQUE INDEX sheet_line_wage_once ON sheet_line (project_id, id_number, month)
	WHERE kind = 'WAGE' AND reason_code IS NULL;
CREATE INDEX sheet_line_worker ON sheet_line (project_id, id_number);

-- Deposits as the core reported them (payer recorded).
CREATE TABLE deposit (
	entry_ref	text PRIMARY KEY,
	account_id	bigint NOT NULL REFERENCES account,
	amount		bigint NOT NULL CHECK (amount > 0),
	booking_date	date NOT NULL,
	payer_name	text,
	payer_uscc	text,
	received_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deposit_account_date ON deposit (account_id, booking_date);

-- The ledger: immutable double entry. The sum of (credits - debits) over all
-- accounts is zero by construction; a dedicated account's balance on its row
-- equals its credits minus its debits.
CREATE TABLE transfer (
	id		bigserial PRIMARY KEY,
	debit_account	bigint NOT NULL REFERENCES account,
	credit_account	bigint NOT NULL REFERENCES account,
	amount		bigint NOT NULL CHECK (amount > 0),
	reason		text NOT NULL CHECK (reason IN ('DEPOSIT', 'WAGE', 'RETURN', 'ATTACHMENT', 'MANUAL')),
	reference	text NOT NULL,
	sheet_id	bigint,
	line_seq	int,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (debit_account <> credit_account),
	CHECK ((reason = 'WAGE') = (sheet_id IS NOT NULL AND line_seq IS NOT NULL))
);
-- a line is paid once; a core entry is booked once
CREATE UNIQUE INDEX transfer_line_once ON transfer (sheet_id, line_seq) WHERE reason = 'WAGE';
CREATE UNIQUE INDEX transfer_entry_once ON transfer (reason, reference) WHERE reason IN ('DEPOSIT', 'RETURN');
CREATE INDEX transfer_debit ON transfer (debit_account, created_at);
CREATE INDEX transfer_credit ON transfer (credit_account, created_at);

CREATE FUNCTION wp_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are never updated or deleted', TG_TABLE_NAME
		USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER transfer_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON transfer
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();
CREATE TRIGGER sheet_line_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON sheet_line
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();
CREATE TRIGGER deposit_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON deposit
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- The transactional outbox of regulator alerts: written in the same
-- transaction as the event. dedup_key makes a condition fire once while it
-- stays true (edge-triggered); deliveries per recipient are another table.
CREATE TABLE alert (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	kind		text NOT NULL CHECK (kind IN ('BALANCE_SHORT', 'DEPOSIT_SHORT', 'WAGES_OVERDUE',
				'MISUSE_ATTEMPT', 'SEIZURE_REFUSED', 'CARD_CONCENTRATION', 'ACCOUNTS_OPENED')),
	project_id	bigint REFERENCES project,
	raised_at	timestamptz NOT NULL DEFAULT now(),
	balance		bigint,
	required	bigint,
	shortfall	bigint,
	month		date,
	msg_id		text,
	end_to_end_id	text,
	detail		text NOT NULL,
	dedup_key	text UNIQUE
);
CREATE INDEX alert_raised ON alert (raised_at);

-- Bank operators of the console; password_hash is a self-describing scrypt
-- string made by the daemon.
CREATE TABLE operator (
	id		bigserial PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
	role		text NOT NULL CHECK (role IN ('viewer', 'maker', 'checker', 'admin')),
	password_hash	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	disabled	boolean NOT NULL DEFAULT false
);

CREATE TABLE operator_session (
	token_hash	bytea PRIMARY KEY,
	operator_id	bigint NOT NULL REFERENCES operator,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);

-- Four eyes: a maker proposes, a different checker decides.
CREATE TABLE approval (
	id		bigserial PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('OPEN_ACCOUNT', 'CLOSE_ACCOUNT', 'MANUAL_MOVEMENT')),
	payload		jsonb NOT NULL,
	maker_id	bigint NOT NULL REFERENCES operator,
	created_at	timestamptz NOT NULL DEFAULT now(),
	state		text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'APPROVED', 'REJECTED', 'FAILED')),
	checker_id	bigint REFERENCES operator,
	decided_at	timestamptz,
	outcome		text,
	CHECK (checker_id IS NULL OR checker_id <> maker_id),
	CHECK ((state = 'PENDING') = (checker_id IS NULL))
);

-- The audit trail: each record's hash covers the previous record's hash,
-- so a changed or removed row breaks the chain from there on.
CREATE TABLE audit (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	action		text NOT NULL,
	object		text NOT NULL,
	detail		text NOT NULL,
	prev_hash	bytea NOT NULL,
	hash		bytea NOT NULL
);
-- The chain's head: appending locks this one row, so records are chained in
-- commit order.
CREATE TABLE audit_head (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	hash		bytea NOT NULL
);
INSERT INTO audit_head (hash) VALUES (sha256(''::bytea));
CREATE TRIGGER audit_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();
