-- Create "episodes" table
CREATE TABLE "episodes" (
  "id" bigserial NOT NULL,
  "key" character varying(160) NOT NULL,
  "conversation_id" character varying(100) NOT NULL,
  "user_id" bigint NOT NULL,
  "channel" character varying(20) NOT NULL,
  "outcome" character varying(24) NOT NULL,
  "agent" character varying(48) NOT NULL DEFAULT '',
  "agents" character varying(500) NOT NULL DEFAULT '',
  "first_message_id" bigint NOT NULL,
  "last_message_id" bigint NOT NULL,
  "started_at" timestamptz NOT NULL,
  "ended_at" timestamptz NOT NULL,
  "day" character varying(10) NOT NULL,
  "handed_off_at" timestamptz NULL,
  "first_reply_ms" bigint NULL,
  "person_reply_ms" bigint NULL,
  "turns" bigint NOT NULL,
  "prompt_tokens" bigint NOT NULL,
  "completion_tokens" bigint NOT NULL,
  "cost_usd" double precision NOT NULL,
  "csat_message_id" bigint NULL,
  "csat_asked_at" timestamptz NULL,
  "csat_score" bigint NULL,
  "csat_answered_at" timestamptz NULL,
  "csat_response_id" bigint NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "episodes_key_key" UNIQUE ("key"),
  CONSTRAINT "episodes_csat_message_id_fkey" FOREIGN KEY ("csat_message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT "episodes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "episodes_conversation_id_first_message_id_idx" to table: "episodes"
CREATE INDEX "episodes_conversation_id_first_message_id_idx" ON "episodes" ("conversation_id", "first_message_id");
-- Create index "episodes_csat_message_id_idx" to table: "episodes"
CREATE INDEX "episodes_csat_message_id_idx" ON "episodes" ("csat_message_id");
-- Create index "episodes_ended_at_idx" to table: "episodes"
CREATE INDEX "episodes_ended_at_idx" ON "episodes" ("ended_at");
-- Create index "episodes_user_id_idx" to table: "episodes"
CREATE INDEX "episodes_user_id_idx" ON "episodes" ("user_id");
