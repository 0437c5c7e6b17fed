-- Add column "model" to table: "messages"
ALTER TABLE `messages` ADD COLUMN `model` varchar NULL;
