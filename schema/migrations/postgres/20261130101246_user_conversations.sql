-- atlas:delimiter -- end

-- A line per user and conversation, kept by triggers on messages: the
-- conversation list reads the user's lines instead of aggregating their
-- whole history. Sides are those the counters count (the assistant's side
-- of ai:<user id> conversations has no line). No index has the newest
-- message in it, so every message updates its lines in place (HOT) and
-- leaves no dead index entries to walk before the next VACUUM.
CREATE TABLE "user_conversations" (
  "user_id" bigint NOT NULL,
  "conversation_id" character varying(100) NOT NULL,
  "last_message_id" bigint NOT NULL,
  "unread" bigint NOT NULL DEFAULT 0,
  PRIMARY KEY ("user_id", "conversation_id"),
  CONSTRAINT "user_conversations_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- end

-- New messages, per statement from its transition table; lines are
-- locked in key order, as the counters are.
CREATE FUNCTION list_conversations_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_conversations AS uc (user_id, conversation_id, last_message_id, unread)
    SELECT user_id, conversation_id, max(id), sum(unread) FROM (
      SELECT m.sender_id AS user_id, m.conversation_id, m.id, 0 AS unread FROM changed m
        WHERE m.conversation_id NOT LIKE 'ai:%' OR m.conversation_id = 'ai:' || m.sender_id
      UNION ALL
      SELECT m.recipient_id, m.conversation_id, m.id, CASE WHEN m.is_read THEN 0 ELSE 1 END FROM changed m
        WHERE m.conversation_id NOT LIKE 'ai:%' OR m.conversation_id = 'ai:' || m.recipient_id
    ) sides
    GROUP BY user_id, conversation_id ORDER BY user_id, conversation_id
    ON CONFLICT (user_id, conversation_id) DO UPDATE
      SET last_message_id = greatest(uc.last_message_id, EXCLUDED.last_message_id), unread = uc.unread + EXCLUDED.unread;
  RETURN NULL;
END
$$;
-- end

-- Deleted messages: unread ones are taken off; a line whose newest
-- message went finds the newest left, and goes when none is left.
CREATE FUNCTION list_conversations_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH gone AS (
    SELECT user_id, conversation_id, max(id) AS newest, sum(unread) AS unread FROM (
      SELECT m.sender_id AS user_id, m.conversation_id, m.id, 0 AS unread FROM changed m
      UNION ALL
      SELECT m.recipient_id, m.conversation_id, m.id, CASE WHEN m.is_read THEN 0 ELSE 1 END FROM changed m
    ) sides
    WHERE conversation_id IS NOT NULL
    GROUP BY user_id, conversation_id
  ), locked AS (
    SELECT uc.user_id, uc.conversation_id, gone.newest, gone.unread FROM user_conversations uc
      JOIN gone USING (user_id, conversation_id)
      ORDER BY uc.user_id, uc.conversation_id FOR UPDATE OF uc
  )
  UPDATE user_conversations uc SET unread = uc.unread - locked.unread,
      last_message_id = CASE WHEN locked.newest < uc.last_message_id THEN uc.last_message_id
        ELSE COALESCE((SELECT max(m.id) FROM messages m WHERE m.conversation_id = uc.conversation_id
          AND (m.sender_id = uc.user_id OR m.recipient_id = uc.user_id)), 0) END
    FROM locked WHERE uc.user_id = locked.user_id AND uc.conversation_id = locked.conversation_id;
  DELETE FROM user_conversations uc USING (
      SELECT sender_id AS user_id, conversation_id FROM changed
      UNION SELECT recipient_id, conversation_id FROM changed
    ) g
    WHERE uc.user_id = g.user_id AND uc.conversation_id = g.conversation_id AND uc.last_message_id = 0;
  RETURN NULL;
END
$$;
-- end

-- A message read or unread again, row by row: only is_read changes fire it.
CREATE FUNCTION list_conversations_read() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE user_conversations SET unread = unread + CASE WHEN NEW.is_read THEN -1 ELSE 1 END
    WHERE user_id = NEW.recipient_id AND conversation_id = NEW.conversation_id;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER messages_listed_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION list_conversations_insert();
-- end

CREATE TRIGGER messages_listed_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION list_conversations_delete();
-- end

CREATE TRIGGER messages_listed_read AFTER UPDATE OF is_read ON messages FOR EACH ROW
  WHEN (OLD.is_read IS DISTINCT FROM NEW.is_read AND NEW.conversation_id IS NOT NULL)
  EXECUTE FUNCTION list_conversations_read();
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
