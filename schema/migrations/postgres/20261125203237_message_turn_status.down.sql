-- Modify "messages" table
ALTER TABLE "messages" DROP COLUMN "turn_status";
