-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Drop "users" table
DROP TABLE `users`;
-- Drop "roles" table
DROP TABLE `roles`;
-- Drop "user_roles" table
DROP TABLE `user_roles`;
-- Drop "sessions" table
DROP TABLE `sessions`;
-- Drop "refresh_tokens" table
DROP TABLE `refresh_tokens`;
-- Drop "messages" table
DROP TABLE `messages`;
-- Drop "reports" table
DROP TABLE `reports`;
-- Drop "telegram_links" table
DROP TABLE `telegram_links`;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
