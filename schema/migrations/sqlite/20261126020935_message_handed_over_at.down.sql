-- Drop "handed_over_at" from "messages" in place: rebuilding the table
-- would drop its counter triggers.
ALTER TABLE `messages` DROP COLUMN `handed_over_at`;
