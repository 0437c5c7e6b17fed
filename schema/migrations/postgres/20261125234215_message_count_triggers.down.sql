-- Undoes 20261125234215_message_count_triggers.sql: atlas sees no schema change in it, so this is written
-- by hand.
DROP TRIGGER messages_counted ON messages;
DROP FUNCTION count_messages();
DELETE FROM message_counts;
DELETE FROM conversation_counts;
