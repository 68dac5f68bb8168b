-- 021_legal_orders.sql: legal orders as 003 三(五) sets them, and the wages
-- owed counting the arrears and the frozen amounts.
--
-- Until now a wages order (Reason WAGES) was attached only above the wages
-- owed, so the workers' own enforcement was refused, and a wages FREEZE was
-- recorded but reserved nothing. Now (schema/functions/core.sql,
-- wp_core_legal_order): a WAGES order is applied up to the balance less what
-- other orders keep frozen; a SEIZE or DEDUCT moves the money to the
-- ATTACHED account as before; a FREEZE reserves its amount against every
-- other taker (another order, a manual movement) while sheets paying the
-- project's workers may still spend it; an UNFREEZE with the freeze's
-- OrderNo lifts it; an order for any other reason is refused whole. Every
-- order is reported: LEGAL_ORDER_APPLIED or SEIZURE_REFUSED.
--
-- Data and DDL only:
--  - legal_order.kind takes UNFREEZE;
--  - legal_order.unfrozen: what of the freeze(s) under the same OrderNo on
--    the same account this order lifted (UNFREEZE) or took (a SEIZE or
--    DEDUCT after a freeze, 冻结后扣划); what an OrderNo keeps frozen is its
--    FREEZEs' attached less every unfrozen under it (wp_legal_frozen), all
--    read from immutable rows, never updated;
--  - legal_order.frozen: what other orders kept frozen when it was decided;
--  - an applied order attaches or lifts something;
--  - an index for the frozen amounts of an account;
--  - the alert kind LEGAL_ORDER_APPLIED;
--  - wp_wages_owed gains OUT arrears and frozen (a new row type): the old
--    signature is dropped here, its body is in functions/plan.sql.
ALTER TABLE legal_order DROP CONSTRAINT legal_order_kind_check,
	ADD CONSTRAINT legal_order_kind_check CHECK (kind IN ('FREEZE', 'SEIZE', 'DEDUCT', 'UNFREEZE'));
ALTER TABLE legal_order ADD COLUMN unfrozen bigint NOT NULL DEFAULT 0 CHECK (unfrozen >= 0),
	ADD COLUMN frozen bigint;
ALTER TABLE legal_order DROP CONSTRAINT legal_order_check,
	ADD CONSTRAINT legal_order_check CHECK ((outcome = 'APPLIED') = (attached > 0 OR unfrozen > 0)),
	ADD CONSTRAINT legal_order_unfreeze_attaches_nothing CHECK (kind <> 'UNFREEZE' OR attached = 0);
CREATE INDEX legal_order_applied ON legal_order (account_id, order_no) WHERE outcome = 'APPLIED';

ALTER TABLE alert DROP CONSTRAINT alert_kind_check,
	ADD CONSTRAINT alert_kind_check CHECK (kind IN ('BALANCE_SHORT', 'DEPOSIT_SHORT', 'WAGES_OVERDUE',
		'MISUSE_ATTEMPT', 'SEIZURE_REFUSED', 'CARD_CONCENTRATION', 'ACCOUNTS_OPENED',
		'LEGAL_ORDER_APPLIED'));

DROP FUNCTION wp_wages_owed(bigint, timestamptz);
