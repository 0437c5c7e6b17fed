-- Drop "article_passages" table (and its triggers)
DROP TABLE "article_passages";
-- Drop "articles" table
DROP TABLE "articles";
-- Drop "knowledge_lexemes" table
DROP TABLE "knowledge_lexemes";
-- Drop the trigger functions
DROP FUNCTION count_passage_lexemes();
DROP FUNCTION index_article_passage();
-- pg_trgm stays: it is the database's, in schema public, and other
-- schemas (or applications) may use it.
