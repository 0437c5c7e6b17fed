-- Create "audit_log" table
CREATE TABLE `audit_log` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `at` timestamp NOT NULL,
  `actor_id` integer NULL,
  `action` varchar NOT NULL,
  `target_type` varchar NOT NULL,
  `target_id` varchar NOT NULL,
  `ip` varchar NOT NULL,
  `changes` text NULL,
  CONSTRAINT `0` FOREIGN KEY (`actor_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Create index "audit_log_actor_id_id_idx" to table: "audit_log"
CREATE INDEX `audit_log_actor_id_id_idx` ON `audit_log` (`actor_id`, `id`);
-- Create index "audit_log_action_id_idx" to table: "audit_log"
CREATE INDEX `audit_log_action_id_idx` ON `audit_log` (`action`, `id`);
