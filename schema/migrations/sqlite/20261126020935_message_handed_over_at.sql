-- Add column "handed_over_at" to table: "messages"
ALTER TABLE `messages` ADD COLUMN `handed_over_at` timestamp NULL;
