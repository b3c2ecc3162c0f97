// Our relationships in SpiceDB's JSON shape, and the calls the backend makes with them:
// duplicates removed, at most 1,000 updates per write.
import type { ObjectRef, Relationship } from "../model.ts";
import { type SpiceDbClient, SpiceDbError } from "./client.ts";

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

/** Deletes exactly these edges (a failed create's compensation). Deleting a missing edge is a no-op. */
export async function removeEdges(client: SpiceDbClient, edges: Relationship[]): Promise<void> {
  const unique = distinctEdges(edges);
  for (let start = 0; start < unique.length; start += maxUpdatesPerWrite) {
    const chunk = unique.slice(start, start + maxUpdatesPerWrite);
    await client.call(
      "/v1/relationships/write",
      { updates: chunk.map((edge) => ({ operation: "OPERATION_DELETE", relationship: toJson(edge) })) },
      { op: "deregister", resourceType: resourceTypeOf(chunk) },
    );
  }
}

/** Every edge naming the objects, as resource and as subject: two filtered deletes per object. */
export async function deregisterObjects(client: SpiceDbClient, objects: ObjectRef[]): Promise<void> {
  for (const object of objects) {
    const tags = { op: "deregister" as const, resourceType: object.type };
    const asSubject = { optionalSubjectFilter: { subjectType: object.type, optionalSubjectId: object.id } };
    if (object.type !== "user" && object.type !== "service_account") {
      await client.call(
        "/v1/relationships/delete",
        { relationshipFilter: { resourceType: object.type, optionalResourceId: object.id } },
        tags,
      );
    }
    await client.call("/v1/relationships/delete", { relationshipFilter: asSubject }, tags);
  }
}

/** Ids of `type` on which the subject holds `permission`, fully consistent. */
export async function lookupResources(
  client: SpiceDbClient,
  type: string,
  permission: string,
  subject: { type: string; id: string },
): Promise<string[]> {
  const results = await client.call<{ resourceObjectId: string; permissionship?: string }[]>(
    "/v1/permissions/resources",
    {
      consistency: { fullyConsistent: true },
      resourceObjectType: type,
      permission,
      subject: { object: { objectType: subject.type, objectId: subject.id } },
    },
    { op: "check", resourceType: type },
    true,
  );
  return results
    .filter((result) => result.permissionship !== "LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION")
    .map((result) => result.resourceObjectId);
}

/** SpiceDB's consistency: at least as fresh as a stored zedtoken, or fully consistent. */
export const consistency = (token: string | undefined) =>
  token ? { atLeastAsFresh: { token } } : { fullyConsistent: true };

/** Which of `ids` the subject holds `permission` on, in one bulk check. */
export async function checkBulk(
  client: SpiceDbClient,
  type: string,
  permission: string,
  subject: { type: string; id: string },
  ids: string[],
  token?: string,
): Promise<string[]> {
  const answer = await client.call<{
    pairs: { item?: { permissionship?: string }; error?: { code?: number; message?: string } }[];
  }>(
    "/v1/permissions/checkbulk",
    {
      consistency: consistency(token),
      items: ids.map((id) => ({
        resource: { objectType: type, objectId: id },
        permission,
        subject: { object: { objectType: subject.type, objectId: subject.id } },
      })),
    },
    { op: "check", resourceType: type },
  );
  return ids.filter((_, index) => {
    const pair = answer.pairs[index];
    if (pair?.error) {
      const code = pair.error.code ?? 2;
      throw new SpiceDbError(code, 200, pair.error.message ?? "check failed", [4, 8, 10, 14].includes(code));
    }
    return pair?.item?.permissionship === "PERMISSIONSHIP_HAS_PERMISSION";
  });
}
