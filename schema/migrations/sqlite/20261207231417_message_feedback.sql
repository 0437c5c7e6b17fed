-- Create "message_feedback" table
CREATE TABLE `message_feedback` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `message_id` integer NOT NULL,
  `user_id` integer NOT NULL,
  `rating` varchar NOT NULL,
  `comment` text NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `1` FOREIGN KEY (`message_id`) REFERENCES `messages` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "message_feedback_message_id" to table: "message_feedback"
CREATE UNIQUE INDEX `message_feedback_message_id` ON `message_feedback` (`message_id`);
