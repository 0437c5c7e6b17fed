-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "early_delivery_reports" table
DROP TABLE `early_delivery_reports`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
