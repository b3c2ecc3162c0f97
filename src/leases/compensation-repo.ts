// Saga steps (DESIGN §4): recorded by the leaseholder while working, undone newest first while
// compensating. Each write is one fenced statement.
import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { nextStateSql, stateSql, stepStatusSql } from "../lifecycle/lifecycle-sql.ts";
import { type StepOutcome, type StepStatus, stepStatus, taskState } from "../lifecycle/task-lifecycle.ts";
import { jsonb } from "../tasks/event-insert.ts";
import { decodeTask, type TaskRecord, taskColumns } from "../tasks/record.ts";
import { fencedStatement } from "./fenced-statement.ts";

export type StepRecord = {
  task_id: string;
  seq: number;
  kind: string;
  target: string;
  payload: unknown;
  status: StepStatus;
};

export interface Fenced {
  accountId: string;
  id: string;
  workerId: string;
  epoch: number;
  allowed: SQL;
  actor: { type: string; id: string };
}

const fence = (f: Fenced) => ({
  accountId: f.accountId,
  target: { id: f.id },
  lease: { workerId: f.workerId, epoch: f.epoch },
  allowed: f.allowed,
});

/** Appends a step; its number comes from the locked task row, so concurrent appends never collide. */
export async function appendStep(
  db: Executor,
  f: Fenced,
  step: { kind: string; target: string; payload?: unknown },
) {
  const result = await db.execute<StepRecord>(
    fencedStatement({
      verb: "record_compensation",
      ...fence(f),
      update: { set: sql`compensation_seq = t.compensation_seq + 1` },
      after: [
        sql`step AS (
          INSERT INTO task_compensations (task_id, seq, account_id, kind, target, payload, recorded_epoch)
          SELECT id, compensation_seq, account_id, ${step.kind}, ${step.target},
                 ${step.payload === undefined ? null : JSON.stringify(step.payload)}::jsonb, lease_epoch
          FROM updated RETURNING task_id, seq, kind, target, payload, status)`,
      ],
      event: {
        actor: f.actor,
        data: sql`(SELECT jsonb_build_object('seq', seq, 'kind', kind, 'target', target) FROM step)`,
      },
      select: sql`* FROM step`,
    }),
  );
  return result.rows[0];
}

// The step being resolved: pending, and for a resolution the newest pending one (steps are undone in reverse order).
const stepUpdate = (seq: number, set: SQL, newestOnly: boolean) => sql`step AS (
  UPDATE task_compensations AS c SET ${set}, updated_at = now()
  FROM target WHERE c.task_id = target.id AND c.seq = ${seq} AND c.status = ${stepStatusSql.pending}
    ${newestOnly ? sql`AND c.seq = (SELECT max(m.seq) FROM task_compensations m WHERE m.task_id = target.id AND m.status = ${stepStatusSql.pending})` : sql``}
  RETURNING c.task_id, c.seq)`;

/**
 * Resolves the newest pending step: `done`, or `failed` for good. The task becomes compensated
 * when no step is left, quarantined when one failed.
 */
export async function resolveStep(
  db: Executor,
  f: Fenced,
  seq: number,
  outcome: StepOutcome,
  detail: unknown,
): Promise<TaskRecord | undefined> {
  const verb = outcome === stepStatus.done ? "compensation_done" : "compensation_failed";
  const next = nextStateSql(verb, sql`t.state`, {
    other_pending_steps: sql`EXISTS (SELECT 1 FROM task_compensations p WHERE p.task_id = t.id
      AND p.status = ${stepStatusSql.pending} AND p.seq <> step.seq)`,
  });
  const compensating = stateSql[taskState.compensating];
  const result = await db.execute<TaskRecord>(
    fencedStatement({
      verb,
      ...fence(f),
      before: [
        stepUpdate(
          seq,
          sql`status = ${stepStatusSql[outcome]}, outcome = ${detail === undefined ? null : JSON.stringify(detail)}::jsonb`,
          true,
        ),
      ],
      update: {
        join: "step",
        set: sql`state = ${next},
          finished_at = CASE WHEN ${next} = ${compensating} THEN NULL ELSE now() END,
          lease_expires_at = CASE WHEN ${next} = ${compensating} THEN t.lease_expires_at END`,
      },
      event: { actor: f.actor, data: sql`jsonb_build_object('seq', ${seq}::int)` },
      select: sql`${taskColumns} FROM updated`,
    }),
  );
  return result.rows[0] && decodeTask(result.rows[0]);
}

/** Records a retryable step failure: the step stays pending, the task keeps compensating. */
export async function noteStepError(db: Executor, f: Fenced, seq: number, detail: unknown) {
  const result = await db.execute<{ seq: number }>(
    fencedStatement({
      verb: "compensation_retry",
      ...fence(f),
      before: [stepUpdate(seq, sql`outcome = ${jsonb(detail)}`, false)],
      update: { join: "step" },
      event: { actor: f.actor, data: sql`jsonb_build_object('seq', ${seq}::int)` },
      select: sql`seq FROM step`,
    }),
  );
  return result.rows[0];
}
