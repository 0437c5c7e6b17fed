-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "throttle_hits" table
DROP TABLE `throttle_hits`;
-- Drop "event_streams" table
DROP TABLE `event_streams`;
-- Create "login_failures" table
CREATE TABLE `login_failures` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `key` varchar NOT NULL,
  `created_at` timestamp NOT NULL
);
-- Create index "login_failures_key_created_at_idx" to table: "login_failures"
CREATE INDEX `login_failures_key_created_at_idx` ON `login_failures` (`key`, `created_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
