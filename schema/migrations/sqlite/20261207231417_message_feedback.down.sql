-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "message_feedback" table
DROP TABLE `message_feedback`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
