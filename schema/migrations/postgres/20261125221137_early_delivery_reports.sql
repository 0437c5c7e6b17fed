-- Create "early_delivery_reports" table
CREATE TABLE "early_delivery_reports" (
  "id" bigserial NOT NULL,
  "provider_id" character varying(64) NOT NULL,
  "status" character varying(20) NOT NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "early_delivery_reports_provider_id_key" UNIQUE ("provider_id")
);
