-- Drop "llm_calls" table
DROP TABLE "llm_calls";
