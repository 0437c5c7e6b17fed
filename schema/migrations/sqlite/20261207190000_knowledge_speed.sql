-- Nothing changes on SQLite: FTS5 has no pending list to turn off (the
-- PostgreSQL migration of this version turns off the GIN index's).
-- The statement keeps the file a migration atlas runs.
SELECT 1;
