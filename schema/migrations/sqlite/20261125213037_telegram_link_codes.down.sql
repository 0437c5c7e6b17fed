-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "telegram_link_codes" table
DROP TABLE `telegram_link_codes`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
