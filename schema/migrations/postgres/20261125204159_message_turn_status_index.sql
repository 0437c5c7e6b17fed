-- Create index "messages_turn_status_id_idx" to table: "messages"
CREATE INDEX "messages_turn_status_id_idx" ON "messages" ("turn_status", "id");
