-- Usernames are unique whatever their case: "Boss" and "BOSS" cannot
-- register beside "boss". The app stores usernames in Unicode NFKC form,
-- which the API only accepts as ASCII, so lower() is all the folding the
-- index needs; logins look users up by lower(username) and use it.
--
-- A database may already hold usernames that differ only in case. The
-- oldest of each group (the lowest id: the assistant, created by the
-- second migration, before anyone) keeps its name; each later one gets
-- '-' and its id appended, cut to fit 100 characters ("Boss" with id 7
-- becomes "Boss-7"), so the index can be built and the migration does not
-- fail on them. Those people sign in with the new name or their email
-- address; `aimsg users list` shows it. Should a new name be taken as well,
-- the migration stops, changing nothing: rename that account first.
UPDATE "users" SET "username" = left("username", 99 - length("id"::text)) || '-' || "id"
WHERE EXISTS (SELECT 1 FROM "users" AS "older"
  WHERE lower("older"."username") = lower("users"."username") AND "older"."id" < "users"."id");
-- Create index "users_username_fold_key" to table: "users"
CREATE UNIQUE INDEX "users_username_fold_key" ON "users" (lower(username));
