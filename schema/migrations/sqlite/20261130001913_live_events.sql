-- Create "live_events" table
CREATE TABLE `live_events` (
  `id` integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  `payload` text NOT NULL,
  `created_at` timestamp NOT NULL,
  `updated_at` timestamp NOT NULL
);
