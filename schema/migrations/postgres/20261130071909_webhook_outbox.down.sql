-- Undoes 20261130071909_webhook_outbox.sql: atlas sees no schema change in it, so this is written
-- by hand.
DROP TRIGGER messages_webhooks ON messages;
DROP TRIGGER reports_webhooks ON reports;
DROP TRIGGER conversation_states_webhooks ON conversation_states;
DROP FUNCTION webhook_outbox_message();
DROP FUNCTION webhook_outbox_report();
DROP FUNCTION webhook_outbox_mode();
