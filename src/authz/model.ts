import type { Config, RolloutFlag } from "../config/bindings.ts";
import { schemaZed } from "./schema-source.generated.ts";
import type { SubjectRef } from "./sql-compiler.ts";
import { type PrincipalRef, principalSubject } from "./subjects.ts";
import { parseZedSchema } from "./zed-parser.ts";

export const authzSchema = parseZedSchema(schemaZed);

/**
 * Types that some relation allows as its subject (user, service_account, account, agent): only
 * edges of these can name an object as their subject. A task, schedule or api_key never is one.
 */
export const subjectTypes: ReadonlySet<string> = new Set(
  Object.values(authzSchema).flatMap((definition) =>
    Object.values(definition.relations).flatMap((relation) => relation.subjectTypes),
  ),
);

/** Types with relations of their own: only these are ever an edge's resource (not user, service_account). */
export const typesWithRelations: ReadonlySet<string> = new Set(
  Object.entries(authzSchema)
    .filter(([, definition]) => Object.keys(definition.relations).length > 0)
    .map(([type]) => type),
);

/** Resource types registered in the graph, each with its own rollout flag. */
export type ResourceType = "agent" | "task" | "schedule" | "api_key";
export type ObjectType = ResourceType | "account";

export interface Relationship {
  resourceType: ObjectType;
  resourceId: string;
  relation: string;
  subject: SubjectRef;
}

/** Something whose edges can be removed: a resource, or a principal (by its subject id). */
export interface ObjectRef {
  type: ObjectType | "service_account" | "user";
  id: string;
}

export function rolloutFor(config: Config, type: ObjectType): RolloutFlag {
  switch (type) {
    case "task":
      return config.rollout.tasks;
    case "schedule":
      return config.rollout.schedules;
    case "api_key":
      return config.rollout.apiKeys;
    default:
      // Creating agents is decided on the account, so it climbs the ladder with agents.
      return config.rollout.agents;
  }
}

/** The resources of these edges, once each. */
export const resourcesOf = (edges: Relationship[]): ObjectRef[] => [
  ...new Map(
    edges.map((edge) => [
      `${edge.resourceType}:${edge.resourceId}`,
      { type: edge.resourceType, id: edge.resourceId },
    ]),
  ).values(),
];

/** An edge whose ids are values of `V`: strings, or SQL expressions (a create's own statement). */
export interface EdgeOf<V> {
  resourceType: ObjectType;
  resourceId: V;
  relation: string;
  subject: { type: string | V; id: V };
}

/**
 * The edges that register a new resource: its account, its owner, and its parent agent. The one
 * definition, over values or over SQL (`insertEdgesFrom` in repo.ts writes the latter).
 */
export function registrationEdgesOf<V>(resource: {
  type: ResourceType;
  id: V;
  accountId: V;
  owner: { type: string | V; id: V } | undefined;
  parentAgentId?: V | undefined;
}): EdgeOf<V>[] {
  const edge = (relation: string, subject: { type: string | V; id: V }): EdgeOf<V> => ({
    resourceType: resource.type,
    resourceId: resource.id,
    relation,
    subject,
  });
  return [
    edge("account", { type: "account", id: resource.accountId }),
    ...(resource.owner ? [edge("owner", resource.owner)] : []),
    ...(resource.parentAgentId ? [edge("parent_agent", { type: "agent", id: resource.parentAgentId })] : []),
  ];
}

export function registrationEdges(resource: {
  type: ResourceType;
  id: string;
  accountId: string;
  owner: PrincipalRef | undefined;
  parentAgentId?: string | undefined;
}): Relationship[] {
  return registrationEdgesOf({ ...resource, owner: resource.owner && principalSubject(resource.owner) });
}

/** `account#admin@…` or `account#member@…`: what an account's API key says its principal is. */
export function membershipEdge(principal: PrincipalRef, role: "admin" | "member"): Relationship {
  return {
    resourceType: "account",
    resourceId: principal.accountId,
    relation: role,
    subject: principalSubject(principal),
  };
}
