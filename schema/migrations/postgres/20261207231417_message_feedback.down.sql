-- Drop "message_feedback" table
DROP TABLE "message_feedback";
