-- Add column "turn_status" to table: "messages"
ALTER TABLE `messages` ADD COLUMN `turn_status` varchar NULL;
