-- Create "conversation_memories" table
CREATE TABLE "conversation_memories" (
  "conversation_id" character varying(64) NOT NULL,
  "user_id" bigint NOT NULL,
  "up_to" bigint NOT NULL,
  "content" text NOT NULL,
  "model" character varying(255) NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("conversation_id"),
  CONSTRAINT "conversation_memories_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "conversation_memories_user_id_idx" to table: "conversation_memories"
CREATE INDEX "conversation_memories_user_id_idx" ON "conversation_memories" ("user_id");
