-- Create "webhook_subscriptions" table
CREATE TABLE `webhook_subscriptions` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `url` varchar NOT NULL,
  `events` varchar NOT NULL,
  `secret` varchar NOT NULL,
  `is_active` boolean NOT NULL DEFAULT true,
  `created_by` integer NULL,
  `failing_since` timestamp NULL,
  `last_delivered_at` timestamp NULL,
  `disabled_at` timestamp NULL,
  `disabled_reason` varchar NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`created_by`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Create index "webhook_subscriptions_created_by_idx" to table: "webhook_subscriptions"
CREATE INDEX `webhook_subscriptions_created_by_idx` ON `webhook_subscriptions` (`created_by`);
-- Create "webhook_outbox" table
CREATE TABLE `webhook_outbox` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `type` varchar NOT NULL,
  `object_id` varchar NOT NULL,
  `conversation_id` varchar NULL,
  `detail` varchar NULL,
  `created_at` timestamp NOT NULL
);
-- Create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `subscription_id` integer NOT NULL,
  `event_id` varchar NOT NULL,
  `event` varchar NOT NULL,
  `conversation_id` varchar NULL,
  `body` text NOT NULL,
  `state` varchar NOT NULL,
  `attempts` integer NOT NULL DEFAULT 0,
  `response_status` integer NULL,
  `last_error` varchar NULL,
  `started_at` timestamp NULL,
  `delivered_at` timestamp NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`subscription_id`) REFERENCES `webhook_subscriptions` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "webhook_deliveries_subscription_id_event_id" to table: "webhook_deliveries"
CREATE UNIQUE INDEX `webhook_deliveries_subscription_id_event_id` ON `webhook_deliveries` (`subscription_id`, `event_id`);
-- Create index "webhook_deliveries_subscription_id_id_idx" to table: "webhook_deliveries"
CREATE INDEX `webhook_deliveries_subscription_id_id_idx` ON `webhook_deliveries` (`subscription_id`, `id`);
-- Create index "webhook_deliveries_started_at_idx" to table: "webhook_deliveries"
CREATE INDEX `webhook_deliveries_started_at_idx` ON `webhook_deliveries` (`started_at`);
