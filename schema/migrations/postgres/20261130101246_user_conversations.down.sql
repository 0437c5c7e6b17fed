-- atlas:delimiter -- end

DROP TRIGGER messages_listed_insert ON messages;
-- end

DROP TRIGGER messages_listed_delete ON messages;
-- end

DROP TRIGGER messages_listed_read ON messages;
-- end

DROP FUNCTION list_conversations_insert();
-- end

DROP FUNCTION list_conversations_delete();
-- end

DROP FUNCTION list_conversations_read();
-- end

DROP TABLE "user_conversations";
-- end
