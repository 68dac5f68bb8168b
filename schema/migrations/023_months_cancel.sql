-- 023_months_cancel.sql: the months of a sheet's lines judged by the
-- daemon's clock, and a held sheet withdrawn by its general contractor.
--
-- Months (DESIGN.md "Sheet": a WAGE line is for the current month or an
-- earlier one the worker was on site; BACKPAY names an earlier month). The
-- current month is China time of the daemon's clock (daemon/clock.c,
-- WAGEPAY_CLOCK in tests), which wp_sheet_open now takes as p_now and keeps
-- on the sheet as clock_at, so that wp_sheet_lines, called per slice in a
-- session, judges every batch by the same instant with no argument of its
-- own (WP07 a WAGE month after the current one, WP08 a BACKPAY month not
-- before it, WP09 a worker's confirmation after the clock; functions/
-- sheet.sql). clock_at is NULL on the sheets decided before this migration.
--
-- Cancel: a HELD sheet may be withdrawn by the project's general contractor
-- (POST /v1/sheets/{MsgId}/cancel): state CANCELLED, when in cancelled_at,
-- never paid. The state CHECK is widened (rebuilt: it scans sheet, a table
-- of one row per sheet, under this transaction's lock), and the new pair
-- (CANCELLED, cancelled_at) is tied as (PAID, paid_at) is.
--
-- wp_sheet_open and wp_sheet_submit take the clock as their last argument:
-- their old signatures are dropped here, the new bodies are in
-- functions/sheet.sql.

ALTER TABLE sheet ADD COLUMN clock_at timestamptz;
COMMENT ON COLUMN sheet.clock_at IS
	'the daemon''s clock when the sheet was opened: its China-time month is the current month of the month rules (023)';
ALTER TABLE sheet ADD COLUMN cancelled_at timestamptz;
COMMENT ON COLUMN sheet.cancelled_at IS
	'when its general contractor withdrew it while HELD (023)';

ALTER TABLE sheet DROP CONSTRAINT sheet_state_check;
ALTER TABLE sheet ADD CONSTRAINT sheet_state_check
	CHECK (state IN ('RECEIVED', 'REJECTED', 'HELD', 'PAID', 'CANCELLED'));
ALTER TABLE sheet ADD CONSTRAINT sheet_cancelled_at_check
	CHECK ((state = 'CANCELLED') = (cancelled_at IS NOT NULL));

DROP FUNCTION wp_sheet_open(text, text, text, text, bigint);
DROP FUNCTION wp_sheet_submit(text, text, bytea, text, text, date, int, bigint,
	text[], bigint[], text[], text[], text[], text[], text[], date[], bigint[], int[],
	timestamptz[], text[], text[], text[], text[]);
