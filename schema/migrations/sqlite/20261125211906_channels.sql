-- Add column "sms_opt_out" to table: "users"
ALTER TABLE `users` ADD COLUMN `sms_opt_out` boolean NOT NULL DEFAULT false;
-- Add column "address" to table: "messages"
ALTER TABLE `messages` ADD COLUMN `address` varchar NULL;
-- Create "deliveries" table
CREATE TABLE `deliveries` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `message_id` integer NOT NULL,
  `part` integer NOT NULL,
  `provider_id` varchar NULL,
  `status` varchar NOT NULL,
  `sent_at` timestamp NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "deliveries_provider_id" to table: "deliveries"
CREATE UNIQUE INDEX `deliveries_provider_id` ON `deliveries` (`provider_id`);
-- Create index "deliveries_message_id_part" to table: "deliveries"
CREATE UNIQUE INDEX `deliveries_message_id_part` ON `deliveries` (`message_id`, `part`);
