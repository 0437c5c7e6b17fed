-- atlas:delimiter -- end

DROP TRIGGER messages_listed_insert;
-- end

DROP TRIGGER messages_listed_delete;
-- end

DROP TRIGGER messages_listed_read;
-- end

DROP TABLE `user_conversations`;
-- end
