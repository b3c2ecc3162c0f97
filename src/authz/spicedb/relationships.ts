// Our relationships in SpiceDB's JSON shape, and the calls the backend makes with them:
// duplicates removed, at most 1,000 updates per write, independent calls side by side.
import { type ObjectRef, type Relationship, subjectTypes, typesWithRelations } from "../model.ts";
import { forEachBounded } from "./bounded.ts";
import { BudgetSpentError, type SpiceDbClient } from "./client.ts";

export const maxUpdatesPerWrite = 1000;

type JsonRelationship = {
  resource: { objectType: string; objectId: string };
  relation: string;
  subject: { object: { objectType: string; objectId: string } };
};

export const toJson = (edge: Relationship): JsonRelationship => ({
  resource: { objectType: edge.resourceType, objectId: edge.resourceId },
  relation: edge.relation,
  subject: { object: { objectType: edge.subject.type, objectId: edge.subject.id } },
});

export function fromJson(json: JsonRelationship): Relationship {
  return {
    resourceType: json.resource.objectType as Relationship["resourceType"],
    resourceId: json.resource.objectId,
    relation: json.relation,
    subject: { type: json.subject.object.objectType, id: json.subject.object.objectId },
  };
}

export const edgeKey = (edge: Relationship) =>
  `${edge.resourceType}:${edge.resourceId}#${edge.relation}@${edge.subject.type}:${edge.subject.id}`;

/** SpiceDB rejects the same relationship twice in one request, even as TOUCH. */
export function distinctEdges(edges: Relationship[]): Relationship[] {
  return [...new Map(edges.map((edge) => [edgeKey(edge), edge])).values()];
}

const resourceTypeOf = (edges: Relationship[]) => edges[0]?.resourceType ?? "none";

/**
 * Writes edges (TOUCH, idempotent), every new owner edge guarded by a MUST_NOT_MATCH
 * precondition on the resource's owners, so a replay can never add a second owner. Returns the
 * zedtoken of the last write.
 */
export async function registerEdges(
  client: SpiceDbClient,
  edges: Relationship[],
): Promise<string | undefined> {
  let token: string | undefined;
  const unique = distinctEdges(edges);
  for (let start = 0; start < unique.length; start += maxUpdatesPerWrite) {
    const chunk = unique.slice(start, start + maxUpdatesPerWrite);
    const preconditions = chunk
      .filter((edge) => edge.relation === "owner")
      .map((edge) => ({
        operation: "OPERATION_MUST_NOT_MATCH",
        filter: {
          resourceType: edge.resourceType,
          optionalResourceId: edge.resourceId,
          optionalRelation: "owner",
        },
      }));
    const answer = await client.call<{ writtenAt?: { token?: string } }>(
      "/v1/relationships/write",
      {
        optionalPreconditions: preconditions,
        updates: chunk.map((edge) => ({ operation: "OPERATION_TOUCH", relationship: toJson(edge) })),
      },
      { op: "register", resourceType: resourceTypeOf(chunk) },
    );
    token = answer.writtenAt?.token ?? token;
  }
  return token;
}

/** Adds and removes single edges (grants) in one write per 1,000; returns the last zedtoken. */
export async function changeEdges(
  client: SpiceDbClient,
  add: Relationship[],
  remove: Relationship[],
): Promise<string | undefined> {
  let token: string | undefined;
  const updates = [
    ...distinctEdges(add).map((edge) => ({ operation: "OPERATION_TOUCH", relationship: toJson(edge) })),
    ...distinctEdges(remove).map((edge) => ({ operation: "OPERATION_DELETE", relationship: toJson(edge) })),
  ];
  for (let start = 0; start < updates.length; start += maxUpdatesPerWrite) {
    const answer = await client.call<{ writtenAt?: { token?: string } }>(
      "/v1/relationships/write",
      { updates: updates.slice(start, start + maxUpdatesPerWrite) },
      { op: "register", resourceType: resourceTypeOf([...add, ...remove]) },
    );
    token = answer.writtenAt?.token ?? token;
  }
  return token;
}

/** What is left of a piece of work a failure or a spent budget interrupted. */
export interface Remainder<T> {
  remaining: T[];
  /** The failure that stopped it (a BudgetSpentError when the budget ran out mid-call). */
  error?: unknown;
}

/** Whether a remainder stopped because of SpiceDB (or the network), not because the budget ran out. */
export const failedOnSpiceDb = (outcome: Remainder<unknown>) =>
  outcome.error !== undefined && !(outcome.error instanceof BudgetSpentError);

/** Whether a budgeted client can still pay for `calls` more calls. */
const affordable = (client: SpiceDbClient, calls: number) =>
  !client.budget || (!client.budget.exhausted() && client.budget.subrequestsLeft() >= calls);

/**
 * Deletes exactly these edges (a failed create's compensation), 1,000 per write; deleting a
 * missing edge is a no-op. Stops before a write the client's budget cannot pay for.
 */
export async function removeEdgesWithin(
  client: SpiceDbClient,
  edges: Relationship[],
): Promise<Remainder<Relationship>> {
  const unique = distinctEdges(edges);
  for (let start = 0; start < unique.length; start += maxUpdatesPerWrite) {
    const chunk = unique.slice(start, start + maxUpdatesPerWrite);
    if (!affordable(client, 1)) return { remaining: unique.slice(start), error: new BudgetSpentError() };
    try {
      await client.call(
        "/v1/relationships/write",
        { updates: chunk.map((edge) => ({ operation: "OPERATION_DELETE", relationship: toJson(edge) })) },
        { op: "deregister", resourceType: resourceTypeOf(chunk) },
      );
    } catch (error) {
      return { remaining: unique.slice(start), error };
    }
  }
  return { remaining: [] };
}

export async function removeEdges(client: SpiceDbClient, edges: Relationship[]): Promise<void> {
  const { error } = await removeEdgesWithin(client, edges);
  if (error !== undefined) throw error;
}

/**
 * The filtered deletes that remove every edge naming an object: as resource when its type has
 * relations, as subject when the schema ever makes its type a subject. A task, schedule or api_key
 * is one call; an agent or account two; a user or service account one.
 */
export function deregistrationCalls(type: string): number {
  return (typesWithRelations.has(type) ? 1 : 0) + (subjectTypes.has(type) ? 1 : 0);
}

function deregistrationFilters(object: ObjectRef) {
  const filters: Record<string, unknown>[] = [];
  if (typesWithRelations.has(object.type)) {
    filters.push({ resourceType: object.type, optionalResourceId: object.id });
  }
  if (subjectTypes.has(object.type)) {
    filters.push({ optionalSubjectFilter: { subjectType: object.type, optionalSubjectId: object.id } });
  }
  return filters;
}

/**
 * Removes every edge naming each object, up to six objects at a time. With a budgeted client no
 * object is started whose calls the budget can no longer cover (so none is left half done by
 * design); returns the objects still to do and the first failure.
 */
export async function deregisterWithin(
  client: SpiceDbClient,
  objects: ObjectRef[],
): Promise<Remainder<ObjectRef>> {
  // Calls promised to objects in flight and not made yet: the budget must cover them too.
  let promised = 0;
  const outcome = await forEachBounded(
    objects,
    async (object) => {
      const filters = deregistrationFilters(object);
      let unmade = filters.length;
      try {
        for (const relationshipFilter of filters) {
          // The call's first attempt spends from the budget as it starts: the promise is kept.
          unmade--;
          promised--;
          await client.call(
            "/v1/relationships/delete",
            { relationshipFilter },
            { op: "deregister", resourceType: object.type },
          );
        }
      } finally {
        promised -= unmade;
      }
    },
    {
      mayStart: (object) => {
        const calls = deregistrationCalls(object.type);
        if (!affordable(client, promised + calls)) return false;
        promised += calls;
        return true;
      },
    },
  );
  const done = new Set(outcome.done);
  const remaining = objects.filter((object) => !done.has(object));
  if (remaining.length > 0 && outcome.error === undefined) {
    return { remaining, error: new BudgetSpentError() };
  }
  return { remaining, ...(outcome.error === undefined ? {} : { error: outcome.error }) };
}

/** Every edge naming the objects, as resource and as subject; throws the first failure. */
export async function deregisterObjects(client: SpiceDbClient, objects: ObjectRef[]): Promise<void> {
  const { error } = await deregisterWithin(client, objects);
  if (error !== undefined) throw error;
}
