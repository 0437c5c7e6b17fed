-- Modify "messages" table
ALTER TABLE "messages" DROP COLUMN "citations";
