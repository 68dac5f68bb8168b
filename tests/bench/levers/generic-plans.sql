-- Lever on trial: plpgsql re-plans the statements of wp_sheet_submit with
-- custom plans (plan_cache_mode = auto), about a quarter of the database
-- work of a small sheet. The parameters (project, sheet ids) do not change
-- the best plan, so a generic plan serves every call.
ALTER FUNCTION wp_sheet_submit(text, text, bytea, text, text, date, int, bigint, json)
	SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION wp_sheet_pay(bigint, bigint, text) SET plan_cache_mode = force_generic_plan;
