-- Add column "ai_agent" to table: "conversation_states"
ALTER TABLE `conversation_states` ADD COLUMN `ai_agent` varchar NOT NULL DEFAULT '';
-- Add column "agent" to table: "llm_calls"
ALTER TABLE `llm_calls` ADD COLUMN `agent` varchar NOT NULL DEFAULT '';
-- Create "agents" table
CREATE TABLE `agents` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `name` varchar NOT NULL,
  `description` varchar NOT NULL,
  `instructions` text NOT NULL,
  `model` varchar NOT NULL,
  `tools` text NOT NULL,
  `transfers` text NOT NULL,
  `is_entry` boolean NOT NULL,
  `revision` integer NOT NULL,
  `updated_by` integer NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`updated_by`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Create index "agents_name" to table: "agents"
CREATE UNIQUE INDEX `agents_name` ON `agents` (`name`);
-- Create index "agents_updated_by_idx" to table: "agents"
CREATE INDEX `agents_updated_by_idx` ON `agents` (`updated_by`);
-- Create "agent_revisions" table
CREATE TABLE `agent_revisions` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `name` varchar NOT NULL,
  `revision` integer NOT NULL,
  `spec` text NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL
);
-- Create index "agent_revisions_name_revision" to table: "agent_revisions"
CREATE UNIQUE INDEX `agent_revisions_name_revision` ON `agent_revisions` (`name`, `revision`);
-- Create "tool_approvals" table
CREATE TABLE `tool_approvals` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `conversation_id` varchar NOT NULL,
  `user_id` integer NOT NULL,
  `turn_id` varchar NOT NULL,
  `call_id` varchar NOT NULL,
  `agent` varchar NOT NULL,
  `tool` varchar NOT NULL,
  `arguments` text NOT NULL,
  `status` varchar NOT NULL,
  `reason` varchar NULL,
  `decided_by` integer NULL,
  `requested_at` timestamp NOT NULL,
  `expires_at` timestamp NOT NULL,
  `decided_at` timestamp NULL,
  CONSTRAINT `0` FOREIGN KEY (`decided_by`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT `1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "tool_approvals_turn_id_call_id" to table: "tool_approvals"
CREATE UNIQUE INDEX `tool_approvals_turn_id_call_id` ON `tool_approvals` (`turn_id`, `call_id`);
-- Create index "tool_approvals_conversation_id_status_idx" to table: "tool_approvals"
CREATE INDEX `tool_approvals_conversation_id_status_idx` ON `tool_approvals` (`conversation_id`, `status`);
-- Create index "tool_approvals_user_id_idx" to table: "tool_approvals"
CREATE INDEX `tool_approvals_user_id_idx` ON `tool_approvals` (`user_id`);
-- Create index "tool_approvals_decided_by_idx" to table: "tool_approvals"
CREATE INDEX `tool_approvals_decided_by_idx` ON `tool_approvals` (`decided_by`);
