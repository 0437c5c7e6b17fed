-- atlas:delimiter -- end

-- Keep message_counts and conversation_counts in step with messages. The
-- two users' rows are locked in id order, so that two messages crossing
-- between the same users cannot deadlock.
CREATE FUNCTION count_messages() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  m messages;
  step bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    m := NEW;
    step := 1;
  ELSE
    m := OLD;
    step := -1;
  END IF;
  IF m.sender_id < m.recipient_id THEN
    INSERT INTO message_counts AS c (user_id, sent) VALUES (m.sender_id, step)
      ON CONFLICT (user_id) DO UPDATE SET sent = c.sent + step;
    INSERT INTO message_counts AS c (user_id, received) VALUES (m.recipient_id, step)
      ON CONFLICT (user_id) DO UPDATE SET received = c.received + step;
  ELSE
    INSERT INTO message_counts AS c (user_id, received) VALUES (m.recipient_id, step)
      ON CONFLICT (user_id) DO UPDATE SET received = c.received + step;
    INSERT INTO message_counts AS c (user_id, sent) VALUES (m.sender_id, step)
      ON CONFLICT (user_id) DO UPDATE SET sent = c.sent + step;
  END IF;
  IF m.conversation_id IS NOT NULL THEN
    INSERT INTO conversation_counts AS c (conversation_id, total) VALUES (m.conversation_id, step)
      ON CONFLICT (conversation_id) DO UPDATE SET total = c.total + step;
  END IF;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER messages_counted AFTER INSERT OR DELETE ON messages
  FOR EACH ROW EXECUTE FUNCTION count_messages();
-- end

-- Count what is already there.
INSERT INTO message_counts (user_id, sent, received)
  SELECT u.id,
    (SELECT count(*) FROM messages WHERE sender_id = u.id),
    (SELECT count(*) FROM messages WHERE recipient_id = u.id)
  FROM users u;
-- end

INSERT INTO conversation_counts (conversation_id, total)
  SELECT conversation_id, count(*) FROM messages WHERE conversation_id IS NOT NULL GROUP BY conversation_id;
-- end
