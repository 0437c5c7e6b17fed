-- Drop "audit_log" table
DROP TABLE "audit_log";
