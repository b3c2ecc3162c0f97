-- leasehold:no-transaction
-- Lists driven from a subject (ADR 0016). The wider subject index replaces the old one: it is
-- built first and the old one dropped after, so lookups from a subject always have an index.
-- A failed concurrent build leaves an INVALID index behind, so each build is preceded by a drop
-- and a re-run starts clean.
DROP INDEX CONCURRENTLY IF EXISTS "authz_relationships_subject_resource_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "authz_relationships_subject_resource_idx" ON "authz_relationships" USING btree ("subject_type","subject_id","resource_type","relation","resource_id","subject_relation");--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "authz_relationships_subject_idx";--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "tasks_account_state_idx";--> statement-breakpoint
CREATE INDEX CONCURRENTLY "tasks_account_state_idx" ON "tasks" USING btree ("account_id","state","id");
