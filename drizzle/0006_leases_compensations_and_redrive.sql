CREATE TYPE "public"."compensation_status" AS ENUM('pending', 'done', 'failed');--> statement-breakpoint
CREATE TABLE "task_compensations" (
	"task_id" text NOT NULL,
	"seq" integer NOT NULL,
	"account_id" text NOT NULL,
	"kind" text NOT NULL,
	"target" text NOT NULL,
	"payload" jsonb,
	"status" "compensation_status" DEFAULT 'pending' NOT NULL,
	"outcome" jsonb,
	"recorded_epoch" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_compensations_pkey" PRIMARY KEY("task_id","seq")
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "compensation_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "compensation_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "redriven_from" text;--> statement-breakpoint
ALTER TABLE "task_compensations" ADD CONSTRAINT "task_compensations_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;
