-- Create "webhook_outbox" table
CREATE TABLE "webhook_outbox" (
  "id" bigserial NOT NULL,
  "type" character varying(64) NOT NULL,
  "object_id" character varying(100) NOT NULL,
  "conversation_id" character varying(100) NULL,
  "detail" character varying(64) NULL,
  "created_at" timestamptz NOT NULL,
  PRIMARY KEY ("id")
);
-- Create "webhook_subscriptions" table
CREATE TABLE "webhook_subscriptions" (
  "id" bigserial NOT NULL,
  "url" character varying(2048) NOT NULL,
  "events" character varying(512) NOT NULL,
  "secret" character varying(128) NOT NULL,
  "is_active" boolean NOT NULL DEFAULT true,
  "created_by" bigint NULL,
  "failing_since" timestamptz NULL,
  "last_delivered_at" timestamptz NULL,
  "disabled_at" timestamptz NULL,
  "disabled_reason" character varying(255) NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "webhook_subscriptions_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Create index "webhook_subscriptions_created_by_idx" to table: "webhook_subscriptions"
CREATE INDEX "webhook_subscriptions_created_by_idx" ON "webhook_subscriptions" ("created_by");
-- Create "webhook_deliveries" table
CREATE TABLE "webhook_deliveries" (
  "id" bigserial NOT NULL,
  "subscription_id" bigint NOT NULL,
  "event_id" character varying(64) NOT NULL,
  "event" character varying(64) NOT NULL,
  "conversation_id" character varying(100) NULL,
  "body" text NOT NULL,
  "state" character varying(16) NOT NULL,
  "attempts" bigint NOT NULL DEFAULT 0,
  "response_status" bigint NULL,
  "last_error" character varying(512) NULL,
  "started_at" timestamptz NULL,
  "delivered_at" timestamptz NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "webhook_deliveries_subscription_event_key" UNIQUE ("subscription_id", "event_id"),
  CONSTRAINT "webhook_deliveries_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "webhook_deliveries_started_at_idx" to table: "webhook_deliveries"
CREATE INDEX "webhook_deliveries_started_at_idx" ON "webhook_deliveries" ("started_at");
-- Create index "webhook_deliveries_subscription_id_id_idx" to table: "webhook_deliveries"
CREATE INDEX "webhook_deliveries_subscription_id_id_idx" ON "webhook_deliveries" ("subscription_id", "id");
