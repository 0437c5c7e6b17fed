-- Create "message_counts" table
CREATE TABLE `message_counts` (
  `user_id` integer NOT NULL,
  `sent` integer NOT NULL DEFAULT 0,
  `received` integer NOT NULL DEFAULT 0,
  PRIMARY KEY (`user_id`)
);
-- Create "conversation_counts" table
CREATE TABLE `conversation_counts` (
  `conversation_id` varchar NOT NULL,
  `total` integer NOT NULL DEFAULT 0,
  PRIMARY KEY (`conversation_id`)
);
