-- leasehold:no-transaction
-- tasks already has rows in a running deployment: build without blocking writes, and drop a
-- leftover INVALID index from an interrupted run first. No existing row has a schedule_id yet,
-- so the unique build cannot fail on duplicates.
DROP INDEX CONCURRENTLY IF EXISTS "tasks_schedule_run_key";--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY "tasks_schedule_run_key" ON "tasks" USING btree ("schedule_id","scheduled_for") WHERE "tasks"."schedule_id" IS NOT NULL;
