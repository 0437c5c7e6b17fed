-- atlas:delimiter -- end

-- Message totals per statement instead of per row: an INSERT or DELETE of
-- many messages (a bulk import, a user's cascade delete) updates each
-- counter row once, from the statement's transition table, instead of once
-- per message, walking the versions it made itself. The assistant's side of
-- its conversations (ai:<user id>) is not counted: nobody lists the
-- assistant's messages, and counting them made all AI traffic of the
-- service wait on one row. Counter rows are locked in key order, so two
-- statements touching the same users cannot deadlock.
DROP TRIGGER messages_counted ON messages;
-- end

DROP FUNCTION count_messages();
-- end

CREATE FUNCTION count_messages() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  step bigint := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  INSERT INTO message_counts AS c (user_id, sent, received)
    SELECT user_id, sum(sent) * step, sum(received) * step FROM (
      SELECT m.sender_id AS user_id, 1 AS sent, 0 AS received FROM changed m
        WHERE m.conversation_id IS NULL OR m.conversation_id NOT LIKE 'ai:%' OR m.conversation_id = 'ai:' || m.sender_id
      UNION ALL
      SELECT m.recipient_id, 0, 1 FROM changed m
        WHERE m.conversation_id IS NULL OR m.conversation_id NOT LIKE 'ai:%' OR m.conversation_id = 'ai:' || m.recipient_id
    ) sides
    GROUP BY user_id ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET sent = c.sent + EXCLUDED.sent, received = c.received + EXCLUDED.received;
  INSERT INTO conversation_counts AS c (conversation_id, total)
    SELECT m.conversation_id, count(*) * step FROM changed m
    WHERE m.conversation_id IS NOT NULL
    GROUP BY m.conversation_id ORDER BY m.conversation_id
    ON CONFLICT (conversation_id) DO UPDATE SET total = c.total + EXCLUDED.total;
  RETURN NULL;
END
$$;
-- end

-- Both triggers name their transition table "changed", so one function
-- serves them.
CREATE TRIGGER messages_counted_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION count_messages();
-- end

CREATE TRIGGER messages_counted_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION count_messages();
-- end

-- The assistant's own counts are no longer kept.
DELETE FROM message_counts WHERE user_id IN (SELECT id FROM users WHERE is_system);
-- end
