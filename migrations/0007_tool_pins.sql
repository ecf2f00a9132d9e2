CREATE TABLE `pins` (
	`server` text NOT NULL,
	`tool` text NOT NULL,
	`approved_hash` text,
	`approved` text,
	`seen_hash` text NOT NULL,
	`seen` text NOT NULL,
	`changed_at` integer NOT NULL,
	`approved_at` integer,
	`approved_by` text,
	PRIMARY KEY(`server`, `tool`)
);
