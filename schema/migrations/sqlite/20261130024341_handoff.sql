-- Add "agent_id" to "messages" (a column added in place: rebuilding the
-- table would drop its counter triggers)
ALTER TABLE `messages` ADD COLUMN `agent_id` integer NULL REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "messages_agent_id_idx" to table: "messages"
CREATE INDEX `messages_agent_id_idx` ON `messages` (`agent_id`);
-- Create "conversation_states" table
CREATE TABLE `conversation_states` (
  `conversation_id` varchar NOT NULL,
  `user_id` integer NOT NULL,
  `mode` varchar NOT NULL DEFAULT 'ai',
  `reason` varchar NULL,
  `agent_id` integer NULL,
  `handed_off_at` timestamp NULL,
  `agent_read_up_to` integer NOT NULL DEFAULT 0,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  PRIMARY KEY (`conversation_id`),
  CONSTRAINT `0` FOREIGN KEY (`agent_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT `1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "conversation_states_user_id_idx" to table: "conversation_states"
CREATE INDEX `conversation_states_user_id_idx` ON `conversation_states` (`user_id`);
-- Create index "conversation_states_agent_id_idx" to table: "conversation_states"
CREATE INDEX `conversation_states_agent_id_idx` ON `conversation_states` (`agent_id`);
-- The built-in role of support staff (a role of that name made earlier
-- becomes it).
INSERT INTO roles (name, description, created_at, updated_at)
VALUES ('agent', 'Support staff: the support inbox and report triage', strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
ON CONFLICT (name) DO NOTHING;
