-- Create "message_feedback" table
CREATE TABLE "message_feedback" (
  "id" bigserial NOT NULL,
  "message_id" bigint NOT NULL,
  "user_id" bigint NOT NULL,
  "rating" character varying(8) NOT NULL,
  "comment" text NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "message_feedback_message_id_key" UNIQUE ("message_id"),
  CONSTRAINT "message_feedback_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "message_feedback_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
