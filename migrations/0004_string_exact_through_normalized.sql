-- `:exact` string searches go through search_string_prefix_idx (normalized = the value normalized,
-- then exact = the value): every string row of every write maintained this index for them alone.
DROP INDEX IF EXISTS search_string_exact_idx;
