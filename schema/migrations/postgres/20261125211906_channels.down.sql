-- Modify "messages" table
ALTER TABLE "messages" DROP COLUMN "address";
-- Modify "users" table
ALTER TABLE "users" DROP COLUMN "sms_opt_out";
-- Drop "deliveries" table
DROP TABLE "deliveries";
