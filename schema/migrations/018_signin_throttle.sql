-- 018_signin_throttle.sql: failed console sign-ins counted in the
-- database, so that every instance of the daemon sees the same count.
--
-- Until now each process kept its own table of failures per name: with two
-- instances behind one address, a guesser had twice the tries, and the
-- table's 1,024 slots could be flooded with other names until the one
-- under attack was forgotten. The rule is unchanged (session.c): 5
-- failures for a name within 15 minutes lock it for 15 minutes, known
-- name or not (so that a 429 tells nothing of which names exist), and a
-- sign-in that succeeds clears the name's count.
CREATE TABLE signin_throttle (
	name		text PRIMARY KEY,
	fails		int NOT NULL CHECK (fails > 0),
	first_at	timestamptz NOT NULL,	-- the window's first failure
	locked_until	timestamptz
);

-- A failed sign-in for p_name: true if this failure locked the name
-- (p_fails within p_secs of the window's first; locked for p_secs). Rows
-- whose window and lock are both over are dropped on the way: a flood of
-- made-up names (each costing the caller a password hash) leaves no more
-- than a window's worth. An existing operator's failure (p_known), and the
-- lock, go into the audit trail as before (005); made-up names do not
-- (strangers could flood it).
CREATE FUNCTION wp_signin_failed(p_name text, p_fails int, p_secs int, p_known boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	v_span		interval := make_interval(secs => p_secs);
	v		signin_throttle%ROWTYPE;
	v_locked	boolean := false;
BEGIN
	DELETE FROM signin_throttle
	WHERE first_at < now() - v_span AND (locked_until IS NULL OR locked_until < now())
	  AND name <> p_name;
	INSERT INTO signin_throttle AS t (name, fails, first_at) VALUES (p_name, 1, now())
	ON CONFLICT (name) DO UPDATE SET
		fails = CASE WHEN t.first_at < now() - v_span THEN 1 ELSE t.fails + 1 END,
		first_at = CASE WHEN t.first_at < now() - v_span THEN now() ELSE t.first_at END
	RETURNING * INTO v;
	IF v.fails >= p_fails AND (v.locked_until IS NULL OR v.locked_until <= now()) THEN
		UPDATE signin_throttle SET locked_until = now() + v_span WHERE name = p_name;
		v_locked := true;
	END IF;
	IF p_known THEN
		PERFORM wp_console_signin_failed(p_name, v_locked);
	END IF;
	RETURN v_locked;
END $$;
