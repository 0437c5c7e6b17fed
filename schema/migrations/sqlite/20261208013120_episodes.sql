-- Create "episodes" table
CREATE TABLE `episodes` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `key` varchar NOT NULL,
  `conversation_id` varchar NOT NULL,
  `user_id` integer NOT NULL,
  `channel` varchar NOT NULL,
  `outcome` varchar NOT NULL,
  `agent` varchar NOT NULL DEFAULT '',
  `agents` varchar NOT NULL DEFAULT '',
  `first_message_id` integer NOT NULL,
  `last_message_id` integer NOT NULL,
  `started_at` timestamp NOT NULL,
  `ended_at` timestamp NOT NULL,
  `day` varchar NOT NULL,
  `handed_off_at` timestamp NULL,
  `first_reply_ms` integer NULL,
  `person_reply_ms` integer NULL,
  `turns` integer NOT NULL,
  `prompt_tokens` integer NOT NULL,
  `completion_tokens` integer NOT NULL,
  `cost_usd` double precision NOT NULL,
  `csat_message_id` integer NULL,
  `csat_asked_at` timestamp NULL,
  `csat_score` integer NULL,
  `csat_answered_at` timestamp NULL,
  `csat_response_id` integer NULL,
  CONSTRAINT `0` FOREIGN KEY (`csat_message_id`) REFERENCES `messages` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT `1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "episodes_key" to table: "episodes"
CREATE UNIQUE INDEX `episodes_key` ON `episodes` (`key`);
-- Create index "episodes_ended_at_idx" to table: "episodes"
CREATE INDEX `episodes_ended_at_idx` ON `episodes` (`ended_at`);
-- Create index "episodes_conversation_id_first_message_id_idx" to table: "episodes"
CREATE INDEX `episodes_conversation_id_first_message_id_idx` ON `episodes` (`conversation_id`, `first_message_id`);
-- Create index "episodes_csat_message_id_idx" to table: "episodes"
CREATE INDEX `episodes_csat_message_id_idx` ON `episodes` (`csat_message_id`);
-- Create index "episodes_user_id_idx" to table: "episodes"
CREATE INDEX `episodes_user_id_idx` ON `episodes` (`user_id`);
