-- Undoes 20261207120000_username_fold.sql: usernames may differ in case
-- again. The accounts it renamed keep their new names: nothing records the
-- old ones, and given back they would be taken twice.
-- Drop index "users_username_fold_key" from table: "users"
DROP INDEX `users_username_fold_key`;
