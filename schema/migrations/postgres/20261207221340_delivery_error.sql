-- Why a reply was not delivered (gave_up, outside_whatsapp_window,
-- twilio_21211...).
ALTER TABLE "messages" ADD COLUMN "delivery_error" character varying(64) NULL;
-- The last message from a WhatsApp address (its 24-hour window).
CREATE INDEX "messages_address_id_idx" ON "messages" ("address", "id");
