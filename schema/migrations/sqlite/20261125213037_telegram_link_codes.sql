-- Create "telegram_link_codes" table
CREATE TABLE `telegram_link_codes` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `code` varchar NOT NULL,
  `user_id` integer NOT NULL,
  `expires_at` timestamp NOT NULL,
  `used_at` timestamp NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "telegram_link_codes_code" to table: "telegram_link_codes"
CREATE UNIQUE INDEX `telegram_link_codes_code` ON `telegram_link_codes` (`code`);
-- Create index "telegram_link_codes_user_id_idx" to table: "telegram_link_codes"
CREATE INDEX `telegram_link_codes_user_id_idx` ON `telegram_link_codes` (`user_id`);
