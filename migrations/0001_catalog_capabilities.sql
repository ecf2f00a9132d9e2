ALTER TABLE `catalog` ADD `capabilities` text;--> statement-breakpoint
ALTER TABLE `catalog` ADD `instructions` text;