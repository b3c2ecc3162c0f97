// The authorization outbox: one statement per function.
import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { summarizeError } from "../observability/logger.ts";
import type { Relationship } from "./model.ts";

/**
 * `deregister`: remove every edge naming deleted objects; `remove_edges`: remove exactly the edges
 * a failed create wrote (spicedb backend).
 */
export const outboxOperations = ["deregister", "remove_edges"] as const;
export type OutboxOperation = (typeof outboxOperations)[number];

/**
 * How long a claimed entry is a drain's own: longer than a job's time budget (10 s) plus one
 * call's worst case (4 attempts of 2 s and 1 s of backoff), so it never falls due while worked on.
 */
export const claimLeaseSeconds = 60;

export type OutboxEntry = {
  id: number;
  operation: OutboxOperation;
  object_type: string;
  object_ids: string[];
  edges: Relationship[] | null;
  attempts: number;
};

/**
 * What an operator may read about a failure, at most 500 characters: the class and code of each
 * error in the chain, with messages only where they cannot carry values (never a database
 * error's, whose text may quote parameters).
 */
export function describeFailure(error: unknown): string {
  return summarizeError(error).slice(0, 500);
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

/**
 * Records, in the delete's own transaction, that these objects' edges are still to be removed,
 * already claimed by the caller for `leaseSeconds` (it removes them right after commit). If it
 * never gets to, the entry falls due and the drain does it: no edge is ever forgotten.
 */
export async function enqueueClaimedDeregistration(
  db: Executor,
  type: string,
  ids: string[],
  leaseSeconds: number,
): Promise<number> {
  const result = await db.execute<{ id: string }>(sql`
    INSERT INTO authz_outbox (operation, object_type, object_ids, attempts, next_attempt_at)
    VALUES ('deregister', ${type}, ${textArray(ids)}, 0, now() + make_interval(secs => ${leaseSeconds}))
    RETURNING id`);
  return Number(result.rows[0]?.id);
}

/**
 * Claims up to `limit` due entries, oldest first, for `leaseSeconds`: an overlapping drain skips
 * them, and they fall due again if this drain dies. In order per object (DESIGN §6): an entry
 * waits while an older one names any of its objects, whether due, backing off or claimed.
 */
export async function claimDueEntries(
  db: Executor,
  limit: number,
  leaseSeconds: number,
): Promise<OutboxEntry[]> {
  const result = await db.execute<OutboxEntry>(sql`
    WITH due AS (
      SELECT id, object_type, object_ids FROM authz_outbox
      WHERE next_attempt_at <= now()
      ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), waiting AS (
      SELECT DISTINCT due.id
      FROM due CROSS JOIN LATERAL unnest(due.object_ids) AS mine(object_id),
        authz_outbox older CROSS JOIN LATERAL unnest(older.object_ids) AS theirs(object_id)
      WHERE older.object_type = due.object_type AND older.id < due.id AND theirs.object_id = mine.object_id
    )
    UPDATE authz_outbox SET next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
    FROM due WHERE authz_outbox.id = due.id AND due.id NOT IN (SELECT id FROM waiting)
    RETURNING authz_outbox.id, authz_outbox.operation, authz_outbox.object_type, authz_outbox.object_ids,
      authz_outbox.edges, authz_outbox.attempts`);
  return result.rows.map((row) => ({ ...row, id: Number(row.id) })).sort((a, b) => a.id - b.id);
}

/** Gives claimed entries back, due at once (a drain that ran out of budget before them). */
export async function releaseEntries(db: Executor, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE authz_outbox SET next_attempt_at = now() WHERE id = ANY(${`{${ids.join(",")}}`}::bigint[])`);
}

/** What an interrupted entry still has to do: remaining ids (and edges, for remove_edges). */
export interface OutboxRemainder {
  objectIds: string[];
  edges: Relationship[] | null;
}

export async function deleteEntry(db: Executor, id: number): Promise<void> {
  await db.execute(sql`DELETE FROM authz_outbox WHERE id = ${id}`);
}

/** Keeps only what is left of an entry the budget interrupted, due at once for the next tick. */
export async function keepRemainder(db: Executor, id: number, remainder: OutboxRemainder): Promise<void> {
  await db.execute(sql`
    UPDATE authz_outbox SET object_ids = ${textArray(remainder.objectIds)},
      edges = ${remainder.edges ? JSON.stringify(remainder.edges) : null}::jsonb, next_attempt_at = now()
    WHERE id = ${id}`);
}

/**
 * Backs off exponentially: 2^attempts seconds, at most an hour, by the database clock. With a
 * remainder, what was already done is dropped from the entry.
 */
export async function recordFailedAttempt(
  db: Executor,
  id: number,
  error: unknown,
  remainder?: OutboxRemainder,
): Promise<void> {
  const narrowed = remainder
    ? sql`, object_ids = ${textArray(remainder.objectIds)},
        edges = ${remainder.edges ? JSON.stringify(remainder.edges) : null}::jsonb`
    : sql``;
  await db.execute(sql`
    UPDATE authz_outbox SET attempts = attempts + 1, last_error = ${describeFailure(error)},
      next_attempt_at = now() + make_interval(secs => least(power(2, attempts + 1), 3600))${narrowed}
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
