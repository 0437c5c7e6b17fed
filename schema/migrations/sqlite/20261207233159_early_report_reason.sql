-- Add column "reason" to table: "early_delivery_reports"
ALTER TABLE `early_delivery_reports` ADD COLUMN `reason` varchar NULL;
