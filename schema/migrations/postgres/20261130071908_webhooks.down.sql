-- Drop "webhook_deliveries" table
DROP TABLE "webhook_deliveries";
-- Drop "webhook_outbox" table
DROP TABLE "webhook_outbox";
-- Drop "webhook_subscriptions" table
DROP TABLE "webhook_subscriptions";
