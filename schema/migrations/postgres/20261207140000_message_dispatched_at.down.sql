-- Undoes 20261207140000_message_dispatched_at.sql.
ALTER TABLE "messages" RENAME COLUMN "dispatched_at" TO "handed_over_at";
