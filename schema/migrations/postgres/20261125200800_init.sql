-- Create "users" table
CREATE TABLE "users" (
  "id" bigserial NOT NULL,
  "username" character varying(100) NOT NULL,
  "email" character varying(255) NOT NULL,
  "hashed_password" character varying(255) NOT NULL,
  "is_active" boolean NOT NULL DEFAULT true,
  "is_superuser" boolean NOT NULL DEFAULT false,
  "is_system" boolean NOT NULL DEFAULT false,
  "full_name" character varying(255) NULL,
  "bio" text NULL,
  "phone_number" character varying(20) NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "users_email_key" UNIQUE ("email"),
  CONSTRAINT "users_phone_number_key" UNIQUE ("phone_number"),
  CONSTRAINT "users_username_key" UNIQUE ("username")
);
-- Create "messages" table
CREATE TABLE "messages" (
  "id" bigserial NOT NULL,
  "sender_id" bigint NOT NULL,
  "recipient_id" bigint NOT NULL,
  "content" text NOT NULL,
  "is_read" boolean NOT NULL DEFAULT false,
  "parent_id" bigint NULL,
  "conversation_id" character varying(100) NULL,
  "channel" character varying(20) NOT NULL DEFAULT 'web',
  "external_id" character varying(255) NULL,
  "delivery_status" character varying(20) NULL,
  "provider_message_id" character varying(255) NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "messages_channel_external_id_key" UNIQUE ("channel", "external_id"),
  CONSTRAINT "messages_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "messages" ("id") ON UPDATE NO ACTION ON DELETE SET NULL,
  CONSTRAINT "messages_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "messages_sender_id_fkey" FOREIGN KEY ("sender_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "messages_conversation_id_id_idx" to table: "messages"
CREATE INDEX "messages_conversation_id_id_idx" ON "messages" ("conversation_id", "id");
-- Create index "messages_parent_id_idx" to table: "messages"
CREATE INDEX "messages_parent_id_idx" ON "messages" ("parent_id");
-- Create index "messages_recipient_id_id_idx" to table: "messages"
CREATE INDEX "messages_recipient_id_id_idx" ON "messages" ("recipient_id", "id");
-- Create index "messages_sender_id_id_idx" to table: "messages"
CREATE INDEX "messages_sender_id_id_idx" ON "messages" ("sender_id", "id");
-- Create "sessions" table
CREATE TABLE "sessions" (
  "id" bigserial NOT NULL,
  "user_id" bigint NOT NULL,
  "session_token" character varying(255) NOT NULL,
  "device_info" character varying(255) NULL,
  "ip_address" character varying(50) NULL,
  "is_active" boolean NOT NULL DEFAULT true,
  "expires_at" timestamptz NOT NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "sessions_session_token_key" UNIQUE ("session_token"),
  CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "sessions_user_id_idx" to table: "sessions"
CREATE INDEX "sessions_user_id_idx" ON "sessions" ("user_id");
-- Create "refresh_tokens" table
CREATE TABLE "refresh_tokens" (
  "id" bigserial NOT NULL,
  "user_id" bigint NOT NULL,
  "session_id" bigint NOT NULL,
  "token" character varying(255) NOT NULL,
  "expires_at" timestamptz NOT NULL,
  "is_used" boolean NOT NULL DEFAULT false,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "refresh_tokens_token_key" UNIQUE ("token"),
  CONSTRAINT "refresh_tokens_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions" ("id") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "refresh_tokens_session_id_idx" to table: "refresh_tokens"
CREATE INDEX "refresh_tokens_session_id_idx" ON "refresh_tokens" ("session_id");
-- Create index "refresh_tokens_user_id_idx" to table: "refresh_tokens"
CREATE INDEX "refresh_tokens_user_id_idx" ON "refresh_tokens" ("user_id");
-- Create "reports" table
CREATE TABLE "reports" (
  "id" bigserial NOT NULL,
  "reporter_id" bigint NOT NULL,
  "title" character varying(255) NOT NULL,
  "content" text NOT NULL,
  "status" character varying(50) NOT NULL DEFAULT 'open',
  "comment" text NULL,
  "resolved_at" timestamptz NULL,
  "resolved_by" bigint NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "reports_reporter_id_fkey" FOREIGN KEY ("reporter_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "reports_resolved_by_fkey" FOREIGN KEY ("resolved_by") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL
);
-- Create index "reports_reporter_id_id_idx" to table: "reports"
CREATE INDEX "reports_reporter_id_id_idx" ON "reports" ("reporter_id", "id");
-- Create index "reports_resolved_by_idx" to table: "reports"
CREATE INDEX "reports_resolved_by_idx" ON "reports" ("resolved_by");
-- Create index "reports_status_id_idx" to table: "reports"
CREATE INDEX "reports_status_id_idx" ON "reports" ("status", "id");
-- Create "telegram_links" table
CREATE TABLE "telegram_links" (
  "id" bigserial NOT NULL,
  "user_id" bigint NOT NULL,
  "chat_id" bigint NOT NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "telegram_links_chat_id_key" UNIQUE ("chat_id"),
  CONSTRAINT "telegram_links_user_id_key" UNIQUE ("user_id"),
  CONSTRAINT "telegram_links_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create "roles" table
CREATE TABLE "roles" (
  "id" bigserial NOT NULL,
  "name" character varying(100) NOT NULL,
  "description" character varying(255) NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "roles_name_key" UNIQUE ("name")
);
-- Create "user_roles" table
CREATE TABLE "user_roles" (
  "id" bigserial NOT NULL,
  "user_id" bigint NOT NULL,
  "role_id" bigint NOT NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "user_roles_user_id_role_id_key" UNIQUE ("user_id", "role_id"),
  CONSTRAINT "user_roles_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "user_roles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "user_roles_role_id_idx" to table: "user_roles"
CREATE INDEX "user_roles_role_id_idx" ON "user_roles" ("role_id");
