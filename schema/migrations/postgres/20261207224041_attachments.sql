-- Create "attachments" table
CREATE TABLE "attachments" (
  "id" bigserial NOT NULL,
  "message_id" bigint NOT NULL,
  "n" bigint NOT NULL,
  "content_type" character varying(100) NOT NULL,
  "size_bytes" bigint NOT NULL,
  "source_url" text NOT NULL,
  "status" character varying(16) NOT NULL,
  "reason" character varying(64) NULL,
  "path" character varying(255) NULL,
  "transcript" text NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "attachments_message_id_n_key" UNIQUE ("message_id", "n"),
  CONSTRAINT "attachments_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
