-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "audit_log" table
DROP TABLE `audit_log`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
