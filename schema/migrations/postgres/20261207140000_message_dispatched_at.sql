-- A stored message going to its conversation's workflow is "dispatched"
-- (the word "handover" sat one letter from the human "handoff").
ALTER TABLE "messages" RENAME COLUMN "handed_over_at" TO "dispatched_at";
