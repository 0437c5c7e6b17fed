-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "llm_calls" table
DROP TABLE `llm_calls`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
