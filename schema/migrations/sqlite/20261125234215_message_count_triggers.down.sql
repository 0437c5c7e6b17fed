-- Undoes 20261125234215_message_count_triggers.sql: atlas sees no schema change in it, so this is written
-- by hand.
DROP TRIGGER messages_counted_insert;
DROP TRIGGER messages_counted_delete;
DELETE FROM message_counts;
DELETE FROM conversation_counts;
