-- Create "llm_calls" table
CREATE TABLE "llm_calls" (
  "id" bigserial NOT NULL,
  "created_at" timestamptz NOT NULL,
  "user_id" bigint NOT NULL,
  "conversation_id" character varying(64) NOT NULL,
  "turn_id" character varying(255) NOT NULL,
  "purpose" character varying(16) NOT NULL,
  "provider" character varying(255) NOT NULL,
  "model" character varying(255) NOT NULL,
  "prompt_tokens" bigint NOT NULL,
  "completion_tokens" bigint NOT NULL,
  "total_tokens" bigint NOT NULL,
  "latency_ms" bigint NOT NULL,
  "outcome" character varying(16) NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "llm_calls_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "llm_calls_user_id_created_at_idx" to table: "llm_calls"
CREATE INDEX "llm_calls_user_id_created_at_idx" ON "llm_calls" ("user_id", "created_at");
