-- 026_settlement_status.sql: statuses that tell the truth (issue #19 part 3).
--
-- GET /v1/sheets/{MsgId} now also lists each paid line's settlement
-- (wp_sheet_status, wp_sheet_settlement), the voucher marks each line
-- (wp_voucher), and the console's overview shows the payment orders
-- waiting, in flight and overdue: overdue needs [core] settlement_hours,
-- so wp_console_overview takes it (p_hours, default 24). Its old signature
-- goes; the new body is in functions/console.sql. No table changes: the
-- statuses are read from payment_settlement and line_return as they are.
DROP FUNCTION wp_console_overview(timestamptz);
