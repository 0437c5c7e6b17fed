-- Create "conversation_states" table
CREATE TABLE "conversation_states" (
  "conversation_id" character varying(100) NOT NULL,
  "user_id" bigint NOT NULL,
  "mode" character varying(10) NOT NULL DEFAULT 'ai',
  "reason" character varying(500) NULL,
  "agent_id" bigint NULL,
  "handed_off_at" timestamptz NULL,
  "agent_read_up_to" bigint NOT NULL DEFAULT 0,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("conversation_id"),
  CONSTRAINT "conversation_states_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT "conversation_states_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "conversation_states_agent_id_idx" to table: "conversation_states"
CREATE INDEX "conversation_states_agent_id_idx" ON "conversation_states" ("agent_id");
-- Create index "conversation_states_user_id_idx" to table: "conversation_states"
CREATE INDEX "conversation_states_user_id_idx" ON "conversation_states" ("user_id");
-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "agent_id" bigint NULL, ADD
CONSTRAINT "messages_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "messages_agent_id_idx" to table: "messages"
CREATE INDEX "messages_agent_id_idx" ON "messages" ("agent_id");
-- The built-in role of support staff (a role of that name made earlier
-- becomes it).
INSERT INTO roles (name, description, created_at, updated_at)
VALUES ('agent', 'Support staff: the support inbox and report triage', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
ON CONFLICT (name) DO NOTHING;
