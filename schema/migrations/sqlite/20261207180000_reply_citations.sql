-- Add column "citations" to table: "messages"
ALTER TABLE `messages` ADD COLUMN `citations` text NULL;
