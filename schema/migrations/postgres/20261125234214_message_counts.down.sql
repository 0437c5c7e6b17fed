-- Drop "conversation_counts" table
DROP TABLE "conversation_counts";
-- Drop "message_counts" table
DROP TABLE "message_counts";
