CREATE TABLE "authz_zedtokens" (
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"token" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "authz_zedtokens_pkey" PRIMARY KEY("resource_type","resource_id")
);
