-- leasehold:no-transaction
-- tasks has rows in a running deployment: build each index without blocking writes, after
-- dropping any INVALID leftover of an interrupted run.
DROP INDEX CONCURRENTLY IF EXISTS "tasks_claimable_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "tasks_claimable_idx" ON "tasks" USING btree ("agent_id","priority" DESC NULLS LAST,"id") WHERE "tasks"."state" = 'submitted';--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "tasks_compensation_claimable_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "tasks_compensation_claimable_idx" ON "tasks" USING btree ("agent_id","priority" DESC NULLS LAST,"id") WHERE "tasks"."state" = 'compensating' AND "tasks"."lease_owner" IS NULL;--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "tasks_lease_expiry_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "tasks_lease_expiry_idx" ON "tasks" USING btree ("lease_expires_at") WHERE "tasks"."state" IN ('working', 'compensating');--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "tasks_agent_lease_expiry_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "tasks_agent_lease_expiry_idx" ON "tasks" USING btree ("agent_id","lease_expires_at") WHERE "tasks"."state" IN ('working', 'compensating');--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "tasks_finished_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "tasks_finished_idx" ON "tasks" USING btree ("finished_at") WHERE "tasks"."finished_at" IS NOT NULL;
