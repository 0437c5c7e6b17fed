-- Undoes 20261130071909_webhook_outbox.sql: atlas sees no schema change in it, so this is written
-- by hand.
DROP TRIGGER messages_webhooks;
DROP TRIGGER reports_webhooks_created;
DROP TRIGGER reports_webhooks_status;
DROP TRIGGER conversation_states_webhooks_created;
DROP TRIGGER conversation_states_webhooks_mode;
