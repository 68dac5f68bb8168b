-- 030_guarantee.sql: the wage guarantee (工资保证金 and 保函; 000 #11-12,
-- 002 §(九), 003 二(二) and 三(五), 004 第六条), issue #21.
--
-- Before work starts the general contractor deposits a share of the contract
-- amount in a guarantee account at the bank, or gives a bank guarantee letter
-- (保函), or both. HRSS may order it used (动用) to pay rostered workers their
-- unpaid wages; the contractor restores it within [rules]
-- guarantee_topup_days; at completion with no arrears HRSS lets it be
-- returned (退还). The rules are in schema/functions/guarantee.sql; this file
-- holds what they keep:
--
-- - account.kind GUARANTEE: a balance on the row like a dedicated account's
--   (deposits arrive on the core feed, protected like it);
-- - guarantee: one per project, the required amount (contract amount x the
--   province's rate, or as given), its account, the top-up period and since
--   when it has been short (short_since, what GUARANTEE_SHORT counts from);
-- - guarantee_letter: the letters registered (issuer, number, amount, valid
--   from/to); the part of a letter claimed by draws is in guarantee_draw;
-- - guarantee_draw and guarantee_draw_line: HRSS's decisions to use the
--   guarantee, line by line (a rostered worker, a month, an amount, the card
--   as on the roster when approved). A draw on the account is PAID at once; a
--   draw on a letter is CLAIMED from its issuer and paid when the issuer's
--   money arrives on the guarantee account. A worker's month is drawn at
--   most once (guarantee_draw_line_once); once drawn it counts as paid (a
--   sheet's WAGE line for it is AM05);
-- - payment_order.draw_id: a paid draw's order to the core, beside sheet_id
--   (exactly one of the two); payment_settlement.sheet_id may then be NULL;
-- - guarantee_line_return: a paid drawn line sent back by the card's bank;
--   guarantee_line_paid, a view: the drawn lines that count as paid (not
--   rejected by the core, not sent back);
-- - transfer reason GUARANTEE (a draw's line, guarantee account -> clearing
--   out); the release to the contractor is a MANUAL transfer by approval;
-- - approval kinds GUARANTEE, GUARANTEE_DRAW, GUARANTEE_RELEASE;
-- - alert kinds GUARANTEE_SHORT, GUARANTEE_EXPIRING, GUARANTEE_RELEASED and
--   the monthly GUARANTEES ledger (alert_guarantees fixes its rows).

DO $$
DECLARE
	c	record;
BEGIN
	FOR c IN SELECT conname FROM pg_constraint
	    WHERE conrelid = 'account'::regclass AND contype = 'c'
	      AND pg_get_constraintdef(oid) LIKE '%DEDICATED%' LOOP
		EXECUTE format('ALTER TABLE account DROP CONSTRAINT %I', c.conname);
	END LOOP;
END $$;
ALTER TABLE account
	ADD CONSTRAINT account_kind_check CHECK (kind IN ('DEDICATED', 'CLEARING_IN',
		'CLEARING_OUT', 'ATTACHED', 'GUARANTEE')),
	ADD CONSTRAINT account_balance_kept CHECK (kind NOT IN ('DEDICATED', 'GUARANTEE')
		OR (balance >= 0 AND earmarked <= balance)),
	ADD CONSTRAINT account_balance_derived CHECK (kind IN ('DEDICATED', 'GUARANTEE')
		OR (balance = 0 AND earmarked = 0)),
	ADD CONSTRAINT account_guarantee_no_earmark CHECK (kind <> 'GUARANTEE' OR earmarked = 0);

CREATE TABLE guarantee (
	project_id	bigint PRIMARY KEY REFERENCES project,
	required	bigint NOT NULL CHECK (required > 0),
	contract_amount	bigint CHECK (contract_amount > 0),
	rate		numeric(6,3) CHECK (rate > 0 AND rate <= 100),	-- percent
	account_id	bigint UNIQUE REFERENCES account,
	topup_days	int NOT NULL CHECK (topup_days BETWEEN 1 AND 3650),
	short_since	date,		-- China date held fell below required; NULL: not short
	state		text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'RELEASED')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	released_at	timestamptz,
	release_notice	text,
	CHECK ((state = 'RELEASED') = (released_at IS NOT NULL)),
	CHECK ((contract_amount IS NULL) = (rate IS NULL))
);

CREATE TABLE guarantee_letter (
	id		bigserial PRIMARY KEY,
	project_id	bigint NOT NULL REFERENCES guarantee,
	issuer		text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 200),
	number		text NOT NULL CHECK (length(number) BETWEEN 1 AND 64),
	amount		bigint NOT NULL CHECK (amount > 0),
	valid_from	date NOT NULL,
	valid_to	date NOT NULL,
	approval_id	bigint NOT NULL REFERENCES approval,
	registered_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (issuer, number),
	CHECK (valid_to >= valid_from)
);
CREATE INDEX guarantee_letter_project ON guarantee_letter (project_id);
CREATE TRIGGER guarantee_letter_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON guarantee_letter
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

CREATE TABLE guarantee_draw (
	id		bigserial PRIMARY KEY,
	project_id	bigint NOT NULL REFERENCES guarantee,
	decision_no	text NOT NULL CHECK (length(decision_no) BETWEEN 1 AND 64),
	approval_id	bigint NOT NULL UNIQUE REFERENCES approval,
	letter_id	bigint REFERENCES guarantee_letter,	-- NULL: drawn on the account
	nb_of_txs	int NOT NULL CHECK (nb_of_txs > 0),
	total		bigint NOT NULL CHECK (total > 0),
	state		text NOT NULL CHECK (state IN ('CLAIMED', 'PAID')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	paid_at		timestamptz,
	UNIQUE (project_id, decision_no),
	CHECK ((state = 'PAID') = (paid_at IS NOT NULL))
);
CREATE INDEX guarantee_draw_claimed ON guarantee_draw (project_id, id) WHERE state = 'CLAIMED';

CREATE TABLE guarantee_draw_line (
	draw_id		bigint NOT NULL REFERENCES guarantee_draw,
	seq		int NOT NULL CHECK (seq > 0),
	end_to_end_id	text NOT NULL CHECK (length(end_to_end_id) BETWEEN 1 AND 35),
	project_id	bigint NOT NULL,
	id_number	text NOT NULL,
	name		text NOT NULL,
	card		text NOT NULL,
	card_bank	text NOT NULL,
	month		date NOT NULL CHECK (extract(day FROM month) = 1),
	amount		bigint NOT NULL CHECK (amount > 0),
	PRIMARY KEY (draw_id, seq)
);
-- a worker's month is drawn once; drawn, it counts as paid (月结月清)
CREATE UNIQUE INDEX guarantee_draw_line_once ON guarantee_draw_line (project_id, id_number, month);
CREATE TRIGGER guarantee_draw_line_immutable BEFORE UPDATE OR DELETE OR TRUNCATE
	ON guarantee_draw_line FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- a paid draw's payment order, beside a paid sheet's
ALTER TABLE payment_order ALTER COLUMN sheet_id DROP NOT NULL,
	ADD COLUMN draw_id bigint UNIQUE REFERENCES guarantee_draw,
	ADD CONSTRAINT payment_order_one_source CHECK ((sheet_id IS NULL) <> (draw_id IS NULL));
ALTER TABLE payment_settlement ALTER COLUMN sheet_id DROP NOT NULL;

-- A paid drawn line that the card's bank sent back (camt.054 with RtrInf on
-- the guarantee account, matched by its EndToEndId): its money is back on
-- the guarantee account. Insert-only; a line comes back once.
CREATE TABLE guarantee_line_return (
	entry_ref	text PRIMARY KEY,		-- the core's NtryRef
	draw_id		bigint NOT NULL,
	line_seq	int NOT NULL,
	account_id	bigint NOT NULL REFERENCES account,
	amount		bigint NOT NULL CHECK (amount > 0),
	reason_code	text,
	booking_date	date NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (draw_id, line_seq) REFERENCES guarantee_draw_line,
	UNIQUE (draw_id, line_seq)
);
CREATE TRIGGER guarantee_line_return_immutable BEFORE UPDATE OR DELETE OR TRUNCATE
	ON guarantee_line_return FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- The drawn lines that count as paid: of a PAID draw, neither rejected by
-- the core nor sent back by the card's bank (their money is back on the
-- guarantee account; the worker's month is unpaid again, to be paid as
-- BACKPAY).
CREATE VIEW guarantee_line_paid AS
	SELECT g.draw_id, g.seq, g.project_id, g.id_number, g.month, g.amount
	FROM guarantee_draw_line g JOIN guarantee_draw d ON d.id = g.draw_id AND d.state = 'PAID'
	WHERE NOT EXISTS (SELECT 1 FROM payment_order o JOIN payment_settlement s ON s.order_id = o.id
		WHERE o.draw_id = g.draw_id AND s.line_seq = g.seq AND s.status = 'RJCT')
	  AND NOT EXISTS (SELECT 1 FROM guarantee_line_return r
		WHERE r.draw_id = g.draw_id AND r.line_seq = g.seq);


ALTER TABLE transfer DROP CONSTRAINT transfer_reason_check,
	ADD CONSTRAINT transfer_reason_check CHECK (reason IN ('DEPOSIT', 'WAGE', 'RETURN',
		'ATTACHMENT', 'MANUAL', 'GUARANTEE'));
CREATE UNIQUE INDEX transfer_draw_line_once ON transfer (reference) WHERE reason = 'GUARANTEE';

-- The guarantees a GUARANTEES ledger listed, with their figures when it was
-- raised, so that every retry of the report says the same.
CREATE TABLE alert_guarantees (
	alert_id	uuid NOT NULL REFERENCES alert,
	project_id	bigint NOT NULL REFERENCES project,
	kind		text NOT NULL,
	required	bigint NOT NULL,
	held		bigint NOT NULL,
	drawn		bigint NOT NULL,
	expires		date,
	PRIMARY KEY (alert_id, project_id)
);

DO $$
DECLARE
	c	record;
	v_kinds	text;
BEGIN
	FOR c IN SELECT * FROM (VALUES
		('approval', 'approval_kind_check', ARRAY['GUARANTEE', 'GUARANTEE_DRAW',
			'GUARANTEE_RELEASE'])) AS x(tab, con, more)
	LOOP
		SELECT string_agg(quote_literal(k), ', ' ORDER BY k) INTO v_kinds FROM (
			SELECT m[1] AS k FROM pg_constraint pc
			CROSS JOIN LATERAL regexp_matches(pg_get_constraintdef(pc.oid), '''([A-Z_]+)''', 'g') AS m
			WHERE pc.conname = c.con AND pc.conrelid = c.tab::regclass
			UNION SELECT unnest(c.more)) ks;
		EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (kind IN (%s))',
			c.tab, c.con, c.con, v_kinds);
	END LOOP;
END $$;

-- every kind the migrations before it allow (027's list), and the guarantee's
ALTER TABLE alert DROP CONSTRAINT alert_kind_check;
ALTER TABLE alert ADD CONSTRAINT alert_kind_check CHECK (kind IN ('BALANCE_SHORT',
	'DEPOSIT_SHORT', 'WAGES_OVERDUE', 'MISUSE_ATTEMPT', 'SEIZURE_REFUSED',
	'CARD_CONCENTRATION', 'ACCOUNTS_OPENED', 'LEGAL_ORDER_APPLIED',
	'MANUAL_DEBIT', 'ACCOUNT_CLOSED', 'CARD_CHANGED',
	'PAYMENT_FAILED', 'SETTLEMENT_OVERDUE', 'RECONCILIATION_BREAK',
	'GUARANTEE_SHORT', 'GUARANTEE_EXPIRING', 'GUARANTEE_RELEASED', 'GUARANTEES'));
