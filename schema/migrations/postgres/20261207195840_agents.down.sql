-- Modify "llm_calls" table
ALTER TABLE "llm_calls" DROP COLUMN "agent";
-- Drop "agent_revisions" table
DROP TABLE "agent_revisions";
-- Drop "agents" table
DROP TABLE "agents";
