-- Drop "attachments" table
DROP TABLE "attachments";
