-- Undoes 20261207190000_knowledge_speed.sql: back to the pending list.
ALTER INDEX "article_passages_search_idx" RESET (fastupdate);
