// Takes back leases whose workers stopped heartbeating (DESIGN §8 step 1). Set-based batches
// that skip rows another tick holds, so two overlapping ticks reclaim each lease once.
import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";

export const reclaimBatchSize = 1000;
export const reclaimMaxStatements = 20;

type BatchCounts = { reclaimed: number; requeued: number; compensating: number; quarantined: number };

// Back to the queue while attempts remain; then compensation if steps are pending; else an operator.
const nextState = sql`CASE
  WHEN t.state = 'working' AND t.attempts < t.max_attempts THEN 'submitted'::task_state
  WHEN t.state = 'working' AND EXISTS (SELECT 1 FROM task_compensations c WHERE c.task_id = t.id AND c.status = 'pending')
    THEN 'compensating'::task_state
  WHEN t.state = 'working' THEN 'quarantined'::task_state
  WHEN t.compensation_attempts < t.max_attempts THEN 'compensating'::task_state
  ELSE 'quarantined'::task_state END`;

export async function reclaimBatch(db: Executor, limit = reclaimBatchSize): Promise<BatchCounts> {
  const result = await db.execute<BatchCounts>(sql`
    WITH expired AS (
      SELECT id, state FROM tasks
      WHERE state IN ('working', 'compensating') AND lease_expires_at <= now()
      ORDER BY lease_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), updated AS (
      UPDATE tasks AS t SET state = ${nextState}, lease_owner = NULL, lease_expires_at = NULL,
        finished_at = CASE WHEN ${nextState} = 'quarantined' THEN now() END, updated_at = now()
      FROM expired WHERE t.id = expired.id
      RETURNING t.id, t.account_id, t.state, expired.state AS previous_state, t.lease_epoch
    ), events AS (
      INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch)
      SELECT account_id, id, 'lease_expired', previous_state, state, 'system', 'reclaimer', lease_epoch FROM updated
    )
    SELECT count(*)::int AS reclaimed,
           count(*) FILTER (WHERE state = 'submitted')::int AS requeued,
           count(*) FILTER (WHERE state = 'compensating')::int AS compensating,
           count(*) FILTER (WHERE state = 'quarantined')::int AS quarantined
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
