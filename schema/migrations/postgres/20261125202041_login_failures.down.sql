-- Drop "login_failures" table
DROP TABLE "login_failures";
