-- atlas:delimiter -- end

-- The live path: every API process LISTENs on aimsg_<schema> and learns of
-- a stored message and of a session that ended the moment the transaction
-- commits (NOTIFY is sent at commit, never for a rolled-back one). The
-- payloads carry ids only; the API reads what it streams.
CREATE FUNCTION live_notify_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.conversation_id IS NOT NULL THEN
    PERFORM pg_notify('aimsg_' || current_schema(),
      json_build_object('k', 'message', 'c', NEW.conversation_id, 'm', NEW.id)::text);
  END IF;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER messages_live AFTER INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION live_notify_message();
-- end

CREATE FUNCTION live_notify_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('aimsg_' || current_schema(), json_build_object('k', 'session_ended', 's', OLD.id)::text);
  ELSIF OLD.is_active AND NOT NEW.is_active THEN
    PERFORM pg_notify('aimsg_' || current_schema(), json_build_object('k', 'session_ended', 's', NEW.id)::text);
  END IF;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER sessions_live AFTER UPDATE OF is_active OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION live_notify_session();
-- end
