// Backend `spicedb` (DESIGN §6): the graph lives in SpiceDB, so there is no shared transaction.
// Create registers first and persists second; whatever a request wrote and did not keep is
// removed again, and a removal that fails becomes an outbox row. Delete persists first and
// deregisters second, best-effort, with the same outbox behind it.
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { ServiceUnavailableError } from "../../errors/domain-error.ts";
import type { Logger } from "../../observability/logger.ts";
import { describeError } from "../../observability/logger.ts";
import { type Authorizer, outboxBatchSize } from "../authorizer.ts";
import type { ObjectRef, Relationship } from "../model.ts";
import {
  deleteEntry,
  enqueueDeregistration,
  enqueueEdgeRemoval,
  lockDueEntries,
  type OutboxEntry,
  recordFailedAttempt,
} from "../outbox-repo.ts";
import { principalSubject } from "../subjects.ts";
import { type SpiceDbClient, SpiceDbError } from "./client.ts";
import {
  changeEdges,
  checkBulk,
  deregisterObjects,
  lookupResources,
  maxUpdatesPerWrite,
  registerEdges,
  removeEdges,
} from "./relationships.ts";
import { sweepOrphanEdges } from "./sweep.ts";
import { deleteTokens, findToken, storeTokens } from "./token-repo.ts";

/** Up to this many known ids are checked one by one (in one bulk call) instead of looked up. */
export const maxBulkCheck = 100;

export interface SpiceDbAuthorizerDeps {
  client: SpiceDbClient;
  /** The database for outbox rows, written apart from the failed operation. */
  db: () => Database;
  logger: Logger;
}

const resourcesOf = (edges: Relationship[]) => [
  ...new Map(
    edges.map((edge) => [
      `${edge.resourceType}:${edge.resourceId}`,
      { type: edge.resourceType, id: edge.resourceId },
    ]),
  ).values(),
];

/** SpiceDB failing transiently (after the inline retries) is a 503; anything else is ours to fix. */
function unavailableOr(error: unknown): unknown {
  return error instanceof SpiceDbError && (error.transient || error.code === 0)
    ? new ServiceUnavailableError("authz_unavailable", error)
    : error;
}

export function createSpiceDbAuthorizer(deps: SpiceDbAuthorizerDeps): Authorizer {
  const { client, logger } = deps;

  /** Removes edges a request wrote but did not keep; if that fails, the outbox will. */
  async function compensate(edges: Relationship[], cause: unknown): Promise<void> {
    if (edges.length === 0) return;
    try {
      await removeEdges(client, edges);
    } catch (error) {
      logger.log("warn", "authz.compensation_failed", { edges: edges.length, ...describeError(error) });
      try {
        await enqueueEdgeRemoval(deps.db(), edges, error);
      } catch (outboxError) {
        // The reconciler's sweep still finds edges of resources that never got a row.
        logger.log("error", "authz.outbox_write_failed", {
          cause: describeError(cause),
          ...describeError(outboxError),
        });
      }
    }
  }

  async function deregisterOrEnqueue(objects: ObjectRef[]): Promise<void> {
    try {
      await deregisterObjects(client, objects);
    } catch (error) {
      logger.log("warn", "authz.deregister_failed", { objects: objects.length, ...describeError(error) });
      for (const [type, group] of Map.groupBy(objects, (object) => object.type)) {
        await enqueueDeregistration(
          deps.db(),
          type,
          group.map((object) => object.id),
          error,
        ).catch((outboxError) =>
          logger.log("error", "authz.outbox_write_failed", {
            object_type: type,
            ...describeError(outboxError),
          }),
        );
      }
    }
  }

  async function finish(entry: OutboxEntry): Promise<void> {
    if (entry.operation === "remove_edges") await removeEdges(client, entry.edges ?? []);
    else
      await deregisterObjects(
        client,
        entry.object_ids.map((id) => ({ type: entry.object_type, id }) as ObjectRef),
      );
  }

  return {
    async createRegistered(edges, write) {
      if (edges.length === 0) return write(async () => {});
      let token: string | undefined;
      try {
        token = await registerEdges(client, edges);
      } catch (error) {
        // A write SpiceDB answered with an error wrote nothing (writes are atomic); one that got
        // no answer, or a later chunk of a large registration, may have left edges behind.
        const unanswered = !(error instanceof SpiceDbError) || error.httpStatus === 0;
        if (unanswered || edges.length > maxUpdatesPerWrite) await compensate(edges, error);
        throw unavailableOr(error);
      }
      let kept: Relationship[] | undefined;
      let result: Awaited<ReturnType<typeof write>>;
      try {
        result = await write(async (tx, keep) => {
          kept = keep ? edges.filter(keep) : edges;
          // The row and the zedtoken of its registration commit together.
          if (token) await storeTokens(tx, resourcesOf(kept), token);
        });
      } catch (error) {
        await compensate(edges, error);
        throw error;
      }
      // An Idempotency-Key replay never reaches the graph step: none of these edges are used.
      const used = new Set(kept ?? []);
      await compensate(
        edges.filter((edge) => !used.has(edge)),
        undefined,
      );
      return result;
    },

    async deleteRegistered(write) {
      const objects: ObjectRef[] = [];
      const result = await write(async (tx, gone) => {
        objects.push(...gone);
        await deleteTokens(tx, gone);
      });
      if (objects.length > 0) await deregisterOrEnqueue(objects);
      return result;
    },

    async writeEdges(tx, add, remove) {
      let token: string | undefined;
      try {
        token = await changeEdges(client, add, remove);
      } catch (error) {
        throw unavailableOr(error);
      }
      // A grant or revocation is the resource's newest write: its checks must see it.
      if (token) await storeTokens(tx, resourcesOf([...add, ...remove]), token);
    },

    async predicate(principal, type, permission, id, only): Promise<SQL> {
      const subject = principalSubject(principal);
      const known = only ? [...new Set(only)] : [];
      let ids: string[];
      try {
        if (known.length > 0 && known.length <= maxBulkCheck) {
          // One resource: at least as fresh as its last write. Several, or a list: fully consistent.
          const token = known.length === 1 ? await findToken(deps.db(), type, known[0] as string) : undefined;
          ids = await checkBulk(client, type, permission, subject, known, token);
        } else {
          ids = await lookupResources(client, type, permission, subject);
        }
      } catch (error) {
        throw unavailableOr(error);
      }
      // One JSON parameter however many ids: the statement's text (and its cached plan) stays the same.
      return ids.length === 0
        ? sql`FALSE`
        : sql`(${id} IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)))`;
    },

    reconcile: (db, now) => sweepOrphanEdges(client, db, now),

    async drainOutbox(db, limit = outboxBatchSize) {
      return db.transaction(async (tx) => {
        const counts = { completed: 0, failed: 0 };
        // In order per object: once an entry fails, later entries naming the same objects wait.
        const blocked = new Set<string>();
        for (const entry of await lockDueEntries(tx, limit)) {
          const keys = entry.object_ids.map((id) => `${entry.object_type}:${id}`);
          if (keys.some((key) => blocked.has(key))) continue;
          try {
            await finish(entry);
            await deleteEntry(tx, entry.id);
            counts.completed++;
          } catch (error) {
            for (const key of keys) blocked.add(key);
            await recordFailedAttempt(tx, entry.id, error);
            counts.failed++;
          }
        }
        return counts;
      });
    },
  };
}
