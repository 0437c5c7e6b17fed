-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "episodes" table
DROP TABLE `episodes`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
