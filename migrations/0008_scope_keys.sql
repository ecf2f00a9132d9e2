CREATE TABLE `scope_keys` (
	`scope` text PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`owner` text NOT NULL,
	`recipients` text NOT NULL,
	`ciphertext` blob NOT NULL,
	`tag` blob NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `secrets` ADD `scope_key` text;--> statement-breakpoint
ALTER TABLE `secrets` ADD `expires_at` integer;