-- atlas:delimiter -- end

-- The knowledge base the assistant answers from (docs/knowledge.md):
-- articles, the passages they are cut into, and what searches them.

-- Create "articles" table
CREATE TABLE "articles" (
  "id" bigserial NOT NULL,
  "collection" character varying(100) NOT NULL DEFAULT 'general',
  "title" character varying(300) NOT NULL,
  "url" character varying(2048) NULL,
  "body" text NOT NULL,
  "source" character varying(255) NOT NULL,
  "language" character varying(64) NOT NULL DEFAULT 'english',
  "updated_by" bigint NULL,
  "created_at" timestamptz NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "articles_url_key" UNIQUE ("url"),
  CONSTRAINT "articles_updated_by_fkey" FOREIGN KEY ("updated_by") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL
);
-- end

-- Create index "articles_collection_id_idx" to table: "articles"
CREATE INDEX "articles_collection_id_idx" ON "articles" ("collection", "id");
-- end

-- Create index "articles_updated_by_idx" to table: "articles"
CREATE INDEX "articles_updated_by_idx" ON "articles" ("updated_by");
-- end

-- Create "article_passages" table. search is the passage's text search
-- vector, written by the trigger below.
CREATE TABLE "article_passages" (
  "id" bigserial NOT NULL,
  "article_id" bigint NOT NULL,
  "ordinal" bigint NOT NULL,
  "title" character varying(300) NOT NULL,
  "heading_path" text NOT NULL,
  "text" text NOT NULL,
  "search" tsvector NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "article_passages_article_id_ordinal_key" UNIQUE ("article_id", "ordinal"),
  CONSTRAINT "article_passages_article_id_fkey" FOREIGN KEY ("article_id") REFERENCES "articles" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
-- end

-- Create index "article_passages_search_idx" to table: "article_passages"
CREATE INDEX "article_passages_search_idx" ON "article_passages" USING gin ("search");
-- end

-- pg_trgm finds the indexed words nearest to a misspelled one. An
-- extension is installed once per database, in one schema: it goes to
-- public, where every schema of the database finds it (the tests' scratch
-- schemas too, which are dropped with what they hold), and the queries
-- name it there (public.similarity). Where the database owner installed it
-- elsewhere, this says how to move it. Two migrators installing it at
-- once: the second finds it done.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm' AND extnamespace <> 'public'::regnamespace) THEN
    RAISE EXCEPTION 'pg_trgm is installed in another schema than public: ALTER EXTENSION pg_trgm SET SCHEMA public';
  END IF;
  CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
EXCEPTION WHEN unique_violation OR duplicate_object THEN
  NULL;
END
$$;
-- end

-- Every lexeme of the passages and how many passages have it; the empty
-- lexeme's row counts all passages. A search weighs its words by these
-- counts (rare words count more) and looks misspelled words up here, by
-- trigram distance.
CREATE TABLE "knowledge_lexemes" (
  "lexeme" text NOT NULL,
  "passages" bigint NOT NULL,
  PRIMARY KEY ("lexeme")
);
-- end

-- The lexemes nearest to a misspelled one, by trigram distance (a GiST
-- index orders by distance; GIN cannot). It is on lower(lexeme), the
-- lexeme itself (lexemes are lower case), because pg_trgm's index also
-- answers =, and the planner took it, slowly, for the lookups of counts
-- the primary key answers at once.
CREATE INDEX "knowledge_lexemes_trgm_idx" ON "knowledge_lexemes" USING gist ((lower(lexeme)) public.gist_trgm_ops);
-- end

-- A passage's search vector: its title (weight A), headings (B) and text
-- (C), stemmed with its article's language (a text search configuration:
-- the language is data, not a constant of the index).
CREATE FUNCTION index_article_passage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cfg regconfig;
BEGIN
  SELECT a.language::regconfig INTO cfg FROM articles AS a WHERE a.id = NEW.article_id;
  -- No article: the foreign key refuses the row after this.
  cfg := coalesce(cfg, 'simple');
  NEW.search := setweight(to_tsvector(cfg, NEW.title), 'A')
    || setweight(to_tsvector(cfg, NEW.heading_path), 'B')
    || setweight(to_tsvector(cfg, NEW.text), 'C');
  RETURN NEW;
END
$$;
-- end

CREATE TRIGGER article_passages_indexed BEFORE INSERT OR UPDATE OF title, heading_path, text ON article_passages
  FOR EACH ROW EXECUTE FUNCTION index_article_passage();
-- end

-- knowledge_lexemes follows the passages, once per statement from its
-- transition tables; a lexeme no passage has any more goes. Writers of
-- the knowledge base take one advisory lock (domain.lockKnowledge), so
-- two statements never lock these rows in opposite orders.
CREATE FUNCTION count_passage_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE knowledge_lexemes AS k SET passages = k.passages - g.n
      FROM (SELECT l.lexeme, count(*) AS n
            FROM old_passages AS p, unnest(array_append(tsvector_to_array(p.search), '')) AS l(lexeme)
            GROUP BY l.lexeme) AS g
      WHERE k.lexeme = g.lexeme;
    DELETE FROM knowledge_lexemes AS k
      USING (SELECT DISTINCT l.lexeme
             FROM old_passages AS p, unnest(array_append(tsvector_to_array(p.search), '')) AS l(lexeme)) AS g
      WHERE k.lexeme = g.lexeme AND k.passages <= 0;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO knowledge_lexemes AS k (lexeme, passages)
      SELECT l.lexeme, count(*)
      FROM new_passages AS p, unnest(array_append(tsvector_to_array(p.search), '')) AS l(lexeme)
      GROUP BY l.lexeme ORDER BY l.lexeme
      ON CONFLICT (lexeme) DO UPDATE SET passages = k.passages + EXCLUDED.passages;
  END IF;
  RETURN NULL;
END
$$;
-- end

CREATE TRIGGER article_passages_lexemes_insert AFTER INSERT ON article_passages
  REFERENCING NEW TABLE AS new_passages FOR EACH STATEMENT EXECUTE FUNCTION count_passage_lexemes();
-- end

CREATE TRIGGER article_passages_lexemes_update AFTER UPDATE ON article_passages
  REFERENCING OLD TABLE AS old_passages NEW TABLE AS new_passages FOR EACH STATEMENT EXECUTE FUNCTION count_passage_lexemes();
-- end

CREATE TRIGGER article_passages_lexemes_delete AFTER DELETE ON article_passages
  REFERENCING OLD TABLE AS old_passages FOR EACH STATEMENT EXECUTE FUNCTION count_passage_lexemes();
-- end
