// Permission questions to SpiceDB: which of these ids (bulk checks), and which ids at all (paged
// lookups).
import { type SpiceDbClient, SpiceDbError } from "./client.ts";

/** SpiceDB's default (and maximum) `optionalLimit` for LookupResources and ReadRelationships. */
export const maxPageSize = 1000;
/** Items per CheckBulkPermissions call, like the 1,000 of a write or a page. */
export const maxBulkCheckItems = 1000;

/** Ids found by a paged lookup; `next` (a cursor) is set when it stopped at `maxPages` with more to read. */
export interface LookupResult {
  ids: string[];
  next?: string;
}

/**
 * Ids of `type` on which the subject holds `permission`, read page by page (`pageSize` per call,
 * at most `maxPages` calls, from cursor `from` if given), fully consistent. SpiceDB requires the
 * same arguments with a cursor, and the cursor carries the first page's revision, so the pages
 * fit together.
 */
export async function lookupResources(
  client: SpiceDbClient,
  type: string,
  permission: string,
  subject: { type: string; id: string },
  options: { pageSize?: number | undefined; maxPages?: number; from?: string | undefined } = {},
): Promise<LookupResult> {
  const pageSize = Math.min(options.pageSize ?? maxPageSize, maxPageSize);
  const maxPages = options.maxPages ?? Number.POSITIVE_INFINITY;
  const ids: string[] = [];
  let cursor = options.from;
  for (let page = 0; page < maxPages; page++) {
    const results = await client.call<
      { resourceObjectId: string; permissionship?: string; afterResultCursor?: { token?: string } }[]
    >(
      "/v1/permissions/resources",
      {
        consistency: { fullyConsistent: true },
        resourceObjectType: type,
        permission,
        subject: { object: { objectType: subject.type, objectId: subject.id } },
        optionalLimit: pageSize,
        ...(cursor ? { optionalCursor: { token: cursor } } : {}),
      },
      { op: "check", resourceType: type },
      true,
    );
    for (const result of results) {
      if (result.permissionship !== "LOOKUP_PERMISSIONSHIP_CONDITIONAL_PERMISSION") {
        ids.push(result.resourceObjectId);
      }
    }
    cursor = results.at(-1)?.afterResultCursor?.token;
    if (results.length < pageSize || !cursor) return { ids };
  }
  return cursor ? { ids, next: cursor } : { ids };
}

/** SpiceDB's consistency: at least as fresh as a stored zedtoken, or fully consistent. */
export const consistency = (token: string | undefined) =>
  token ? { atLeastAsFresh: { token } } : { fullyConsistent: true };

/** Which of `ids` the subject holds `permission` on: one bulk check per 1,000 ids. */
export async function checkBulk(
  client: SpiceDbClient,
  type: string,
  permission: string,
  subject: { type: string; id: string },
  ids: string[],
  token?: string,
): Promise<string[]> {
  const allowed: string[] = [];
  for (let start = 0; start < ids.length; start += maxBulkCheckItems) {
    const chunk = ids.slice(start, start + maxBulkCheckItems);
    allowed.push(...(await checkChunk(client, type, permission, subject, chunk, token)));
  }
  return allowed;
}

async function checkChunk(
  client: SpiceDbClient,
  type: string,
  permission: string,
  subject: { type: string; id: string },
  ids: string[],
  token: string | undefined,
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
