-- Drop index "messages_turn_status_id_idx" from table: "messages"
DROP INDEX "messages_turn_status_id_idx";
