// The reconciler's sweep (spicedb backend): edges in SpiceDB whose resource has no row. Creates
// that die between registering and persisting (an evicted isolate, a database outage during
// compensation and its outbox write) leave such edges; nothing else finds them.
import { sql } from "drizzle-orm";
import type { Database, Executor } from "../../db/client.ts";
import { idCreatedAt } from "../../lib/ids.ts";
import type { ResourceType } from "../model.ts";
import { BudgetSpentError, type SpiceDbClient } from "./client.ts";
import { maxPageSize } from "./permissions.ts";
import { deregisterWithin, failedOnSpiceDb, fromJson } from "./relationships.ts";

/** Younger resources may still be on their way to the database. */
export const sweepGraceMs = 10 * 60_000;
export const sweepPageSize = maxPageSize;

const sweptTypes: ResourceType[] = ["agent", "task", "schedule", "api_key"];

async function existing(db: Executor, type: ResourceType, ids: string[]): Promise<Set<string>> {
  const table = { agent: sql`agents`, task: sql`tasks`, schedule: sql`schedules`, api_key: sql`api_keys` }[
    type
  ];
  const live = type === "api_key" ? sql`revoked_at IS NULL AND` : sql``;
  const result = await db.execute<{ id: string }>(
    sql`SELECT id FROM ${table} WHERE ${live} id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`,
  );
  return new Set(result.rows.map((row) => row.id));
}

async function loadCursor(db: Executor, type: string): Promise<string | null> {
  const result = await db.execute<{ cursor: string | null }>(
    sql`SELECT cursor FROM authz_sweep_cursors WHERE resource_type = ${type}`,
  );
  return result.rows[0]?.cursor ?? null;
}

async function saveCursor(db: Executor, type: string, cursor: string | null): Promise<void> {
  await db.execute(sql`
    INSERT INTO authz_sweep_cursors (resource_type, cursor, updated_at) VALUES (${type}, ${cursor}, now())
    ON CONFLICT (resource_type) DO UPDATE SET cursor = excluded.cursor, updated_at = now()`);
}

/**
 * One page of edges per resource type, resuming where the last tick stopped and starting over
 * after the last page. Orphans older than the grace period lose every edge naming them. With a
 * budgeted client it stops when the budget is spent; a page whose orphans were not all removed
 * keeps its cursor, so the next tick reads it again.
 */
export async function sweepOrphanEdges(client: SpiceDbClient, db: Database, now: Date) {
  const counts = { scanned: 0, orphans: 0 };
  for (const type of sweptTypes) {
    if (client.budget?.exhausted()) break;
    const cursor = await loadCursor(db, type);
    let page: { relationship: Parameters<typeof fromJson>[0]; afterResultCursor?: { token: string } }[];
    try {
      page = await client.call(
        "/v1/relationships/read",
        {
          consistency: { fullyConsistent: true },
          relationshipFilter: { resourceType: type },
          optionalLimit: sweepPageSize,
          ...(cursor ? { optionalCursor: { token: cursor } } : {}),
        },
        { op: "read", resourceType: type },
        true,
      );
    } catch (error) {
      if (error instanceof BudgetSpentError) break;
      throw error;
    }
    counts.scanned += page.length;
    const old = [
      ...new Set(
        page
          .map((item) => fromJson(item.relationship).resourceId)
          .filter((id) => (idCreatedAt(id) ?? now.getTime()) < now.getTime() - sweepGraceMs),
      ),
    ];
    if (old.length > 0) {
      const live = await existing(db, type, old);
      const orphans = old.filter((id) => !live.has(id)).map((id) => ({ type, id }));
      const outcome = await deregisterWithin(client, orphans);
      counts.orphans += orphans.length - outcome.remaining.length;
      if (failedOnSpiceDb(outcome)) throw outcome.error;
      if (outcome.remaining.length > 0) break;
    }
    const next = page.length === sweepPageSize ? (page.at(-1)?.afterResultCursor?.token ?? null) : null;
    await saveCursor(db, type, next);
  }
  return counts;
}
