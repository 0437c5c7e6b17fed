-- Modify "messages" table
ALTER TABLE "messages" DROP CONSTRAINT "messages_recipient_id_fkey", DROP CONSTRAINT "messages_sender_id_fkey";
-- Modify "refresh_tokens" table
ALTER TABLE "refresh_tokens" DROP CONSTRAINT "refresh_tokens_session_id_fkey", DROP CONSTRAINT "refresh_tokens_user_id_fkey";
-- Modify "reports" table
ALTER TABLE "reports" DROP CONSTRAINT "reports_reporter_id_fkey", DROP CONSTRAINT "reports_resolved_by_fkey";
-- Modify "sessions" table
ALTER TABLE "sessions" DROP CONSTRAINT "sessions_user_id_fkey";
-- Modify "telegram_links" table
ALTER TABLE "telegram_links" DROP CONSTRAINT "telegram_links_user_id_fkey";
-- Modify "user_roles" table
ALTER TABLE "user_roles" DROP CONSTRAINT "user_roles_role_id_fkey", DROP CONSTRAINT "user_roles_user_id_fkey";
-- Drop "messages" table
DROP TABLE "messages";
-- Drop "refresh_tokens" table
DROP TABLE "refresh_tokens";
-- Drop "reports" table
DROP TABLE "reports";
-- Drop "roles" table
DROP TABLE "roles";
-- Drop "sessions" table
DROP TABLE "sessions";
-- Drop "telegram_links" table
DROP TABLE "telegram_links";
-- Drop "user_roles" table
DROP TABLE "user_roles";
-- Drop "users" table
DROP TABLE "users";
