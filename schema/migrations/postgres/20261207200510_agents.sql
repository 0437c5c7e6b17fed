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
