// Purges finished tasks older than RETENTION_DAYS (DESIGN §8 step 4), with their events,
// compensation steps and authorization edges, in bounded batches within the job's budget.
import { sql } from "drizzle-orm";
import type { Authorizer } from "../authz/authorizer.ts";
import type { Budget } from "../cron/budget.ts";
import type { Database, Executor } from "../db/client.ts";
import { terminalStates } from "../lifecycle/task-lifecycle.ts";

export const retentionBatchSize = 1000;
export const retentionMaxBatches = 5;

async function deleteFinishedBatch(db: Executor, days: number, limit: number): Promise<string[]> {
  const terminal = sql.join(
    terminalStates.map((state) => sql`${state}::task_state`),
    sql`, `,
  );
  const result = await db.execute<{ id: string }>(sql`
    DELETE FROM tasks WHERE id IN (
      SELECT id FROM tasks
      WHERE finished_at < now() - make_interval(days => ${days}::int) AND state IN (${terminal})
      ORDER BY finished_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ) RETURNING id`);
  return result.rows.map((row) => row.id);
}

/**
 * Each batch deletes only as many tasks as the budget can still deregister (a backend outside the
 * database pays a call per task; the postgres backend nothing), and the authorizer queues their
 * deregistration in the delete's own transaction: no row goes whose edges could be forgotten.
 */
export async function purgeFinishedTasks(
  deps: { db: Database; authorizer: Authorizer; budget: Budget },
  retentionDays: number,
  limit = retentionBatchSize,
) {
  const cost = deps.authorizer.deregistrationCost("task");
  let purged = 0;
  let batches = 0;
  while (batches < retentionMaxBatches && !deps.budget.exhausted()) {
    const take = cost === 0 ? limit : Math.min(limit, Math.floor(deps.budget.subrequestsLeft() / cost));
    if (take <= 0) break;
    const ids = await deps.authorizer.deleteRegistered(
      (deregister) =>
        deps.db.transaction(async (tx) => {
          const deleted = await deleteFinishedBatch(tx, retentionDays, take);
          await deregister(
            tx,
            deleted.map((id) => ({ type: "task" as const, id })),
          );
          return deleted;
        }),
      deps.budget,
    );
    batches++;
    purged += ids.length;
    if (ids.length < take) break;
  }
  return { purged, batches };
}
