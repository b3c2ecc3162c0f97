-- leasehold:no-transaction
-- Built without blocking writes. A failed concurrent build leaves an INVALID index behind, so the
-- drop makes a re-run start clean.
DROP INDEX CONCURRENTLY IF EXISTS "api_keys_account_id_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "api_keys_account_id_idx" ON "api_keys" USING btree ("account_id","created_at");
