-- Create "login_failures" table
CREATE TABLE "login_failures" (
  "id" bigserial NOT NULL,
  "key" character varying(255) NOT NULL,
  "created_at" timestamptz NOT NULL,
  PRIMARY KEY ("id")
);
-- Create index "login_failures_key_created_at_idx" to table: "login_failures"
CREATE INDEX "login_failures_key_created_at_idx" ON "login_failures" ("key", "created_at");
-- Drop "event_streams" table
DROP TABLE "event_streams";
-- Drop "throttle_hits" table
DROP TABLE "throttle_hits";
