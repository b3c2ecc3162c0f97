// The outbox's work on the spicedb backend (ADR 0018): an entry is done as far as the job's
// budget goes, outside any transaction, and settled in a statement of its own.
import type { Budget } from "../../cron/budget.ts";
import type { Database } from "../../db/client.ts";
import type { Logger } from "../../observability/logger.ts";
import { describeError } from "../../observability/logger.ts";
import type { OutboxCounts } from "../authorizer.ts";
import type { ObjectRef, Relationship } from "../model.ts";
import {
  claimDueEntries,
  claimLeaseSeconds,
  deleteEntry,
  keepRemainder,
  type OutboxEntry,
  recordFailedAttempt,
  releaseEntries,
} from "../outbox-repo.ts";
import type { SpiceDbClient } from "./client.ts";
import { deregisterWithin, failedOnSpiceDb, type Remainder, removeEdgesWithin } from "./relationships.ts";

/** Does what an outbox entry asks as far as the client's budget goes; returns what is left. */
export async function finishWithin(metered: SpiceDbClient, entry: OutboxEntry): Promise<Remainder<string>> {
  if (entry.operation === "remove_edges") {
    const outcome = await removeEdgesWithin(metered, entry.edges ?? []);
    return { ...outcome, remaining: outcome.remaining.map((edge) => JSON.stringify(edge)) };
  }
  const outcome = await deregisterWithin(
    metered,
    entry.object_ids.map((id) => ({ type: entry.object_type, id }) as ObjectRef),
  );
  return { ...outcome, remaining: outcome.remaining.map((object) => object.id) };
}

/** Records an entry's outcome: done (deleted), failed (backs off), or the budget's remainder kept. */
export async function settleEntry(
  db: Database,
  entry: OutboxEntry,
  outcome: Remainder<string>,
  logger: Logger,
) {
  if (outcome.remaining.length === 0) {
    await deleteEntry(db, entry.id);
    return "completed" as const;
  }
  const edges =
    entry.operation === "remove_edges"
      ? outcome.remaining.map((edge) => JSON.parse(edge) as Relationship)
      : null;
  const remainder = {
    objectIds: edges ? [...new Set(edges.map((edge) => edge.resourceId))] : outcome.remaining,
    edges,
  };
  if (failedOnSpiceDb(outcome)) {
    logger.log("warn", "authz.outbox_attempt_failed", {
      entry: entry.id,
      left: remainder.objectIds.length,
      ...describeError(outcome.error),
    });
    await recordFailedAttempt(db, entry.id, outcome.error, remainder);
    return "failed" as const;
  }
  await keepRemainder(db, entry.id, remainder);
  return "deferred" as const;
}

/**
 * Claims due entries in one statement, then works through them with the budgeted client; the
 * entries the budget never reached are given back, due at once.
 */
export async function drainWithin(
  metered: SpiceDbClient,
  db: Database,
  budget: Budget,
  limit: number,
  logger: Logger,
): Promise<OutboxCounts> {
  const counts: OutboxCounts = { completed: 0, failed: 0, deferred: 0 };
  if (budget.exhausted()) return counts;
  const untouched: number[] = [];
  for (const entry of await claimDueEntries(db, limit, claimLeaseSeconds)) {
    if (budget.exhausted()) {
      untouched.push(entry.id);
      continue;
    }
    counts[await settleEntry(db, entry, await finishWithin(metered, entry), logger)]++;
  }
  await releaseEntries(db, untouched);
  counts.deferred += untouched.length;
  return counts;
}
