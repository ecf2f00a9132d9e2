CREATE TABLE `meta` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
-- A database with no row lacking a MAC (a new one, or one whose rows all carry one) holds a MAC on
-- every row from now on; one with rows of 0.1 is marked when `mcplexer key upgrade` has vouched for them.
INSERT INTO `meta` (`name`, `value`) SELECT 'authenticated', CAST(CAST(strftime('%s', 'now') AS INTEGER) * 1000 AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM `secrets` WHERE `mac` IS NULL);
