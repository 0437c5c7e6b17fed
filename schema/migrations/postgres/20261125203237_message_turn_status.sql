-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "turn_status" character varying(20) NULL;
