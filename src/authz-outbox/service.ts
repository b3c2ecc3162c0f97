import { listEntries, type OutboxRecord } from "../authz/outbox-repo.ts";
import type { OperatorContext } from "../lib/service-context.ts";

const iso = (value: Date | string) => new Date(value).toISOString();

export function toOutboxView(row: OutboxRecord) {
  return {
    id: row.id,
    operation: row.operation,
    object_type: row.object_type,
    object_ids: row.object_ids,
    edges: row.edges?.length ?? null,
    attempts: row.attempts,
    last_error: row.last_error,
    created_at: iso(row.created_at),
    next_attempt_at: iso(row.next_attempt_at),
  };
}

/** What the cron still has to do in the graph, oldest first (operators: GET /v1/admin/authz/outbox). */
export async function listOutbox(ctx: OperatorContext, afterId: number, limit: number) {
  const rows = await listEntries(ctx.db, afterId, limit);
  const items = rows.slice(0, limit).map(toOutboxView);
  return { items, next_cursor: rows.length > limit ? String(items.at(-1)?.id) : null };
}
