-- Drop "citations" from "messages" in place: rebuilding the table would drop
-- its counter triggers.
ALTER TABLE `messages` DROP COLUMN `citations`;
