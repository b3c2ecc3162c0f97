-- leasehold:no-transaction
-- Events keyed by task (ADR 0024): the (task_id, id) index that served a task's event reads
-- becomes the primary key, and the id-only key goes, so an event row is one index entry, not two.
-- The new key's index is built concurrently; one ALTER then swaps the constraints (the columns
-- are already NOT NULL, so it scans nothing). A failed concurrent build leaves an INVALID index
-- behind, so the build is preceded by a drop and a re-run starts clean.
DROP INDEX CONCURRENTLY IF EXISTS "task_events_task_key";--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY "task_events_task_key" ON "task_events" USING btree ("task_id","id");--> statement-breakpoint
ALTER TABLE "task_events" DROP CONSTRAINT "task_events_pkey", ADD CONSTRAINT "task_events_pkey" PRIMARY KEY USING INDEX "task_events_task_key";--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "task_events_task_id_idx";
