-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
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
  CONSTRAINT `2` FOREIGN KEY (`sender_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `1` FOREIGN KEY (`recipient_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `0` FOREIGN KEY (`parent_id`) REFERENCES `messages` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Copy rows from old table "messages" to new temporary table "new_messages"
INSERT INTO `new_messages` (`id`, `sender_id`, `recipient_id`, `content`, `is_read`, `parent_id`, `conversation_id`, `channel`, `external_id`, `delivery_status`, `provider_message_id`, `created_at`, `updated_at`) SELECT `id`, `sender_id`, `recipient_id`, `content`, `is_read`, `parent_id`, `conversation_id`, `channel`, `external_id`, `delivery_status`, `provider_message_id`, `created_at`, `updated_at` FROM `messages`;
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
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
