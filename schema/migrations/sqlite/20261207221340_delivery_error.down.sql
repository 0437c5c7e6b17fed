-- Drop "delivery_error" from "messages" in place: rebuilding the table would
-- drop its counter triggers.
DROP INDEX `messages_address_id_idx`;
ALTER TABLE `messages` DROP COLUMN `delivery_error`;
