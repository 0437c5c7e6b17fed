-- Drop "early_delivery_reports" table
DROP TABLE "early_delivery_reports";
