-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "citations" text NULL;
