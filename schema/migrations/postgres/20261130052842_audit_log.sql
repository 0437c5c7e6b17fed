-- Create "audit_log" table
CREATE TABLE "audit_log" (
  "id" bigserial NOT NULL,
  "at" timestamptz NOT NULL,
  "actor_id" bigint NULL,
  "action" character varying(64) NOT NULL,
  "target_type" character varying(32) NOT NULL,
  "target_id" character varying(64) NOT NULL,
  "ip" character varying(64) NOT NULL,
  "changes" text NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "audit_log_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Create index "audit_log_action_id_idx" to table: "audit_log"
CREATE INDEX "audit_log_action_id_idx" ON "audit_log" ("action", "id");
-- Create index "audit_log_actor_id_id_idx" to table: "audit_log"
CREATE INDEX "audit_log_actor_id_id_idx" ON "audit_log" ("actor_id", "id");
