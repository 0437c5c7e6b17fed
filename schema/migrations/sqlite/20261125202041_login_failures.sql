-- Create "login_failures" table
CREATE TABLE `login_failures` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `key` varchar NOT NULL,
  `created_at` timestamp NOT NULL
);
-- Create index "login_failures_key_created_at_idx" to table: "login_failures"
CREATE INDEX `login_failures_key_created_at_idx` ON `login_failures` (`key`, `created_at`);
