-- Create "conversation_counts" table
CREATE TABLE "conversation_counts" (
  "conversation_id" character varying(100) NOT NULL,
  "total" bigint NOT NULL DEFAULT 0,
  PRIMARY KEY ("conversation_id")
);
-- Create "message_counts" table
CREATE TABLE "message_counts" (
  "user_id" bigint NOT NULL,
  "sent" bigint NOT NULL DEFAULT 0,
  "received" bigint NOT NULL DEFAULT 0,
  PRIMARY KEY ("user_id")
);
