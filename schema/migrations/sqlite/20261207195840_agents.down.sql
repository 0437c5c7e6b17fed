-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_llm_calls" table
CREATE TABLE `new_llm_calls` (
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
-- Copy rows from old table "llm_calls" to new temporary table "new_llm_calls"
INSERT INTO `new_llm_calls` (`id`, `created_at`, `user_id`, `conversation_id`, `turn_id`, `purpose`, `provider`, `model`, `prompt_tokens`, `completion_tokens`, `total_tokens`, `latency_ms`, `outcome`) SELECT `id`, `created_at`, `user_id`, `conversation_id`, `turn_id`, `purpose`, `provider`, `model`, `prompt_tokens`, `completion_tokens`, `total_tokens`, `latency_ms`, `outcome` FROM `llm_calls`;
-- Drop "llm_calls" table after copying rows
DROP TABLE `llm_calls`;
-- Rename temporary table "new_llm_calls" to "llm_calls"
ALTER TABLE `new_llm_calls` RENAME TO `llm_calls`;
-- Create index "llm_calls_user_id_created_at_idx" to table: "llm_calls"
CREATE INDEX `llm_calls_user_id_created_at_idx` ON `llm_calls` (`user_id`, `created_at`);
-- Drop "agents" table
DROP TABLE `agents`;
-- Drop "agent_revisions" table
DROP TABLE `agent_revisions`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
