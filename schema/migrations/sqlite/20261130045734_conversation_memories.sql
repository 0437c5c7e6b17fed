-- Create "conversation_memories" table
CREATE TABLE `conversation_memories` (
  `conversation_id` varchar NOT NULL,
  `user_id` integer NOT NULL,
  `up_to` integer NOT NULL,
  `content` text NOT NULL,
  `model` varchar NOT NULL,
  `updated_at` timestamp NOT NULL,
  PRIMARY KEY (`conversation_id`),
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "conversation_memories_user_id_idx" to table: "conversation_memories"
CREATE INDEX `conversation_memories_user_id_idx` ON `conversation_memories` (`user_id`);
