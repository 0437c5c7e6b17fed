-- Drop "live_events" table
DROP TABLE "live_events";
