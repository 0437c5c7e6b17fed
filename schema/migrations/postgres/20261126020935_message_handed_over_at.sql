-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "handed_over_at" timestamptz NULL;
