import { type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { type TaskEventRecord, type TaskRecord, taskColumns } from "./record.ts";
import type { TaskState } from "./states.ts";

/** The fencing condition: the caller's lease (owner, epoch, unexpired), or no lease at all. */
export type LeaseCondition = { workerId: string; epoch: number } | "unleased" | "any";

export interface TransitionStatement {
  accountId: string;
  id: string;
  from: readonly TaskState[];
  lease: LeaseCondition;
  /** Permission predicate over `tasks.id`. */
  allowed: SQL;
  /** Assignments for `UPDATE tasks AS t SET …`; may read the row's old values. */
  set: SQL;
  event: { type: string; actor: { type: string; id: string }; data: unknown };
}

function leaseClause(lease: LeaseCondition): SQL {
  if (lease === "any") return sql`TRUE`;
  if (lease === "unleased") return sql`lease_owner IS NULL`;
  return sql`lease_owner = ${lease.workerId} AND lease_epoch = ${lease.epoch} AND lease_expires_at > now()`;
}

/**
 * One statement per transition: lock the row only if tenant, state, lease and permission all
 * hold, update it, and append its event. Zero rows means one of them did not.
 */
export async function applyTransition(db: Executor, s: TransitionStatement): Promise<TaskRecord | undefined> {
  const from = sql.join(
    s.from.map((state) => sql`${state}::task_state`),
    sql`, `,
  );
  const result = await db.execute<TaskRecord>(sql`
    WITH target AS (
      SELECT id, state FROM tasks
      WHERE id = ${s.id} AND account_id = ${s.accountId} AND state IN (${from})
        AND ${leaseClause(s.lease)} AND ${s.allowed}
      FOR UPDATE
    ), updated AS (
      UPDATE tasks AS t SET ${s.set}, updated_at = now()
      FROM target WHERE t.id = target.id
      RETURNING t.*, target.state AS previous_state
    ), event AS (
      INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data)
      SELECT account_id, id, ${s.event.type}, previous_state, state, ${s.event.actor.type}, ${s.event.actor.id},
             lease_epoch, ${s.event.data === undefined ? null : JSON.stringify(s.event.data)}::jsonb
      FROM updated
    )
    SELECT ${taskColumns} FROM updated`);
  return result.rows[0];
}

/** Appends a note to the audit trail of any task, terminal ones included, when `allowed` holds. Share-locks the row, like recordStaleLease. */
export async function insertAuditNote(
  db: Executor,
  accountId: string,
  id: string,
  allowed: SQL,
  actor: { type: string; id: string },
  note: string,
) {
  const result = await db.execute<TaskEventRecord>(sql`
    INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data)
    SELECT account_id, id, 'audit_note', state, state, ${actor.type}, ${actor.id}, lease_epoch,
           jsonb_build_object('note', ${note}::text)
    FROM tasks WHERE id = ${id} AND account_id = ${accountId} AND ${allowed}
    FOR SHARE
    RETURNING id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data, created_at`);
  return result.rows[0];
}

/** A page of a task's events, oldest first, only if the task is visible. */
export async function listTaskEvents(
  db: Executor,
  accountId: string,
  id: string,
  visible: SQL,
  afterEventId: number,
  limit: number,
) {
  const result = await db.execute<TaskEventRecord>(sql`
    SELECT e.id, e.task_id, e.type, e.from_state, e.to_state, e.actor_type, e.actor_id, e.lease_epoch, e.data,
           e.created_at
    FROM task_events e JOIN tasks ON tasks.id = e.task_id
    WHERE tasks.id = ${id} AND tasks.account_id = ${accountId} AND ${visible} AND e.id > ${afterEventId}
    ORDER BY e.id LIMIT ${limit + 1}`);
  return result.rows;
}

/**
 * Records that a stale worker was turned away; nothing else about the task changes. The row is
 * share-locked so the event reads the committed state after any transition racing with it, and
 * takes its place in the event order after that transition's event.
 */
export async function recordStaleLease(
  db: Executor,
  accountId: string,
  id: string,
  actor: { type: string; id: string },
  attempt: { workerId: string; epoch: number; action: string },
): Promise<void> {
  await db.execute(sql`
    INSERT INTO task_events (account_id, task_id, type, from_state, to_state, actor_type, actor_id, lease_epoch, data)
    SELECT account_id, id, 'stale_lease_rejected', state, state, ${actor.type}, ${actor.id}, lease_epoch,
           jsonb_build_object('worker_id', ${attempt.workerId}::text, 'epoch', ${attempt.epoch}::bigint,
                              'action', ${attempt.action}::text)
    FROM tasks WHERE id = ${id} AND account_id = ${accountId}
    FOR SHARE`);
}
