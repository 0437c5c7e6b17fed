-- Modify "messages" table
ALTER TABLE "messages" DROP COLUMN "agent_id";
-- Drop "conversation_states" table
DROP TABLE "conversation_states";
-- The built-in role of support staff (by hand: atlas sees no rows).
DELETE FROM roles WHERE name = 'agent';
