-- 016_line_index.sql: one index on a worker's lines where there were two.
--
-- Every sheet line was written into two indexes that lead with the same
-- columns: sheet_line_worker (project_id, id_number), for a worker's lines,
-- and sheet_line_wage_once (project_id, id_number, month) WHERE kind =
-- 'WAGE' AND reason_code IS NULL, the rule that a worker's wage for a month
-- is paid at most once on a project (001, 月结月清). One index now does
-- both: (project_id, id_number, month, wage_key), unique, where wage_key is
-- 0 for a WAGE line that is not refused and NULL for any other line.
-- NULLs are distinct in a unique index, so only two payable WAGE lines of
-- the same worker, project and month collide: exactly the rule, and what a
-- duplicate raises is still a unique_violation.
--
-- What it saves, measured on the benchmark's world (3.4 million lines,
-- 20,000 lines inserted in a rolled-back transaction, warm, three times
-- each): 8.2 -> 7.4 ms of database time per 1,000 lines, and one index
-- of 153 MB where there were two of 160 and 90 MB.
--
-- The "already paid" probe of wp_sheet_lines (015) and the lookups of a
-- worker's paid months (005's unpaid months, 013's overdue rule) name
-- columns, not indexes; this index serves each by its leading columns
-- (those lookups by three of them now, where sheet_line_worker gave two).
--
-- Built in place, as the other migrations' indexes: on a bank's full table
-- this holds writes to sheet_line for the build (4.5 s for 3.4 million
-- lines on the benchmark machine); run it in a quiet hour.
CREATE UNIQUE INDEX sheet_line_worker_month ON sheet_line
	(project_id, id_number, month,
	 (CASE WHEN kind = 'WAGE' AND reason_code IS NULL THEN 0 END));
DROP INDEX sheet_line_wage_once;
DROP INDEX sheet_line_worker;
