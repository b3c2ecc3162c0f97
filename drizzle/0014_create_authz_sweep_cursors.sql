CREATE TABLE "authz_sweep_cursors" (
	"resource_type" text PRIMARY KEY NOT NULL,
	"cursor" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
