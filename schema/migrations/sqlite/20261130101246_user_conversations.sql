-- atlas:delimiter -- end

-- A line per user and conversation, kept by triggers on messages: the
-- conversation list reads one page of lines instead of aggregating the
-- user's whole history. Sides are those the counters count (the
-- assistant's side of ai:<user id> conversations has no line). No index
-- has the newest message in it: every message updates its lines.
CREATE TABLE `user_conversations` (
  `user_id` integer NOT NULL,
  `conversation_id` varchar NOT NULL,
  `last_message_id` integer NOT NULL,
  `unread` integer NOT NULL DEFAULT 0,
  PRIMARY KEY (`user_id`, `conversation_id`),
  CONSTRAINT `0` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- end

CREATE TRIGGER messages_listed_insert AFTER INSERT ON messages WHEN NEW.conversation_id IS NOT NULL BEGIN
  INSERT INTO user_conversations (user_id, conversation_id, last_message_id, unread)
    SELECT NEW.sender_id, NEW.conversation_id, NEW.id, 0
    WHERE NEW.conversation_id NOT LIKE 'ai:%' OR NEW.conversation_id = 'ai:' || NEW.sender_id
    ON CONFLICT (user_id, conversation_id) DO UPDATE SET last_message_id = max(last_message_id, excluded.last_message_id);
  INSERT INTO user_conversations (user_id, conversation_id, last_message_id, unread)
    SELECT NEW.recipient_id, NEW.conversation_id, NEW.id, CASE WHEN NEW.is_read THEN 0 ELSE 1 END
    WHERE NEW.conversation_id NOT LIKE 'ai:%' OR NEW.conversation_id = 'ai:' || NEW.recipient_id
    ON CONFLICT (user_id, conversation_id) DO UPDATE
      SET last_message_id = max(last_message_id, excluded.last_message_id), unread = unread + excluded.unread;
END;
-- end

-- A line whose newest message went finds the newest left, and goes when
-- none is left.
CREATE TRIGGER messages_listed_delete AFTER DELETE ON messages WHEN OLD.conversation_id IS NOT NULL BEGIN
  UPDATE user_conversations SET unread = unread - 1
    WHERE user_id = OLD.recipient_id AND conversation_id = OLD.conversation_id AND NOT OLD.is_read;
  UPDATE user_conversations SET last_message_id = COALESCE((SELECT max(m.id) FROM messages m
      WHERE m.conversation_id = OLD.conversation_id
        AND (m.sender_id = user_conversations.user_id OR m.recipient_id = user_conversations.user_id)), 0)
    WHERE user_id IN (OLD.sender_id, OLD.recipient_id) AND conversation_id = OLD.conversation_id
      AND last_message_id = OLD.id;
  DELETE FROM user_conversations WHERE user_id IN (OLD.sender_id, OLD.recipient_id)
    AND conversation_id = OLD.conversation_id AND last_message_id = 0;
END;
-- end

CREATE TRIGGER messages_listed_read AFTER UPDATE OF is_read ON messages
  WHEN OLD.is_read <> NEW.is_read AND NEW.conversation_id IS NOT NULL BEGIN
  UPDATE user_conversations SET unread = unread + CASE WHEN NEW.is_read THEN -1 ELSE 1 END
    WHERE user_id = NEW.recipient_id AND conversation_id = NEW.conversation_id;
END;
-- end

-- The lines of the messages already stored.
INSERT INTO user_conversations (user_id, conversation_id, last_message_id, unread)
  SELECT user_id, conversation_id, max(id), sum(unread) FROM (
    SELECT m.sender_id AS user_id, m.conversation_id, m.id, 0 AS unread FROM messages m
      WHERE m.conversation_id NOT LIKE 'ai:%' OR m.conversation_id = 'ai:' || m.sender_id
    UNION ALL
    SELECT m.recipient_id, m.conversation_id, m.id, CASE WHEN m.is_read THEN 0 ELSE 1 END FROM messages m
      WHERE m.conversation_id NOT LIKE 'ai:%' OR m.conversation_id = 'ai:' || m.recipient_id
  ) sides
  GROUP BY user_id, conversation_id;
-- end
