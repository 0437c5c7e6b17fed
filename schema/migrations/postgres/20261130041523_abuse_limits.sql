-- Create "throttle_hits" table
CREATE TABLE "throttle_hits" (
  "id" bigserial NOT NULL,
  "key" character varying(255) NOT NULL,
  "created_at" timestamptz NOT NULL,
  PRIMARY KEY ("id")
);
-- Create index "throttle_hits_key_created_at_idx" to table: "throttle_hits"
CREATE INDEX "throttle_hits_key_created_at_idx" ON "throttle_hits" ("key", "created_at");
-- Create "event_streams" table
CREATE TABLE "event_streams" (
  "id" bigserial NOT NULL,
  "user_id" bigint NOT NULL,
  "address" character varying(64) NOT NULL,
  "process" character varying(32) NOT NULL,
  "opened_at" timestamptz NOT NULL,
  "seen_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "event_streams_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "event_streams_address_idx" to table: "event_streams"
CREATE INDEX "event_streams_address_idx" ON "event_streams" ("address");
-- Create index "event_streams_process_idx" to table: "event_streams"
CREATE INDEX "event_streams_process_idx" ON "event_streams" ("process");
-- Create index "event_streams_user_id_idx" to table: "event_streams"
CREATE INDEX "event_streams_user_id_idx" ON "event_streams" ("user_id");
-- Drop "login_failures" table
DROP TABLE "login_failures";
