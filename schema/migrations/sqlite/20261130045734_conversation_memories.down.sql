-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "conversation_memories" table
DROP TABLE `conversation_memories`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
