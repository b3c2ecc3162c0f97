// The reverse of sql-compiler.ts: not "may the subject do P on this resource?" but "on which
// resources of type T may it do P?". The same flattening of the schema, read the other way:
// a direct relation is the subject's own edges (the subject index), an arrow is followed
// backwards (the tasks whose parent_agent is an agent the subject may read). Lists of principals
// who see part of an account are driven from these edges instead of testing every row of it.
import { type SQL, sql } from "drizzle-orm";
import { flatten, maxDepth, type SubjectRef } from "./sql-compiler.ts";
import type { AuthzSchema } from "./zed-parser.ts";

/**
 * One way to reach resources of the listed type: its edges of `relation` whose subject is the
 * subject itself (a grant, ownership) or any object of a set (an arrow followed backwards).
 */
export type LookupBranch =
  | { relation: string; subjectType: string; subjectId: string }
  | { relation: string; subjectType: string; subjectIds: SQL };

export interface SubjectLookup {
  resourceType: string;
  branches: LookupBranch[];
}

function branchesOf(
  schema: AuthzSchema,
  type: string,
  names: Iterable<string>,
  subject: SubjectRef,
  depth: number,
): LookupBranch[] {
  if (depth > maxDepth) throw new Error("authz: schema nests deeper than supported");
  const definition = schema[type];
  if (!definition) return [];
  const { direct, arrows } = flatten(schema, type, names);
  const branches: LookupBranch[] = [];
  for (const relation of direct) {
    if (definition.relations[relation]?.subjectTypes.includes(subject.type)) {
      branches.push({ relation, subjectType: subject.type, subjectId: subject.id });
    }
  }
  for (const [relation, targetNames] of arrows) {
    for (const targetType of definition.relations[relation]?.subjectTypes ?? []) {
      const target = schema[targetType];
      // SpiceDB ignores an arrow to a type that lacks the named relation or permission.
      const known = [...targetNames].filter((name) => target?.relations[name] || target?.permissions[name]);
      if (known.length === 0) continue;
      const inner = branchesOf(schema, targetType, known, subject, depth + 1);
      if (inner.length > 0) {
        branches.push({ relation, subjectType: targetType, subjectIds: idsOf(targetType, inner, depth + 1) });
      }
    }
  }
  return branches;
}

/**
 * The edges of one branch: `alias` is an authz_relationships row pointing at a resource id. An
 * arrow's subjects are `subjectId` when the caller walks them one by one, else the whole set.
 */
function branchEdges(alias: SQL, resourceType: string, branch: LookupBranch, subjectId?: SQL): SQL {
  let subject: SQL;
  if ("subjectId" in branch) {
    subject = sql`${alias}.subject_id = ${branch.subjectId} AND ${alias}.subject_relation = ''`;
  } else if (subjectId) {
    subject = sql`${alias}.subject_id = ${subjectId}`;
  } else {
    // The set is computed first (an InitPlan) and its ids probed in the subject index: planned
    // any other way, the arrow may read every edge of the subject type.
    subject = sql`${alias}.subject_id = ANY (ARRAY(${branch.subjectIds}))`;
  }
  return sql`${alias}.subject_type = ${branch.subjectType} AND ${subject}
    AND ${alias}.resource_type = ${resourceType} AND ${alias}.relation = ${branch.relation}`;
}

function idsOf(resourceType: string, branches: LookupBranch[], depth: number): SQL {
  const alias = sql.raw(`l${depth}`);
  return sql.join(
    branches.map(
      (branch) =>
        sql`SELECT ${alias}.resource_id FROM authz_relationships ${alias}
          WHERE ${branchEdges(alias, resourceType, branch)}`,
    ),
    sql` UNION `,
  );
}

/** How to find what `subject` may `permission` among resources of `type`. */
export function compileLookup(
  schema: AuthzSchema,
  type: string,
  permission: string,
  subject: SubjectRef,
): SubjectLookup {
  return { resourceType: type, branches: branchesOf(schema, type, [permission], subject, 0) };
}

/** The set of ids (one text column) as a subquery: `id IN (lookupIds(…))`. */
export function lookupIds(lookup: SubjectLookup): SQL {
  return lookup.branches.length === 0
    ? sql`SELECT NULL::text WHERE FALSE`
    : idsOf(lookup.resourceType, lookup.branches, 0);
}

export interface DrivenPage {
  /**
   * The listed row for one resource id: a SELECT of the list's columns (with `id`), scoped to the
   * account and carrying the list's own filters, yielding at most one row.
   */
  row: (resourceId: SQL) => SQL;
  /** Only ids below this one (lists are newest first). */
  before?: string | undefined;
  /** Rows to return: a page's limit plus one. */
  take: number;
  /**
   * Arrow relations whose subject the filters already fix, e.g. `{ parent_agent: agentId }` for
   * a list of one agent's tasks: other agents' tasks could never pass the filter, so their edges
   * are not read at all. Only for relations that mirror a filtered column.
   */
  pins?: Record<string, string | undefined>;
}

/**
 * One page, newest first, driven from the subject's edges. Each branch reads its edges in id
 * order through the subject index (`subject…, resource_type, relation, resource_id`), looks each
 * row up by primary key with the filters, and stops at `take` rows; an arrow does that per object
 * it reaches. The page is the top `take` of those few streams, so it reads what the subject may
 * see, never the rest of the account.
 */
export function drivenPage(lookup: SubjectLookup, page: DrivenPage): SQL {
  const arms = lookup.branches.map((branch, index) => {
    const edge = sql.raw(`e${index}`);
    const stream = (subjectId?: SQL) => sql`SELECT p.* FROM authz_relationships ${edge}
      CROSS JOIN LATERAL (${page.row(sql`${edge}.resource_id`)} OFFSET 0) p
      WHERE ${branchEdges(edge, lookup.resourceType, branch, subjectId)}
        ${page.before === undefined ? sql`` : sql`AND ${edge}.resource_id < ${page.before}`}
      ORDER BY ${edge}.resource_id DESC LIMIT ${page.take}`;
    if ("subjectId" in branch) return sql`(${stream()})`;
    const through = sql.raw(`s${index}`);
    const pin = page.pins?.[branch.relation];
    return sql`(SELECT x.* FROM unnest(ARRAY(${branch.subjectIds})) ${through}(id)
      CROSS JOIN LATERAL (${stream(sql`${through}.id`)}) x
      ${pin === undefined ? sql`` : sql`WHERE ${through}.id = ${pin}`})`;
  });
  if (arms.length === 0) return sql`SELECT * FROM (${page.row(sql`NULL::text`)}) nothing WHERE FALSE`;
  return sql`SELECT DISTINCT ON (id) * FROM (${sql.join(arms, sql` UNION ALL `)}) listed
    ORDER BY id DESC LIMIT ${page.take}`;
}

/**
 * How a list decides what the principal sees: a predicate on every row of the account (account
 * admins, who may read it all; flags below `enforce`; backends outside the database), or the
 * reverse lookup as the driving set (everyone else).
 */
export type ListScope = { predicate: SQL } | { lookup: SubjectLookup };

/** A list statement in the scope's shape; `forward` gets the predicate for a scan of the account. */
export function listStatement(
  scope: ListScope,
  shapes: { forward: (visible: SQL) => SQL; driven: DrivenPage },
): SQL {
  return "lookup" in scope ? drivenPage(scope.lookup, shapes.driven) : shapes.forward(scope.predicate);
}
