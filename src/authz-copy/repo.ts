// The postgres backend's tuples, read and written whole for copying the graph to or from SpiceDB:
// one statement per function.
import { sql } from "drizzle-orm";
import type { Relationship } from "../authz/model.ts";
import { edgesAsJson } from "../authz/repo.ts";
import type { Executor } from "../db/client.ts";

type EdgeRow = { resource_id: string; relation: string; subject_type: string; subject_id: string };

/** Where a page of one resource type's edges ends: its last key. */
export type EdgeKey = [resourceId: string, relation: string, subjectType: string, subjectId: string];

/**
 * One page of the edges whose resource is of `type`, in primary-key order after `after` (a
 * range scan of the primary key). With `createdBefore`, only edges that existed by then.
 */
export async function edgePage(
  db: Executor,
  type: string,
  after: EdgeKey | null,
  limit: number,
  createdBefore?: Date,
): Promise<Relationship[]> {
  const [resourceId, relation, subjectType, subjectId] = after ?? ["", "", "", ""];
  const result = await db.execute<EdgeRow>(sql`
    SELECT resource_id, relation, subject_type, subject_id FROM authz_relationships
    WHERE resource_type = ${type} AND subject_relation = ''
      AND (resource_id, relation, subject_type, subject_id) > (${resourceId}, ${relation}, ${subjectType}, ${subjectId})
      ${createdBefore ? sql`AND created_at <= ${createdBefore.toISOString()}::timestamptz` : sql``}
    ORDER BY resource_id, relation, subject_type, subject_id LIMIT ${limit}`);
  return result.rows.map((row) => ({
    resourceType: type as Relationship["resourceType"],
    resourceId: row.resource_id,
    relation: row.relation,
    subject: { type: row.subject_type, id: row.subject_id },
  }));
}

/** Deletes exactly these edges, as one JSON parameter. */
export async function deleteEdges(db: Executor, edges: Relationship[]): Promise<void> {
  if (edges.length === 0) return;
  const rows = edgesAsJson(edges);
  await db.execute(sql`
    DELETE FROM authz_relationships t
    USING jsonb_to_recordset(${rows}::jsonb)
      AS r(resource_type text, resource_id text, relation text, subject_type text, subject_id text)
    WHERE t.resource_type = r.resource_type AND t.resource_id = r.resource_id AND t.relation = r.relation
      AND t.subject_type = r.subject_type AND t.subject_id = r.subject_id AND t.subject_relation = ''`);
}

/** The database's clock, for a mark: edges written after it have a later `created_at`. */
export async function databaseNow(db: Executor): Promise<Date> {
  const result = await db.execute<{ now: string | Date }>(sql`SELECT clock_timestamp() AS now`);
  return new Date(result.rows[0]?.now ?? Date.now());
}
