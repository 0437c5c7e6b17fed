-- Modify "conversation_states" table
ALTER TABLE "conversation_states" ADD COLUMN "ai_agent" character varying(48) NOT NULL DEFAULT '';
-- Modify "llm_calls" table
ALTER TABLE "llm_calls" ADD COLUMN "agent" character varying(48) NOT NULL DEFAULT '';
-- Create "agent_revisions" table
CREATE TABLE "agent_revisions" (
  "id" bigserial NOT NULL,
  "name" character varying(48) NOT NULL,
  "revision" bigint NOT NULL,
  "spec" text NOT NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "agent_revisions_name_revision_key" UNIQUE ("name", "revision")
);
-- Create "agents" table
CREATE TABLE "agents" (
  "id" bigserial NOT NULL,
  "name" character varying(48) NOT NULL,
  "description" character varying(500) NOT NULL,
  "instructions" text NOT NULL,
  "model" character varying(255) NOT NULL,
  "tools" text NOT NULL,
  "transfers" text NOT NULL,
  "is_entry" boolean NOT NULL,
  "revision" bigint NOT NULL,
  "updated_by" bigint NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "agents_name_key" UNIQUE ("name"),
  CONSTRAINT "agents_updated_by_fkey" FOREIGN KEY ("updated_by") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Create index "agents_updated_by_idx" to table: "agents"
CREATE INDEX "agents_updated_by_idx" ON "agents" ("updated_by");
-- Create "tool_approvals" table
CREATE TABLE "tool_approvals" (
  "id" bigserial NOT NULL,
  "conversation_id" character varying(100) NOT NULL,
  "user_id" bigint NOT NULL,
  "turn_id" character varying(255) NOT NULL,
  "call_id" character varying(255) NOT NULL,
  "agent" character varying(48) NOT NULL,
  "tool" character varying(255) NOT NULL,
  "arguments" text NOT NULL,
  "status" character varying(16) NOT NULL,
  "reason" character varying(500) NULL,
  "decided_by" bigint NULL,
  "requested_at" timestamptz NOT NULL,
  "expires_at" timestamptz NOT NULL,
  "decided_at" timestamptz NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "tool_approvals_turn_id_call_id_key" UNIQUE ("turn_id", "call_id"),
  CONSTRAINT "tool_approvals_decided_by_fkey" FOREIGN KEY ("decided_by") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT "tool_approvals_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "tool_approvals_conversation_id_status_idx" to table: "tool_approvals"
CREATE INDEX "tool_approvals_conversation_id_status_idx" ON "tool_approvals" ("conversation_id", "status");
-- Create index "tool_approvals_decided_by_idx" to table: "tool_approvals"
CREATE INDEX "tool_approvals_decided_by_idx" ON "tool_approvals" ("decided_by");
-- Create index "tool_approvals_user_id_idx" to table: "tool_approvals"
CREATE INDEX "tool_approvals_user_id_idx" ON "tool_approvals" ("user_id");
