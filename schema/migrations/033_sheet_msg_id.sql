-- 033_sheet_msg_id.sql: the console finds a sheet by its MsgId alone
-- (GET /api/sheets/{MsgId}/lines.csv, issue 24). A MsgId is unique per
-- contractor only (UNIQUE (contractor_uscc, msg_id) leads with the
-- contractor), so without this index every such request would read the
-- whole sheet table.
CREATE INDEX sheet_msg_id ON sheet (msg_id);
