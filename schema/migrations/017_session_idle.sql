-- 017_session_idle.sql: a console session also ends after 30 minutes
-- without a request (session.c, SESSION_IDLE_SECS), not only 8 hours after
-- sign-in: an operator who walks away from a signed-in browser at a bank
-- leaves it usable for half an hour at most, as banks' own controls ask.
-- The gate refreshes last_seen in the statement that checks it.
-- Sessions open when this is applied count as seen now.
ALTER TABLE operator_session ADD COLUMN last_seen timestamptz NOT NULL DEFAULT now();
