-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "message_counts" table
DROP TABLE `message_counts`;
-- Drop "conversation_counts" table
DROP TABLE `conversation_counts`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
