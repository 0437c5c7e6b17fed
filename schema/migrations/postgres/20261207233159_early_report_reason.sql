-- Modify "early_delivery_reports" table
ALTER TABLE "early_delivery_reports" ADD COLUMN "reason" character varying(64) NULL;
