-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "login_failures" table
DROP TABLE `login_failures`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
