-- 032_personal_data.sql: a worker's ID number, name and card number
-- unreadable at rest (issue 22, part 1; PCI DSS 3.5, PIPL art. 51,
-- JR/T 0171-2020).
--
-- With [security] data_key and index_key configured, the daemon
-- (proto/pii.c) writes into the columns that held the clear values
-- (id_number, name, card of roster_entry, roster_version, sheet_line;
-- card_owner's card and id_number; line_return's id_number, copied from
-- its line) their keyed blind indexes: HMAC-SHA256 under the index key,
-- the field's name mixed in, 104 bits as 18 base64url characters. Every
-- SQL equality (the roster match, one person one card, a worker's months,
-- returns, wages owed) reads them unchanged, through the same indexes.
-- The clear values go, sealed in one AES-256-GCM record per row under the
-- data key (which names its key id), into the new column pii, opened only
-- by the daemon; what the console and the documents show masked is kept
-- masked beside it (id_mask, card_mask, name_mask), made by the daemon
-- from the clear value as it writes. No key is ever in the database.
--
-- Without keys the daemon writes as before (pii NULL) and the masks are
-- still written. pii_keyring records which index key the blind indexes
-- are made with (NULL: in clear): the daemon refuses to run with another
-- one, since every lookup would miss. A database in clear is converted by
-- --migrate once keys are configured, in batches that each commit
-- (resumable: a row in clear is one with pii NULL; card_owner's carry
-- in_clear), with a progress line; see daemon/piiconvert.c.

CREATE TABLE pii_keyring (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	index_key_id	text CHECK (index_key_id ~ '^[0-9a-f]{8}$'),
	converted_at	timestamptz
);
INSERT INTO pii_keyring DEFAULT VALUES;

-- the clear shapes were checked here; the daemon checks them now (WP11,
-- WP12) before it makes the indexes
ALTER TABLE roster_entry DROP CONSTRAINT roster_entry_id_number_check,
	DROP CONSTRAINT roster_entry_card_check,
	ADD COLUMN pii bytea, ADD COLUMN id_mask text, ADD COLUMN card_mask text,
	ADD COLUMN name_mask text;
ALTER TABLE roster_version ADD COLUMN pii bytea, ADD COLUMN id_mask text,
	ADD COLUMN card_mask text, ADD COLUMN name_mask text;
ALTER TABLE sheet_line ADD COLUMN pii bytea, ADD COLUMN id_mask text,
	ADD COLUMN card_mask text, ADD COLUMN name_mask text;
-- a guarantee draw's lines (030) copy their worker's from the roster
ALTER TABLE guarantee_draw_line ADD COLUMN pii bytea, ADD COLUMN id_mask text,
	ADD COLUMN card_mask text, ADD COLUMN name_mask text;
-- what --migrate has left to convert, found without reading the rest (a
-- row stored with keys is never in them; sheet_line is walked by its key)
CREATE INDEX roster_entry_in_clear ON roster_entry (project_id) WHERE pii IS NULL;
CREATE INDEX roster_version_in_clear ON roster_version (project_id) WHERE pii IS NULL;
-- rows stored before are in clear until converted; wp_roster_upsert says
-- for each new one whether it came with keys
ALTER TABLE card_owner ADD COLUMN in_clear boolean NOT NULL DEFAULT true;
CREATE INDEX card_owner_in_clear ON card_owner (card) WHERE in_clear;

-- the lines carry their sealed records and masks (functions/sheet.sql); a
-- roster version its own (functions/roster.sql); what reads clear values
-- back returns the sealed record for the daemon to open (IF EXISTS: a
-- database made from scratch has the functions only after the migrations)
DROP FUNCTION IF EXISTS wp_sheet_submit(text, text, bytea, text, text, date, int, bigint, text[],
	bigint[], text[], text[], text[], text[], text[], date[], bigint[], int[],
	timestamptz[], text[], text[], text[], text[], timestamptz);
DROP FUNCTION IF EXISTS wp_sheet_lines(bigint, int, text[], bigint[], text[], text[], text[],
	text[], text[], date[], bigint[], int[], timestamptz[], text[], text[], text[], text[]);
DROP FUNCTION IF EXISTS wp_roster_version(bigint, text, text, text, text, text, date, date, date,
	text, text, text);
DROP FUNCTION IF EXISTS wp_roster_get(text, text);
DROP FUNCTION IF EXISTS wp_payorder_claim(int, int);
DROP FUNCTION IF EXISTS wp_voucher(text, text);
