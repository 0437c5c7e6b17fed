-- Undoes 20261207190000_knowledge_speed.sql, which changed nothing.
SELECT 1;
