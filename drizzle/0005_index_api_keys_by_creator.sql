-- leasehold:no-transaction
-- api_keys already has rows in a running deployment: build without blocking writes, and drop a
-- leftover INVALID index from an interrupted run first.
DROP INDEX CONCURRENTLY IF EXISTS "api_keys_creator_user_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "api_keys_creator_user_idx" ON "api_keys" USING btree ("account_id","creator_user_id") WHERE "api_keys"."creator_user_id" IS NOT NULL;--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "api_keys_creator_service_account_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "api_keys_creator_service_account_idx" ON "api_keys" USING btree ("account_id","creator_service_account_id") WHERE "api_keys"."creator_service_account_id" IS NOT NULL;
