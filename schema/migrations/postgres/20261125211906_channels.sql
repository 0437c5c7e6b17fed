-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "address" character varying(64) NULL;
-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "sms_opt_out" boolean NOT NULL DEFAULT false;
-- Create "deliveries" table
CREATE TABLE "deliveries" (
  "id" bigserial NOT NULL,
  "message_id" bigint NOT NULL,
  "part" bigint NOT NULL,
  "provider_id" character varying(64) NULL,
  "status" character varying(20) NOT NULL,
  "sent_at" timestamptz NOT NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "deliveries_message_id_part_key" UNIQUE ("message_id", "part"),
  CONSTRAINT "deliveries_provider_id_key" UNIQUE ("provider_id"),
  CONSTRAINT "deliveries_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
