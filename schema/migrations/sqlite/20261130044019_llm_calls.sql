-- Create "llm_calls" table
CREATE TABLE `llm_calls` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `created_at` timestamp NOT NULL,
  `user_id` integer NOT NULL,
  `conversation_id` varchar NOT NULL,
  `turn_id` varchar NOT NULL,
  `purpose` varchar NOT NULL,
  `provider` varchar NOT NULL,
  `model` varchar NOT NULL,
  `prompt_tokens` integer NOT NULL,
  `completion_tokens` integer NOT NULL,
  `total_tokens` integer NOT NULL,
  `latency_ms` integer NOT NULL,
  `outcome` varchar NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "llm_calls_user_id_created_at_idx" to table: "llm_calls"
CREATE INDEX `llm_calls_user_id_created_at_idx` ON `llm_calls` (`user_id`, `created_at`);
