-- leasehold:no-transaction
-- api_keys already has rows in a running deployment: build without blocking writes, and drop a
-- leftover INVALID index from an interrupted run first.
DROP INDEX CONCURRENTLY IF EXISTS "api_keys_agent_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "api_keys_agent_idx" ON "api_keys" USING btree ("account_id","agent_id","created_at") WHERE "api_keys"."agent_id" IS NOT NULL;
