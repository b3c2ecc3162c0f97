CREATE TYPE "public"."schedule_overlap" AS ENUM('skip', 'allow', 'buffer_one');--> statement-breakpoint
CREATE TABLE "schedules" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"name" text NOT NULL,
	"cron" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"task_type" text NOT NULL,
	"task_input" jsonb,
	"task_max_attempts" integer NOT NULL,
	"overlap" "schedule_overlap" DEFAULT 'skip' NOT NULL,
	"catchup_window_seconds" integer DEFAULT 3600 NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"next_fire_at" timestamp with time zone,
	"last_scheduled_for" timestamp with time zone,
	"buffered_for" timestamp with time zone,
	"last_task_id" text,
	"missed_fires" integer DEFAULT 0 NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"creator_user_id" text,
	"creator_service_account_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedules_one_creator" CHECK (num_nonnulls("schedules"."creator_user_id", "schedules"."creator_service_account_id") <= 1),
	CONSTRAINT "schedules_task_max_attempts_range" CHECK ("schedules"."task_max_attempts" BETWEEN 1 AND 100),
	CONSTRAINT "schedules_catchup_window_range" CHECK ("schedules"."catchup_window_seconds" BETWEEN 0 AND 604800),
	CONSTRAINT "schedules_missed_fires_nonnegative" CHECK ("schedules"."missed_fires" >= 0)
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "schedule_id" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "scheduled_for" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "schedules_agent_name_key" ON "schedules" USING btree ("agent_id","name");--> statement-breakpoint
CREATE INDEX "schedules_account_agent_idx" ON "schedules" USING btree ("account_id","agent_id","id");--> statement-breakpoint
CREATE INDEX "schedules_due_idx" ON "schedules" USING btree ("next_fire_at") WHERE NOT "schedules"."paused";--> statement-breakpoint
CREATE INDEX "schedules_buffered_idx" ON "schedules" USING btree ("buffered_for") WHERE "schedules"."buffered_for" IS NOT NULL AND NOT "schedules"."paused";--> statement-breakpoint
CREATE INDEX "schedules_creator_user_idx" ON "schedules" USING btree ("account_id","creator_user_id","id") WHERE "schedules"."creator_user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "schedules_creator_service_account_idx" ON "schedules" USING btree ("account_id","creator_service_account_id","id") WHERE "schedules"."creator_service_account_id" IS NOT NULL;