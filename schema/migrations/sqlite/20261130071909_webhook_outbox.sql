-- atlas:delimiter -- end

-- Outbound webhooks: a change worth telling receivers about writes an
-- outbox row in its own transaction, so it is never lost between a commit
-- and a crash; the worker fans the rows out to subscriptions. Nothing is
-- written while no subscription is active.
CREATE TRIGGER messages_webhooks AFTER INSERT ON messages
  WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active)
BEGIN
  INSERT INTO webhook_outbox (type, object_id, conversation_id, created_at)
    SELECT CASE WHEN u.is_system THEN 'message.replied' ELSE 'message.received' END,
      CAST(NEW.id AS TEXT), NEW.conversation_id, NEW.created_at
    FROM users u WHERE u.id = NEW.sender_id;
END;
-- end

CREATE TRIGGER reports_webhooks_created AFTER INSERT ON reports
  WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active)
BEGIN
  INSERT INTO webhook_outbox (type, object_id, created_at)
    VALUES ('report.created', CAST(NEW.id AS TEXT), NEW.created_at);
END;
-- end

CREATE TRIGGER reports_webhooks_status AFTER UPDATE OF status ON reports
  WHEN OLD.status IS NOT NEW.status AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active)
BEGIN
  INSERT INTO webhook_outbox (type, object_id, detail, created_at)
    VALUES ('report.status_changed', CAST(NEW.id AS TEXT), OLD.status, NEW.updated_at);
END;
-- end

CREATE TRIGGER conversation_states_webhooks_created AFTER INSERT ON conversation_states
  WHEN NEW.mode = 'human' AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active)
BEGIN
  INSERT INTO webhook_outbox (type, object_id, conversation_id, detail, created_at)
    VALUES ('conversation.handed_off', NEW.conversation_id, NEW.conversation_id, CAST(NEW.agent_id AS TEXT), NEW.updated_at);
END;
-- end

CREATE TRIGGER conversation_states_webhooks_mode AFTER UPDATE OF mode ON conversation_states
  WHEN OLD.mode IS NOT NEW.mode AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active)
BEGIN
  INSERT INTO webhook_outbox (type, object_id, conversation_id, detail, created_at)
    VALUES (CASE NEW.mode WHEN 'human' THEN 'conversation.handed_off' ELSE 'conversation.resumed' END,
      NEW.conversation_id, NEW.conversation_id, CAST(NEW.agent_id AS TEXT), NEW.updated_at);
END;
-- end
