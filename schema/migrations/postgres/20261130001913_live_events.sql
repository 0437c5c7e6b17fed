-- Create "live_events" table
CREATE TABLE "live_events" (
  "id" bigserial NOT NULL,
  "payload" text NOT NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id")
);
