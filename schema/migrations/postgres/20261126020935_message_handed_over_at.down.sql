-- Modify "messages" table
ALTER TABLE "messages" DROP COLUMN "handed_over_at";
