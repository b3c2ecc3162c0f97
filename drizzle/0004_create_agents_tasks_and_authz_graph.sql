CREATE TYPE "public"."task_state" AS ENUM('submitted', 'working', 'input_required', 'compensating', 'completed', 'failed', 'canceled', 'compensated', 'quarantined');--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"creator_user_id" text,
	"creator_service_account_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agents_one_creator" CHECK (num_nonnulls("agents"."creator_user_id", "agents"."creator_service_account_id") <= 1)
);
--> statement-breakpoint
CREATE TABLE "authz_relationships" (
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"relation" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"subject_relation" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "authz_relationships_pkey" PRIMARY KEY("resource_type","resource_id","relation","subject_type","subject_id","subject_relation")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"account_id" text NOT NULL,
	"principal" text NOT NULL,
	"operation" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"response_status" integer,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("account_id","principal","operation","key")
);
--> statement-breakpoint
CREATE TABLE "task_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account_id" text NOT NULL,
	"task_id" text NOT NULL,
	"type" text NOT NULL,
	"from_state" "task_state",
	"to_state" "task_state",
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"lease_epoch" bigint,
	"data" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"type" text NOT NULL,
	"name" text,
	"state" "task_state" DEFAULT 'submitted' NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"input" jsonb,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"progress" jsonb,
	"input_request" jsonb,
	"input_response" jsonb,
	"result" jsonb,
	"error" jsonb,
	"cancel_reason" text,
	"max_attempts" integer NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_epoch" bigint DEFAULT 0 NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"last_heartbeat_at" timestamp with time zone,
	"creator_user_id" text,
	"creator_service_account_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "tasks_one_creator" CHECK (num_nonnulls("tasks"."creator_user_id", "tasks"."creator_service_account_id") <= 1),
	CONSTRAINT "tasks_max_attempts_range" CHECK ("tasks"."max_attempts" BETWEEN 1 AND 100),
	CONSTRAINT "tasks_attempts_nonnegative" CHECK ("tasks"."attempts" >= 0)
);
--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_events" ADD CONSTRAINT "task_events_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agents_account_name_key" ON "agents" USING btree ("account_id","name");--> statement-breakpoint
CREATE INDEX "agents_account_id_idx" ON "agents" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "agents_creator_user_idx" ON "agents" USING btree ("account_id","creator_user_id","id") WHERE "agents"."creator_user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "agents_creator_service_account_idx" ON "agents" USING btree ("account_id","creator_service_account_id","id") WHERE "agents"."creator_service_account_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "authz_relationships_subject_idx" ON "authz_relationships" USING btree ("subject_type","subject_id","resource_type","relation");--> statement-breakpoint
CREATE INDEX "task_events_task_id_idx" ON "task_events" USING btree ("task_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_account_name_key" ON "tasks" USING btree ("account_id","name") WHERE "tasks"."name" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "tasks_account_id_idx" ON "tasks" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "tasks_agent_id_idx" ON "tasks" USING btree ("agent_id","id");--> statement-breakpoint
CREATE INDEX "tasks_creator_user_idx" ON "tasks" USING btree ("account_id","creator_user_id","id") WHERE "tasks"."creator_user_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "tasks_creator_service_account_idx" ON "tasks" USING btree ("account_id","creator_service_account_id","id") WHERE "tasks"."creator_service_account_id" IS NOT NULL;