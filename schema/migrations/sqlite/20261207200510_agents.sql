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
