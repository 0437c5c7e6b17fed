-- Drop "episodes" table
DROP TABLE "episodes";
