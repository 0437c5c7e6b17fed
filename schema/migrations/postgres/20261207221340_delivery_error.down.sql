-- Drop index "messages_address_id_idx" from table: "messages"
DROP INDEX "messages_address_id_idx";
-- Modify "messages" table
ALTER TABLE "messages" DROP COLUMN "delivery_error";
