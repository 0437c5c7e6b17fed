-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "webhook_subscriptions" table
DROP TABLE `webhook_subscriptions`;
-- Drop "webhook_outbox" table
DROP TABLE `webhook_outbox`;
-- Drop "webhook_deliveries" table
DROP TABLE `webhook_deliveries`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
