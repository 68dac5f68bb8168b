-- 024_roster_history.sql: the roster keeps its history (专款专用 with no back
-- doors, rules 4 and 8).
--
-- Every version of a worker's roster entry is kept in roster_version, with
-- the general contractor that sent it (its credit code, and the subject and
-- SHA-256 fingerprint of the certificate it came with) and when; the current
-- entry in roster_entry carries its version number, and each sheet line the
-- version it was checked against. A worker's card changed by an upload
-- raises CARD_CHANGED (to HRSS). The bodies are in functions/roster.sql,
-- sheet.sql, rules.sql, alerts.sql and console.sql.

-- Every version of a worker's entry on a project, never updated or deleted.
-- Version 1 of an entry stored before this migration names the project's
-- general contractor (the only one who may upload) as its sender, with no
-- certificate (not recorded then) and its last upload's time.
CREATE TABLE roster_version (
	project_id	bigint NOT NULL REFERENCES project,
	id_number	char(18) NOT NULL,
	version		int NOT NULL CHECK (version > 0),
	name		text NOT NULL,
	employer_uscc	char(18) NOT NULL,
	card		text NOT NULL,
	card_bank	char(12) NOT NULL,
	contract_signed	date NOT NULL,
	entered		date NOT NULL,
	left_on		date,
	sent_by		char(18) NOT NULL,	-- the general contractor's credit code
	sent_subject	text,			-- its certificate's subject (RFC 2253)
	sent_cert	text,			-- 'sha256:' and the certificate's DER fingerprint
	sent_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (project_id, id_number, version)
);
-- a worker's card history across projects (the console)
CREATE INDEX roster_version_worker ON roster_version (id_number);
CREATE TRIGGER roster_version_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON roster_version
	FOR EACH STATEMENT EXECUTE FUNCTION wp_refuse_change();

-- The current entry's version (a row loaded by hand, as the benchmark's
-- world is, is version 1).
ALTER TABLE roster_entry ADD COLUMN version int NOT NULL DEFAULT 1 CHECK (version > 0);

INSERT INTO roster_version (project_id, id_number, version, name, employer_uscc, card,
	card_bank, contract_signed, entered, left_on, sent_by, sent_at)
SELECT r.project_id, r.id_number, 1, r.name, r.employer_uscc, r.card, r.card_bank,
	r.contract_signed, r.entered, r.left_on, p.contractor_uscc, r.updated_at
FROM roster_entry r JOIN project p ON p.id = r.project_id;

-- The roster version a line was checked against (NULL: the worker was not on
-- the roster, or the line was stored before this migration).
ALTER TABLE sheet_line ADD COLUMN roster_version int;

-- every kind the migrations before it allow (021, 022), and CARD_CHANGED
ALTER TABLE alert DROP CONSTRAINT alert_kind_check;
ALTER TABLE alert ADD CONSTRAINT alert_kind_check CHECK (kind IN ('BALANCE_SHORT', 'DEPOSIT_SHORT',
	'WAGES_OVERDUE', 'MISUSE_ATTEMPT', 'SEIZURE_REFUSED', 'CARD_CONCENTRATION', 'ACCOUNTS_OPENED',
	'LEGAL_ORDER_APPLIED', 'MANUAL_DEBIT', 'ACCOUNT_CLOSED', 'CARD_CHANGED'));

-- the upsert now names the certificate that sent the upload
DROP FUNCTION wp_roster_upsert(text, text, json, json);
