-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "live_events" table
DROP TABLE `live_events`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
