// Backend `spicedb` (DESIGN §6): the graph lives in SpiceDB, so there is no shared transaction.
// Create registers first, persists second and settles third; whatever a request wrote and did not keep is
// removed again, and a removal that fails becomes an outbox row. Delete persists first and
// deregisters second, best-effort, with the same outbox behind it.
import { type SQL, sql } from "drizzle-orm";
import type { Budget } from "../../cron/budget.ts";
import type { Database } from "../../db/client.ts";
import { ServiceUnavailableError } from "../../errors/domain-error.ts";
import type { Logger } from "../../observability/logger.ts";
import { describeError } from "../../observability/logger.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { type Authorizer, outboxBatchSize, type Registration } from "../authorizer.ts";
import { type ObjectRef, type Relationship, resourcesOf } from "../model.ts";
import {
  claimLeaseSeconds,
  enqueueClaimedDeregistration,
  enqueueDeregistration,
  enqueueEdgeRemoval,
  type OutboxEntry,
} from "../outbox-repo.ts";
import { principalSubject } from "../subjects.ts";
import { BudgetSpentError, type SpiceDbClient, SpiceDbError } from "./client.ts";
import { drainWithin, finishWithin, settleEntry } from "./outbox-work.ts";
import { checkBulk, lookupResources } from "./permissions.ts";
import {
  changeEdges,
  deregisterObjects,
  deregistrationCalls,
  failedOnSpiceDb,
  maxUpdatesPerWrite,
  registerEdges,
  removeEdges,
} from "./relationships.ts";
import { sweepOrphanEdges } from "./sweep.ts";
import { deleteTokens, findToken, storeTokens } from "./token-repo.ts";

/** Up to this many known ids are checked (bulk calls of 1,000) instead of looked up. */
export const maxBulkCheck = 1000;
/**
 * LookupResources pages one list filter reads before it counts as over the cap (ADR 0018): ten
 * calls, 10,000 ids. Past it the lookup still completes, so the list stays exact, and
 * `authz.lookup_over_cap` says a list should check its candidate rows instead.
 */
export const lookupPageCap = 10;

export interface SpiceDbAuthorizerDeps {
  client: SpiceDbClient;
  /** The database for outbox rows, written apart from the failed operation. */
  db: () => Database;
  logger: Logger;
  metrics?: Metrics;
  /** Lookup page size (tests shrink it to cross pages with few resources). */
  lookupPageSize?: number;
}

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

  /**
   * A cron delete (retention): the deregistration is queued in the delete's own transaction,
   * then done right after within the budget; what the budget leaves stays queued for the drain.
   * A SpiceDB failure is recorded on the entry and thrown, so the job stops.
   */
  async function deleteWithinBudget<T>(write: Parameters<Authorizer["deleteRegistered"]>[0], budget: Budget) {
    const queued: OutboxEntry[] = [];
    const result = (await write(async (tx, gone) => {
      await deleteTokens(tx, gone);
      for (const [type, group] of Map.groupBy(gone, (object) => object.type)) {
        const ids = group.map((object) => object.id);
        const id = await enqueueClaimedDeregistration(tx, type, ids, claimLeaseSeconds);
        queued.push({
          id,
          operation: "deregister",
          object_type: type,
          object_ids: ids,
          edges: null,
          attempts: 0,
        });
      }
    })) as T;
    const metered = client.withBudget(budget);
    for (const entry of queued) {
      const outcome = await finishWithin(metered, entry);
      await settleEntry(deps.db(), entry, outcome, logger);
      if (failedOnSpiceDb(outcome)) throw unavailableOr(outcome.error);
    }
    return result;
  }

  /** Every id a list may show, page by page; past the cap it is counted, never truncated. */
  async function lookupAll(type: string, permission: string, subject: { type: string; id: string }) {
    const pageSize = deps.lookupPageSize;
    const capped = await lookupResources(client, type, permission, subject, {
      pageSize,
      maxPages: lookupPageCap,
    });
    if (!capped.next) return capped.ids;
    deps.metrics?.count("authz.lookup_over_cap", { resource_type: type, permission });
    const rest = await lookupResources(client, type, permission, subject, { pageSize, from: capped.next });
    return [...capped.ids, ...rest.ids];
  }

  return {
    async register(edges): Promise<Registration> {
      if (edges.length === 0) return { persist: async () => {}, settle: async () => {} };
      let token: string | undefined;
      try {
        token = await registerEdges(client, edges);
      } catch (error) {
        // A write SpiceDB answered with an error wrote nothing (writes are atomic); one that got
        // no answer, or a later chunk of a large registration, may have left edges behind.
        // A spent budget stops a call before it is sent.
        const unanswered =
          !(error instanceof BudgetSpentError) &&
          (!(error instanceof SpiceDbError) || error.httpStatus === 0);
        if (unanswered || edges.length > maxUpdatesPerWrite) await compensate(edges, error);
        throw unavailableOr(error);
      }
      let kept: Relationship[] | undefined;
      return {
        async persist(tx, keep) {
          kept = keep ? edges.filter(keep) : edges;
          // The row and the zedtoken of its registration commit together.
          if (token) await storeTokens(tx, resourcesOf(kept), token);
        },
        async settle(committed, cause) {
          if (!committed) return compensate(edges, cause);
          // An Idempotency-Key replay never persists: none of these edges are used.
          const used = new Set(kept ?? []);
          await compensate(
            edges.filter((edge) => !used.has(edge)),
            undefined,
          );
        },
      };
    },

    async deleteRegistered(write, budget) {
      if (budget) return deleteWithinBudget(write, budget);
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
          ids = await lookupAll(type, permission, subject);
        }
      } catch (error) {
        throw unavailableOr(error);
      }
      // One JSON parameter however many ids: the statement's text (and its cached plan) stays the same.
      return ids.length === 0
        ? sql`FALSE`
        : sql`(${id} IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)))`;
    },

    deregistrationCost: (type) => deregistrationCalls(type),

    withBudget: (budget) => createSpiceDbAuthorizer({ ...deps, client: client.withBudget(budget) }),

    reconcile: (db, now, budget) => sweepOrphanEdges(client.withBudget(budget), db, now),

    drainOutbox: (db, budget, limit = outboxBatchSize) =>
      drainWithin(client.withBudget(budget), db, budget, limit, logger),
  };
}
