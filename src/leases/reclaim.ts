// Takes back leases whose workers stopped heartbeating (DESIGN §8 step 1). Set-based batches
// that skip rows another tick holds, so two overlapping ticks reclaim each lease once.
import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { nextStateSql, stateIn, stateSql } from "../lifecycle/lifecycle-sql.ts";
import { fromStates, taskState } from "../lifecycle/task-lifecycle.ts";
import { eventInsert } from "../tasks/event-insert.ts";
import { hasPendingSteps } from "./transitions.ts";

export const reclaimBatchSize = 1000;
export const reclaimMaxStatements = 20;

type BatchCounts = { reclaimed: number; requeued: number; compensating: number; quarantined: number };

// Back to the queue while attempts remain; then compensation if steps are pending; else an operator.
const nextState = nextStateSql("reclaim", sql`t.state`, {
  attempts_left: sql`t.attempts < t.max_attempts`,
  pending_steps: hasPendingSteps,
  compensation_attempts_left: sql`t.compensation_attempts < t.max_attempts`,
});
const quarantined = stateSql[taskState.quarantined];

export async function reclaimBatch(db: Executor, limit = reclaimBatchSize): Promise<BatchCounts> {
  const result = await db.execute<BatchCounts>(sql`
    WITH expired AS (
      SELECT id, state FROM tasks
      WHERE ${stateIn(sql`state`, fromStates("reclaim"))} AND lease_expires_at <= now()
      ORDER BY lease_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), updated AS (
      UPDATE tasks AS t SET state = ${nextState}, lease_owner = NULL, lease_expires_at = NULL,
        finished_at = CASE WHEN ${nextState} = ${quarantined} THEN now() END, updated_at = now()
      FROM expired WHERE t.id = expired.id
      RETURNING t.id, t.account_id, t.state, expired.state AS previous_state, t.lease_epoch
    ), events AS (${eventInsert({ from: sql`updated`, type: "reclaim", actor: { type: "system", id: "reclaimer" } })})
    SELECT count(*)::int AS reclaimed,
           count(*) FILTER (WHERE state = ${stateSql[taskState.submitted]})::int AS requeued,
           count(*) FILTER (WHERE state = ${stateSql[taskState.compensating]})::int AS compensating,
           count(*) FILTER (WHERE state = ${quarantined})::int AS quarantined
    FROM updated`);
  return result.rows[0] as BatchCounts;
}

/** Up to 20 batches of 1,000; stops early when a batch comes back short. */
export async function reclaimExpiredLeases(db: Executor, limit = reclaimBatchSize) {
  const totals = { reclaimed: 0, requeued: 0, compensating: 0, quarantined: 0, statements: 0 };
  for (let i = 0; i < reclaimMaxStatements; i++) {
    const batch = await reclaimBatch(db, limit);
    totals.statements++;
    totals.reclaimed += batch.reclaimed;
    totals.requeued += batch.requeued;
    totals.compensating += batch.compensating;
    totals.quarantined += batch.quarantined;
    if (batch.reclaimed < limit) break;
  }
  return totals;
}
