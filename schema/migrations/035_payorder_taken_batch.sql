-- 035_payorder_taken_batch.sql: the core's 2xx recorded in batches, at the
-- time the daemon heard them (issue #19, the hand-off's speed).
--
-- wp_payorder_taken took one order and stamped taken_at with the
-- database's now(), so an order the core had taken read as taken only once
-- its update got through the daemon's pool behind the sheets queued there,
-- and each order cost a commit of its own. It now takes arrays (orders,
-- HTTP statuses, the daemon's times of the 2xx); the new body is in
-- functions/settlement.sql. No table changes.
DROP FUNCTION IF EXISTS wp_payorder_taken(bigint, int);
