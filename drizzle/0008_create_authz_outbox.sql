CREATE TABLE "authz_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"operation" text NOT NULL,
	"object_type" text NOT NULL,
	"object_ids" text[] NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "authz_outbox_due_idx" ON "authz_outbox" USING btree ("next_attempt_at","id");