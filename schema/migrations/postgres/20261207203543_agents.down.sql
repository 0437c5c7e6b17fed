-- Modify "conversation_states" table
ALTER TABLE "conversation_states" DROP COLUMN "ai_agent";
-- Modify "llm_calls" table
ALTER TABLE "llm_calls" DROP COLUMN "agent";
-- Drop "agent_revisions" table
DROP TABLE "agent_revisions";
-- Drop "agents" table
DROP TABLE "agents";
-- Drop "tool_approvals" table
DROP TABLE "tool_approvals";
