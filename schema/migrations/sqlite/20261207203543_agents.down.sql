-- Drop the new columns in place: rebuilding conversation_states would drop
-- its webhook triggers.
ALTER TABLE `conversation_states` DROP COLUMN `ai_agent`;
ALTER TABLE `llm_calls` DROP COLUMN `agent`;
-- Drop "tool_approvals" table
DROP TABLE `tool_approvals`;
-- Drop "agents" table
DROP TABLE `agents`;
-- Drop "agent_revisions" table
DROP TABLE `agent_revisions`;
