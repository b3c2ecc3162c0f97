import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { authzRelationships } from "../db/schema/index.ts";
import type { EdgeOf, Relationship } from "./model.ts";

/** Edges as one JSON parameter for `jsonb_to_recordset`, in the table's column names. */
export function edgesAsJson(edges: Relationship[]): string {
  return JSON.stringify(
    edges.map((edge) => ({
      resource_type: edge.resourceType,
      resource_id: edge.resourceId,
      relation: edge.relation,
      subject_type: edge.subject.type,
      subject_id: edge.subject.id,
    })),
  );
}

/**
 * A CTE body inserting edges whose ids are SQL over the rows of `from` (one set of edges per
 * row), for a create that registers its rows in its own statement. Idempotent, as below.
 */
export function insertEdgesFrom(from: SQL, edges: EdgeOf<SQL>[]): SQL {
  const rows = edges.map(
    (edge) =>
      sql`(${edge.resourceType}::text, ${edge.resourceId}::text, ${edge.relation}::text,
        ${edge.subject.type}::text, ${edge.subject.id}::text)`,
  );
  return sql`
    INSERT INTO authz_relationships (resource_type, resource_id, relation, subject_type, subject_id)
    SELECT e.* FROM ${from} CROSS JOIN LATERAL (VALUES ${sql.join(rows, sql`, `)})
      AS e(resource_type, resource_id, relation, subject_type, subject_id)
    ON CONFLICT DO NOTHING`;
}

/**
 * Idempotent: an edge that already exists is left as it is. The edges travel as one JSON
 * parameter, so a thousand-task batch is one short statement rather than thousands of parameters.
 */
export async function insertRelationships(db: Executor, edges: Relationship[]): Promise<void> {
  if (edges.length === 0) return;
  const rows = edgesAsJson(edges);
  await db.execute(sql`
    INSERT INTO authz_relationships (resource_type, resource_id, relation, subject_type, subject_id)
    SELECT resource_type, resource_id, relation, subject_type, subject_id
    FROM jsonb_to_recordset(${rows}::jsonb)
      AS r(resource_type text, resource_id text, relation text, subject_type text, subject_id text)
    ON CONFLICT DO NOTHING`);
}

export async function deleteRelationship(db: Executor, edge: Relationship): Promise<boolean> {
  const rows = await db
    .delete(authzRelationships)
    .where(
      and(
        eq(authzRelationships.resourceType, edge.resourceType),
        eq(authzRelationships.resourceId, edge.resourceId),
        eq(authzRelationships.relation, edge.relation),
        eq(authzRelationships.subjectType, edge.subject.type),
        eq(authzRelationships.subjectId, edge.subject.id),
        eq(authzRelationships.subjectRelation, ""),
      ),
    )
    .returning({ relation: authzRelationships.relation });
  return rows.length > 0;
}

/** Removes every edge naming these objects of one type, as resource or as subject. */
export async function deleteObjectsRelationships(db: Executor, type: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const list = sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );
  await db.execute(sql`DELETE FROM authz_relationships
    WHERE (resource_type = ${type} AND resource_id IN (${list}))
       OR (subject_type = ${type} AND subject_id IN (${list}))`);
}
