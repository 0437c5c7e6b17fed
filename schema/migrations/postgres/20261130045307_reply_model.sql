-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "model" character varying(255) NULL;
