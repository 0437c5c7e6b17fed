-- Undoes 20261130001914_live_notify.sql: atlas sees no schema change in it, so this is written
-- by hand.
DROP TRIGGER messages_live ON messages;
DROP TRIGGER sessions_live ON sessions;
DROP FUNCTION live_notify_message();
DROP FUNCTION live_notify_session();
