-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "login_failures" table
DROP TABLE `login_failures`;
-- Create "throttle_hits" table
CREATE TABLE `throttle_hits` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `key` varchar NOT NULL,
  `created_at` timestamp NOT NULL
);
-- Create index "throttle_hits_key_created_at_idx" to table: "throttle_hits"
CREATE INDEX `throttle_hits_key_created_at_idx` ON `throttle_hits` (`key`, `created_at`);
-- Create "event_streams" table
CREATE TABLE `event_streams` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `user_id` integer NOT NULL,
  `address` varchar NOT NULL,
  `process` varchar NOT NULL,
  `opened_at` timestamp NOT NULL,
  `seen_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "event_streams_user_id_idx" to table: "event_streams"
CREATE INDEX `event_streams_user_id_idx` ON `event_streams` (`user_id`);
-- Create index "event_streams_address_idx" to table: "event_streams"
CREATE INDEX `event_streams_address_idx` ON `event_streams` (`address`);
-- Create index "event_streams_process_idx" to table: "event_streams"
CREATE INDEX `event_streams_process_idx` ON `event_streams` (`process`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
