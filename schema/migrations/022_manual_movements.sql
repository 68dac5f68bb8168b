-- 022_manual_movements.sql: 专款专用 with no back doors (002 §(十一), 004
-- 第七条 and 第十一条): a manual debit of a dedicated account is only the
-- return of a named deposit to its payer, or the payout of the balance to
-- the account holder when the account closes; the account closes only after
-- the project is marked complete and a public-notice period has passed.
--
-- Before, a maker and a checker could move money from one project's
-- dedicated account to another's, or out to the clearing account, or put
-- money on an account from the clearing account, guarded only by the wages
-- owed, and no regulator heard of it. The rules are in
-- schema/functions/approvals.sql; this file holds what they keep:
--
-- - project.completed_on and project.notice_days: the completion date a
--   maker proposed and a checker approved (COMPLETE_PROJECT), and the
--   public-notice period ([rules] closing_notice_days) in force when it was
--   approved; the account may close notice_days after completed_on.
-- - deposit_return: each deposit returned to its payer, at most once (its
--   entry reference is the key), with the amount and the approval; rows are
--   never updated or deleted, as the ledger's.
-- - approval kind COMPLETE_PROJECT; alert kinds MANUAL_DEBIT (every manual
--   debit of a dedicated account, with the approval's maker and checker)
--   and ACCOUNT_CLOSED (the closing, reported to HRSS). The lists are
--   extended from what the constraints hold, so that kinds added by other
--   migrations stay allowed whatever order they come in.
-- - wp_console_move_refusal and wp_console_close take new arguments (the
--   proposal's payload; the approval's id, which the payout at closing
--   references): their old signatures are dropped here, the new bodies are
--   in functions/approvals.sql.

ALTER TABLE project
	ADD COLUMN completed_on	date,
	ADD COLUMN notice_days	int CHECK (notice_days BETWEEN 1 AND 3650),
	-- an ACTIVE project has no completion, a COMPLETE one has; a project
	-- CLOSED before this migration closed without one
	ADD CONSTRAINT project_completed CHECK ((state <> 'ACTIVE' OR completed_on IS NULL)
		AND (state <> 'COMPLETE' OR completed_on IS NOT NULL)
		AND (completed_on IS NULL) = (notice_days IS NULL));

CREATE TABLE deposit_return (
	entry_ref	text PRIMARY KEY REFERENCES deposit,
	account_id	bigint NOT NULL REFERENCES account,
	amount		bigint NOT NULL CHECK (amount > 0),
	approval_id	bigint NOT NULL UNIQUE REFERENCES approval,
	returned_at	timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER deposit_return_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON deposit_return
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- a return of a deposit waiting for its checker is looked up by the deposit
CREATE INDEX approval_deposit ON approval ((payload->>'deposit'))
	WHERE kind = 'MANUAL_MOVEMENT' AND state = 'PENDING';

DO $$
DECLARE
	c	record;
	v_kinds	text;
BEGIN
	FOR c IN SELECT * FROM (VALUES
		('approval', 'approval_kind_check', ARRAY['COMPLETE_PROJECT']),
		('alert', 'alert_kind_check', ARRAY['MANUAL_DEBIT', 'ACCOUNT_CLOSED'])) AS x(tab, con, more)
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_constraint
		    WHERE conname = c.con AND conrelid = c.tab::regclass) THEN
			RAISE EXCEPTION 'constraint % of % not found', c.con, c.tab;
		END IF;
		SELECT string_agg(quote_literal(k), ', ' ORDER BY k) INTO v_kinds FROM (
			SELECT m[1] AS k FROM pg_constraint pc
			CROSS JOIN LATERAL regexp_matches(pg_get_constraintdef(pc.oid), '''([A-Z_]+)''', 'g') AS m
			WHERE pc.conname = c.con AND pc.conrelid = c.tab::regclass
			UNION SELECT unnest(c.more)) ks;
		EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (kind IN (%s))',
			c.tab, c.con, c.con, v_kinds);
	END LOOP;
END $$;

DROP FUNCTION wp_console_move_refusal(account, account, bigint, timestamptz);
DROP FUNCTION wp_console_close(jsonb, text);
