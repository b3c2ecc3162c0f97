// The authorization outbox: one statement per function.
import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import type { Relationship } from "./model.ts";

/**
 * `deregister`: remove every edge naming deleted objects; `remove_edges`: remove exactly the edges
 * a failed create wrote (spicedb backend).
 */
export const outboxOperations = ["deregister", "remove_edges"] as const;
export type OutboxOperation = (typeof outboxOperations)[number];

export type OutboxEntry = {
  id: number;
  operation: OutboxOperation;
  object_type: string;
  object_ids: string[];
  edges: Relationship[] | null;
  attempts: number;
};

/** What an operator may read about a failure: its class and message, at most 500 characters. */
export function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 500);
}

/** `ids` as one text[] value: one parameter per id, in a statement of its own. */
const textArray = (ids: string[]) =>
  sql`ARRAY[${sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  )}]::text[]`;

export async function enqueueDeregistration(db: Executor, type: string, ids: string[], error: unknown) {
  await db.execute(sql`
    INSERT INTO authz_outbox (operation, object_type, object_ids, attempts, last_error)
    VALUES ('deregister', ${type}, ${textArray(ids)}, 0, ${describeFailure(error)})`);
}

/** Locks up to `limit` due entries, oldest first, skipping those another drain holds. */
export async function lockDueEntries(db: Executor, limit: number): Promise<OutboxEntry[]> {
  const result = await db.execute<OutboxEntry>(sql`
    SELECT id, operation, object_type, object_ids, edges, attempts FROM authz_outbox
    WHERE next_attempt_at <= now()
    ORDER BY next_attempt_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED`);
  return result.rows.map((row) => ({ ...row, id: Number(row.id) }));
}

export async function deleteEntry(db: Executor, id: number): Promise<void> {
  await db.execute(sql`DELETE FROM authz_outbox WHERE id = ${id}`);
}

/** Backs off exponentially: 2^attempts seconds, at most an hour, by the database clock. */
export async function recordFailedAttempt(db: Executor, id: number, error: unknown): Promise<void> {
  await db.execute(sql`
    UPDATE authz_outbox SET attempts = attempts + 1, last_error = ${describeFailure(error)},
      next_attempt_at = now() + make_interval(secs => least(power(2, attempts + 1), 3600))
    WHERE id = ${id}`);
}

/** A failed create's compensation that failed too: exactly these edges are to be removed. */
export async function enqueueEdgeRemoval(db: Executor, edges: Relationship[], error: unknown) {
  const first = edges[0];
  if (!first) return;
  const ids = [...new Set(edges.map((edge) => edge.resourceId))];
  await db.execute(sql`
    INSERT INTO authz_outbox (operation, object_type, object_ids, edges, attempts, last_error)
    VALUES ('remove_edges', ${first.resourceType}, ${textArray(ids)}, ${JSON.stringify(edges)}::jsonb, 0, ${describeFailure(error)})`);
}

export type OutboxRecord = OutboxEntry & {
  last_error: string | null;
  created_at: Date;
  next_attempt_at: Date;
};

/** Entries in id order after `afterId`, for operators; `limit + 1` rows say whether more exist. */
export async function listEntries(db: Executor, afterId: number, limit: number): Promise<OutboxRecord[]> {
  const result = await db.execute<OutboxRecord>(sql`
    SELECT id, operation, object_type, object_ids, edges, attempts, last_error, created_at, next_attempt_at
    FROM authz_outbox WHERE id > ${afterId} ORDER BY id LIMIT ${limit + 1}`);
  return result.rows.map((row) => ({ ...row, id: Number(row.id) }));
}
