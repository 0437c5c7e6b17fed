-- Modify "early_delivery_reports" table
ALTER TABLE "early_delivery_reports" DROP COLUMN "reason";
