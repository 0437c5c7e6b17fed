-- atlas:delimiter -- end

-- Back to counting per row, the assistant's side included.
DROP TRIGGER messages_counted_insert ON messages;
-- end

DROP TRIGGER messages_counted_delete ON messages;
-- end

DROP FUNCTION count_messages();
-- end

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

INSERT INTO message_counts (user_id, sent, received)
  SELECT u.id,
    (SELECT count(*) FROM messages WHERE sender_id = u.id),
    (SELECT count(*) FROM messages WHERE recipient_id = u.id)
  FROM users u WHERE u.is_system
ON CONFLICT (user_id) DO UPDATE SET sent = EXCLUDED.sent, received = EXCLUDED.received;
-- end
