-- The passages' text search index takes new entries into its tree at
-- once instead of into a pending list (fastupdate): every search reads
-- the whole pending list, up to gin_pending_list_limit (4 MB), until a
-- vacuum merges it, which made a search of a knowledge base just
-- imported milliseconds slower (docs/knowledge.md, How fast). An import
-- pays for it instead. The entries pending now are merged first.
SELECT gin_clean_pending_list('article_passages_search_idx');
ALTER INDEX "article_passages_search_idx" SET (fastupdate = off);
