-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "attachments" table
DROP TABLE `attachments`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
