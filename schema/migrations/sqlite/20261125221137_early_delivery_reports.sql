-- Create "early_delivery_reports" table
CREATE TABLE `early_delivery_reports` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `provider_id` varchar NOT NULL,
  `status` varchar NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL
);
-- Create index "early_delivery_reports_provider_id" to table: "early_delivery_reports"
CREATE UNIQUE INDEX `early_delivery_reports_provider_id` ON `early_delivery_reports` (`provider_id`);
