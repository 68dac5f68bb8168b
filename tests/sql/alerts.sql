-- alerts.sql: the alert outbox's delivery where it is decided
-- (schema/functions/alerts.sql: wp_alert_route, wp_alert_recipients,
-- wp_alert_claim, wp_alert_delivered, wp_alert_failed, wp_alert_retry),
-- called as daemon/alerts.c calls them (regulators as alerts_regulators_json
-- makes them, a lease of the attempt timeout + 10 s).
--
-- Routing: every regulator whose region prefix covers the project's region
-- and whose authority is hrss or the project's industry, once per alert; a
-- project nobody covers gets one NO_RECIPIENT row, REROUTED when a reload
-- adds a recipient; a named recipient (ACCOUNTS_OPENED) only. Claims: only
-- due deliveries to configured recipients, at most p_limit, the attempt
-- counted and the lease taken; a delivered one never again; a row another
-- session holds skipped without waiting (that session, through dblink,
-- commits its own alert and removes it). Failures: 1 s
-- doubling with each attempt, capped at p_max (and never overflowing), the
-- error kept to 500 characters. Retry: the alert's pending deliveries due
-- now. Claims run at the transaction's now(): expectations derive from it.
BEGIN;
\ir fixtures.sql
SELECT plan(68);
SELECT lives_ok('SELECT tap.world()', 'the demo world is made through the daemon''s own functions');
SELECT ok(tap.open_project_in('XM-CD-0001', '6228480000000000777', '510104', 'transport') IS NOT NULL,
	'a project in Chengdu (510104, transport), which no regulator covers');

-- the regulators after a reload that adds Sichuan's HRSS office (51)
CREATE FUNCTION tap.regs2() RETURNS json LANGUAGE sql IMMUTABLE AS $$
	SELECT (tap.regs()::jsonb || '[{"name":"sc-hrss","region":"51","authority":"hrss"}]'::jsonb)::json
$$;
-- the alert a debit request refused raises (MISUSE_ATTEMPT), by its Ref
CREATE FUNCTION tap.misuse(p_ref text, p_account text) RETURNS uuid LANGUAGE sql AS $$
	SELECT 1 FROM wp_core_debit(p_ref, p_account, 5000, '6222020000000000001', 'Gang Boss',
		'materials', 'counter');
	SELECT a.id FROM alert a WHERE a.kind = 'MISUSE_ATTEMPT' AND a.msg_id = p_ref
$$;
CREATE FUNCTION tap.alert_of(p_ref text) RETURNS uuid LANGUAGE sql STABLE AS $$
	SELECT id FROM alert WHERE msg_id = p_ref
$$;
-- an alert's deliveries: "recipient:STATE:attempts" by recipient
CREATE FUNCTION tap.deliveries(p_alert uuid) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT string_agg(coalesce(nullif(recipient, ''), '-') || ':' || state || ':' || attempts, ' '
		ORDER BY recipient) FROM alert_delivery WHERE alert_id = p_alert
$$;
CREATE FUNCTION tap.delivery(p_alert uuid, p_recipient text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT id FROM alert_delivery WHERE alert_id = p_alert AND recipient = p_recipient
$$;
-- what a claim handed out: "recipient:attempts" by recipient
CREATE FUNCTION tap.claim(p_regs json, p_limit int) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(recipient || ':' || attempts, ' ' ORDER BY recipient), '')
	FROM wp_alert_claim(p_regs, false, p_limit, 20)
$$;

SELECT ok(tap.misuse('DR-1', tap.acc()) IS NOT NULL, 'a refused debit of the demo account raises MISUSE_ATTEMPT');
SELECT ok(tap.misuse('DR-2', '6228480000000000777') IS NOT NULL, 'and one of the Chengdu account');

-- --- recipients ---------------------------------------------------------------------
SELECT is((SELECT string_agg(n, ',' ORDER BY n) FROM wp_alert_recipients(tap.alert_of('DR-1'), tap.regs()) n),
	'zz-housing,zz-hrss', 'the HRSS office and the housing authority whose prefixes cover 410183');
SELECT is((SELECT count(*) FROM wp_alert_recipients(tap.alert_of('DR-1'),
	'[{"name":"zz-water","region":"410183","authority":"water"},
	  {"name":"","region":"41","authority":"hrss"},
	  {"name":"zz-other","region":"410184","authority":"hrss"},
	  {"name":"kf-housing","region":"4102","authority":"housing"}]')), 0::bigint,
	'nobody of another industry, without a name, or of a region that does not prefix the project''s');
SELECT is((SELECT string_agg(n, ',' ORDER BY n) FROM wp_alert_recipients(tap.alert_of('DR-1'),
	'[{"name":"henan","region":"41","authority":"hrss"},{"name":"whole-zz","region":"410183","authority":"hrss"}]') n),
	'henan,whole-zz', 'a 2-digit province prefix and the full 6-digit code both cover it');
SELECT is((SELECT count(*) FROM wp_alert_recipients(tap.alert_of('DR-2'), tap.regs())), 0::bigint,
	'no configured regulator covers Chengdu');

-- --- routing --------------------------------------------------------------------------
SELECT is(wp_alert_route(tap.regs(), false, 1000), 2, 'both new alerts are routed');
SELECT is(tap.deliveries(tap.alert_of('DR-1')), 'zz-housing:PENDING:0 zz-hrss:PENDING:0',
	'one PENDING delivery per recipient, not yet tried');
SELECT is(tap.deliveries(tap.alert_of('DR-2')), '-:NO_RECIPIENT:0', 'the uncovered alert: one NO_RECIPIENT row');
SELECT is((SELECT count(*) FROM alert WHERE routed_at = now()), 2::bigint, 'both are marked routed');
SELECT is(wp_alert_route(tap.regs(), false, 1000), 0, 'routing again routes nothing');
SELECT is(wp_alert_route(tap.regs(), true, 1000), 0, 'rerouting with the same regulators finds no recipient');
SELECT is(tap.deliveries(tap.alert_of('DR-2')), '-:NO_RECIPIENT:0', 'the orphan stays NO_RECIPIENT');
SELECT is(wp_alert_route(tap.regs2(), false, 1000), 0, 'without p_reroute an orphan is not looked at again');
SELECT is(wp_alert_route(tap.regs2(), true, 1000), 1, 'after a reload adding sc-hrss the orphan is rerouted');
SELECT is(tap.deliveries(tap.alert_of('DR-2')), '-:REROUTED:0 sc-hrss:PENDING:0',
	'the new recipient has a PENDING delivery, the orphan row is REROUTED');
SELECT is(wp_alert_route(tap.regs2(), true, 1000), 0, 'a REROUTED row is not rerouted again');
SELECT is(tap.deliveries(tap.alert_of('DR-1')), 'zz-housing:PENDING:0 zz-hrss:PENDING:0',
	'the covered alert got no second delivery');

-- --- claims -----------------------------------------------------------------------------
SELECT is(tap.claim('[{"name":"zz-hrss","region":"4101","authority":"hrss"}]', 10), 'zz-hrss:1',
	'only deliveries to configured recipients are claimed, the attempt counted');
SELECT is((SELECT next_attempt_at - now() FROM alert_delivery WHERE id = tap.delivery(tap.alert_of('DR-1'), 'zz-hrss')),
	interval '20 seconds', 'a claim takes a lease: due again p_lease seconds on');
SELECT is((SELECT last_attempt_at FROM alert_delivery WHERE id = tap.delivery(tap.alert_of('DR-1'), 'zz-hrss')),
	now(), 'and records the attempt''s time');
SELECT is((SELECT count(*) FROM wp_alert_claim(tap.regs2(), false, 1, 20)), 1::bigint, 'at most p_limit are claimed');
SELECT is((SELECT count(*) FROM wp_alert_claim(tap.regs2(), false, 10, 20)), 1::bigint, 'then the remaining due one');
SELECT is(tap.claim(tap.regs2(), 10), '', 'leased deliveries are not due: nothing more is claimed');
SELECT is((SELECT string_agg(recipient || ':' || attempts, ' ' ORDER BY recipient) FROM alert_delivery WHERE state = 'PENDING'),
	'sc-hrss:1 zz-housing:1 zz-hrss:1', 'each of the three was claimed once');
-- what the daemon builds the Alert from
UPDATE alert_delivery SET next_attempt_at = now() WHERE id = tap.delivery(tap.alert_of('DR-1'), 'zz-hrss');
SELECT is((SELECT c.alert_id || ' ' || c.kind || ' ' || c.raised_at || ' ' || c.project_code || ' ' || c.region || ' '
	|| c.industry || ' ' || c.account || ' ' || c.msg_id || ' ' || c.attempts || ' ' || (c.opened IS NULL)
	FROM wp_alert_claim(tap.regs(), false, 10, 20) c),
	tap.alert_of('DR-1') || ' MISUSE_ATTEMPT ' || wp_iso_cst(now()) || ' XM-TAP-0001 410183 housing '
	|| tap.acc() || ' DR-1 2 true',
	'a claim returns the alert''s id, kind, time at +08:00, project, region, industry, account and reference');

-- --- delivered, failed, retried ------------------------------------------------------------
SELECT is(wp_alert_delivered(tap.delivery(tap.alert_of('DR-1'), 'zz-hrss'), 202), true, 'a 2xx: delivered');
SELECT is((SELECT state || ' ' || last_status || ' ' || (delivered_at = now()) FROM alert_delivery
	WHERE id = tap.delivery(tap.alert_of('DR-1'), 'zz-hrss')), 'DELIVERED 202 true', 'DELIVERED, with the status and when');
SELECT is(wp_alert_delivered(tap.delivery(tap.alert_of('DR-1'), 'zz-hrss'), 200), NULL, 'a second 2xx for it is not recorded');
SELECT is(wp_alert_failed(tap.delivery(tap.alert_of('DR-1'), 'zz-hrss'), 500, 'late', 300), NULL,
	'a failure reported for a delivered one changes nothing');
SELECT is((SELECT state || ' ' || last_status FROM alert_delivery WHERE id = tap.delivery(tap.alert_of('DR-1'), 'zz-hrss')),
	'DELIVERED 202', 'it stays DELIVERED');
SELECT is(wp_alert_retry(tap.alert_of('DR-1')), 1, 'retry now makes only the pending delivery due');
SELECT is(tap.claim(tap.regs2(), 10), 'zz-housing:2', 'a delivered one is never claimed again');
SELECT is(wp_alert_failed(tap.delivery(tap.alert_of('DR-1'), 'zz-housing'), 503, repeat('x', 600), 300) - now(),
	interval '2 seconds', 'after the second attempt fails the next is 2 s away');
SELECT is((SELECT state || ' ' || last_status || ' ' || length(last_error) FROM alert_delivery
	WHERE id = tap.delivery(tap.alert_of('DR-1'), 'zz-housing')), 'PENDING 503 500',
	'it stays PENDING with the status and the error cut to 500 characters');
SELECT is(tap.claim(tap.regs2(), 10), '', 'a backed-off delivery is not claimed before it is due');

-- the backoff, attempt after attempt: sc-hrss fails every time, retried at once
CREATE FUNCTION tap.backoff(p_delivery bigint, p_alert uuid, p_max int, p_n int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v	text := '';
BEGIN
	FOR i IN 1 .. p_n LOOP
		IF i > 1 THEN
			PERFORM wp_alert_retry(p_alert);
			PERFORM * FROM wp_alert_claim(tap.regs2(), false, 10, 20);
		END IF;
		v := v || ' ' || extract(epoch FROM wp_alert_failed(p_delivery, NULL, 'connection refused', p_max) - now())::int;
	END LOOP;
	RETURN ltrim(v);
END $$;
SELECT is(tap.backoff(tap.delivery(tap.alert_of('DR-2'), 'sc-hrss'), tap.alert_of('DR-2'), 300, 12),
	'1 2 4 8 16 32 64 128 256 300 300 300', 'backoff: 1 s doubling with each attempt, capped at p_max');
SELECT is((SELECT attempts || ' ' || coalesce(last_status::text, 'none') || ' ' || last_error FROM alert_delivery
	WHERE id = tap.delivery(tap.alert_of('DR-2'), 'sc-hrss')), '12 none connection refused',
	'twelve attempts; no HTTP answer is recorded as no status');
UPDATE alert_delivery SET attempts = 40 WHERE id = tap.delivery(tap.alert_of('DR-2'), 'sc-hrss');
SELECT is(wp_alert_failed(tap.delivery(tap.alert_of('DR-2'), 'sc-hrss'), NULL, 'timeout', 86400) - now(),
	interval '86400 seconds', 'after 40 attempts: the cap');
SELECT is(extract(epoch FROM wp_alert_failed(tap.delivery(tap.alert_of('DR-2'), 'sc-hrss'), NULL, 'timeout',
	2147483647) - now()), 1073741824::numeric, 'without a cap in reach the doubling stops at 2^30 s, never overflowing');
SELECT is(wp_alert_retry(tap.alert_of('DR-2')), 1, 'retry now: the backed-off delivery is due');
SELECT is((SELECT next_attempt_at FROM alert_delivery WHERE id = tap.delivery(tap.alert_of('DR-2'), 'sc-hrss')),
	now(), 'at once');
SELECT is(wp_alert_retry(gen_random_uuid()), 0, 'retrying an unknown alert makes nothing due');
SELECT is(wp_alert_delivered(tap.delivery(tap.alert_of('DR-2'), 'sc-hrss'), 200), true, 'the Chengdu alert is delivered');
SELECT is(wp_alert_retry(tap.alert_of('DR-2')), 0, 'retrying an alert with nothing pending makes nothing due');

-- --- a named recipient: the monthly ACCOUNTS_OPENED report -----------------------------------
-- raised for the month the demo account was opened in (now(), in China)
CREATE FUNCTION tap.next_month() RETURNS timestamptz LANGUAGE sql STABLE AS $$
	SELECT (date_trunc('month', wp_cst(now())) + interval '1 month 30 minutes') AT TIME ZONE INTERVAL '+08:00'
$$;
SELECT is(wp_rule_accounts_opened(tap.next_month(), tap.regs()), 2, 'a report for each of the two HRSS offices');
SELECT is(wp_alert_route('[{"name":"zz-hrss","region":"4101","authority":"hrss"},
	{"name":"zz-housing","region":"410183","authority":"housing"}]', false, 1000), 2, 'both reports are routed');
SELECT is((SELECT string_agg(a.recipient || '>' || coalesce(nullif(d.recipient, ''), d.state), ' ' ORDER BY a.recipient)
	FROM alert a JOIN alert_delivery d ON d.alert_id = a.id WHERE a.kind = 'ACCOUNTS_OPENED'),
	'kf-hrss>NO_RECIPIENT zz-hrss>zz-hrss', 'each to the office it names only (kf-hrss is not configured now)');
SELECT is(wp_alert_route(tap.regs(), true, 1000), 1, 'once kf-hrss is configured again its report is rerouted');
CREATE TEMP TABLE claimed AS SELECT * FROM wp_alert_claim(tap.regs(), false, 10, 20);
SELECT is((SELECT string_agg(recipient, ' ' ORDER BY recipient) FROM claimed), 'kf-hrss zz-hrss',
	'both reports are claimed, nothing else is due');
SELECT is((SELECT c.recipient || ' ' || c.kind || ' ' || (c.project_code IS NULL) || ' ' || c.month || ' ' || c.opened::text
	FROM claimed c WHERE c.recipient = 'zz-hrss'),
	'zz-hrss ACCOUNTS_OPENED true ' || to_char(wp_cst(now()), 'YYYY-MM') || ' '
	|| json_build_array(json_build_object('code', 'XM-TAP-0001', 'name', 'Project XM-TAP-0001', 'account', tap.acc(),
		'opened_at', (SELECT wp_iso_cst(opened_at) FROM account WHERE number = tap.acc())))::text,
	'Zhengzhou''s report lists the demo project''s account (not Chengdu''s), with its opening time at +08:00');
SELECT is((SELECT c.opened::text || ' ' || c.detail FROM claimed c WHERE c.recipient = 'kf-hrss'),
	'[] 0 dedicated wage accounts opened in ' || to_char(wp_cst(now()), 'YYYY-MM') || ' in region 4102*',
	'Kaifeng''s lists none, and says so');
SELECT is((SELECT count(*) FROM alert_delivery d JOIN alert a ON a.id = d.alert_id
	WHERE a.kind = 'ACCOUNTS_OPENED' AND d.recipient = 'zz-housing'), 0::bigint, 'the housing authority gets no report');

-- --- two instances: a row one holds is skipped by the other ------------------------------
-- Another instance is a second session (dblink), which sees only what is
-- committed: it commits an alert of its own to a recipient nobody else
-- uses, claims while this session holds the row, claims again once the
-- lock is gone (a savepoint rolled back), and removes its rows.
CREATE EXTENSION dblink;
SELECT is(dblink_connect('other', format('host=%s dbname=%s user=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1), current_database(), current_user)), 'OK',
	'a second session, as another instance');
CREATE FUNCTION tap.other(p_sql text) RETURNS bigint LANGUAGE sql AS $$
	SELECT n FROM dblink('other', p_sql) AS t(n bigint)
$$;
CREATE FUNCTION tap.other_cleanup() RETURNS bigint LANGUAGE sql AS $$
	SELECT tap.other($q$WITH d AS (DELETE FROM alert_delivery WHERE recipient = 'tap-other' RETURNING 1),
		a AS (DELETE FROM alert WHERE dedup_key = 'TAP-OTHER' AND EXISTS (SELECT count(*) FROM d) RETURNING 1)
		SELECT count(*) FROM a$q$)
$$;
SELECT lives_ok($$SELECT tap.other_cleanup();
	SELECT tap.other($q$WITH a AS (INSERT INTO alert (kind, recipient, routed_at, detail, dedup_key)
		VALUES ('ACCOUNTS_OPENED', 'tap-other', now(), 'tests/sql/alerts.sql', 'TAP-OTHER') RETURNING id),
		d AS (INSERT INTO alert_delivery (alert_id, recipient, next_attempt_at)
		SELECT id, 'tap-other', '2000-01-01' FROM a RETURNING 1) SELECT count(*) FROM d$q$)$$,
	'the other session commits an alert of its own, routed and due');
SAVEPOINT held;
SELECT is((SELECT count(*) FROM (SELECT 1 FROM alert_delivery WHERE recipient = 'tap-other' FOR UPDATE) x), 1::bigint,
	'this session holds its delivery row');
SELECT is(tap.other($q$SET lock_timeout = '5s'; SELECT count(*) FROM wp_alert_claim(
	'[{"name":"tap-other","region":"99","authority":"hrss"}]', false, 10, 20)$q$), 0::bigint,
	'the other session''s claim skips the locked row, without waiting');
ROLLBACK TO SAVEPOINT held;
SELECT is(tap.other($q$SELECT count(*) FROM wp_alert_claim(
	'[{"name":"tap-other","region":"99","authority":"hrss"}]', false, 10, 20)$q$), 1::bigint,
	'once the lock is gone it claims it');
SELECT is(tap.other_cleanup(), 1::bigint, 'the other session removes its alert');
SELECT is(dblink_disconnect('other'), 'OK', 'the other session ends');

SELECT * FROM tap.invariants('after the deliveries');
SELECT * FROM finish();
ROLLBACK;
