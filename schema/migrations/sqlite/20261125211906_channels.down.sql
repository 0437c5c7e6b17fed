-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_users" table
CREATE TABLE `new_users` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `username` varchar NOT NULL,
  `email` varchar NOT NULL,
  `hashed_password` varchar NOT NULL,
  `is_active` boolean NOT NULL DEFAULT true,
  `is_superuser` boolean NOT NULL DEFAULT false,
  `is_system` boolean NOT NULL DEFAULT false,
  `full_name` varchar NULL,
  `bio` text NULL,
  `phone_number` varchar NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL
);
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `username`, `email`, `hashed_password`, `is_active`, `is_superuser`, `is_system`, `full_name`, `bio`, `phone_number`, `created_at`, `updated_at`) SELECT `id`, `username`, `email`, `hashed_password`, `is_active`, `is_superuser`, `is_system`, `full_name`, `bio`, `phone_number`, `created_at`, `updated_at` FROM `users`;
-- Drop "users" table after copying rows
DROP TABLE `users`;
-- Rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- Create index "users_username" to table: "users"
CREATE UNIQUE INDEX `users_username` ON `users` (`username`);
-- Create index "users_email" to table: "users"
CREATE UNIQUE INDEX `users_email` ON `users` (`email`);
-- Create index "users_phone_number" to table: "users"
CREATE UNIQUE INDEX `users_phone_number` ON `users` (`phone_number`);
-- Create "new_messages" table
CREATE TABLE `new_messages` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `sender_id` integer NOT NULL,
  `recipient_id` integer NOT NULL,
  `content` text NOT NULL,
  `is_read` boolean NOT NULL DEFAULT false,
  `parent_id` integer NULL,
  `conversation_id` varchar NULL,
  `channel` varchar NOT NULL DEFAULT 'web',
  `external_id` varchar NULL,
  `delivery_status` varchar NULL,
  `provider_message_id` varchar NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  `turn_status` varchar NULL,
  CONSTRAINT `2` FOREIGN KEY (`sender_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `1` FOREIGN KEY (`recipient_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `0` FOREIGN KEY (`parent_id`) REFERENCES `messages` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Copy rows from old table "messages" to new temporary table "new_messages"
INSERT INTO `new_messages` (`id`, `sender_id`, `recipient_id`, `content`, `is_read`, `parent_id`, `conversation_id`, `channel`, `external_id`, `delivery_status`, `provider_message_id`, `created_at`, `updated_at`, `turn_status`) SELECT `id`, `sender_id`, `recipient_id`, `content`, `is_read`, `parent_id`, `conversation_id`, `channel`, `external_id`, `delivery_status`, `provider_message_id`, `created_at`, `updated_at`, `turn_status` FROM `messages`;
-- Drop "messages" table after copying rows
DROP TABLE `messages`;
-- Rename temporary table "new_messages" to "messages"
ALTER TABLE `new_messages` RENAME TO `messages`;
-- Create index "messages_channel_external_id" to table: "messages"
CREATE UNIQUE INDEX `messages_channel_external_id` ON `messages` (`channel`, `external_id`);
-- Create index "messages_sender_id_id_idx" to table: "messages"
CREATE INDEX `messages_sender_id_id_idx` ON `messages` (`sender_id`, `id`);
-- Create index "messages_recipient_id_id_idx" to table: "messages"
CREATE INDEX `messages_recipient_id_id_idx` ON `messages` (`recipient_id`, `id`);
-- Create index "messages_conversation_id_id_idx" to table: "messages"
CREATE INDEX `messages_conversation_id_id_idx` ON `messages` (`conversation_id`, `id`);
-- Create index "messages_parent_id_idx" to table: "messages"
CREATE INDEX `messages_parent_id_idx` ON `messages` (`parent_id`);
-- Create index "messages_turn_status_id_idx" to table: "messages"
CREATE INDEX `messages_turn_status_id_idx` ON `messages` (`turn_status`, `id`);
-- Drop "deliveries" table
DROP TABLE `deliveries`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
