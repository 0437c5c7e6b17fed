-- Drop "conversation_memories" table
DROP TABLE "conversation_memories";
