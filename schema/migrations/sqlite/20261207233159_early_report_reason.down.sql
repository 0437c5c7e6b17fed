-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_early_delivery_reports" table
CREATE TABLE `new_early_delivery_reports` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `provider_id` varchar NOT NULL,
  `status` varchar NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL
);
-- Copy rows from old table "early_delivery_reports" to new temporary table "new_early_delivery_reports"
INSERT INTO `new_early_delivery_reports` (`id`, `provider_id`, `status`, `created_at`, `updated_at`) SELECT `id`, `provider_id`, `status`, `created_at`, `updated_at` FROM `early_delivery_reports`;
-- Drop "early_delivery_reports" table after copying rows
DROP TABLE `early_delivery_reports`;
-- Rename temporary table "new_early_delivery_reports" to "early_delivery_reports"
ALTER TABLE `new_early_delivery_reports` RENAME TO `early_delivery_reports`;
-- Create index "early_delivery_reports_provider_id" to table: "early_delivery_reports"
CREATE UNIQUE INDEX `early_delivery_reports_provider_id` ON `early_delivery_reports` (`provider_id`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
