-- 029_platform_feed.sql: the real-time feed to the provincial monitoring
-- platforms (issue #20; API.md "Provincial platform feed").
--
-- The outbox: platform_event, one row written in the same transaction as
-- what it reports (schema/functions/feed.sql holds the writers, called by
-- the money functions): an account opened, completed or closed; a movement
-- on a dedicated account (a flow, with the balance after it); paid lines and
-- each later change of their outcome (payline).
--
-- Why paylines are not a row per line at payment time: a paid sheet's lines
-- are its accepted sheet_line rows, insert-only, as the payment order's are
-- (025, payment_order_line). The paying transaction writes one payline
-- event per sheet (lines NULL: every accepted line) and one flow event; the
-- delivery expands the lines. A settlement report writes one event naming
-- the lines it settled (lines, an array); a return one naming its line.
--
-- Why no sequence number at write time: a per-platform counter taken by
-- the writer would be one hot row every paying transaction of a province
-- queues on, and which platforms a record goes to depends on the
-- configuration, which lives in the daemon. So the writer takes nothing:
-- the event carries its transaction's id (xid, the top-level one), and the
-- delivery of each platform reads the events in (xid, id) order, only those
-- whose transaction is older than every transaction still running
-- (pg_snapshot_xmin): no event can then appear behind its cursor later, and
-- an event that depends on another (a settlement on a payment) has the
-- larger xid. The delivering claim, one per platform at a time (its row
-- locked, under a lease), routes them by the platform's region prefix and
-- numbers what it takes, without gaps, in platform_span: one row per event
-- and platform, its records numbered first_seq .. first_seq + n - 1, stable
-- once assigned (a retry or a replay sends the same seq with the same id).
--
-- platform_feed is each platform's state: the cursor, the next seq, what
-- the platform acknowledged, the attempt and its backoff. A platform is
-- named by its [platform NAME]; its row is made at its first claim, from
-- the beginning of the outbox (it receives the history of its region).
-- An admin may replay from a seq (approval kind PLATFORM_REPLAY: four eyes).

CREATE TABLE platform_event (
	id		bigserial PRIMARY KEY,
	-- the writing transaction's id: the feed's order, (xid, id)
	xid		xid8 NOT NULL DEFAULT pg_current_xact_id(),
	kind		text NOT NULL CHECK (kind IN ('account', 'flow', 'payline')),
	project_id	bigint NOT NULL REFERENCES project,
	at		timestamptz NOT NULL DEFAULT now(),
	-- payline: the sheet, its lines (NULL: every accepted line), and what
	-- happened to them: PAID (the sheet paid), SETTLED (the core's final
	-- status, read from payment_settlement), RETURNED (a camt.054 return,
	-- ref its entry reference)
	sheet_id	bigint REFERENCES sheet,
	lines		int[],
	outcome		text CHECK (outcome IN ('PAID', 'SETTLED', 'RETURNED')),
	ref		text,
	-- account and flow: the record's fields as they were at the event
	-- (balance after, names, dates), rendered as JSON by the delivery
	data		jsonb,
	CHECK ((kind = 'payline') = (sheet_id IS NOT NULL AND outcome IS NOT NULL)),
	CHECK ((kind = 'payline') = (data IS NULL))
);
CREATE INDEX platform_event_feed ON platform_event (xid, id);
CREATE TRIGGER platform_event_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON platform_event
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

CREATE TABLE platform_feed (
	name		text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
	region		text NOT NULL CHECK (region ~ '^[0-9]{2,6}$'),
	-- the last event read (routed to this platform or not)
	cursor_xid	xid8 NOT NULL DEFAULT '0',
	cursor_id	bigint NOT NULL DEFAULT 0,
	next_seq	bigint NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
	-- every seq up to acked_seq has been acknowledged (or an admin replays
	-- from acked_seq + 1)
	acked_seq	bigint NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
	-- each claim and each replay counts here; an attempt's outcome is
	-- recorded only under the claim it was made for, so that a late
	-- acknowledgement never undoes a replay or a newer claim
	claim_no	bigint NOT NULL DEFAULT 0,
	attempts	int NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	last_attempt_at	timestamptz,
	last_acked_at	timestamptz,
	last_status	int,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (acked_seq < next_seq)
);

-- The numbering: records first_seq .. first_seq + n - 1 of platform are
-- event_id's (a payline event's lines, in line order: lines, resolved when
-- numbered). Insert-only.
CREATE TABLE platform_span (
	platform	text NOT NULL REFERENCES platform_feed,
	first_seq	bigint NOT NULL CHECK (first_seq >= 1),
	n		int NOT NULL CHECK (n >= 1),
	event_id	bigint NOT NULL REFERENCES platform_event,
	lines		int[],
	PRIMARY KEY (platform, first_seq),
	UNIQUE (platform, event_id),
	CHECK (lines IS NULL OR cardinality(lines) = n)
);
CREATE TRIGGER platform_span_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON platform_span
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- the approval kind of a replay; kinds other migrations add are kept (read
-- from the constraint, as 022 does)
DO $$
DECLARE
	v_kinds	text;
BEGIN
	SELECT string_agg(quote_literal(k), ', ' ORDER BY k) INTO v_kinds FROM (
		SELECT m[1] AS k FROM pg_constraint pc
		CROSS JOIN LATERAL regexp_matches(pg_get_constraintdef(pc.oid), '''([A-Z_]+)''', 'g') AS m
		WHERE pc.conname = 'approval_kind_check' AND pc.conrelid = 'approval'::regclass
		UNION SELECT 'PLATFORM_REPLAY') ks;
	IF v_kinds NOT LIKE '%OPEN_ACCOUNT%' THEN
		RAISE EXCEPTION 'constraint approval_kind_check of approval not found';
	END IF;
	EXECUTE format('ALTER TABLE approval DROP CONSTRAINT approval_kind_check, '
		'ADD CONSTRAINT approval_kind_check CHECK (kind IN (%s))', v_kinds);
END $$;
