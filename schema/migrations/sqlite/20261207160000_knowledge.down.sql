-- Drop "article_passages_vocab" table
DROP TABLE `article_passages_vocab`;
-- Drop "article_passages_fts" table (and its shadow tables)
DROP TABLE `article_passages_fts`;
-- Drop "article_passages" table (and its triggers)
DROP TABLE `article_passages`;
-- Drop "articles" table
DROP TABLE `articles`;
