-- Create "attachments" table
CREATE TABLE `attachments` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `message_id` integer NOT NULL,
  `n` integer NOT NULL,
  `content_type` varchar NOT NULL,
  `size_bytes` integer NOT NULL,
  `source_url` text NOT NULL,
  `status` varchar NOT NULL,
  `reason` varchar NULL,
  `path` varchar NULL,
  `transcript` text NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "attachments_message_id_n" to table: "attachments"
CREATE UNIQUE INDEX `attachments_message_id_n` ON `attachments` (`message_id`, `n`);
