CREATE TABLE `audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`time` integer NOT NULL,
	`action` text NOT NULL,
	`actor` text NOT NULL,
	`scope` text,
	`key` text,
	`server` text,
	`tool` text,
	`status` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_time` ON `audit` (`time`);--> statement-breakpoint
CREATE TABLE `catalog` (
	`server` text PRIMARY KEY NOT NULL,
	`fingerprint` text NOT NULL,
	`tools` text DEFAULT '[]' NOT NULL,
	`prompts` text DEFAULT '[]' NOT NULL,
	`resources` text DEFAULT '[]' NOT NULL,
	`templates` text DEFAULT '[]' NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `instances` (
	`server` text NOT NULL,
	`scope` text DEFAULT '' NOT NULL,
	`state` text NOT NULL,
	`pid` integer,
	`restarts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`started_at` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`server`, `scope`)
);
--> statement-breakpoint
CREATE TABLE `secrets` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`recipient` text NOT NULL,
	`ciphertext` blob NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE INDEX `secrets_recipient` ON `secrets` (`recipient`);