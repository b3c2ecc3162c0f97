import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { type TaskRecord, taskColumns } from "./record.ts";

export type StepRecord = {
  task_id: string;
  seq: number;
  kind: string;
  target: string;
  payload: unknown;
  status: string;
};

interface Fenced {
  accountId: string;
  id: string;
  workerId: string;
  epoch: number;
  allowed: SQL;
  actor: { type: string; id: string };
}

const fencedTask = (f: Fenced, state: string) => sql`
  SELECT id FROM tasks
  WHERE id = ${f.id} AND account_id = ${f.accountId} AND state = ${state}::task_state AND ${f.allowed}
    AND lease_owner = ${f.workerId} AND lease_epoch = ${f.epoch} AND lease_expires_at > now()
  FOR UPDATE`;

const event = (type: string, f: Fenced, data: SQL) => sql`
  INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data)
  SELECT account_id, id, ${type}, previous_state, state, ${f.actor.type}, ${f.actor.id}, lease_epoch, ${data}
  FROM updated`;

/** Appends a step; its number comes from the locked task row, so concurrent appends never collide. */
export async function appendStep(
  db: Executor,
  f: Fenced,
  step: { kind: string; target: string; payload?: unknown },
) {
  const result = await db.execute<StepRecord>(sql`
    WITH target AS (${fencedTask(f, "working")}), updated AS (
      UPDATE tasks AS t SET compensation_seq = t.compensation_seq + 1, updated_at = now()
      FROM target WHERE t.id = target.id
      RETURNING t.id, t.account_id, t.state, t.state AS previous_state, t.compensation_seq, t.lease_epoch
    ), step AS (
      INSERT INTO task_compensations (task_id, seq, account_id, kind, target, payload, recorded_epoch)
      SELECT id, compensation_seq, account_id, ${step.kind}, ${step.target},
             ${step.payload === undefined ? null : JSON.stringify(step.payload)}::jsonb, lease_epoch
      FROM updated RETURNING task_id, seq, kind, target, payload, status
    ), recorded AS (${event("compensation_recorded", f, sql`(SELECT jsonb_build_object('seq', seq, 'kind', kind, 'target', target) FROM step)`)})
    SELECT * FROM step`);
  return result.rows[0];
}

/**
 * Resolves the newest pending step (steps are undone in reverse order): `done`, or `failed`
 * for good. The task becomes `compensated` when no step is left, `quarantined` when one failed.
 */
export async function resolveStep(
  db: Executor,
  f: Fenced,
  seq: number,
  outcome: "done" | "failed",
  detail: unknown,
): Promise<TaskRecord | undefined> {
  const next =
    outcome === "failed"
      ? sql`'quarantined'::task_state`
      : sql`CASE WHEN EXISTS (SELECT 1 FROM task_compensations p WHERE p.task_id = t.id AND p.status = 'pending'
                   AND p.seq <> step.seq) THEN 'compensating'::task_state ELSE 'compensated'::task_state END`;
  const result = await db.execute<TaskRecord>(sql`
    WITH target AS (${fencedTask(f, "compensating")}), step AS (
      UPDATE task_compensations AS c SET status = ${outcome}::compensation_status,
        outcome = ${detail === undefined ? null : JSON.stringify(detail)}::jsonb, updated_at = now()
      FROM target WHERE c.task_id = target.id AND c.seq = ${seq} AND c.status = 'pending'
        AND c.seq = (SELECT max(m.seq) FROM task_compensations m WHERE m.task_id = target.id AND m.status = 'pending')
      RETURNING c.task_id, c.seq
    ), updated AS (
      UPDATE tasks AS t SET state = ${next},
        finished_at = CASE WHEN ${next} = 'compensating' THEN NULL ELSE now() END,
        lease_expires_at = CASE WHEN ${next} = 'compensating' THEN t.lease_expires_at END,
        updated_at = now()
      FROM step WHERE t.id = step.task_id
      RETURNING t.*, 'compensating'::task_state AS previous_state
    ), recorded AS (${event(`compensation_${outcome}`, f, sql`jsonb_build_object('seq', ${seq}::int)`)})
    SELECT ${taskColumns} FROM updated`);
  return result.rows[0];
}

/** Records a retryable step failure: the step stays pending, the task keeps compensating. */
export async function noteStepError(db: Executor, f: Fenced, seq: number, detail: unknown) {
  const result = await db.execute<{ seq: number }>(sql`
    WITH target AS (${fencedTask(f, "compensating")}), step AS (
      UPDATE task_compensations AS c SET outcome = ${JSON.stringify(detail ?? null)}::jsonb, updated_at = now()
      FROM target WHERE c.task_id = target.id AND c.seq = ${seq} AND c.status = 'pending'
      RETURNING c.task_id, c.seq
    ), updated AS (
      SELECT t.id, t.account_id, t.state, t.state AS previous_state, t.lease_epoch FROM tasks t JOIN step ON t.id = step.task_id
    ), recorded AS (${event("compensation_retry", f, sql`jsonb_build_object('seq', ${seq}::int)`)})
    SELECT seq FROM step`);
  return result.rows[0];
}
