-- Drop "telegram_link_codes" table
DROP TABLE "telegram_link_codes";
