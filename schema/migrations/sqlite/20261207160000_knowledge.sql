-- atlas:delimiter -- end

-- The knowledge base the assistant answers from (docs/knowledge.md):
-- articles, the passages they are cut into, and what searches them.

-- Create "articles" table
CREATE TABLE `articles` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `collection` varchar NOT NULL DEFAULT 'general',
  `title` varchar NOT NULL,
  `url` varchar NULL,
  `body` text NOT NULL,
  `source` varchar NOT NULL,
  `language` varchar NOT NULL DEFAULT 'english',
  `updated_by` integer NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`updated_by`) REFERENCES `users` (`id`) ON UPDATE NO ACTION ON DELETE SET NULL
);
-- end

-- Create index "articles_url" to table: "articles"
CREATE UNIQUE INDEX `articles_url` ON `articles` (`url`);
-- end

-- Create index "articles_collection_id_idx" to table: "articles"
CREATE INDEX `articles_collection_id_idx` ON `articles` (`collection`, `id`);
-- end

-- Create index "articles_updated_by_idx" to table: "articles"
CREATE INDEX `articles_updated_by_idx` ON `articles` (`updated_by`);
-- end

-- Create "article_passages" table
CREATE TABLE `article_passages` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `article_id` integer NOT NULL,
  `ordinal` integer NOT NULL,
  `title` varchar NOT NULL,
  `heading_path` text NOT NULL,
  `text` text NOT NULL,
  CONSTRAINT `0` FOREIGN KEY (`article_id`) REFERENCES `articles` (`id`) ON UPDATE NO ACTION ON DELETE CASCADE
);
-- end

-- Create index "article_passages_article_id_ordinal" to table: "article_passages"
CREATE UNIQUE INDEX `article_passages_article_id_ordinal` ON `article_passages` (`article_id`, `ordinal`);
-- end

-- The passages' full-text index: FTS5 over their title, headings and
-- text, with article_passages as its external content (the text is stored
-- once), English stems (porter) over unicode61 words without diacritics.
-- The triggers below keep it in step.
CREATE VIRTUAL TABLE article_passages_fts USING fts5(title, heading_path, text, content='article_passages', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
-- end

-- The index's vocabulary: its terms and how many passages have each. A
-- search looks misspelled words up here.
CREATE VIRTUAL TABLE article_passages_vocab USING fts5vocab(article_passages_fts, 'row');
-- end

CREATE TRIGGER article_passages_fts_insert AFTER INSERT ON article_passages BEGIN
  INSERT INTO article_passages_fts (rowid, title, heading_path, text) VALUES (NEW.id, NEW.title, NEW.heading_path, NEW.text);
END;
-- end

CREATE TRIGGER article_passages_fts_delete AFTER DELETE ON article_passages BEGIN
  INSERT INTO article_passages_fts (article_passages_fts, rowid, title, heading_path, text)
    VALUES ('delete', OLD.id, OLD.title, OLD.heading_path, OLD.text);
END;
-- end

CREATE TRIGGER article_passages_fts_update AFTER UPDATE ON article_passages BEGIN
  INSERT INTO article_passages_fts (article_passages_fts, rowid, title, heading_path, text)
    VALUES ('delete', OLD.id, OLD.title, OLD.heading_path, OLD.text);
  INSERT INTO article_passages_fts (rowid, title, heading_path, text) VALUES (NEW.id, NEW.title, NEW.heading_path, NEW.text);
END;
-- end
