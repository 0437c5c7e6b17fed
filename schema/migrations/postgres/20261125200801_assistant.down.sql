-- Undoes 20261125200801_assistant.sql: atlas sees no schema change in it, so this is written
-- by hand.
DELETE FROM users WHERE username = 'assistant' AND is_system;
