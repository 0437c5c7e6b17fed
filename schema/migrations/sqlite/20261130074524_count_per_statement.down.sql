-- atlas:delimiter -- end

-- Back to counting the assistant's side too.
DROP TRIGGER messages_counted_insert;
-- end

DROP TRIGGER messages_counted_delete;
-- end

CREATE TRIGGER messages_counted_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_counts (user_id, sent, received) VALUES (NEW.sender_id, 1, 0)
    ON CONFLICT (user_id) DO UPDATE SET sent = sent + 1;
  INSERT INTO message_counts (user_id, sent, received) VALUES (NEW.recipient_id, 0, 1)
    ON CONFLICT (user_id) DO UPDATE SET received = received + 1;
  INSERT INTO conversation_counts (conversation_id, total) SELECT NEW.conversation_id, 1
    WHERE NEW.conversation_id IS NOT NULL
    ON CONFLICT (conversation_id) DO UPDATE SET total = total + 1;
END;
-- end

CREATE TRIGGER messages_counted_delete AFTER DELETE ON messages BEGIN
  UPDATE message_counts SET sent = sent - 1 WHERE user_id = OLD.sender_id;
  UPDATE message_counts SET received = received - 1 WHERE user_id = OLD.recipient_id;
  UPDATE conversation_counts SET total = total - 1 WHERE conversation_id = OLD.conversation_id;
END;
-- end

INSERT INTO message_counts (user_id, sent, received)
  SELECT u.id,
    (SELECT count(*) FROM messages WHERE sender_id = u.id),
    (SELECT count(*) FROM messages WHERE recipient_id = u.id)
  FROM users u WHERE u.is_system
ON CONFLICT (user_id) DO UPDATE SET sent = excluded.sent, received = excluded.received;
-- end
