-- atlas:delimiter -- end

-- Outbound webhooks: a change worth telling receivers about writes an
-- outbox row in its own transaction, so it is never lost between a commit
-- and a crash; the worker fans the rows out to subscriptions. Nothing is
-- written while no subscription is active.
CREATE FUNCTION webhook_outbox_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active) THEN
    INSERT INTO webhook_outbox (type, object_id, conversation_id, created_at)
      SELECT CASE WHEN u.is_system THEN 'message.replied' ELSE 'message.received' END,
        NEW.id::text, NEW.conversation_id, NEW.created_at
      FROM users u WHERE u.id = NEW.sender_id;
  END IF;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER messages_webhooks AFTER INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION webhook_outbox_message();
-- end

CREATE FUNCTION webhook_outbox_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO webhook_outbox (type, object_id, created_at)
      VALUES ('report.created', NEW.id::text, NEW.created_at);
  ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
    INSERT INTO webhook_outbox (type, object_id, detail, created_at)
      VALUES ('report.status_changed', NEW.id::text, OLD.status, NEW.updated_at);
  END IF;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER reports_webhooks AFTER INSERT OR UPDATE OF status ON reports
  FOR EACH ROW EXECUTE FUNCTION webhook_outbox_report();
-- end

CREATE FUNCTION webhook_outbox_mode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active) THEN
    RETURN NULL;
  END IF;
  IF (TG_OP = 'INSERT' AND NEW.mode = 'human') OR (TG_OP = 'UPDATE' AND OLD.mode IS DISTINCT FROM NEW.mode) THEN
    INSERT INTO webhook_outbox (type, object_id, conversation_id, detail, created_at)
      VALUES (CASE NEW.mode WHEN 'human' THEN 'conversation.handed_off' ELSE 'conversation.resumed' END,
        NEW.conversation_id, NEW.conversation_id, NEW.agent_id::text, NEW.updated_at);
  END IF;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER conversation_states_webhooks AFTER INSERT OR UPDATE OF mode ON conversation_states
  FOR EACH ROW EXECUTE FUNCTION webhook_outbox_mode();
-- end
