CREATE TABLE `approvals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`client` text,
	`workspace` text DEFAULT '' NOT NULL,
	`tool` text NOT NULL,
	`server` text NOT NULL,
	`scope` text DEFAULT '' NOT NULL,
	`route` text,
	`arguments` text,
	`status` text NOT NULL,
	`reason` text,
	`decided_by` text,
	`decided_at` integer,
	`pid` integer
);
--> statement-breakpoint
CREATE INDEX `approvals_status` ON `approvals` (`status`);--> statement-breakpoint
CREATE TABLE `leases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace` text DEFAULT '' NOT NULL,
	`server` text NOT NULL,
	`scope` text DEFAULT '' NOT NULL,
	`approval` integer,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	`revoked_by` text
);
--> statement-breakpoint
CREATE INDEX `leases_key` ON `leases` (`server`,`scope`,`workspace`);--> statement-breakpoint
ALTER TABLE `audit` ADD `workspace` text;--> statement-breakpoint
ALTER TABLE `audit` ADD `route` text;--> statement-breakpoint
ALTER TABLE `audit` ADD `latency` integer;