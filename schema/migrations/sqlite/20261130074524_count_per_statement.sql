-- atlas:delimiter -- end

-- The assistant's side of its conversations (ai:<user id>) is not counted:
-- nobody lists the assistant's messages, and counting them made all AI
-- traffic wait on one row.
DROP TRIGGER messages_counted_insert;
-- end

DROP TRIGGER messages_counted_delete;
-- end

CREATE TRIGGER messages_counted_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_counts (user_id, sent, received) SELECT NEW.sender_id, 1, 0
    WHERE NEW.conversation_id IS NULL OR NEW.conversation_id NOT LIKE 'ai:%' OR NEW.conversation_id = 'ai:' || NEW.sender_id
    ON CONFLICT (user_id) DO UPDATE SET sent = sent + 1;
  INSERT INTO message_counts (user_id, sent, received) SELECT NEW.recipient_id, 0, 1
    WHERE NEW.conversation_id IS NULL OR NEW.conversation_id NOT LIKE 'ai:%' OR NEW.conversation_id = 'ai:' || NEW.recipient_id
    ON CONFLICT (user_id) DO UPDATE SET received = received + 1;
  INSERT INTO conversation_counts (conversation_id, total) SELECT NEW.conversation_id, 1
    WHERE NEW.conversation_id IS NOT NULL
    ON CONFLICT (conversation_id) DO UPDATE SET total = total + 1;
END;
-- end

CREATE TRIGGER messages_counted_delete AFTER DELETE ON messages BEGIN
  UPDATE message_counts SET sent = sent - 1 WHERE user_id = OLD.sender_id
    AND (OLD.conversation_id IS NULL OR OLD.conversation_id NOT LIKE 'ai:%' OR OLD.conversation_id = 'ai:' || OLD.sender_id);
  UPDATE message_counts SET received = received - 1 WHERE user_id = OLD.recipient_id
    AND (OLD.conversation_id IS NULL OR OLD.conversation_id NOT LIKE 'ai:%' OR OLD.conversation_id = 'ai:' || OLD.recipient_id);
  UPDATE conversation_counts SET total = total - 1 WHERE conversation_id = OLD.conversation_id;
END;
-- end

-- The assistant's own counts are no longer kept.
DELETE FROM message_counts WHERE user_id IN (SELECT id FROM users WHERE is_system);
-- end
