-- Create "users" table
CREATE TABLE `users` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `username` varchar NOT NULL,
  `email` varchar NOT NULL,
  `hashed_password` varchar NOT NULL,
  `is_active` boolean NOT NULL DEFAULT true,
  `is_superuser` boolean NOT NULL DEFAULT false,
  `is_system` boolean NOT NULL DEFAULT false,
  `full_name` varchar NULL,
  `bio` text NULL,
  `phone_number` varchar NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL
);
-- Create index "users_username" to table: "users"
CREATE UNIQUE INDEX `users_username` ON `users` (`username`);
-- Create index "users_email" to table: "users"
CREATE UNIQUE INDEX `users_email` ON `users` (`email`);
-- Create index "users_phone_number" to table: "users"
CREATE UNIQUE INDEX `users_phone_number` ON `users` (`phone_number`);
-- Create "roles" table
CREATE TABLE `roles` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `name` varchar NOT NULL,
  `description` varchar NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL
);
-- Create index "roles_name" to table: "roles"
CREATE UNIQUE INDEX `roles_name` ON `roles` (`name`);
-- Create "user_roles" table
CREATE TABLE `user_roles` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `user_id` integer NOT NULL,
  `role_id` integer NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`role_id`) REFERENCES `roles` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "user_roles_user_id_role_id" to table: "user_roles"
CREATE UNIQUE INDEX `user_roles_user_id_role_id` ON `user_roles` (`user_id`, `role_id`);
-- Create index "user_roles_role_id_idx" to table: "user_roles"
CREATE INDEX `user_roles_role_id_idx` ON `user_roles` (`role_id`);
-- Create "sessions" table
CREATE TABLE `sessions` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `user_id` integer NOT NULL,
  `session_token` varchar NOT NULL,
  `device_info` varchar NULL,
  `ip_address` varchar NULL,
  `is_active` boolean NOT NULL DEFAULT true,
  `expires_at` timestamp NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "sessions_session_token" to table: "sessions"
CREATE UNIQUE INDEX `sessions_session_token` ON `sessions` (`session_token`);
-- Create index "sessions_user_id_idx" to table: "sessions"
CREATE INDEX `sessions_user_id_idx` ON `sessions` (`user_id`);
-- Create "refresh_tokens" table
CREATE TABLE `refresh_tokens` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `user_id` integer NOT NULL,
  `session_id` integer NOT NULL,
  `token` varchar NOT NULL,
  `expires_at` timestamp NOT NULL,
  `is_used` boolean NOT NULL DEFAULT false,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`session_id`) REFERENCES `sessions` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `1` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "refresh_tokens_token" to table: "refresh_tokens"
CREATE UNIQUE INDEX `refresh_tokens_token` ON `refresh_tokens` (`token`);
-- Create index "refresh_tokens_user_id_idx" to table: "refresh_tokens"
CREATE INDEX `refresh_tokens_user_id_idx` ON `refresh_tokens` (`user_id`);
-- Create index "refresh_tokens_session_id_idx" to table: "refresh_tokens"
CREATE INDEX `refresh_tokens_session_id_idx` ON `refresh_tokens` (`session_id`);
-- Create "messages" table
CREATE TABLE `messages` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `sender_id` integer NOT NULL,
  `recipient_id` integer NOT NULL,
  `content` text NOT NULL,
  `is_read` boolean NOT NULL DEFAULT false,
  `parent_id` integer NULL,
  `conversation_id` varchar NULL,
  `channel` varchar NOT NULL DEFAULT 'web',
  `external_id` varchar NULL,
  `delivery_status` varchar NULL,
  `provider_message_id` varchar NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`parent_id`) REFERENCES `messages` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT `1` FOREIGN KEY (`recipient_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT `2` FOREIGN KEY (`sender_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "messages_channel_external_id" to table: "messages"
CREATE UNIQUE INDEX `messages_channel_external_id` ON `messages` (`channel`, `external_id`);
-- Create index "messages_sender_id_id_idx" to table: "messages"
CREATE INDEX `messages_sender_id_id_idx` ON `messages` (`sender_id`, `id`);
-- Create index "messages_recipient_id_id_idx" to table: "messages"
CREATE INDEX `messages_recipient_id_id_idx` ON `messages` (`recipient_id`, `id`);
-- Create index "messages_conversation_id_id_idx" to table: "messages"
CREATE INDEX `messages_conversation_id_id_idx` ON `messages` (`conversation_id`, `id`);
-- Create index "messages_parent_id_idx" to table: "messages"
CREATE INDEX `messages_parent_id_idx` ON `messages` (`parent_id`);
-- Create "reports" table
CREATE TABLE `reports` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `reporter_id` integer NOT NULL,
  `title` varchar NOT NULL,
  `content` text NOT NULL,
  `status` varchar NOT NULL DEFAULT 'open',
  `comment` text NULL,
  `resolved_at` timestamp NULL,
  `resolved_by` integer NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`resolved_by`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT `1` FOREIGN KEY (`reporter_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "reports_reporter_id_id_idx" to table: "reports"
CREATE INDEX `reports_reporter_id_id_idx` ON `reports` (`reporter_id`, `id`);
-- Create index "reports_status_id_idx" to table: "reports"
CREATE INDEX `reports_status_id_idx` ON `reports` (`status`, `id`);
-- Create index "reports_resolved_by_idx" to table: "reports"
CREATE INDEX `reports_resolved_by_idx` ON `reports` (`resolved_by`);
-- Create "telegram_links" table
CREATE TABLE `telegram_links` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `user_id` integer NOT NULL,
  `chat_id` integer NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "telegram_links_user_id" to table: "telegram_links"
CREATE UNIQUE INDEX `telegram_links_user_id` ON `telegram_links` (`user_id`);
-- Create index "telegram_links_chat_id" to table: "telegram_links"
CREATE UNIQUE INDEX `telegram_links_chat_id` ON `telegram_links` (`chat_id`);
