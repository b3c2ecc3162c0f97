-- leasehold:no-transaction
-- Built without blocking creates. A failed concurrent build leaves an INVALID index behind, so the
-- drop makes a re-run start clean.
DROP INDEX CONCURRENTLY IF EXISTS "idempotency_keys_created_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");
