-- Create "telegram_link_codes" table
CREATE TABLE "telegram_link_codes" (
  "id" bigserial NOT NULL,
  "code" character varying(64) NOT NULL,
  "user_id" bigint NOT NULL,
  "expires_at" timestamptz NOT NULL,
  "used_at" timestamptz NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "telegram_link_codes_code_key" UNIQUE ("code"),
  CONSTRAINT "telegram_link_codes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- Create index "telegram_link_codes_user_id_idx" to table: "telegram_link_codes"
CREATE INDEX "telegram_link_codes_user_id_idx" ON "telegram_link_codes" ("user_id");
