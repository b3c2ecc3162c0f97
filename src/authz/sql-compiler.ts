// Compiles a permission of the authorization schema into one SQL predicate over
// authz_relationships, for one subject and a resource id expression (a column or a value).
// Each permission is flattened to the relations it accepts directly plus the arrows it follows,
// so a check is at most one EXISTS per hop, and the same predicate filters whole lists.
import { type SQL, sql } from "drizzle-orm";
import { principalTypes } from "../db/schema/enums.ts";
import type { AuthzSchema } from "./zed-parser.ts";

export interface SubjectRef {
  type: string;
  id: string;
}

/** A subject of a check: known values, or SQL expressions (the statement's own caller). */
export type PredicateSubject = SubjectRef | { type: SQL; id: SQL };

// A subject whose type is an expression may be any principal type.
const accepts = (subjectTypes: readonly string[], subject: PredicateSubject) =>
  typeof subject.type === "string"
    ? subjectTypes.includes(subject.type)
    : subjectTypes.some((type) => (principalTypes as readonly string[]).includes(type));

/** A permission as the relations it accepts directly and the arrows (relation → names) it follows. */
export interface Flattened {
  direct: Set<string>;
  arrows: Map<string, Set<string>>;
}

export const maxDepth = 8;

export function flatten(schema: AuthzSchema, type: string, names: Iterable<string>): Flattened {
  const definition = schema[type];
  if (!definition) throw new Error(`authz: unknown type ${type}`);
  const result: Flattened = { direct: new Set(), arrows: new Map() };
  const pending = [...names];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    if (definition.relations[name]) {
      result.direct.add(name);
      continue;
    }
    const terms = definition.permissions[name];
    if (!terms) throw new Error(`authz: ${type} has no relation or permission ${name}`);
    for (const term of terms) {
      if (term.kind === "name") pending.push(term.name);
      else
        result.arrows.set(
          term.relation,
          (result.arrows.get(term.relation) ?? new Set()).add(term.permission),
        );
    }
  }
  return result;
}

function anyOf(values: string[]): SQL {
  return sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  );
}

function compile(
  schema: AuthzSchema,
  type: string,
  names: Iterable<string>,
  resourceId: SQL,
  subject: PredicateSubject,
  depth: number,
): SQL | undefined {
  if (depth > maxDepth) throw new Error("authz: schema nests deeper than supported");
  const definition = schema[type];
  if (!definition) return undefined;
  const { direct, arrows } = flatten(schema, type, names);
  const alias = sql.raw(`r${depth}`);
  const parts: SQL[] = [];

  const directRelations = [...direct].filter((relation) =>
    accepts(definition.relations[relation]?.subjectTypes ?? [], subject),
  );
  if (directRelations.length > 0) {
    parts.push(sql`EXISTS (SELECT 1 FROM authz_relationships ${alias}
      WHERE ${alias}.resource_type = ${type} AND ${alias}.resource_id = ${resourceId}
        AND ${alias}.relation IN (${anyOf(directRelations)})
        AND ${alias}.subject_type = ${subject.type} AND ${alias}.subject_id = ${subject.id}
        AND ${alias}.subject_relation = '')`);
  }

  for (const [relation, targetNames] of arrows) {
    const branches: SQL[] = [];
    for (const targetType of definition.relations[relation]?.subjectTypes ?? []) {
      const target = schema[targetType];
      // SpiceDB ignores an arrow to a type that lacks the named relation or permission.
      const known = [...targetNames].filter((name) => target?.relations[name] || target?.permissions[name]);
      if (known.length === 0) continue;
      const inner = compile(schema, targetType, known, sql`${alias}.subject_id`, subject, depth + 1);
      if (inner) branches.push(sql`(${alias}.subject_type = ${targetType} AND ${inner})`);
    }
    if (branches.length === 0) continue;
    parts.push(sql`EXISTS (SELECT 1 FROM authz_relationships ${alias}
      WHERE ${alias}.resource_type = ${type} AND ${alias}.resource_id = ${resourceId}
        AND ${alias}.relation = ${relation} AND (${sql.join(branches, sql` OR `)}))`);
  }
  return parts.length === 0 ? undefined : sql`(${sql.join(parts, sql` OR `)})`;
}

/** TRUE exactly when `subject` holds `permission` (or relation) on the resource. */
export function permissionPredicate(
  schema: AuthzSchema,
  resourceType: string,
  permission: string,
  resourceId: SQL,
  subject: PredicateSubject,
): SQL {
  return compile(schema, resourceType, [permission], resourceId, subject, 0) ?? sql`FALSE`;
}
