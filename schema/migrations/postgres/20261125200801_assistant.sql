-- The AI assistant is a system user, so every AI message has a real sender
-- and recipient. Its password hash matches no password: nobody logs in as it.
INSERT INTO users (username, email, hashed_password, is_active, is_superuser, is_system, full_name, created_at, updated_at)
VALUES ('assistant', 'assistant@aimsg.invalid', '!', true, false, true, 'AI Assistant', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
